"""The sweep's compiled code (grid_code.py: Horner form, each symbol on its own axis, rules checked
over their own axes, no copy when every row is kept) gives exactly what evaluating the model at
each configuration gives (Model.evaluate: sympy, exact), on random grids, near the int64 bound
and past it."""
import random

import pytest

import symparams
from symparams import grid_code, sweep
from symparams.errors import ValueProblem

GPT_LIKE = """\
model gpt(V = 50257, T = 1024, d = 768, h = 12, L = 2):
    where d % h == 0
    tokens = input (T) int
    x = embedding(V, d)(tokens) + position_embedding(T, d)(tokens)
    x = repeat(L, block(d))(x)
    logits = dense(V, use_bias=false)(x)

block block(d)(x):
    a = layernorm(x)
    m = dense(4 * d)(a)
    return x + dense(d)(m)
"""
# Floors, a piecewise size (ceil_mode), a size that is not positive for small H.
STRIDED = """\
convention torch
model strided(C = 3, H = 32, W = 20, f = 8):
    input (C, H, W)
    conv2d(f, 3, strides=2)
    conv2d(f, 3, strides=3, padding=1)
    maxpool2d(3, strides=2, ceil_mode=true)
    flatten
    dense(10)
"""


def exact(model, names, row, figures):
    """The figures at one configuration by Model.evaluate; None where it refuses the configuration."""
    try:
        ev = model.evaluate(dict(zip(names, row)))
    except ValueProblem:
        return None
    return tuple(getattr(ev, f) for f in figures)


def check(model, varied, figures, zipped=False):
    result = sweep.run(model, varied, figures, zipped=zipped)
    names = list(varied)
    if zipped:
        rows = list(zip(*varied.values()))
    else:
        rows = [()]
        for values in varied.values():
            rows = [r + (v,) for r in rows for v in values]
    expected = {r: exact(model, names, r, figures) for r in rows}
    got = {tuple(row[n] for n in names): tuple(row[f] for f in figures) for row in result.rows()}
    assert got == {r: v for r, v in expected.items() if v is not None}
    assert list(got) == [r for r in rows if expected[r] is not None], "the grid's order: numpy.meshgrid(indexing='ij')"
    assert result.size == len(rows) and result.dropped + result.empty + result.fractional == len(rows) - len(got)
    return result


@pytest.mark.parametrize("seed", range(4))
def test_random_grids_equal_exact_evaluation(seed):
    rng = random.Random(seed)
    model = symparams.parse(GPT_LIKE)
    varied = {"d": sorted(rng.sample(range(6, 400, 6), 4)), "h": sorted(rng.sample(range(1, 13), 3)),
              "L": sorted(rng.sample(range(1, 50), 2)), "V": sorted(rng.sample(range(2, 60000), 2))}
    names = list(varied)
    rng.shuffle(names)
    result = check(model, {n: varied[n] for n in names}, ["params", "macs"])
    assert result.exact_dtype == "int64"


@pytest.mark.parametrize("seed", range(3))
def test_floors_and_piecewise_sizes_on_random_grids(seed):
    rng = random.Random(seed)
    model = symparams.parse(STRIDED)
    check(model, {"H": sorted(rng.sample(range(1, 80), 6)), "W": sorted(rng.sample(range(1, 80), 5)),
                  "f": [1, rng.randint(2, 64)]}, ["params", "macs"])


def test_zipped_configurations():
    model = symparams.parse(GPT_LIKE)
    check(model, {"d": [768, 1024, 1000, 1280], "h": [12, 16, 12, 20], "L": [12, 24, 3, 36]}, ["params"], zipped=True)


def test_near_the_int64_bound_and_past_it():
    """int64 while the bound on every intermediate value allows it, Python integers past it: exact
    either side, never wrapped."""
    model = symparams.parse(GPT_LIKE)
    symbols = [model.symbol(n) for n in ("d", "L")]
    num, _ = grid_code.compile_value(model.params.xreplace({model.symbol("V"): 50257, model.symbol("T"): 1024}),
                                     symbols)
    # the largest d (L = 1000) whose bound still fits int64, and the next multiple of 12
    d = 12
    while num.bound([d * 2, 1000]) <= sweep.INT64_MAX:
        d *= 2
    while num.bound([d + 12, 1000]) <= sweep.INT64_MAX:
        d += 12
    inside = check(model, {"d": [d - 12, d], "L": [1, 1000]}, ["params"])
    outside = check(model, {"d": [d, d + 12], "L": [1, 1000]}, ["params"])
    assert inside.exact_dtype == "int64" and outside.exact_dtype == "object"
    assert max(inside.columns["params"]) > 2 ** 62     # near the bound, not far below it


def test_a_rule_in_one_symbol_is_checked_on_its_axis_and_counted_over_the_grid():
    model = symparams.parse(GPT_LIKE)
    result = check(model, {"L": [1, 2, 3], "d": list(range(12, 121, 6)), "V": [10, 20]}, ["params"])
    assert result.dropped == 3 * 9 * 2
    assert result.broken == {"where d % h == 0": (3 * 9 * 2, "--vary d=12:120:12 keeps d a multiple of 12")}


def test_every_row_kept_returns_the_grid_as_columns():
    model = symparams.parse(GPT_LIKE)
    result = check(model, {"d": [12, 24, 36], "L": [1, 2]}, ["params"])
    assert [list(result.columns[n]) for n in ("d", "L")] == [[12, 12, 24, 24, 36, 36], [1, 2, 1, 2, 1, 2]]
    assert all(c.ndim == 1 and c.flags.c_contiguous for c in result.columns.values())


def test_horner_form_factors_the_shared_symbol_out():
    import sympy as sp
    L, d, T, V = sp.symbols("L d T V", positive=True, integer=True)
    num, den = grid_code.compile_value(12 * L * d ** 2 + 13 * L * d + T * d + V * d + 2 * d, [L, d, T, V])
    assert den.node == ("int", 1)
    multiplications = str(num.node).count("'mul'")
    assert multiplications == 3, num.node     # d*(L*(12*d + 13) + T + V + 2)


def test_a_rule_with_a_fraction_and_a_size_below_a_fraction():
    """`d / h >= 16` is compared in integers (d >= 16*h), and 256 / (T % h) divides exactly."""
    model = symparams.parse("model m(d = 64, h = 4, T = 8):\n    where d / h >= 16\n    input (T)\n"
                            "    dense(d)\n    dense(256 / (T % h + 1))\n")
    result = check(model, {"d": [16, 48, 64, 100], "h": [1, 3, 4], "T": [5, 6, 7, 8]}, ["params", "macs"])
    by_rule = {text: n for text, (n, _) in result.broken.items()}
    assert by_rule["where d / h >= 16"] == 3 * 4      # (16, 3), (16, 4), (48, 4) at every T
