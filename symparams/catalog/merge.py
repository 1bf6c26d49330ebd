"""Formula sheet: merging tensors. No weights; `concat` sums one axis, the rest must agree."""
from ..dims import require_same_shape
from ..errors import ShapeError
from .registry import Int, Out, layer


def _elementwise(name):
    def merge(*xs):
        require_same_shape(xs, f"{name} of {len(xs)} tensors")
        return Out(shape=xs[0])
    merge.__doc__ = f"Elementwise {name}: shapes must agree, no weights."
    return merge


layer("Add", "add", "plus", name="add")(_elementwise("add"))
layer("Subtract", "sub", name="subtract")(_elementwise("subtract"))
layer("Multiply", "mul", name="multiply")(_elementwise("multiply"))
layer("Average", "mean", name="average")(_elementwise("average"))
layer("Maximum", "max_merge", name="maximum")(_elementwise("maximum"))
layer("Minimum", "min_merge", name="minimum")(_elementwise("minimum"))


@layer("Concatenate", "cat", "concat")
def concatenate(*xs, axis: Int = -1):
    """Join along `axis` (Keras numbers it with the batch as 0; -1 is the last)."""
    rank = len(xs[0])
    ax = axis - 1 if axis > 0 else axis
    if not -rank <= ax < rank:
        raise ShapeError(f"concatenate axis {axis} is outside a rank-{rank + 1} tensor")
    require_same_shape(xs, f"concatenate on axis {axis}", skip_axis=ax)
    shape = list(xs[0])
    shape[ax] = sum(x[ax] for x in xs)
    return Out(shape=tuple(shape))
