"""Formula sheet: normalisation layers.

A scale (gamma) and a shift (beta) per normalised feature. BatchNorm also keeps a running
mean and variance per feature: Keras counts them as non-trainable weights, PyTorch as
buffers (with a num_batches_tracked counter) -- see conventions.py.
"""
from ..errors import ShapeError
from ..values import format_shape
from .registry import Bool, Dim, Out, layer
from .shapes import need_rank


def _batchnorm(x, features, center, scale, c, ranks):
    if ranks:
        need_rank(x, ranks, "batchnorm")
    n = x[c.channel_axis]
    if features is not None and features != n:
        from ..dims import agree
        if agree(features, n) is False:
            raise ShapeError(f"batchnorm was given {features} features but its input {format_shape(x)} has {n} "
                             f"on the channel axis")
    affine = n * ((1 if center else 0) + (1 if scale else 0))
    stats = 2 * n
    if c.norm_stats_as_buffers:
        return Out(shape=x, params=affine, buffers=stats + 1)   # + num_batches_tracked
    return Out(shape=x, params=affine + stats, non_trainable=stats)


@layer("BatchNormalization", "BatchNorm", "batch_norm", "batchnormalization")
def batchnorm(x, features: Dim = None, center: Bool = True, scale: Bool = True, *, c):
    """Per channel: gamma, beta (trained) and running mean, variance (not trained)."""
    return _batchnorm(x, features, center, scale, c, None)


@layer("BatchNorm1d", "BatchNorm1d")
def batchnorm1d(x, features: Dim = None, center: Bool = True, scale: Bool = True, *, c):
    """BatchNorm over (C,) or (L, C) / (C, L)."""
    return _batchnorm(x, features, center, scale, c, (1, 2))


@layer("BatchNorm2d", "BatchNorm2d")
def batchnorm2d(x, features: Dim = None, center: Bool = True, scale: Bool = True, *, c):
    """BatchNorm over images (H, W, C) / (C, H, W)."""
    return _batchnorm(x, features, center, scale, c, 3)


@layer("BatchNorm3d", "BatchNorm3d")
def batchnorm3d(x, features: Dim = None, center: Bool = True, scale: Bool = True, *, c):
    """BatchNorm over volumes (D, H, W, C) / (C, D, H, W)."""
    return _batchnorm(x, features, center, scale, c, 4)


@layer("LayerNormalization", "LayerNorm", "layer_norm", "ln")
def layernorm(x, features: Dim = None, center: Bool = True, scale: Bool = True):
    """Normalises the last axis: gamma and beta of its size."""
    n = x[-1]
    return Out(shape=x, params=n * ((1 if center else 0) + (1 if scale else 0)))
