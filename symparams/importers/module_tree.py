"""A PyTorch module as a program read from its module tree: sizes as formulas, a measured forward pass.

What the general Hugging Face route (huggingface/general.py) and the PyTorch importer's fallback
(torch_fx.py, where torch.fx cannot trace a module) share. The module is built on the meta device
with its sizes as `Field`s (an int remembering its formula), under `_Shapes`, which records each
weight's shape as the formulas the constructor computed it from. The module tree becomes units
(`_units`: containers expanded, every other module one line); a forward pass with hooks and
FlopCounterMode (`measure`) gives each unit's input and output shapes and MACs; `_Writer` writes
each unit as a catalog layer or a declared layer carrying its params and buffers formulas, MACs
only where a formula equals the measured MACs (else `macs = not_known`), `saved = not_known`.
`program` is the interface for a plain module (torch_fx's fallback): module, inputs, symbols in,
program text out, its counts checked against the module's (never a partial model).
"""
from __future__ import annotations

import contextlib
import functools
import math
import re
import weakref
from dataclasses import dataclass, field
from types import SimpleNamespace

import sympy as sp

from ..catalog.facts import Attention
from ..sized import Size, formula_of, language
from .torch_sizes import ImportProblem


SEQUENCE = sp.Symbol("t", integer=True, positive=True)
SOURCE = sp.Symbol("s", integer=True, positive=True)     # an encoder-decoder's encoder length, in its decoder
PROBES = (7, 11, 13)          # sequence lengths of the three measured forward passes
TARGETS = (5, 9, 17)          # an encoder-decoder's decoder lengths in those passes: none is a source length


# ------------------------------------------------------------------------------ fields as sizes

class Field(Size):
    """A Size that logs every size computed from it, so a weight made through a float detour can
    still be matched to one formula of the modeling code's — only where exactly one has its value."""
    seen: dict[int, set] = {}
    divisions: dict = {}          # (a, b) formulas of every whole division: the model's `where a % b == 0`
    # (a, b) of divisions a second build shows transformers floors (not whole there): floor(a / b)
    floored: frozenset = frozenset()

    def __floordiv__(self, other):
        if isinstance(other, int) and not isinstance(other, bool) and other and int(self) % int(other) == 0 \
                and _of_fields(self.formula, formula_of(other)):
            return self._exact(self.formula, formula_of(other), int(self) // int(other))
        return super().__floordiv__(other)

    def __rfloordiv__(self, other):
        if isinstance(other, int) and not isinstance(other, bool) and int(self) and int(other) % int(self) == 0 \
                and _of_fields(formula_of(other), self.formula):
            return self._exact(formula_of(other), self.formula, int(other) // int(self))
        return super().__rfloordiv__(other)

    def __truediv__(self, other):
        value = int.__truediv__(self, other)
        if isinstance(other, int) and not isinstance(other, bool) and value is not NotImplemented:
            return Quotient(value, self.formula / formula_of(other))
        return value

    def __rtruediv__(self, other):
        value = int.__rtruediv__(self, other)
        if isinstance(other, int) and not isinstance(other, bool) and value is not NotImplemented:
            return Quotient(value, formula_of(other) / self.formula)
        return value

    def __mul__(self, other):
        if isinstance(other, float):       # StableLM's partial_rotary_factor * head_dim
            return _scaled(self, other)
        return super().__mul__(other)

    def __rmul__(self, other):
        if isinstance(other, float):
            return _scaled(self, other)
        return super().__rmul__(other)

    def _exact(self, a, b, value):
        """a // b where b divides a at the config's values: the exact quotient, under the condition
        that it stays whole (transformers would floor it; the formula holds where the condition does),
        or its floor where that is what transformers computes at another setting (`floored`)."""
        if (a, b) in Field.floored:
            result = Field(value, sp.floor(a / b))
        else:
            Field.divisions[(a, b)] = None
            result = Field(value, a / b)
        Field.seen.setdefault(value, set()).add(result.formula)
        return result

    def _with(self, other, value, combine):
        result = super()._with(other, value, combine)
        if isinstance(result, Size) and not isinstance(result, Field):
            result = Field(int(result), result.formula)
            Field.seen.setdefault(int(result), set()).add(result.formula)
        return result


def _of_fields(a, b) -> bool:
    """Is a / b a quotient of fields, which the program may state exactly under `where a % b == 0`?
    By a number, or of a number, it is the floor Python computes (`head_dim // 2` is whole at every
    head_dim; `head_dim / 2` under a condition would refuse an odd one that transformers builds)."""
    return not a.is_number and not b.is_number and not (a / b).is_number


class Quotient(float):
    """`hidden_size / num_attention_heads`, `0.25 * head_dim`: a float, as Python makes it, that
    remembers its formula, so the modeling code's `int(hidden_size / num_attention_heads)` (BERT's
    head size) is a whole number with its formula (`whole_numbers` gives the code that `int`)."""

    def __new__(cls, value: float, formula):
        q = float.__new__(cls, value)
        q.formula = formula
        return q

    def __floordiv__(self, other):
        # (D-FINE's `round(hidden_expansion * encoder_hidden_dim // 2)`: the floor of a positive one)
        value = float.__floordiv__(self, other)
        if isinstance(other, int) and not isinstance(other, bool) and other > 0 and self >= 0 and math.isfinite(self):
            return Quotient(value, sp.floor(self.formula / formula_of(other)))
        return value


class Factor(float):
    """A config's real field (D-FINE's hidden_expansion): a float, whose product with a Size, written
    with the factor first (`hidden_expansion * encoder_hidden_dim`, where float's own product would
    lose the formula), is `_scaled` as the Size's is."""

    def __mul__(self, other):
        return _scaled(other, float(self)) if isinstance(other, Size) else float.__mul__(self, other)

    __rmul__ = __mul__


def _scaled(size, factor: float):
    value = float.__mul__(factor, int(size))
    if not math.isfinite(factor):
        return value
    ratio = sp.Rational(factor).limit_denominator(1000)
    return Quotient(value, ratio * size.formula) if float(ratio) == factor else value


class _IntType(type):
    """`isinstance(v, int)` and `issubclass(t, int)` in the modeling code answer as for `int`."""

    def __instancecheck__(cls, obj):
        return isinstance(obj, int)

    def __subclasscheck__(cls, sub):
        return issubclass(sub, int)

    def __getattr__(cls, name):        # int.from_bytes, int.__name__
        return getattr(int, name)


class _int(metaclass=_IntType):
    """`int` of a Quotient: its whole number with its formula — a quotient of fields whole at the
    config's sizes exactly, under the condition that it stays whole (the program's `where`), any
    other its floor (as Python's int of a positive number is); of a Size, that Size; else Python's."""

    def __new__(cls, x=0, *args, **kwargs):
        if isinstance(x, Quotient) and not args and not kwargs and math.isfinite(x) and x >= 0:
            a, b = sp.fraction(sp.together(x.formula))
            if float(x).is_integer() and _of_fields(a, b) and (a, b) not in Field.floored:
                Field.divisions[(a, b)] = None
                formula = x.formula
            else:       # Python's int of a positive number is its floor, whatever the fields are
                formula = sp.floor(x.formula)
            result = Field(int(x), formula)
            Field.seen.setdefault(int(result), set()).add(result.formula)
            return result
        if isinstance(x, Size) and not args and not kwargs:      # int(hidden_size * mlp_ratio): DINOv2's MLP
            return x
        return int(x, *args, **kwargs)


def _round(x, *args, **kwargs):
    """`round` of a Quotient whose formula is whole at every setting (a floor): that whole number with
    its formula; else Python's."""
    if isinstance(x, Quotient) and not args and not kwargs and float(x).is_integer() and \
            sp.sympify(x.formula).is_integer:
        result = Field(int(x), x.formula)
        Field.seen.setdefault(int(result), set()).add(result.formula)
        return result
    return round(x, *args, **kwargs)


def _extreme(builtin, combine):
    """`max` or `min` of whole numbers, one a Size: the one Python picks, with the formula of the
    pick at every value (CLVP's rotary table, `max(projection_dim // (2 * num_attention_heads), 32)`
    long, is 32 where the quotient is smaller)."""
    def pick(*args, **kwargs):
        result = builtin(*args, **kwargs)
        if len(args) == 1 and not isinstance(args[0], (list, tuple)):     # (an iterator, a tensor: as it is)
            return result
        items = list(args[0]) if len(args) == 1 else args
        if kwargs or not any(isinstance(a, Size) for a in items) or \
                not all(isinstance(a, int) and not isinstance(a, bool) for a in items):
            return result
        # (not among the build's formulas by value: its value is also the pick's own formula's)
        return Field(int(result), combine(*[formula_of(a) for a in items]))
    return pick


_WHOLE = {"int": _int, "round": _round, "max": _extreme(max, sp.Max), "min": _extreme(min, sp.Min)}


@contextlib.contextmanager
def whole_numbers():
    """While a model is built, `int` and `round` in its modeling modules keep a Quotient's formula, and
    `max` and `min` of sizes theirs (in the rotary tables' shared code too, which Llama 3's scaled table
    is computed by)."""
    import sys
    modules = [m for name, m in list(sys.modules.items()) if m is not None and "int" not in vars(m) and (
               name.startswith("transformers.models.") and name.rpartition(".")[2].startswith("modeling_")
               or name == "transformers.modeling_rope_utils")]
    for m in modules:
        for name, replacement in _WHOLE.items():
            if name not in vars(m):
                setattr(m, name, replacement)
    try:
        yield
    finally:
        for m in modules:
            for name, replacement in _WHOLE.items():
                if vars(m).get(name) is replacement:
                    del vars(m)[name]


def _symbol(name: str) -> sp.Symbol:
    return sp.Symbol(name, integer=True, positive=True)


# operations whose result is broadcast from their operands, axis by axis
_ELEMENTWISE = {"add", "sub", "mul", "div", "truediv", "pow", "where", "maximum", "minimum", "true_divide", "multiply"}
# operations that give their input's sizes with axes of 1 put in or taken out
_RESHAPES = {"view", "reshape", "unsqueeze", "squeeze", "flatten", "unflatten", "expand", "expand_as", "view_as",
             "reshape_as", "__getitem__", "contiguous"}
# reductions that keep each axis they reduce as 1 (with keepdim; `norm_except_dim` always does:
# weight_norm's magnitude of each output channel, (out, 1, 1), made from the weight, no Size)
_KEPT_REDUCTIONS = {"norm_except_dim", "sum", "mean", "amax", "amin", "std", "var"}


class _Shapes:
    """Under `torch.overrides.TorchFunctionMode`: the formula of every tensor a factory made from
    Sizes, carried through the operations that keep its shape or reshape, expand, broadcast or
    concatenate it, and onto the nn.Parameter made of it."""

    def __init__(self):
        import torch
        from torch.overrides import TorchFunctionMode
        self.formulas: dict[int, tuple] = {}
        self.fields: dict[str, int] = {}      # the config's fields as symbols, by value, for `of`
        # the prefix of the fields a tensor's size may be looked up among by its value: that of the
        # sub-config its module was built from (an HGNetV2 backbone's 16 stem channels, its lists',
        # are no decoder's field of 16), by the tensor's id
        self.owned: dict[int, str] = {}
        # each tensor's shape where a second build showed the formula found by its value wrong
        # (ResNet's bottleneck of 64 channels, a list's number, is not its embedding_size of 64)
        self.corrected: dict[int, tuple] = {}
        self._alive = []                      # ids stay unique while the build runs
        shapes = self

        class Mode(TorchFunctionMode):
            def __torch_function__(self, func, types, args=(), kwargs=None):
                kwargs = kwargs or {}
                out = func(*args, **kwargs)
                if isinstance(out, torch.Tensor):
                    shapes._record(func, args, kwargs, out)
                return out

        self.mode = Mode()
        self._parameter_new = torch.nn.Parameter.__new__

    def _record(self, func, args, kwargs, out):
        import torch
        dims = None
        candidates = [kwargs.get("size")] + list(args)
        for c in candidates:
            if isinstance(c, (tuple, list, torch.Size)) and len(c) == out.dim() and all(isinstance(d, int) for d in c):
                if any(isinstance(d, Size) for d in c) and tuple(int(d) for d in c) == tuple(out.shape):
                    dims = tuple(d.formula if isinstance(d, Size) else sp.Integer(d) for d in c)
                    break
        if dims is None and out.dim() and all(isinstance(a, int) for a in args) and \
                any(isinstance(a, Size) for a in args) and tuple(int(a) for a in args) == tuple(out.shape):
            dims = tuple(a.formula if isinstance(a, Size) else sp.Integer(a) for a in args)
        if dims is None and getattr(func, "__name__", "") == "arange":
            # its bounds and step as written, whole floats too (BROS's arange(0.0, dim, 2.0): dim / 2)
            ends = [a for a in args if isinstance(a, (int, float)) and not isinstance(a, bool)]
            whole = all(isinstance(a, int) or a.is_integer() for a in ends)
            if whole and any(isinstance(a, Size) for a in ends):
                ends = [a if isinstance(a, int) else int(a) for a in ends]
                start, end, step = (0, ends[0], 1) if len(ends) == 1 else (*ends[:2], ends[2] if len(ends) > 2 else 1)
                dims = (sp.ceiling((formula_of(end) - formula_of(start)) / formula_of(step)),)
        if dims is None:
            for a in list(args) + list(kwargs.values()):
                if isinstance(a, torch.Tensor) and id(a) in self.formulas and a.shape == out.shape:
                    dims = self.formulas[id(a)]
                    break
        if dims is None:
            dims = self._reduced(func, args, kwargs, out)
        if dims is None:
            dims = self._expanded(func, args, out)
        if dims is None:
            dims = self._joined(func, args, kwargs, out)
        if dims is None and getattr(func, "__name__", "") in _RESHAPES:
            # the same sizes with axes of 1 put in or taken out (a position table's
            # `arange(n).expand((1, -1))`, an `unsqueeze(0)`): each size keeps its formula
            for a in list(args) + list(kwargs.values()):
                if isinstance(a, torch.Tensor) and id(a) in self.formulas and a.numel() == out.numel():
                    sizes = [f for v, f in zip(a.shape, self.formulas[id(a)]) if v != 1]
                    if [v for v in a.shape if v != 1] == [v for v in out.shape if v != 1]:
                        dims = tuple(sp.Integer(1) if v == 1 else sizes.pop(0) for v in out.shape)
                        break
        if dims is not None and self._holds(dims, out):
            self.formulas[id(out)] = dims
            self._alive.append(out)

    def _holds(self, dims: tuple, out) -> bool:
        """Do the formulas give the tensor's own sizes at the config's values (a rule that read an
        operation's sizes wrongly records nothing)? Where the build's values are not known here (the
        PyTorch importer's constructor parameters), the rule is taken at its word."""
        try:
            return tuple(int(_value_at(d, tuple(self.fields.items()), None)) for d in dims) == tuple(out.shape)
        except TypeError:          # (a formula of sizes `fields` does not name)
            return True

    def _reduced(self, func, args, kwargs, out) -> tuple | None:
        """The formulas of a reduction that keeps the axes it reduces as 1: each axis it keeps has
        its operand's formula, each it reduces is 1 (else such a size is read by its value alone,
        weight_norm's 32 channels no formula where two formulas are 32)."""
        import torch
        name = getattr(func, "__name__", "")
        if name not in _KEPT_REDUCTIONS or not args or not isinstance(args[0], torch.Tensor) or \
                id(args[0]) not in self.formulas or args[0].dim() != out.dim():
            return None
        n = out.dim()
        if name == "norm_except_dim":           # (v, pow=2, dim=0): every axis but `dim` reduced
            kept = args[2] if len(args) > 2 else kwargs.get("dim", 0)
            if not isinstance(kept, int):
                return None
            reduced = set(range(n)) - {kept % n}
        else:
            axes = kwargs.get("dim", args[1] if len(args) > 1 and not isinstance(args[1], bool) else None)
            if axes is None:
                reduced = set(range(n))
            elif isinstance(axes, int) and not isinstance(axes, bool):
                reduced = {axes % n}
            elif isinstance(axes, (tuple, list)) and all(isinstance(a, int) for a in axes):
                reduced = {a % n for a in axes}
            else:
                return None
        have = self.formulas[id(args[0])]
        if any(out.shape[k] != (1 if k in reduced else args[0].shape[k]) for k in range(n)):
            return None
        return tuple(sp.Integer(1) if k in reduced else have[k] for k in range(n))

    def _expanded(self, func, args, out) -> tuple | None:
        """The formulas of an `expand` (Mamba's A: `arange(1, d_state + 1)[None, :].expand(
        intermediate_size, -1)`, -1 keeping a size) or a `repeat` (each size times its count)."""
        import torch
        if getattr(func, "__name__", "") not in ("expand", "repeat") or not args or \
                not isinstance(args[0], torch.Tensor):
            return None
        sizes = list(args[1] if len(args) == 2 and isinstance(args[1], (tuple, list, torch.Size)) else args[1:])
        have = self.formulas.get(id(args[0]), tuple(sp.Integer(n) for n in args[0].shape))
        have = (sp.Integer(1),) * (len(sizes) - len(have)) + tuple(have)
        if len(sizes) != out.dim() or not all(isinstance(n, int) for n in sizes) or not (
                any(isinstance(n, Size) for n in sizes) or id(args[0]) in self.formulas):
            return None
        if func.__name__ == "expand":
            return tuple(h if n == -1 else formula_of(n) for n, h in zip(sizes, have))
        return tuple(formula_of(n) * h for n, h in zip(sizes, have))

    def _joined(self, func, args, kwargs, out) -> tuple | None:
        """The formulas of a concatenation's result (the sizes along its axis added), or of an
        elementwise result broadcast from its operands (a sinusoidal table's positions times its
        frequencies): each axis from an operand of that size; None for any other operation, or
        where no operand has a formula."""
        import torch

        def dims_of(t):
            return self.formulas.get(id(t), tuple(sp.Integer(n) for n in t.shape))
        if getattr(func, "__name__", "") in ("cat", "concat", "concatenate") and args and \
                isinstance(args[0], (list, tuple)) and all(isinstance(t, torch.Tensor) for t in args[0]):
            parts = [t for t in args[0] if t.dim() == out.dim()]
            axis = kwargs.get("dim", kwargs.get("axis", args[1] if len(args) > 1 else 0))
            if not parts or not any(id(t) in self.formulas for t in parts) or not isinstance(axis, int):
                return None
            axis %= out.dim()
            dims = list(dims_of(parts[0]))
            dims[axis] = sp.Add(*(dims_of(t)[axis] for t in parts))
            return tuple(dims)
        operands = [a for a in args if isinstance(a, torch.Tensor)]
        if getattr(func, "__name__", "").strip("_").removeprefix("r").removeprefix("i") not in _ELEMENTWISE or \
                len(operands) < 2 or not any(id(t) in self.formulas for t in operands) or \
                any(t.dim() != out.dim() for t in operands):
            return None
        dims = []
        for k, n in enumerate(out.shape):
            have = [dims_of(t)[k] for t in operands if t.shape[k] == n]
            if not have:
                return None
            dims.append(next((d for d in have if not d.is_number), have[0]))
        return tuple(dims)

    @contextlib.contextmanager
    def watching(self):
        import torch
        original = self._parameter_new
        shapes = self

        def parameter(cls, data=None, requires_grad=True):
            p = original(cls, data, requires_grad)
            if data is not None and id(data) in shapes.formulas:
                shapes.formulas[id(p)] = shapes.formulas[id(data)]
                shapes._alive.append(p)
            return p

        torch.nn.Parameter.__new__ = parameter
        try:
            with self.mode:
                yield
        finally:
            torch.nn.Parameter.__new__ = original

    def of(self, tensor) -> tuple:
        """The tensor's shape as formulas: recorded, else the one formula of the build with its
        value, else the number."""
        if id(tensor) in self.corrected:
            return self.corrected[id(tensor)]
        if id(tensor) in self.formulas:
            return self.formulas[id(tensor)]
        out, prefix = [], self.owned.get(id(tensor))
        for n in tensor.shape:
            seen = Field.seen.get(int(n), set()) | {_symbol(k) for k, v in self.fields.items() if v == int(n)}
            # (of a sub-config's module, the one formula must be of its fields: its lists' sizes are
            # no other config's field of their value, nor one of its own that only the narrower
            # search leaves alone)
            if prefix is not None and not all(str(x).startswith(prefix) for f in seen for x in sp.sympify(f).free_symbols):
                seen = set()
            out.append(next(iter(seen)) if len(seen) == 1 and int(n) > 1 else sp.Integer(int(n)))
        return tuple(out)


@dataclass
class Entry:
    """The model's main input: its name, the program's input line, and whether its first axis is
    the sequence (so the measured passes vary its length). An encoder-decoder's decoder reads
    `decoder_input_ids` beside it, of another length (`TARGETS`), so each length has its formula."""
    name: str
    line: str
    text: bool
    shape: tuple = ()          # an image's (channels, height, width) at the config's values
    decoder: bool = False      # an encoder-decoder: decoder_input_ids too
    towers: list = field(default_factory=list)   # a model of towers: each other tower's input (an Entry)
    # what forward() needs beside it, each a whole number per example: name -> (shape, value)
    # (a speech encoder's mask of its frames, all ones; its lengths)
    beside: dict = field(default_factory=dict)

    def tensors(self, model, tokens: int, device: str, target: int | None = None) -> dict:
        import torch
        if self.text:
            out = {self.name: torch.zeros((1, tokens), dtype=torch.long, device=device)}
        else:
            out = {self.name: torch.zeros((1, *self.shape), device=device)}
        for name, (shape, value) in self.beside.items():
            out[name] = torch.full((1, *shape), value, dtype=torch.long, device=device)
        for tower in self.towers:
            out.update(tower.tensors(model, tokens, device))
        if self.decoder or getattr(model.config, "is_encoder_decoder", False):
            out["decoder_input_ids"] = torch.zeros((1, target or tokens), dtype=torch.long, device=device)
        return out


@dataclass
class Call:
    """One unit's first call in a measured forward pass: its input's and output's shapes (batch
    axis first), whether it read the model's input and whether its output fed another unit, and
    the attentions computed inside it."""
    inputs: tuple = ()
    output: tuple | None = None
    output_id: int | None = None
    input_id: int | None = None
    reads_input: bool = False
    batched: tuple = (True, True)                    # its input's, its output's first axis the batch
    ints: bool = False                               # its input holds whole numbers (token ids)
    times: int = 0                                   # calls in the pass
    reads: str | None = None                         # the model's input it reads, by name
    tensors: frozenset = frozenset()                 # ids of every tensor it was handed (a second input)
    # what its input was computed from: the model's inputs by name, the units before it by index
    origin: frozenset = frozenset()
    index: int = -1                                  # its unit's index
    attentions: list = field(default_factory=list)   # (heads, kv_heads, queries, keys, key_dim, value_dim)


def _tensors(value, depth: int = 3):
    """The tensors in a function's arguments or result (nested in tuples, lists, dicts)."""
    import torch
    if isinstance(value, torch.Tensor):
        yield value
    elif depth and isinstance(value, (tuple, list)):
        for v in value:
            yield from _tensors(v, depth - 1)
    elif depth and isinstance(value, dict):
        for v in value.values():
            yield from _tensors(v, depth - 1)


def _first_tensor(value):
    import torch
    if isinstance(value, torch.Tensor):
        return value
    if isinstance(value, (tuple, list)):
        for v in value:
            t = _first_tensor(v)
            if t is not None:
                return t
    if hasattr(value, "to_tuple"):          # a ModelOutput
        return _first_tensor(value.to_tuple())
    return None


# Where meta tensors cannot take the forward pass (a mask checked with `.item()`), it runs on the
# CPU in weights allocated but never set, for models of at most this many bytes: the shapes and
# products are the same, whatever the numbers.
CPU_PASS_BYTES = 2 * 1024 ** 3

@dataclass
class Measured:
    """One measured forward pass: each unit's first call (`calls`, by unit index), the order units
    were first called in, each unit's MACs (its subtree's, FlopCounterMode's FLOPs / 2), the whole
    pass's MACs and output, and each Linear's and ConvNd's first call inside the units (`leaves`, by
    id: input shape, output shape, times called). Unpacks as (calls, order, macs)."""
    calls: dict
    order: list
    macs: dict
    total: int = 0
    output: tuple | None = None
    leaves: dict = field(default_factory=dict)
    device: str = "meta"        # where it ran: meta, else the CPU twin
    root_own: int = 0           # the MACs of the root module's own forward(), outside all its children
    outputs: tuple = ()         # the shape of each tensor the pass returned

    def __iter__(self):
        return iter((self.calls, self.order, self.macs))

    def __getitem__(self, k):
        return (self.calls, self.order, self.macs)[k]


def called_with(args, kwargs):
    """The tensor a module's call is taken to read: its first positional one, else the first of the
    keywords a layer's input goes by."""
    return _first_tensor(list(args) + [kwargs.get(k) for k in ("hidden_states", "input_ids", "inputs_embeds",
                                                               "pixel_values", "x", "input")])


def measure(model, units, inputs: dict, device: str, context=contextlib.nullcontext, keywords: bool = True,
            what: str = "the forward pass") -> Measured:
    """The units' calls and MACs in one forward pass of `model` on `inputs` (name -> tensor, passed
    by keyword, else in order), run under `context()` (a front's patches)."""
    import torch
    import torch.nn.functional as F
    from torch.nn.attention import SDPBackend, sdpa_kernel
    from torch.overrides import TorchFunctionMode
    calls: dict[int, Call] = {}
    order: list[int] = []
    stack: list[int] = []
    alive = []               # every recorded tensor, so no id is reused within the pass
    handles = []
    leaves: dict[int, list] = {}
    given = {id(t): name for name, t in inputs.items()}
    # which of the model's inputs (and of the units before it) each tensor was computed from: a
    # tower's layers read only its own. Held by weak reference, so the pass frees what it frees
    # (an image tower's activations on the CPU), an id reused by another tensor telling nothing
    origin: dict = {}

    def source_of(t) -> frozenset:
        entry = origin.get(id(t))
        return entry[1] if entry is not None and entry[0]() is t else frozenset()

    def mark(t, more) -> None:
        try:
            origin[id(t)] = (weakref.ref(t), source_of(t) | more)
        except TypeError:      # a tensor no weak reference can hold: its origin is not followed
            pass
    for name, t in inputs.items():
        mark(t, {name})
    for i, unit in enumerate(units):
        if unit.own:                      # a container's own tensors: no call of their own
            continue

        def pre(module, args, kwargs, i=i):
            stack.append(i)
            if i not in calls:
                x = called_with(args, kwargs)
                handed = [a for a in list(args) + list(kwargs.values()) if isinstance(a, torch.Tensor)]
                calls[i] = Call(inputs=tuple(x.shape) if x is not None else (), input_id=id(x) if x is not None else None,
                                reads_input=x is not None and id(x) in given,
                                ints=x is not None and not (x.dtype.is_floating_point or x.dtype.is_complex),
                                reads=given.get(id(x)) if x is not None else None,
                                tensors=frozenset(id(a) for a in handed),
                                origin=source_of(x) if x is not None else frozenset(), index=i)
                alive.extend([x, *handed])
                order.append(i)
            calls[i].times += 1

        def post(module, args, kwargs, output, i=i):
            stack.pop()
            call = calls[i]
            if call.output is None:
                y = _first_tensor(output)
                call.output = tuple(y.shape) if y is not None else ()
                call.output_id = id(y) if y is not None else None
                alive.append(y)
                for t in _tensors(output):      # what it gives beside its first (a pooled state)
                    mark(t, {i})
        handles.append(unit.module.register_forward_pre_hook(pre, with_kwargs=True))
        handles.append(unit.module.register_forward_hook(post, with_kwargs=True))
        for m in unit.module.modules():
            if isinstance(m, (torch.nn.Linear, torch.nn.modules.conv._ConvNd)) and id(m) not in leaves:
                def leaf(module, args, output):
                    seen = leaves.setdefault(id(module), [None, None, 0])
                    if seen[0] is None and args and isinstance(args[0], torch.Tensor) and \
                            isinstance(output, torch.Tensor):
                        seen[0], seen[1] = tuple(args[0].shape), tuple(output.shape)
                    seen[2] += 1
                leaves[id(m)] = [None, None, 0]
                handles.append(m.register_forward_hook(leaf))

    scores: dict[int, tuple] = {}       # an eager attention's q k^T, waiting for its product with v
    products = (torch.matmul, torch.Tensor.matmul, torch.Tensor.__matmul__)

    class Attentions(TorchFunctionMode):
        """Records each attention's geometry: a scaled_dot_product_attention call, or an eager
        attention's two products of 4-D tensors, (B, H, t, d) x (B, H, d, s) then x (B, H, s, dv)."""
        def __torch_function__(self, func, types, args=(), kwargs=None):
            kwargs = kwargs or {}
            if func is F.scaled_dot_product_attention and stack:
                q, k, v = args[:3]
                calls[stack[-1]].attentions.append((q.shape[-3], k.shape[-3], q.shape[-2], k.shape[-2], q.shape[-1],
                                                    v.shape[-1]))
            elif func in products and stack and len(args) == 2 and all(
                    isinstance(a, torch.Tensor) and a.dim() == 4 for a in args):
                a, b = args
                i, waiting = stack[-1], scores.get(stack[-1])
                if waiting is not None and tuple(a.shape[-2:]) == waiting[1:3] and a.shape[-3] == waiting[0]:
                    heads, t, s, d = waiting
                    calls[i].attentions.append((heads, b.shape[-3], t, s, d, b.shape[-1]))
                    del scores[i]
                elif a.shape[-1] == b.shape[-2]:
                    scores[i] = (a.shape[-3], a.shape[-2], b.shape[-1], a.shape[-1])
            out = func(*args, **kwargs)
            source = frozenset().union(*(source_of(t) for t in _tensors((args, kwargs))))
            if source:
                for t in _tensors(out):
                    mark(t, source)
            return out

    counter = forward_counter()
    try:
        # the math kernel: FlopCounterMode does not count the CPU's fused attention
        with torch.no_grad(), one_thread(device), context(), sdpa_kernel(SDPBackend.MATH), counter, Attentions():
            y = model(**inputs) if keywords else model(*inputs.values())
    except Exception as e:
        raise ImportProblem(f"{what} of {type(model).__name__} failed on the {device} device: "
                            f"{type(e).__name__}: {str(e)[:300]}") from None
    finally:
        for h in handles:
            h.remove()
    flops = counter.get_flop_counts()
    macs = {}
    for i, unit in enumerate(units):
        key = f"{type(model).__name__}.{unit.path}" if unit.path else type(model).__name__
        macs[i] = 0 if unit.own else sum(flops.get(key, {}).values()) // 2
    outputs = tuple(tuple(t.shape) for t in _tensors(y.to_tuple() if hasattr(y, "to_tuple") else y))
    y = _first_tensor(y)
    total = counter.get_total_flops() // 2
    return Measured(calls, order, macs, total, tuple(y.shape) if y is not None else None,
                    {k: tuple(v) for k, v in leaves.items()}, device, total - children_macs(counter, model), outputs)


def forward_counter():
    """FlopCounterMode for a forward pass only. Its module tracker also hooks every module's
    outputs for a backward pass, which fails on a module returning a fresh tensor that requires
    grad with no function behind it (MRA's attention: `zeros_like(q).requires_grad_()`); no pass
    here goes backward, so the tracker only follows the forward calls."""
    from torch.utils.flop_counter import FlopCounterMode
    counter = FlopCounterMode(display=False)
    counter.mod_tracker = _forward_tracker()()
    return counter


@functools.lru_cache(maxsize=1)
def _forward_tracker() -> type:
    from torch.utils.module_tracker import ModuleTracker

    class ForwardTracker(ModuleTracker):
        def _fw_pre_hook(self, mod, input) -> None:
            self._get_append_fn(self._get_mod_name(mod), False)()

        def _fw_post_hook(self, mod, input, output) -> None:
            self._get_pop_fn(self._get_mod_name(mod), False)()
    return ForwardTracker


def children_macs(counter, model) -> int:
    """The MACs FlopCounterMode counted inside the model's children: all but what its own forward()
    computes from them (CLIP's logits, every text against every image)."""
    root = type(model).__name__ + "."
    return sum(sum(v.values()) for k, v in counter.get_flop_counts().items()
               if k.startswith(root) and k.count(".") == 1) // 2


@contextlib.contextmanager
def one_thread(device: str):
    """A pass on the CPU in one thread: its products are over a few positions, and on a shared
    machine a parallel pass's waiting threads spin, costing several times the CPU they save."""
    import torch
    if device != "cpu":
        yield
        return
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(threads)


def _parameters(model) -> set:
    import inspect
    return set(inspect.signature(model.forward).parameters)

# ------------------------------------------------------------------------------ the module tree

@dataclass
class Unit:
    """A module written as one line of the program."""
    path: str
    module: object
    params: sp.Expr = sp.Integer(0)
    non_trainable: sp.Expr = sp.Integer(0)
    buffers: sp.Expr = sp.Integer(0)
    tied_to: str | None = None               # a Linear whose weight is an Embedding's
    own: bool = False                        # only the module's own tensors: its children are units too


def _expand(module, also=()) -> bool:
    """Modules whose children are the program's lines: lists of layers, a module holding a list of
    layers (BERT's encoder), and those of the classes `also` (transformers' model classes)."""
    import torch
    lists = (torch.nn.ModuleList, torch.nn.ModuleDict, torch.nn.Sequential)
    return isinstance(module, (*also, *lists)) or any(isinstance(c, torch.nn.ModuleList) for c in module.children())


def _units(model, shapes, also=(), whole_items: bool = False) -> list[Unit]:
    """The model's units: the root's children, a container's children in its place (and its own
    tensors as a unit of their own), in the tree's order. With `whole_items`, an item of a list is
    one unit even where it holds a list itself (T5's block and its `layer` list), so a run of them
    is one repeat."""
    import torch
    units, counted = [], {}
    lists = (torch.nn.ModuleList, torch.nn.ModuleDict, torch.nn.Sequential)

    def walk(module, path):
        if any(True for _ in module.named_parameters(recurse=False)) or \
                any(True for _ in module.named_buffers(recurse=False)):
            units.append(_unit(module, path, shapes, counted, own=True))
        for name, child in module.named_children():
            sub = f"{path}.{name}" if path else name
            item = whole_items and isinstance(module, lists) and not isinstance(child, lists)
            if _expand(child, also) and not item:
                walk(child, sub)
            else:
                units.append(_unit(child, sub, shapes, counted))
    walk(model, "")
    return units


def _unit(module, path, shapes, counted, own=False) -> Unit:
    import torch
    u = Unit(path, module, own=own)
    for name, p in module.named_parameters(recurse=not own):
        if id(p) in counted:
            if isinstance(module, torch.nn.Linear) and name == "weight":
                u.tied_to = counted[id(p)]
            continue
        counted[id(p)] = path
        n = sp.Mul(*shapes.of(p))
        u.params += n
        if not p.requires_grad:
            u.non_trainable += n
    for name, b in module.named_buffers(recurse=not own):
        if id(b) not in counted:
            counted[id(b)] = path
            u.buffers += sp.Mul(*shapes.of(b))
    return u


# ------------------------------------------------------------------------------ formulas

def _lookup(value: int, module, symbols: dict) -> sp.Expr | None:
    """The one formula with this value: among the sizes the module (and its children) keep as
    attributes, else among every size of the build, else the symbols'."""
    for pool in (_kept_sizes(module), Field.seen.get(value, set()),
                 {_symbol(k) for k, v in symbols.items() if v == value}):
        found = {f for f in pool if _value(f, symbols) == value}
        if len(found) == 1:
            return next(iter(found))
        if len(found) > 1:
            return None
    return None


def _kept_sizes(module, items: bool = False) -> set:
    """The formulas of the sizes `module` and its children keep as attributes (`items`: in tuples too,
    a convolution's stride)."""
    found = set()
    for m in module.modules():
        for v in vars(m).values():
            for size in (v if items and isinstance(v, (tuple, list)) else (v,)):
                if isinstance(size, Size):
                    found.add(size.formula)
    return found


def _followed(unit, symbols: dict, dims: tuple) -> tuple[frozenset, frozenset]:
    """The fields a unit's sizes may follow: those its weights are counted in, and those of the sizes
    its modules keep beside them (a convolution's stride), but a field that is one of its output
    sizes `dims` (its width is not one its positions follow)."""
    return tuple(frozenset(str(x) for f in formulas for x in sp.sympify(f).free_symbols
                           if str(x) in symbols and symbols[str(x)] not in dims)
                 for formulas in ((unit.params, unit.buffers), _kept_sizes(unit.module, items=True)))


def _value(formula, symbols: dict, tokens: int | dict | None = None):
    """The formula's number at the symbols' values, and the sequence length `tokens` (or lengths:
    SEQUENCE, SOURCE -> value)."""
    lengths = tuple(tokens.items()) if isinstance(tokens, dict) else tokens
    return _value_at(sp.sympify(formula), tuple(symbols.items()), lengths)


@functools.lru_cache(maxsize=4096)
def _value_at(formula, symbols: tuple, tokens):
    # cached: every layer of a run of identical ones asks the same questions of the same formulas
    subs = {_symbol(k): v for k, v in symbols}
    if isinstance(tokens, tuple):
        subs.update(tokens)
    elif tokens is not None:
        subs[SEQUENCE] = tokens
    try:       # xreplace: symbols for whole numbers, no pattern matching (subs' cost)
        return int(formula.xreplace({k: sp.Integer(v) for k, v in subs.items()}))
    except TypeError:
        return None


def _linear_macs(module, shapes, length=lambda m: SEQUENCE) -> sp.Expr:
    """Each projection's products over the positions it reads: `length(linear)` (the sequence, or
    in a decoder's cross-attention the encoder's length). A mixture of experts (transformers'
    router keeping `top_k`, its experts' weights stacked as (experts, out, in)): the router scores
    every expert for each position, and each position passes through top_k experts."""
    import torch
    total = sp.Integer(0)
    top_k = next((m.top_k.formula for m in module.modules() if isinstance(getattr(m, "top_k", None), Size)), None)
    for m in module.modules():
        # nn.Linear's weight is (out, in); GPT-2's Conv1D's (in, out): a product per token either way
        if isinstance(m, torch.nn.Linear) or (type(m).__name__ == "Conv1D" and m.weight.dim() == 2):
            out, inp = shapes.of(_stored_weight(m))
            total += length(m) * out * inp
        elif top_k is not None and isinstance(getattr(m, "top_k", None), Size):
            for p in m.parameters(recurse=False):
                if p.dim() == 2:
                    out, inp = shapes.of(p)
                    total += length(m) * out * inp
        elif top_k is not None:
            for p in m.parameters(recurse=False):
                if p.dim() == 3:
                    _, out, inp = shapes.of(p)
                    total += length(m) * top_k * out * inp
    return total


def _unrouted(module, shapes):
    """The parameters of a mixture of experts' experts one position is not routed to: for each
    weight stacked over the router's experts (transformers' (experts, out, in), and its biases'
    (experts, out)), all experts but its `top_k`; 0 where the module holds no mixture of experts;
    None where it does but its one router names no top_k or number of experts, or nothing is
    stacked over them (a list of expert modules: which weights are experts', no shape tells), or
    it holds two routers (ERNIE-4.5-VL's text and vision experts: which one a position uses, the
    input tells)."""
    def whole(m, name, least=1):
        value = getattr(m, name, None)
        return isinstance(value, int) and not isinstance(value, bool) and value >= least
    named = {name: m for name, m in module.named_modules() if whole(m, "top_k")}
    # a mixture of experts and its router may both name top_k: one router, the outermost
    routers = [m for name, m in named.items() if not any(name.startswith(f"{o}.") or name and not o
                                                        for o in named if o != name)]
    if not routers:         # (NLLB-MoE's top-2 router names no top_k: its experts say there are some)
        return None if any(whole(m, "num_experts", 2) for m in module.modules()) else sp.Integer(0)
    if len(routers) > 1:
        return None
    inner = list(named.values())
    counts = {int(m.num_experts) for m in inner if whole(m, "num_experts", 2)} | {
        m.weight.shape[0] for m in inner if getattr(getattr(m, "weight", None), "dim", lambda: 0)() == 2}
    if len(counts) != 1:
        return None
    router, count = routers[0], counts.pop()
    top_k, unused = formula_of(router.top_k), sp.Integer(0)
    for m in module.modules():
        own = list(m.parameters(recurse=False))
        if m in inner or not any(p.dim() == 3 and p.shape[0] == count for p in own):
            continue
        for p in own:           # (a convolution's (channels, 1, kernel) beside them is no expert)
            if p.dim() in (2, 3) and p.shape[0] == count:
                dims = shapes.of(p)
                unused += (dims[0] - top_k) * sp.Mul(*dims[1:])
    return unused if unused != 0 else None


def _attention_macs(unit, call, symbols, lengths=None):
    """The attentions recorded in the unit, as (macs formula, facts), or None where a size has no
    one formula. The attention module's own sizes name the geometry (transformers' attention
    modules keep head_dim and num_key_value_groups, their config the head counts); each must equal
    what the forward pass handed scaled_dot_product_attention."""
    macs, found = sp.Integer(0), []
    for heads, kv_heads, queries, keys, key_dim, value_dim in call.attentions:
        named = _geometry(unit.module)
        h = named.get("heads") or _lookup(heads, unit.module, symbols)
        d = named.get("head_dim") or _lookup(key_dim, unit.module, symbols)
        dv = d if value_dim == key_dim else _lookup(value_dim, unit.module, symbols)
        g = named.get("kv_heads")
        # keys and values repeated to every head before the product (repeat_kv): the module's own
        # grouping names the heads its cache keeps
        repeated = g is not None and kv_heads == heads and _value(g, symbols) * named.get("groups", 0) == heads
        if not repeated and (g is None or _value(g, symbols) != kv_heads):   # (Whisper's config names the encoder's heads)
            g = h if kv_heads == heads else _lookup(kv_heads, unit.module, symbols)
        if any(f is None for f in (h, g, d, dv)) or _value(h, symbols) != heads or _value(d, symbols) != key_dim \
                or _value(g, symbols) != kv_heads and not repeated:
            return None
        lengths = lengths or {}
        t, s = lengths.get(queries, SEQUENCE), lengths.get(keys, SEQUENCE)
        macs += Attention(h, g, d, dv, t, s).score_macs     # the catalog's one formula
        # a cross-attention caches the encoder's keys and values, whatever the decoder's cache is
        cache = "cache=keys" if s == SOURCE else _cache(unit.module, symbols)
        found.append((h, g, d, dv, cache, t, s))
    return macs, found


def _field(config, name: str):
    """A config's field, or None: a config of per-layer fields refuses a global one (EmbeddingGemma2)."""
    try:
        return getattr(config, name, None)
    except Exception:
        return None


def _geometry(module) -> dict:
    """heads, kv_heads and head_dim as the attention module inside `module` keeps them."""
    for m in module.modules():
        head_dim = getattr(m, "head_dim", None)
        config = getattr(m, "config", None)
        heads = next((v for v in (getattr(m, "num_heads", None), getattr(m, "num_attention_heads", None),
                                  _field(config, "num_attention_heads")) if isinstance(v, Size)), None)
        # a head size a config of per-layer overrides gives some layers (Gemma 4's full-attention layers'
        # 512), beside heads a field gives: that number
        if not isinstance(head_dim, Size) and not (type(head_dim) is int and head_dim > 0 and heads is not None
                                                   and getattr(config, "is_heterogeneous", False) is True):
            continue
        kv = next((v for v in (getattr(m, "num_key_value_heads", None), _field(config, "num_key_value_heads"))
                   if isinstance(v, Size)), None)
        groups = getattr(m, "num_key_value_groups", None)
        out = {"head_dim": head_dim.formula if isinstance(head_dim, Size) else sp.Integer(head_dim)}
        if isinstance(groups, (int, Size)) and int(groups) > 1:
            out["groups"] = int(groups)
        if heads is not None:
            out["heads"] = heads.formula
            if kv is not None:
                out["kv_heads"] = kv.formula
            elif isinstance(groups, Size):
                out["kv_heads"] = heads.formula / groups.formula
        return out
    return {}


def _cache(module, symbols) -> str:
    causal = [getattr(m, "is_causal", None) for m in module.modules() if hasattr(m, "is_causal")]
    if causal and not any(causal):
        return "cache=none"
    windows = [getattr(m, "sliding_window", None) for m in module.modules()]
    window = next((w for w in windows if isinstance(w, int) and not isinstance(w, bool) and w > 0), None)
    if window is not None:
        return f"cache=window, window={language(formula_of(window))}"
    return "cache=keys"


# ------------------------------------------------------------------------------ the program

class _Numbers(Exception):
    """A size with no formula of the config's fields: the program falls back to this config's numbers.
    `fixed`: the size is on the chain of an example of fixed shape (an image's feature maps), where
    it may be the example's own number; `fields`: the symbols the unit's weights are counted in;
    `kept`: those of the sizes its modules keep beside them (a convolution's stride)."""

    def __init__(self, message: str, fixed: bool = False, fields: frozenset = frozenset(),
                 kept: frozenset = frozenset()):
        super().__init__(message)
        self.fixed, self.fields, self.kept = fixed, fields, kept


def _snake(name: str) -> str:
    return re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", name).lower()


def _line_name(path: str) -> str:
    """A line's name: its module's attribute, as a name the language reads back (FLAVA's codebook's
    `input` convolution is `input_layer`; a ModuleDict's key `1x1` is `layer_1x1`)."""
    from ..syntax import is_name
    parts = [p for p in path.split(".") if p and not p.isdigit()]
    name = re.sub(r"\W", "_", parts[-1]) if parts else "model"       # (the root's own tensors)
    name = f"layer_{name}" if name[0].isdigit() else name
    return name if is_name(name) else f"{name}_layer"


@dataclass
class _Line:
    unit: Unit
    text: str                  # the layer call, without its input
    declared: str | None       # the declared layer's text, where the unit is one
    reads_input: bool          # does it read the model's input (else the running tensor)
    feeds: bool                # does its output go on to the next line
    count: int = 1
    chain: str = "main"        # an encoder-decoder's "encoder" or decoder ("main") chain
    input: str | None = None   # the model's input it reads, where it reads one
    second: bool = False       # it reads the encoder's output too (a decoder layer's cross-attention)
    inner: tuple = ()          # a block's lines: one layer from each of several lists, called in turn
    keeps: bool = True         # its output has its input's shape
    called: bool = True        # its forward() ran in the pass (a VLM's vision tower over text alone: not)
    branch: bool = False       # it reads the running tensor into a tensor of its own, which no next line reads
    source: str | None = None  # the path of the branch whose tensor it reads (the branch's norm)


def _counts(model) -> tuple:
    return (sum(p.numel() for p in model.parameters()),
            sum(p.numel() for p in model.parameters() if p.requires_grad),
            sum(b.numel() for b in model.buffers()))


def _on_path(call, later: list, running) -> bool:
    """Does the unit carry the model's running tensor on: it reads it (or the input, first), and a
    later unit reads what it gives, as that tensor or one of its shape (scaled, dropped out)?"""
    if call.output is None or (running is not None and call.inputs != running and not call.reads_input):
        return False
    later = [c for c in later if c.inputs]      # not a module handed no tensor (Marian's positions: a shape)
    if not later or any(c.input_id == call.output_id for c in later):
        return True
    # the next unit reads its output as is, or as forward() made it over (CLIP's pooled last state),
    # but not where a later unit reads the very tensor it read: then it is a branch beside the chain
    # (Gemma 4's per-layer projection, whose result its layers take as a second input)
    return later[0].inputs == call.output or call.index in later[0].origin and \
        not any(c.input_id == call.input_id for c in later if call.input_id is not None)


def _unique(name: str, body) -> str:
    taken = {n for n, _ in body}
    if name not in taken:
        return name
    k = 2
    while f"{name}_{k}" in taken:
        k += 1
    return f"{name}_{k}"


@functools.lru_cache(maxsize=4096)
def _fmt(formula) -> str:
    return language(formula)      # cached: a run of identical layers prints the same formulas


def _assumed_calls(units, order: list, chain_of) -> dict:
    """Where the forward pass cannot run: the first embedding reads the input, every unit after it
    the running tensor, keeping its shape; a unit before it (a vision tower's, the model's own
    tensors) keeps whatever shape it is handed, and so does a linear map whose input width is not
    the running tensor's (Decision Transformer's embeddings of returns and actions, read beside
    the chain): only where the widths agree is it the chain's dense layer. Each chain (`chain_of`
    a unit: an encoder-decoder's encoder and decoder) runs from its own first embedding; `order`
    is the order the units run in (a pass's, where one ran though its layers are not one chain)."""
    import torch
    # each chain's running width, from its first embedding on (3 before it: any placeholder that is
    # not the sequence's 2 would do, as such a unit keeps whatever shape it is handed)
    calls, widths = {}, {}
    for i in order:
        m, chain = units[i].module, chain_of(units[i])
        reads = isinstance(m, torch.nn.Embedding) and chain not in widths
        if reads:
            widths[chain] = m.embedding_dim
        given = widths.get(chain, 3)
        linear = type(m) is torch.nn.Linear           # (as `_Writer.line` makes a dense layer of)
        on_chain = chain in widths and (not linear or m.in_features == given)
        if linear and on_chain:
            widths[chain] = m.out_features
        calls[i] = Call(inputs=(1, 2) if reads else (1, 2, given) if on_chain else (),
                        output=(1, 2, widths.get(chain, 3)), output_id=-1 - i, input_id=-i, reads_input=reads)
    return calls


def _checks(formula, measured, symbols, tokens=PROBES) -> bool:
    """Does the formula give the measured MACs of each pass (`tokens`: each pass's length, or lengths)?"""
    if measured is None:            # catalog layers' MACs hold wherever they run on the whole sequence
        return True
    return all(_value(formula, symbols, t) == macs for t, macs in zip(tokens, measured))


class _Writer:
    """Writes units as lines, collecting the symbols they use and the layers they declare."""

    def __init__(self, shapes, symbols: dict, symbolic: bool):
        self.shapes, self.symbols, self.symbolic = shapes, symbols, symbolic
        # the symbols a size is looked up among (by its value): in a tower, not another tower's
        self.candidates = symbols
        self.used: set = set()
        self.declared: dict = {}
        self.catalog: set = set()          # paths written as catalog embeddings (a head may tie to them)
        self.entry: Entry | None = None
        self.tokens = PROBES[0]
        self.macs = True                   # False where the MACs' formulas failed their second check
        # an encoder-decoder's decoder: the passes' lengths (SEQUENCE the decoder's, SOURCE the
        # encoder's), its projections' inputs (`leaves`, measure's), whether a line reads the encoder
        self.lengths: tuple = PROBES
        self.leaves: dict = {}
        self.source: int | None = None
        self.second: bool = False
        self.called: set = set()           # ids of the weights of every module the pass called
        self.fixed = False                 # the chain's positions are an example's (an image's patches)
        # the fields an example's sizes follow are numbers (`general._pinned`): a size with no
        # formula on the chain of an example of fixed shape is the example's number (`numbered`)
        self.pinned = False
        self.numbers: set = set()     # values of the fields written as numbers: a size of one may be its number
        self.numbered: set = set()
        # the fields kept by the layers that gave such numbers (a downsampling convolution's stride, its
        # kernel's size), but their widths: the example's numbers follow them too (`general._pinned`)
        self.numbered_by: set = set()
        # (value, unit, axis of its output, the formulas of that value, given: of its input instead)
        # -> those of them the output (input) follows where each field they name is changed alone
        # (`general._told_apart`), or None
        self.tell_apart = None
        # the unit's first call's output in each pass (one per PROBES length), and the positions an
        # output was found to add to the sequence's (`shifted`: VideoPrism's text class token, t + 1)
        self.probes: list = []
        self.shifted = 0

    def note(self, *formulas):
        for f in formulas:
            self.used.update(str(s) for s in sp.sympify(f).free_symbols if str(s) in self.symbols)

    def line(self, unit, call, measured, feeds) -> _Line:
        """The catalog's embedding or dense where the unit is one on the model's path, else a
        declared layer with its formulas."""
        import torch
        m = unit.module
        text = self.sequence
        # (an embedding whose table another unit holds is declared: its weights are counted there)
        if type(m) is torch.nn.Embedding and call.reads_input and text and not m.max_norm and feeds and \
                unit.params != 0:
            n, d = self.shapes.of(_stored_weight(m))
            self.note(n, d)
            self.catalog.add(unit.path)
            return _Line(unit, f"embedding({_fmt(n)}, {_fmt(d)}, name=?)", None, True, feeds)
        # over a sequence, or on one vector per example (a tower's projection of its pooled state)
        if type(m) is torch.nn.Linear and feeds and (text and len(call.inputs) == 3 or len(call.inputs) == 2) and \
                not call.reads_input and (unit.tied_to is None or unit.tied_to in self.catalog):
            out, inp = self.shapes.of(_stored_weight(m))
            if _checks((SEQUENCE if len(call.inputs) == 3 else 1) * out * inp, measured, self.symbols, self.lengths):
                self.note(out, inp)
                tied = f", tied={_line_name(unit.tied_to)}" if unit.tied_to else ""
                return _Line(unit, f"dense({_fmt(out)}, use_bias={'true' if m.bias is not None else 'false'}{tied}, "
                             "name=?)", None, False, feeds)
        return self.declared_line(unit, call, measured, feeds)

    def size(self, value: int, unit, dims: tuple = (), axis: int | None = None, given: bool = False,
             inputs: tuple = ()) -> sp.Expr:
        """A measured size as a formula: one of the unit's own weights' sizes, else the one formula
        of the build with that value, else the one of several with that value (MobileBERT's 512 is
        its hidden_size, intermediate_size and max_position_embeddings) that the unit's output on
        `axis` follows where each is changed alone; a number where formulas are not being written, where it is
        an example's with the fields it follows pinned (`pinned`), or where it is the value of a
        field written as its number (`numbers`, above 2; the checks at a second setting try it).
        `dims`: the unit's output sizes, `inputs` its input's (`given`: the size is of the input it is
        handed, on `axis`). (On such an example, a size no weight of the unit has is the example's
        number, not a formula that happens to have its value, unless the output follows the formula
        where its fields are changed alone: GOT-OCR2's 64 patches a side are not its hidden_size /
        num_attention_heads, which doubling both keeps at 64.)"""
        example = self.symbolic and self.on_example and self.pinned
        mine = self.owns(value, unit)
        found = next(iter(mine)) if len(mine) == 1 else None
        if len(mine) > 1:
            # several sizes of the unit's own weights have it (Pocket TTS's downsampling convolution:
            # latent_dim channels out, a kernel of 2 * latent_stride, both 32): the one its output
            # follows where each is changed alone, on an example too (its weights' are no example's numbers)
            found = self.confirmed(value, unit, axis, mine, given)
        if found is None and not example:
            found = _lookup(value, unit.module, self.candidates)
        if found is None and self.symbolic and axis is not None and self.tell_apart:
            # (on an example, even one formula of that value must be shown by a build where it moved
            # and the size with it: a DETR decoder's 100 positions are its num_queries, its query
            # table's rows, which no weight of the decoder's layers has)
            equal = self.equal(value, unit)
            found = self.confirmed(value, unit, axis, equal, given) if len(equal) > 1 or example else None
        if found is not None:
            return found
        if example:
            self.numbered.add(value)
            if inputs and value not in inputs:      # (a size its input had, moved, is no number it gave)
                # (not its widths: sizes it keeps that are its input's or its output's)
                self.numbered_by |= {str(x) for f in _kept_sizes(unit.module, items=True)
                                     if _value(f, self.symbols) not in (*inputs, *dims)
                                     for x in sp.sympify(f).free_symbols if str(x) in self.symbols}
        elif self.symbolic and not (value > 2 and value in self.numbers):
            fields, kept = _followed(unit, self.symbols, dims)
            raise _Numbers(f"{unit.path or 'the model'} ({type(unit.module).__name__}) gives a size of {value}, "
                           "which no one formula of the config's fields has", self.on_example, fields, kept)
        return sp.Integer(value)

    def equal(self, value: int, unit) -> set:
        """Every formula with this value among the unit's weights', the sizes its modules keep, the
        build's and the fields'."""
        pools = [{d for p in (*unit.module.parameters(), *unit.module.buffers()) for d in self.shapes.of(p)},
                 _kept_sizes(unit.module), Field.seen.get(value, set()),
                 {_symbol(k) for k, v in self.candidates.items() if v == value}]
        return {f for pool in pools for f in pool if not sp.sympify(f).is_number and _value(f, self.symbols) == value}

    def own(self, value: int, unit) -> sp.Expr | None:
        """The one size of the unit's own weights with this value (a formula before a number), else
        of its buffers (M2M-100's sinusoidal table, d_model wide), or None."""
        own = self.owns(value, unit)
        return next(iter(own)) if len(own) == 1 else None

    def kept(self, value: int, unit, axis: int) -> sp.Expr | None:
        """The one size the unit keeps (`_kept_sizes`) with the value of an input's axis that its
        output on `axis` follows where each field is changed alone, or None: PatchTST's patchifier
        gives context_length patches of one step where patch_length is 1 — by value alone, the input's
        steps and channels, by the builds with each field changed, its num_patches and patch_length."""
        if not (self.symbolic and self.tell_apart):
            return None
        mine = {f for f in _kept_sizes(unit.module) if not sp.sympify(f).is_number and _value(f, self.symbols) == value}
        return self.confirmed(value, unit, axis, mine)

    def confirmed(self, value: int, unit, axis: int | None, found: set, given: bool = False) -> sp.Expr | None:
        """The one of the formulas `found` (of the size `value` of the unit's output on `axis`, or
        `given`: of its input) that the size follows where each field is changed alone (`tell_apart`),
        or None."""
        if not (found and self.symbolic and axis is not None and self.tell_apart):
            return None
        told = self.tell_apart(value, unit, axis, found, given)
        return next(iter(told)) if len(told) == 1 else None

    def owns(self, value: int, unit) -> set:
        """The sizes with this value of the unit's own weights (formulas before numbers), else of its
        buffers: `own`'s one where there is one."""
        for tensors in (unit.module.parameters(), unit.module.buffers()):
            own = {d for p in tensors for d in self.shapes.of(p) if _value(d, self.symbols) == value}
            own = {d for d in own if not d.is_number} or own
            if own:
                return own
        return set()

    def patterns(self, unit, call, feeds) -> tuple[str, str]:
        """The declared layer's input and output patterns, from the measured shapes. An output size
        is the input's on the same axis where both have it, or the sequence's wherever it moves;
        else one of the unit's own weights' sizes; else an input's of that value; else the width an
        embedding, a Linear or a norm gives (`output_width`); else its formula (`size`). (SAM's
        upscaling convolution takes 64 x 64 positions to 64 channels, mask_decoder_hidden_size // 4
        of its weight, and its norm keeps 128 x 128 positions of 32 channels: by value alone both
        were the input's axes.)"""
        if not feeds or not call.inputs or call.output is None or len(call.inputs) < 2:
            return "(x: (*s))", "(*s)"          # beside the path: reads what it reads, passes the tensor on
        names, given = [], {}
        dims = call.inputs[1:]
        for k, v in enumerate(dims):
            name = "t" if self.sequence and v == self.tokens else \
                "n" if self.sequence and k == len(dims) - 1 else f"a{k + 1}"
            names.append(name)
            given.setdefault(v, name)
        out, produced = [], self.output_width(unit)
        outputs = (call.output or ())[1:]
        for k, v in enumerate(outputs):
            if len(outputs) == len(dims) and dims[k] == v:
                out.append(names[k])
                continue
            shifted = self.shift(k, v, unit, names) or self.divided(k, unit, names)
            if shifted is not None:
                out.append(shifted)
                continue
            own = self.own(v, unit) if given.get(v) != "t" else None     # (the sequence's axis, wherever it moves)
            kept = self.kept(v, unit, k) if v in given and given[v] != "t" and (own is None or own.is_number) \
                else None
            if own is not None and not own.is_number:
                self.note(own)
                out.append(_fmt(own))
            elif kept is not None:
                self.note(kept)
                out.append(_fmt(kept))
            elif v in given:
                out.append(given[v])
            elif k == len(call.output) - 2 and produced is not None and _value(produced, self.symbols) == v:
                out.append(_fmt(produced))        # (GPT-Neo's position table: 2048 wide, 2048 rows)
            else:
                f = self.size(v, unit, tuple(call.output[1:]), axis=k, inputs=tuple(dims))
                self.note(f)
                out.append(_fmt(f))
        second = ", e: (*, s, m)" if self.second else ""      # a decoder layer's: the encoder's output
        return f"(x: (*, {', '.join(names)}){second})", f"(*, {', '.join(out)})" if out else "(*)"

    def shift(self, axis: int, value: int, unit, names: list) -> str | None:
        """`t + c` where the output's `axis` is the sequence's length and c more in every pass (a
        class token set before the text's), c a number up to 2 or its formula by its value (`size`,
        which the checks at a second setting hold to); else None. (A later layer that gives t
        positions again is no shift: its size is looked up as any other.)"""
        if not self.sequence or "t" not in names or self.source is not None or self.fixed or \
                len(self.probes) != len(self.lengths) or value <= self.tokens:
            return None
        c = value - self.tokens
        for output, length in zip(self.probes, self.lengths):
            if not output or len(output) <= axis + 1 or not isinstance(length, int) or output[axis + 1] != length + c:
                return None
        formula = sp.Integer(c) if c <= 2 else self.size(c, unit)
        self.note(formula)
        self.shifted = c
        return f"t + {_fmt(formula)}"

    def divided(self, axis: int, unit, names: list) -> str | None:
        """`t // d` where the output's `axis` is the floor of the sequence's length (an input's axis)
        divided by d in every pass (CANINE's molecules, its characters // downsampling_rate), d ≥ 2
        the one whole number that gives every pass's, written as its formula (`size`, which the
        checks at a second setting hold to); else None."""
        if not self.sequence or "t" not in names or self.source is not None or self.fixed or \
                len(self.probes) != len(self.lengths) or not all(isinstance(n, int) for n in self.lengths) or \
                not all(o and len(o) > axis + 1 and o[axis + 1] for o in self.probes):
            return None
        sizes = [o[axis + 1] for o in self.probes]
        if len(set(sizes)) == 1:
            return None         # (a size no pass moves, a pooled position: 1 is no t // 7)
        # (n // d == m where n / (m + 1) < d <= n / m)
        ds = set.intersection(*(set(range(n // (m + 1) + 1, n // m + 1)) for n, m in zip(self.lengths, sizes)))
        if len(ds) != 1 or min(ds) < 2:
            return None
        d = self.size(ds.pop(), unit)
        self.note(d)
        return _fmt(sp.floor(SEQUENCE / d))

    def declared_line(self, unit, call, measured, feeds) -> _Line:
        m = unit.module
        pattern, output = self.patterns(unit, call, feeds)
        facts, lines = [], []
        text = bound = self.sequence and " t" in " " + pattern.replace("(", " ").replace(",", " ")
        macs = sp.Integer(0) if unit.own or not text else _linear_macs(m, self.shapes, self.length)
        convolutions = None if unit.own else self.convolutions(m, unit.path)
        if convolutions is not None and (text or self.fixed):
            macs, text = macs + convolutions, True
        lengths = {self.tokens: SEQUENCE, **({self.source: SOURCE} if self.source else {})}
        if not bound:        # (over an example's positions no t names: DETR's 49, its numbers)
            lengths = {v: sp.Integer(v) for a in call.attentions for v in a[2:4]}
        attention = _attention_macs(unit, call, self.candidates, lengths) if text else None
        if attention is not None:
            macs += attention[0]
            for h, g, d, dv, cache, t, s in attention[1]:
                value = f", value_dim={_fmt(dv)}" if dv != d else ""
                facts.append(f"attention = attention(heads={_fmt(h)}, kv_heads={_fmt(g)}, key_dim={_fmt(d)}{value}, "
                             f"queries={t}, keys={s}, {cache})")
                self.note(h * g * d * dv)
        # a module the pass never called (a vision tower, given token ids) computes what it computes
        # when it is called: its MACs are not known, not 0
        nothing = measured is not None and not any(measured) and (call.output is not None or unit.params == 0)
        # never called, but its weights are: another module holding them did their products (BART's
        # shared embedding, which its encoder's and decoder's embed_tokens read)
        weights = [id(p) for p in m.parameters()]
        nothing = nothing or (measured is not None and not call.times and bool(weights) and
                              all(w in self.called for w in weights))
        known = unit.own or nothing or (self.macs and measured is not None and attention is not None and
                                        _checks(macs, measured, self.symbols, self.lengths))
        for key, formula in (("params", unit.params), ("non_trainable", unit.non_trainable),
                             ("buffers", unit.buffers)):
            if formula != 0:
                lines.append(f"{key} = {_fmt(formula)}")
                self.note(formula)
        unrouted = 0 if unit.own else _unrouted(m, self.shapes)     # (a container's own tensors: no experts)
        if unrouted is None:
            lines.append("active = not_known")
        elif unrouted != 0:       # a mixture of experts: what one position uses
            active = sp.expand(unit.params - unrouted)
            lines.append(f"active = {_fmt(active)}")
            self.note(active)
        if known and not nothing and macs != 0:
            lines.append(f"macs = {_fmt(macs)}")
            self.note(macs)
        elif not known:
            lines.append("macs = not_known")
        # every attention of one call (a decoder layer's self- and cross-attention); a module called
        # more than once recorded each call's, and states its first as before
        lines += (facts if call.times == 1 else facts[:1]) + ["saved = not_known"]
        args = sorted({n for line in lines + [output] for n in _symbols_in(line, self.symbols)})
        self.used.update(args)
        name = _snake(type(m).__name__) + ("_tensors" if unit.own else "")
        body = "\n    ".join(lines)
        head = f"({', '.join(args)}){pattern} -> {output}:"
        name = self.named(name, head, body)
        return _Line(unit, f"{name}({', '.join(args)}{', ' if args else ''}name=?)", f"layer {name}{head}\n    {body}",
                     call.reads_input, feeds)

    def glue(self, running: tuple, dims: tuple, unit, known: bool, after: bool = False) -> _Line:
        """A line for what forward() does between two modules of a chain (Whisper's transpose after
        its convolutions): from the chain's tensor (`running`) to the next module's measured input
        (`dims`, no batch axis), whose last axis may be that module's input width (`after`: from the
        chain's last module, `unit`, to what the pass returns, the width that module gave); its MACs
        0 where the pass counted none outside the modules, else not known."""
        sequence = self.sequence and self.tokens in running
        names = ["t" if sequence and v == self.tokens else f"a{k + 1}" for k, v in enumerate(running)]
        # the chain's positions where its tensor has none (Cohere ASR's decoder reads its position
        # table unbatched, (positions, width), whose first axis was taken for the batch's): its
        # length is handed to the line, which else would write the first pass's as a number
        made = self.sequence and not sequence and not after and self.tokens in dims and \
            (self.source is not None or self.entry.text)        # (not an image's patches: no length names them)
        width = self.output_width(unit) if after else self._width(unit)
        example = self.symbolic and self.on_example and self.pinned
        permuted = sorted(running) == sorted(dims)      # (axes moved, none made: a transpose)

        def axis(k, v):
            if (sequence or made) and v == self.tokens:
                return "t"
            if k == len(dims) - 1 and width is not None and _value(width, self.symbols) == v:
                return _fmt(width)
            # on an example whose sizes are its numbers (`pinned`), an axis forward() only moved (GLM-ASR's
            # transpose after its convolutions: hidden_size channels by 50 frames to 50 frames of
            # hidden_size) is the running tensor's axis of that size, by its name, where the next unit's
            # own weights name none: as `size` would write it, the example's number, it would not follow
            # the field that sets it
            moved = [names[j] for j, u in enumerate(running) if u == v]
            if example and permuted and len(moved) == 1 and self.own(v, unit) is None:
                return moved[0]
            return _fmt(self.size(v, unit, dims, axis=None if after else k, given=True))
        axes = [axis(k, v) for k, v in enumerate(dims)]
        self.note(*[sp.sympify(a) for a in axes if a != "t"])
        lines = ([] if known else ["macs = not_known"]) + ["saved = not_known"]
        args = sorted({n for a in axes for n in _symbols_in(a, self.symbols)})
        self.used.update(args)
        given = args + (["target_length" if self.source is not None else "sequence_length"] if made else [])
        head = f"({', '.join(args + (['t'] if made else []))})(x: (*, {', '.join(names)})) -> (*, {', '.join(axes)}):"
        body = "\n    ".join(lines)
        name = self.named("forward_ops", head, body)
        return _Line(Unit("forward_ops", _Nothing()), f"{name}({', '.join(given)}{', ' if given else ''}name=?)",
                     f"layer {name}{head}\n    {body}", False, True, keeps=False)

    def _width(self, unit):
        """The features a Linear or a norm reads on its last axis, as its weight's formula (CLIP's
        text projection, whose in and out widths are equal numbers of different fields)."""
        import torch
        m = unit.module
        if isinstance(m, torch.nn.Linear):
            return self.shapes.of(_stored_weight(m))[1]
        if isinstance(m, (torch.nn.LayerNorm, torch.nn.GroupNorm)) and getattr(m, "weight", None) is not None:
            return self.shapes.of(_stored_weight(m))[-1]
        return None

    def output_width(self, unit):
        """The features an embedding, a Linear or a norm gives on its last axis, as its weight's
        formula: the size of its output's last axis, where two fields share that number."""
        import torch
        m = unit.module
        weight = getattr(m, "weight", None)
        if not isinstance(weight, torch.Tensor) or weight.dim() < 1:
            return None
        if isinstance(m, torch.nn.Embedding):
            return self.shapes.of(weight)[1]
        if isinstance(m, torch.nn.Linear):
            return self.shapes.of(weight)[0]
        if isinstance(m, (torch.nn.LayerNorm, torch.nn.RMSNorm)):
            return self.shapes.of(weight)[-1]
        return None

    def convolutions(self, module, path: str = ""):
        """The products of the convolutions in `module` (at `path`: each weight's numbers at each
        position of its measured output, the positions as formulas); 0 where it has none; None where
        an output size has no formula."""
        import torch
        total = sp.Integer(0)
        for name, m in module.named_modules():
            if isinstance(m, torch.nn.modules.conv._ConvNd):
                seen = self.leaves.get(id(m))
                if not seen or seen[1] is None or seen[2] != 1:
                    return None
                positions = sp.Integer(1)
                for j, v in enumerate(seen[1][2:]):
                    # (an example's feature maps, where they are its numbers: `pinned`)
                    if self.symbolic and self.pinned and self.on_example:
                        # its output's positions as its geometry makes them of its input's, the example's
                        # number: a kernel, padding or stride a field sets moves them (Data2Vec-Audio's
                        # positional convolution, `conv_pos_kernel_size // 2` padded, gives one position
                        # more where the kernel is even), where its output follows the formula with its
                        # fields changed alone (EnCodec's pads its input by its kernel in forward() first)
                        f = _conv_positions(m, j, sp.Integer(seen[0][2 + j])) if seen[0] is not None else None
                        at = SimpleNamespace(path=".".join(p for p in (path, name) if p))
                        if f is None or _value(f, self.symbols) != v or self.confirmed(v, at, 1 + j, {f}) != f:
                            f = sp.Integer(v)
                        self.numbered.add(seen[0][2 + j] if not f.is_number else v)
                    else:
                        f = _lookup(v, module, self.candidates) if self.symbolic else sp.Integer(v)
                    if f is None:
                        return None
                    positions *= f
                total += sp.Mul(*self.shapes.of(_stored_weight(m))) * positions
        return total

    @property
    def on_example(self) -> bool:
        """Are the lines now written on the chain of an example of fixed shape (an image's, a
        waveform's), whose sizes may be the example's own numbers?"""
        return self.entry is not None and not self.entry.text

    @property
    def sequence(self) -> bool:
        """Do the lines now written run over a sequence whose length the passes varied (token ids;
        an encoder-decoder's decoder, whatever its encoder reads)?"""
        return self.entry.text or (self.source is not None or self.fixed) and self.tokens is not None

    def length(self, linear):
        """The positions a projection reads: the encoder's in a decoder's cross-attention."""
        seen = self.leaves.get(id(linear))
        return SOURCE if self.source and seen and seen[0] and len(seen[0]) == 3 and seen[0][1] == self.source \
            else SEQUENCE

    def named(self, name: str, head: str, body: str) -> str:
        """The declared layer's name: one per distinct declaration, never a catalog layer's."""
        key = (name, head, body)
        if key not in self.declared:
            taken = set(self.declared.values())
            base, k = name, 2
            while name in taken or _catalog_has(name):
                name, k = f"{base}_{k}", k + 1
            self.declared[key] = name
        return self.declared[key]


def _conv_positions(conv, axis: int, given):
    """The positions a convolution gives on its spatial `axis` from `given` (a formula), as PyTorch
    computes them from its kernel, stride, padding and dilation (each a formula where a field sets
    it); None where its padding is a word ("same") or it is transposed."""
    if getattr(conv, "transposed", False) or isinstance(conv.padding, str):
        return None
    kernel, stride, padding, dilation = (formula_of(getattr(conv, k)[axis])
                                         for k in ("kernel_size", "stride", "padding", "dilation"))
    return sp.floor((given + 2 * padding - dilation * (kernel - 1) - 1) / stride) + 1


def _stored_weight(module):
    """The tensor holding a module's weight: under a parametrization (wav2vec2's weight norm), which
    makes `weight` afresh at each read with no formula of its own, the stored one of its shape."""
    import torch
    if not torch.nn.utils.parametrize.is_parametrized(module, "weight"):
        return module.weight
    shape = module.weight.shape
    # (the last: weight norm's direction, original1, after its magnitude, which has the weight's
    # shape too where the weight is one number per output)
    stored = [t for t in module.parametrizations.weight.parameters() if t.shape == shape]
    return stored[-1] if stored else module.weight


def _symbols_in(text, symbols):
    return [n for n in re.findall(r"[A-Za-z_][A-Za-z0-9_]*", text) if n in symbols]


def _catalog_has(name: str) -> bool:
    from ..catalog import lookup
    return lookup(name) is not None


# ------------------------------------------------------------------------------ a plain module's tree

class _TreeWriter(_Writer):
    """A plain module's units, each a declared layer whose output shape is written out as the measured
    pass gave it (a formula of the symbols where exactly one has the value, else the number), with its
    params and buffers formulas, and MACs where its Linears' and convolutions' products, written as
    formulas, equal the measured ones (else `macs = not_known`)."""

    def __init__(self, shapes, symbols: dict, symbolic: bool, leaves: dict, catalog=None):
        super().__init__(shapes, symbols, symbolic)
        self.leaves = leaves
        self.tokens = None
        self.catalog_call = catalog       # (module, [(input dims as text, ints)]) -> a catalog call, or None
        self.texts, self.args = {}, {}

    def dim(self, value: int, unit=None) -> sp.Expr:
        if value <= 1 or not self.symbolic:
            return sp.Integer(value)
        if unit is not None:
            own = {d for p in unit.module.parameters() for d in self.shapes.of(p)
                   if not d.is_number and _value(d, self.symbols) == value}
            if len(own) == 1:
                return next(iter(own))
        found = _lookup(value, unit.module if unit is not None else _Nothing(), self.symbols)
        return found if found is not None else sp.Integer(value)

    def shape(self, dims, unit=None, note=True) -> str:
        formulas = [self.dim(int(v), unit) for v in dims]
        if note:
            self.note(*formulas)
        return f"({', '.join(_fmt(f) for f in formulas)})"

    def attention_macs(self, unit, call) -> sp.Expr:
        """The products of each attention the pass recorded in the unit, as facts.Attention counts them."""
        total = sp.Integer(0)
        for heads, kv_heads, queries, keys, key_dim, value_dim in call.attentions:
            h, g, t, s, d, dv = (self.dim(int(v), unit) for v in (heads, kv_heads, queries, keys, key_dim, value_dim))
            total += Attention(h, g, d, dv, t, s).score_macs
        return total

    def catalog_line(self, unit, call, measured) -> str | None:
        """The catalog's layer for a module of a class it has, where that layer, applied to the measured
        input, counts what the module holds and gives its output shape and measured MACs."""
        from ..errors import SymparamsError
        from ..interpreter import parse
        if self.catalog_call is None or unit.own or call.times != 1 or not all(call.batched) or \
                not call.inputs or not call.output or list(unit.module.children()):
            return None
        dims = self.shape(call.inputs[1:], unit, note=False)
        try:
            text = self.catalog_call(unit.module, [(tuple(int(v) for v in call.inputs[1:]), call.ints)])
        except Exception:
            return None
        if not text or not text.endswith(")"):
            return None
        header = ", ".join(f"{k} = {v}" for k, v in self.symbols.items())
        source = f"convention torch\n\nmodel probe({header}):\n    x = input {dims}{' int' if call.ints else ''}\n" \
                 f"    y = {text}(x)\n"
        try:
            model = parse(source, "probe.sp")
            ev = model.evaluate({})
            counts = (ev.params, ev.trainable, ev.buffers, tuple(ev.shape(model.output_shape)))
            macs = ev.macs
        except (SymparamsError, Exception):
            return None
        trainable = unit.params - unit.non_trainable
        want = (_value(unit.params, self.symbols), _value(trainable, self.symbols), _value(unit.buffers, self.symbols),
                tuple(call.output[1:]))
        if counts != want or macs != (measured[0] if measured else 0):
            return None
        self.note(*[sp.sympify(n) for n in _symbols_in(text, self.symbols)])
        return text

    def leaf_macs(self, unit) -> sp.Expr | None:
        import torch
        total = sp.Integer(0)
        for m in unit.module.modules():
            seen = self.leaves.get(id(m))
            if seen is None or not seen[2]:
                continue
            inp, out, times = seen
            if inp is None:
                return None
            if isinstance(m, torch.nn.Linear):
                positions = inp[1:-1]
            elif getattr(m, "transposed", False):
                positions = inp[2:]
            else:
                positions = out[2:]
            total += times * sp.Mul(*[self.dim(int(v), unit) for v in positions]) * sp.Mul(*self.shapes.of(_stored_weight(m)))
        return total

    def line(self, unit, call, measured, feeds) -> _Line:
        called = call.times > 0
        text = self.catalog_line(unit, call, measured) if called else None
        if text is not None:
            return _Line(unit, f"{text[:-1]}{'' if text.endswith('()') else ', '}name=?)", None, call.reads_input, feeds)
        output = self.shape(_dims(call.output, call.batched[1]), unit) if called and call.output else "(*s)"
        lines = []
        for key, formula in (("params", unit.params), ("non_trainable", unit.non_trainable),
                             ("buffers", unit.buffers)):
            if formula != 0:
                lines.append(f"{key} = {_fmt(formula)}")
                self.note(formula)
        has_leaves = any(id(m) in self.leaves for m in unit.module.modules())
        if not unit.own:
            value = measured[0] if measured else None
            if not called:
                if has_leaves:
                    lines.append("macs = not_known")
            elif value:
                formula = self.leaf_macs(unit) if self.macs else None
                if formula is not None and call.attentions:
                    formula += self.attention_macs(unit, call)
                if formula is not None and _value(formula, self.symbols) == value:
                    lines.append(f"macs = {_fmt(formula)}")
                    self.note(formula)
                else:
                    lines.append("macs = not_known")
        lines.append("saved = not_known")
        kind = _snake(type(unit.module).__name__)
        name = self.declare(kind if not _catalog_has(kind) else f"torch_{kind}", output, lines)
        args = self.args[name]
        return _Line(unit, f"{name}({', '.join(args)}{', ' if args else ''}name=?)", self.texts[name],
                     call.reads_input, feeds)

    def glue(self, dims, known: bool) -> str:
        """A layer for what forward() does between modules (a mean, a reshape, an add): it gives the
        next module's input shape; its MACs 0 where the pass counted none outside the modules."""
        output = self.shape(dims)
        name = self.declare("forward_ops", output, ([] if known else ["macs = not_known"]) + ["saved = not_known"])
        args = self.args[name]
        return f"{name}({', '.join(args)})"

    def declare(self, name: str, output: str, lines: list) -> str:
        args = sorted({n for line in lines + [output] for n in _symbols_in(line, self.symbols)})
        self.used.update(args)
        head = f"({', '.join(args)})(x: (*s)) -> {output}:"
        body = "\n    ".join(lines)
        name = self.named(name, head, body)
        self.texts[name] = f"layer {name}{head}\n    {body}"
        self.args[name] = args
        return name


def _dims(shape, batched=True) -> tuple:
    """A measured shape without its batch axis (where it has one)."""
    return tuple(shape[1:]) if batched else tuple(shape)


class _Nothing:
    def modules(self):
        return iter(())


@dataclass
class Tree:
    """What `program` read from the module: its units and the measured pass."""
    units: list
    run: Measured
    device: str
    module: object = None        # on the CPU: the module run there, and its units
    twins: list | None = None


def read(module, shapes, inputs: dict, twin=None, also=()) -> Tree:
    """The module's units and its measured forward pass, each call's shapes told with or without the
    batch axis by a second pass with a batch of 2."""
    import torch
    tree = _read(module, shapes, inputs, twin, also)
    model = tree.module if tree.device == "cpu" else module
    units = tree.twins if tree.device == "cpu" else tree.units
    two = {k: torch.zeros((2, *v.shape[1:]), dtype=v.dtype, device=tree.device) for k, v in inputs.items()}
    try:
        again = measure(model, units, two, tree.device, keywords=False)
    except ImportProblem:
        return tree
    for i, call in tree.run.calls.items():
        other = again.calls.get(i)
        if other is not None and other.inputs and call.inputs:
            call.batched = (other.inputs[0] == 2 and call.inputs[0] == 1,
                            bool(other.output) and bool(call.output) and other.output[0] == 2 and call.output[0] == 1)
    return tree


def _read(module, shapes, inputs: dict, twin=None, also=()) -> Tree:
    """The module's units and one measured forward pass on `inputs` (name -> tensor on meta): on the
    meta device, else on `twin()` (the module built again on the CPU, where the forward needs values:
    a branch on a tensor's value) with the inputs there."""
    units = _units(module, shapes, also)
    try:
        return Tree(units, measure(module, units, inputs, "meta", keywords=False), "meta")
    except ImportProblem as e:
        if twin is None:
            raise
        failed = e
    import torch
    try:
        other = twin()
    except Exception:
        raise failed from None
    modules = dict(other.named_modules())
    twins = [Unit(u.path, modules[u.path], own=u.own) for u in units]
    on_cpu = {k: torch.zeros(v.shape, dtype=v.dtype) for k, v in inputs.items()}
    run = measure(other.eval(), twins, on_cpu, "cpu", keywords=False)
    ours = dict(module.named_modules())
    ids = {id(m): id(ours[path]) for path, m in modules.items() if path in ours}
    run.leaves = {ids[k]: v for k, v in run.leaves.items() if k in ids}
    return Tree(units, run, "cpu", other, twins)


def program(tree: Tree, symbols: dict, shapes, *, name: str, header: list, inputs: list, symbolic: bool = True,
            macs: bool = True, count=None, catalog=None) -> str:
    """The program of a plain module from its tree: `inputs` are (name, shape without the batch,
    callable(used symbols) -> its axes as written, int?) in forward()'s order; `symbols` the
    constructor's sizes (name -> value); `count(paths, n)` writes a run of n identical units' count
    (a formula of the symbols), else n. Each unit is a line in the order forward() first called it,
    reading the tensor before it; where forward() changed the shape between modules (a mean, a
    flatten, an add to a table's row), a `forward_ops` line gives the next module's input shape, and
    one gives the output's."""
    units, run = tree.units, tree.run
    carry = "h" if any(n == "x" for n, *_ in inputs) else "x"
    w = _TreeWriter(shapes, dict(symbols), symbolic, run.leaves, catalog)
    w.macs = macs
    calls, order, measured = run.calls, run.order, run.macs
    rest = run.total - sum(measured[i] for i in calls)
    shapes_in = {input_name: (1, *shape) for input_name, shape, _, _ in inputs}
    items = []                 # [kind, call text, declared text, unit path(s), tensor read, count], in order
    current, running = inputs[0][0], shapes_in[inputs[0][0]]
    listed = list(order) + [i for i in range(len(units)) if i not in calls and not units[i].own] + \
        [i for i, u in enumerate(units) if u.own]
    for i in listed:
        unit, call = units[i], calls.get(i, Call())
        reads = current
        if call.times and call.reads_input:
            named = [n for n, s in shapes_in.items() if s == call.inputs]
            if named and (running != call.inputs or current == inputs[0][0]):
                reads = named[0]
        source_shape = shapes_in.get(reads, running) if reads != current else running
        if call.times and call.inputs and tuple(call.inputs) != tuple(source_shape):
            items.append(["glue", w.glue(_dims(call.inputs, call.batched[0]), rest == 0), None, None, reads, 1])
            reads = None
        line = w.line(unit, call, [measured.get(i, 0)] if call.times else None, True)
        items.append(["unit", line.text, line.declared, unit.path, reads, 1])
        current = carry
        if call.times and call.output:
            running = call.output
    if run.output is not None and tuple(run.output) != tuple(running) or (rest and not any(
            it[0] == "glue" for it in items)):
        items.append(["glue", w.glue((run.output or running)[1:], rest == 0), None, None, None, 1])
    merged = []
    for item in items:           # a run of identical units is one repeat
        last = merged[-1] if merged else None
        if last and item[0] == "unit" and last[0] == "unit" and last[1] == item[1] and item[4] in (None, carry) and \
                _line_name(last[3][0] if isinstance(last[3], list) else last[3]) == _line_name(item[3]):
            last[5] += 1
            last[3] = (last[3] if isinstance(last[3], list) else [last[3]]) + [item[3]]
        else:
            merged.append(list(item))
    body, taken = [], []
    for kind, text, _, path, reads, n in merged:
        paths = path if isinstance(path, list) else [path]
        target = reads or carry
        if kind == "glue":
            body.append(f"{carry} = {text}({target})")
            continue
        line_name = _unique(_line_name(paths[0]), [(t, None) for t in taken])
        taken.append(line_name)
        call = text.replace("name=?", f"name={line_name}")
        if n > 1:
            written = count(paths, n) if count else str(n)
            w.used.update(_symbols_in(written, w.symbols))
            call = f"repeat({written}, {call})"
        body.append(f"{carry} = {call}({target})")
    written_inputs = [(input_name, axes(w.used), ints) for input_name, _, axes, ints in inputs]
    used = {n for n in w.symbols if n in w.used}
    for _, axes, _ in written_inputs:
        used |= {n for a in axes for n in _symbols_in(a, w.symbols)}
    names = [n for n in w.symbols if n in used]
    out = [*header, "convention torch", ""]
    for text in dict.fromkeys(w.texts.values()):
        out += [text, ""]
    out.append(f"model {name}({', '.join(f'{n} = {w.symbols[n]}' for n in names)}):")
    wheres = [f"{_fmt(sp.Mod(a, b, evaluate=False))} == 0" for a, b in Field.divisions
              if _of_fields(a, b) and {str(x) for x in (a / b).free_symbols} <= set(names)]
    if wheres and symbolic:
        out.append("    where " + ", ".join(dict.fromkeys(wheres)))
    for input_name, axes, ints in written_inputs:
        out.append(f"    {input_name} = input ({', '.join(axes)}){' int' if ints else ''}")
    out += [f"    {line}" for line in body]
    return "\n".join(out) + "\n"


def checked(text: str, module, output: tuple | None, where: str = "imported.sp"):
    """Refuse a program whose counts at its defaults are not the module's, or whose output shape is not
    the measured one (never a partial model); its evaluation otherwise."""
    from ..errors import SymparamsError
    from ..interpreter import parse
    try:
        ev = parse(text, where).evaluate({})
    except SymparamsError as e:
        raise ImportProblem(f"the program written from the module tree of {type(module).__name__} does not read back "
                            f"({e.message.splitlines()[0][:200]})",
                            hint="this is symparams' mistake: please report it with the module") from None
    for what, want, have in zip(("parameters", "trainable parameters", "buffer numbers"), _counts(module),
                                (ev.params, ev.trainable, ev.buffers)):
        if want != have:
            raise ImportProblem(f"the module tree counts {have:,} {what} where PyTorch builds {want:,}: a part of "
                                f"{type(module).__name__} is not reached",
                                hint="symparams writes a model whole or not at all: please report the module")
    if output is not None and tuple(ev.shape(parse(text, where).output_shape)) != tuple(output[1:]):
        raise ImportProblem(f"the module tree gives an output of {ev.shape(parse(text, where).output_shape)} where "
                            f"{type(module).__name__} gives {tuple(output[1:])}",
                            hint="this is symparams' mistake: please report it with the module")
    return ev


def compare(text: str, values: dict, module, output: tuple | None, macs: int | None) -> tuple:
    """At another setting `values` of the program's symbols, with `module` built there and its pass's
    output shape and MACs: why its counts or shape differ (else None), and why its MACs do (else None)."""
    from ..errors import SymparamsError
    from ..interpreter import parse
    at = ", ".join(f"{k}={v}" for k, v in values.items())
    model = parse(text, "imported.sp")
    try:
        ev = model.evaluate(values)
        got = (ev.params, ev.trainable, ev.buffers)
    except SymparamsError as e:
        return f"at {at} the program refuses: {e.message.splitlines()[0][:120]}", None
    for what, want, have in zip(("parameters", "trainable parameters", "buffer numbers"), _counts(module), got):
        if want != have:
            return f"at {at} PyTorch builds {want:,} {what}, the formulas say {have:,}", None
    if output is not None and tuple(ev.shape(model.output_shape)) != tuple(output[1:]):
        return f"at {at} the module gives an output of {tuple(output[1:])}, the formulas say " \
               f"{ev.shape(model.output_shape)}", None
    if macs is None:
        return None, None
    try:
        stated = ev.macs
    except SymparamsError:
        return None, None
    if stated != macs:
        return None, f"at {at} the forward pass makes {macs:,} MACs, the formulas say {stated:,}"
    return None, None
