"""Pooling against the real frameworks: windowed, global and adaptive pooling in both conventions."""
import pytest
import torch
import torch.nn as nn

import symparams
from symparams.errors import ArgumentError, ValueProblem
from single_layer import against_keras, against_torch, symparams_layer, torch_layer

KERAS_POOL = [  # (Keras class, input shape (spatial..., C), keyword arguments)
    ("MaxPooling1D", (17, 3), dict()),
    ("MaxPooling1D", (20, 4), dict(pool_size=3, strides=2, padding="same")),
    ("AveragePooling1D", (19, 2), dict(pool_size=4, strides=1)),
    ("AveragePooling1D", (9, 5), dict(pool_size=2, padding="same")),
    ("MaxPooling2D", (9, 11, 3), dict(pool_size=3, strides=2)),
    ("MaxPooling2D", (7, 8, 2), dict(pool_size=(2, 3), padding="same")),
    ("AveragePooling2D", (12, 13, 4), dict(pool_size=(3, 2), strides=(1, 3))),
    ("AveragePooling2D", (5, 6, 1), dict(pool_size=2, strides=3, padding="same")),
    ("MaxPooling3D", (5, 6, 7, 2), dict()),
    ("MaxPooling3D", (8, 7, 9, 1), dict(pool_size=(3, 2, 3), strides=2, padding="same")),
    ("AveragePooling3D", (9, 8, 7, 2), dict(pool_size=3, strides=(1, 2, 3))),
]

TORCH_POOL = [  # (PyTorch class, input shape (C, spatial...), keyword arguments as pasted)
    ("MaxPool1d", (3, 17), dict(kernel_size=2)),
    ("MaxPool1d", (4, 20), dict(kernel_size=3, stride=2, padding=1, ceil_mode=True)),
    ("MaxPool1d", (2, 19), dict(kernel_size=4, stride=3, dilation=2, return_indices=False)),
    ("AvgPool1d", (5, 9), dict(kernel_size=2, stride=2, ceil_mode=True, count_include_pad=False)),
    ("MaxPool2d", (3, 9, 11), dict(kernel_size=3, stride=2, padding=1)),
    ("MaxPool2d", (2, 7, 8), dict(kernel_size=(2, 3), ceil_mode=True, dilation=(1, 2))),
    ("AvgPool2d", (4, 12, 13), dict(kernel_size=(3, 2), stride=(1, 3), padding=(1, 0))),
    ("AvgPool2d", (1, 5, 6), dict(kernel_size=2, stride=3, ceil_mode=True, divisor_override=3)),
    ("MaxPool3d", (2, 5, 6, 7), dict(kernel_size=2)),
    ("MaxPool3d", (1, 8, 7, 9), dict(kernel_size=(3, 2, 3), stride=2, padding=(1, 1, 0), ceil_mode=True)),
    ("AvgPool3d", (2, 9, 8, 7), dict(kernel_size=3, stride=(1, 2, 3), padding=1)),
]


@pytest.mark.parametrize("cls, shape, kwargs", KERAS_POOL)
def test_pooling_matches_keras(cls, shape, kwargs):
    ours, keras_counts = against_keras(cls, shape, **kwargs)
    assert ours == keras_counts


@pytest.mark.parametrize("cls, shape, kwargs", TORCH_POOL)
def test_pooling_matches_torch(cls, shape, kwargs):
    ours, torch_counts = against_torch(cls, shape, **kwargs)
    assert ours == torch_counts


# ---------------------------------------------------------------- PyTorch's ceil_mode edge rule

WINDOWS = [(k, s, p, d) for k in (1, 2, 3, 4) for s in (1, 2, 3, 4) for p in range(k // 2 + 1) for d in (1, 2)]


@pytest.mark.parametrize("ceil_mode", [False, True])
def test_pool_length_matches_torch_for_every_small_size(ceil_mode):
    """Every window (k, s, p, dilation) over L = 1..18: the same length as PyTorch, or both refuse.

    With ceil_mode PyTorch drops a last window that would start in the right padding; the sizes
    where that happens (e.g. L=5, k=2, s=2, p=1) are all in this grid.
    """
    dropped = 0
    for k, s, p, d in WINDOWS:
        model = symparams.parse("convention torch\nmodel m(L):\n    input (1, L)\n"
                                f"    maxpool1d({k}, strides={s}, padding={p}, dilation_rate={d}, "
                                f"ceil_mode={'true' if ceil_mode else 'false'})\n")
        pool = nn.MaxPool1d(k, stride=s, padding=p, dilation=d, ceil_mode=ceil_mode)
        for L in range(1, 19):
            try:
                theirs = pool(torch.zeros(1, 1, L, device="meta")).shape[-1]
            except RuntimeError:
                theirs = None                         # PyTorch: output size too small
            try:
                ours = model.evaluate({"L": L}).shape(model.output_shape)[-1]
            except ValueProblem:
                ours = None
            assert ours == theirs, (k, s, p, d, L)
            windows = -(-(L + 2 * p - d * (k - 1) - 1) // s) + 1       # ceil(...) + 1, before the rule
            dropped += ceil_mode and theirs == windows - 1
    assert dropped > 0 or not ceil_mode        # the grid does reach the edge rule


def test_ceil_mode_edge_rule_example():
    """L=5, k=2, s=2, p=1: ceil((5 + 2 - 2)/2) + 1 = 4 windows, but the 4th would start in the padding."""
    line = "MaxPool1d(kernel_size=2, stride=2, padding=1, ceil_mode=true)"
    assert symparams_layer(line, (1, 5), "torch")["output_shape"] == (1, 3)
    assert torch_layer(nn.MaxPool1d(2, stride=2, padding=1, ceil_mode=True), (1, 5))["output_shape"] == (1, 3)


def test_torch_pooling_padding_at_most_half_the_window():
    with pytest.raises(ArgumentError, match="at most half the pool size"):
        symparams_layer("maxpool2d(2, padding=2)", (3, 8, 8), "torch")
    with pytest.raises(RuntimeError, match="half"):
        nn.MaxPool2d(2, padding=2).to("meta")(torch.zeros(1, 3, 8, 8, device="meta"))


def test_pool_larger_than_input_names_the_layer():
    model = symparams.parse("model m(H = 3):\n    input (H, H, 2)\n    maxpool2d(4)\n")
    with pytest.raises(ValueProblem, match="layer maxpool2d_1"):
        model.evaluate()


# ---------------------------------------------------------------- global and adaptive pooling

KERAS_GLOBAL = [(f"Global{kind}Pooling{n}D", shape, keepdims)
                for kind in ("Average", "Max")
                for n, shape in ((1, (7, 3)), (2, (5, 6, 4)), (3, (3, 4, 5, 2)))
                for keepdims in (False, True)]


@pytest.mark.parametrize("cls, shape, keepdims", KERAS_GLOBAL)
def test_global_pooling_matches_keras_both_layouts(cls, shape, keepdims):
    ours, keras_counts = against_keras(cls, shape, keepdims=keepdims)
    assert ours == keras_counts
    ours, keras_counts = against_keras(cls, (shape[-1],) + shape[:-1], channels_first=True, keepdims=keepdims)
    assert ours == keras_counts


@pytest.mark.parametrize("n, shape", [(1, (3, 7)), (2, (4, 5, 6)), (3, (2, 3, 4, 5)), (2, (1, 9, 2))])
@pytest.mark.parametrize("kind", ["avg", "max"])
def test_global_pooling_matches_torch_adaptive_pool_to_one(n, shape, kind):
    """PyTorch spells global pooling AdaptiveAvgPool2d(1) (keepdims), then Flatten (the default)."""
    adaptive = getattr(nn, f"Adaptive{kind.capitalize()}Pool{n}d")
    line = f"global_{kind}pool{n}d"
    assert symparams_layer(line + "(keepdims=true)", shape, "torch") == torch_layer(adaptive(1), shape)
    assert symparams_layer(line, shape, "torch") == torch_layer(nn.Sequential(adaptive(1), nn.Flatten()), shape)


ADAPTIVE = [(1, (3, 17), 5), (1, (2, 4), 7), (2, (3, 9, 11), (4, 3)), (2, (2, 5, 6), 8), (3, (2, 5, 6, 7), (2, 3, 4)),
            (3, (1, 4, 4, 4), 2)]


@pytest.mark.parametrize("n, shape, size", ADAPTIVE)
@pytest.mark.parametrize("kind", ["Avg", "Max"])
def test_adaptive_pooling_matches_torch_and_keras(n, shape, size, kind):
    torch_cls, keras_cls = f"Adaptive{kind}Pool{n}d", f"Adaptive{'Average' if kind == 'Avg' else 'Max'}Pooling{n}D"
    ours, torch_counts = against_torch(torch_cls, shape, size)
    assert ours == torch_counts
    ours, keras_counts = against_keras(keras_cls, shape[1:] + shape[:1], size)
    assert ours == keras_counts


def test_pool_then_upsample_back_needs_even_sizes():
    """A U-Net skip: pooling by 2 and a stride-2 transposed conv give back 2*floor(H/2), which is H
    only for even H; the model records that and refuses odd sizes when evaluated."""
    model = symparams.parse("model m(H = 8):\n    x = input (H, H, 4)\n    p = maxpool2d(2)(x)\n"
                            "    u = conv2d_transpose(4, 2, strides=2)(p)\n    m = concat(x, u)\n")
    assert model.evaluate().shape(model.output_shape) == (8, 8, 8)
    with pytest.raises(ValueProblem, match="does not hold at H=7"):
        model.evaluate({"H": 7})
