"""Dense, activations, reshaping, dropout, embedding and PReLU against real PyTorch and Keras 3.

Each symparams side is a small program with symbolic sizes, evaluated at the test's sizes; each
framework side is the real layer. Counts and output shapes must agree exactly.
"""
import keras
import pytest
import torch
from hypothesis import given, settings, strategies as st
from torch import nn

import symparams
from reference import keras_counts, symparams_counts, torch_counts, torch_macs
from symparams.errors import ShapeError


def counts(sizes: dict, input_dims: str, line: str, convention: str, dtype: str = "") -> dict:
    """The last row of `model m(sizes): input (input_dims) dtype; line`, evaluated at `sizes`."""
    header = ", ".join(f"{k} = {v}" for k, v in sizes.items())
    model = symparams.parse(f"model m({header}):\n    input ({input_dims}) {dtype}\n    {line}\n",
                            convention=convention)
    return symparams_counts(model, None, model.rows[-1].name)


def macs(sizes: dict, input_dims: str, line: str, convention: str) -> int:
    header = ", ".join(f"{k} = {v}" for k, v in sizes.items())
    model = symparams.parse(f"model m({header}):\n    input ({input_dims})\n    {line}\n", convention=convention)
    return model.evaluate().macs


class Permute(nn.Module):
    """x.permute(...) as a module: PyTorch has no nn.Permute."""

    def __init__(self, *dims):
        super().__init__()
        self.dims = dims

    def forward(self, x):
        return x.permute(*self.dims)


# ---------------------------------------------------------------- dense

DENSE = [({"n": 5}, "n", 3, True), ({"T": 7, "n": 6}, "T, n", 4, False), ({"H": 3, "W": 4, "n": 2}, "H, W, n", 9, True),
         ({"D": 2, "H": 3, "W": 2, "n": 5}, "D, H, W, n", 1, True)]


@pytest.mark.parametrize("sizes, dims, units, bias", DENSE)
def test_dense_matches_torch_linear(sizes, dims, units, bias):
    shape = tuple(sizes.values())
    line = f"linear({units}, bias={str(bias).lower()})"
    assert counts(sizes, dims, line, "torch") == torch_counts(nn.Linear(shape[-1], units, bias=bias), shape)
    assert macs(sizes, dims, line, "torch") == torch_macs(nn.Linear(shape[-1], units, bias=bias), shape)


@pytest.mark.parametrize("sizes, dims, units, bias", DENSE)
def test_dense_matches_keras_dense(sizes, dims, units, bias):
    line = f"dense({units}, use_bias={str(bias).lower()}, activation=relu)"
    assert counts(sizes, dims, line, "keras") == keras_counts(keras.layers.Dense(units, use_bias=bias,
                                                                                 activation="relu"),
                                                              tuple(sizes.values()))


def keras_run(layer, input_shape) -> dict:
    """keras_counts, but the output shape of a real call: Keras' symbolic shapes miss GLU's halving."""
    import numpy as np
    result = keras_counts(layer, input_shape)
    result["output_shape"] = tuple(layer(np.zeros((2,) + tuple(input_shape), "float32")).shape[1:])
    return result


@pytest.mark.parametrize("n, units", [(4, 3), (6, 10), (2, 7)])
def test_dense_with_glu_halves_the_last_axis(n, units):
    sizes = {"T": 3, "n": n}
    expected = keras_run(keras.layers.Dense(2 * units, activation="glu"), (3, n))
    assert counts(sizes, "T, n", f"dense({2 * units}, activation=glu)", "keras") == expected
    assert counts(sizes, "T, n", f"dense({2 * units}, activation=glu)", "torch") == \
        torch_counts(nn.Sequential(nn.Linear(n, 2 * units), nn.GLU()), (3, n))


@settings(max_examples=15, deadline=None)
@given(st.lists(st.integers(1, 9), min_size=1, max_size=3), st.integers(1, 40), st.booleans())
def test_dense_formula_equals_torch_for_drawn_sizes(shape, units, bias):
    sizes = {f"S{i}": s for i, s in enumerate(shape)}
    line = f"dense({units}, use_bias={str(bias).lower()})"
    module = nn.Linear(shape[-1], units, bias=bias)
    assert counts(sizes, ", ".join(sizes) + ",", line, "torch") == torch_counts(module, tuple(shape))


def test_dense_restated_in_features_must_match():
    with pytest.raises(ShapeError, match="in_features is 7 but the input has 5"):
        symparams.parse("model m():\n    input (5)\n    linear(3, in_features=7)\n")
    symbolic = symparams.parse("model m(n = 5):\n    input (n)\n    linear(3, in_features=7)\n")
    assert symbolic.evaluate({"n": 7}).params == 24
    with pytest.raises(symparams.errors.ValueProblem, match="n = 7"):
        symbolic.evaluate()


# ---------------------------------------------------------------- activations

@pytest.mark.parametrize("line, module", [
    ("relu", nn.ReLU()), ("gelu", nn.GELU()), ("sigmoid", nn.Sigmoid()), ("tanh", nn.Tanh()), ("silu", nn.SiLU()),
    ("softmax(dim=1)", nn.Softmax(dim=1)), ("log_softmax(dim=-1)", nn.LogSoftmax(dim=-1)),
    ("LeakyReLU(negative_slope=0.2)", nn.LeakyReLU(0.2)), ("elu", nn.ELU()), ("identity", nn.Identity()),
    ("hardswish", nn.Hardswish()), ("glu(dim=2)", nn.GLU(dim=2)), ("glu", nn.GLU()),
])
@pytest.mark.parametrize("shape", [(4, 6), (2, 8), (6, 2, 4)])
def test_activation_layers_match_torch(line, module, shape):
    sizes = {f"S{i}": s for i, s in enumerate(shape)}
    assert counts(sizes, ", ".join(sizes), line, "torch") == torch_counts(module, shape)


@pytest.mark.parametrize("line, layer", [
    ("activation(softmax)", lambda: keras.layers.Activation("softmax")), ("ReLU", lambda: keras.layers.ReLU()),
    ("Softmax(axis=1)", lambda: keras.layers.Softmax(axis=1)), ("ELU", lambda: keras.layers.ELU()),
    ("activation(glu)", lambda: keras.layers.Activation("glu")),
])
@pytest.mark.parametrize("shape", [(4, 6), (3, 2), (5, 2, 8)])
def test_activation_layers_match_keras(line, layer, shape):
    sizes = {f"S{i}": s for i, s in enumerate(shape)}
    assert counts(sizes, ", ".join(sizes), line, "keras") == keras_run(layer(), shape)


def test_glu_needs_an_even_axis():
    with pytest.raises(ShapeError, match="even"):
        symparams.parse("model m():\n    input (4, 5)\n    glu\n")


# ---------------------------------------------------------------- reshaping

@pytest.mark.parametrize("shape, start, end", [((3, 4, 5), 1, -1), ((3, 4, 5), 2, 3), ((2, 3, 4, 5), 1, 2),
                                               ((6,), 1, -1)])
def test_flatten_matches_torch(shape, start, end):
    sizes = {f"S{i}": s for i, s in enumerate(shape)}
    line = f"flatten(start_dim={start}, end_dim={end})"
    assert counts(sizes, ", ".join(sizes) + ",", line, "torch") == torch_counts(nn.Flatten(start, end), shape)


@pytest.mark.parametrize("shape", [(3, 4, 5), (7, 2), (2, 2, 2, 3)])
def test_flatten_matches_keras(shape):
    sizes = {f"S{i}": s for i, s in enumerate(shape)}
    assert counts(sizes, ", ".join(sizes), "flatten", "keras") == keras_counts(keras.layers.Flatten(), shape)


@pytest.mark.parametrize("shape, target", [((12,), (3, 4)), ((2, 6), (-1, 3)), ((4, 3, 2), (6, -1)),
                                           ((5, 6), (-1,))])
def test_reshape_matches_keras(shape, target):
    sizes = {f"S{i}": s for i, s in enumerate(shape)}
    line = "reshape((" + ", ".join(map(str, target)) + ",))"
    assert counts(sizes, ", ".join(sizes) + ",", line, "keras") == keras_counts(keras.layers.Reshape(target), shape)


def test_reshape_with_the_wrong_count_is_a_shape_error():
    with pytest.raises(ShapeError, match=r"cannot turn \(None, 3, 4\) \(12 values\) into \(None, 5, 2\)"):
        symparams.parse("model m():\n    input (3, 4)\n    reshape((5, 2))\n")


def test_reshape_of_symbolic_sizes_records_the_condition():
    model = symparams.parse("model m(a = 3, b = 4):\n    input (a, b)\n    reshape((b, a))\n    reshape((6, 2))\n")
    assert model.evaluate().shape(model.output_shape) == (6, 2)
    with pytest.raises(symparams.errors.ValueProblem, match="reshape"):
        model.evaluate({"a": 5})


@pytest.mark.parametrize("shape, dim, sizes", [((12,), 1, (3, 4)), ((6, 5), 1, (2, 3)), ((4, 6, 2), -2, (3, 2)),
                                                ((4, 10), 2, (5, 2))])
def test_unflatten_matches_torch(shape, dim, sizes):
    names = {f"S{i}": s for i, s in enumerate(shape)}
    line = f"unflatten({dim}, ({', '.join(map(str, sizes))}))"
    assert counts(names, ", ".join(names) + ",", line, "torch") == torch_counts(nn.Unflatten(dim, sizes), shape)


@pytest.mark.parametrize("shape, dims", [((3, 4), (2, 1)), ((2, 3, 4), (3, 1, 2)), ((2, 3, 4), (1, 3, 2)),
                                         ((5, 2, 3, 4), (4, 2, 3, 1))])
def test_permute_matches_keras_and_torch(shape, dims):
    sizes = {f"S{i}": s for i, s in enumerate(shape)}
    keras_line = f"permute(({', '.join(map(str, dims))}))"
    torch_line = f"permute((0, {', '.join(map(str, dims))}))"   # PyTorch numbers the batch as 0
    assert counts(sizes, ", ".join(sizes), keras_line, "keras") == keras_counts(keras.layers.Permute(dims), shape)
    assert counts(sizes, ", ".join(sizes), torch_line, "torch") == torch_counts(Permute(0, *dims), shape)


def test_permute_must_name_each_axis_once():
    with pytest.raises(ShapeError, match="each axis 1..2 once"):
        symparams.parse("model m():\n    input (3, 4)\n    permute((1, 1))\n")


# ---------------------------------------------------------------- dropout

@pytest.mark.parametrize("line, module, shape", [
    ("dropout(0.5)", nn.Dropout(0.5), (7,)), ("Dropout(p=0.1)", nn.Dropout(0.1), (3, 4, 5)),
    ("dropout1d(0.2)", nn.Dropout1d(0.2), (4, 9)), ("Dropout2d(0.3)", nn.Dropout2d(0.3), (3, 5, 6)),
    ("dropout3d(0.3)", nn.Dropout3d(0.3), (2, 3, 4, 5)), ("alpha_dropout(0.1)", nn.AlphaDropout(0.1), (6, 2)),
])
def test_dropouts_match_torch(line, module, shape):
    sizes = {f"S{i}": s for i, s in enumerate(shape)}
    assert counts(sizes, ", ".join(sizes) + ",", line, "torch") == torch_counts(module, shape)


@pytest.mark.parametrize("line, layer, shape", [
    ("dropout(0.5)", lambda: keras.layers.Dropout(0.5), (7,)),
    ("SpatialDropout1D(0.2)", lambda: keras.layers.SpatialDropout1D(0.2), (4, 9)),
    ("spatial_dropout2d(0.3)", lambda: keras.layers.SpatialDropout2D(0.3), (3, 5, 6)),
    ("spatial_dropout3d(0.3)", lambda: keras.layers.SpatialDropout3D(0.3), (2, 3, 4, 5)),
    ("gaussian_dropout(0.3)", lambda: keras.layers.GaussianDropout(0.3), (2, 3)),
])
def test_dropouts_match_keras(line, layer, shape):
    sizes = {f"S{i}": s for i, s in enumerate(shape)}
    assert counts(sizes, ", ".join(sizes) + ",", line, "keras") == keras_counts(layer(), shape)


def test_spatial_dropout_checks_the_rank():
    with pytest.raises(ShapeError, match="spatial_dropout2d expects a rank-4 input"):
        symparams.parse("model m():\n    input (3, 4)\n    spatial_dropout2d(0.1)\n")


# ---------------------------------------------------------------- embedding

@pytest.mark.parametrize("shape, V, E", [((7,), 50, 8), ((3, 4), 11, 5), ((12,), 1000, 3), ((2, 2, 2), 9, 9)])
def test_embedding_matches_torch_and_keras(shape, V, E):
    sizes = {f"S{i}": s for i, s in enumerate(shape)}
    dims = ", ".join(sizes) + ","
    line = f"embedding({V}, {E})"
    assert counts(sizes, dims, line, "torch", "int") == torch_counts(nn.Embedding(V, E, padding_idx=0), shape,
                                                                     dtype=torch.long)
    assert counts(sizes, dims, line, "keras", "int") == keras_counts(keras.layers.Embedding(V, E), shape, "int32")


# ---------------------------------------------------------------- prelu

@pytest.mark.parametrize("shape", [(4,), (3, 5, 6), (2, 7)])
def test_prelu_defaults_differ_keras_per_element_torch_one(shape):
    sizes = {f"S{i}": s for i, s in enumerate(shape)}
    dims = ", ".join(sizes) + ","
    assert counts(sizes, dims, "prelu", "keras") == keras_counts(keras.layers.PReLU(), shape)
    assert counts(sizes, dims, "prelu", "torch") == torch_counts(nn.PReLU(), shape)


@pytest.mark.parametrize("shape, shared", [((3, 5, 6), (1, 2)), ((3, 5, 6), (3,)), ((4, 2), (1,))])
def test_prelu_keras_shared_axes(shape, shared):
    sizes = {f"S{i}": s for i, s in enumerate(shape)}
    line = f"prelu(shared_axes=({', '.join(map(str, shared))},))"
    assert counts(sizes, ", ".join(sizes), line, "keras") == \
        keras_counts(keras.layers.PReLU(shared_axes=list(shared)), shape)


@pytest.mark.parametrize("shape", [(3, 5, 6), (8,), (4, 9)])
def test_prelu_torch_one_alpha_per_channel(shape):
    sizes = {f"S{i}": s for i, s in enumerate(shape)}
    line = f"prelu(num_parameters={shape[0]})"
    assert counts(sizes, ", ".join(sizes) + ",", line, "torch") == torch_counts(nn.PReLU(shape[0]), shape)


def test_prelu_channel_count_must_match():
    with pytest.raises(ShapeError, match="num_parameters"):
        symparams.parse("convention torch\nmodel m():\n    input (3, 8, 8)\n    prelu(num_parameters=4)\n")


# ---------------------------------------------------------------- sequence helpers

@pytest.mark.parametrize("line, layer, shape", [
    ("time_distributed(dense(8))", lambda: keras.layers.TimeDistributed(keras.layers.Dense(8)), (5, 3)),
    ("TimeDistributed(dense(4, use_bias=false))",
     lambda: keras.layers.TimeDistributed(keras.layers.Dense(4, use_bias=False)), (2, 6, 7)),
    ("time_distributed(conv2d(4, 3))", lambda: keras.layers.TimeDistributed(keras.layers.Conv2D(4, 3)), (3, 8, 8, 2)),
    ("time_distributed(batchnorm())",
     lambda: keras.layers.TimeDistributed(keras.layers.BatchNormalization()), (4, 6)),
    ("time_distributed(batchnorm)",   # a bare layer name, as on a line of its own
     lambda: keras.layers.TimeDistributed(keras.layers.BatchNormalization()), (3, 5)),
])
def test_time_distributed_matches_keras(line, layer, shape):
    sizes = {f"S{i}": s for i, s in enumerate(shape)}
    assert counts(sizes, ", ".join(sizes), line, "keras") == keras_counts(layer(), shape)


@pytest.mark.parametrize("T, F, units", [(5, 3, 8), (7, 2, 1), (1, 9, 4)])
def test_time_distributed_dense_costs_what_a_linear_on_every_step_costs(T, F, units):
    assert macs({"T": T, "F": F}, "T, F", f"time_distributed(dense({units}))", "keras") == \
        torch_macs(nn.Linear(F, units), (T, F))


@pytest.mark.parametrize("F, n", [(3, 4), (10, 1), (1, 7)])
def test_repeat_vector_and_masking_match_keras(F, n):
    assert counts({"F": F}, "F", f"repeat_vector({n})", "keras") == keras_counts(keras.layers.RepeatVector(n), (F,))
    assert counts({"T": n, "F": F}, "T, F", "masking(0.0)", "keras") == \
        keras_counts(keras.layers.Masking(0.0), (n, F))


def test_seed_torch_linear_spelled_with_keywords():
    """A seed question's torchsummary: Linear(in_features=131072, out_features=100) after
    Flatten of (32, 64, 64) has 13,107,300 parameters."""
    m = symparams.parse("convention torch\nmodel m(S = 64):\n    input (32, S, S)\n    flatten\n"
                        "    Linear(in_features=131072, out_features=100)\n")
    assert m.evaluate().row(m.rows[-1].name)["params"] == 13107300
