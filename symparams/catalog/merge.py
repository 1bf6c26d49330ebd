"""Formula sheet: merging tensors. No weights.

    add, subtract, multiply, average, maximum, minimum   shapes must agree; the output has that shape
    concatenate                                          the sizes on `axis` add up; the other axes agree
    bilinear (PyTorch)    x1 A x2 + b: in1*in2*out weights + out biases
    cosine_similarity, pairwise_distance (PyTorch)       one axis reduced away
    dot (Keras)           sums of products over one axis of each input
"""
from ..dims import agree, describe_condition, product, require_same_shape
from ..errors import ArgumentError, ShapeError
from ..values import format_shape
from .core import axis_index
from .registry import Bool, Dim, Int, Ints, Out, Real, layer
from .shapes import check_size


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


# ---------------------------------------------------------------- products and distances of two tensors

def _two(xs, name, what="(x1, x2)"):
    if len(xs) != 2:
        raise ArgumentError(f"{name} is applied to two tensors {what}, found {len(xs)}")
    return xs


@layer("Bilinear", "Bilinear")
def bilinear(*xs, in1_features: Dim = None, in2_features: Dim = None, units: Dim, use_bias: Bool = True):
    """PyTorch Bilinear(in1, in2, out) on (x1, x2): y_k = x1 A_k x2 + b_k, in1*in2*out weights + out biases.

    The leading axes of x1 and x2 agree; MACs count in1*in2*out per position. Written Bilinear(units=out)
    the input sizes are read from x1 and x2."""
    x1, x2 = _two(xs, "bilinear")
    conditions = check_size(in1_features, x1[-1], "bilinear's in1_features", "x1") + \
        check_size(in2_features, x2[-1], "bilinear's in2_features", "x2") + \
        require_same_shape([x1, x2], "bilinear of (x1, x2)", skip_axis=-1)
    n1, n2 = x1[-1], x2[-1]
    return Out(shape=tuple(x1[:-1]) + (units,), params=n1 * n2 * units + (units if use_bias else 0),
               macs=product(x1[:-1]) * n1 * n2 * units, conditions=conditions)


@layer("CosineSimilarity", "CosineSimilarity")
def cosine_similarity(*xs, axis: Int = 1):
    """PyTorch CosineSimilarity(dim) on (x1, x2) of one shape: that axis (batch is 0) reduced away."""
    x1, x2 = _two(xs, "cosine_similarity")
    conditions = require_same_shape([x1, x2], "cosine_similarity of (x1, x2)")
    i = axis_index(axis, x1, "cosine_similarity")
    return Out(shape=tuple(x1[:i]) + tuple(x1[i + 1:]), conditions=conditions)


@layer("PairwiseDistance", "PairwiseDistance")
def pairwise_distance(*xs, p: Real = 2.0, keepdim: Bool = False):
    """PyTorch PairwiseDistance on (x1, x2) of one shape: the p-norm of x1 - x2 over the last axis,
    which goes away (stays as 1 with keepdim)."""
    x1, x2 = _two(xs, "pairwise_distance")
    conditions = require_same_shape([x1, x2], "pairwise_distance of (x1, x2)")
    return Out(shape=tuple(x1[:-1]) + ((1,) if keepdim else ()), conditions=conditions)


@layer("Dot", "Dot")
def dot(*xs, axes: Ints, normalize: Bool = False):
    """Keras Dot(axes) on (x1, x2): the sum of products over axis a1 of x1 and a2 of x2 (batch is 0;
    one number for both or a pair). The other axes of x1, then of x2, remain; nothing left gives (1,)."""
    x1, x2 = _two(xs, "dot")
    if len(axes) not in (1, 2):
        raise ArgumentError(f"dot's axes is one axis or a pair (a1, a2), found {len(axes)}")
    a1, a2 = (axes * 2)[:2]
    i, j = axis_index(a1, x1, "dot (x1)"), axis_index(a2, x2, "dot (x2)")
    verdict = agree(x1[i], x2[j])
    if verdict is False:
        raise ShapeError(f"dot sums over axis {a1} of {format_shape(x1)} and axis {a2} of {format_shape(x2)}: "
                         f"{x1[i]} vs {x2[j]}")
    shape = tuple(x1[:i]) + tuple(x1[i + 1:]) + tuple(x2[:j]) + tuple(x2[j + 1:])
    conditions = [] if verdict is True else [(verdict, f"dot needs {describe_condition(verdict)}")]
    return Out(shape=shape or (1,), macs=product(shape) * x1[i], conditions=conditions)
