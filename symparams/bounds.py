"""Bounded arithmetic and nesting: every number stays small enough to compute, print and format at
once, and every model shallow enough to derive.

One policy for all numbers a user gives, whether written in a model or passed as an option
(`--set`, `--budget`, `--equals`, `--vary`, the REPL's `:set`):

* a number, and every constant that size arithmetic computes, has at most `DIGITS` (100) digits
  before its decimal point (less than 10**100, a googol);
* the exponent of `**` is a number of at most `MAX_EXPONENT` (100) in size;
* a figure derived from them (a parameter count, MACs, bytes) has at most `FIGURE_DIGITS` digits.

Each check runs before the number is computed, from the digits of a literal or the sizes of an
operation's operands, so `10**10**10` or `1e1000000000` is refused in microseconds.

A source text has at most `MAX_LINES` (50,000) lines: reading and deriving take about a tenth
of a millisecond a line, so a 50,000-line file already takes some seconds, and a model that long
is written with `repeat`.

A line has at most `MAX_LINE` (10,000) characters, checked on the text before it is parsed, so
a 10 MB line is refused in microseconds rather than parsed for minutes; names and strings live on
a line, so they are bounded with it. A file an importer reads (a config.json, a Keras model's
JSON, the config.json inside a `.keras` zip) has at most `MAX_FILE_BYTES` (16 MB), checked on
the file's (or the zip member's declared) size before a byte is read or decompressed.

Nesting -- brackets and calls inside one another, the operands of a chain like `1 + 1 + ...`,
blocks calling blocks, repeats inside repeats -- is at most `MAX_NESTING` (100) levels deep,
counted as the interpreter descends (`Evaluator.depth`), so a deep model is one positioned
error rather than Python running out of stack.
"""
from __future__ import annotations

import math
import operator
import re
from fractions import Fraction

import sympy as sp

from .errors import ArgumentError, SyntaxProblem, ValueProblem

DIGITS = 100
LIMIT = 10 ** DIGITS
MAX_EXPONENT = 100
FIGURE_DIGITS = 1000
MAX_NESTING = 100
MAX_LINES = 50_000
MAX_LINE = 10_000
MAX_FILE_BYTES = 16 * 1024 * 1024

_SUFFIXES = {"K": 3, "M": 6, "B": 9, "G": 9, "T": 12}
_NUMBER = re.compile(r"(\d[\d_]*)(?:\.(\d+))?(?:[eE]([+-]?\d+))?([KMBGT]?)")
_TOO_BIG = f"numbers are limited to {DIGITS} digits (less than 10**{DIGITS})"


def number_value(text: str):
    """Exact value of a number's text: an integer wherever it denotes one (7e9, 1.5K), else a float.

    Raises ValueError for text that is not a number and ArgumentError for one beyond the bound;
    the bound is checked on the digits, before the number is computed."""
    m = _NUMBER.fullmatch(text)
    if m is None:
        raise ValueError(text)
    whole, fraction, exponent, suffix = m.groups()
    fraction = fraction or ""
    digits = (whole.replace("_", "") + fraction).lstrip("0")
    if not digits:
        return sp.Integer(0)
    if len(exponent or "") > 7:   # |exponent| of ten million or more: beyond the bound or below any float
        if not exponent.startswith("-"):
            raise ArgumentError(f"the number {_abbreviate(text)} is too large: {_TOO_BIG}")
        return 0.0
    shift = int(exponent or 0) + _SUFFIXES.get(suffix, 0) - len(fraction)
    if len(digits) + shift > DIGITS:
        raise ArgumentError(f"the number {_abbreviate(text)} is too large: {_TOO_BIG}")
    if len(digits) + shift < -400:  # smaller than the smallest float
        return 0.0
    value = int(digits) * Fraction(10) ** shift
    if value.denominator == 1:
        return sp.Integer(value.numerator)
    return float(value)


def _abbreviate(text: str) -> str:
    return text if len(text) <= 24 else text[:10] + "..." + text[-6:]


def _log10(value) -> float:
    """log10 |value| of a nonzero number, computed without evaluating it as a float."""
    value = abs(value)
    if isinstance(value, float):
        return math.log10(value)
    if isinstance(value, sp.Rational):
        return _int_log10(value.p) - _int_log10(value.q)
    return math.log10(float(value))


def _int_log10(n: int) -> float:
    bits = n.bit_length()
    if bits < 1000:
        return math.log10(n)
    return math.log10(n >> (bits - 64)) + (bits - 64) * math.log10(2)


def check_power(base, exponent) -> None:
    """Refuse a `base ** exponent` whose result would be beyond the bound, before computing it."""
    if not (isinstance(exponent, float) or getattr(exponent, "is_number", False)):
        raise ArgumentError("the exponent of ** must be a number, not a size in symbols",
                            hint="write the power out, e.g. d * d, or give the exponent as a number")
    if not (isinstance(exponent, float) or exponent.is_real):
        raise ArgumentError(f"the exponent of ** must be a real number, found {exponent}")
    if abs(exponent) > MAX_EXPONENT:
        raise ArgumentError(f"the exponent {_shown(exponent)} of ** is too large: exponents are limited to "
                            f"{MAX_EXPONENT}")
    if (isinstance(base, float) or base.is_number) and base != 0 and exponent != 0:
        if not (isinstance(base, float) or base.is_real):
            raise ArgumentError(f"the base of ** must be a real number, found {base}")
        if _log10(base) * float(exponent) >= DIGITS:
            raise ArgumentError(f"{_shown(base)} ** {_shown(exponent)} is too large: {_TOO_BIG}")


def check_constant(value):
    """Refuse a constant that size arithmetic computed beyond the bound (a product of big numbers)."""
    if isinstance(value, float):
        if math.isfinite(value) and abs(value) < LIMIT:
            return value
    elif not (isinstance(value, sp.Expr) and value.is_number):
        return value
    elif value.is_finite is False or value.has(sp.zoo, sp.nan, sp.oo, -sp.oo):
        raise ArgumentError("this size is undefined: it divides by zero")
    elif not isinstance(value, sp.Rational) or abs(value) < LIMIT:
        return value
    raise ArgumentError(f"this size is too large: {_TOO_BIG}")


def _shown(value) -> str:
    if isinstance(value, sp.Integer) and abs(value) >= 10 ** 30:
        return f"a {len(str(abs(value)))}-digit number"
    return str(value)


def check_figure(value, what: str = "a figure"):
    """Refuse a derived number too long to print (`FIGURE_DIGITS`), or an undefined one (x / 0)."""
    if isinstance(value, sp.Expr) and value.is_number:
        if value.has(sp.zoo, sp.nan, sp.oo, -sp.oo):
            raise ValueProblem(f"{what}: undefined at these values (it divides by zero)")
        if isinstance(value, sp.Rational) and max(abs(value.p), value.q).bit_length() > FIGURE_DIGITS * 3.33:
            raise ValueProblem(f"{what}: more than {FIGURE_DIGITS} digits at these values",
                               hint=f"sizes are limited to {DIGITS} digits and figures to {FIGURE_DIGITS}")
    return value


def at(expr, values: dict, what: str = "a figure"):
    """`expr` with `values` substituted, refused when that divides by zero or yields too long a number.

    sympy raises on some undefined results instead of returning zoo: Mod(x, 0), or comparing zoo."""
    try:
        value = sp.sympify(expr).xreplace(values)
    except (ZeroDivisionError, TypeError):
        raise ValueProblem(f"{what}: undefined at these values (it divides by zero)") from None
    return check_figure(value, what)


def whole(expr, values: dict, what: str = "a figure") -> int:
    """`at(expr, values, what)` as an int: a figure that still depends on a symbol with no value, or
    is not a whole number there, is refused saying which symbol needs a value, never a crash."""
    value = at(expr, values, what)
    if isinstance(value, sp.Expr) and value.free_symbols:
        free = sorted(str(s) for s in value.free_symbols)
        raise ValueProblem(f"{what}: depends on {', '.join(free)}, which {'has' if len(free) == 1 else 'have'} "
                           "no value", hint=f"give {'it' if len(free) == 1 else 'them'} one with --set {free[0]}=... "
                                            "(in the REPL, :set)", code="no_value", subject=free[0])
    if not (isinstance(value, int) or getattr(value, "is_Integer", False)):
        raise ValueProblem(f"{what}: {value} at these values is not a whole number")
    return int(value)


_COMPARE = {"<=": operator.le, "<": operator.lt, ">=": operator.ge, ">": operator.gt, "==": operator.eq,
            "!=": operator.ne}


def holds(relation, values: dict, what: str = "a condition"):
    """`at(relation, values, what)`, the same verdict: where both sides become rational numbers
    they are compared as numbers, for sympy decides a relation between two numbers through its
    assumptions (a tenth of a millisecond each; 10,000 `where` lines are checked at every
    evaluation)."""
    compare = _COMPARE.get(getattr(relation, "rel_op", None))
    if compare is not None:
        try:
            lhs, rhs = relation.lhs.xreplace(values), relation.rhs.xreplace(values)
        except (ZeroDivisionError, TypeError):
            lhs = rhs = None     # at() says why
        if isinstance(lhs, sp.Rational) and isinstance(rhs, sp.Rational):
            return compare(lhs, rhs)
    return at(relation, values, what)


def option_value(text: str, what: str) -> int:
    """A whole number given as an option (`--set d=512`, `--budget 7e9`), bounded as in a model."""
    text = text.strip()
    sign, digits = (-1, text[1:]) if text.startswith("-") else (1, text.lstrip("+"))
    try:
        value = sign * number_value(digits)
    except ValueError:
        value = None
    if not isinstance(value, sp.Integer):
        raise ArgumentError(f"{what} must be a whole number (like 512, 7e9 or 350M), found '{_abbreviate(text)}'",
                            subject=text)
    return int(value)


def too_deep(pos) -> SyntaxProblem:
    """The error for a model nesting past MAX_NESTING (the interpreter counts its depth)."""
    return SyntaxProblem(f"the model nests more than {MAX_NESTING} levels deep here", pos,
                         "brackets, operator chains, blocks calling blocks and repeats inside repeats "
                         f"together nest at most {MAX_NESTING} levels; name an intermediate value")
