"""Normalisation layers against real PyTorch and Keras 3.

BatchNorm is where the conventions differ most: Keras counts the moving mean and variance as
non-trainable weights (4C params, 2C non-trainable), PyTorch keeps them (and num_batches_tracked)
as buffers beside 2C parameters.
"""
import keras
import pytest
from torch import nn

import symparams
from reference import keras_counts, symparams_counts, torch_counts
from symparams.errors import ShapeError, ValueProblem


def counts(shape: tuple, line: str, convention: str) -> dict:
    """`line` applied to an input of symbolic sizes S0, S1, ... evaluated at `shape`."""
    names = [f"S{i}" for i in range(len(shape))]
    header = ", ".join(f"{n} = {s}" for n, s in zip(names, shape))
    model = symparams.parse(f"model m({header}):\n    input ({', '.join(names)},)\n    {line}\n",
                            convention=convention)
    return symparams_counts(model, None, model.rows[-1].name)


# ---------------------------------------------------------------- batch normalisation

@pytest.mark.parametrize("line, module, shape", [
    ("batchnorm1d", nn.BatchNorm1d(6), (6,)), ("BatchNorm1d(5)", nn.BatchNorm1d(5), (5, 9)),
    ("batchnorm2d(num_features=3)", nn.BatchNorm2d(3), (3, 4, 4)), ("batchnorm", nn.BatchNorm2d(16), (16, 2, 3)),
    ("batchnorm3d", nn.BatchNorm3d(4), (4, 2, 3, 2)),
    ("batchnorm2d(affine=false)", nn.BatchNorm2d(8, affine=False), (8, 3, 3)),
    ("batchnorm1d(track_running_stats=false)", nn.BatchNorm1d(7, track_running_stats=False), (7, 4)),
    ("batchnorm3d(affine=false, track_running_stats=false)",
     nn.BatchNorm3d(2, affine=False, track_running_stats=False), (2, 3, 3, 3)),
    ("batchnorm2d(bias=false)", nn.BatchNorm2d(5, bias=False), (5, 2, 2)),
])
def test_batchnorm_matches_torch_parameters_and_buffers(line, module, shape):
    assert counts(shape, line, "torch") == torch_counts(module, shape)


@pytest.mark.parametrize("line, layer, shape", [
    ("batchnorm", lambda: keras.layers.BatchNormalization(), (6,)),
    ("batchnorm1d", lambda: keras.layers.BatchNormalization(), (9, 5)),
    ("BatchNormalization", lambda: keras.layers.BatchNormalization(), (4, 4, 32)),
    ("batchnorm3d", lambda: keras.layers.BatchNormalization(), (2, 3, 2, 4)),
    ("batchnorm(center=false)", lambda: keras.layers.BatchNormalization(center=False), (5, 7)),
    ("batchnorm(scale=false, center=false)", lambda: keras.layers.BatchNormalization(scale=False, center=False),
     (3, 3, 3)),
    ("batchnorm(axis=1)", lambda: keras.layers.BatchNormalization(axis=1), (3, 4, 5)),
])
def test_batchnorm_matches_keras_non_trainable_statistics(line, layer, shape):
    assert counts(shape, line, "keras") == keras_counts(layer(), shape)


@pytest.mark.parametrize("line, module, shape", [
    ("instancenorm1d", nn.InstanceNorm1d(6), (6, 10)),
    ("InstanceNorm2d(3, affine=true)", nn.InstanceNorm2d(3, affine=True), (3, 5, 5)),
    ("instancenorm3d(track_running_stats=true)", nn.InstanceNorm3d(4, track_running_stats=True), (4, 2, 2, 3)),
    ("instancenorm2d(affine=true, bias=false)", nn.InstanceNorm2d(7, affine=True, bias=False), (7, 3, 4)),
])
def test_instancenorm_matches_torch(line, module, shape):
    assert counts(shape, line, "torch") == torch_counts(module, shape)


def test_batchnorm_restated_features_must_match():
    with pytest.raises(ShapeError, match="num_features is 4 but the input has 3"):
        symparams.parse("convention torch\nmodel m():\n    input (3, 8, 8)\n    batchnorm2d(4)\n")


def test_batchnorm2d_checks_the_rank():
    with pytest.raises(ShapeError, match="batchnorm2d expects a rank-4 input"):
        symparams.parse("model m():\n    input (8, 3)\n    batchnorm2d\n")


# ---------------------------------------------------------------- layer normalisation

@pytest.mark.parametrize("line, module, shape", [
    ("layernorm(8)", nn.LayerNorm(8), (5, 8)), ("LayerNorm((4, 6))", nn.LayerNorm((4, 6)), (3, 4, 6)),
    ("layernorm((2, 3, 4))", nn.LayerNorm((2, 3, 4)), (2, 3, 4)),
    ("layernorm(5, elementwise_affine=false)", nn.LayerNorm(5, elementwise_affine=False), (7, 5)),
    ("layernorm(6, bias=false)", nn.LayerNorm(6, bias=False), (6,)),
    ("layernorm", nn.LayerNorm(12), (3, 12)),
])
def test_layernorm_matches_torch(line, module, shape):
    assert counts(shape, line, "torch") == torch_counts(module, shape)


@pytest.mark.parametrize("line, layer, shape", [
    ("layernorm", lambda: keras.layers.LayerNormalization(), (5, 8)),
    ("LayerNormalization(axis=(1, 2))", lambda: keras.layers.LayerNormalization(axis=[1, 2]), (3, 4, 6)),
    ("layernorm(axis=1)", lambda: keras.layers.LayerNormalization(axis=1), (3, 4, 6)),
    ("layernorm(center=false)", lambda: keras.layers.LayerNormalization(center=False), (9,)),
    ("layernorm(scale=false)", lambda: keras.layers.LayerNormalization(scale=False), (2, 2, 7)),
])
def test_layernorm_matches_keras(line, layer, shape):
    assert counts(shape, line, "keras") == keras_counts(layer(), shape)


def test_layernorm_normalized_shape_must_be_the_trailing_sizes():
    with pytest.raises(ShapeError, match=r"normalized_shape \(4, 5\) is 4 but the input has 6"):
        symparams.parse("model m():\n    input (3, 6, 5)\n    layernorm((4, 5))\n")


# ---------------------------------------------------------------- RMS normalisation

@pytest.mark.parametrize("line, module, shape", [
    ("rmsnorm(8)", nn.RMSNorm(8), (5, 8)), ("RMSNorm((3, 4))", nn.RMSNorm((3, 4)), (2, 3, 4)),
    ("rmsnorm(6, elementwise_affine=false)", nn.RMSNorm(6, elementwise_affine=False), (6,)),
])
def test_rmsnorm_matches_torch(line, module, shape):
    assert counts(shape, line, "torch") == torch_counts(module, shape)


@pytest.mark.parametrize("line, layer, shape", [
    ("rmsnorm", lambda: keras.layers.RMSNormalization(), (5, 8)),
    ("RMSNormalization", lambda: keras.layers.RMSNormalization(), (16,)),
    ("rmsnorm(axis=1)", lambda: keras.layers.RMSNormalization(axis=1), (3, 4, 6)),
])
def test_rmsnorm_matches_keras(line, layer, shape):
    assert counts(shape, line, "keras") == keras_counts(layer(), shape)


# ---------------------------------------------------------------- group normalisation

@pytest.mark.parametrize("groups, shape", [(2, (6, 4, 4)), (3, (9, 5)), (1, (4, 2, 2, 2)), (8, (16, 3, 3))])
def test_groupnorm_matches_torch_channels_first(groups, shape):
    line = f"groupnorm({groups}, {shape[0]})"
    assert counts(shape, line, "torch") == torch_counts(nn.GroupNorm(groups, shape[0]), shape)
    assert counts(shape, f"GroupNorm(num_groups={groups}, num_channels={shape[0]}, affine=false)", "torch") == \
        torch_counts(nn.GroupNorm(groups, shape[0], affine=False), shape)
    assert counts(shape, f"groupnorm({groups}, bias=false)", "torch") == \
        torch_counts(nn.GroupNorm(groups, shape[0], bias=False), shape)


@pytest.mark.parametrize("groups, shape", [(2, (4, 4, 6)), (3, (5, 9)), (4, (2, 2, 2, 4)), (32, (3, 3, 64))])
def test_groupnorm_matches_keras_channels_last(groups, shape):
    line = f"group_norm(groups={groups})"
    assert counts(shape, line, "keras") == keras_counts(keras.layers.GroupNormalization(groups), shape)
    assert counts(shape, f"GroupNormalization({groups}, center=false)", "keras") == \
        keras_counts(keras.layers.GroupNormalization(groups, center=False), shape)


def test_groupnorm_groups_must_divide_the_channels():
    with pytest.raises(ShapeError, match="cannot split 6 channels into 4 groups"):
        symparams.parse("model m():\n    input (5, 5, 6)\n    groupnorm(4)\n")
    symbolic = symparams.parse("model m(C = 8):\n    input (5, 5, C)\n    groupnorm(4)\n")
    assert symbolic.evaluate().params == 16
    with pytest.raises(ValueProblem, match="4 must divide C"):
        symbolic.evaluate({"C": 6})
