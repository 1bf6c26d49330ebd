"""Upsampling, padding and cropping against the real frameworks, in both conventions."""
import keras
import pytest
import torch.nn as nn

from symparams.errors import ArgumentError, ValueProblem
from single_layer import against_keras, against_torch, call, keras_layer, symparams_layer, torch_layer, without_macs

import symparams


def channels_first(shape):
    return (shape[-1],) + tuple(shape[:-1])


# ---------------------------------------------------------------- Keras layers, both layouts

KERAS_SPATIAL = [  # (Keras class, input shape (spatial..., C), keyword arguments)
    ("UpSampling1D", (7, 3), dict()),
    ("UpSampling1D", (5, 2), dict(size=3)),
    ("UpSampling1D", (9, 1), dict(size=1)),
    ("UpSampling2D", (5, 6, 3), dict()),
    ("UpSampling2D", (7, 4, 2), dict(size=(3, 1), interpolation="bilinear")),
    ("UpSampling2D", (3, 9, 1), dict(size=4)),
    ("UpSampling3D", (2, 3, 4, 2), dict()),
    ("UpSampling3D", (3, 2, 5, 1), dict(size=(1, 2, 3))),
    ("UpSampling3D", (1, 1, 3, 3), dict(size=3)),
    ("ZeroPadding1D", (7, 3), dict()),
    ("ZeroPadding1D", (5, 2), dict(padding=3)),
    ("ZeroPadding1D", (9, 1), dict(padding=(0, 2))),
    ("ZeroPadding2D", (5, 6, 3), dict()),
    ("ZeroPadding2D", (7, 4, 2), dict(padding=(3, 0))),
    ("ZeroPadding2D", (3, 9, 1), dict(padding=((1, 2), (0, 4)))),
    ("ZeroPadding3D", (2, 3, 4, 2), dict()),
    ("ZeroPadding3D", (3, 2, 5, 1), dict(padding=(1, 2, 3))),
    ("ZeroPadding3D", (1, 1, 3, 3), dict(padding=((0, 1), (2, 0), (3, 3)))),
    ("Cropping1D", (7, 3), dict()),
    ("Cropping1D", (9, 2), dict(cropping=(0, 4))),
    ("Cropping1D", (6, 1), dict(cropping=2)),
    ("Cropping2D", (5, 6, 3), dict()),
    ("Cropping2D", (7, 8, 2), dict(cropping=(3, 1))),
    ("Cropping2D", (9, 9, 1), dict(cropping=((1, 2), (0, 4)))),
    ("Cropping3D", (5, 6, 7, 2), dict()),
    ("Cropping3D", (6, 5, 9, 1), dict(cropping=(2, 0, 1))),
    ("Cropping3D", (4, 7, 5, 3), dict(cropping=((0, 1), (2, 3), (1, 1)))),
]


@pytest.mark.parametrize("cls, shape, kwargs", KERAS_SPATIAL)
def test_spatial_matches_keras(cls, shape, kwargs):
    ours, keras_counts = against_keras(cls, shape, **kwargs)
    assert ours == keras_counts


@pytest.mark.parametrize("cls, shape, kwargs", [c for c in KERAS_SPATIAL if not c[0].endswith("1D")])
def test_spatial_channels_first_matches_keras(cls, shape, kwargs):
    """Under the torch convention the layers read (C, spatial...), as Keras' channels_first does.
    (Keras' 1-D layers have no data_format; they are checked against PyTorch below.)"""
    first = channels_first(shape)
    ours, keras_counts = against_keras(cls, first, channels_first=True, **kwargs)
    assert ours == keras_counts


# ---------------------------------------------------------------- the same under PyTorch modules

@pytest.mark.parametrize("shape, size", [((3, 7), 2), ((2, 5), 3), ((3, 5, 6), 2), ((2, 7, 4), (3, 1)),
                                         ((2, 2, 3, 4), 2), ((1, 3, 2, 5), (1, 2, 3))])
def test_upsampling_matches_torch_upsample(shape, size):
    n = len(shape) - 1
    factor = size if isinstance(size, tuple) else (size,) * n
    ours = symparams_layer(call(f"upsampling{n}d", size), shape, "torch")
    assert ours == torch_layer(nn.Upsample(scale_factor=tuple(float(f) for f in factor)), shape)


@pytest.mark.parametrize("shape, kwargs", [
    ((3, 7), dict(scale_factor=1.5)),
    ((2, 9), dict(size=4, mode="linear")),
    ((3, 5, 6), dict(scale_factor=(2.5, 0.5), mode="bilinear", align_corners=False)),
    ((2, 7, 4), dict(size=(3, 11))),
    ((1, 7, 4), dict(scale_factor=1.25, mode="nearest-exact")),
    ((2, 2, 3, 5), dict(scale_factor=(1, 2.5, 3), mode="trilinear")),
    ((1, 3, 2, 5), dict(size=(4, 4, 4))),
])
def test_upsample_matches_torch(shape, kwargs):
    assert symparams_layer(call("Upsample", **kwargs), shape, "torch") == torch_layer(nn.Upsample(**kwargs), shape)


def test_upsample_channels_last_matches_keras():
    shape = (5, 6, 3)
    ours = symparams_layer("upsample(scale_factor=(2, 3))", shape, "keras")
    assert without_macs(ours) == keras_layer(keras.layers.UpSampling2D((2, 3)), shape)


@pytest.mark.parametrize("shape, keras_padding, torch_padding", [
    ((3, 7), 1, (1, 1)),
    ((2, 5), (0, 2), (0, 2)),
    ((3, 5, 6), 2, (2, 2, 2, 2)),
    ((2, 7, 4), (3, 0), (0, 0, 3, 3)),
    ((1, 3, 9), ((1, 2), (0, 4)), (0, 4, 1, 2)),
    ((2, 2, 3, 4), 1, (1, 1, 1, 1, 1, 1)),
    ((1, 1, 3, 3), ((0, 1), (2, 0), (3, 3)), (3, 3, 2, 0, 0, 1)),
])
def test_zero_padding_matches_torch_zeropad(shape, keras_padding, torch_padding):
    """Keras lists (before, after) from the first spatial axis; PyTorch from the last axis back."""
    n = len(shape) - 1
    ours = symparams_layer(call(f"zero_padding{n}d", keras_padding), shape, "torch")
    assert ours == torch_layer(getattr(nn, f"ZeroPad{n}d")(torch_padding), shape)


@pytest.mark.parametrize("shape, cropping, torch_padding", [
    ((3, 7), (1, 1), (-1, -1)),
    ((2, 9), (0, 4), (0, -4)),
    ((3, 5, 6), ((0, 0), (0, 0)), (0, 0, 0, 0)),
    ((1, 7, 8), (3, 1), (-1, -1, -3, -3)),
    ((1, 9, 9), ((1, 2), (0, 4)), (0, -4, -1, -2)),
    ((2, 5, 6, 7), 1, (-1, -1, -1, -1, -1, -1)),
    ((1, 6, 5, 9), ((2, 2), (0, 0), (1, 3)), (-1, -3, 0, 0, -2, -2)),
])
def test_cropping_matches_torch_negative_padding(shape, cropping, torch_padding):
    """PyTorch has no cropping layer: ZeroPad with negative amounts crops."""
    n = len(shape) - 1
    ours = symparams_layer(call(f"cropping{n}d", cropping), shape, "torch")
    assert ours == torch_layer(getattr(nn, f"ZeroPad{n}d")(torch_padding), shape)


TORCH_PADS = [  # (PyTorch class, input shape (C, spatial...), positional arguments as pasted)
    ("ZeroPad1d", (3, 7), (2,)), ("ZeroPad1d", (2, 5), ((0, 3),)), ("ZeroPad2d", (3, 5, 6), ((1, 2, 3, 4),)),
    ("ZeroPad3d", (2, 3, 4, 5), (1,)), ("ZeroPad3d", (1, 2, 3, 4), ((1, 0, 2, 0, 0, 3),)),
    ("ConstantPad1d", (3, 7), ((2, 1), 0.5)), ("ConstantPad2d", (3, 5, 6), (2, 3.0)),
    ("ConstantPad3d", (1, 2, 3, 4), ((0, 1, 1, 0, 2, 2), -1.0)),
    ("ReflectionPad1d", (3, 7), ((2, 3),)), ("ReflectionPad2d", (2, 5, 6), ((1, 0, 2, 3),)),
    ("ReflectionPad3d", (1, 3, 4, 5), (1,)),
    ("ReplicationPad1d", (3, 7), (4,)), ("ReplicationPad2d", (2, 5, 6), ((3, 0, 1, 2),)),
    ("ReplicationPad3d", (1, 3, 4, 5), ((1, 2, 0, 1, 2, 0),)),
    ("CircularPad1d", (3, 7), ((2, 3),)), ("CircularPad2d", (2, 5, 6), (1,)),
    ("CircularPad3d", (1, 3, 4, 5), ((1, 2, 0, 1, 2, 0),)),
]


@pytest.mark.parametrize("cls, shape, args", TORCH_PADS)
def test_torch_padding_layers_match_torch(cls, shape, args):
    ours, torch_counts = against_torch(cls, shape, *args)
    assert ours == torch_counts


@pytest.mark.parametrize("cls, shape, args", [c for c in TORCH_PADS if c[0].endswith("2d")])
def test_torch_padding_layers_pad_the_spatial_axes_when_channels_last(cls, shape, args):
    """Pasted into a Keras-convention model, ZeroPad2d still pads H and W, now the first two axes."""
    ours = symparams_layer(call(cls, *args), shape[1:] + shape[:1], "keras")
    assert ours["output_shape"] == torch_layer(getattr(nn, cls)(*args), shape)["output_shape"][1:] + shape[:1]


# ---------------------------------------------------------------- mistakes

def test_cropping_everything_names_the_layer():
    model = symparams.parse("model m(H = 4):\n    input (H, H, 2)\n    cropping2d(((2, 2), (0, 0)), name=crop)\n")
    with pytest.raises(ValueProblem, match="layer crop"):
        model.evaluate()
    assert model.evaluate({"H": 5}).shape(model.output_shape) == (1, 5, 2)


def test_torch_padding_tuple_needs_two_numbers_per_axis():
    with pytest.raises(ArgumentError, match="one number or 4 numbers"):
        symparams_layer("ZeroPad2d((1, 2))", (3, 5, 6), "torch")


def test_upsample_needs_size_or_scale_factor():
    with pytest.raises(ArgumentError, match="either size or scale_factor"):
        symparams_layer("upsample", (3, 5, 6), "torch")
