"""The summary table as data: which rows and columns, each cell a number and the formula beneath it.

One table model feeds every printed form (text, Markdown, LaTeX, HTML, the Python API), so the
forms agree on what is shown and on the printed form of each formula (`canonical`).
"""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

import sympy as sp

from .errors import ArgumentError, did_you_mean
from .printing import canonical, printed as formula, readable_size  # the one printed form (cached there)
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
        if ev.values:
            text += f"   at {values_text(ev)}"
        return text


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


def _count_cell(expr, ev) -> Cell:
    expr = sp.sympify(expr)
    value = ev.number(expr)
    return Cell(number(value), "" if expr.is_number else formula(expr))


def _cells(row, ev, columns, dtype: str, batch: int) -> dict:
    cells = {}
    for key in columns:
        if key == "output_shape":
            value = format_shape(tuple("?" if v is None else v for v in ev.shape(row.output_shape)))
            symbolic = format_shape(row.output_shape)
            cells[key] = Cell(value, symbolic if symbolic != value else "")
        elif key in ("params", "macs"):
            cells[key] = _count_cell(getattr(row, key), ev)
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
    if sp.expand(model.active - model.params) != 0:   # a mixture of experts: what one token uses
        totals.append(("active", "Active params (one token)", model.active))
    totals.append(("macs", "Total MACs", model.macs))
    made = []
    for key, label, expr in totals:
        value = ev.number(expr)
        weights = key in ("params", "trainable", "non_trainable") and value is not None
        made.append(Total(key, label, expr, value, readable_size(4 * value) if weights else ""))
    return Table(model, ev, tuple(columns), lines, made, [c.text for c in model.constraints])
