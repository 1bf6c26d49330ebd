"""The pieces every Hugging Face template uses: the config's fields, the program being written,
and the layers a program may declare where the catalog has none that counts as transformers does."""
from __future__ import annotations

import json
from dataclasses import dataclass, field

from ...catalog import activations
from ...errors import SymparamsError
from .tables import ALIASES

# HF's activation names (transformers.activations.ACT2FN) -> the catalog's activation function that
# computes it and keeps the same tensors for the backward pass (catalog/activations.py: gelu_new,
# GPT-2's unfused formula, keeps four); an unknown name is refused, since transformers would refuse it too.
ACTIVATIONS = activations.HF


class ImportProblem(SymparamsError):
    kind = "import error"


# The config fields read as names (an activation, a projection's kind, the model's path) and as
# lists of names: checked before any template reads them, so a list or object where transformers
# writes a string is a message naming the field, never a crash.
STRING_FIELDS = ("model_type", "_name_or_path", "hidden_act", "activation_function", "activation",
                 "hidden_activation", "feed_forward_proj", "afn", "act_fn", "position_embedding_type")
STRING_LIST_FIELDS = ("architectures", "layer_types")
OBJECT_FIELDS = ("rope_scaling", "rope_parameters", "id2label", "label2id")


def _kind(value) -> str:
    return {dict: "an object", list: "a list", str: "a string", bool: "true or false", int: "a number",
            float: "a number", type(None): "null"}.get(type(value), type(value).__name__)


def check_types(config: dict) -> None:
    """The JSON types of the fields above (null is left to the templates, which read it as unset)."""
    hint = "as transformers writes it in config.json (save_pretrained)"
    for name in STRING_FIELDS:
        value = config.get(name)
        if value is not None and not isinstance(value, str):
            raise ImportProblem(f"{name}: expected a string, found {_kind(value)}", hint=hint)
    for name in STRING_LIST_FIELDS:
        value = config.get(name)
        if value is None:
            continue
        if not isinstance(value, list):
            raise ImportProblem(f"{name}: expected a list of strings, found {_kind(value)}", hint=hint)
        for i, item in enumerate(value):
            if not isinstance(item, str):
                raise ImportProblem(f"{name}[{i}]: expected a string, found {_kind(item)}", hint=hint)
    for name in OBJECT_FIELDS:
        value = config.get(name)
        if value is not None and not isinstance(value, dict):
            raise ImportProblem(f"{name}: expected an object, found {_kind(value)}", hint=hint)


class Fields:
    """The config's values, the family's defaults (transformers' own) for the fields it leaves out,
    and the symbols the program declares, in the order the template asks for them. A field may be
    spelled as transformers' attribute_map allows (gpt2's hidden_size is n_embd): the symbol is
    named as the config spells it."""

    def __init__(self, config: dict, defaults: dict, family: str):
        self.config, self.defaults, self.family = config, defaults, family
        self.symbols: dict[str, int] = {}

    def spelled(self, name) -> str:
        for spelling in (name, *ALIASES.get(self.family, {}).get(name, ())):
            if spelling in self.config:
                return spelling
        return name

    def get(self, name):
        spelling = self.spelled(name)
        return self.config[spelling] if spelling in self.config else self.defaults.get(name)

    def number(self, name, value=None) -> int:
        value = self.get(name) if value is None else value
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ImportProblem(f"{self.family}: the config field '{name}' must be a positive whole number, "
                                f"found {json.dumps(value)}")
        return value

    def sym(self, name, value=None) -> str:
        """`name` as a symbol of the program, defaulting to the config's value."""
        spelling = self.spelled(name)
        self.symbols[spelling] = self.number(spelling, value)
        return spelling

    def flag(self, name) -> bool:
        value = self.get(name)
        if not isinstance(value, bool):
            raise ImportProblem(f"{self.family}: the config field '{name}' must be true or false, "
                                f"found {json.dumps(value)}")
        return value

    def rate(self, name) -> float:
        """A dropout probability of the config; null counts as none."""
        value = self.get(name)
        if value is None:
            return 0.0
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value <= 1:
            raise ImportProblem(f"{self.family}: the config field '{name}' must be a probability from 0 to 1, "
                                f"found {json.dumps(value)}")
        return float(value)

    def activation(self, name) -> str:
        value = self.get(name)
        if not isinstance(value, str) or value not in ACTIVATIONS:
            raise ImportProblem(f"{self.family}: the activation {name}={json.dumps(value)} is not supported",
                                hint="supported: " + ", ".join(sorted(ACTIVATIONS)))
        return ACTIVATIONS[value]


@dataclass
class Program:
    """The text being written: the blocks and the model. The layers the templates use beyond the
    catalog's own are declared in catalog/transformers.sp (`declare` names one, for the reader)."""
    fields: Fields
    blocks: list = field(default_factory=list)
    conditions: list = field(default_factory=list)

    def declare(self, name: str) -> str:
        return name

    def where(self, condition: str):
        if condition not in self.conditions:
            self.conditions.append(condition)


def decimal(rate: float) -> str:
    """A probability as the language reads it: a plain decimal (0.1, never 1e-05)."""
    return ("%.12f" % rate).rstrip("0").rstrip(".")


def dropout_call(rate: float, name: str) -> str:
    """A dropout layer of probability `rate`, named `name`."""
    return f"dropout({decimal(rate)}, name={name})"


def block_text(name, params, lines) -> str:
    return f"block {name}({', '.join(params)})(x):\n" + "".join(f"    {line}\n" for line in lines)


def num_labels(f: Fields) -> str:
    """A classifier's outputs, the symbol num_labels: as many as id2label names (transformers derives
    num_labels from it), else the config's num_labels, else transformers' default 2."""
    labels = f.config.get("id2label")
    count = len(labels) if isinstance(labels, dict) and labels else f.config.get("num_labels", 2)
    return f.sym("num_labels", count)


def span_lines(p: Program) -> list:
    """A question-answering head's logits (two per position) split into the span's start and end
    logits, the model's two outputs."""
    split = p.declare("span_logits")
    return [f"start_logits = {split}(name=start_logits)(logits)",
            f"end_logits = {split}(name=end_logits)(logits)", "output start_logits, end_logits"]
