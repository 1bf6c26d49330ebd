"""A model as people read it: the Keras-style table, Markdown, and JSON."""
from __future__ import annotations

import json

import sympy as sp

from .formulas import canonical
from .memory import readable_size
from .values import format_shape


def formula(expr) -> str:
    """A closed form as every output prints it (formulas.canonical)."""
    return str(canonical(expr))


def number(value) -> str:
    return "?" if value is None else f"{value:,}"


def counted(n: int, noun: str) -> str:
    """'1 layer', '2 layers'."""
    return f"{n} {noun}{'' if n == 1 else 's'}"


def _values_text(ev) -> str:
    return ", ".join(f"{s}={v}" for s, v in ev.values.items())


def _totals(model, ev) -> list[tuple]:
    rows = [("Total params", model.params), ("Trainable params", model.trainable),
            ("Non-trainable params", model.non_trainable)]
    if model.convention.norm_stats_as_buffers or model.buffers != 0:
        rows.append(("Buffers (not parameters)", model.buffers))
    if sp.expand(model.active - model.params) != 0:   # a mixture of experts: what one token uses
        rows.append(("Active params (one token)", model.active))
    return [(label, expr, ev.number(expr)) for label, expr in rows]


def shown_rows(rows, expand: bool, depth: int = 0):
    """(depth, row) pairs: a block's or repeat's inner rows follow it, one level deeper, if expanded."""
    for r in rows:
        yield depth, r
        if expand:
            yield from shown_rows(r.children, expand, depth + 1)


def text_table(model, ev, expand: bool = False) -> str:
    header = f'Model: "{model.name}"   convention: {model.convention.name}'
    if ev.values:
        header += f"   at {_values_text(ev)}"
    table = [("Layer (type)", "Output Shape", "Param #", "")]
    for depth, r in shown_rows(model.rows, expand):
        shape_value = ev.shape(r.output_shape)
        shape_val = format_shape(tuple("?" if v is None else v for v in shape_value))
        shape_sym = format_shape(r.output_shape)
        params_val = number(ev.number(r.params))
        params_sym = formula(r.params)
        label = "  " * depth + f"{r.name} ({r.type})"
        table.append((label, shape_val, params_val, r.note))
        symbolic_params = not sp.sympify(r.params).is_number
        if shape_sym != shape_val or symbolic_params:
            table.append(("", "  " + shape_sym, "  " + params_sym if symbolic_params else "", ""))
    widths = [max(len(row[i]) for row in table) for i in range(3)]
    rule = "─" * (sum(widths) + 6)
    lines = [header, rule]
    for i, (a, b, c, note) in enumerate(table):
        right = c.rjust(widths[2]) if not c.startswith("  ") else c
        line = f"{a.ljust(widths[0])}   {b.ljust(widths[1])}   {right}"
        if note:
            line += f"   ({note})"
        lines.append(line.rstrip())
        if i == 0:
            lines.append(rule)
    lines.append(rule)
    for label, expr, value in _totals(model, ev):
        text = f"{label}: {number(value)}"
        if value is not None and "params" in label:  # Keras's "(30.66 KB)": the weights as float32
            text += f" ({readable_size(4 * value)})"
        closed_form = formula(expr)
        if closed_form != str(value):
            text += f"   = {closed_form}"
        lines.append(text)
    for c in model.constraints:
        lines.append(f"Assumes: {c.text}")
    return "\n".join(lines)


def markdown_table(model, ev, expand: bool = False) -> str:
    lines = [f"**{model.name}** ({model.convention.name} convention"
             + (f", {_values_text(ev)}" if ev.values else "") + ")", "",
             "| Layer (type) | Output shape | Shape formula | Param # | Param formula |",
             "|---|---|---|---:|---|"]
    for depth, r in shown_rows(model.rows, expand):
        shape_value = format_shape(tuple("?" if v is None else v for v in ev.shape(r.output_shape)))
        lines.append(f"| {'&nbsp;&nbsp;' * depth}{r.name} ({r.type}) | `{shape_value}` | `{format_shape(r.output_shape)}` | "
                     f"{number(ev.number(r.params))} | `{formula(r.params)}` |")
    lines.append("")
    for label, expr, value in _totals(model, ev):
        lines.append(f"- {label}: **{number(value)}** = `{formula(expr)}`")
    return "\n".join(lines)


def _pair(expr, ev):
    return {"expr": formula(expr), "value": ev.number(expr)}


def to_json(model, ev) -> dict:
    def shape(s):
        return {"expr": [str(d) for d in s], "value": list(ev.shape(s))}

    def layer(r):
        out = {"name": r.name, "type": r.type, "inputs": r.inputs, "output_shape": shape(r.output_shape),
               "params": _pair(r.params, ev), "trainable": _pair(r.trainable, ev),
               "non_trainable": _pair(r.non_trainable, ev), "buffers": _pair(r.buffers, ev),
               "macs": _pair(r.macs, ev), "note": r.note}
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
                   "macs": _pair(model.macs, ev), "active": _pair(model.active, ev)},
        "constraints": [c.text for c in model.constraints],
    }


def json_text(model, ev) -> str:
    return json.dumps(to_json(model, ev), indent=2)


def _latex_text(text: str) -> str:
    return text.replace("\\", r"\textbackslash{}").replace("_", r"\_").replace("&", r"\&").replace("#", r"\#") \
        .replace("%", r"\%")


def latex_table(model, ev) -> str:
    """The summary as a LaTeX tabular: shapes and counts as formulas (the user's symbol names) and numbers."""
    from .formulas import latex, latex_number, rearrange
    lines = [r"\begin{tabular}{lllrl}", r"\hline",
             r"Layer (type) & Output shape & at these sizes & Param \# & Param formula \\", r"\hline"]
    none = r"\mathrm{None}"
    for r in model.rows:
        shape_value = tuple("?" if v is None else v for v in ev.shape(r.output_shape))
        value = ev.number(r.params)
        lines.append(f"{_latex_text(r.name)} ({_latex_text(r.type)}) & "
                     f"$({', '.join([none] + [latex(d) for d in r.output_shape])})$ & "
                     f"$({', '.join([none] + [str(v) for v in shape_value])})$ & "
                     f"{'?' if value is None else latex_number(value)} & ${latex(rearrange(r.params))}$ \\\\")
    lines.append(r"\hline")
    for label, expr, value in _totals(model, ev):
        lines.append(f"\\multicolumn{{3}}{{l}}{{{label}}} & {'?' if value is None else latex_number(value)} & "
                     f"${latex(rearrange(expr))}$ \\\\")
    lines += [r"\hline", r"\end{tabular}"]
    return "\n".join(lines)


def html_table(model, ev) -> str:
    """The summary as an HTML table, for notebooks (Model._repr_html_)."""
    from html import escape
    head = f"<p><b>{escape(model.name)}</b> ({model.convention.name} convention" + \
        (f", {escape(_values_text(ev))}" if ev.values else "") + ")</p>"
    rows = ["<tr><th>Layer (type)</th><th>Output shape</th><th>Param #</th><th>Formula</th></tr>"]
    for r in model.rows:
        shape = format_shape(tuple("?" if v is None else v for v in ev.shape(r.output_shape)))
        rows.append(f"<tr><td>{escape(r.name)} ({escape(r.type)})</td><td>{escape(shape)}</td>"
                    f"<td style='text-align:right'>{number(ev.number(r.params))}</td>"
                    f"<td><code>{escape(formula(r.params))}</code></td></tr>")
    for label, expr, value in _totals(model, ev):
        rows.append(f"<tr><td colspan='2'><b>{label}</b></td><td style='text-align:right'><b>{number(value)}</b></td>"
                    f"<td><code>{escape(formula(expr))}</code></td></tr>")
    return head + "<table>" + "".join(rows) + "</table>"
