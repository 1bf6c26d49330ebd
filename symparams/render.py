"""A model as people read it: the table (symparams/table.py) as text, Markdown, LaTeX, HTML; and JSON.

The text table is drawn as rich draws it, as Keras 3 draws its summary: it fits the terminal's
width (COLUMNS), a formula wrapping beneath its number rather than pushing the table wider, and it
is plain text when the output is not a terminal. A terminal gets rich itself (bold headers, dim
formulas); plain text is laid out here, in rich's very text, without importing rich.
"""
from __future__ import annotations

import io
import re
import shutil
import unicodedata
from functools import lru_cache

import sympy as sp

from . import table as tables
from .printing import printed_longer_than, term_count
from .table import canonical, formula, number, values_text  # the printed forms; other modules use them from here

HEADERS = {"label": "Layer (type)", **tables.COLUMNS}
NUMERIC = {"params", "macs", "memory"}


def counted(n: int, noun: str) -> str:
    """'1 layer', '2 layers'."""
    return f"{n} {noun}{'' if n == 1 else 's'}"


def _table(model, ev, expand=False, columns=None, depth=0, **sizes) -> tables.Table:
    return tables.build(model, ev, columns or tables.DEFAULT_COLUMNS, None if expand else depth, **sizes)


# ---------------------------------------------------------------- text (rich)

def terminal_width() -> int:
    """COLUMNS if set, else the terminal's width, else 80 (output to a pipe or file)."""
    return shutil.get_terminal_size((80, 24)).columns


GAP = 2   # between columns: a cell's right padding and the box's blank column rule


def _label(line) -> str:
    """A row's first cell: its name and type, indented by depth, and its note."""
    return "  " * line.depth + line.label + (f"  ({line.note})" if line.note else "")


def _natural(t: tables.Table) -> tuple[list, list, int]:
    """(each column's widest value, its natural width with the formulas beneath, the widest label)."""
    def formula(key, line):
        cell = line.cells[key]
        return len(cell.formula) + (0 if key in NUMERIC else 2) if t.formulas and cell.formula else 0

    values = [max([len(HEADERS[k])] + [len(line.cells[k].value) for line in t.lines]) for k in t.shown]
    natural = [max([v] + [formula(k, line) for line in t.lines]) for k, v in zip(t.shown, values)]
    return values, natural, max([len(HEADERS["label"])] + [len(_label(line)) for line in t.lines])


def _widths(t: tables.Table, width: int, natural: tuple | None = None) -> list:
    """Each column's width: its natural one (None) where the line has room. Otherwise the values keep
    theirs, and so do the layer names as far as the line allows; the formulas beneath wrap in
    what is left, which goes to the smallest needs first (a short count formula stays whole).
    `natural` is _natural's answer where the caller has it."""
    values, natural, longest = natural or _natural(t)
    if longest + sum(natural) + GAP * len(natural) <= width:
        return [None] * (len(natural) + 1)
    names = max(min(longest, width - sum(values) - GAP * len(values)), 12)
    room = max(width - names - sum(values) - GAP * len(values), 0)
    wants = [n - v for n, v in zip(natural, values)]
    extra = [0] * len(wants)
    for left, i in enumerate(sorted(range(len(wants)), key=wants.__getitem__)):  # the smallest wants first
        extra[i] = min(wants[i], room // (len(wants) - left))
        room -= extra[i]
    return [names] + [v + e for v, e in zip(values, extra)]


def rich_renderables(t: tables.Table, width: int) -> list:
    """The title, the table and the totals as rich renderables. A formula sits beneath its value,
    indented under a shape, and wraps within its column."""
    from rich import box
    from rich.console import Group
    from rich.padding import Padding
    from rich.table import Table
    from rich.text import Text

    grid = Table(box=box.HORIZONTALS, show_edge=False, pad_edge=False, header_style="bold", padding=(0, 1, 0, 0))
    for key, size in zip(["label", *t.shown], _widths(t, width)):
        grid.add_column(HEADERS[key], justify="right" if key in NUMERIC else "left", overflow="fold", width=size)
    for line in t.lines:
        cells = [Text(_label(line))]
        for key in t.shown:
            cell = line.cells[key]
            justify = "right" if key in NUMERIC else "left"
            parts = [Text(cell.value, justify=justify)]
            if t.formulas and cell.formula:
                below = Text(cell.formula, style="dim", justify=justify)
                parts.append(below if key in NUMERIC else Padding(below, (0, 0, 0, 2)))
            cells.append(Group(*parts))
        grid.add_row(*cells)
    totals = Table.grid(padding=(0, 3, 0, 0))
    totals.add_column(no_wrap=True)
    totals.add_column(overflow="fold")
    for total in t.totals:
        head = f"{total.label}: {total_value(total, t.evaluation)}" + (f" ({total.size})" if total.size else "")
        text = _total_formula(total, t.model)
        totals.add_row(Text(head), Text(text, style="dim") if text else "")
    out = [Text(t.title), grid, totals]
    out += [Text(n) for n in t.notes] + [Text(f"Assumes: {c}") for c in t.constraints]
    return out


LONG_FORMULA = 240   # characters: a closed form longer than this is pointed at rather than printed


def _total_formula(total, model) -> str:
    """What follows a total: `= its closed form`, nothing where that is the number, or past
    LONG_FORMULA characters a pointer to `symparams formula` (told without printing it where it can be)."""
    if not printed_longer_than(total.expr, LONG_FORMULA):
        if total.formula == str(total.value):
            return ""
        if len(total.formula) <= LONG_FORMULA:
            return f"= {total.formula}"
    terms = term_count(total.expr)
    return f"= a closed form of {terms} terms: symparams formula {model.filename or 'FILE'} --of {total.key}"


@lru_cache(maxsize=4096)
def _folded(text: str, width: int) -> tuple:
    """`text` broken into lines of at most `width` characters as rich breaks a Text with
    overflow="fold" (rich/_wrap.py divide_line): at spaces, a word wider than a line cut into
    pieces; a line's trailing spaces are dropped. For text of one cell a character (one_cell_each).
    Cached: a long model's rows repeat a few formulas."""
    width = max(width, 1)        # a long table on a narrow line: one character a line, never none
    if len(text) <= width and "\n" not in text:
        return (text.rstrip(),)
    out = []
    for paragraph in text.split("\n"):
        lines, line = [], ""
        for word in re.findall(r"\s*\S+\s*", paragraph) or [""]:
            if len(line) + len(word.rstrip()) <= width:
                line += word
            elif len(word.rstrip()) > width:
                pieces = [word[i:i + width] for i in range(0, len(word), width)]
                if line:
                    lines.append(line)
                lines += pieces[:-1]
                line = pieces[-1]
            else:
                lines.append(line)
                line = word
        out += [part.rstrip() for part in lines + [line]]
    return tuple(out)


def _plain_text(t: tables.Table, width: int) -> str:
    """The table as rich draws it (rich_renderables), laid out here: rich's import and layout are
    most of a small summary's own time, and about a millisecond a cell would dominate a
    10,000-layer one (docs/performance.md). The text is rich's where `_plain_is_rich` says so."""
    keys, sizes = ["label", *t.shown], _sizes(t, width)

    aligned = [str.rjust if k in NUMERIC else str.ljust for k in keys]

    def join(cells):
        return (" " * GAP).join(align(c, w) for align, c, w in zip(aligned, cells, sizes))

    out = list(_folded(t.title, width)) + [join([HEADERS[k] for k in keys]),
                                           "─" * (sum(sizes) + GAP * (len(sizes) - 1))]
    for line in t.lines:
        cells = [_folded(_label(line), sizes[0])]
        for key, size in zip(t.shown, sizes[1:]):
            cell = line.cells[key]
            below = ()
            if t.formulas and cell.formula:     # beneath the value; indented under a shape
                indent = "" if key in NUMERIC else "  "
                below = tuple(indent + part for part in _folded(cell.formula, size - len(indent)))
            cells.append((cell.value,) + below)
        for i in range(max(map(len, cells))):
            out.append(join([cell[i] if i < len(cell) else "" for cell in cells]))
    heads = _total_heads(t)
    indent = max(map(len, heads)) + 3       # the totals grid's padding
    formulas = [_total_formula(total, t.model) for total in t.totals]
    room = min(width - indent, max(map(len, formulas)))
    for head, text in zip(heads, formulas):
        wrapped = _folded(text, room) if text else ("",)
        out += [head.ljust(indent) + wrapped[0]] + [" " * indent + rest for rest in wrapped[1:]]
    for note in list(t.notes) + [f"Assumes: {c}" for c in t.constraints]:
        out += _folded(note, width)
    return "\n".join(line.rstrip() for line in out)


def _sizes(t: tables.Table, width: int) -> list:
    """Each column's width as rich draws it: _widths', else its natural one."""
    measured = _natural(t)      # once: a pass over every cell of a long table
    _, natural, longest = measured
    return [n if s is None else s for s, n in zip(_widths(t, width, measured), [longest, *natural])]


def _total_heads(t: tables.Table) -> list:
    return [f"{total.label}: {total_value(total, t.evaluation)}" + (f" ({total.size})" if total.size else "")
            for total in t.totals]


def _plain_is_rich(t: tables.Table, width: int) -> bool:
    """Whether _plain_text gives rich's text: the columns fit the line (rich shrinks no column
    of a set width), the totals' formulas have room beside their heads, and every character
    is one cell wide."""
    sizes, heads = _sizes(t, width), _total_heads(t)
    if sum(sizes) + GAP * (len(sizes) - 1) > width or (heads and width - (max(map(len, heads)) + 3) < 1):
        return False
    texts = [t.title, *heads, *t.notes, *t.constraints, *HEADERS.values()]
    texts += [text for line in t.lines for text in
              [_label(line), *(part for cell in line.cells.values() for part in (cell.value, cell.formula or ""))]]
    return all(map(one_cell_each, texts))


def one_cell_each(text: str) -> bool:
    """Whether every character of `text` takes one cell on a terminal (rich's measure too), as
    ASCII, Latin and the other alphabets before U+1100 do (not marks, not controls)."""
    return text.isprintable() and all(ord(ch) < 0x1100 and unicodedata.category(ch)[0] != "M" for ch in text)


# Past this many rows the plain layout is used even where it may not be rich's text (a character
# two cells wide): rich's cost, about a millisecond a cell, would dominate.
RICH_ROWS = 1000


def render_text(t: tables.Table, width: int | None = None, color: bool = False) -> str:
    width = width or terminal_width()
    if not color and (len(t.lines) > RICH_ROWS or _plain_is_rich(t, width)):
        return _plain_text(t, width)
    from rich.console import Console, Group
    buffer = io.StringIO()
    console = Console(file=buffer, width=width, force_terminal=color,
                      color_system="standard" if color else None, highlight=False, soft_wrap=False)
    # One print of them all: rich's cost per print call dominated 10,000 `where` lines.
    console.print(Group(*rich_renderables(t, console.width)))
    return "\n".join(line.rstrip() for line in buffer.getvalue().rstrip("\n").splitlines())


def text_table(model, ev, expand: bool = False, columns=None, depth: int = 0, width: int | None = None,
               color: bool = False, **sizes) -> str:
    return render_text(_table(model, ev, expand, columns, depth, **sizes), width, color)


# ---------------------------------------------------------------- Markdown, LaTeX, HTML

def _md_code(text: str) -> str:
    return f"`{text}`" if text else ""


def markdown_table(model, ev, expand: bool = False, columns=None, depth: int = 0, **sizes) -> str:
    t = _table(model, ev, expand, columns, depth, **sizes)
    heads, aligns = [HEADERS["label"]], ["---"]
    for key in t.shown:
        heads.append(HEADERS[key])
        aligns.append("---:" if key in NUMERIC else "---")
        if t.formulas and key in ("output_shape", "params", "macs"):
            heads.append({"output_shape": "Shape formula", "params": "Param formula", "macs": "MAC formula"}[key])
            aligns.append("---")
    lines = [f"**{model.name}** ({model.convention.name} convention"
             + (f", {values_text(ev)}" if ev.values else "") + ")", "",
             "| " + " | ".join(heads) + " |", "|" + "|".join(aligns) + "|"]
    for line in t.lines:
        cells = [f"{'&nbsp;&nbsp;' * line.depth}{line.label}" + (f" ({line.note})" if line.note else "")]
        for key in t.shown:
            cell = line.cells[key]
            cells.append(f"`{cell.value}`" if key == "output_shape" else cell.value)
            if t.formulas and key in ("output_shape", "params", "macs"):
                cells.append(_md_code(cell.formula or (cell.value if key != "output_shape" else "")))
        lines.append("| " + " | ".join(cells) + " |")
    lines.append("")
    for total in t.totals:
        lines.append(f"- {total.label}: **{total_value(total, t.evaluation)}** = `{total.formula}`")
    lines += [f"- {n}" for n in t.notes] + [f"- Assumes: `{c}`" for c in t.constraints]
    return "\n".join(lines)


def _latex_text(text: str) -> str:
    return text.replace("\\", r"\textbackslash{}").replace("_", r"\_").replace("&", r"\&").replace("#", r"\#") \
        .replace("%", r"\%")


def latex_table(model, ev, expand: bool = False, columns=None, depth: int = 0, **sizes) -> str:
    """The summary as a LaTeX tabular: shapes and counts as formulas (the user's symbol names) and numbers."""
    from .printing import latex, latex_number
    t = _table(model, ev, expand, columns, depth, **sizes)
    none = r"\mathrm{None}"

    def count(value):
        return "?" if value is None else latex_number(value)

    heads, align = ["Layer (type)"], "l"
    for key in t.shown:
        if key == "output_shape":
            heads += ["Output shape"] + (["at these sizes"] if t.formulas else [])
            align += "ll" if t.formulas else "l"
        else:
            heads += [_latex_text(HEADERS[key])] + ([_latex_text(HEADERS[key][:-2] if key == "params" else "MAC")
                                                      + " formula"] if t.formulas and key in ("params", "macs") else [])
            align += "r" + ("l" if t.formulas and key in ("params", "macs") else "")
    lines = [f"\\begin{{tabular}}{{{align}}}", r"\hline", " & ".join(heads) + r" \\", r"\hline"]
    for line in t.lines:
        r = line.row
        cells = [r"\quad " * line.depth + _latex_text(line.label)]
        for key in t.shown:
            if key == "output_shape":
                values = tuple("?" if v is None else v for v in ev.shape(r.output_shape))
                if t.formulas:
                    cells.append(f"$({', '.join([none] + [latex(d) for d in r.output_shape])})$")
                cells.append(f"$({', '.join([none] + [str(v) for v in values])})$")
            elif key in ("params", "macs"):
                expr = getattr(r, key)
                cells.append(count(ev.number(expr)))
                if t.formulas:
                    cells.append(f"${latex(canonical(expr))}$")
            else:
                cells.append(_latex_text(line.cells[key].value))
        lines.append(" & ".join(cells) + r" \\")
    lines.append(r"\hline")
    span = len(heads) - 2 if t.formulas else len(heads) - 1
    for total in t.totals:
        lines.append(f"\\multicolumn{{{span}}}{{l}}{{{total.label}}} & {count(total.value)}"
                     + (f" & ${latex(canonical(total.expr))}$" if t.formulas else "") + r" \\")
    lines += [r"\hline", r"\end{tabular}"]
    return "\n".join(lines)


def html_table(model, ev, expand: bool = False, columns=None, depth: int = 0, **sizes) -> str:
    """The summary as an HTML table, for notebooks: each cell's number over its formula (typeset by
    MathJax where the notebook has it), the rows' notes, the totals and the model's assumptions."""
    return html(_table(model, ev, expand, columns, depth, **sizes))


def html(t: tables.Table) -> str:
    from html import escape
    from .printing import latex
    model, ev = t.model, t.evaluation
    head = f"<p><b>{escape(model.name)}</b> ({model.convention.name} convention" + \
        (f", {escape(values_text(ev))}" if ev.values else "") + ")</p>"
    rows = ["<tr>" + "".join(f"<th>{escape(HEADERS[k])}</th>" for k in ["label", *t.shown]) + "<th>Note</th></tr>"]
    for line in t.lines:
        cells = [f"<td>{'&nbsp;&nbsp;' * line.depth}{escape(line.label)}</td>"]
        for key in t.shown:
            cell = line.cells[key]
            align = " style='text-align:right'" if key in NUMERIC else ""
            below = ""
            if t.formulas and cell.formula:
                below = f"<br><code>{escape(cell.formula)}</code>"
            cells.append(f"<td{align}>{escape(cell.value)}{below}</td>")
        cells.append(f"<td>{escape(line.note)}</td>")
        rows.append("<tr>" + "".join(cells) + "</tr>")
    span = len(t.shown) + 2
    for total in t.totals:
        rows.append(f"<tr><td colspan='{span}'><b>{escape(total.label)}</b>: {escape(total_value(total, t.evaluation))}"
                    f" = <code>{escape(total.formula)}</code> \\({escape(latex(canonical(total.expr)))}\\)</td></tr>")
    for n in t.notes:
        rows.append(f"<tr><td colspan='{span}'>{escape(n)}</td></tr>")
    for c in t.constraints:
        rows.append(f"<tr><td colspan='{span}'>Assumes: <code>{escape(c)}</code></td></tr>")
    return head + "<table>" + "".join(rows) + "</table>"


# ---------------------------------------------------------------- JSON

def _pair(expr, ev):
    out = {"expr": formula(expr), "value": ev.number(expr)}
    if out["value"] is None:
        out["why"] = unknown_because(expr, ev.values)
    return out


def unknown_because(expr, values, short: bool = False) -> str:
    """Why a figure has no number at `values`: the symbols it needs that have none."""
    free = sorted(str(s) for s in sp.sympify(expr).free_symbols if s not in values)
    if free and short:
        return f"? ({', '.join(free)} {'has' if len(free) == 1 else 'have'} no value)"
    if free:
        return f"depends on {', '.join(free)}, which {'has' if len(free) == 1 else 'have'} no value " \
               f"(give {'it' if len(free) == 1 else 'them'} one with --set {free[0]}=...)"
    return "? (not a whole number at these values)" if short else "not a whole number at these values"


def _macs(source, ev, what: str = "macs") -> dict:
    """A row's or the model's MACs (or `active` parameters) as JSON; where a layer's are not known,
    that and why."""
    why = tables.not_known(source, what)
    return {"expr": None, "value": None, "not_known": why} if why else _pair(getattr(source, what), ev)


def total_value(total, ev) -> str:
    """A total's number, or, where it has none, why (`depends on H, which has no value ...`)."""
    if total.value is not None or ev is None:
        return number(total.value)
    return unknown_because(total.expr, ev.values, short=True)


def to_json(model, ev) -> dict:
    def shape(s):
        return {"expr": [str(d) for d in s], "value": list(ev.shape(s))}

    def layer(r):
        out = {"name": r.name, "type": r.type, "inputs": r.inputs, "output_shape": shape(r.output_shape),
               "params": _pair(r.params, ev), "trainable": _pair(r.trainable, ev),
               "non_trainable": _pair(r.non_trainable, ev), "buffers": _pair(r.buffers, ev),
               "macs": _macs(r, ev), "note": r.note}
        if r.children:  # a block call or a repeat: the rows inside it, once
            out["children"] = [layer(c) for c in r.children]
        return out
    return {
        "model": model.name,
        "convention": model.convention.name,
        "values": {str(k): int(v) for k, v in ev.values.items()},
        "layers": [layer(r) for r in model.rows],
        "totals": {"params": _pair(model.params, ev), "trainable": _pair(model.trainable, ev),
                   "non_trainable": _pair(model.non_trainable, ev), "buffers": _pair(model.buffers, ev),
                   "macs": _macs(model, ev), "active": _macs(model, ev, "active")},
        "constraints": [c.text for c in model.constraints],
    }


def json_text(model, ev) -> str:
    import json
    return json.dumps(to_json(model, ev), indent=2)

