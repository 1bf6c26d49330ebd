"""A Hugging Face config.json as a symparams program.

One template per family writes the network as `transformers` builds it from the config: a block
for the repeated layer, the config's own field names as symbols (their values as defaults), the
head the config's `architectures` names. Where the catalog has no layer that counts as the
family's module does (Qwen2's biases on q, k, v but not o; Qwen3's per-head norms), the program
declares one, so the reader sees every weight. A field the template cannot express is an error
naming it: a program that counted differently from the real model would be worse than none.
"""
from __future__ import annotations

import json
import re
from pathlib import Path

from ...errors import ArgumentError, SymparamsError
from ...syntax import read_json
from .decoders import FAMILIES as DECODERS
from .encoders import FAMILIES as ENCODERS
from .parts import Fields, ImportProblem, Program, check_types
from .tables import DEFAULTS, HEADS

# ------------------------------------------------------------------------------ reading the config

def model_id_problem(path) -> ImportProblem | None:
    """The error for a Hugging Face model id given where a path is expected (`Qwen/Qwen2-0.5B`: no such
    file or folder, and spelled owner/name), saying how to get its config.json; else None.
    symparams reads files only: it never downloads."""
    text = str(path)
    if Path(text).exists() or not re.fullmatch(r"[A-Za-z0-9][\w.-]*/[\w.-]*[A-Za-z0-9_]", text) \
            or text.endswith((".json", ".sp", ".py", ".keras")):
        return None
    folder = text.split("/")[1].lower()
    return ImportProblem(f"no such file or folder; {text} looks like a Hugging Face model id, and symparams "
                         "reads files only (it downloads nothing)",
                         hint=f"download its config: huggingface-cli download {text} config.json --local-dir "
                              f"{folder}, then pass that folder: {folder}").attach(None, text)


def read_config(path) -> tuple[dict, str]:
    """The config of a config.json, or of a folder holding one, and the file's path."""
    problem = model_id_problem(path)
    if problem:
        raise problem
    p = Path(path)
    if p.is_dir():
        p = p / "config.json"
    config = read_json(p, "the config", problem=ImportProblem)
    if not isinstance(config, dict):
        raise ImportProblem(f"a config.json holds one JSON object, found {_kind(config)}").attach(None, str(p))
    if "model_type" not in config:
        keys = ", ".join(list(config)[:5]) + (", ..." if len(config) > 5 else "")
        raise ImportProblem(f"neither a Hugging Face config (it has no model_type) nor a Keras model (it has no "
                            f"class_name Sequential, Functional or Model); its keys: {keys or 'none'}",
                            hint="symparams reads a config.json transformers writes (save_pretrained), a Keras "
                                 "model's JSON (model.to_json(), or a .keras file), or a .sp program"
                            ).attach(None, str(p))
    return config, str(p)


def reimportable(text: str, path) -> list[str]:
    """The fields of the config.json at `path` an import again sets where its program `text` has no
    symbol for them (`general.reimportable_fields`); none for a template's program, or a file of
    another kind (a Keras model's JSON)."""
    from . import general
    if not general.is_general(text):
        return []
    return general.reimportable_fields(text, read_config(path)[0])


def config_numbers(text: str, given: dict, path) -> dict:
    """Of the values `given` (--set) to names the program `text` (of the config.json at `path`) has
    no symbol for, those to fields of the config, which an import again sets (`reimportable`):
    name -> value, each 1 or more."""
    fields = reimportable(text, path)
    numbers = {name: value for name, value in given.items() if name in fields}
    for name, value in numbers.items():
        if value < 1:
            raise ArgumentError(f"--set {name} must be 1 or more, found {value}")
    return numbers


def why_again(text: str, names: list) -> str:
    """Why the config is imported again to set `names`, for a note: its program's header writes
    them as this config's numbers, or no formula of it names them."""
    from . import general
    pinned = names if general.in_numbers(text) else [n for n in names if n in general.pinned_fields(text)]
    unnamed = [n for n in names if n not in pinned]
    return "; ".join([*([f"{', '.join(pinned)} {_is(pinned)} this config's number in its program (its header says "
                         "why)"] if pinned else []),
                      *([f"{', '.join(unnamed)} {_is(unnamed)} named by no formula of its program"]
                        if unnamed else [])])


def _is(names: list) -> str:
    return "is" if len(names) == 1 else "are"


def with_fields(config: dict, values: dict) -> dict:
    """The config.json's fields with `values` set, each by the name the general route gives it (a
    tower's `text_hidden_size` in its text_config)."""
    from . import general
    return {**general._settable(general._transformers(), config, values),
            **{k: config[k] for k in ("model_type", "architectures") if k in config}}


def _kind(value) -> str:
    """A JSON value's kind in words: 'a list', 'a string', 'null'."""
    return {dict: "an object", list: "a list", str: "a string", bool: "true or false", int: "a number",
            float: "a number", type(None): "null"}.get(type(value), type(value).__name__)


def is_config_path(path) -> bool:
    p = Path(path)
    return p.suffix == ".json" or (p.is_dir() and (p / "config.json").is_file())


# Each family's template: (fields, program, head) -> the model's body lines.
FAMILIES = {**DECODERS, **ENCODERS}


# ------------------------------------------------------------------------------ the program

def _model_name(config: dict, family: str, source: str) -> str:
    """The model's name: the config's _name_or_path, else its folder's (unless a hub snapshot's
    hash), else the model_type."""
    folder = Path(source).parent.name
    name = config.get("_name_or_path") or (folder if not re.fullmatch(r"[0-9a-f]{40}|\.*", folder) else family)
    name = re.sub(r"[^0-9a-zA-Z_]+", "_", Path(str(name)).name).strip("_").lower() or family
    return name if not name[0].isdigit() else f"{family}_{name}"


def _head(config: dict, family: str) -> tuple[str, str]:
    """'lm', 'model' or 'classifier', and the architecture's name, from `architectures` (the
    family's first if none)."""
    kinds = HEADS[family]
    archs = config.get("architectures") or [next(iter(kinds))]
    supported = ", ".join(kinds)
    if not isinstance(archs, list) or len(archs) != 1:
        raise ImportProblem(f"{family}: architectures={json.dumps(archs)} must name one architecture",
                            hint=f"supported: {supported}")
    if archs[0] not in kinds:
        raise ImportProblem(f"{family}: the architecture {archs[0]} is not supported", hint=f"supported: {supported}")
    return kinds[archs[0]], archs[0]


def program(config: dict, source: str = "config.json") -> str:
    """The symparams program of a Hugging Face config, as text."""
    try:
        if not isinstance(config, dict):
            raise ImportProblem(f"a config.json holds one JSON object, found {_kind(config)}")
        check_types(config)
        return _program(config, source)
    except SymparamsError as e:
        raise e.attach(None, source)


def _program(config: dict, source: str) -> str:
    family = config.get("model_type")
    if not isinstance(family, str) or not family:
        raise ImportProblem(f"the config's model_type must be a name such as \"llama\", found {json.dumps(family)}",
                            hint="every config.json transformers writes names its model_type")
    archs = config.get("architectures")
    untemplated = family not in FAMILIES or (isinstance(archs, list) and len(archs) == 1 and
                                             isinstance(archs[0], str) and archs[0] not in HEADS[family])
    if untemplated:        # no template writes it: transformers builds it (general.py)
        from . import general
        return general.program(config, source)
    head, arch = _head(config, family)
    f = Fields(config, DEFAULTS[family], family)
    p = Program(f)
    body = FAMILIES[family](f, p, head)
    tied = " (output layer tied to the embedding)" if head == "lm" and f.flag("tie_word_embeddings") else ""
    out = [f"# {arch}{tied}, model_type {family}, imported from {source}",
           "# by `symparams import`: counted as Hugging Face transformers builds it from this config.",
           "convention torch", ""]
    for block in dict.fromkeys(p.blocks):     # a block several layer kinds share is written once
        out += [block]
    args = ", ".join(f"{name} = {value}" for name, value in f.symbols.items())
    out.append(f"model {_model_name(config, family, source)}({args}):")
    if p.conditions:
        out.append("    where " + ", ".join(p.conditions))
    out += [f"    {line}" for line in body]
    return "\n".join(out) + "\n"
