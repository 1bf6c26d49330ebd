"""Closed forms as a user takes them away: one quantity of a model or layer, rearranged and printed.

A quantity is a sympy expression in the model's symbols (and the batch symbol B for per-batch
figures and memory). MACs are multiply-accumulates per example; FLOPs = 2 x MACs.
"""
from __future__ import annotations

import json
import re
from dataclasses import replace

import sympy as sp

from . import bounds, quantities, units
from .printing import canonical, latex, latex_number, readable_size
from .errors import ArgumentError, ValueProblem
from .values import format_shape

# --of choices: what each counts, in a few words (the registry, symparams/quantities/).
QUANTITIES = {name: q.help for name, q in quantities.QUANTITIES.items()}


def check_quantity(of: str) -> str:
    return quantities.check(of).name


def quantity(model, of: str, layer: str | None = None, dtype: str | None = None, per_batch: bool = False,
             settings: quantities.Options | None = None):
    """The closed form of `of` for the whole model or one layer (a tuple for `shape`).

    `per_batch` multiplies per-example figures (MACs, FLOPs, ...) by the batch symbol B;
    `settings` are the quantities' options (dtype, recomputation, optimizer, devices)."""
    opts = settings or quantities.Options()
    if dtype is not None:
        opts = replace(opts, dtype=units.check_dtype(dtype))
    return quantities.figure(model, of, layer, opts, per_batch).total


def rearrange(expr, how: str | None = None, model=None, collect: str | None = None):
    """expand, factor, or collect powers of one symbol; by default the canonical form."""
    if isinstance(expr, tuple):
        return tuple(rearrange(e, how, model, collect) for e in expr)
    expr = sp.sympify(expr)
    if how == "expand":
        return sp.expand(expr)
    if how == "factor":
        return sp.factor(expr)
    if how == "collect":
        return sp.collect(sp.expand(expr), model.symbol(collect))
    return canonical(expr)


# ---------------------------------------------------------------- the `formula` result

def describe(model, of: str, layer: str | None) -> str:
    what = {"shape": "output shape"}.get(of, of)
    return f"{what} of " + (f"layer {layer}" if layer else f"model {model.name}")


def evaluation_values(model, sets: dict, batch_default: int = 1) -> dict:
    """Symbol -> value at the defaults updated by `sets`, checked; the batch symbol (B) may be set too."""
    sets = dict(sets)
    batch = model.batch
    batch_value = sets.pop(batch.name, batch_default)
    if batch_value <= 0:
        raise ArgumentError(f"the batch size {batch.name} must be positive, found {batch_value}")
    values = dict(model.evaluate(sets).values)     # Model.assignments, checked whole, then every rule
    values[batch] = sp.Integer(batch_value)
    return values


def _value(expr, values, of: str = "the figure"):
    """The figure's number at `values`; None where it depends on a symbol with no value (a device
    count given by name: `free` says which). A number that is not whole is refused, never shown
    as `?`."""
    if isinstance(expr, tuple):
        return tuple(_value(e, values, of) for e in expr)
    v = bounds.at(expr, values, of)
    if v.is_Integer:
        return int(v)
    if v.is_number:
        raise ValueProblem(f"{of} at these values is {v} ({float(v):,.2f}), not a whole number",
                           hint="a size or device count splits something unevenly; check the options that "
                                "divide (--tp, --pp, --dp, --ep) and --set")
    return None


def result(model, expr, of, layer, values, counted_at: dict | None = None, figure=None) -> dict:
    """What `symparams formula` reports: the expression, its LaTeX and its value at `values`;
    `counted_at` the dtype and rule the figure was counted by, `figure` the quantities.Figure whose
    conditions the values must meet (heads that --tp divides)."""
    if figure is not None:
        figure.check(values)
    shown = format_shape(expr) if of == "shape" else str(expr)
    free = set().union(*[sp.sympify(e).free_symbols for e in (expr if isinstance(expr, tuple) else (expr,))])
    out = {"model": model.name, "convention": model.convention.name, "of": of, "layer": layer,
           "expr": shown, "latex": latex(expr), "value": _value(expr, values, of),
           "values": {str(k): int(v) for k, v in values.items() if k in free}}
    out.update({k: v for k, v in (counted_at or {}).items() if v is not None})
    unset = sorted(str(s) for s in free if s not in values)
    if unset:   # symbols with no value (a device count given as a name): the figure stays a formula
        out["free"] = unset
    return out


def _value_text(value, of) -> str:
    if value is None:
        return "?"
    if isinstance(value, tuple):
        return format_shape(value)
    text = f"{value:,}"
    if quantities.is_bytes(of):
        text += f" bytes ({readable_size(value)})"
    return text


def as_text(model, res: dict) -> str:
    what = describe(model, res['of'], res['layer']) + (f" minus {res['minus']}" if res.get("minus") else "")
    counted = "".join(f", {res[k]}" for k in ("dtype", "rule") if res.get(k))
    head = f"{what} ({res['convention']} convention{counted}):"
    lines = [head, f"  {res['expr']}"]
    if res["values"] and res["expr"] != _value_text(res["value"], res["of"]):
        at = ", ".join(f"{k}={v}" for k, v in res["values"].items())
        free = f" ({', '.join(res['free'])} free)" if res.get("free") else ""
        lines.append(f"  = {_value_text(res['value'], res['of'])}   at {at}{free}")
    return "\n".join(lines)


def as_latex(model, res: dict, scientific: bool = False) -> str:
    text = res["latex"]
    value = res["value"]
    if isinstance(value, int) and not re.fullmatch(r"[\d{},]+", text):
        number = latex_number(value, scientific)
        text += (" " if number.startswith("\\approx") else " = ") + number
    counted = ", ".join(res[k] for k in ("dtype", "rule") if res.get(k))
    if counted:      # the dtype and rule a figure was counted by, beside it
        text += r" \quad \text{(" + counted.replace("_", r"\_") + ")}"
    return text


def as_markdown(model, res: dict, scientific: bool = False) -> str:
    lines = [f"**{describe(model, res['of'], res['layer'])}**", "", f"$$ {as_latex(model, res, scientific)} $$", "",
             f"`{res['expr']}`"]
    if res["values"]:
        at = ", ".join(f"{k}={v}" for k, v in res["values"].items())
        lines.append(f"= {_value_text(res['value'], res['of'])} at {at}")
    return "\n".join(lines)


def as_json(model, res: dict) -> str:
    return json.dumps(res, indent=2)
