"""The DESIGN.md programs are the contract: each gives exactly the numbers written there."""
from pathlib import Path

import pytest
import sympy as sp

import symparams

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


def rows(model, values=None):
    ev = model.evaluate(values)
    return [(r.name, ev.number(r.params), ev.shape(r.output_shape)) for r in model.rows], ev


def test_mnist_dense():
    m = symparams.load(EXAMPLES / "mnist_dense.sp")
    H, W, classes = (m.symbols[k] for k in ("H", "W", "classes"))
    assert sp.expand(m.row("dense_1").params - classes * (H * W + 1)) == 0
    table, ev = rows(m)
    assert [p for _, p, _ in table] == [0, 7850, 0]
    assert ev.params == 7850 and ev.trainable == 7850 and ev.non_trainable == 0


def test_conv_stack_shapes_and_counts():
    m = symparams.load(EXAMPLES / "conv_stack.sp")
    H, W = m.symbols["H"], m.symbols["W"]
    classes = m.symbols["classes"]
    assert m.rows[0].output_shape == (H - 2, W - 2, 32)
    assert m.output_shape == (H - 6, W - 6, classes)
    table, ev = rows(m)
    assert [p for _, p, _ in table] == [896, 18496, 73856, 1290]
    assert ev.shape(m.output_shape) == (218, 218, 10)
    assert m.evaluate({"H": 512, "W": 512}).shape(m.output_shape) == (506, 506, 10)


def test_text_cnn_functional_graph():
    m = symparams.load(EXAMPLES / "text_cnn.sp")
    table, ev = rows(m)
    assert [p for _, p, _ in table] == [4094700, 48032, 0, 0, 0, 2499]
    T = m.symbols["T"]
    assert m.rows[2].output_shape == (T - 9, 32)
    assert ev.shape(m.rows[2].output_shape) == (26, 32)
    assert ev.params == 4145231
    assert m.rows[1].inputs == [m.rows[0].name]


def test_har_lstm_both_conventions():
    m = symparams.load(EXAMPLES / "har_lstm.sp")
    U, F = m.symbols["U"], m.symbols["F"]
    assert sp.expand(m.rows[0].params - 4 * U * (U + F + 1)) == 0
    table, ev = rows(m)
    assert [p for _, p, _ in table] == [18176, 0, 33024, 4160, 4160, 390]
    assert ev.params == 59910
    t = symparams.load(EXAMPLES / "har_lstm.sp", convention="torch")
    table, _ = rows(t)
    assert [p for _, p, _ in table][:3] == [18432, 0, 33280]


def test_bn_cnn_keras_statistics_are_non_trainable():
    ev = symparams.load(EXAMPLES / "bn_cnn.sp").evaluate()
    assert (ev.params, ev.trainable, ev.non_trainable) == (13108758, 13108694, 64)


def test_bn_cnn_torch_channels_first_and_buffers():
    m = symparams.load(EXAMPLES / "bn_cnn_torch.sp")
    assert m.convention.name == "torch"
    S = m.symbols["S"]
    assert m.rows[0].output_shape == (32, S, S)
    ev = m.evaluate()
    assert (ev.params, ev.trainable, ev.non_trainable) == (13108694, 13108694, 0)
    bn = ev.row("batchnorm_1")
    assert bn["params"] == 64 and bn["buffers"] == 65  # running mean, var, num_batches_tracked


@pytest.mark.parametrize("spelling", ["Dense", "linear", "Linear"])
def test_both_frameworks_spellings(spelling):
    m = symparams.parse(f"model m(n = 4):\n    input (n)\n    {spelling}(3)\n")
    assert m.evaluate().params == 15
