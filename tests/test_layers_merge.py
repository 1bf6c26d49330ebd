"""Merges against real Keras 3 merge layers and PyTorch tensor operations: no weights, and the
output shape of each, including where the conventions' default concatenation axis differs."""
import keras
import pytest
import torch

import symparams
from reference import symparams_counts
from symparams.errors import ArgumentError, ShapeError, ValueProblem


def merged(shapes, expr, convention) -> dict:
    """`out = expr` over inputs x0, x1, ... of symbolic sizes evaluated at `shapes`."""
    lines, header = [], []
    for i, shape in enumerate(shapes):
        names = [f"S{i}_{j}" for j in range(len(shape))]
        header += [f"{n} = {s}" for n, s in zip(names, shape)]
        lines.append(f"    x{i} = input ({', '.join(names)},)")
    m = symparams.parse(f"model m({', '.join(header)}):\n" + "\n".join(lines) + f"\n    out = {expr}\n",
                        convention=convention)
    return symparams_counts(m, None, m.rows[-1].name)


def keras_merge(layer, shapes) -> dict:
    inputs = [keras.Input(shape=s) for s in shapes]
    out = layer(inputs)
    model = keras.Model(inputs, out)
    return {"params": model.count_params(), "trainable": 0, "non_trainable": 0, "buffers": 0,
            "output_shape": tuple(out.shape[1:])}


def torch_merge(fn, shapes) -> dict:
    out = fn(*[torch.zeros((2,) + tuple(s), device="meta") for s in shapes])
    return {"params": 0, "trainable": 0, "non_trainable": 0, "buffers": 0, "output_shape": tuple(out.shape[1:])}


SHAPES = [[(5,), (5,)], [(3, 4), (3, 4), (3, 4)], [(2, 3, 4), (2, 3, 4)]]
KERAS_MERGES = {"add": keras.layers.Add, "subtract": keras.layers.Subtract, "multiply": keras.layers.Multiply,
                "average": keras.layers.Average, "maximum": keras.layers.Maximum, "minimum": keras.layers.Minimum}


@pytest.mark.parametrize("name, shapes", [(name, shapes) for name in KERAS_MERGES for shapes in SHAPES
                                           if name != "subtract" or len(shapes) == 2])
def test_elementwise_merges_match_keras(name, shapes):
    expr = f"{name}({', '.join(f'x{i}' for i in range(len(shapes)))})"
    assert merged(shapes, expr, "keras") == keras_merge(KERAS_MERGES[name](), shapes)


@pytest.mark.parametrize("expr, fn", [("x0 + x1", torch.add), ("x0 - x1", torch.sub), ("x0 * x1", torch.mul),
                                      ("maximum(x0, x1)", torch.maximum), ("minimum(x0, x1)", torch.minimum)])
@pytest.mark.parametrize("shape", [(5,), (3, 4), (2, 3, 4)])
def test_tensor_operators_match_torch(expr, fn, shape):
    assert merged([shape, shape], expr, "torch") == torch_merge(fn, [shape, shape])


@pytest.mark.parametrize("shapes, axis", [([(3, 4), (3, 5)], -1), ([(3, 4), (2, 4), (6, 4)], 1),
                                          ([(2, 3, 4), (2, 1, 4)], 2), ([(2, 3, 4), (2, 3, 9)], 3)])
def test_concatenate_matches_keras(shapes, axis):
    expr = f"concat({', '.join(f'x{i}' for i in range(len(shapes)))}, axis={axis})"
    assert merged(shapes, expr, "keras") == keras_merge(keras.layers.Concatenate(axis=axis), shapes)


@pytest.mark.parametrize("shapes, dim", [([(3, 4), (3, 5)], -1), ([(3, 4), (2, 4), (6, 4)], 1),
                                         ([(2, 3, 4), (2, 1, 4)], 2)])
def test_concatenate_matches_torch_cat(shapes, dim):
    expr = f"cat({', '.join(f'x{i}' for i in range(len(shapes)))}, dim={dim})"
    assert merged(shapes, expr, "torch") == torch_merge(lambda *xs: torch.cat(xs, dim=dim), shapes)


@pytest.mark.parametrize("shapes", [[(3, 8, 8), (5, 8, 8)], [(4, 6), (2, 6)], [(1, 2, 3, 3), (7, 2, 3, 3)]])
def test_concatenate_defaults_to_the_channel_axis(shapes):
    """Keras joins the last axis; under the torch convention a bare concat joins the channels (dim=1)."""
    assert merged(shapes, "concat(x0, x1)", "torch") == torch_merge(lambda a, b: torch.cat((a, b), dim=1), shapes)
    last = [s[1:] + s[:1] for s in shapes]   # the same tensors, channels last
    assert merged(last, "concat(x0, x1)", "keras") == keras_merge(keras.layers.Concatenate(), last)


# ---------------------------------------------------------------- mistakes

def test_adding_tensors_of_different_sizes_names_both_shapes_and_the_axis():
    text = "model m():\n    x = input (4, 5)\n    y = input (4, 6)\n    z = x + y\n"
    with pytest.raises(ShapeError) as caught:
        symparams.parse(text, filename="net.sp")
    message = str(caught.value)
    assert "(None, 4, 5)" in message and "(None, 4, 6)" in message
    assert "axis 2" in message and "5 vs 6" in message
    assert message.startswith("net.sp:4:9: shape error")


def test_adding_symbolic_sizes_records_when_they_agree():
    m = symparams.parse("model m(C = 128, D = 128):\n    x = input (C)\n    y = input (D)\n    z = x + y\n")
    assert m.evaluate().shape(m.output_shape) == (128,)
    with pytest.raises(ValueProblem) as caught:
        m.evaluate({"D": 64})
    assert "C = D" in str(caught.value) and "axis 1" in str(caught.value)


def test_subtract_takes_two_tensors():
    with pytest.raises(ArgumentError, match="subtract takes exactly two tensors"):
        merged([(3,), (3,), (3,)], "subtract(x0, x1, x2)", "keras")


def test_concatenate_checks_the_other_axes():
    with pytest.raises(ShapeError, match=r"\(None, 3, 4\) and \(None, 2, 5\) differ on axis 1"):
        symparams.parse("model m():\n    x = input (3, 4)\n    y = input (2, 5)\n    z = concat(x, y)\n")


def test_concatenate_axis_must_exist():
    with pytest.raises(ShapeError, match="axis 3 is not an axis"):
        symparams.parse("model m():\n    x = input (3, 4)\n    y = input (3, 4)\n    z = concat(x, y, axis=3)\n")


# ---------------------------------------------------------------- broadcasting

def merged_at(shapes, expr, convention) -> dict:
    """`out = expr` over inputs of the given literal shapes (a symbol of size 1 does not broadcast)."""
    lines = [f"    x{i} = input ({', '.join(map(str, shape))},)" for i, shape in enumerate(shapes)]
    m = symparams.parse("model m():\n" + "\n".join(lines) + f"\n    out = {expr}\n", convention=convention)
    return symparams_counts(m, None, m.rows[-1].name)


BROADCAST = [[(4, 5, 3), (3,)], [(4, 5, 3), (1, 1, 3)], [(4, 5, 3), (5, 1)], [(1, 5, 3), (4, 1, 3)],
             [(6, 3), (6, 3), (1, 3)], [(3,), (2, 4, 3)]]


@pytest.mark.parametrize("name", list(KERAS_MERGES))
@pytest.mark.parametrize("shapes", BROADCAST)
def test_elementwise_merges_broadcast_as_keras_does(name, shapes):
    """Keras' merge layers give a lower-rank input its missing axes after the batch, then broadcast:
    squeeze-and-excitation's (H, W, C) * (C)."""
    if name == "subtract" and len(shapes) != 2:
        return
    expr = f"{name}({', '.join(f'x{i}' for i in range(len(shapes)))})"
    assert merged_at(shapes, expr, "keras") == keras_merge(KERAS_MERGES[name](), shapes)


@pytest.mark.parametrize("expr, fn", [("x0 + x1", torch.add), ("x0 - x1", torch.sub), ("x0 * x1", torch.mul),
                                      ("maximum(x0, x1)", torch.maximum), ("minimum(x0, x1)", torch.minimum),
                                      ("average(x0, x1)", lambda a, b: (a + b) / 2)])
@pytest.mark.parametrize("shapes", [[(3, 4, 5), (3, 1, 1)], [(3, 4, 5), (1, 4, 1)], [(1, 4, 5), (3, 1, 5)],
                                    [(6, 2), (6, 1)]])
def test_tensor_operators_broadcast_as_torch_does(expr, fn, shapes):
    """torch's (C, H, W) * (C, 1, 1), batch included on both sides."""
    assert merged_at(shapes, expr, "torch") == torch_merge(fn, shapes)


def test_elementwise_merges_count_no_macs_as_flop_counter_does():
    from torch.utils.flop_counter import FlopCounterMode
    a, b = torch.zeros(2, 8, 5, 5), torch.zeros(2, 8, 1, 1)
    with FlopCounterMode(display=False) as counter:
        torch.maximum(a * b + a - b, b)
    m = symparams.parse("model m():\n    x = input (8, 5, 5)\n    s = input (8, 1, 1)\n    y = maximum(x * s + x - s, s)\n",
                        convention="torch")
    assert m.evaluate().macs == counter.get_total_flops() == 0


def test_a_merge_that_does_not_broadcast_names_both_shapes():
    text = "model m():\n    x = input (4, 5, 3)\n    s = input (2, 3)\n    z = x * s\n"
    with pytest.raises(ShapeError) as caught:
        symparams.parse(text, filename="net.sp")
    message = str(caught.value)
    assert "(None, 4, 5, 3)" in message and "(None, 2, 3)" in message and "do not broadcast" in message
    assert "axis 2" in message and "5 vs 2" in message
    with pytest.raises(ValueError, match="incompatible shapes"):
        keras_merge(keras.layers.Multiply(), [(4, 5, 3), (2, 3)])


def test_broadcasting_symbolic_sizes_records_when_they_agree():
    m = symparams.parse("model m(H = 7, C = 16, K = 16):\n    x = input (H, H, C)\n    s = input (1, 1, K)\n"
                        "    z = multiply(x, s)\n")
    assert m.evaluate().shape(m.output_shape) == (7, 7, 16)
    with pytest.raises(ValueProblem, match="C = K"):
        m.evaluate({"K": 8})


@pytest.mark.parametrize("framework, shapes", [("keras", ["(5, 5, 6)", "(6)"]), ("keras", ["(5, 5, 6)", "(1, 1, 6)"]),
                                               ("torch", ["(6, 5, 5)", "(6, 1, 1)"]), ("torch", ["(5, 6)", "(6)"])])
@pytest.mark.parametrize("op", ["x * s", "add(x, s, x)", "average(x, s)", "maximum(s, x)", "x - s"])
def test_verify_builds_broadcasting_merges(framework, shapes, op):
    from symparams.verify.compare import check
    text = f"model m():\n    x = input {shapes[0]}\n    s = input {shapes[1]}\n    y = {op}\n"
    result = check(symparams.parse(text, convention=framework), framework)
    assert result.ok and not result.unchecked


@pytest.mark.parametrize("name", list(KERAS_MERGES))
@pytest.mark.parametrize("shapes", [[(4, 5, 3), (3,)], [(2, 3), (2, 3), (1, 3)], [(3,), (2, 4, 3)]])
def test_verify_merge_glue_computes_what_keras_computes(name, shapes):
    """verify's and export's torch Merge gives Keras' values, a lower-rank input broadcast as Keras does."""
    from symparams.verify.torch_glue import Merge
    if name == "subtract" and len(shapes) != 2:
        return
    generator = torch.Generator().manual_seed(0)
    xs = [torch.randn((2,) + s, generator=generator) for s in shapes]
    expected = KERAS_MERGES[name]()([keras.ops.convert_to_tensor(x.numpy()) for x in xs])
    assert torch.allclose(Merge(name)(*xs), torch.as_tensor(keras.ops.convert_to_numpy(expected)), atol=1e-6)
