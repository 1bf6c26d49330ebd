"""Model.assignments: the one helper turning defaults, --set and --relate into values (issue 18)."""
import pytest
import sympy as sp

import symparams
from symparams.dims import symbol
from symparams.errors import ArgumentError, UnknownName, ValueProblem

TEXT = "model m(d = 64, h = d // 8, f = 4 * d, n):\n    input (n, d)\n    dense(f)\n    dense(h)\n"
d, h, f, n, B = (symbol(s) for s in "dhfnB")


def test_defaults_given_and_chains():
    model = symparams.parse(TEXT)
    assert model.assignments() == {d: 64, h: 8, f: 256}
    assert model.assignments({"d": 128, "n": 3}) == {d: 128, h: 16, f: 512, n: 3}
    assert model.values({"d": 128, "n": 3}) == model.assignments({"d": 128, "n": 3})


def test_free_symbols_stay_in_the_expressions_and_the_batch_is_a_name_when_asked():
    model = symparams.parse(TEXT)
    assert model.assignments(free=["d"]) == {h: sp.floor(d / 8), f: 4 * d}
    assert model.assignments(free=["d"], batch=1)[B] == 1
    assert model.assignments({"B": 4}, free=["d"], batch=1)[B] == 4
    assert B not in model.assignments()


def test_relations_resolve_through_defaults_and_a_circle_is_refused():
    model = symparams.parse(TEXT)
    assert model.assignments(free=["n"], related={"d": 2 * n}) == {d: 2 * n, h: sp.floor(n / 4), f: 8 * n}
    with pytest.raises(ArgumentError, match="in a circle"):
        model.assignments(free=["n"], related={"d": 2 * h})


def test_unknown_names_and_bad_values_are_refused():
    model = symparams.parse(TEXT)
    with pytest.raises(UnknownName, match="no symbol 'dd'") as e:
        model.assignments({"dd": 3})
    assert "did you mean 'd'" in str(e.value.hint)
    with pytest.raises(UnknownName, match="no symbol 'B'"):
        model.assignments({"B": 3})                       # the batch symbol only with batch=
    assert n not in model.values()                        # no value: left out
    with pytest.raises(ValueProblem, match="n must be a positive whole number, found 1/2"):
        model.values({"n": sp.Rational(1, 2)})
    with pytest.raises(ValueProblem, match="d must be a positive whole number, found 0"):
        symparams.parse("model m(d = 8, h = 64 // d):\n    input (h)\n").values({"d": 0})   # before 64 // d
