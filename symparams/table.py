"""The summary table as data: which rows and columns, each cell a number and the formula beneath it.

One table model feeds every printed form (text, Markdown, LaTeX, HTML, the Python API), so the
forms agree on what is shown and on the printed form of each formula (`canonical`).
"""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

import sympy as sp

from .errors import ArgumentError, did_you_mean
from .printing import canonical, printed as formula, readable_size, text  # the one printed form (cached there)
from .units import check_dtype, storage_bytes
from .values import format_shape

# --columns choices, as torchinfo's col_names: key -> header.
COLUMNS = {"output_shape": "Output Shape", "params": "Param #", "trainable": "Trainable", "macs": "MACs",
           "memory": "Output size", "formula": ""}
DEFAULT_COLUMNS = ("output_shape", "params", "formula")


def number(value) -> str:
    return "?" if value is None else f"{value:,}"


def parse_columns(text: str | None) -> tuple:
    """'output_shape,params,macs' -> the column keys, checked."""
    if not text:
        return DEFAULT_COLUMNS
    keys = tuple(k.strip() for k in text.split(",") if k.strip())
    for key in keys:
        if key not in COLUMNS:
            raise ArgumentError(f"unknown column '{key}'", hint=did_you_mean(key, COLUMNS) or
                                "choose among " + ", ".join(COLUMNS))
    return keys


@dataclass
class Cell:
    value: str
    formula: str = ""      # shown beneath the value, where it says more than the value


@dataclass
class Line:
    label: str             # "name (type)", or "path/name (type)" where the name repeats
    depth: int
    path: str              # what Model.row takes to reach the row
    row: object
    cells: dict            # column key -> Cell
    note: str = ""


@dataclass
class Total:
    key: str
    label: str
    expr: sp.Expr
    value: int | None
    size: str = ""         # Keras's "(30.66 KB)": the weights as float32

    @property
    def formula(self) -> str:
        return formula(self.expr)

    def text(self) -> str:
        out = f"{self.label}: {number(self.value)}"
        if self.size:
            out += f" ({self.size})"
        if self.formula != str(self.value):
            out += f"   = {self.formula}"
        return out


@dataclass
class Table:
    model: object
    evaluation: object
    columns: tuple
    lines: list
    totals: list
    constraints: list = field(default_factory=list)
    notes: list = field(default_factory=list)          # under the totals: a figure not known, and why

    @property
    def shown(self) -> list:
        """The columns with a header, in order ('formula' is not one: it adds formulas beneath)."""
        return [c for c in self.columns if c != "formula"]

    @property
    def formulas(self) -> bool:
        return "formula" in self.columns

    @property
    def title(self) -> str:
        ev = self.evaluation
        text = f'Model: "{self.model.name}"   convention: {self.model.convention.name}'
        layout = layout_note(self.model)
        if layout:
            text += f"   {layout}"
        if ev.values:
            text += f"   at {values_text(ev)}"
        return text


def layout_note(model) -> str | None:
    """How the tensors are laid out, where the convention alone would not say: a file laid out as the
    other framework lays tensors out, or an input whose shape does not say and a layer that reads it."""
    c, reason = model.convention, getattr(model, "layout_reason", None)
    if reason and getattr(model, "layout_matters", False) and (not c.native or not model.layout_settled):
        return f"layout: {c.layout}, from {reason}"
    return None


def values_text(ev) -> str:
    return ", ".join(f"{s}={v}" for s, v in ev.values.items())


def shown_rows(rows, depth: int | None, level: int = 0, prefix: str = ""):
    """(level, path, row): a block's or repeat's inner rows follow it, one level deeper, down to
    `depth` levels below the top (None: all the way)."""
    for r in rows:
        path = prefix + r.name
        yield level, path, r
        if depth is None or level < depth:
            yield from shown_rows(r.children, depth, level + 1, path + "/")


def _shortest_path(path: str, times: Counter) -> str:
    """A row's name, or where it repeats the shortest tail of its path that starts at a row named
    once (`gpt_layer_1/layernorm_1`): what Model.row takes to find it."""
    parts = path.split("/")
    if times[parts[-1]] == 1:
        return parts[-1]
    for start in range(len(parts) - 2, -1, -1):
        if times[parts[start]] == 1:
            return "/".join(parts[start:])
    return path


def _trainable(row, ev) -> str:
    """torchinfo's Trainable column: whether the row's weights learn."""
    params, frozen = ev.number(row.params), ev.number(row.non_trainable)
    if params == 0:
        return "--"
    if params is None or frozen is None:
        return "?"
    return "False" if frozen == params else ("Partial" if frozen else "True")


def _count_cell(expr, ev, row=None) -> Cell:
    expr = sp.sympify(expr)
    value = ev.number(expr)
    if expr.is_number:
        return Cell(number(value), (arithmetic(row, ev) or "") if row is not None else "")
    return Cell(number(value), formula(expr))


def arithmetic(row, ev) -> str | None:
    """Why a layer of literal sizes has its parameters, as the sum a person writes: conv2d_2's
    7,812 is `36*(3*3*24 + 1)`. Its catalog entry's formula, applied again with each number of its
    input and arguments (2 and more) as a name of its own, printed with the numbers back in place;
    None where that is no simpler than the count (no weights, one number) or not a plain product."""
    node = getattr(row, "node", None)
    if node is None or node.spec is None or node.kind != "layer" or node.reapplies is not None:
        return None
    value = ev.number(node.params)
    if not value:
        return None
    names: dict = {}

    def named(v):
        if isinstance(v, tuple):
            return tuple(named(x) for x in v)
        if isinstance(v, (int, sp.Integer)) and not isinstance(v, bool) and int(v) >= 2:
            name = sp.Symbol(f"n{len(names)}_", positive=True, integer=True)
            names[name] = int(v)
            return name
        return v

    try:
        shapes = [named(tuple(ev.number(d) for d in t.shape)) for t in node.inputs]
        if any(d is None for s in shapes for d in s):
            return None
        config = {k: named(v) for k, v in node.config.items()}
        out = node.spec.apply(shapes, config, ev.model.convention)
        expr = sp.sympify(out.params)
    except Exception:     # an entry that needs its numbers as numbers: no sum to show
        return None
    if expr.is_number or expr.is_Symbol or expr.has(sp.Function, sp.Piecewise) or _at(expr, names) != value:
        return None
    spelled = _sum_text(expr, names)
    return spelled if spelled != str(value) else None


def _at(e, names: dict):
    """e with each named number back in place (xreplace: subs' search for patterns is no use here)."""
    return e.xreplace({name: sp.Integer(v) for name, v in names.items()})


def _sum_text(e, names: dict) -> str:
    """An expression in named numbers printed with the numbers back: terms largest first
    (weights, then bias), a sum inside a product in parentheses."""
    if e.is_Symbol:
        return str(names[e])
    if e.is_Add:
        terms = sorted(e.args, key=lambda t: -abs(_at(t, names)))
        out = _sum_text(terms[0], names)
        for t in terms[1:]:
            negative = t.could_extract_minus_sign()
            out += (" - " if negative else " + ") + _sum_text(-t if negative else t, names)
        return out
    if e.is_Mul:
        coeff, factors = e.as_coeff_mul()
        parts = [] if coeff == 1 else [str(coeff)]
        parts += [f"({_sum_text(f, names)})" if f.is_Add else _sum_text(f, names) for f in factors]
        return "*".join(parts)
    if e.is_Pow and e.base.is_Symbol and e.exp.is_Integer and 1 < e.exp <= 3:
        return "*".join([_sum_text(e.base, names)] * int(e.exp))      # a 3x3 kernel reads 3*3
    if e.is_Pow:
        base = _sum_text(e.base, names)
        return f"({base})**{e.exp}" if e.base.is_Add or e.base.is_Mul else f"{base}**{e.exp}"
    return str(e)


def _cells(row, ev, columns, dtype: str, batch: int) -> dict:
    cells = {}
    for key in columns:
        if key == "output_shape":
            value = format_shape(tuple("?" if v is None else v for v in ev.shape(row.output_shape)))
            symbolic = format_shape(tuple(map(text, row.output_shape)))     # each size printed once, fast
            cells[key] = Cell(value, symbolic if symbolic != value else "")
        elif key == "macs" and not_known(row) is not None:
            cells[key] = Cell("not known")
        elif key in ("params", "macs"):
            cells[key] = _count_cell(getattr(row, key), ev, row if key == "params" else None)
        elif key == "trainable":
            cells[key] = Cell(_trainable(row, ev))
        elif key == "memory":
            elements = ev.number(sp.Mul(*row.output_shape))
            # the batch's output as one tensor: whole bytes, a 4-bit dtype's odd count rounded up
            cells[key] = Cell("?" if elements is None else readable_size(storage_bytes(batch * elements, dtype)))
    return cells


def build(model, ev, columns=DEFAULT_COLUMNS, depth: int | None = 0, dtype: str = "float32",
          batch: int = 1) -> Table:
    """The table of `model` at the evaluation `ev`: `depth` levels of nested rows (0: the top only,
    None: all); `dtype` and `batch` size the memory column."""
    shown = list(shown_rows(model.rows, depth))
    times = Counter(r.name for _, _, r in shown)
    dtype = check_dtype(dtype)
    lines = [Line(f"{_shortest_path(path, times)} ({r.type})", level, path, r,
                  _cells(r, ev, columns, dtype, batch), r.note) for level, path, r in shown]
    totals = [("params", "Total params", model.params), ("trainable", "Trainable params", model.trainable),
              ("non_trainable", "Non-trainable params", model.non_trainable)]
    if model.convention.norm_stats_as_buffers or model.buffers != 0:
        totals.append(("buffers", "Buffers (not parameters)", model.buffers))
    # a mixture of experts: what one token uses. Only a sparse node's active count can differ from its
    # params (graph.Node.active), so a dense model needs neither the sum nor accounting's import.
    notes = []
    if any(node.sparse for node in model.graph.nodes):
        why = not_known(model, "active")
        if why is not None:
            notes.append(f"Active params (one token): not known: {why}")
        elif sp.expand(model.active - model.params) != 0:
            totals.append(("active", "Active params (one token)", model.active))
    why = not_known(model)
    if why is None:
        totals.append(("macs", "Total MACs", model.macs))
    else:                     # the MACs of a layer are not known: said, never a number
        notes.append(f"Total MACs: not known: {why}")
    made = []
    for key, label, expr in totals:
        value = ev.number(expr)
        weights = key in ("params", "trainable", "non_trainable") and value is not None
        made.append(Total(key, label, expr, value, readable_size(4 * value) if weights else ""))
    # under the table, not beside the row: a note there widens the names' column, which never wraps
    fixed = fixed_sizes(model, [(line.path, line.row) for line in lines])
    notes += fixed_note(fixed, {line.path: line for line in lines}, ev)
    return Table(model, ev, tuple(columns), lines, made, [c.text for c in model.constraints], notes)


def input_symbols(model) -> list:
    """The symbols in the shapes of the model's inputs, in the order they appear."""
    out = []
    for t in model.inputs:
        for d in t.shape:
            for s in sorted(sp.sympify(d).free_symbols, key=str):
                if s not in out:
                    out.append(s)
    return out


def fixed_sizes(model, rows) -> dict:
    """Which input sizes each row's weights fix where the table would not show it: path -> the
    input-shape symbols its parameters depend on though no axis of its input is that symbol (a dense
    layer after a flatten over T has 96*T - 861 weights, so a model built at T=35 cannot read T=31).
    Each symbol is told at the first row (of `rows`, (path, row) in table order) whose weights
    depend on it; a layer reading the size as an axis (a dense on `input (d,)`) says it already."""
    wanted = input_symbols(model)
    out: dict = {}
    for path, row in rows:
        if not wanted:
            break
        try:
            free = sp.sympify(row.params).free_symbols
        except Exception:   # a row whose count is not known: nothing to say of it
            continue
        found = [s for s in wanted if s in free]
        if not found:
            continue
        wanted = [s for s in wanted if s not in found]
        axes = {sp.sympify(d) for t in getattr(row.node, "inputs", ()) for d in t.shape}
        hidden = [s for s in found if s not in axes]
        if hidden:
            out[path] = hidden
    return out


def fixed_note(fixed: dict, lines: dict, ev) -> list:
    """The lines under the table that say why an input of another size is refused: `dense_1's
    weights (classes*(32*T - 287)) fix T: built at T=35, the model takes no other T` (Keras:
    expected shape=(None, 35), found shape=(None, 31)). `lines`: path -> the table's Line."""
    out = []
    for path, symbols in fixed.items():
        line = lines[path]
        count = formula(line.row.params)
        told = ", ".join(str(s) for s in symbols)
        text = f"{line.label.split(' (')[0]}'s weights" + (f" ({count})" if len(count) <= 60 else "") + f" fix {told}"
        at = ", ".join(f"{s}={ev.values[s]}" for s in symbols if s in ev.values)
        if at:
            text += f": built at {at}, the model takes no other {told}"
        out.append(text)
    return out


def not_known(source, what: str = "macs") -> str | None:
    """Why the MACs (or the `active` parameters) of a row or model are not known (a layer states
    `macs = not_known`), or None."""
    from .errors import SymparamsError
    try:
        getattr(source, what)
    except SymparamsError as e:
        return e.message.splitlines()[0]
    return None
