"""Closed forms compiled once for the page: each sympy expression as a small tree of JSON arrays.

The page (static/app.js) evaluates these trees over exact rationals (JavaScript BigInt numerator
and denominator) at every slider move, so no figure is ever rounded and nothing is re-derived: the
server derives the model once, the page only substitutes numbers. The trees are data, never code:
the page walks them, it runs no `eval`. `evaluate` below is the same walk in Python, which the
tests and the benchmark use beside the page's.

A tree is a string (an integer literal, exact however long), or [op, ...]:

    ["s", name]            a symbol's value (null where it has none: the figure is then unknown)
    ["q", p, q]            the rational p/q
    ["+", a, b, ...]       ["*", a, b, ...]      ["^", a, "k"] (an integer power, k may be negative)
    ["floor", a]  ["ceil", a]  ["mod", a, b] (Python's: the divisor's sign)  ["abs", a]
    ["min", a, ...]  ["max", a, ...]      ["pw", [cond, value], ...] (sympy's Piecewise)
    ["==" | "!=" | "<" | "<=" | ">" | ">=", a, b]   ["and", ...]  ["or", ...]  ["not", a]
    ["true"]  ["false"]
"""
from __future__ import annotations

from fractions import Fraction

import sympy as sp


class NotCompilable(Exception):
    """An expression holding something the page cannot evaluate exactly (a float, a root)."""


_RELATIONS = {sp.Eq: "==", sp.Ne: "!=", sp.StrictLessThan: "<", sp.LessThan: "<=",
              sp.StrictGreaterThan: ">", sp.GreaterThan: ">="}


def tree(e):
    """The JSON tree of a sympy expression or relation; NotCompilable for what it cannot hold."""
    e = sp.sympify(e)
    if e is sp.true or e is True:
        return ["true"]
    if e is sp.false or e is False:
        return ["false"]
    if e.is_Integer:
        return str(int(e))
    if e.is_Rational:
        return ["q", str(e.p), str(e.q)]
    if e.is_Symbol:
        return ["s", e.name]
    if e.is_Add:
        return ["+", *[tree(a) for a in e.args]]
    if e.is_Mul:
        return ["*", *[tree(a) for a in e.args]]
    if e.is_Pow:
        if not e.exp.is_Integer:
            raise NotCompilable(f"a power {e.exp} that is not a whole number")
        return ["^", tree(e.base), str(int(e.exp))]
    if isinstance(e, sp.floor):
        return ["floor", tree(e.args[0])]
    if isinstance(e, sp.ceiling):
        return ["ceil", tree(e.args[0])]
    if isinstance(e, sp.Mod):
        return ["mod", tree(e.args[0]), tree(e.args[1])]
    if isinstance(e, sp.Abs):
        return ["abs", tree(e.args[0])]
    if isinstance(e, sp.Min):
        return ["min", *[tree(a) for a in e.args]]
    if isinstance(e, sp.Max):
        return ["max", *[tree(a) for a in e.args]]
    if isinstance(e, sp.Piecewise):
        return ["pw", *[[tree(c), tree(v)] for v, c in e.args]]
    for kind, op in _RELATIONS.items():
        if isinstance(e, kind):
            return [op, tree(e.lhs), tree(e.rhs)]
    if isinstance(e, sp.And):
        return ["and", *[tree(a) for a in e.args]]
    if isinstance(e, sp.Or):
        return ["or", *[tree(a) for a in e.args]]
    if isinstance(e, sp.Not):
        return ["not", tree(e.args[0])]
    raise NotCompilable(f"{type(e).__name__} is not evaluated on the page")


# ---------------------------------------------------------------- the same walk in Python

class Undefined(Exception):
    """A division by zero, or a Piecewise none of whose conditions holds."""


def evaluate(t, values: dict):
    """A tree's value at `values` (name -> int): a Fraction, a bool, or None where a symbol it needs
    has no value. Raises Undefined where sympy's value would be undefined (zoo, nan)."""
    if isinstance(t, str):
        return Fraction(int(t))
    op, args = t[0], t[1:]
    if op == "s":
        v = values.get(args[0])
        return None if v is None else Fraction(v)
    if op == "q":
        return Fraction(int(args[0]), int(args[1]))
    if op == "true":
        return True
    if op == "false":
        return False
    if op == "pw":
        for cond, value in args:
            c = evaluate(cond, values)
            if c is None:
                return None
            if c:
                return evaluate(value, values)
        raise Undefined("no case of a piecewise size holds")
    if op == "and":
        parts = [evaluate(a, values) for a in args]
        return False if False in parts else (None if None in parts else True)
    if op == "or":
        parts = [evaluate(a, values) for a in args]
        return True if True in parts else (None if None in parts else False)
    xs = [evaluate(a, values) if i == 0 or op != "^" else int(a) for i, a in enumerate(args)]
    if any(x is None for x in xs):
        return None
    if op == "+":
        return sum(xs, Fraction(0))
    if op == "*":
        out = Fraction(1)
        for x in xs:
            out *= x
        return out
    if op == "^":
        base, k = xs
        if base == 0 and k < 0:
            raise Undefined("division by zero")
        return base ** k
    if op == "floor":
        return Fraction(xs[0].numerator // xs[0].denominator)
    if op == "ceil":
        return Fraction(-(-xs[0].numerator // xs[0].denominator))
    if op == "mod":
        a, b = xs
        if b == 0:
            raise Undefined("modulo zero")
        return a - b * (a.numerator * b.denominator // (a.denominator * b.numerator))
    if op == "abs":
        return abs(xs[0])
    if op == "min":
        return min(xs)
    if op == "max":
        return max(xs)
    if op == "not":
        return not xs[0]
    return {"==": lambda a, b: a == b, "!=": lambda a, b: a != b, "<": lambda a, b: a < b,
            "<=": lambda a, b: a <= b, ">": lambda a, b: a > b, ">=": lambda a, b: a >= b}[op](*xs)


def whole(t, values: dict):
    """A tree's value as an int; None where unknown, undefined or not a whole number."""
    try:
        v = evaluate(t, values)
    except Undefined:
        return None
    if v is None or isinstance(v, bool) or v.denominator != 1:
        return None
    return v.numerator
