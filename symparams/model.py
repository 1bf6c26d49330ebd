"""The derived model: rows of sympy expressions, totals, and evaluation at given sizes."""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

import sympy as sp

from . import bounds
from .dims import symbol
from .errors import ArgumentError, Pos, SymparamsError, UnknownName, ValueProblem, did_you_mean
from .printing import canonical
from .values import format_shape


class Row:
    """One line of a summary table: a view of a graph node (symparams/graph.py)."""
    __slots__ = ("node",)

    def __init__(self, node):
        self.node = node

    def __repr__(self):
        return f"<Row {self.name}: {self.type}, params = {self.params}>"

    name = property(lambda self: self.node.name)
    type = property(lambda self: self.node.type)
    pos = property(lambda self: self.node.pos)
    output_shape = property(lambda self: self.node.shape)
    params = property(lambda self: self.node.params)
    non_trainable = property(lambda self: self.node.non_trainable)
    trainable = property(lambda self: self.node.trainable)
    buffers = property(lambda self: self.node.buffers)
    macs = property(lambda self: self.node.macs)
    frozen = property(lambda self: self.node.frozen)
    repeat_count = property(lambda self: self.node.count)

    @property
    def inputs(self) -> list:
        """The names of the nodes (or inputs) whose tensors it reads."""
        return [t.source for t in self.node.inputs]

    @property
    def children(self) -> list:
        return [Row(n) for n in self.node.children]

    @property
    def active(self) -> sp.Expr:
        """Params one example uses: a mixture of experts counts the experts it routes to; any other
        row all of its params (so rows sum to Model.active)."""
        return self.node.active

    @property
    def shares(self) -> str | None:
        """An instance applied again: the row of its first application."""
        return self.node.reapplies.name if self.node.reapplies is not None else None

    @property
    def shared(self) -> bool:
        """Inside an instance applied again: weights counted at the first application."""
        return not self.node.makes_weights and self.node.reapplies is None

    @property
    def tied_to(self) -> str | None:
        return self.node.tied.made_by.name if self.node.tied is not None else None

    @property
    def note(self) -> str:
        """The remark a summary table shows beside the row."""
        if self.shares is not None:
            return f"shares weights with {self.shares}"
        if self.shared:
            return "shared"
        if self.tied_to is not None:
            return f"tied to {self.tied_to}"
        return "frozen" if self.frozen else ""

    def walk(self):
        """This row, then its children's rows (a block's layers), depth first."""
        yield self
        for child in self.children:
            yield from child.walk()


@dataclass
class Constraint:
    relation: sp.Basic      # a sympy relational, or Eq from a shape condition
    text: str
    pos: Pos | None = None


class Model:
    """A network's formulas. Every count and shape is an exact sympy expression in `symbols`."""

    def __init__(self, name, convention, symbols, defaults, graph, constraints, source=None, filename=None,
                 previous: "Model | None" = None):
        self.name = name
        self.convention = convention
        self.symbols: dict[str, sp.Symbol] = symbols
        self.defaults: dict[str, sp.Expr] = defaults
        self.graph = graph
        self.constraints: list[Constraint] = constraints
        self._totals: dict = {}
        # What is known of the first top-level nodes, kept so that a model extending another (the
        # REPL's next line: `previous`, whose nodes begin this one's) counts only its new nodes:
        # per total, how often each term occurs and over how many nodes; the sizes to check, the
        # sizes seen, and over how many nodes.
        self._tallies: dict = dict(previous._tallies) if previous is not None else {}
        self._sizes: list | None = None
        self._sized = ([], set(), 0) if previous is None or previous._sizes is None else \
            (previous._sizes, previous._seen, previous._sized_nodes)
        self._claimed = previous._claimed if previous is not None else (frozenset(), 0)
        self.source = source
        self.filename = filename

    def __repr__(self):
        return f"<Model {self.name}: params = {self.params}>"

    def _repr_latex_(self):  # notebooks: the total count as a formula
        from .formulas import rearrange
        from .printing import latex
        return f"$\\mathrm{{params}} = {latex(rearrange(self.params))}$"

    def _repr_html_(self):  # notebooks: the summary table at the defaults
        from .render import html_table
        return html_table(self, self.evaluate())

    # The Python API's summary and exports: symparams/api.py.
    def summary(self, values: dict | None = None, columns=None, depth: int | None = 0, **sizes):
        """The figures at `values` (default: the defaults); str() of it is the table."""
        from .api import Summary
        return Summary(self, values, columns, depth, **sizes)

    def to_json(self, values: dict | None = None) -> str:
        from .api import to_json
        return to_json(self, values)

    def to_latex(self, values: dict | None = None) -> str:
        from .api import to_latex
        return to_latex(self, values)

    @property
    def rows(self) -> list[Row]:
        """The top-level nodes, as a summary table lists them."""
        return [Row(n) for n in self.graph.nodes]

    @property
    def inputs(self) -> list:
        return self.graph.inputs

    @property
    def outputs(self) -> list:
        return self.graph.outputs

    @property
    def sizes_to_check(self) -> list:
        """(node, axis, size) for the first node holding each distinct output size that is not a
        positive whole number already: what each evaluation checks (a long model repeats a few)."""
        if self._sizes is None:
            sizes, seen, counted = self._sized
            sizes, seen = list(sizes), set(seen)
            for top in self.graph.nodes[counted:]:
                for node in top.walk():
                    for axis, d in enumerate(node.shape):
                        d = sp.sympify(d)
                        if d in seen or (d.is_Integer and d > 0):
                            continue
                        seen.add(d)
                        sizes.append((node, axis, d))
            self._sizes, self._seen, self._sized_nodes = sizes, seen, len(self.graph.nodes)
        return self._sizes

    def symbols_of_params(self, count: int) -> frozenset:
        """The symbols the parameter counts of the first `count` top-level nodes depend on (which
        input sizes their weights fix, the REPL asks of each line's new rows)."""
        claimed, counted = self._claimed
        if count < counted:
            claimed, counted = frozenset(), 0
        more = set()
        for node in self.graph.nodes[counted:count]:
            try:
                more |= sp.sympify(node.params).free_symbols
            except Exception:   # a count not known says nothing (as table.fixed_sizes reads it)
                continue
        if more - claimed:
            claimed = claimed | more
        if count >= self._claimed[1]:
            self._claimed = (claimed, count)
        return claimed

    def _total(self, attr) -> sp.Expr:
        """A total over the graph, in the canonical form every output prints (one form per total):
        dims.total's sum, each distinct term times how often it occurs."""
        if attr not in self._totals:
            occurs, counted = self._tallies.get(attr, (Counter(), 0))
            if counted < len(self.graph.nodes):
                occurs = occurs + Counter(getattr(n, attr) for n in self.graph.nodes[counted:])
                self._tallies[attr] = (occurs, len(self.graph.nodes))
            self._totals[attr] = canonical(sp.Add(*[n * t for t, n in occurs.items()]))
        return self._totals[attr]

    @property
    def params(self) -> sp.Expr:
        return self._total("params")

    @property
    def non_trainable(self) -> sp.Expr:
        return self._total("non_trainable")

    @property
    def trainable(self) -> sp.Expr:
        return self._total("trainable")

    @property
    def buffers(self) -> sp.Expr:
        return self._total("buffers")

    @property
    def macs(self) -> sp.Expr:
        return self._total("macs")

    @property
    def active(self) -> sp.Expr:
        """Parameters one token uses (symparams.accounting: its other quantities take options)."""
        from .accounting import active
        return active(self)

    def quantity(self, name: str, layer: str | None = None, per_batch: bool = False, **options) -> sp.Expr:
        """Any figure of the registry (symparams/quantities/) as a closed form, with its options as
        keywords: `model.quantity("kv_cache", dtype="int8", tp=2)`; `per_batch` for B examples."""
        from .quantities import compute
        return compute(self, name, layer, per_batch, **options)

    @property
    def output_shape(self) -> tuple:
        return self.outputs[0].shape

    def row(self, name: str) -> Row:
        """A row by name: the model's own rows first, then those inside blocks and repeats.

        A path reaches a row inside a block whose name repeats one outside it:
        `gpt_layer_1/layernorm_1` (as `summary --expand` shows the nesting).
        """
        first, *inner = name.split("/")
        found = next((r for r in self.rows if r.name == first), None) or \
            next((i for r in self.rows for i in r.walk() if i.name == first), None)
        for part in inner:
            if found is None:
                break
            parent = found
            found = next((c for c in parent.children if c.name == part), None)
            if found is None:
                raise UnknownName(f"layer {parent.name} has no layer '{part}' inside it",
                                  hint=did_you_mean(part, [c.name for c in parent.children]) or
                                  f"its layers are {', '.join(c.name for c in parent.children) or 'none'}")
        if found is None:
            raise UnknownName(f"model {self.name} has no layer '{first}'",
                              hint=did_you_mean(first, [i.name for r in self.rows for i in r.walk()]))
        return found

    @property
    def batch(self) -> sp.Symbol:
        """The batch size's symbol, for per-batch figures: B, unless the model has a B of its own."""
        return symbol("batch" if "B" in self.symbols else "B")

    def symbol(self, name: str, role: str = "") -> sp.Symbol:
        """One of the model's symbols, or the batch symbol, by name; else an UnknownName with a hint."""
        names = {**self.symbols, self.batch.name: self.batch}
        if name not in names:
            raise self._no_symbol(name, names, role)
        return names[name]

    def _no_symbol(self, name: str, names, role: str = "") -> UnknownName:
        return UnknownName(f"model {self.name} has no symbol '{name}'{role}",
                           hint=did_you_mean(name, names) or f"its symbols are {', '.join(names) or 'none'}")

    # ------------------------------------------------------------ evaluation

    def assignments(self, given: dict | None = None, free=(), related: dict | None = None,
                    batch: int | None = None, whole: bool = False) -> dict:
        """Symbol -> its value, or an expression in the `free` symbols, for every symbol not free:
        `given` ({'d': 512}, --set) first, then `related` (name or symbol -> expression, --relate),
        then its default, then for the batch symbol `batch`; chains resolved (h = d // 64 at the
        given d). With `batch` None the batch symbol is not among the names. A symbol with none of
        these is left out. Unknown names are refused with a hint, relations in a circle too;
        `whole` (Model.values) refuses a value, in the symbols' order, that is not a positive
        whole number. This is how solve, sweep, formula and Model.values read their sizes."""
        names = dict(self.symbols)
        batch_symbol = self.batch
        if batch is not None:
            names[batch_symbol.name] = batch_symbol
        given = dict(given or {})
        related = {str(k): v for k, v in (related or {}).items()}
        for key in [*free, *given]:
            if key not in names:
                raise self._no_symbol(key, names)
        out: dict = {}
        what: dict = {}           # a symbol whose value is a formula -> what an error calls it
        for name, sym in names.items():
            if name in free:
                continue
            if name in given:
                value = given[name]
                out[sym] = sp.sympify(value) if isinstance(value, (int, float)) else value
            elif name in related:
                out[sym], what[sym] = related[name], f"the relation of {name}"
            elif name in self.defaults:
                out[sym], what[sym] = self.defaults[name], f"the default of {name}"
            elif batch is not None and sym == batch_symbol:
                out[sym] = sp.Integer(batch)
        done = set()              # symbols whose value refers to no other assigned symbol
        for _ in range(len(out) + 1):
            changed = False
            for sym, value in out.items():
                if sym in done:
                    continue
                new = bounds.at(value, out, what[sym]) if sym in what else value
                if new != value:
                    out[sym], changed = new, True
                if not (getattr(new, "free_symbols", set()) & out.keys()):
                    done.add(sym)
                    if whole:
                        out[sym] = _whole(sym.name, new)
            if not changed:
                break
        else:
            raise ArgumentError("the relations refer to each other in a circle")
        for sym in [s for s in out if s not in done] if whole else ():
            _whole(sym.name, out[sym])     # a relation to itself (d = d) never settles
        return out

    def values(self, overrides: dict | None = None) -> dict:
        """Symbol -> integer at the defaults, updated by `overrides` ({'H': 512}); unset ones are left out."""
        return self.assignments(overrides, whole=True)

    def evaluate(self, overrides: dict | None = None, since: "Evaluation | None" = None) -> "Evaluation":
        """The numbers at the defaults updated by `overrides`. `since`: the evaluation, at the same
        values, of a model this one extends (the REPL's last line): only what was added is checked."""
        try:
            return Evaluation(self, self.values(overrides), since)
        except SymparamsError as e:
            raise e.attach(self.source, self.filename) if self.source is not None else e


def _whole(name: str, value):
    """`value` if it is a positive whole number (a float one as its integer), else a ValueProblem."""
    value = sp.nsimplify(value) if isinstance(value, sp.Float) else value
    if not (getattr(value, "is_Integer", False) and value > 0):
        raise ValueProblem(f"{name} must be a positive whole number, found {value}")
    return value


class _Described:
    """A check's subject, formatted only when a message needs it: a model's every output size is
    checked at each evaluation, and printing each size cost a cold start ~3 ms (issue 23)."""

    def __init__(self, pattern: str, *args):
        self.pattern, self.args = pattern, args

    def __str__(self):
        return self.pattern.format(*self.args)


def _int_or_none(expr, values, what: str = "a figure"):
    value = bounds.at(expr, values, what)
    if value.is_Integer:
        return int(value)
    if value.is_number:
        return value  # a non-integer number: the caller reports it
    return None


class Evaluation:
    """A model's numbers at one setting of its symbols, checked for sense (positive whole sizes)."""

    def __init__(self, model: Model, values: dict, since: "Evaluation | None" = None):
        self.model = model
        self.values = values
        self._numbers: dict = {}   # expr -> value: a long model's rows repeat a few formulas
        self._dims: dict = {}      # size -> value, for the shapes alike
        if since is not None and since.values == values:
            # shared, not copied: at the same values a formula's number is the same for both
            self._numbers, self._dims = since._numbers, since._dims
            old = since.model
            self.check(len(old.constraints), len(old.inputs), len(old.sizes_to_check))
        else:
            self.check()

    def __repr__(self):
        at = ", ".join(f"{k}={v}" for k, v in self.values.items()) or "no sizes"
        return f"<Evaluation of {self.model.name} at {at}: params = {self.params:,}>" if self.params is not None \
            else f"<Evaluation of {self.model.name} at {at}>"

    def number(self, expr):
        if expr not in self._numbers:
            try:
                self._numbers[expr] = _int_or_none(expr, self.values)
            except ValueProblem as e:
                raise self._blame(e) from None
        return self._numbers[expr]

    def _blame(self, e: ValueProblem) -> ValueProblem:
        """Point an undefined or overlong figure at the first layer whose own count is one."""
        for row in (r for top in self.model.rows for r in top.walk()):
            for what in ("params", "non_trainable", "buffers", "macs"):
                try:
                    bounds.at(getattr(row, what), self.values, f"layer {row.name}: its {what} count")
                except ValueProblem as own:
                    own.pos = row.pos
                    return own.attach(self.model.source, self.model.filename)
        return e.attach(self.model.source, self.model.filename)

    def shape(self, shape) -> tuple:
        return tuple(self._size(d) for d in shape)

    def _size(self, d):
        if d not in self._dims:
            self._dims[d] = _int_or_none(d, self.values)
        return self._dims[d]

    def check(self, constraints: int = 0, inputs: int = 0, sizes: int = 0) -> None:
        """Every constraint, input size and output size, but for the first `constraints`, `inputs`
        and `sizes` (of a model this one extends, checked at these values already)."""
        vals = self.values
        for c in self.model.constraints[constraints:]:
            try:
                verdict = bounds.holds(c.relation, vals, c.text)
            except ValueProblem as e:
                e.pos = c.pos
                raise
            if verdict is sp.false or verdict is False:
                at = ", ".join(f"{k}={v}" for k, v in vals.items() if k in c.relation.free_symbols)
                raise ValueProblem(f"{c.text}, which does not hold at {at}", c.pos)
        for tensor in self.model.inputs[inputs:]:
            for axis, d in enumerate(tensor.shape):
                try:
                    v = _int_or_none(d, vals, f"input {format_shape(tensor.shape)}: its size {d}")
                except ValueProblem as e:
                    e.pos = e.pos or self.model.graph.input_pos.get(id(tensor))
                    raise
                if v is not None and not (isinstance(v, int) and v > 0):
                    raise ValueProblem(f"input {format_shape(tensor.shape)} has size {v} on axis {axis + 1} at "
                                       f"these values; every size must be a whole number >= 1",
                                       self.model.graph.input_pos.get(id(tensor)))
        for node, axis, d in self.model.sizes_to_check[sizes:]:
            try:
                v = _int_or_none(d, vals, _Described("layer {}: size {} of its output", node.name, d))
            except ValueProblem as e:
                e.pos = e.pos or node.pos
                raise
            if v is None:
                continue
            if not isinstance(v, int):
                raise ValueProblem(f"layer {node.name}: size {d} of its output is {v}, not a whole number "
                                   f"at these values", node.pos, self._layout_hint() or "use // for whole-number "
                                   "division, or add a 'where' constraint")
            if v <= 0:
                raise ValueProblem(f"layer {node.name}: its output {format_shape(node.shape)} has size "
                                   f"{v} on axis {axis + 1} at these values; its input is too small for it",
                                   node.pos, self._layout_hint() or "a kernel or pool larger than its input "
                                   "leaves nothing")

    def _layout_hint(self) -> str | None:
        """An input that looks laid out for the other convention explains a size that went wrong."""
        from .conventions import misread_layout
        return next((hint for t in self.model.inputs
                     if (hint := misread_layout(self.model.convention, t.shape, self.shape(t.shape)))), None)

    @property
    def params(self):
        return self.number(self.model.params)

    @property
    def trainable(self):
        return self.number(self.model.trainable)

    @property
    def non_trainable(self):
        return self.number(self.model.non_trainable)

    @property
    def buffers(self):
        return self.number(self.model.buffers)

    @property
    def macs(self):
        return self.number(self.model.macs)

    def row(self, name: str) -> dict:
        r = self.model.row(name)
        return {"params": self.number(r.params), "trainable": self.number(r.trainable),
                "non_trainable": self.number(r.non_trainable), "buffers": self.number(r.buffers),
                "macs": self.number(r.macs), "output_shape": self.shape(r.output_shape)}
