"""Every figure symparams gives of a model or a layer, in one registry, shaped like the catalog's @layer.

An entry declares its name, its unit, the options it reads and its default dtype, and returns a
closed form (a `Figure`: the total, its named parts, the dtype and rule it was counted at):

    @quantity("kv_cache", "bytes", options=("tp",), dtype="bfloat16",
              help="bytes of the keys and values a generating model caches, per example")
    def kv_cache(source, model, o):
        ...

`formula`, `solve --of`, `sweep` columns, the JSON and LaTeX outputs and the Python API read this
registry; the options (OPTIONS) make both the CLI flags (commands/common.py) and the Python
keyword arguments (`compute(model, "kv_cache", dtype="int8", tp=2)`). Adding a quantity touches
its entry here, its tests and its docs.
"""
from __future__ import annotations

from dataclasses import dataclass, field, fields, replace
from typing import Callable

import sympy as sp

from . import accounting, memory, units
from .catalog import facts
from .dims import product
from .errors import ArgumentError, did_you_mean


# ---------------------------------------------------------------- options

@dataclass(frozen=True)
class Option:
    """One choice a quantity reads: the Python keyword `name`, the CLI flag `--name-with-dashes`."""
    name: str
    help: str
    choices: tuple | None = None
    kind: str = "choice"       # "choice", "devices" (a number or a symbol's name), "flag", "stage"


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

    def __post_init__(self):
        if self.dtype is not None:
            object.__setattr__(self, "dtype", units.check_dtype(self.dtype))
        for name, option in OPTIONS.items():
            value = getattr(self, name)
            if option.kind in ("choice", "stage") and name != "dtype" and value not in option.choices:
                what = {"recompute": "recomputation", "rule": "activations rule",
                        "attention": "attention implementation"}.get(name, name)
                raise ArgumentError(f"unknown {what} '{value}'", hint=did_you_mean(str(value), map(str, option.choices))
                                    or "choose one of " + ", ".join(map(str, option.choices)))
            if option.kind == "devices":
                accounting.devices(value, {"dp": "data-parallel", "tp": "tensor-parallel", "pp": "pipeline"}[name])
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
    if isinstance(fig.total, sp.Expr) and not fig.total.has(sp.floor, sp.ceiling, sp.Piecewise):
        fig.total = sp.expand(fig.total)
    return fig


def compute(model, name: str, layer: str | None = None, per_batch: bool = False, **given):
    """The Python API: `compute(model, "kv_cache", dtype="bfloat16", tp=2)`, a sympy expression."""
    return figure(model, name, layer, options(**given), per_batch).total


# ---------------------------------------------------------------- the counts

def _graph_count(attr):
    def count(source, model, o, batch):
        return batch * sp.sympify(getattr(source, attr))
    return count


quantity("params", "parameters", "parameters (every weight, trainable or not)", per_example=False)(
    _graph_count("params"))
quantity("trainable", "parameters", "trainable parameters", per_example=False)(_graph_count("trainable"))
quantity("non_trainable", "parameters", "non-trainable parameters", per_example=False)(_graph_count("non_trainable"))
quantity("buffers", "parameters", "PyTorch buffers (state that is not a parameter)", per_example=False)(
    _graph_count("buffers"))
quantity("macs", "MACs", "multiply-accumulates per example")(_graph_count("macs"))


@quantity("flops", "FLOPs", "floating-point operations per example (2 x MACs)")
def _flops(source, model, o, batch):
    return batch * 2 * sp.sympify(source.macs)


@quantity("param_bytes", "bytes", "bytes of the parameters at --dtype", dtype="float32", per_example=False)
def _param_bytes(source, model, o, batch):
    return units.storage_bytes(sp.sympify(source.params), o.dtype)


@quantity("memory", "bytes", "torchsummary's estimated total bytes (input + forward/backward + params) for a "
                             "batch of B", dtype="float32", per_example=False)
def _memory(source, model, o, batch):
    if source is model:
        return memory.estimate(model, o.dtype).total
    size = units.dtype_bytes(o.dtype)   # one layer's share: its weights, and its output kept for backward
    return source.params * size + 2 * model.batch * memory.activation_elements([source]) * size


@quantity("active", "parameters", "parameters one token uses (a mixture of experts counts top_k experts)",
          per_example=False)
def _active(source, model, o, batch):
    return accounting.active(source)


def _place(model, source, o):
    """Where a layer asked for by --layer sits when full recomputation checkpoints the repeats."""
    if source is model or o.recompute != "full":
        return None
    return accounting.place_in_repeat(accounting.nodes_of(model), source.node)


@quantity("training_flops", "FLOPs", "FLOPs of a training step per example: forward, backward (2x), "
                                     "--recompute's forward", options=("recompute", "tp"))
def _training_flops(source, model, o, batch):
    if _place(model, source, o):    # a layer inside a checkpointed repeat is recomputed with it
        return batch * 2 * 4 * sp.sympify(source.node.macs)
    return accounting.training_flops(source, o.recompute, batch, o.tp)


@quantity("kv_cache", "bytes", "bytes of the keys and values cached for generation, per example",
          options=("dtype", "tp"), dtype="bfloat16")
def _kv_cache(source, model, o, batch):
    if not accounting.cached_attentions(model):
        raise ArgumentError(f"model {model.name} has no attention layer, so it caches no keys or values",
                            hint="kv_cache counts what a generating transformer keeps between steps")
    total = accounting.kv_cache(source, o.dtype, batch, o.tp)
    if all(a.cache == "none" for _, _, a in accounting.cached_attentions(model)):
        return Figure(total, rule="no cache: every attention is an encoder's self-attention")
    return total


@quantity("activations", "bytes", "bytes saved for the backward pass per example, with --recompute, by --rule",
          options=("dtype", "rule", "attention", "recompute", "tp", "sequence_parallel"), dtype="bfloat16")
def _activations(source, model, o, batch):
    place = _place(model, source, o)
    if place:   # checkpointed with its repeat: only a repetition's own input is kept
        node = source.node
        kept = product(node.input_shapes[0]) * units.dtype_bytes(o.dtype) if place == "body" else 0
        return Figure(batch * kept, rule=o.rule)
    rule = o.rule if o.rule == "korthikanti" else f"transformers, {o.attention} attention"
    return Figure(accounting.activations(source, o.keeping(o.dtype), batch), rule=rule)


@quantity("training_memory", "bytes", "bytes per device of weights, gradients, optimizer states (--optimizer, "
                                      "--precision, --dp, --zero; + activations with --with-activations)",
          options=("optimizer", "precision", "dp", "zero", "with_activations", "recompute", "rule", "attention",
                   "tp", "pp", "sequence_parallel"), whole_model=True)
def _training_memory(source, model, o, batch):
    # --per-batch: the activations of B examples per device (weights and states are per device already)
    m = accounting.training_memory_parts(model, o.optimizer, o.precision, o.dp, o.zero, o.with_activations,
                                         o.keeping("bfloat16"), batch, o.pp, o.tp)
    parts = [(n, e) for n, e in m.parts() if n != "activations" or o.with_activations]
    return Figure(m.total, parts, dtype=f"{o.precision} precision")


@quantity("shape", "shape", "output shape", per_example=False)
def _shape(source, model, o, batch):
    return tuple(source.output_shape)


def is_bytes(name: str) -> bool:
    return check(name).unit == "bytes"
