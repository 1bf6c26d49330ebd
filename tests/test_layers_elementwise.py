"""torch's Lazy* classes and SyncBatchNorm, the remaining count-free activations and noise layers, and
arguments that change no count: each against the real PyTorch module or Keras 3 layer, exactly."""
import keras
import pytest
import torch
from torch import nn

import symparams
from single_layer import against_keras, against_torch, call, keras_layer, symparams_layer, torch_layer, without_macs
from symparams.errors import ArgumentError

# ---------------------------------------------------------------- Lazy* infer their input size

LAZY = [
    ("LazyLinear", (7,), (5,), {}), ("LazyLinear", (3, 6), (4,), {"bias": False}), ("LazyLinear", (2, 3, 9), (1,), {}),
    ("LazyConv1d", (4, 12), (6, 3), {"stride": 2}), ("LazyConv1d", (4, 12), (6, 3, 1, 2, 2, 2), {}),
    ("LazyConv1d", (3, 9), (2, 4), {"bias": False, "padding": "same"}),
    ("LazyConv2d", (4, 9, 9), (8, 3), {"padding": 1, "groups": 2}),
    ("LazyConv2d", (3, 8, 10), (5, (3, 1), 1, 0, 2), {"bias": False}), ("LazyConv2d", (2, 6, 6), (4, 2, 2), {}),
    ("LazyConv3d", (2, 5, 6, 7), (3, 2), {}), ("LazyConv3d", (4, 5, 5, 5), (2, 3, 2, 1, 1, 2), {}),
    ("LazyConv3d", (1, 4, 6, 8), (3, (1, 2, 3)), {"bias": False}),
    ("LazyConvTranspose1d", (4, 6), (6, 3, 2), {}), ("LazyConvTranspose1d", (4, 6), (2, 3, 2, 1, 1, 2), {}),
    ("LazyConvTranspose1d", (3, 7), (5, 2), {"dilation": 3, "bias": False}),
    ("LazyConvTranspose2d", (4, 5, 5), (6, 3, 2, 1, 1, 2), {}),
    ("LazyConvTranspose2d", (3, 5, 6), (2, 2), {"dilation": 2, "bias": False}),
    ("LazyConvTranspose2d", (2, 4, 4), (3, (2, 3), (2, 1)), {}),
    ("LazyConvTranspose3d", (2, 3, 4, 5), (4, 3), {"stride": 2, "output_padding": 1}),
    ("LazyConvTranspose3d", (4, 2, 3, 3), (2, 2, 1, 0, 0, 2), {}), ("LazyConvTranspose3d", (1, 3, 3, 3), (1, 1), {}),
    ("LazyBatchNorm1d", (6,), (), {}), ("LazyBatchNorm1d", (4, 9), (), {"affine": False}),
    ("LazyBatchNorm1d", (3, 2), (), {"track_running_stats": False}),
    ("LazyBatchNorm2d", (3, 5, 6), (), {"track_running_stats": False}), ("LazyBatchNorm2d", (4, 2, 2), (), {}),
    ("LazyBatchNorm2d", (2, 3, 3), (), {"affine": False, "momentum": 0.3}),
    ("LazyBatchNorm3d", (2, 3, 4, 5), (), {}), ("LazyBatchNorm3d", (3, 2, 2, 2), (), {"affine": False}),
    ("LazyBatchNorm3d", (1, 2, 3, 4), (), {"bias": False}),
    # LazyInstanceNorm*d default to affine=True, track_running_stats=True, unlike InstanceNorm*d
    ("LazyInstanceNorm1d", (4, 9), (), {}), ("LazyInstanceNorm1d", (4, 9), (), {"affine": False}),
    ("LazyInstanceNorm1d", (2, 5), (), {"track_running_stats": False}),
    ("LazyInstanceNorm2d", (3, 5, 6), (), {}), ("LazyInstanceNorm2d", (2, 4, 4), (), {"bias": False}),
    ("LazyInstanceNorm2d", (3, 3, 3), (), {"affine": False, "track_running_stats": False}),
    ("LazyInstanceNorm3d", (2, 3, 4, 5), (), {}), ("LazyInstanceNorm3d", (1, 2, 2, 2), (), {"affine": False}),
    ("LazyInstanceNorm3d", (3, 2, 3, 2), (), {"track_running_stats": False}),
]


@pytest.mark.parametrize("cls, shape, args, kwargs", LAZY)
def test_lazy_modules_count_as_their_eager_class(cls, shape, args, kwargs):
    module = getattr(nn, cls)(*args, **kwargs).eval()
    module(torch.zeros((2,) + shape))      # a first call on the CPU infers the size (the meta device cannot)
    assert symparams_layer(call(cls, *args, **kwargs), shape, "torch") == torch_layer(module, shape)


@pytest.mark.parametrize("shape, kwargs", [((6,), {}), ((4, 9), {"affine": False}), ((3, 5, 6), {"momentum": 0.2})])
def test_sync_batchnorm_is_batchnorm(shape, kwargs):
    module = nn.SyncBatchNorm(shape[0], **kwargs).eval()    # eval: one example per channel is enough
    assert symparams_layer(call("SyncBatchNorm", shape[0], **kwargs), shape, "torch") == torch_layer(module, shape)


# ---------------------------------------------------------------- count-free activations

TORCH_ACTIVATIONS = [
    ("CELU", (), {}), ("CELU", (0.5,), {}), ("Hardshrink", (), {"lambd": 0.2}), ("Softshrink", (0.3,), {}),
    ("Hardtanh", (-2.0, 2.0), {}), ("Hardtanh", (), {"max_val": 3.0}), ("Threshold", (0.1, 20.0), {}),
    ("RReLU", (), {}), ("RReLU", (0.1, 0.3), {}), ("LogSigmoid", (), {}), ("Tanhshrink", (), {}),
    ("Softmin", (), {"dim": 1}), ("Softmin", (), {"dim": -1}), ("FeatureAlphaDropout", (0.2,), {}),
    ("GELU", (), {"approximate": "tanh"}), ("Softplus", (), {"beta": 2.0, "threshold": 10.0}),
]


@pytest.mark.parametrize("cls, args, kwargs", TORCH_ACTIVATIONS)
@pytest.mark.parametrize("shape", [(4, 6), (3, 5, 2), (2, 3, 4, 5)])
def test_torch_activations_match(cls, args, kwargs, shape):
    ours, theirs = against_torch(cls, shape, *args, **kwargs)
    assert ours == theirs


@pytest.mark.parametrize("shape", [(3, 4, 5), (1, 2, 2), (6, 3, 7)])
def test_softmax2d_matches_torch_and_needs_channels_and_an_image(shape):
    ours, theirs = against_torch("Softmax2d", shape)
    assert ours == theirs
    with pytest.raises(symparams.errors.ShapeError, match="rank-4"):
        symparams_layer("Softmax2d()", shape[:2], "torch")


KERAS_LAYERS = [
    ("GaussianNoise", (0.1,), {}), ("GaussianNoise", (), {"stddev": 0.5, "seed": 3}),
    ("ActivityRegularization", (), {}), ("ActivityRegularization", (0.01, 0.02), {}),
    ("UnitNormalization", (), {}), ("UnitNormalization", (), {"axis": -2}), ("UnitNormalization", (), {"axis": (1, 2)}),
    ("ReLU", (), {"max_value": 6.0}), ("ReLU", (), {"negative_slope": 0.1, "threshold": 0.5}),
]


@pytest.mark.parametrize("cls, args, kwargs", KERAS_LAYERS)
@pytest.mark.parametrize("shape", [(4, 6), (3, 5, 2), (2, 3, 4, 5)])
def test_keras_count_free_layers_match(cls, args, kwargs, shape):
    ours, theirs = against_keras(cls, shape, *args, **kwargs)
    assert ours == theirs


@pytest.mark.parametrize("line, activation", [("celu", "celu"), ("hardshrink", "hard_shrink"),
                                              ("log_sigmoid", "log_sigmoid"), ("tanhshrink", "tanh_shrink")])
def test_torch_activations_keras_also_has_match_its_activation_layer(line, activation):
    shape = (3, 4)
    assert without_macs(symparams_layer(line, shape, "keras")) == \
        keras_layer(keras.layers.Activation(activation), shape)


# ---------------------------------------------------------------- arguments that change no count

@pytest.mark.parametrize("line", ["TransformerEncoderLayer(8, 2, 16, layer_norm_eps=1e-6)",
                                  "Embedding(10, 4, max_norm=1.0, scale_grad_by_freq=true)",
                                  "GELU(approximate=\"tanh\")", "ReLU(max_value=6)"])
def test_arguments_that_change_no_count_are_accepted(line):
    symparams.parse(f"model m():\n    input (5, 8) int\n    {line}\n", convention="torch")


@pytest.mark.parametrize("layer", ["LSTM(4, batch_first=false)", "MultiheadAttention(8, 2, batch_first=false)(x, x)",
                                   "TransformerEncoderLayer(8, 2, batch_first=false)"])
def test_batch_first_false_is_refused_with_the_reason(layer):
    with pytest.raises(ArgumentError, match="batch_first=false is not supported") as caught:
        symparams.parse(f"model m():\n    x = input (5, 8)\n    {layer}\n", convention="torch")
    assert "batch first" in caught.value.hint
    symparams.parse(f"model m():\n    x = input (5, 8)\n    {layer.replace('false', 'true')}\n", convention="torch")
