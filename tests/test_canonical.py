"""printing.canonical builds a polynomial count's printed form from its terms, without sympy's
expand, factor_terms and factor on the whole expression: it must give exactly what those give.

The reference below is the general route, sympy's own routines on the whole expression (what
canonical did for every formula before); the fast route must equal it structurally and in print
over every row and total of every example and zoo model, and over random polynomials with
negative coefficients, powers, common factors and factorable sums."""
import random
from pathlib import Path

import pytest
import sympy as sp

from symparams import printing
from symparams.dims import total
from symparams.interpreter import read

ROOT = Path(__file__).resolve().parent.parent
FILES = sorted([*ROOT.glob("examples/*.sp"), *ROOT.glob("examples/zoo/*.sp")])
FIGURES = ("params", "trainable", "non_trainable", "buffers", "macs")


def reference(expr):
    """The canonical form by sympy's routines on the whole expression."""
    expr = sp.sympify(expr)
    if expr.is_number or not isinstance(expr, sp.Expr) or not printing._at_most(expr, printing.EXPAND_NODES):
        return expr
    if not expr.has(sp.floor, sp.ceiling, sp.Piecewise, sp.Min, sp.Max):
        expr = sp.expand(expr)
    if not printing._at_most(expr, printing.SIMPLIFY_NODES) or sp.count_ops(expr) > printing.CANONICAL_OPS:
        return expr
    factored = sp.factor_terms(expr)
    best = factored if len(str(factored)) <= len(str(expr)) else expr
    grouped = _grouped(factored)
    return grouped if len(str(grouped)) < len(str(best)) else best


def _grouped(expr):
    if expr.is_Mul:
        return sp.Mul(*[_grouped(f) for f in expr.args])
    if not expr.is_Add or not expr.is_polynomial():
        return expr
    constant, rest = expr.as_coeff_Add()
    factored = sp.factor(rest)
    return constant + factored if factored.is_Mul else expr


def same(expr):
    fast, slow = printing.canonical.__wrapped__(expr), reference(expr)
    assert fast == slow and str(fast) == str(slow), (expr, fast, slow)


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_every_row_and_total_of_the_examples_and_zoo(path):
    program = read(path)
    for name in program.models:
        model = program.model(name)
        for figure in FIGURES:
            summed = total(getattr(node, figure) for node in model.graph.nodes)
            same(summed)
            same(reference(summed))         # a printed form read back prints alike
            for node in model.graph.walk():
                same(getattr(node, figure))


SYMBOLS = sp.symbols("B H W d h classes", positive=True, integer=True)
COEFFICIENTS = [1, 1, 2, 3, 4, 6, 12, 64, 768, 1000, 4096, 2 ** 70]


def random_polynomial(rng):
    terms = []
    for _ in range(rng.randint(1, 6)):
        c = rng.choice(COEFFICIENTS) * (-1 if rng.random() < 0.25 else 1)
        terms.append(c * sp.Mul(*[rng.choice(SYMBOLS[:5]) ** rng.choice([1, 1, 1, 2, 3])
                                  for _ in range(rng.randint(0, 3))]))
    e = sp.Add(*terms)
    shape = rng.random()
    if shape < 0.3:       # a common factor
        e = e * rng.choice(SYMBOLS) * rng.choice([1, 2, 3, 12])
    elif shape < 0.5:     # a product of sums
        e = (e + rng.choice([1, -4, 3])) * (rng.choice(SYMBOLS) + rng.choice([1, -4, 0]))
    elif shape < 0.6:     # a flatten size after valid convolutions, and a bias
        e = rng.choice([2, 4]) * (rng.choice(SYMBOLS) - 4) * (rng.choice(SYMBOLS) - 4) * rng.choice(SYMBOLS) \
            + rng.choice([0, 1, 7])
    return e


def test_random_polynomials():
    rng = random.Random(23)
    for _ in range(600):
        same(random_polynomial(rng))


def test_forms_outside_the_fast_route_are_unchanged():
    H, W, d, h = SYMBOLS[1:5]
    for expr in [d / h * 3 + d, sp.floor(H / 2) * W + W, sp.Rational(1, 2) * d ** 2 + d / 2, sp.Max(H, W) * d + d,
                 (H + 1) ** 30 + 1]:
        same(expr)


def test_canonical_is_cached_and_printed_once():
    d, h = SYMBOLS[3:5]
    expr = 12 * d ** 2 * h + 24 * d * h + 5
    assert printing.canonical(expr) is printing.canonical(12 * d ** 2 * h + 24 * d * h + 5)
    assert printing.printed(expr) == str(reference(expr)) == "12*d*h*(d + 2) + 5"
