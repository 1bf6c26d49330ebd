"""How the REPL shows things: errors with a caret under the typed text, and what a line added."""
from __future__ import annotations

import re

from .. import render
from ..errors import Pos, SymparamsError
from ..values import format_shape


class Rejected(Exception):
    """A change that did not derive: carries the error already rendered against the typed text."""


def explain(e: SymparamsError, where: dict, pos: Pos | None = None) -> str:
    """The error with a caret under the part of the typed line it points at (where: composed line -> typed)."""
    lines = [f"{e.kind}: {e.message}"]
    pos = pos or e.pos
    if pos and pos.line in where:
        typed, indent = where[pos.line]
        lines += caret(typed, pos.column - indent, pos.end_column and pos.end_column - indent)
    hint = repl_hint(e)
    if hint:
        lines.append(f"hint: {hint}")
    return "\n".join(lines)


def explain_typed(e: SymparamsError, typed: str) -> str:
    """An error whose position (if any) is in the typed line itself: a command or a model header.
    Without a position, the caret goes under the first word the message quotes that the line contains."""
    if e.pos is None and e.subject and e.subject in typed:
        start = typed.index(e.subject) + 1
        return explain(e, {1: (typed, 0)}, Pos(1, start, start + len(e.subject)))
    return explain(e, {1: (typed, 0)})


def caret(text: str, column: int, end_column: int | None) -> list[str]:
    column = max(1, column)
    width = max(1, (end_column or column + 1) - column)
    return ["    " + text, "    " + " " * (column - 1) + "^" * width]


def repl_hint(e: SymparamsError) -> str | None:
    """The interpreter's hints speak of files and the command line; say what to type here instead."""
    hint = e.hint
    if e.code == "not_a_symbol":
        name = e.subject
        if hint and hint.startswith("did you mean"):
            hint = f"{hint} A new symbol is declared with :symbols {name}=64"
        else:
            hint = f"declare it first: :symbols {name}=64, or type a header like: model m({name} = 64):"
    if hint:
        hint = hint.replace("run `symparams layers` to list the catalog", "type :layers to list the catalog")
        hint = repl_spelling(hint)
    return hint


def repl_spelling(text: str) -> str:
    """A hint as the REPL spells it: the convention is switched with `:convention keras`, not a
    command-line `--convention keras` nor a file's `convention keras` line."""
    text = re.sub(r"--convention[ =](keras|torch)", r":convention \1", text)
    text = re.sub(r"`convention (keras|torch)`", r"`:convention \1`", text)
    if "the file's `convention` line" in text:     # the layout hint: the convention of the layout it names
        layout = re.search(r"if it is (channels-last|channels-first)", text)
        name = "torch" if layout and layout.group(1) == "channels-first" else "keras"
        text = text.replace("the file's `convention` line", f"`:convention {name}`")
    return text.replace("--convention", ":convention")


def both(expr, ev, row=None) -> str:
    """`32*(9*C + 1) = 896`: the closed form, then its value at the current settings when it has one;
    a row's count of literal sizes as the summary shows it (`24*36*3*3 + 36 = 7,812`)."""
    from ..table import arithmetic
    shown = render.formula(expr)
    if row is not None and shown.isdigit():
        shown = arithmetic(row, ev) or shown
    value = ev.number(expr)
    if value is None:
        return shown
    return render.number(value) if shown == str(value) else f"{shown} = {render.number(value)}"


def shape_text(shape, ev) -> str:
    symbolic = format_shape(shape)
    value = format_shape(tuple("?" if v is None else v for v in ev.shape(shape)))
    return symbolic if value == symbolic else f"{symbolic} = {value}"


def describe_changes(old, model, ev) -> list[str]:
    """What the last line added: new inputs, new layers with shape and parameters, new conditions."""
    lines = []
    old_inputs = len(old.inputs) if old else 0
    for tensor in model.inputs[old_inputs:]:
        lines.append(f"{tensor.source}: {shape_text(tensor.shape, ev)}")
    old_rows = len(old.graph.nodes) if old else 0
    from ..model import Row
    new_rows = [Row(n) for n in model.graph.nodes[old_rows:]]
    fixed = fixed_notes(model, old_rows, new_rows)
    for row in new_rows:
        lines.append(f"{row.name} ({row.type})  {shape_text(row.output_shape, ev)}")
        detail = f"params {both(row.params, ev, row)}"
        if row.non_trainable != 0:
            detail += f", non-trainable {both(row.non_trainable, ev)}"
        if row.buffers != 0:
            detail += f", buffers {both(row.buffers, ev)}"
        lines.append("    " + detail + (f"   ({row.note})" if row.note else ""))
        if row.name in fixed:     # a dense after a flatten over T: a model built at T=35 takes no other T
            told = ", ".join(str(s) for s in fixed[row.name])
            at = ", ".join(f"{s}={ev.values[s]}" for s in fixed[row.name] if s in ev.values)
            lines.append(f"    its weights fix {told}" + (f": built at {at}, the model takes no other {told}" if at else ""))
    old_constraints = len(old.constraints) if old else 0
    for c in model.constraints[old_constraints:]:
        lines.append(f"assumes {c.text}")
    if new_rows:
        lines.append(totals_text(model, ev, output=False))
    return lines


def fixed_notes(model, old_rows: int, new_rows: list) -> dict:
    """table.fixed_sizes over all the model's rows, for its new rows alone: an input size is told at
    the first row whose weights depend on it, so not at a new row where a row before it depends on
    it (asked of the model, which keeps the answer from line to line, not of every row again)."""
    if not new_rows:
        return {}
    from ..table import fixed_sizes
    claimed = model.symbols_of_params(old_rows)
    fixed = {}
    for name, symbols in fixed_sizes(model, [(r.name, r) for r in new_rows]).items():
        if kept := [s for s in symbols if s not in claimed]:
            fixed[name] = kept
    return fixed


def totals_text(model, ev, output: bool = True) -> str:
    text = f"total: {render.number(ev.params) if ev.params is not None else render.formula(model.params)} params"
    if model.non_trainable != 0:
        text += f" ({both(model.trainable, ev)} trainable, {both(model.non_trainable, ev)} non-trainable)"
    return text + (f"; output {shape_text(model.output_shape, ev)}" if output else "")
