"""Formula sheet: merging tensors. No weights.

    add, subtract, multiply, average, maximum, minimum   shapes must agree; the output has that shape
    concatenate                                          the sizes on `axis` add up; the other axes agree
"""
from ..dims import require_same_shape
from ..errors import ArgumentError
from .core import axis_index
from .registry import Int, Out, layer


def _elementwise(name, binary=False):
    def merge(*xs):
        if binary and len(xs) != 2:
            raise ArgumentError(f"{name} takes exactly two tensors (the first minus the second), found {len(xs)}")
        return Out(shape=xs[0], conditions=require_same_shape(xs, f"{name} of {len(xs)} tensors"))
    merge.__doc__ = f"Elementwise {name}: the shapes must agree, no weights."
    return merge


layer("Add", "add", "plus", name="add")(_elementwise("add"))
layer("Subtract", "sub", name="subtract")(_elementwise("subtract", binary=True))
layer("Multiply", "mul", name="multiply")(_elementwise("multiply"))
layer("Average", "mean", name="average")(_elementwise("average"))
layer("Maximum", "maximum", name="maximum")(_elementwise("maximum"))
layer("Minimum", "minimum", name="minimum")(_elementwise("minimum"))


@layer("Concatenate", "cat", "concat")
def concatenate(*xs, axis: Int = None, c):
    """Join along `axis` (batch is 0, -1 the last): its sizes add up, the other axes agree.

    By default the convention's channel axis: the last in Keras (Concatenate(axis=-1)), the
    first after the batch in PyTorch (torch.cat(..., dim=1) on channels-first tensors)."""
    if axis is None:
        index = c.channel_axis % len(xs[0])
    else:
        index = axis_index(axis, xs[0], "concatenate")
    conditions = require_same_shape(xs, f"concatenate on axis {index + 1}", skip_axis=index)
    shape = list(xs[0])
    shape[index] = sum(x[index] for x in xs)
    return Out(shape=tuple(shape), conditions=conditions)
