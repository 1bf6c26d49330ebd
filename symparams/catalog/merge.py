"""Formula sheet: merging tensors. No weights.

    add, subtract, multiply, average, maximum, minimum   shapes broadcast (numpy's rule on an example's axes)
    concatenate                                          the sizes on `axis` add up; the other axes agree
    bilinear (PyTorch)    x1 A x2 + b: in1*in2*out weights + out biases
    cosine_similarity, pairwise_distance (PyTorch)       one axis reduced away
    dot (Keras)           sums of products over one axis of each input
"""
from ..dims import agree, describe_condition, product, require_same_shape
from ..errors import ArgumentError, ShapeError
from ..values import format_shape
from .core import axis_index
from .facts import Parallel, Saved
from .registry import Bool, Dim, Int, Ints, Out, Real, layer
from .shapes import check_size


def broadcast(xs, what: str) -> tuple:
    """The shape of an elementwise merge, and the conditions it holds under.

    Both frameworks' rule on an example's axes (the batch left out): the shapes align on the right,
    a missing axis counts as 1, and a size 1 stretches to the other's. Keras' merge layers give a
    lower-rank input its missing axes after the batch, which is the same alignment: (H, W, C) * (C)
    and (H, W, C) * (1, 1, C) are (H, W, C); torch's (C, H, W) * (C, 1, 1) is (C, H, W). Two symbolic
    sizes are taken to agree, and the condition that they do is recorded (a symbol is not taken to be 1).
    """
    shape, conditions = tuple(xs[0]), []
    for other in xs[1:]:
        other = tuple(other)
        rank = max(len(shape), len(other))
        a, b = (1,) * (rank - len(shape)) + shape, (1,) * (rank - len(other)) + other
        joined = []
        for axis, (i, j) in enumerate(zip(a, b)):
            if j == 1 or i == j:
                joined.append(i)
                continue
            if i == 1:
                joined.append(j)
                continue
            verdict = agree(i, j)
            where = f"axis {axis + 1} (counting the batch as axis 0, the shapes aligned on the right)"
            if verdict is False:
                raise ShapeError(f"{what}: shapes {format_shape(shape)} and {format_shape(other)} do not broadcast: "
                                 f"they differ on {where}: {i} vs {j}",
                                 hint="sizes broadcast where they agree or one of them is 1; a missing leading "
                                      "axis counts as 1" + (". Channels first, a per-channel (C) meets (C, H, W) "
                                      "only as (C, 1, 1): pool with keepdims=true, or reshape((C, 1, 1))"
                                      if len(shape) != len(other) else ""))
            if verdict is not True:
                conditions.append((verdict, f"{what}: {format_shape(shape)} and {format_shape(other)} "
                                            f"need {describe_condition(verdict)} to agree on {where}"))
            joined.append(i)
        shape = tuple(joined)
    return shape, conditions


def _elementwise(name, binary=False, keeps=False):
    """A merge; `keeps`: its backward pass reads its inputs (a product's gradient is the other factor)."""
    def merge(*xs):
        if binary and len(xs) != 2:
            raise ArgumentError(f"{name} takes exactly two tensors (the first minus the second), found {len(xs)}")
        shape, conditions = broadcast(xs, f"{name} of {len(xs)} tensors")
        saved = (Saved(tensor="input", what="factors"),) if keeps else ()
        return Out(shape=shape, conditions=conditions, saved=saved, parallel=Parallel("elementwise"))
    merge.__doc__ = (f"Elementwise {name}, no weights: the shapes broadcast as in numpy on an example's axes "
                     f"((H, W, C) with (C) or (1, 1, C) gives (H, W, C)).")
    return merge


layer("Add", "add", "plus", name="add")(_elementwise("add"))
layer("Subtract", "sub", name="subtract")(_elementwise("subtract", binary=True))
layer("Multiply", "mul", name="multiply")(_elementwise("multiply", keeps=True))
layer("Average", "mean", name="average")(_elementwise("average"))
layer("Maximum", "maximum", name="maximum")(_elementwise("maximum", keeps=True))
layer("Minimum", "minimum", name="minimum")(_elementwise("minimum", keeps=True))


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
