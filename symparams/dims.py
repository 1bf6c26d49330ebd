"""Dimension arithmetic: exact integers, symbolic comparison, and the conditions it records."""
from __future__ import annotations

from collections import Counter
from functools import reduce
import operator

import sympy as sp

from .errors import ShapeError
from .values import format_shape

def symbol(name: str) -> sp.Symbol:
    return sp.Symbol(name, integer=True, positive=True)


def product(dims) -> sp.Expr:
    return reduce(operator.mul, dims, sp.Integer(1))


def total(terms) -> sp.Expr:
    """sp.Add(*terms), the same expression: a long model's rows repeat a few counts, and sympy
    adds each distinct one once, times how often it occurs, in far less time than all of them."""
    return sp.Add(*[n * t for t, n in Counter(terms).items()])


def floordiv(a, b) -> sp.Expr:
    return sp.floor(sp.sympify(a) / b)


def ceildiv(a, b) -> sp.Expr:
    return sp.ceiling(sp.sympify(a) / b)


def agree(a, b) -> bool | sp.Expr:
    """True if a == b always, False if never (for positive integer symbols), else the condition."""
    diff = sp.expand(sp.sympify(a) - sp.sympify(b))
    if diff == 0:
        return True
    if diff.is_zero is False or diff.is_number:
        return False
    # A ratio of polynomials is zero exactly when cancel brings it to 0: a proof as exact as
    # simplify's, without simplify's first-call import of sympy.physics.units (~80 ms).
    if diff.is_rational_function() and sp.cancel(diff) == 0:
        return True
    # Floors and ceilings hide equalities sympy's expand misses.
    diff = sp.simplify(diff)
    if diff == 0:
        return True
    if diff.is_zero is False:
        return False
    cond = sp.Eq(a, b)
    return cond if isinstance(cond, sp.Eq) else bool(cond)   # sympy may decide what simplify did not


def describe_condition(cond: sp.Eq) -> str:
    free = sorted(cond.free_symbols, key=lambda s: s.name)
    if len(free) == 1:
        try:
            sol = sp.solve(cond, free[0])
        except NotImplementedError:     # floors and ceilings (H = 2*floor(H/2)): state it as it is
            sol = []
        if len(sol) == 1:
            return f"{free[0]} = {sol[0]}"
    return f"{cond.lhs} = {cond.rhs}"


def require_same_shape(shapes, what: str, skip_axis: int | None = None) -> list:
    """Check that shapes agree axis by axis (except `skip_axis`): a ShapeError where they never do,
    else the conditions under which they do (a `+` of (C,) and (128,) holds only if C = 128)."""
    conditions = []
    first = shapes[0]
    for other in shapes[1:]:
        if len(other) != len(first):
            raise ShapeError(f"{what}: shapes {format_shape(first)} and {format_shape(other)} "
                             f"have different ranks ({len(first) + 1} and {len(other) + 1} with the batch)")
        rank = len(first)
        skip = None if skip_axis is None else skip_axis % rank
        for axis, (a, b) in enumerate(zip(first, other)):
            if axis == skip:
                continue
            verdict = agree(a, b)
            if verdict is True:
                continue
            where = f"axis {axis + 1} (counting the batch as axis 0)"
            if verdict is False:
                raise ShapeError(f"{what}: shapes {format_shape(first)} and {format_shape(other)} "
                                 f"differ on {where}: {a} vs {b}")
            conditions.append((verdict, f"{what}: {format_shape(first)} and {format_shape(other)} "
                                        f"need {describe_condition(verdict)} to agree on {where}"))
    return conditions
