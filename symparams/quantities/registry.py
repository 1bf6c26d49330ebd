"""The registry of every figure symparams gives of a model or a layer, shaped like the catalog's @layer.

An entry declares its name, its unit, the options it reads and its default dtype, and returns a
closed form (a `Figure`: the total, its named parts, the dtype and rule it was counted at):

    @quantity("kv_cache", "bytes", options=("tp",), dtype="bfloat16",
              help="bytes of the keys and values a generating model caches, per example")
    def kv_cache(source, model, o):
        ...

`formula`, `solve --of`, `sweep` columns, the JSON and LaTeX outputs and the Python API read this
registry; the options (OPTIONS) make both the CLI flags (commands/common.py) and the Python
keyword arguments (`compute(model, "kv_cache", dtype="int8", tp=2)`). The entries live in sheets
beside this module (counts.py: the counts and the training quantities; one module per family of
figures), each registering with @quantity as a catalog sheet does with @layer; adding a quantity
touches its entry, its tests and its docs.
"""
from __future__ import annotations

from dataclasses import dataclass, field, fields, replace
from typing import Callable

import sympy as sp

from .. import accounting, units
from ..catalog import facts
from ..errors import ArgumentError, did_you_mean


# ---------------------------------------------------------------- options

@dataclass(frozen=True)
class Option:
    """One choice a quantity reads: the Python keyword `name`, the CLI flag `--name-with-dashes`."""
    name: str
    help: str
    choices: tuple | None = None
    kind: str = "choice"       # "choice", "devices" (a number or a symbol's name), "flag", "stage",
                               # "number" (a positive whole number), "names" (comma-separated names)


OPTIONS = {o.name: o for o in (
    Option("dtype", "the dtype the figure counts numbers at (default: the quantity's own, named in the output)",
           units.DTYPES),
    Option("rule", "activations: count what transformers' modules keep (measured with autograd) or "
                   "Korthikanti et al.'s accounting (default transformers)", facts.RULES),
    Option("attention", "activations: transformers' attention implementation (default sdpa, as transformers)",
           facts.ATTENTION_IMPLEMENTATIONS),
    Option("recompute", "activation recomputation for training_flops and activations (default none)",
           accounting.RECOMPUTE),
    Option("optimizer", "for training_memory (default adam)", accounting.OPTIMIZERS),
    Option("precision", "for training_memory: fp32, bf16, or mixed (16-bit weights, fp32 master copy; default)",
           tuple(units.POLICIES)),
    Option("dp", "data-parallel devices for training_memory: a number or a symbol name (default 1)", kind="devices"),
    Option("zero", "ZeRO stage for training_memory: 1 partitions optimizer states, 2 also gradients, 3 also "
                   "weights (default 0)", (0, 1, 2, 3), kind="stage"),
    Option("with_activations", "training_memory includes the activations (with --per-batch: B examples per device)",
           kind="flag"),
    Option("tp", "tensor-parallel devices (Megatron-LM's split of attention and MLP matrices): training_memory, "
                 "activations, training_flops and kv_cache per device (default 1)", kind="devices"),
    Option("pp", "pipeline stages for training_memory: the repeated layers split evenly (default 1)", kind="devices"),
    Option("sequence_parallel", "with --tp: the activations tensor parallelism keeps whole are split too",
           kind="flag"),
    Option("ep", "expert-parallel devices for training_memory: a mixture's experts split over them, its router "
                 "whole; taken from the --dp devices, so under ZeRO it divides --dp (default 1)", kind="devices"),
    Option("offload", "for training_memory: ZeRO-Offload's `optimizer` moves the optimizer states and gradients "
                      "to the host (CPU or NVMe), ZeRO-Infinity's `params` the weights too; the figure is the "
                      "device's, the host's bytes named parts (default none)", accounting.OFFLOAD),
    # inference and fine-tuning (docs/llm.md)
    Option("weights_dtype", "the weights' dtype for inference and fine-tuning (default: the precision's)",
           units.DTYPES),
    Option("kv_dtype", "the KV cache's dtype for inference_memory (default: the weights')", units.DTYPES),
    Option("group_size", "quantized weights: NF4's block size (bitsandbytes' blocksize, default 64) or FP8's block "
                         "edge (transformers' weight_block_size, default 128)", kind="number"),
    Option("double_quant", "NF4 weights: quantize the absmax too (bitsandbytes' bnb_4bit_use_double_quant)",
           kind="flag"),
    Option("lora_rank", "LoRA: the adapters' rank", kind="number"),
    Option("lora_targets", "LoRA: the layers adapted, by name (comma-separated, e.g. q_proj,v_proj)", kind="names"),
    Option("bandwidth", "a device's memory bandwidth in bytes/s, for the roofline bounds", kind="number"),
    Option("peak_flops", "a device's peak FLOP/s, for the roofline bounds", kind="number"),
)}


@dataclass(frozen=True)
class Options:
    """The values of OPTIONS; dtype None: the quantity's own default."""
    dtype: str | None = None
    rule: str = "transformers"
    attention: str = "sdpa"
    recompute: str = "none"
    optimizer: str = "adam"
    precision: str = "mixed"
    dp: object = 1
    zero: int = 0
    with_activations: bool = False
    tp: object = 1
    pp: object = 1
    sequence_parallel: bool = False
    ep: object = 1
    offload: str = "none"
    weights_dtype: str | None = None
    kv_dtype: str | None = None
    group_size: int | None = None
    double_quant: bool = False
    lora_rank: int | None = None
    lora_targets: tuple = ()
    bandwidth: int | None = None
    peak_flops: int | None = None

    def __post_init__(self):
        for name in ("dtype", "weights_dtype", "kv_dtype"):
            if getattr(self, name) is not None:
                object.__setattr__(self, name, units.check_dtype(getattr(self, name)))
        if isinstance(self.lora_targets, str):
            object.__setattr__(self, "lora_targets", tuple(t.strip() for t in self.lora_targets.split(",") if t.strip()))
        for name, option in OPTIONS.items():
            value = getattr(self, name)
            if option.kind == "number" and value is not None and not (isinstance(value, int) and value >= 1):
                raise ArgumentError(f"--{name.replace('_', '-')} must be a positive whole number, found {value}")
            if option.kind in ("choice", "stage") and option.choices is not units.DTYPES and value not in option.choices:
                what = {"recompute": "recomputation", "rule": "activations rule",
                        "attention": "attention implementation"}.get(name, name)
                raise ArgumentError(f"unknown {what} '{value}'", hint=did_you_mean(str(value), map(str, option.choices))
                                    or "choose one of " + ", ".join(map(str, option.choices)))
            if option.kind == "devices":
                accounting.devices(value, {"dp": "data-parallel", "tp": "tensor-parallel", "pp": "pipeline",
                                    "ep": "expert-parallel"}[name])
        if self.zero and self.dp == 1:
            raise ArgumentError(f"--zero {self.zero} partitions over data-parallel devices: give their number with --dp")

    def keeping(self, dtype: str) -> accounting.Keeping:
        return accounting.Keeping(self.rule, self.attention, self.recompute, dtype, self.tp, self.sequence_parallel)


def options(**given) -> Options:
    """Options from Python keywords, each checked; an unknown keyword is refused with a hint."""
    known = {f.name for f in fields(Options)}
    for key in given:
        if key not in known:
            raise ArgumentError(f"unknown option '{key}'", hint=did_you_mean(key, known) or
                                "options: " + ", ".join(sorted(known)))
    return Options(**given)


# ---------------------------------------------------------------- the registry

@dataclass
class Figure:
    """A quantity's closed form: the total, its named parts (where it has some), and the dtype and
    rule it was counted at (None where they do not apply)."""
    total: object
    parts: list = field(default_factory=list)
    dtype: str | None = None
    rule: str | None = None
    conditions: list = field(default_factory=list)   # (relation, words(values)): what its values need

    def check(self, values: dict) -> None:
        """Refuse values under which the figure is not defined (heads that --tp does not divide),
        saying which condition fails."""
        from ..errors import ValueProblem
        for relation, words in self.conditions:
            verdict = relation.xreplace(values)
            if verdict == sp.false:
                raise ValueProblem(words(values), hint="Megatron-LM refuses such a split too; choose a device "
                                                       "count that divides them")


@dataclass(frozen=True)
class Quantity:
    name: str
    unit: str                 # "parameters", "MACs", "FLOPs", "bytes", "shape"
    help: str
    compute: Callable         # (source, model, Options, batch) -> Figure or expression
    options: tuple = ()       # the OPTIONS it reads
    dtype: str | None = None  # its default dtype (bytes only)
    whole_model: bool = False  # a figure of the whole model only (no --layer)
    per_example: bool = True   # --per-batch multiplies it by the batch symbol


QUANTITIES: dict[str, Quantity] = {}


def quantity(name, unit, help, options=(), dtype=None, whole_model=False, per_example=True):
    def register(fn):
        QUANTITIES[name] = Quantity(name, unit, help, fn, tuple(options), dtype, whole_model, per_example)
        return fn
    return register


def check(name: str) -> Quantity:
    if name not in QUANTITIES:
        raise ArgumentError(f"unknown quantity '{name}'", hint=did_you_mean(name, QUANTITIES) or
                            "choose one of " + ", ".join(QUANTITIES))
    return QUANTITIES[name]


def figure(model, name: str, layer: str | None = None, opts: Options | None = None,
           per_batch: bool = False) -> Figure:
    """The closed form of quantity `name` for the whole model or one layer (its row name)."""
    q = check(name)
    o = opts or Options()
    if q.whole_model and layer:
        raise ArgumentError(f"{name} is a whole model's figure; leave out --layer")
    source = model.row(layer) if layer else model
    batch = model.batch if per_batch and q.per_example else 1
    dtype = o.dtype or q.dtype
    out = q.compute(source, model, replace(o, dtype=dtype) if dtype else o, batch)
    fig = out if isinstance(out, Figure) else Figure(out)
    fig.dtype = fig.dtype or (dtype if q.unit == "bytes" else None)
    if "tp" in q.options or "pp" in q.options:
        fig.conditions = fig.conditions + accounting.split_conditions(
            model if q.whole_model or source is model else source, o.tp if "tp" in q.options else 1,
            o.pp if "pp" in q.options else 1)
    if isinstance(fig.total, sp.Expr) and not fig.total.has(sp.floor, sp.ceiling, sp.Piecewise):
        fig.total = sp.expand(fig.total)
    return fig


def compute(model, name: str, layer: str | None = None, per_batch: bool = False, **given):
    """The Python API: `compute(model, "kv_cache", dtype="bfloat16", tp=2)`, a sympy expression."""
    return figure(model, name, layer, options(**given), per_batch).total


def is_bytes(name: str) -> bool:
    return check(name).unit == "bytes"
