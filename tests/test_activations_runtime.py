"""`--of activations` against what autograd really keeps: one training step's forward of tiny
transformers models (Llama, Qwen2, Mixtral, GPT-2) on the CPU, the saved tensors counted by storage
under torch.autograd.graph.saved_tensors_hooks, parameters left out (tests/activations_reference.py).

The model symparams counts is the one `symparams import` writes from the same config; the figure is
`formula --of activations --attention eager|sdpa --dtype ... --per-batch` at the run's sizes.
"""
from __future__ import annotations

import json

import pytest
import sympy as sp

import symparams
from symparams import quantities
from symparams.importers.huggingface import program

torch = pytest.importorskip("torch")
pytest.importorskip("transformers")
from activations_reference import BUILDERS, ids, saved_bytes  # noqa: E402

DTYPES = {"float32": torch.float32, "bfloat16": torch.bfloat16}


def ours(model, dtype: str, attention: str, B: int, T: int) -> int:
    """symparams' activations of the imported config at batch B and T tokens."""
    config = json.loads(model.config.to_json_string())
    m = symparams.parse(program(config))
    expr = quantities.compute(m, "activations", per_batch=True, dtype=dtype, attention=attention)
    values = dict(m.evaluate({"sequence_length": T}).values)
    values[m.batch] = B
    return int(sp.sympify(expr).xreplace(values))


SIZES = [dict(B=2, T=12, d=64, h=4, g=2, L=2, ff=96, V=128), dict(B=3, T=20, d=96, h=6, g=3, L=3, ff=160, V=200)]


def _sizes(family, size):
    size = dict(size)
    B, T = size.pop("B"), size.pop("T")
    if family == "gpt2":
        size.pop("g")
    return B, T, size


@pytest.mark.parametrize("family", ["llama", "qwen2", "mixtral"])
@pytest.mark.parametrize("dtype", ["float32", "bfloat16"])
@pytest.mark.parametrize("attention", ["eager", "sdpa"])
@pytest.mark.parametrize("size", range(len(SIZES)))
def test_activations_equal_what_autograd_keeps(family, dtype, attention, size):
    B, T, sizes = _sizes(family, SIZES[size])
    model = BUILDERS[family](DTYPES[dtype], attention, **sizes)
    measured = saved_bytes(model, ids(B, T, sizes["V"]))
    assert ours(model, dtype, attention, B, T) == measured


@pytest.mark.parametrize("dropout", [0.1, 0.0])
@pytest.mark.parametrize("dtype", ["float32", "bfloat16"])
@pytest.mark.parametrize("attention", ["eager", "sdpa"])
@pytest.mark.parametrize("size", range(len(SIZES)))
def test_gpt2_activations_with_its_dropouts(dropout, dtype, attention, size):
    B, T, sizes = _sizes("gpt2", SIZES[size])
    if attention == "sdpa" and dropout and dtype == "float32" and B == 1:
        pytest.skip("a view of the whole projection stays alive there (docs/llm.md)")
    model = BUILDERS["gpt2"](DTYPES[dtype], attention, dropout=dropout, **sizes)
    measured = saved_bytes(model, ids(B, T, sizes["V"]))
    assert ours(model, dtype, attention, B, T) == measured
