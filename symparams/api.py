"""The Python API's summary: an object like torchinfo's ModelStatistics, behind Model.summary().

    >>> s = symparams.load("examples/gpt2.sp").summary({"d": 1024})
    >>> print(s)                   # the table, fitted to the terminal
    >>> s.total_params, s.total_macs, s.formulas["params"], s.rows[0].params
"""
from __future__ import annotations

import json

from . import render, table
from .memory import estimate_json


class Summary:
    """A model's figures at one setting of its symbols: totals, per-layer rows and the memory
    estimate, as numbers, with `formulas` holding each total's closed form."""

    def __init__(self, model, values: dict | None = None, columns=None, depth: int | None = 0,
                 dtype: str = "float32", batch: int = 1):
        self.model = model
        self.evaluation = model.evaluate(values)
        self.table = table.build(model, self.evaluation, tuple(columns or table.DEFAULT_COLUMNS), depth, dtype, batch)
        totals = {t.key: t for t in self.table.totals}
        self.total_params = totals["params"].value
        self.trainable_params = totals["trainable"].value
        self.non_trainable_params = totals["non_trainable"].value
        self.total_macs = totals["macs"].value
        self.buffers = self.evaluation.buffers
        self.formulas = {key: t.formula for key, t in totals.items()}
        self.memory = estimate_json(model, self.evaluation, dtype, batch)

    @property
    def rows(self) -> list:
        """The table's rows (a block's inner rows too, to `depth`), each with `label`, `depth`,
        `path`, `row` (the model's Row, formulas) and `cells` (the printed values)."""
        return self.table.lines

    def __str__(self) -> str:
        return render.render_text(self.table)

    def __repr__(self) -> str:
        return (f"<Summary of {self.model.name}: {render.number(self.total_params)} params, "
                f"{render.number(self.total_macs)} MACs>")

    def _repr_html_(self) -> str:
        return render.html(self.table)


def to_json(model, values: dict | None = None) -> str:
    return json.dumps(render.to_json(model, model.evaluate(values)), indent=2)


def to_latex(model, values: dict | None = None) -> str:
    return render.latex_table(model, model.evaluate(values))
