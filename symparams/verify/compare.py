"""The formulas beside the framework's own counts, row by row, and the table that shows them."""
from __future__ import annotations

from dataclasses import dataclass, field

from ..values import format_shape
from . import network_module
from .plan import Group, make_plan

QUANTITIES = ("params", "non_trainable", "buffers", "output_shape")
LABELS = {"params": "params", "non_trainable": "non-trainable", "buffers": "buffers", "output_shape": "output shape"}


@dataclass
class RowCheck:
    name: str
    type: str
    formula: dict
    framework: dict            # the framework's numbers, or {"unchecked": why} / {"error": what it raised}
    differs: list = field(default_factory=list)
    depth: int = 0             # 1 for a layer inside a block or repeat, and so on

    @property
    def status(self) -> str:
        if "error" in self.framework or self.differs:
            return "differs"
        if "unchecked" in self.framework:
            return "unchecked"
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


def formula_numbers(evaluation, node) -> dict:
    return {"params": evaluation.number(node.params), "non_trainable": evaluation.number(node.non_trainable),
            "buffers": evaluation.number(node.buffers), "output_shape": evaluation.shape(node.shape)}


def numbers(entry, measured: dict) -> dict:
    return group_numbers(entry, measured) if isinstance(entry, Group) else measured[entry.name]


def group_numbers(group, measured: dict) -> dict:
    """A block's or repeat's counts in the framework: the sum over each built copy of its body, a
    repeat built once multiplied (except weights made outside its body, which exist once)."""
    if not group.copies:
        return {"unchecked": "its body runs 0 times at these values"}
    parts = [(entry, numbers(entry, measured)) for body in group.copies for entry in body]
    if any("error" in got for _, got in parts):
        return {"unchecked": "a layer inside it failed"}
    if any("unchecked" in got for _, got in parts):
        return {"unchecked": "it holds layers that cannot be checked (see them below)"}
    out = {"output_shape": measured[group.output]["output_shape"]}
    for q in ("params", "non_trainable", "buffers"):
        out[q] = sum(got[q] * (1 if entry.name in group.once else group.multiplier) for entry, got in parts)
    return out


def check(model, framework: str, values: dict | None = None) -> Check:
    """Build `model` at `values` in `framework` and compare every row with its formulas."""
    plan = make_plan(model, values)
    measured = network_module(framework).measure(plan)
    # A block may return a model input unchanged: that tensor's shape is the one fed in.
    measured.update({name: {"output_shape": shape} for name, shape, _ in plan.inputs})
    rows = []

    def visit(entries, depth):
        for entry in entries:
            formula = formula_numbers(plan.evaluation, entry.row)
            got = numbers(entry, measured)
            differs = [q for q in QUANTITIES if "params" in got and formula[q] != got[q]]
            rows.append(RowCheck(entry.row.name, entry.row.type, formula, got, differs, depth))
            if isinstance(entry, Group):
                visit(entry.children, depth + 1)

    visit(plan.top, 0)
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
    return ["  " * r.depth + r.name, r.type, mine[0], theirs[0], mine[1], theirs[1], mark]


def render(result: Check, label: str) -> str:
    """One table: a line per layer with the formula's value, the framework's and ✓ / ✗ / – (not checkable)."""
    fw = result.framework
    head = ["layer", "type", "params (formula)", f"params ({fw})", "output (formula)", f"output ({fw})", ""]
    body = [_cells(r) for r in result.rows]
    widths = [max(len(row[i]) for row in [head] + body) for i in range(len(head))]
    lines = [label, "  ".join(h.ljust(w) for h, w in zip(head, widths)).rstrip()]
    lines += ["  ".join(c.ljust(w) for c, w in zip(row, widths)).rstrip() for row in body]
    lines += notes(result)
    total = totals(result)
    if total:
        lines.append(total)
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


def totals(result: Check) -> str | None:
    """The model's totals both ways, when every top-level row could be measured."""
    top = [r for r in result.rows if r.depth == 0]
    if any("params" not in r.framework for r in top):
        return None
    parts = []
    for q, label in (("params", "params"), ("non_trainable", "non-trainable"), ("buffers", "buffers")):
        mine, theirs = sum(r.formula[q] for r in top), sum(r.framework[q] for r in top)
        if mine or theirs:
            parts.append(f"{label} {mine:,} (formula) {'=' if mine == theirs else '≠'} {theirs:,} ({result.framework})")
    return "total " + "; ".join(parts) if parts else None


def verdict(result: Check) -> str:
    n = len(result.rows)
    if result.failures:
        names = ", ".join(r.name for r in result.failures)
        return f"✗ {len(result.failures)} of {n} layers differ: {names}"
    checked = n - len(result.unchecked)
    extra = f"; {len(result.unchecked)} not checkable" if result.unchecked else ""
    return f"✓ all {checked} checked layers agree{extra}"
