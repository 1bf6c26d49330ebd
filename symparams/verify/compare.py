"""The formulas beside the framework's own counts, row by row, and the table that shows them."""
from __future__ import annotations

from dataclasses import dataclass, field

from ..values import format_shape
from . import network_module
from .plan import make_plan

QUANTITIES = ("params", "non_trainable", "buffers", "output_shape")
LABELS = {"params": "params", "non_trainable": "non-trainable", "buffers": "buffers", "output_shape": "output shape"}


@dataclass
class RowCheck:
    name: str
    type: str
    formula: dict
    framework: dict            # the framework's numbers, or {"unchecked": why} / {"error": what it raised}
    differs: list = field(default_factory=list)

    @property
    def status(self) -> str:
        if "unchecked" in self.framework:
            return "unchecked"
        if "error" in self.framework or self.differs:
            return "differs"
        return "agrees"


@dataclass
class Check:
    framework: str
    model: object
    values: dict               # name -> int
    rows: list

    @property
    def failures(self) -> list:
        return [r for r in self.rows if r.status == "differs"]

    @property
    def unchecked(self) -> list:
        return [r for r in self.rows if r.status == "unchecked"]

    @property
    def ok(self) -> bool:
        return not self.failures


def check(model, framework: str, values: dict | None = None) -> Check:
    """Build `model` at `values` in `framework` and compare every row with its formulas."""
    plan = make_plan(model, values)
    measured = network_module(framework).measure(plan)
    rows = []
    for step in plan.steps:
        formula = plan.evaluation.row(step.row.name)
        got = measured[step.name]
        differs = [q for q in QUANTITIES if "params" in got and formula[q] != got[q]]
        rows.append(RowCheck(step.row.name, step.row.type, formula, got, differs))
    named = {str(k): int(v) for k, v in plan.evaluation.values.items()}
    return Check(framework, model, named, rows)


# ------------------------------------------------------------ the table

def _counts(d: dict) -> str:
    text = f"{d['params']:,}"
    if d["non_trainable"]:
        text += f" ({d['non_trainable']:,} non-trainable)"
    if d["buffers"]:
        text += f" +{d['buffers']:,} buffers"
    return text


def _cells(r: RowCheck) -> list:
    mark = {"agrees": "✓", "differs": "✗", "unchecked": "–"}[r.status]
    mine = [_counts(r.formula), format_shape(r.formula["output_shape"])]
    if "params" in r.framework:
        theirs = [_counts(r.framework), format_shape(r.framework["output_shape"])]
    else:
        theirs = ["", ""]
    return [r.name, r.type, mine[0], theirs[0], mine[1], theirs[1], mark]


def render(result: Check, label: str) -> str:
    """One table: a line per layer with the formula's value, the framework's and ✓ / ✗ / – (not checkable)."""
    fw = result.framework
    head = ["layer", "type", "params (formula)", f"params ({fw})", "output (formula)", f"output ({fw})", ""]
    body = [_cells(r) for r in result.rows]
    widths = [max(len(row[i]) for row in [head] + body) for i in range(len(head))]
    lines = [label, "  ".join(h.ljust(w) for h, w in zip(head, widths)).rstrip()]
    lines += ["  ".join(c.ljust(w) for c, w in zip(row, widths)).rstrip() for row in body]
    lines += notes(result)
    return "\n".join(lines)


def notes(result: Check) -> list:
    """What differs (both values), what the framework raised, and what could not be checked."""
    out = []
    for r in result.rows:
        if "error" in r.framework:
            out.append(f"  ✗ {r.name}: {r.framework['error']}")
        for q in r.differs:
            mine, theirs = r.formula[q], r.framework[q]
            if q == "output_shape":
                mine, theirs = format_shape(mine), format_shape(theirs)
            else:
                mine, theirs = f"{mine:,}", f"{theirs:,}"
            out.append(f"  ✗ {r.name}: {LABELS[q]} formula {mine}, {result.framework} {theirs}")
        if r.status == "unchecked":
            out.append(f"  – {r.name}: not checkable: {r.framework['unchecked']}")
    return out


def verdict(result: Check) -> str:
    n = len(result.rows)
    if result.failures:
        names = ", ".join(r.name for r in result.failures)
        return f"✗ {len(result.failures)} of {n} layers differ: {names}"
    checked = n - len(result.unchecked)
    extra = f"; {len(result.unchecked)} not checkable" if result.unchecked else ""
    return f"✓ all {checked} checked layers agree{extra}"
