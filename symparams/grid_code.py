"""A closed form as integer NumPy code over a grid of sizes: exact, and near what NumPy written by
hand costs.

Counts are whole numbers, so the code keeps to integer arithmetic: `integer_form` turns floors and
ceilings into floor division and piecewise sizes into numpy.where, and a formula is put over one
denominator (numerator // denominator, the caller flags any remainder).

Two things keep the work small. A polynomial is evaluated in Horner form, one variable factored
out at a time (`d*(L*(12*d + 13) + T + V + 2)`, not `12*L*d**2 + 13*L*d + T*d + V*d + 2*d`), so it
takes few operations. And each varied symbol lives on its own axis of a broadcast grid
(`d` has shape (1, n_d, 1, 1)), a sum or product combining its smallest operands first: `12*d + 13`
is computed over d's values alone, a condition in d alone is checked over d's axis, and only the
last few operations touch the whole grid.

`bound` says whether int64 arrays are exact: it bounds every intermediate value of the code as
evaluated (any partial sum or product of an operation's operands) over the grid. Where it cannot
say, the caller evaluates with Python integers (object arrays), exact and slower.

A form the tree does not know (a function no sheet produces today) is compiled by sympy.lambdify
instead, which takes the same broadcast arrays.
"""
from __future__ import annotations

import math
import operator
from fractions import Fraction

import sympy as sp

from .printing import polynomial_product

# Integer operations the compiled code calls; sympy keeps them as opaque functions.
FloorDiv = sp.Function("_FloorDiv")
Where = sp.Function("_Where")
Minimum = sp.Function("_Minimum")
Maximum = sp.Function("_Maximum")

MAX_TERMS = 5000    # a product expanded past this many terms is left to lambdify (never seen in a model)

_RELATIONS = {sp.Eq: operator.eq, sp.Ne: operator.ne, sp.Lt: operator.lt, sp.Le: operator.le,
              sp.Gt: operator.gt, sp.Ge: operator.ge}


class Unsupported(Exception):
    """A form the tree does not compile; lambdify takes it."""


# ---------------------------------------------------------------- integer form

def integer_form(expr) -> sp.Expr:
    """The same value, computed with + - * ** and floor division only (no fractions, no floats)."""
    expr = sp.sympify(expr)
    if expr.is_Atom:
        return expr
    args = [integer_form(a) for a in expr.args] if not isinstance(expr, sp.Piecewise) else None
    if isinstance(expr, (sp.floor, sp.ceiling)):
        num, den = sp.fraction(sp.together(args[0]))
        num, den = sp.expand(num), sp.expand(den)
        if den == 1:
            return num
        return FloorDiv(num, den) if isinstance(expr, sp.floor) else -FloorDiv(-num, den)
    if isinstance(expr, sp.Piecewise):
        (value, cond), *rest = expr.args
        otherwise = integer_form(sp.Piecewise(*rest)) if rest else sp.Integer(0)
        if cond is sp.true:
            return whole(integer_form(value))
        return Where(condition(cond), whole(integer_form(value)), otherwise)
    if isinstance(expr, (sp.Min, sp.Max)):
        fn = Minimum if isinstance(expr, sp.Min) else Maximum
        return _pairwise(fn, [whole(a) for a in args])
    return expr.func(*args)


def whole(expr) -> sp.Expr:
    num, den = sp.fraction(sp.together(expr))
    return sp.expand(num) if den == 1 else FloorDiv(sp.expand(num), sp.expand(den))


def condition(cond):
    if isinstance(cond, sp.core.relational.Relational):
        return cond.func(integer_form(cond.lhs), integer_form(cond.rhs))
    return cond.func(*[condition(a) for a in cond.args])


def _pairwise(fn, items):
    out = items[0]
    for item in items[1:]:
        out = fn(out, item)
    return out


# ---------------------------------------------------------------- the tree
# A node is a tuple: ("int", value), ("sym", position), ("add", nodes), ("mul", nodes),
# ("pow", node, exponent), ("call", numpy function name, nodes), ("rel", operator, a, b),
# ("and" | "or", nodes), ("not", node).

class Code:
    """One closed form compiled: `evaluate(arrays)` with the varied symbols' arrays in order."""

    def __init__(self, node=None, fallback=None):
        self.node, self.fallback = node, fallback

    def evaluate(self, arrays, np):
        if self.fallback is not None:
            return self.fallback(*arrays)
        return _evaluate(self.node, arrays, np)

    def bound(self, limits: list):
        """An upper bound on |value| and every intermediate value over the grid; None if unknown."""
        return None if self.fallback is not None else _bound(self.node, limits)


def compile_value(expr, symbols: list) -> tuple[Code, Code]:
    """(numerator, denominator) of a closed form, each as integer code."""
    index = {s: i for i, s in enumerate(symbols)}
    expr = sp.sympify(expr)
    if expr.has(sp.floor, sp.ceiling, sp.Piecewise, sp.Min, sp.Max):   # else it is its own integer form
        expr = integer_form(expr)
    try:
        try:
            terms = _terms(expr)
        except _NotPolynomial:   # a size in a denominator (256 / (T % h)): over one denominator first
            num, den = sp.fraction(sp.together(expr))
            return tuple(Code(node) for node in _integer_sides(num, den, index))
        den = math.lcm(*(c.denominator for c in terms.values())) if terms else 1
        num = {m: int(c * den) for m, c in terms.items()}
        return Code(_horner(num, index)), Code(("int", den))
    except Unsupported:
        num, den = sp.fraction(sp.together(expr))
        return _lambdified(sp.expand(num), symbols), _lambdified(sp.expand(den), symbols)


def compile_condition(relation, symbols: list) -> Code:
    """A relation (a `where` rule) as integer code giving booleans."""
    index = {s: i for i, s in enumerate(symbols)}
    relation = condition(relation)
    try:
        return Code(_tree(relation, index))
    except Unsupported:
        return _lambdified(relation, symbols)


def _lambdified(expr, symbols) -> Code:
    np = _numpy()
    # the module object, not the name "numpy": with the name lambdify runs `from numpy import *`
    # on every call (5 ms each against 0.8 ms)
    namespace = {"_FloorDiv": lambda a, b: a // b, "_Where": np.where, "_Minimum": np.minimum,
                 "_Maximum": np.maximum}
    return Code(fallback=sp.lambdify(symbols, expr, modules=[namespace, np]))


def _numpy():
    import numpy
    return numpy


# ---------------------------------------------------------------- sympy to the tree

class _NotPolynomial(Exception):
    pass


ONE = frozenset()    # the monomial of a constant term


def _terms(expr) -> dict:
    """expr as a polynomial {monomial: Fraction} in its symbols and opaque calls (a floor division,
    a where); a monomial is a frozenset of (generator, exponent). Raises _NotPolynomial for a
    negative or fractional power."""
    if expr.is_Rational:
        return {ONE: Fraction(int(expr.p), int(expr.q))} if expr != 0 else {}
    if expr.is_Symbol or isinstance(expr, (FloorDiv, Where, Minimum, Maximum, sp.Mod)):
        return {frozenset({(expr, 1)}): Fraction(1)}
    if expr.is_Add:
        out: dict = {}
        for a in expr.args:
            for m, c in _terms(a).items():
                out[m] = out.get(m, 0) + c
        return {m: c for m, c in out.items() if c != 0}
    if expr.is_Mul:
        out = {ONE: Fraction(1)}
        for a in expr.args:
            out = _times(out, _terms(a))
        return out
    if expr.is_Pow:
        if not (expr.exp.is_Integer and expr.exp > 0):
            raise _NotPolynomial
        base, out = _terms(expr.base), {ONE: Fraction(1)}
        for _ in range(int(expr.exp)):
            out = _times(out, base)
        return out
    raise Unsupported(expr)


def _times(a: dict, b: dict) -> dict:
    out = polynomial_product(a, b)
    if len(out) > MAX_TERMS:
        raise Unsupported("too many terms")
    return out


def _horner(terms: dict, index: dict):
    """A polynomial {monomial: int} as a tree in Horner form: the generator in most terms factored
    out, recursively (d*(L*(12*d + 13) + T + V + 2))."""
    terms = dict(terms)
    constant = terms.pop(ONE, 0)
    parts = [("int", constant)] if constant else []
    while terms:
        counts: dict = {}
        for m in terms:
            for g, _ in m:
                counts[g] = counts.get(g, 0) + 1
        g, n = max(counts.items(), key=lambda item: (item[1], str(item[0])))   # ties: the same choice every run
        if n == 1:   # no generator shared: the terms one by one
            parts += [_monomial(c, m, index) for m, c in terms.items()]
            break
        inner = {}
        for m in [m for m in terms if any(h == g for h, _ in m)]:
            inner[frozenset((h, e - 1) if h == g else (h, e) for h, e in m if not (h == g and e == 1))] = terms.pop(m)
        parts.append(_product([_generator(g, index), _horner(inner, index)]))
    if not parts:
        return ("int", 0)
    return parts[0] if len(parts) == 1 else ("add", _flat("add", parts))


def _monomial(c: int, m: tuple, index: dict):
    factors = [_generator(g, index) if e == 1 else ("pow", _generator(g, index), e) for g, e in m]
    return _product(([("int", c)] if c != 1 else []) + factors)


def _product(factors: list):
    factors = _flat("mul", factors)
    return factors[0] if len(factors) == 1 else ("mul", factors)


def _flat(kind: str, nodes: list) -> list:
    out = []
    for n in nodes:
        out += n[1] if n[0] == kind else [n]
    return out


def _generator(g, index: dict):
    if g.is_Symbol:
        if g not in index:
            raise Unsupported(g)
        return ("sym", index[g])
    return _tree(g, index)


def _tree(expr, index: dict):
    """Any integer-form expression (polynomials inside in Horner form)."""
    if expr is sp.true or expr is sp.false:
        return ("int", bool(expr))
    if isinstance(expr, sp.core.relational.Relational):
        if type(expr) not in _RELATIONS:
            raise Unsupported(expr)
        return ("rel", _RELATIONS[type(expr)], *_integer_sides(expr.lhs, expr.rhs, index))
    if isinstance(expr, (sp.And, sp.Or)):
        return ("and" if isinstance(expr, sp.And) else "or", [_tree(a, index) for a in expr.args])
    if isinstance(expr, sp.Not):
        return ("not", _tree(expr.args[0], index))
    if isinstance(expr, (FloorDiv, Where, Minimum, Maximum, sp.Mod)):
        name = {FloorDiv: "floordiv", Where: "where", Minimum: "minimum", Maximum: "maximum", sp.Mod: "mod"}
        return ("call", name[expr.func], [_tree(a, index) for a in expr.args])
    try:
        terms = _terms(expr)
    except _NotPolynomial:
        raise Unsupported(expr) from None
    if any(c.denominator != 1 for c in terms.values()):
        raise Unsupported(expr)   # a fraction where a whole number is computed: lambdify's floats say so
    return _horner({m: int(c) for m, c in terms.items()}, index)


def _integer_sides(lhs, rhs, index):
    """Two polynomials times the positive integer that clears their fractions: a relation's sides
    (d/12 >= 8 as d >= 96, the same truth), or a numerator and denominator (the same quotient)."""
    try:
        left, right = _terms(sp.sympify(lhs)), _terms(sp.sympify(rhs))
    except _NotPolynomial:
        raise Unsupported(lhs) from None
    scale = math.lcm(*(c.denominator for c in [*left.values(), *right.values()]))
    return (_horner({m: int(c * scale) for m, c in left.items()}, index),
            _horner({m: int(c * scale) for m, c in right.items()}, index))


# ---------------------------------------------------------------- evaluating and bounding

def _size(value) -> int:
    return getattr(value, "size", 1)


def _evaluate(node, arrays, np):
    kind = node[0]
    if kind == "int":
        return node[1]
    if kind == "sym":
        return arrays[node[1]]
    if kind in ("add", "mul", "and", "or"):
        # smallest operands first: work on one axis stays on that axis
        values = sorted((_evaluate(n, arrays, np) for n in node[1]), key=_size)
        combine = {"add": operator.add, "mul": operator.mul, "and": operator.and_, "or": operator.or_}[kind]
        out = values[0]
        for v in values[1:]:
            out = combine(out, v)
        return out
    if kind == "pow":
        return _evaluate(node[1], arrays, np) ** node[2]
    if kind == "rel":
        return node[1](_evaluate(node[2], arrays, np), _evaluate(node[3], arrays, np))
    if kind == "not":
        return ~np.asarray(_evaluate(node[1], arrays, np), dtype=bool)
    args = [_evaluate(n, arrays, np) for n in node[2]]
    name = node[1]
    if name == "floordiv":
        return args[0] // args[1]
    if name == "mod":
        return args[0] % args[1]
    return getattr(np, name)(*args)


def _bound(node, limits: list):
    kind = node[0]
    if kind == "int":
        return abs(int(node[1]))
    if kind == "sym":
        return limits[node[1]]
    if kind == "pow":
        base = _bound(node[1], limits)
        return base ** node[2]
    children = node[1] if kind in ("add", "mul", "and", "or") else node[2] if kind == "call" \
        else node[2:] if kind == "rel" else [node[1]]
    parts = [_bound(n, limits) for n in children]
    if kind == "add":
        return sum(parts)
    if kind == "mul":   # any partial product too: a factor bounded by 0 does not shrink the others
        return math.prod(max(1, p) for p in parts)
    return max(parts)
