"""Dimension arithmetic: exact integers, symbolic comparison, and the conditions it records."""
from __future__ import annotations

from collections import Counter
from fractions import Fraction
from functools import lru_cache, reduce
import math
import operator
import zlib

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
    """floor(a / b), the expression sympy's floor gives."""
    return _rounded(sp.floor, sp.sympify(a) / b)


def ceildiv(a, b) -> sp.Expr:
    """ceiling(a / b), the expression sympy's ceiling gives."""
    return _rounded(sp.ceiling, sp.sympify(a) / b)


# sympy's floor and ceiling ask a dozen questions of a new argument (whole? positive? below 1 or
# 2? which terms are whole?) and deducing each is most of a cold start's window sizes (issue 23).
# Each question would move the whole argument, or a term, out of the rounding only if its answer
# held for every positive integer value of the symbols; one assignment where it fails proves that
# sympy leaves the argument whole, and that `cls(arg, evaluate=False)` is what it returns (sympy
# 1.14's RoundFunction.eval). Such assignments are looked for among TRIALS fixed pseudo-random
# ones (each symbol's size from 1 to 2**20, spread over every scale, so that one size can be far
# larger than another); where none is found, sympy decides.
TRIALS = 64


@lru_cache(maxsize=4096)
def _rounded(cls, arg) -> sp.Expr:
    if arg.is_Number or isinstance(arg, (sp.floor, sp.ceiling)) or isinstance(-arg, (sp.floor, sp.ceiling)):
        return cls(arg)
    constant, terms = arg.as_coeff_add()
    if constant.is_Integer and constant != 0 or not constant.is_Rational or not terms:
        return cls(arg)
    constant = Fraction(constant.p, constant.q)
    try:
        past_two, whole_sum = False, True   # the argument not yet seen past 2, nor to take a fraction
        whole = list(terms)                 # nor these terms
        for trial in range(TRIALS):
            values = {t: _value(t, trial) for t in terms}
            total = sum(values.values()) + constant
            past_two = past_two or total > 2    # so not always below 2, nor 0, nor negative
            whole_sum = whole_sum and total.denominator == 1
            whole = [t for t in whole if values[t].denominator == 1]
            if past_two and not whole_sum and not whole:
                return cls(arg, evaluate=False)
    except _NotHandled:
        pass
    return cls(arg)


class _NotHandled(Exception):
    pass


_PLAIN: dict = {}     # symbol -> whether its assumptions are symbol()'s, so any positive integer may stand for it
_VALUES: dict = {}    # (expression, trial) -> its value: nested sizes share their inner floors
MEMO = 100_000


def _value(e, trial: int) -> Fraction:
    """e's exact value at a trial; _NotHandled for anything but +, *, integer powers, floor and
    ceiling of rationals and positive integer symbols."""
    if e.is_Rational:
        return Fraction(e.p, e.q)
    if e.is_Symbol:
        plain = _PLAIN.get(e)
        if plain is None:
            plain = _PLAIN[e] = e.assumptions0 == symbol("_").assumptions0
        if not plain:
            raise _NotHandled
        h = zlib.crc32(f"{e.name}/{trial}".encode())
        return Fraction(1 + h % 2 ** (1 + (h >> 27) % 20))
    key = (e, trial)
    value = _VALUES.get(key)
    if value is None:
        if len(_VALUES) > MEMO:
            _VALUES.clear()
        value = _VALUES[key] = _computed(e, trial)
    return value


def _computed(e, trial: int) -> Fraction:
    if e.is_Add:
        return sum((_value(a, trial) for a in e.args), Fraction(0))
    if e.is_Mul:
        out = Fraction(1)
        for a in e.args:
            out *= _value(a, trial)
        return out
    if e.is_Pow and e.exp.is_Integer:
        base = _value(e.base, trial)
        if base == 0 and e.exp < 0:
            raise _NotHandled
        return base ** int(e.exp)
    if isinstance(e, sp.floor):
        return Fraction(math.floor(_value(e.args[0], trial)))
    if isinstance(e, sp.ceiling):
        return Fraction(math.ceil(_value(e.args[0], trial)))
    raise _NotHandled


def is_whole(e) -> bool | None:
    """Whether a size is always an integer: shown from how it is built (integers and integer
    symbols under +, *, powers, floor, ceiling) without asking sympy, whose first answer for a new
    expression deduces all its assumptions; sympy's is_integer otherwise."""
    e = sp.sympify(e)
    return True if _built(e, True) else e.is_integer


@lru_cache(maxsize=4096)
def _built(e, whole: bool) -> bool:
    """Whether e is always a whole (else a real) number, by how it is built: whole or real leaves
    under +, *, whole powers, and floors and ceilings (whole) of real arguments."""
    if e.is_Symbol or (e.is_Integer if whole else e.is_Rational):
        return (e.is_integer if whole else e.is_real) is True
    if e.is_Add or e.is_Mul:
        return all(_built(a, whole) for a in e.args)
    if e.is_Pow:
        return e.exp.is_Integer and e.exp >= 0 and _built(e.base, whole)
    return isinstance(e, (sp.floor, sp.ceiling)) and _built(e.args[0], False)


def agree(a, b) -> bool | sp.Expr:
    """True if a == b always, False if never (for positive integer symbols), else the condition."""
    diff = sp.expand(sp.sympify(a) - sp.sympify(b))
    if diff == 0:
        return True
    if diff.is_zero is False or diff.is_number:
        return False
    # A ratio of polynomials is zero exactly when cancel brings it to 0: a proof as exact as
    # simplify's, without simplify's first-call import of sympy.physics.units (~80 ms).
    if diff.is_rational_function():
        cancelled = sp.cancel(diff)
        if cancelled == 0:
            return True
        # nor does simplify prove a nonzero ratio of polynomials never zero where its factors do not
        # (and its first call imports sympy.physics.units: ~0.1 s of every PyTorch import)
        if sp.factor(cancelled).is_zero is False:
            return False
        cond = sp.Eq(a, b)
        return cond if isinstance(cond, sp.Eq) else bool(cond)
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
