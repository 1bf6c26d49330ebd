"""The layer catalog's machinery: how a formula sheet entry declares its arguments.

A catalog entry is a plain function from input shapes and arguments to an `Out`:

    @layer("Dense", "Linear")
    def dense(x, units: Dim, use_bias: Bool = True, activation: Activation = None, *, c):
        ...

The first name is the Keras class, the second the PyTorch class; both spellings (and any
aliases) are accepted in the language, case and underscores ignored. Annotations say how a
user's argument is checked and converted; `c` is the Convention. The other framework's spellings
of a call (keyword aliases, PyTorch's positional orders, keywords that change nothing) are data in
conventions.py, which `LayerSpec.bind` reads.
"""
from __future__ import annotations

import inspect
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Callable

import sympy as sp

from ..conventions import (BATCH_FIRST_HINT, IGNORED_KEYWORDS, IGNORED_POSITIONAL, IGNORED_SUFFIXES,
                           KEYWORD_ALIASES, REFUSED, TORCH_POSITIONAL)
from ..errors import ArgumentError, SymparamsError, UnknownName, did_you_mean
from ..values import LayerInstance, Tensor, Word
from . import activations
from .facts import REPLICATED, Parallel


@dataclass
class Out:
    """What one application of a layer produces, per example (the batch axis left out)."""
    shape: tuple
    params: sp.Expr = sp.Integer(0)         # every weight, trainable or not ("Param #")
    non_trainable: sp.Expr = sp.Integer(0)  # the part of params that training leaves alone
    buffers: sp.Expr = sp.Integer(0)        # PyTorch buffers: state that is not a parameter
    macs: sp.Expr = sp.Integer(0)           # multiply-accumulates for one example
    macs_not_known: str | None = None       # why the MACs are not known (a declared `macs = not_known`)
    # Validity conditions the formulas hold under, as (sympy relation, message) pairs: decided
    # ones are refused at once by the caller, the rest recorded on the model and checked at
    # every evaluation ("needs d % h == 0").
    conditions: list = field(default_factory=list)
    # The layer's facts for the quantities read off the graph (catalog/facts.py):
    attention: tuple = ()                   # the attentions it computes (facts.Attention)
    saved: tuple | None = None              # what it keeps for backward (facts.Saved); None: not stated
    parallel: Parallel = REPLICATED         # how tensor parallelism splits it
    active: sp.Expr | None = None           # parameters one example uses, where fewer than params (experts)
    active_not_known: str | None = None     # why they are not known (a declared `active = not_known`)
    linears: tuple = ()                     # the linear layers inside a composite layer (facts.Linear)


# ---------------------------------------------------------------- argument kinds

class Kind:
    """How one argument is checked and converted. `describe` reads as 'must be ...'."""
    describe = "a value"

    def convert(self, value, where: str):
        return value

    def reject(self, value, where: str):
        if isinstance(value, Word) and not value.quoted:
            raise UnknownName(f"'{value.name}' is not a symbol, tensor or layer here ({where} must be {self.describe})",
                              value.pos, did_you_mean(value.name, value.candidates), code="not_a_symbol",
                              subject=value.name)
        raise ArgumentError(f"{where} must be {self.describe}, found {show(value)}")


def show(value) -> str:
    if isinstance(value, Word):
        return f"'{value.name}'"
    if isinstance(value, Tensor):
        return "a tensor"
    if isinstance(value, LayerInstance):
        return f"a {value.spec.name} layer"
    if isinstance(value, tuple):
        return "(" + ", ".join(show(v) for v in value) + ")"
    return str(value)


def _is_dim(value) -> bool:
    return isinstance(value, sp.Expr) and not isinstance(value, sp.Float) and value.is_integer is not False \
        and not (value.is_number and value.is_nonpositive)


class _Dim(Kind):
    describe = "a positive whole-number size"

    def convert(self, value, where):
        if isinstance(value, bool) or not _is_dim(value):
            self.reject(value, where)
        return value


class _PerAxis(Kind):
    """One value for every axis, or a tuple with one per axis, each checked as `item` checks it."""

    def __init__(self, item: Kind, describe: str):
        self.item, self.describe = item, describe

    def convert(self, value, where):
        items = value if isinstance(value, tuple) else (value,)
        return tuple(self.item.convert(v, where) for v in items)


class _Amounts(Kind):
    """Padding or cropping per side: like Dims, but 0 is allowed."""
    describe = "a whole number >= 0 or a tuple of them"

    def convert(self, value, where):
        items = value if isinstance(value, tuple) else (value,)
        for v in items:
            if isinstance(v, bool) or not (_is_dim(v) or v == 0):
                self.reject(v, where)
        return items


class _Int(Kind):
    describe = "a whole number"

    def convert(self, value, where):
        if isinstance(value, bool) or not (isinstance(value, sp.Integer)):
            self.reject(value, where)
        return int(value)


class _Bool(Kind):
    describe = "true or false"

    def convert(self, value, where):
        if not isinstance(value, bool):
            self.reject(value, where)
        return value


class _Real(Kind):
    describe = "a number"

    def convert(self, value, where):
        if isinstance(value, bool) or not isinstance(value, (float, sp.Number)):
            self.reject(value, where)
        return float(value)


class Choice(Kind):
    def __init__(self, *options: str, also: Kind | None = None):
        self.options = options
        self.also = also
        self.describe = " or ".join(f"'{o}'" for o in options) + (f" or {also.describe}" if also else "")

    def convert(self, value, where):
        if isinstance(value, Word):
            key = value.name.lower()
            if key in self.options:
                return key
            raise ArgumentError(f"{where} must be {self.describe}, found '{value.name}'", value.pos,
                                did_you_mean(value.name, list(self.options) + [c for c in value.candidates if self.also]))
        if self.also is not None:
            return self.also.convert(value, where)
        self.reject(value, where)


class _LayerRef(Kind):
    describe = "a layer"

    def convert(self, value, where):
        if isinstance(value, Word) and not value.quoted and lookup(value.name) is not None:
            spec = lookup(value.name)   # a bare layer name, as on a line of its own: `time_distributed(batchnorm)`
            return LayerInstance(spec, spec.bind([], {}), value.pos, typed_name=value.name)
        if not isinstance(value, LayerInstance):
            self.reject(value, where)
        return value


class _Anything(Kind):
    pass


class _IgnoredNumber(Kind):
    """A positional argument that changes nothing (ReLU's max_value): a number, true or false, or none."""
    describe = "a number"

    def convert(self, value, where):
        if not (is_none(value) or isinstance(value, (bool, float, sp.Number))):
            self.reject(value, where)
        return None


class _Probability(_Real):
    describe = "a number from 0 to 1"

    def convert(self, value, where):
        value = super().convert(value, where)
        if not 0 <= value <= 1:
            raise ArgumentError(f"{where} must be {self.describe}, found {value:g}")
        return value


Dim, Int, Bool, Real, LayerRef, Anything = _Dim(), _Int(), _Bool(), _Real(), _LayerRef(), _Anything()
Probability = _Probability()
Dims = _PerAxis(Dim, "a size or a tuple of sizes")
Ints = _PerAxis(Int, "a whole number or a tuple of them")
Amounts = _Amounts()
Padding = Choice("valid", "same", "causal", also=Amounts)
# What `activation=` accepts: the rows of the one table of activation functions (activations.py).
Activation = Choice(*activations.NAMES)
# Keras's data_format: the layout a layer reads, which must be the convention's.
DataFormat = Choice("channels_last", "channels_first")

# ---------------------------------------------------------------- the catalog

def normalize(name: str) -> str:
    return name.lower().replace("_", "")


@dataclass
class LayerSpec:
    name: str              # the language's canonical spelling, e.g. "conv2d"
    keras_name: str
    torch_name: str
    fn: Callable
    arguments: list        # (name, Kind, default) in positional order
    variadic: bool         # takes any number of input tensors (merges)
    n_inputs: int          # fixed number of input tensors otherwise
    wants_convention: bool
    # PyTorch's constructor order, for calls spelled as the PyTorch class (`Conv2d(3, 16, 3)`):
    # the same layer takes its positional arguments in a different order in each framework
    # (conventions.TORCH_POSITIONAL).
    torch_positional: tuple = ()
    # Constructor arguments of the framework class that change no count or shape: accepted, ignored
    # (conventions.IGNORED_KEYWORDS).
    ignored: frozenset = frozenset()

    @property
    def doc(self) -> str:
        return inspect.getdoc(self.fn) or ""

    def takes_torch_order(self, spelling: str, n_args: int) -> tuple:
        """PyTorch's positional order, when the user wrote the PyTorch class name exactly, with its
        input size first (`Linear(784, 10)`; `Linear(10)` reads like LazyLinear(10)), or its Lazy
        class (`LazyConvTranspose2d(16, 3)`: the same order without the input size); else ().
        A class both frameworks name alike (LSTMCell) reads the same way: two sizes first are PyTorch's
        (input_size, hidden_size), where Keras's second positional argument is a word (activation)."""
        if not self.torch_positional:
            return ()
        if normalize(spelling) == "lazy" + normalize(self.torch_name):
            return self.torch_positional[1:]
        if spelling == self.torch_name and n_args >= 2:
            return self.torch_positional
        return ()

    def bind(self, args: list, kwargs: dict, torch_order: bool | tuple = False,
             positions: dict | None = None) -> dict:
        """Match a call's arguments to the entry's parameters and convert them; `torch_order` is
        takes_torch_order's answer (True: the PyTorch order).

        `positions` maps an argument's index or keyword to where it was written, so that a
        mistake in one argument points at that argument."""
        positions = positions or {}
        config = {}
        positional = list(self.arguments)
        if torch_order:
            known = {a[0]: a for a in self.arguments}
            order = torch_order if isinstance(torch_order, tuple) else self.torch_positional
            positional = [known[n] for n in order]
        # Keras's positional order goes on into keywords that change nothing (ReLU(6.0): max_value)
        ignored = () if torch_order else IGNORED_POSITIONAL.get(self.name, ())
        if len(args) > len(positional) + len(ignored):
            most = len(positional) + len(ignored)
            raise ArgumentError(f"{self.name} takes at most {most} arguments besides its inputs, "
                                f"found {len(args)}", positions.get(most), hint=self.usage())
        for i, value in enumerate(args[len(positional):], len(positional)):
            _converted(_IgnoredNumber(), value, f"{self.name}'s {ignored[i - len(positional)]}", positions.get(i))
        for i, ((pname, kind, default), value) in enumerate(zip(positional, args)):
            config[pname] = _converted(kind, value, f"{self.name}'s {pname}", positions.get(i), default)
        known = {a[0]: a for a in self.arguments}
        for key, value in kwargs.items():
            if key == "batch_first":
                if value is not True:
                    raise ArgumentError(f"{self.name}: batch_first={_show_default(value)} is not supported",
                                        positions.get(key), hint=BATCH_FIRST_HINT)
                continue
            if key in REFUSED and key not in known:
                if value not in (False, None):
                    raise ArgumentError(f"{self.name}: {key} is not supported", positions.get(key),
                                        hint=REFUSED[key])
                continue
            if key == "data_format" and key not in known:
                layout = _converted(DataFormat, value, f"{self.name}'s data_format", positions.get(key))
                if self.wants_convention:      # checked against the convention when applied
                    config["data_format"] = layout
                continue
            # A layer's own argument name wins over the other framework's alias (conv's kernel_size).
            target = key if key in known else KEYWORD_ALIASES.get(key, key)
            if target is None or key in self.ignored or key.endswith(IGNORED_SUFFIXES):
                continue
            if target not in known:
                raise ArgumentError(f"{self.name} has no argument '{key}'", positions.get(key),
                                    hint=did_you_mean(key, list(known)) or self.usage())
            if target in config:
                raise ArgumentError(f"{self.name}'s {target} is given twice", positions.get(key))
            config[target] = _converted(known[target][1], value, f"{self.name}'s {target}", positions.get(key),
                                        known[target][2])
        for pname, kind, default in self.arguments:
            if pname not in config:
                if default is inspect.Parameter.empty:
                    raise ArgumentError(f"{self.name} needs its '{pname}' argument", hint=self.usage())
                config[pname] = default
        return config

    def accepts(self, key: str) -> bool:
        """Whether `key=` is taken by this entry: its own argument, the other framework's spelling of one,
        or a constructor keyword that changes no count (ignored) or that is refused with its reason."""
        known = {a[0] for a in self.arguments}
        if key in known or key in ("batch_first", "data_format") or key in REFUSED or key in self.ignored \
                or key.endswith(IGNORED_SUFFIXES):
            return True
        return key in KEYWORD_ALIASES and KEYWORD_ALIASES[key] in known | {None}

    def usage(self) -> str:
        parts = [n if d is inspect.Parameter.empty else f"{n}={_show_default(d)}" for n, _, d in self.arguments]
        return f"usage: {self.name}({', '.join(parts)})"

    def apply(self, shapes: list, config: dict, convention) -> Out:
        config = dict(config)
        layout = config.pop("data_format", None)
        if self.wants_convention and layout not in (None, convention.data_format):
            raise ArgumentError(f"{self.name}: data_format={layout} reads the channels "
                                f"{'first' if layout == 'channels_first' else 'last'}, but the {convention.name} "
                                f"convention reads them {'last' if convention.channels_last else 'first'}",
                                hint=f"write `convention {'torch' if layout == 'channels_first' else 'keras'}` "
                                     f"for channels-{'first' if layout == 'channels_first' else 'last'} tensors")
        extra = {"c": convention} if self.wants_convention else {}
        out = self.fn(*shapes, **config, **extra)
        out.conditions = whole_sizes(self.name, self.arguments, config) + list(out.conditions)
        return out


def whole_sizes(layer: str, arguments: list, config: dict) -> list:
    """A size argument sympy cannot prove whole (a head width `d / h`) holds only where it divides,
    and one it cannot prove positive (`h - 12`) only where it is at least 1: the conditions are
    recorded, so that d = 10, h = 3 is refused rather than counted with 10/3 heads' width."""
    conditions = []
    for name, kind, _ in arguments:
        if not (kind is Dim or (isinstance(kind, _PerAxis) and kind.item is Dim)):
            continue
        value = config.get(name)
        for v in value if isinstance(value, tuple) else (value,):
            if isinstance(v, sp.Expr):
                conditions += _size_conditions(layer, name, v)
    return conditions


@lru_cache(maxsize=4096)
def _size_conditions(layer: str, name: str, v: sp.Expr) -> tuple:
    """whole_sizes' conditions on one symbolic size; sympy's assumptions take a while to answer,
    and a long model gives its layers a few sizes alike."""
    conditions = []
    if not v.is_number and v.is_positive is None:
        conditions.append((sp.Ge(v, 1), f"{layer}'s {name} {v} must be at least 1: needs {v} >= 1"))
    if v.is_integer is None:
        top, bottom = sp.fraction(sp.together(v))
        relation = sp.Eq(sp.Mod(top, bottom), 0)
        top_text = f"({top})" if top.is_Add else str(top)
        conditions.append((relation, f"{layer}'s {name} {v} must be a whole number: "
                                     f"needs {top_text} % {bottom} == 0"))
    return tuple(conditions)


def is_none(value) -> bool:
    """`none`, or Python's `None`: a name the language reads as nothing where a layer takes it."""
    return isinstance(value, Word) and not value.quoted and value.name in ("none", "None")


def _converted(kind, value, where: str, pos, default=inspect.Parameter.empty):
    """`value` checked and converted by `kind`. Python's `True` and `False` are true and false; `none`
    (or `None`) is an argument's default None -- what the framework's None means there (maxpool's
    strides: the window) -- and otherwise left to the kind (a Choice with a 'none' of its own, a kind
    that reads None as the framework does: normalization's axis)."""
    if isinstance(value, Word) and not value.quoted and value.name in ("True", "False"):
        value = value.name == "True"
    if is_none(value) and default is None and "none" not in getattr(kind, "options", ()):
        return None
    try:
        return kind.convert(value, where)
    except SymparamsError as e:
        if e.pos is None:
            e.pos = pos
        raise


def _show_default(d):
    if d is None:
        return "none"
    if isinstance(d, bool):
        return str(d).lower()
    return str(d)


CATALOG: dict[str, LayerSpec] = {}


def layer(keras_name: str, torch_name: str | None = None, *aliases: str, name: str | None = None):
    """Register a catalog entry under both frameworks' spellings and any aliases. Its PyTorch
    positional order and the framework keywords it ignores are conventions.py's, under its name."""
    def register(fn):
        sig = inspect.signature(fn)
        arguments, variadic, n_inputs, wants_c = [], False, 0, False
        for p in sig.parameters.values():
            if p.kind is p.VAR_POSITIONAL:
                variadic = True
            elif p.kind is p.KEYWORD_ONLY and p.name == "c":
                wants_c = True
            elif p.annotation is inspect.Parameter.empty:
                n_inputs += 1
            else:
                arguments.append((p.name, p.annotation, p.default))
        canonical = name or fn.__name__
        spec = LayerSpec(canonical, keras_name, torch_name or keras_name, fn, arguments, variadic, n_inputs, wants_c,
                         TORCH_POSITIONAL.get(canonical, ()), frozenset(IGNORED_KEYWORDS.get(canonical, ())))
        assert set(spec.torch_positional) <= {a[0] for a in arguments}, spec.name
        for alias in {spec.name, keras_name, torch_name or keras_name, *aliases}:
            key = normalize(alias)
            if key in CATALOG and CATALOG[key] is not spec:
                raise RuntimeError(f"catalog name clash: {alias}")
            CATALOG[key] = spec
        return fn
    return register


def lookup(name: str) -> LayerSpec | None:
    """The entry a name spells: a formula sheet's, else one the prelude declares in the language."""
    key = normalize(name)
    if key in CATALOG:
        return CATALOG[key]
    from . import prelude
    # the prelude is derived only for one of its own names: a miss (a block's name) costs none of it
    return prelude.entries()[key] if key in prelude.names() else None


def is_layer_name(name: str) -> bool:
    """Whether a name spells a catalog entry (a formula sheet's or the prelude's), deriving none."""
    key = normalize(name)
    if key in CATALOG:
        return True
    from .prelude import names
    return key in names()


def spatial(value: tuple, n: int, what: str = "size") -> tuple:
    """Broadcast a size given once to every spatial axis (kernel 3 → (3, 3))."""
    if not isinstance(value, tuple):
        value = (value,)
    if len(value) == 1:
        return value * n
    if len(value) != n:
        raise ArgumentError(f"expected {n} values for the {what}, found {len(value)}")
    return value
