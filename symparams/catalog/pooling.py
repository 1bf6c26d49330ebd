"""Formula sheet: pooling. No weights and no MACs; channels pass through.

    max/avg pooling:   each axis as a sliding window (shapes.window_out) of pool_size taps moved by
                       strides (default: pool_size, in both frameworks); padding 'valid'/'same'
                       (Keras) or zeros per side (PyTorch, at most half the window), ceil_mode (PyTorch)
    global pooling:    (C,), or (1, ..., 1, C) with keepdims (channels first under PyTorch)
    adaptive pooling:  the spatial axes become output_size, whatever the input's
    PyTorch's LPPool (windows as max pooling's, no padding), MaxUnpool ((L - 1)*s - 2p + k per axis),
    FractionalMaxPool (output_size, or floor(L * output_ratio))
"""
import sympy as sp

from ..dims import require_same_shape
from ..errors import ArgumentError
from .registry import Amounts, Bool, Dim, Dims, Int, Kind, Out, Padding, Real, _PerAxis, is_none, layer, spatial
from .shapes import check_same_padding, join_channels, split_channels, window_out

def _pool(x, n, name, pool_size, strides, padding, dilation, ceil_mode, c):
    sizes, channels = split_channels(x, n, name, c)
    k = spatial(pool_size, n, "pool size")
    s = spatial(strides, n, "strides") if strides is not None else k
    d = spatial(dilation, n, "dilation")
    pads = spatial(padding, n, "padding")
    if "causal" in pads:
        raise ArgumentError(f"{name}: padding must be 'valid', 'same' or zeros per side, not 'causal'")
    check_same_padding(pads, s, name, c)
    for p, ki in zip(pads, k):
        if not isinstance(p, str) and (2 * p - sp.sympify(ki)).is_positive:
            raise ArgumentError(f"{name}: padding ({p}) must be at most half the pool size ({ki})")
    out = tuple(window_out(L, ki, si, pi, di, ceil_mode) for L, ki, si, pi, di in zip(sizes, k, s, pads, d))
    return Out(shape=join_channels(out, channels, c))


def _global_pool(x, n, name, keepdims, c):
    sizes, channels = split_channels(x, n, name, c)
    return Out(shape=join_channels((1,) * n, channels, c) if keepdims else (channels,))


def _adaptive_pool(x, n, name, output_size, c):
    sizes, channels = split_channels(x, n, name, c)
    out = tuple(L if o is None else o for o, L in zip(spatial(output_size, n, "output size"), sizes))
    return Out(shape=join_channels(out, channels, c))


class _OutputSize(_PerAxis):
    """An adaptive pool's output_size: sizes, one or one per axis; None (`none`) keeps the input's size
    on its axis, as torch's AdaptiveAvgPool2d((None, 4)) does."""
    def convert(self, value, where):
        if is_none(value):      # torch takes None per axis, not for all of them
            raise ArgumentError(f"{where} must be {self.describe}, found none", value.pos,
                                hint="none keeps the input's size on one axis: write it per axis, (none, 4)")
        if not isinstance(value, tuple):
            return (Dim.convert(value, where),)
        return tuple(None if is_none(v) else Dim.convert(v, where) for v in value)


OutputSize = _OutputSize(Dim, "a size, or a tuple of sizes and none")


def _max_unpool(x, indices, n, name, pool_size, strides, padding, c):
    conditions = require_same_shape([x, indices], f"{name} of (x, indices)")
    sizes, channels = split_channels(x, n, name, c)
    k = spatial(pool_size, n, "pool size")
    s = spatial(strides, n, "strides") if strides is not None else k
    p = spatial(padding, n, "padding")
    out = tuple((L - 1) * si - 2 * pi + ki for L, ki, si, pi in zip(sizes, k, s, p))
    return Out(shape=join_channels(out, channels, c), conditions=conditions)


class _Ratios(Kind):
    """FractionalMaxPool's output_ratio: numbers between 0 and 1, kept exact (0.5 -> 1/2)."""
    describe = "a number between 0 and 1 or a tuple of them"

    def convert(self, value, where):
        items = value if isinstance(value, tuple) else (value,)
        out = tuple(sp.Rational(repr(v)) if isinstance(v, float) else v for v in items)
        for v in out:
            if not isinstance(v, sp.Number) or not 0 < v < 1:
                raise ArgumentError(f"{where} must be {self.describe}, found {v}")
        return out


Ratios = _Ratios()


def _fractional_max_pool(x, n, name, pool_size, output_size, output_ratio, c):
    if (output_size is None) == (output_ratio is None):
        raise ArgumentError(f"{name} needs output_size or output_ratio (one of them)")
    sizes, channels = split_channels(x, n, name, c)
    if output_size is not None:
        out = spatial(output_size, n, "output size")
    else:
        out = tuple(sp.floor(L * r) for L, r in zip(sizes, spatial(output_ratio, n, "output ratio")))
    # PyTorch's windows: the last of `out` starts at L - k at most (its 3-D kernel asks one more of L)
    fits = [((sp.Le if n == 2 else sp.Lt)(o + k - 1, L), f"{name}: output {o} with pool {k} must fit in the "
             f"input's {L}: needs {o} + {k} - 1 {'<=' if n == 2 else '<'} {L}")
            for o, k, L in zip(out, spatial(pool_size, n, "pool size"), sizes)]
    return Out(shape=join_channels(out, channels, c), conditions=[f for f in fits if f[0] is not sp.true])


@layer("MaxPooling1D", "MaxPool1d")
def maxpool1d(x, pool_size: Dims = 2, strides: Dims = None, padding: Padding = "valid", dilation_rate: Dims = 1,
              ceil_mode: Bool = False, return_indices: Bool = False, *, c):
    """1-D max pooling: no weights; a window of pool_size (PyTorch's kernel_size) taps moved by strides (default:
    the window); each axis becomes floor((L + 2p - K)/s) + 1 (ceil(L/s) with padding='same')."""
    return _pool(x, 1, "maxpool1d", pool_size, strides, padding, dilation_rate, ceil_mode, c)


@layer("MaxPooling2D", "MaxPool2d")
def maxpool2d(x, pool_size: Dims = 2, strides: Dims = None, padding: Padding = "valid", dilation_rate: Dims = 1,
              ceil_mode: Bool = False, return_indices: Bool = False, *, c):
    """2-D max pooling: no weights; a window of pool_size (PyTorch's kernel_size) taps moved by strides (default:
    the window); each axis becomes floor((L + 2p - K)/s) + 1 (ceil(L/s) with padding='same')."""
    return _pool(x, 2, "maxpool2d", pool_size, strides, padding, dilation_rate, ceil_mode, c)


@layer("MaxPooling3D", "MaxPool3d")
def maxpool3d(x, pool_size: Dims = 2, strides: Dims = None, padding: Padding = "valid", dilation_rate: Dims = 1,
              ceil_mode: Bool = False, return_indices: Bool = False, *, c):
    """3-D max pooling: no weights; a window of pool_size (PyTorch's kernel_size) taps moved by strides (default:
    the window); each axis becomes floor((L + 2p - K)/s) + 1 (ceil(L/s) with padding='same')."""
    return _pool(x, 3, "maxpool3d", pool_size, strides, padding, dilation_rate, ceil_mode, c)


# count_include_pad and divisor_override change the averages, not the shape.
@layer("AveragePooling1D", "AvgPool1d")
def avgpool1d(x, pool_size: Dims = 2, strides: Dims = None, padding: Padding = "valid", ceil_mode: Bool = False,
              count_include_pad: Bool = True, divisor_override: Int = None, *, c):
    """1-D avg pooling: no weights; a window of pool_size (PyTorch's kernel_size) taps moved by strides (default:
    the window); each axis becomes floor((L + 2p - K)/s) + 1 (ceil(L/s) with padding='same')."""
    return _pool(x, 1, "avgpool1d", pool_size, strides, padding, 1, ceil_mode, c)


@layer("AveragePooling2D", "AvgPool2d")
def avgpool2d(x, pool_size: Dims = 2, strides: Dims = None, padding: Padding = "valid", ceil_mode: Bool = False,
              count_include_pad: Bool = True, divisor_override: Int = None, *, c):
    """2-D avg pooling: no weights; a window of pool_size (PyTorch's kernel_size) taps moved by strides (default:
    the window); each axis becomes floor((L + 2p - K)/s) + 1 (ceil(L/s) with padding='same')."""
    return _pool(x, 2, "avgpool2d", pool_size, strides, padding, 1, ceil_mode, c)


@layer("AveragePooling3D", "AvgPool3d")
def avgpool3d(x, pool_size: Dims = 2, strides: Dims = None, padding: Padding = "valid", ceil_mode: Bool = False,
              count_include_pad: Bool = True, divisor_override: Int = None, *, c):
    """3-D avg pooling: no weights; a window of pool_size (PyTorch's kernel_size) taps moved by strides (default:
    the window); each axis becomes floor((L + 2p - K)/s) + 1 (ceil(L/s) with padding='same')."""
    return _pool(x, 3, "avgpool3d", pool_size, strides, padding, 1, ceil_mode, c)


# ---------------------------------------------------------------- global and adaptive pooling


@layer("GlobalMaxPooling1D", "GlobalMaxPooling1D", "GlobalMaxPool1D")
def global_maxpool1d(x, keepdims: Bool = False, *, c):
    """1-D global max pooling: every spatial axis reduced away (kept as 1 with keepdims)."""
    return _global_pool(x, 1, "global_maxpool1d", keepdims, c)


@layer("GlobalMaxPooling2D", "GlobalMaxPooling2D", "GlobalMaxPool2D")
def global_maxpool2d(x, keepdims: Bool = False, *, c):
    """2-D global max pooling: every spatial axis reduced away (kept as 1 with keepdims)."""
    return _global_pool(x, 2, "global_maxpool2d", keepdims, c)


@layer("GlobalMaxPooling3D", "GlobalMaxPooling3D", "GlobalMaxPool3D")
def global_maxpool3d(x, keepdims: Bool = False, *, c):
    """3-D global max pooling: every spatial axis reduced away (kept as 1 with keepdims)."""
    return _global_pool(x, 3, "global_maxpool3d", keepdims, c)


@layer("GlobalAveragePooling1D", "GlobalAveragePooling1D", "GlobalAvgPool1D")
def global_avgpool1d(x, keepdims: Bool = False, *, c):
    """1-D global avg pooling: every spatial axis reduced away (kept as 1 with keepdims)."""
    return _global_pool(x, 1, "global_avgpool1d", keepdims, c)


@layer("GlobalAveragePooling2D", "GlobalAveragePooling2D", "GlobalAvgPool2D")
def global_avgpool2d(x, keepdims: Bool = False, *, c):
    """2-D global avg pooling: every spatial axis reduced away (kept as 1 with keepdims)."""
    return _global_pool(x, 2, "global_avgpool2d", keepdims, c)


@layer("GlobalAveragePooling3D", "GlobalAveragePooling3D", "GlobalAvgPool3D")
def global_avgpool3d(x, keepdims: Bool = False, *, c):
    """3-D global avg pooling: every spatial axis reduced away (kept as 1 with keepdims)."""
    return _global_pool(x, 3, "global_avgpool3d", keepdims, c)


@layer("AdaptiveMaxPooling1D", "AdaptiveMaxPool1d")
def adaptive_maxpool1d(x, output_size: OutputSize, *, c):
    """1-D adaptive max pooling: the spatial axes become output_size; no weights."""
    return _adaptive_pool(x, 1, "adaptive_maxpool1d", output_size, c)


@layer("AdaptiveMaxPooling2D", "AdaptiveMaxPool2d")
def adaptive_maxpool2d(x, output_size: OutputSize, *, c):
    """2-D adaptive max pooling: the spatial axes become output_size; no weights."""
    return _adaptive_pool(x, 2, "adaptive_maxpool2d", output_size, c)


@layer("AdaptiveMaxPooling3D", "AdaptiveMaxPool3d")
def adaptive_maxpool3d(x, output_size: OutputSize, *, c):
    """3-D adaptive max pooling: the spatial axes become output_size; no weights."""
    return _adaptive_pool(x, 3, "adaptive_maxpool3d", output_size, c)


@layer("AdaptiveAveragePooling1D", "AdaptiveAvgPool1d")
def adaptive_avgpool1d(x, output_size: OutputSize, *, c):
    """1-D adaptive avg pooling: the spatial axes become output_size; no weights."""
    return _adaptive_pool(x, 1, "adaptive_avgpool1d", output_size, c)


@layer("AdaptiveAveragePooling2D", "AdaptiveAvgPool2d")
def adaptive_avgpool2d(x, output_size: OutputSize, *, c):
    """2-D adaptive avg pooling: the spatial axes become output_size; no weights."""
    return _adaptive_pool(x, 2, "adaptive_avgpool2d", output_size, c)


@layer("AdaptiveAveragePooling3D", "AdaptiveAvgPool3d")
def adaptive_avgpool3d(x, output_size: OutputSize, *, c):
    """3-D adaptive avg pooling: the spatial axes become output_size; no weights."""
    return _adaptive_pool(x, 3, "adaptive_avgpool3d", output_size, c)


# ---------------------------------------------------------------- PyTorch's other pools


@layer("LPPool1d", "LPPool1d")
def lp_pool1d(x, norm_type: Real, pool_size: Dims, strides: Dims = None, ceil_mode: Bool = False, *, c):
    """PyTorch LPPool1d(norm_type, kernel_size): the p-norm of each window, no padding; windows as max pooling's, no
    weights."""
    return _pool(x, 1, "lp_pool1d", pool_size, strides, "valid", 1, ceil_mode, c)


@layer("LPPool2d", "LPPool2d")
def lp_pool2d(x, norm_type: Real, pool_size: Dims, strides: Dims = None, ceil_mode: Bool = False, *, c):
    """PyTorch LPPool2d(norm_type, kernel_size): the p-norm of each window, no padding; windows as max pooling's, no
    weights."""
    return _pool(x, 2, "lp_pool2d", pool_size, strides, "valid", 1, ceil_mode, c)


@layer("LPPool3d", "LPPool3d")
def lp_pool3d(x, norm_type: Real, pool_size: Dims, strides: Dims = None, ceil_mode: Bool = False, *, c):
    """PyTorch LPPool3d(norm_type, kernel_size): the p-norm of each window, no padding; windows as max pooling's, no
    weights."""
    return _pool(x, 3, "lp_pool3d", pool_size, strides, "valid", 1, ceil_mode, c)


@layer("MaxUnpool1d", "MaxUnpool1d")
def max_unpool1d(x, indices, pool_size: Dims, strides: Dims = None, padding: Amounts = 0, *, c):
    """PyTorch MaxUnpool1d on (x, indices) from MaxPool1d(return_indices=True): each axis grows to (L - 1)*s - 2p +
    k; no weights."""
    return _max_unpool(x, indices, 1, "max_unpool1d", pool_size, strides, padding, c)


@layer("MaxUnpool2d", "MaxUnpool2d")
def max_unpool2d(x, indices, pool_size: Dims, strides: Dims = None, padding: Amounts = 0, *, c):
    """PyTorch MaxUnpool2d on (x, indices) from MaxPool2d(return_indices=True): each axis grows to (L - 1)*s - 2p +
    k; no weights."""
    return _max_unpool(x, indices, 2, "max_unpool2d", pool_size, strides, padding, c)


@layer("MaxUnpool3d", "MaxUnpool3d")
def max_unpool3d(x, indices, pool_size: Dims, strides: Dims = None, padding: Amounts = 0, *, c):
    """PyTorch MaxUnpool3d on (x, indices) from MaxPool3d(return_indices=True): each axis grows to (L - 1)*s - 2p +
    k; no weights."""
    return _max_unpool(x, indices, 3, "max_unpool3d", pool_size, strides, padding, c)


@layer("FractionalMaxPool2d", "FractionalMaxPool2d")
def fractional_max_pool2d(x, pool_size: Dims, output_size: Dims = None, output_ratio: Ratios = None,
                          *, c):
    """PyTorch FractionalMaxPool2d: the spatial axes become output_size, or floor(L * output_ratio); no weights."""
    return _fractional_max_pool(x, 2, "fractional_max_pool2d", pool_size, output_size, output_ratio, c)


@layer("FractionalMaxPool3d", "FractionalMaxPool3d")
def fractional_max_pool3d(x, pool_size: Dims, output_size: Dims = None, output_ratio: Ratios = None,
                          *, c):
    """PyTorch FractionalMaxPool3d: the spatial axes become output_size, or floor(L * output_ratio); no weights."""
    return _fractional_max_pool(x, 3, "fractional_max_pool3d", pool_size, output_size, output_ratio, c)
