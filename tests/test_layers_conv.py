"""Convolutions against the real frameworks: each case is pasted into a symparams program and built in
PyTorch (channels first, the torch convention) or Keras 3 (channels last, the keras convention)."""
import keras
import pytest
import torch
import torch.nn as nn

import symparams
from symparams.errors import ArgumentError, ShapeError, ValueProblem
from single_layer import against_keras, against_torch, call, symparams_layer, torch_layer

# ---------------------------------------------------------------- convolutions

KERAS_CONV = [  # (Keras class, input shape (spatial..., C), keyword arguments)
    ("Conv1D", (17, 3), dict(filters=4, kernel_size=3)),
    ("Conv1D", (20, 4), dict(filters=6, kernel_size=5, strides=3, padding="same")),
    ("Conv1D", (19, 6), dict(filters=4, kernel_size=3, dilation_rate=2, padding="causal", groups=2)),
    ("Conv1D", (16, 2), dict(filters=5, kernel_size=4, strides=2, use_bias=False)),
    ("Conv2D", (9, 11, 3), dict(filters=8, kernel_size=3, strides=2, padding="same")),
    ("Conv2D", (12, 13, 4), dict(filters=6, kernel_size=(3, 5), strides=(2, 1), groups=2)),
    ("Conv2D", (15, 10, 2), dict(filters=5, kernel_size=3, dilation_rate=2, use_bias=False)),
    ("Conv2D", (7, 8, 3), dict(filters=4, kernel_size=2, padding="same")),
    ("Conv3D", (5, 6, 7, 2), dict(filters=3, kernel_size=3)),
    ("Conv3D", (8, 7, 9, 4), dict(filters=4, kernel_size=(3, 2, 3), strides=2, padding="same", groups=2)),
    ("Conv3D", (9, 8, 7, 1), dict(filters=2, kernel_size=2, dilation_rate=(2, 1, 3))),
]

TORCH_CONV = [  # (PyTorch class, input shape (C, spatial...), keyword arguments as pasted)
    ("Conv1d", (3, 17), dict(in_channels=3, out_channels=4, kernel_size=3)),
    ("Conv1d", (4, 20), dict(in_channels=4, out_channels=6, kernel_size=5, stride=3, padding=2, dilation=2)),
    ("Conv1d", (6, 19), dict(in_channels=6, out_channels=9, kernel_size=4, padding="same", groups=3, bias=False)),
    ("Conv2d", (3, 9, 11), dict(in_channels=3, out_channels=8, kernel_size=3, stride=2, padding=1)),
    ("Conv2d", (4, 12, 13), dict(in_channels=4, out_channels=6, kernel_size=(3, 5), stride=(2, 3),
                                 padding=(1, 2), groups=2, padding_mode="reflect")),
    ("Conv2d", (2, 15, 10), dict(in_channels=2, out_channels=5, kernel_size=3, dilation=2, stride=2, padding=0)),
    ("Conv2d", (3, 7, 8), dict(in_channels=3, out_channels=4, kernel_size=2, padding="same", dilation=3)),
    ("Conv2d", (3, 7, 8), dict(in_channels=3, out_channels=4, kernel_size=3, padding="valid", bias=False)),
    ("Conv3d", (2, 5, 6, 7), dict(in_channels=2, out_channels=3, kernel_size=3)),
    ("Conv3d", (4, 8, 7, 9), dict(in_channels=4, out_channels=4, kernel_size=(3, 2, 3), stride=2, padding=1,
                                  groups=4)),
    ("Conv3d", (1, 9, 8, 7), dict(in_channels=1, out_channels=2, kernel_size=2, dilation=(2, 1, 3),
                                  padding=(1, 0, 2))),
]


@pytest.mark.parametrize("cls, shape, kwargs", KERAS_CONV)
def test_conv_matches_keras(cls, shape, kwargs):
    ours, keras_counts = against_keras(cls, shape, **kwargs)
    assert ours == keras_counts


@pytest.mark.filterwarnings("ignore:Using padding=.same. with even kernel")  # a copy, not a shape change
@pytest.mark.parametrize("cls, shape, kwargs", TORCH_CONV)
def test_conv_matches_torch(cls, shape, kwargs):
    ours, torch_counts = against_torch(cls, shape, **kwargs)
    assert ours == torch_counts


# ---------------------------------------------------------------- transposed convolutions

KERAS_TRANSPOSE = [
    ("Conv1DTranspose", (7, 3), dict(filters=4, kernel_size=3)),
    ("Conv1DTranspose", (9, 2), dict(filters=3, kernel_size=2, strides=3)),           # s > k: padded to strides
    ("Conv1DTranspose", (8, 4), dict(filters=5, kernel_size=4, strides=2, padding="same")),
    ("Conv1DTranspose", (5, 2), dict(filters=2, kernel_size=3, dilation_rate=2, use_bias=False)),
    ("Conv2DTranspose", (5, 6, 3), dict(filters=4, kernel_size=3, strides=2, padding="same")),
    ("Conv2DTranspose", (7, 4, 2), dict(filters=3, kernel_size=(2, 3), strides=(3, 2))),
    ("Conv2DTranspose", (5, 5, 4), dict(filters=2, kernel_size=3, strides=2, output_padding=1)),
    ("Conv2DTranspose", (6, 5, 1), dict(filters=2, kernel_size=(3, 4), strides=3, padding="same",
                                        output_padding=(2, 1))),
    ("Conv3DTranspose", (3, 4, 5, 2), dict(filters=3, kernel_size=3)),
    ("Conv3DTranspose", (3, 4, 3, 2), dict(filters=2, kernel_size=2, strides=(3, 2, 1), padding="same")),
    ("Conv3DTranspose", (4, 3, 5, 1), dict(filters=2, kernel_size=(1, 2, 3), strides=2, output_padding=(1, 0, 1))),
]

TORCH_TRANSPOSE = [
    ("ConvTranspose1d", (3, 7), dict(in_channels=3, out_channels=4, kernel_size=3)),
    ("ConvTranspose1d", (2, 9), dict(in_channels=2, out_channels=3, kernel_size=2, stride=3)),  # no padding to s
    ("ConvTranspose1d", (4, 8), dict(in_channels=4, out_channels=6, kernel_size=4, stride=2, padding=1,
                                     output_padding=1, groups=2)),
    ("ConvTranspose1d", (2, 5), dict(in_channels=2, out_channels=2, kernel_size=3, dilation=3, stride=2,
                                     output_padding=2, bias=False)),
    ("ConvTranspose2d", (3, 5, 6), dict(in_channels=3, out_channels=4, kernel_size=3, stride=2, padding=1)),
    ("ConvTranspose2d", (4, 7, 4), dict(in_channels=4, out_channels=6, kernel_size=(2, 3), stride=(3, 2),
                                        padding=(0, 1), output_padding=(2, 1), groups=2)),
    ("ConvTranspose2d", (2, 5, 5), dict(in_channels=2, out_channels=2, kernel_size=4, stride=2, padding=1,
                                        dilation=2)),
    ("ConvTranspose3d", (2, 3, 4, 5), dict(in_channels=2, out_channels=3, kernel_size=3)),
    ("ConvTranspose3d", (2, 3, 4, 3), dict(in_channels=2, out_channels=2, kernel_size=2, stride=(3, 2, 1),
                                           padding=(1, 0, 0), output_padding=(1, 1, 0))),
    ("ConvTranspose3d", (3, 4, 3, 5), dict(in_channels=3, out_channels=3, kernel_size=(1, 2, 3), stride=2,
                                           groups=3, bias=False)),
]


@pytest.mark.parametrize("cls, shape, kwargs", KERAS_TRANSPOSE)
def test_conv_transpose_matches_keras(cls, shape, kwargs):
    ours, keras_counts = against_keras(cls, shape, **kwargs)
    assert ours == keras_counts


@pytest.mark.parametrize("cls, shape, kwargs", TORCH_TRANSPOSE)
def test_conv_transpose_matches_torch(cls, shape, kwargs):
    ours, torch_counts = against_torch(cls, shape, **kwargs)
    assert ours == torch_counts


def test_transpose_default_output_differs_between_conventions():
    """Keras pads a stride-3, 2-wide transposed kernel's output to whole strides; PyTorch does not."""
    line = "conv1d_transpose(3, 2, strides=3)"
    assert symparams_layer(line, (9, 2), "keras")["output_shape"] == (27, 3)
    assert symparams_layer(line, (2, 9), "torch")["output_shape"] == (3, 26)


# ---------------------------------------------------------------- depthwise and separable (Keras layers)

KERAS_DEPTHWISE = [
    ("DepthwiseConv2D", (9, 11, 3), dict(kernel_size=3)),
    ("DepthwiseConv2D", (10, 7, 4), dict(kernel_size=(3, 2), strides=2, padding="same", depth_multiplier=2)),
    ("DepthwiseConv2D", (13, 12, 2), dict(kernel_size=3, dilation_rate=2, depth_multiplier=3, use_bias=False)),
    ("DepthwiseConv1D", (15, 3), dict(kernel_size=4, strides=3, depth_multiplier=2)),
    ("DepthwiseConv2D", (9, 9, 4), dict(kernel_size=3, strides=(1, 2), dilation_rate=(2, 1))),  # Keras takes both
    ("SeparableConv2D", (9, 11, 3), dict(filters=8, kernel_size=3)),
    ("SeparableConv2D", (10, 7, 4), dict(filters=5, kernel_size=(3, 2), strides=2, padding="same",
                                         depth_multiplier=2)),
    ("SeparableConv2D", (13, 12, 2), dict(filters=3, kernel_size=3, dilation_rate=2, depth_multiplier=3,
                                          use_bias=False)),
    ("SeparableConv1D", (15, 3), dict(filters=4, kernel_size=4, strides=3, depth_multiplier=2)),
]


@pytest.mark.parametrize("cls, shape, kwargs", KERAS_DEPTHWISE)
def test_depthwise_and_separable_match_keras(cls, shape, kwargs):
    ours, keras_counts = against_keras(cls, shape, **kwargs)
    assert ours == keras_counts


@pytest.mark.parametrize("cls, shape, kwargs", KERAS_DEPTHWISE)
def test_depthwise_and_separable_channels_first_match_keras(cls, shape, kwargs):
    """Under the torch convention the same layers read (C, spatial...), as Keras' channels_first does."""
    first = (shape[-1],) + shape[:-1]
    if "strides" in kwargs:      # PyTorch has no strided 'same'; its layout still follows Keras channels_first
        kwargs = dict(kwargs, padding="valid")
    ours, keras_counts = against_keras(cls, first, channels_first=True, **kwargs)
    assert ours == keras_counts


TORCH_DEPTHWISE = [  # (C, spatial), kernel, depth_multiplier, stride, padding, dilation, filters, bias
    ((3, 9, 11), 3, 1, 1, 0, 1, 8, True),
    ((4, 10, 7), (3, 2), 2, 2, 1, 1, 5, True),
    ((2, 13, 12), 3, 3, 1, 2, 2, 3, False),
    ((5, 8, 9), 5, 1, 3, (2, 1), 1, 6, True),
]


@pytest.mark.parametrize("shape, k, m, s, p, d, filters, bias", TORCH_DEPTHWISE)
def test_depthwise_matches_torch_grouped_conv(shape, k, m, s, p, d, filters, bias):
    """PyTorch's depthwise convolution is Conv2d(C, C*m, k, groups=C)."""
    C = shape[0]
    line = call("depthwise_conv2d", k, depth_multiplier=m, strides=s, padding=p, dilation_rate=d, use_bias=bias)
    module = nn.Conv2d(C, C * m, k, stride=s, padding=p, dilation=d, groups=C, bias=bias)
    assert symparams_layer(line, shape, "torch") == torch_layer(module, shape)


@pytest.mark.parametrize("shape, k, m, s, p, d, filters, bias", TORCH_DEPTHWISE)
def test_separable_matches_torch_depthwise_then_pointwise(shape, k, m, s, p, d, filters, bias):
    """PyTorch's separable convolution: a bias-free depthwise Conv2d, then a 1x1 Conv2d."""
    C = shape[0]
    line = call("separable_conv2d", filters, k, depth_multiplier=m, strides=s, padding=p, dilation_rate=d,
                use_bias=bias)
    module = nn.Sequential(nn.Conv2d(C, C * m, k, stride=s, padding=p, dilation=d, groups=C, bias=False),
                           nn.Conv2d(C * m, filters, 1, bias=bias))
    assert symparams_layer(line, shape, "torch") == torch_layer(module, shape)


# ---------------------------------------------------------------- formulas and mistakes

def test_conv_formula_is_symbolic():
    m = symparams.parse("model m(H = 9, W = 11, C = 3, F = 8):\n    input (H, W, C)\n"
                        "    conv2d(F, 3, strides=2, padding=same)\n")
    H, W, C, F = (m.symbols[k] for k in "HWCF")
    row = m.rows[0]
    assert (row.params - (9 * C * F + F)).expand() == 0
    assert row.output_shape[2] == F
    assert m.evaluate({"H": 64, "W": 33}).shape(row.output_shape) == (32, 17, 8)


def test_kernel_larger_than_input_names_the_layer():
    m = symparams.parse("model m(H = 4, W = 9):\n    input (H, W, 3)\n    conv2d(8, 5, name=wide)\n")
    with pytest.raises(ValueProblem, match="layer wide"):
        m.evaluate()
    assert m.evaluate({"H": 5}).shape(m.output_shape) == (1, 5, 8)


def test_torch_refuses_strided_same_padding():
    with pytest.raises(ArgumentError, match="padding='same' only with stride 1"):
        symparams.parse("convention torch\nmodel m(H = 9):\n    input (3, H, H)\n    conv2d(8, 3, strides=2, "
                        "padding=same)\n")
    with pytest.raises(ValueError, match="stride"):     # and so does PyTorch itself
        nn.Conv2d(3, 8, 3, stride=2, padding="same")


def test_groups_must_divide_channels():
    with pytest.raises(ShapeError, match="groups=2 does not divide the input channels"):
        symparams.parse("model m(H = 9):\n    input (H, H, 3)\n    conv2d(8, 3, groups=2)\n")
    m = symparams.parse("model m(H = 9, C = 4):\n    input (H, H, C)\n    conv2d(8, 3, groups=2)\n")
    assert m.evaluate().params == 3 * 3 * 2 * 8 + 8
    with pytest.raises(ValueProblem, match="groups=2 must divide"):
        m.evaluate({"C": 5})


def test_pasted_in_channels_must_match_the_input():
    with pytest.raises(ShapeError, match="conv2d.s in_channels is 4 but the input has 3"):
        symparams.parse("convention torch\nmodel m(H = 9):\n    input (3, H, H)\n    Conv2d(in_channels=4, "
                        "out_channels=8, kernel_size=3)\n")


def test_causal_padding_is_one_dimensional():
    with pytest.raises(ArgumentError, match="causal"):
        symparams.parse("model m(H = 9):\n    input (H, H, 3)\n    conv2d(8, 3, padding=causal)\n")


def test_transpose_formula_is_torchs_closed_form():
    """(L - 1)*s - 2p + d*(k - 1) + output_padding + 1, with the stride a symbol too."""
    m = symparams.parse("convention torch\nmodel m(L = 8, s = 2):\n    input (4, L)\n"
                        "    ConvTranspose1d(in_channels=4, out_channels=6, kernel_size=3, stride=s, padding=1, "
                        "output_padding=1)\n")
    L, s = m.symbols["L"], m.symbols["s"]
    row = m.rows[0]
    assert (row.output_shape[1] - ((L - 1) * s - 2 + 2 * 1 + 1 + 1)).expand() == 0
    assert row.params == 3 * 4 * 6 + 6
    assert (row.macs - L * 4 * 3 * 6).expand() == 0


@pytest.mark.parametrize("line, keras_shape, torch_shape, keras_layer_call", [
    ("conv2d(8, 3, strides=2, dilation_rate=2)", (9, 9, 4), (4, 9, 9),
     lambda: keras.layers.Conv2D(8, 3, strides=2, dilation_rate=2)),
    ("conv1d_transpose(4, 3, strides=(2,), dilation_rate=3)", (9, 4), (4, 9),
     lambda: keras.layers.Conv1DTranspose(4, 3, strides=2, dilation_rate=3)),
    ("conv3d(2, 2, strides=(1, 1, 2), dilation_rate=(3, 1, 1))", (9, 9, 9, 1), (1, 9, 9, 9),
     lambda: keras.layers.Conv3D(2, 2, strides=(1, 1, 2), dilation_rate=(3, 1, 1))),
])
def test_keras_refuses_strides_with_dilation_and_torch_takes_them(line, keras_shape, torch_shape, keras_layer_call):
    with pytest.raises(ArgumentError, match="strides > 1 or dilation_rate > 1, not both"):
        symparams_layer(line, keras_shape, "keras")
    with pytest.raises(ValueError, match="dilation"):       # as Keras itself does
        keras_layer_call()
    assert len(symparams_layer(line, torch_shape, "torch")["output_shape"]) == len(torch_shape)


def test_output_padding_must_be_smaller_than_the_stride():
    with pytest.raises(ArgumentError, match="output_padding \\(2\\) must be smaller"):
        symparams_layer("ConvTranspose1d(out_channels=4, kernel_size=3, stride=2, output_padding=2)", (3, 7), "torch")
    with pytest.raises(RuntimeError, match="output padding must be smaller"):   # PyTorch says the same (on CPU)
        nn.ConvTranspose1d(3, 4, 3, stride=2, output_padding=2)(torch.zeros(1, 3, 7))
