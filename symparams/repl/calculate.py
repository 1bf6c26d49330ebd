"""A size expression typed alone (`12*W`, `3*3*24*36`, `W/3`): the REPL as a calculator.

The expression is read by the language's own grammar (`syntax.parse_expression`) and computed by
its own evaluator (`expressions.SymbolEvaluator`) over the model's symbols, then valued at the
session's values: exact integers and rationals, never eval or sympify of the typed text. A line
is taken as a calculation only when it is nothing but numbers, the model's symbols, arithmetic
and ceil/floor/min/max; anything else (a layer, a tensor's name, `x + y` of tensors) is a model
line and goes to the model.
"""
from __future__ import annotations

import sympy as sp
from lark import Tree

from .. import bounds
from ..errors import SymparamsError
from ..expressions import DIM_FUNCTIONS, SymbolEvaluator
from ..printing import printed
from ..syntax import parse_expression

ARITHMETIC = {"number", "add", "sub", "mul", "div", "floordiv", "mod", "pow", "neg"}


def expression(text: str, symbols) -> Tree | None:
    """The tree of `text` if it is a size expression in `symbols` alone, else None (a model line)."""
    if not text.strip() or text.lstrip().startswith("#"):
        return None
    try:
        tree = parse_expression(text.strip())
    except SymparamsError:
        return None
    return tree if _sizes_only(tree, set(symbols)) else None


def _sizes_only(node, symbols: set) -> bool:
    if not isinstance(node, Tree):
        return True
    if node.data == "name":
        return str(node.children[0]) in symbols
    if node.data == "call":
        callee, arguments = node.children
        return (callee.data == "name" and str(callee.children[0]) in DIM_FUNCTIONS and arguments is not None
                and all(getattr(a, "data", None) != "kwarg" and _sizes_only(a, symbols) for a in arguments.children))
    return node.data in ARITHMETIC and all(_sizes_only(c, symbols) for c in node.children)


def calculate(tree: Tree, typed: str, symbols: dict, values: dict) -> str:
    """`12*W = 336   at W=28`: the expression's printed form, its exact value at `values` (symbol ->
    number), and the values it used. Raises the evaluator's SymparamsError (division by zero, a
    number too large) for the REPL to show under the typed text."""
    evaluator = SymbolEvaluator(dict(symbols))
    value = evaluator.dim_operand(evaluator.eval(tree))
    if isinstance(value, float):      # 2.5*4: the language keeps a real number real
        return f"{typed.strip()} = {value:,g}"
    value = sp.sympify(value)
    used = {s: values[s] for s in sorted(value.free_symbols, key=str) if s in values}
    shown = printed(value) if value.free_symbols else typed.strip()
    number = bounds.at(value, used, "the expression")
    at = "   at " + ", ".join(f"{s}={v}" for s, v in used.items()) if used else ""
    free = sorted(str(s) for s in number.free_symbols) if isinstance(number, sp.Expr) else []
    if free:          # a symbol with no value: the formula is all there is
        what = f"{', '.join(free)} {'has' if len(free) == 1 else 'have'} no value: :set {free[0]}=..."
        return f"{shown} = {printed(number)}{at}   ({what})" if used else f"{shown}   ({what})"
    text = _number(number)
    return text + at if shown == text or shown == str(number) else f"{shown} = {text}{at}"


def _number(v) -> str:
    """An exact value: 7,776; 28/3 ≈ 9.333; a value sympy keeps unevaluated, as it prints."""
    if v.is_Integer:
        return f"{int(v):,}"
    if v.is_Rational:
        return f"{v.p:,}/{v.q:,} ≈ {float(v):,.6g}"
    return str(v)
