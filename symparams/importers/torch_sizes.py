"""Which quantity each number of an imported PyTorch module is: the sizes written into its program.

The module's constructor (a class's `__init__`, or a function) names its sizes: each keyword
parameter with an int default is passed as a `Size` whose formula is its symbol, so a layer's
`out_features` says `4*d`, exactly, and a tensor made from them (`torch.zeros(1, (image // patch)
** 2 + 1, dim)`) has its shape recorded as those formulas while the module is built. What PyTorch
turns into plain ints otherwise is found by building the module again with one parameter grown: the
length of an `nn.ModuleList` or a table's rows is the formula of the parameters that move it (`n -
1`; L, not h, where L = h = 12; `n // 2`, fitted over a run of rebuilds and checked far off), an
input's size the parameter of its value that the grown module takes it with. `--symbol NAME=VALUE`
naming no parameter keeps its older meaning: every plain size equal to VALUE is NAME.
"""
from __future__ import annotations

import re

import sympy as sp

from ..dims import symbol
from ..errors import SymparamsError
from ..sized import Size, language
from . import spelled

# The longest period a count's floor is fitted with (`n // k + b`, k up to it): the second rebuild is
# this much larger, so any such count moves between the two, and the fit reads 2 * PERIOD rebuilds.
PERIOD = 6


class ImportProblem(SymparamsError):
    kind = "import error"


class Constructor:
    """A module's maker with its size parameters: built once with Sizes, again with one changed.
    `values` is keyed by each parameter's symbol: its name, or `name_` where the language reads that
    name otherwise (`input`, a catalog layer's name)."""
    device = "meta"         # no memory for weights; a subclass builds on the CPU where forward needs values

    def __init__(self, make, values: dict):
        self.make = make
        self.parameters = {spelled(name): name for name in values}
        self.values = {spelled(name): value for name, value in values.items()}
        self.shapes = None          # the build's record: each weight's shape as the formulas it was made of

    def build(self):
        """The module with its parameters as Sizes, each tensor a factory made of them recorded (as the
        Hugging Face general route records its config's fields): `torch.zeros(1, (image // patch) ** 2
        + 1, dim)` keeps its rows' formula, whatever the arithmetic, where PyTorch keeps only the int."""
        from .module_tree import _Shapes
        self.shapes = _Shapes()
        return self._call({name: Size(value, symbol(name)) for name, value in self.values.items()},
                          self.shapes.watching())

    def rebuilt(self, name: str, value: int):
        """The module with symbol `name` at `value`, the others as built (plain ints)."""
        return self._call({**self.values, name: value})

    def recorded(self, tensor) -> tuple | None:
        """A weight's shape as the formulas the build made it of, or None where no Size made it."""
        return self.shapes.formulas.get(id(tensor)) if self.shapes else None

    def _call(self, kwargs, watching=None):
        import contextlib
        import torch
        with torch.device(self.device), watching or contextlib.nullcontext():
            return self.make(**{self.parameters[name]: value for name, value in kwargs.items()})


class Sizes:
    """Numbers as the program writes them: a Size as its formula, a plain int as the parameter it
    is found to be (or a --symbol's name, or itself)."""

    def __init__(self, symbols: dict, constructor: Constructor | None = None):
        self.parameters = dict(constructor.values) if constructor else {}
        named = set(constructor.parameters.values()) if constructor else set()
        self.legacy = {name: value for name, value in symbols.items() if name not in named}
        for name in self.legacy:
            if not re.fullmatch(r"[A-Za-z_]\w*", name):
                raise ImportProblem(f"--symbol {name}: a symbol's name is a word (letters, digits, _)")
        self.symbols = {**self.parameters, **self.legacy}      # the header's order: signature, then --symbol
        self.constructor, self.used = constructor, set()
        self.positions = set()        # the symbols that count a position table's rows
        self.grown = {}               # (parameter, second) -> (the module rebuilt with it grown, its value), or why not
        self.built = {}               # (parameter, value) -> the module rebuilt with it at that value, or why not
        self.ran = {}                 # (parameter, input shapes) -> whether the module grown in it runs on them
        self.by_value = {value: name for name, value in self.legacy.items()}
        if len(self.by_value) < len(self.legacy):
            raise ImportProblem("two --symbol naming no parameter have one value",
                                hint="one symbol per value: the sizes equal to it become that symbol")

    def __call__(self, value) -> str:
        """A width, depth or count: a --symbol's name where a plain int has its value."""
        return self.exact(value) if isinstance(value, Size) else self._legacy(value)

    def exact(self, value) -> str:
        """A kernel, stride or group count: a plain int is that number."""
        if isinstance(value, Size):
            self.used |= {s.name for s in value.formula.free_symbols}
            return language(value.formula)
        return str(value)

    def _legacy(self, value) -> str:
        if value in self.by_value:
            self.used.add(self.by_value[value])
            return self.by_value[value]
        return str(value)

    def found(self, value: int, measure, what: str) -> str:
        """A plain int the parameters may have made (a container's length, a table's rows): `value`
        plus, for each parameter p whose rebuild (see `_grown`) moves `measure(module)`, its change
        with p — k per unit, as a count of blocks (n - 1) or a table's positions is, checked by a
        second rebuild; else a whole multiple of a floor, `a * ((p + c) // k) + b` (`_floored`); else
        refused, never guessed."""
        formula = self.found_formula(value, measure, what)
        if isinstance(value, Size):
            return self(value)
        if formula.is_number:
            return self._legacy(value)
        return self.exact(Size(value, formula))

    def axis(self, tensor, i: int, measure, what: str) -> sp.Expr:
        """Axis i of a parameter or buffer of the module: the formula its constructor computed it from,
        as the build recorded it (exact, whatever the arithmetic), else `found_formula`'s."""
        recorded = self.constructor.recorded(tensor) if self.constructor else None
        if recorded is not None and recorded[i].free_symbols:
            self.used |= {s.name for s in recorded[i].free_symbols}
            return recorded[i]
        return self.found_formula(int(tensor.shape[i]), measure, what)

    def found_formula(self, value: int, measure, what: str) -> sp.Expr:
        """`found`'s formula (sympy), its symbols marked used; a plain int no parameter moves is itself,
        or the --symbol of its value."""
        if isinstance(value, Size):
            self.used |= {s.name for s in value.formula.free_symbols}
            return value.formula
        formula = sp.Integer(value)
        for name, default in self.parameters.items():
            try:
                module, grown = self._grown(name)
                step = sp.Rational(measure(module) - value, grown - default)
            except Exception:       # not built at other sizes, or no such part there: not this parameter
                continue
            linear = step * (symbol(name) - default)
            try:
                module, again = self._grown(name, second=True)
                seen = measure(module)
            except Exception:
                formula += linear
                continue
            if seen == value + step * (again - default):
                formula += linear
                continue
            floored = self._floored(name, value, measure)
            if floored is None:
                raise ImportProblem(f"{what} is {value} at {name}={default}, {value + step * (grown - default)} at "
                                    f"{grown} and {seen} at {again}: not a formula of the parameters symparams "
                                    "can tell", hint=f"make it a whole multiple of {name} or of {name} // k (k up "
                                    f"to {PERIOD}) plus a number, or write the repeat in the language (docs/blocks.md)")
            formula += floored - value
        if formula.is_number:
            legacy = self._legacy(value)
            return sp.Integer(value) if legacy == str(value) else symbol(legacy)
        self.used |= {s.name for s in formula.free_symbols}
        return formula

    def _floored(self, name: str, value: int, measure):
        """`measure` as `a * floor((p + c)/k) + b` in parameter p = `name`, the others as built, or None.
        Fitted to the rebuilds at p, p + 1, ..., p + 2 * PERIOD: a nonzero a moves it exactly where the
        floor steps, every k-th p, so in that run each k up to PERIOD steps at least twice and the steps
        tell k and c apart — at most one fit. As the run says nothing of a count outside that form
        (`min(n // 2, 8)`, a count of primes), the fit must also hold at a smaller and two far larger
        settings, every one of them PyTorch builds, and it builds at least one."""
        default = self.parameters[name]
        try:
            seen = [value] + [measure(self._at(name, default + j)) for j in range(1, 2 * PERIOD + 1)]
        except Exception:
            return None
        for k in range(2, PERIOD + 1):
            for c in range(k):
                floors = [(default + j + c) // k for j in range(len(seen))]
                j = next(j for j, f in enumerate(floors) if f != floors[0])
                a, rest = divmod(seen[j] - seen[0], floors[j] - floors[0])
                b = seen[0] - a * floors[0]
                if a and not rest and all(s == a * f + b for s, f in zip(seen, floors)):
                    return self._checked(name, measure, lambda p: a * ((p + c) // k) + b,
                                         a * sp.floor((symbol(name) + c) / k) + b)
        return None

    def _checked(self, name: str, measure, fit, formula):
        """`formula` where `fit(p)` is `measure`'s at every setting of `_floored`'s checks PyTorch builds
        (and it builds one), else None."""
        default, checked = self.parameters[name], 0
        for p in (default // 2, 2 * default + 2 * PERIOD + 1, 3 * default + 2 * PERIOD + 2):
            try:
                seen = measure(self._at(name, p)) if p > 0 else None
            except Exception:       # not built there: not a setting this count can be checked at
                seen = None
            if seen is None:
                continue
            if seen != fit(p):
                return None
            checked += 1
        return formula if checked else None

    def _grown(self, name: str, second: bool = False):
        """The module rebuilt with parameter `name` one larger, else twice as large (a width divided by
        heads), and that value — or, `second`, PERIOD larger, else four times; raises as the rebuild did."""
        key = (name, second)
        if key not in self.grown:
            value = self.parameters[name]
            for grown in ((value + PERIOD, 4 * value) if second else (value + 1, 2 * value)):
                try:
                    self.grown[key] = self._at(name, grown), grown
                    break
                except Exception as e:
                    self.grown[key] = e
        if isinstance(self.grown[key], Exception):
            raise self.grown[key]
        return self.grown[key]

    def _at(self, name: str, value: int):
        """The module rebuilt with parameter `name` at `value`, the others as built: once per setting;
        raises as the rebuild did."""
        key = (name, value)
        if key not in self.built:
            try:
                self.built[key] = self.constructor.rebuilt(name, value)
            except Exception as e:
                self.built[key] = e
        if isinstance(self.built[key], Exception):
            raise self.built[key]
        return self.built[key]

    def _runs(self, name: str, runs, shapes) -> bool:
        """Whether the module rebuilt with `name` grown runs on `shapes(its grown value)`; each such forward
        pass once (H and W of one value ask the same)."""
        try:
            module, grown = self._grown(name)
        except Exception:
            return False
        key = (name, repr(shapes(grown)))
        if key not in self.ran:
            try:
                self.ran[key] = bool(runs(module, shapes(grown)))
            except Exception:
                self.ran[key] = False
        return self.ran[key]

    def position(self, text: str) -> str:
        """A position table's length, remembered: an input of that length is most likely it, or an
        input axis of a symbol the length is made of (ViT's H and W in (H//p)*(W//p) + 1)."""
        self.positions |= {name for name in self.symbols if re.search(rf"\b{name}\b", text)}
        return text

    def inputs(self, shapes, runs) -> list:
        """Each input's sizes as written, once the layers are. An axis is a parameter of its value that,
        grown, makes a module that `runs(module, shapes)` on the input with the axis grown alike (else
        with every axis of that value grown: (S, S, 1) flattened into a dense of S*S). Of
        those, first one the module needs the input to follow (it does not run on the old input), then
        one no layer uses (it is there for the input), then one counting positions (the input's
        length); none, and the axis is its number (or a --symbol of that value, as ever)."""
        in_layers, taken, written = set(self.used), set(), []
        for i, shape in enumerate(shapes):
            axes = []
            for axis, value in enumerate(shape):
                name = self._input(shapes, i, axis, in_layers, taken, runs)
                if name:
                    taken.add(name)
                    self.used.add(name)
                axes.append(name or self._legacy(value))
            written.append(axes)
        return written

    def _input(self, shapes, i, axis, in_layers, taken, runs):
        value = shapes[i][axis]
        candidates = [name for name, v in self.parameters.items() if v == value]

        def one(grown):
            return [[grown if (j, a) == (i, axis) else v for a, v in enumerate(s)] for j, s in enumerate(shapes)]

        def every(grown):
            return [[grown if v == value else v for v in s] for s in shapes]

        alone = [n for n in candidates if self._runs(n, runs, one)]
        jointly = [n for n in candidates if n not in alone and self._runs(n, runs, every)]
        for fits in (alone, jointly):
            needed = [n for n in fits if not self._runs(n, runs, lambda grown: shapes)]
            for kind in (needed, [n for n in fits if n not in in_layers], [n for n in fits if n in self.positions]):
                name = self._first(kind, taken)
                if name:
                    return name
        return None

    @staticmethod
    def _first(names: list, taken: set):
        """The first of these not yet an input's axis (H and W of one value), else the first."""
        return next((n for n in names if n not in taken), names[0] if names else None)

    def in_text(self, lines) -> list:
        """The symbols these lines use, in the header's order."""
        text = "\n".join(lines)
        return [name for name in self.symbols if re.search(rf"\b{name}\b", text)]

    def header(self) -> dict:
        """The symbols the program uses, with their values."""
        return {name: value for name, value in self.symbols.items() if name in self.used}
