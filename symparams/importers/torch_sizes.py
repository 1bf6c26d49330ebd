"""Which quantity each number of an imported PyTorch module is: the sizes written into its program.

The module's constructor (a class's `__init__`, or a function) names its sizes: each keyword
parameter with an int default is passed as a `Size` whose formula is its symbol, so a layer's
`out_features` says `4*d`, exactly. What PyTorch turns into plain ints — a tensor's shape, the
length of an `nn.ModuleList`, the inputs' sizes — is matched to a parameter of equal value, and
where that could be chance (L = h = 12), the module is built again with the candidate one larger
to see whether the number moves with it. `--symbol NAME=VALUE` naming no parameter keeps its
older meaning: every plain size equal to VALUE is NAME.
"""
from __future__ import annotations

import inspect
import re

from ..dims import symbol
from ..errors import SymparamsError
from ..sized import Size, language


class ImportProblem(SymparamsError):
    kind = "import error"


def size_parameters(make) -> dict:
    """NAME -> default of the constructor's keyword parameters with an int default (bools are flags)."""
    try:
        signature = inspect.signature(make)
    except (TypeError, ValueError):       # a builtin or C-level callable: nothing to read
        return {}
    kinds = (inspect.Parameter.POSITIONAL_OR_KEYWORD, inspect.Parameter.KEYWORD_ONLY)
    return {name: p.default for name, p in signature.parameters.items()
            if p.kind in kinds and type(p.default) is int}


class Constructor:
    """A module's maker with its size parameters: built once with Sizes, again with one changed."""

    def __init__(self, make, values: dict):
        self.make, self.values = make, values

    def build(self):
        return self._call({name: Size(value, symbol(name)) for name, value in self.values.items()})

    def rebuilt(self, name: str, value: int):
        """The module with parameter `name` at `value`, the others as built (plain ints)."""
        return self._call({**self.values, name: value})

    def _call(self, kwargs):
        import torch
        with torch.device("meta"):
            return self.make(**kwargs)


class Sizes:
    """Numbers as the program writes them: a Size as its formula, a plain int as the parameter it
    is found to be (or a --symbol's name, or itself)."""

    def __init__(self, symbols: dict, constructor: Constructor | None = None):
        self.parameters = dict(constructor.values) if constructor else {}
        self.legacy = {name: value for name, value in symbols.items() if name not in self.parameters}
        for name in self.legacy:
            if not re.fullmatch(r"[A-Za-z_]\w*", name):
                raise ImportProblem(f"--symbol {name}: a symbol's name is a word (letters, digits, _)")
        self.symbols = {**self.parameters, **self.legacy}      # the header's order: signature, then --symbol
        self.constructor, self.used = constructor, set()
        self.positions = set()        # the symbols that count a position table's rows
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

    def found(self, value: int, moves, what: str) -> str:
        """A plain int some parameter may have made: the parameters of that value whose change to
        value + 1 `moves(rebuilt module)` (a rebuild that raises does not); itself if none does."""
        if isinstance(value, Size):
            return self(value)
        hits = [name for name in self.candidates(value) if self.moves(name, value, moves)]
        if len(hits) > 1:
            raise ImportProblem(f"{what} is {value}, and changing any of {', '.join(hits)} changes it",
                                hint=f"give one of them another value: --symbol {hits[0]}={value + 1}")
        if hits:
            self.used.add(hits[0])
            return hits[0]
        return self._legacy(value)

    def candidates(self, value: int) -> list:
        return [name for name, v in self.parameters.items() if v == value] if self.constructor else []

    def moves(self, name: str, value: int, moves) -> bool:
        try:
            return bool(moves(self.constructor.rebuilt(name, value + 1)))
        except Exception:       # sizes the module refuses (768 heads of 13): not this parameter
            return False

    def position(self, text: str) -> str:
        """A position table's length, remembered: an input of that length is most likely it."""
        if text in self.symbols:
            self.positions.add(text)
        return text

    def inputs(self, shapes, runs) -> list:
        """Each input's sizes as written, once the layers are: an axis is a parameter of its value where
        the module built with that parameter one larger `runs(module, shapes)` on the input with that
        axis one larger — one no layer uses (it is there for the input) before one counting positions
        (the input's length), before the literal number; a --symbol of that value as ever."""
        in_layers, taken, written = set(self.used), set(), []
        for i, shape in enumerate(shapes):
            axes = []
            for axis, value in enumerate(shape):
                grown = [list(s) for s in shapes]
                grown[i][axis] += 1
                fits = [n for n in self.candidates(value) if self.moves(n, value, lambda m: runs(m, grown))]
                name = self._first([n for n in fits if n not in in_layers], taken) or \
                    self._first([n for n in fits if n in self.positions], taken)
                if name:
                    taken.add(name)
                    self.used.add(name)
                axes.append(name or self._legacy(value))
            written.append(axes)
        return written

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
