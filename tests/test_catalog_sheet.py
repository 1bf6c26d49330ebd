"""The catalog reads as a formula sheet: one greppable `def NAME` per entry, every Keras/PyTorch
difference as data in conventions.py, builder rows that name real entries and arguments, and a new
layer that needs its entry, its builder entries and its tests -- nothing else."""
import inspect
import re
import sys

import pytest

import symparams
from symparams import catalog, conventions
from symparams.catalog import registry
from symparams.catalog.registry import Bool, Dim, Out, layer
from symparams.dims import product
from symparams.verify.compare import check
from symparams.verify.keras_builder import KERAS
from symparams.verify.make import Call, Make, declared_in_language
from symparams.verify.torch_builder import TORCH

ENTRIES = [s for s in catalog.specs() if not declared_in_language(s)]
# merge.py's elementwise merges are still stamped out by one function; they become defs of their own
# with the change that makes merges broadcast.
NOT_YET_ONE_DEF = {"add", "subtract", "multiply", "average", "maximum", "minimum"}


@pytest.mark.parametrize("spec", [s for s in ENTRIES if s.name not in NOT_YET_ONE_DEF], ids=lambda s: s.name)
def test_every_entry_is_a_module_level_def_of_its_name(spec):
    """`grep -n "def conv2d" symparams/catalog/` finds the entry, its docstring the formula."""
    module = sys.modules[spec.fn.__module__]
    assert spec.fn.__qualname__ == spec.name and getattr(module, spec.name) is spec.fn
    assert re.search(rf"^def {spec.name}\(", inspect.getsource(module), re.MULTILINE)
    assert spec.doc


def test_only_the_merges_are_still_made_by_a_function():
    assert {s.name for s in ENTRIES if "<locals>" in s.fn.__qualname__} == NOT_YET_ONE_DEF


def test_the_conventions_tables_name_entries_and_their_arguments():
    arguments = {s.name: {a[0] for a in s.arguments} for s in catalog.specs()}
    for name, order in conventions.TORCH_POSITIONAL.items():
        assert name in arguments and set(order) <= arguments[name], name
        assert catalog.lookup(name).torch_positional == order
    for name, keys in conventions.IGNORED_KEYWORDS.items():
        assert name in arguments and catalog.lookup(name).ignored == frozenset(keys), name
    every_argument = set().union(*arguments.values())
    for alias, target in conventions.KEYWORD_ALIASES.items():
        assert target is None or target in every_argument, alias


@pytest.mark.parametrize("table", [TORCH, KERAS], ids=["torch", "keras"])
def test_builder_rows_name_entries_and_their_arguments(table):
    assert set(table) <= {s.name for s in catalog.specs()}
    for name, build in table.items():
        if isinstance(build, Call):
            taken = set(build.args) | set(build.kwargs.values())
            assert taken <= {a[0] for a in catalog.lookup(name).arguments}, name


def test_a_new_layer_is_its_entry_and_its_builder_entries(monkeypatch):
    """Registered here, as a formula sheet and the builders would register it, a new entry is parsed,
    counted and checked against both frameworks with nothing else changed."""
    monkeypatch.setattr(registry, "CATALOG", dict(registry.CATALOG))

    @layer("AnotherDense", "AnotherLinear")
    def another_dense(x, units: Dim, use_bias: Bool = True):
        """y = x W + b on the last axis n: n*units weights + units biases."""
        return Out(shape=x[:-1] + (units,), params=x[-1] * units + (units if use_bias else 0),
                   macs=product(x[:-1]) * x[-1] * units)

    monkeypatch.setitem(TORCH, "another_dense", lambda step: [
        Make("nn.Linear", step.input_shapes[0][-1], step.config["units"], bias=step.config["use_bias"])])
    monkeypatch.setitem(KERAS, "another_dense", Call("layers.Dense", "units", use_bias="use_bias"))
    for framework in ("torch", "keras"):
        model = symparams.parse("model m():\n    input (6, 8)\n    another_dense(5, use_bias=false)\n",
                                convention=framework)
        assert model.params == 40
        (row,) = check(model, framework).rows
        assert row.status == "agrees", (framework, row.formula, row.framework)


def test_one_named_layer_shows_its_formula_as_written_not_as_the_source_wraps_it(capsys):
    from symparams.cli import main
    assert main(["layers", "conv3d"]) == 0
    assert "(PyTorch): prod(k)*C/groups*filters weights + filters biases." in capsys.readouterr().out
