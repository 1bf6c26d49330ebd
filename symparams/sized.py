"""Whole numbers that remember their formula, and formulas written as Python or as the language.

Export and import meet here. `symparams export` evaluates a model's plan with every symbol a
`Size` (its value at the defaults, its formula the symbol), so the arithmetic the framework
builders do on sizes keeps the formula and the written code says `nn.Linear(d, 4 * d)`, not
`nn.Linear(768, 3072)`. `symparams import` builds a user's module with its constructor's size
parameters as Sizes, so a layer's `out_features` tells which quantity it is — exactly, not by
guessing from equal values.

A Size is an `int`: frameworks store and compute with it as with any number. Arithmetic between
whole numbers keeps the formula; anything else (a float, a comparison) gives a plain value.
"""
from __future__ import annotations

import sympy as sp
from sympy.printing.precedence import PRECEDENCE
from sympy.printing.str import StrPrinter


class Size(int):
    """An int carrying the exact formula it was computed from (`formula`, a sympy expression)."""

    def __new__(cls, value: int, formula):
        size = int.__new__(cls, value)
        size.formula = sp.sympify(formula)
        return size

    def __repr__(self):
        return python(self.formula)

    def __reduce__(self):              # copies and pickles (torch's deepcopy of a module) keep the formula
        return Size, (int(self), self.formula)

    def _with(self, other, value, combine):
        if isinstance(other, bool) or not isinstance(other, int) or value is NotImplemented:
            return value
        return Size(value, combine(self.formula, formula_of(other)))

    def __add__(self, other):
        return self._with(other, int.__add__(self, other), lambda a, b: a + b)

    def __radd__(self, other):
        return self._with(other, int.__radd__(self, other), lambda a, b: b + a)

    def __sub__(self, other):
        return self._with(other, int.__sub__(self, other), lambda a, b: a - b)

    def __rsub__(self, other):
        return self._with(other, int.__rsub__(self, other), lambda a, b: b - a)

    def __mul__(self, other):
        return self._with(other, int.__mul__(self, other), lambda a, b: a * b)

    def __rmul__(self, other):
        return self._with(other, int.__rmul__(self, other), lambda a, b: b * a)

    def __floordiv__(self, other):
        return self._with(other, int.__floordiv__(self, other), lambda a, b: sp.floor(a / b))

    def __rfloordiv__(self, other):
        return self._with(other, int.__rfloordiv__(self, other), lambda a, b: sp.floor(b / a))

    def __mod__(self, other):
        return self._with(other, int.__mod__(self, other), sp.Mod)

    def __rmod__(self, other):
        return self._with(other, int.__rmod__(self, other), lambda a, b: sp.Mod(b, a))

    def __pow__(self, other, modulo=None):
        value = int.__pow__(self, other, modulo)
        if modulo is not None or not isinstance(value, int):
            return value
        return self._with(other, value, lambda a, b: a ** b)

    def __neg__(self):
        return Size(-int(self), -self.formula)

    def __pos__(self):
        return self

    def __abs__(self):
        return Size(abs(int(self)), sp.Abs(self.formula))


def formula_of(value):
    """The formula of a whole number: a Size's own, a plain int as itself."""
    return value.formula if isinstance(value, Size) else sp.Integer(value)


def sized(value: int, formula) -> int:
    """`value` as a Size remembering `formula`, or the plain int where the formula is a number."""
    formula = sp.sympify(formula)
    return int(value) if formula.is_number else Size(int(value), formula)


class _Language(StrPrinter):
    """A size formula as the language writes it: `//`, `%`, `ceil`, `min`, `max`. A floor is `a // b`
    over its argument brought to one fraction (`floor(n/2 + 1/2)` is `(n + 1) // 2`), bracketed in a
    product, power or `%` (`2*(n // 4)`, `-(n // 2)`: unary minus binds tighter), not in a sum
    (`n // 3 + 1`)."""

    def parenthesize(self, item, level, strict=False):
        if isinstance(item, sp.floor) and self._fraction(item.args[0]):     # a negative product's level is Add's
            return f"({self._print(item)})" if level >= PRECEDENCE["Add"] else self._print(item)
        return super().parenthesize(item, level, strict)

    @staticmethod
    def _fraction(expr):
        numerator, denominator = sp.together(expr).as_numer_denom()
        return None if denominator == 1 else (numerator, denominator)

    def _print_floor(self, expr):
        fraction = self._fraction(expr.args[0])
        if fraction is None:
            return f"floor({self._print(expr.args[0])})"
        numerator, denominator = (self.parenthesize(e, PRECEDENCE["Mul"]) for e in fraction)
        return f"{numerator} // {denominator}"

    def _print_Mod(self, expr):
        a, b = expr.args
        return f"{self.parenthesize(a, 50)} % {self.parenthesize(b, 50)}"

    def _print_ceiling(self, expr):
        return f"ceil({self._print(expr.args[0])})"

    def _print_Max(self, expr):
        return f"max({', '.join(self._print(a) for a in expr.args)})"

    def _print_Min(self, expr):
        return f"min({', '.join(self._print(a) for a in expr.args)})"


class _Python(_Language):
    """A size formula as Python on ints. An exact quotient (the language's `/`, whole wherever the
    model is valid) and `floor(a/b)` are both `a // b` over the quotient brought to one fraction
    (`(S - 1)/2 + 1` is `(S + 1) // 2`, never `S // 2 + 1 // 2`); `ceil(a/b)` is `-(-a // b)`."""

    parenthesize = StrPrinter.parenthesize      # its quotients bracket themselves

    def _quotient(self, expr, negate=False):
        numerator, denominator = sp.together(expr).as_numer_denom()
        if denominator == 1:
            return None
        top = f"-{self.parenthesize(numerator, 60)}" if negate else self.parenthesize(numerator, 50)
        return f"({top} // {self.parenthesize(denominator, 51)})"

    def _print_Mul(self, expr):
        return self._quotient(expr) or super()._print_Mul(expr)

    def _print_Add(self, expr, order=None):
        return self._quotient(expr) or super()._print_Add(expr, order)

    def _print_Rational(self, expr):
        return f"({expr.p} // {expr.q})"

    def _print_floor(self, expr):
        return self._quotient(expr.args[0]) or self._print(expr.args[0])

    def _print_ceiling(self, expr):
        quotient = self._quotient(expr.args[0], negate=True)
        return f"(-{quotient})" if quotient else self._print(expr.args[0])


def language(formula) -> str:
    return _Language().doprint(sp.sympify(formula))


def python(formula) -> str:
    text = _Python().doprint(sp.sympify(formula))
    return text[1:-1] if text.startswith("(") and _closes_at_end(text) else text


def _closes_at_end(text: str) -> bool:
    depth = 0
    for i, c in enumerate(text):
        depth += {"(": 1, ")": -1}.get(c, 0)
        if depth == 0:
            return i == len(text) - 1
    return False
