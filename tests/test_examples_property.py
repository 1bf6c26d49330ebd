"""Every example and zoo model, at sizes hypothesis draws: each layer's formulas == the framework's
counts and shapes, in PyTorch (torch convention) and Keras 3 (keras convention), wherever the
model fits that convention's layout."""
from pathlib import Path

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

import symparams
from symparams.errors import SymparamsError
from symparams.verify.compare import check
from symparams.verify.sizes import FACTORS, accepts, base_values, scaled

ROOT = Path(__file__).resolve().parent.parent / "examples"
FILES = sorted(ROOT.glob("*.sp")) + sorted((ROOT / "zoo").glob("*.sp"))
MODELS = [(path, name) for path in FILES for name in symparams.Program(path.read_text(), str(path)).models]


def derived(path, name, convention):
    try:
        model = symparams.load(path, model=name, convention=convention)
        model.evaluate()
    except SymparamsError:
        return None          # written for the other layout: nothing to check under this convention
    return model


@pytest.mark.parametrize("framework", ["torch", "keras"])
@pytest.mark.parametrize("path, name", MODELS, ids=[f"{p.relative_to(ROOT)}:{n}" for p, n in MODELS])
def test_formulas_equal_the_framework_at_drawn_sizes(path, name, framework):
    model = derived(path, name, framework)
    if model is None:
        pytest.skip(f"{path.name}:{name} does not fit the {framework} convention")
    base = base_values(model)

    @settings(max_examples=4 if path.parent.name == "zoo" else 6, deadline=None, derandomize=True,
              suppress_health_check=[HealthCheck.filter_too_much, HealthCheck.too_slow])
    @given(st.fixed_dictionaries({name: st.sampled_from(FACTORS) for name in base}))
    def agrees(factors):
        values = scaled(base, factors)
        assume(accepts([model], values))
        result = check(model, framework, values)
        assert result.ok, [(r.name, r.formula, r.framework) for r in result.failures]

    agrees()
