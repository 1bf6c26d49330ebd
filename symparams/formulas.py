"""Closed forms as a user takes them away: one quantity of a model or layer, rearranged and printed.

A quantity is a sympy expression in the model's symbols (and the batch symbol B for per-batch
figures and memory). MACs are multiply-accumulates per example; FLOPs = 2 x MACs.
"""
from __future__ import annotations

import json
import re
from functools import lru_cache

import sympy as sp

from . import accounting, bounds, memory
from .errors import ArgumentError, did_you_mean
from .values import format_shape

# --of choices: what each counts, in a few words.
QUANTITIES = {
    "params": "parameters (every weight, trainable or not)",
    "trainable": "trainable parameters",
    "non_trainable": "non-trainable parameters",
    "buffers": "PyTorch buffers (state that is not a parameter)",
    "macs": "multiply-accumulates per example",
    "flops": "floating-point operations per example (2 x MACs)",
    "param_bytes": "bytes of the parameters at --dtype",
    "memory": "torchsummary's estimated total bytes (input + forward/backward + params) for a batch of B",
    **accounting.QUANTITIES,
    "shape": "output shape",
}


def check_quantity(of: str) -> str:
    if of not in QUANTITIES:
        raise ArgumentError(f"unknown quantity '{of}'", hint=did_you_mean(of, QUANTITIES) or
                            "choose one of " + ", ".join(QUANTITIES))
    return of


def quantity(model, of: str, layer: str | None = None, dtype: str = "float32", per_batch: bool = False,
             settings: accounting.Settings | None = None):
    """The closed form of `of` for the whole model or one layer (a tuple for `shape`).

    `per_batch` multiplies per-example figures (MACs, FLOPs, ...) by the batch symbol B;
    `settings` are the large-model accounting's choices (recomputation, optimizer, devices).
    """
    check_quantity(of)
    if of in accounting.QUANTITIES:
        return accounting.quantity(model, of, layer, dtype, per_batch, settings)
    row = model.row(layer) if layer else None
    source = row if row is not None else model
    if of == "shape":
        return tuple(row.output_shape if row is not None else model.output_shape)
    if of in ("params", "trainable", "non_trainable", "buffers", "macs"):
        expr = sp.sympify(getattr(source, of))
    elif of == "flops":
        expr = 2 * sp.sympify(source.macs)
    elif of == "param_bytes":
        expr = sp.sympify(source.params) * memory.dtype_bytes(dtype)
    else:  # memory
        if row is None:
            expr = memory.estimate(model, dtype).total
        else:  # one layer's share: its weights, and its output kept for the backward pass
            size = memory.dtype_bytes(dtype)
            expr = row.params * size + 2 * model.batch * memory.activation_elements([row]) * size
    if per_batch and of in ("macs", "flops"):
        expr = model.batch * expr
    return sp.expand(expr) if not expr.has(sp.floor, sp.ceiling, sp.Piecewise) else expr


# Past CANONICAL_OPS operations a closed form is printed as sympy keeps it: pulling factors out
# of a huge expression costs more than it helps a reader. Counting operations and expanding cost
# more than linear time too, so past EXPAND_NODES nodes (counted cheaply, stopping at the cap) an
# expression is not expanded, and past SIMPLIFY_NODES not counted.
CANONICAL_OPS = 60
EXPAND_NODES = 2000
SIMPLIFY_NODES = 200


def _at_most(expr, nodes: int) -> bool:
    for n, _ in enumerate(sp.preorder_traversal(expr)):
        if n >= nodes:
            return False
    return True


@lru_cache(maxsize=4096)
def canonical(expr) -> sp.Expr:
    """The one printed form of a closed form, used by every output: expanded (so equal totals
    print alike), then its common factors pulled out where that reads shorter
    (`classes*(H*W + 1)`). factor_terms extracts common content only, which is what a reader wants
    from a count, and is several times cheaper than a full factorisation. The rows of a long model
    repeat a few formulas, hence the cache."""
    expr = sp.sympify(expr)
    if expr.is_number or not isinstance(expr, sp.Expr) or not _at_most(expr, EXPAND_NODES):
        return expr
    if not expr.has(sp.floor, sp.ceiling, sp.Piecewise, sp.Min, sp.Max):
        expr = sp.expand(expr)
    if not _at_most(expr, SIMPLIFY_NODES) or sp.count_ops(expr) > CANONICAL_OPS:
        return expr
    factored = sp.factor_terms(expr)
    return factored if len(str(factored)) <= len(str(expr)) else expr


@lru_cache(maxsize=4096)
def printed(expr) -> str:
    """canonical(expr) as text; printing costs as much as rearranging, so it is cached too."""
    return str(canonical(expr))


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


# ---------------------------------------------------------------- LaTeX

_GREEK = {"alpha", "beta", "gamma", "delta", "epsilon", "zeta", "eta", "theta", "iota", "kappa", "lambda",
          "mu", "nu", "xi", "omicron", "pi", "rho", "sigma", "tau", "upsilon", "phi", "chi", "psi", "omega"}


def latex_name(name: str) -> str:
    """A symbol as the user named it: one letter or a Greek name as sympy prints it, `d_model` with a
    subscript, and any other word upright-italic as one unit (\\mathit{classes}, not c·l·a·s·s·e·s)."""
    head, _, sub = name.partition("_")
    if len(head) == 1 or head.lower() in _GREEK:
        return sp.latex(sp.Symbol(name))
    body = r"\mathit{" + head + "}"
    return body + ("_{" + sub.replace("_", r"\_") + "}" if sub else "")


def latex(expr) -> str:
    """sympy.latex with the model's symbol names kept as written."""
    if isinstance(expr, tuple):
        return r"\left(" + ", ".join(latex(e) for e in expr) + r"\right)"
    expr = sp.sympify(expr)
    names = {s: latex_name(s.name) for s in expr.free_symbols}
    return sp.latex(expr, symbol_names=names, mul_symbol=None)


def latex_number(value: int, scientific: bool = False, digits: int = 3) -> str:
    """124{,}439{,}808, or 1.24 \\times 10^{8} when `scientific`."""
    value = int(value)
    if not scientific or abs(value) < 1000:
        return f"{value:,}".replace(",", "{,}")
    exponent = len(str(abs(value))) - 1
    mantissa = sp.Rational(value, 10 ** exponent)
    text = f"{float(mantissa):.{digits - 1}f}".rstrip("0").rstrip(".")
    exact = sp.Rational(text) == mantissa
    return ("" if exact else r"\approx ") + f"{text} \\times 10^{{{exponent}}}"


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
    values = dict(model.evaluate(sets).values)
    values[batch] = sp.Integer(batch_value)
    return values


def _value(expr, values):
    if isinstance(expr, tuple):
        return tuple(_value(e, values) for e in expr)
    v = bounds.at(expr, values)
    return int(v) if v.is_Integer else None


def result(model, expr, of, layer, values) -> dict:
    """What `symparams formula` reports: the expression, its LaTeX and its value at `values`."""
    shown = format_shape(expr) if of == "shape" else str(expr)
    free = set().union(*[sp.sympify(e).free_symbols for e in (expr if isinstance(expr, tuple) else (expr,))])
    out = {"model": model.name, "convention": model.convention.name, "of": of, "layer": layer,
           "expr": shown, "latex": latex(expr), "value": _value(expr, values),
           "values": {str(k): int(v) for k, v in values.items() if k in free}}
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
    if of in ("param_bytes", "memory", "kv_cache", "activations", "training_memory"):
        text += f" bytes ({memory.readable_size(value)})"
    return text


def as_text(model, res: dict) -> str:
    what = describe(model, res['of'], res['layer']) + (f" minus {res['minus']}" if res.get("minus") else "")
    head = f"{what} ({res['convention']} convention):"
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
