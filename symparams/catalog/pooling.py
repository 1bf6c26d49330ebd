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
from .registry import Amounts, Bool, Dims, Int, Kind, Out, Padding, Real, layer, spatial
from .shapes import check_same_padding, join_channels, split_channels, window_out

_KERAS_WORD = {"max": "Max", "avg": "Average"}
_TORCH_WORD = {"max": "Max", "avg": "Avg"}


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


def _register(kind, n):
    name = f"{kind}pool{n}d"
    if kind == "max":
        def pool(x, pool_size: Dims = 2, strides: Dims = None, padding: Padding = "valid", dilation_rate: Dims = 1,
                 ceil_mode: Bool = False, return_indices: Bool = False, *, c):
            return _pool(x, n, name, pool_size, strides, padding, dilation_rate, ceil_mode, c)
    else:
        # count_include_pad and divisor_override change the averages, not the shape.
        def pool(x, pool_size: Dims = 2, strides: Dims = None, padding: Padding = "valid", ceil_mode: Bool = False,
                 count_include_pad: Bool = True, divisor_override: Int = None, *, c):
            return _pool(x, n, name, pool_size, strides, padding, 1, ceil_mode, c)
    pool.__doc__ = (f"{n}-D {kind} pooling: no weights; a window of pool_size (PyTorch's kernel_size) "
                    f"taps moved by strides (default: the window); each axis becomes floor((L + 2p - K)/s) + 1 "
                    f"(ceil(L/s) with padding='same').")
    layer(f"{_KERAS_WORD[kind]}Pooling{n}D", f"{_TORCH_WORD[kind]}Pool{n}d", name=name)(pool)


def _register_global(kind, n):
    def global_pool(x, keepdims: Bool = False, *, c):
        sizes, channels = split_channels(x, n, f"global_{kind}pool{n}d", c)
        return Out(shape=join_channels((1,) * n, channels, c) if keepdims else (channels,))
    global_pool.__doc__ = f"{n}-D global {kind} pooling: every spatial axis reduced away (kept as 1 with keepdims)."
    keras = f"Global{_KERAS_WORD[kind]}Pooling{n}D"
    layer(keras, keras, f"Global{_TORCH_WORD[kind]}Pool{n}D", name=f"global_{kind}pool{n}d")(global_pool)


def _register_adaptive(kind, n):
    def adaptive_pool(x, output_size: Dims, *, c):
        sizes, channels = split_channels(x, n, f"adaptive_{kind}pool{n}d", c)
        return Out(shape=join_channels(spatial(output_size, n, "output size"), channels, c))
    adaptive_pool.__doc__ = f"{n}-D adaptive {kind} pooling: the spatial axes become output_size; no weights."
    layer(f"Adaptive{_KERAS_WORD[kind]}Pooling{n}D", f"Adaptive{_TORCH_WORD[kind]}Pool{n}d",
          name=f"adaptive_{kind}pool{n}d")(adaptive_pool)


for _kind in ("max", "avg"):
    for _n in (1, 2, 3):
        _register(_kind, _n)
        _register_global(_kind, _n)
        _register_adaptive(_kind, _n)


# ---------------------------------------------------------------- PyTorch's other pools

def _register_lp(n):
    def lp_pool(x, norm_type: Real, pool_size: Dims, strides: Dims = None, ceil_mode: Bool = False, *, c):
        return _pool(x, n, f"lp_pool{n}d", pool_size, strides, "valid", 1, ceil_mode, c)
    lp_pool.__doc__ = (f"PyTorch LPPool{n}d(norm_type, kernel_size): the p-norm of each window, no padding; "
                       f"windows as max pooling's, no weights.")
    layer(f"LPPool{n}d", f"LPPool{n}d", name=f"lp_pool{n}d")(lp_pool)


def _register_unpool(n):
    def max_unpool(x, indices, pool_size: Dims, strides: Dims = None, padding: Amounts = 0, *, c):
        conditions = require_same_shape([x, indices], f"max_unpool{n}d of (x, indices)")
        sizes, channels = split_channels(x, n, f"max_unpool{n}d", c)
        k = spatial(pool_size, n, "pool size")
        s = spatial(strides, n, "strides") if strides is not None else k
        p = spatial(padding, n, "padding")
        out = tuple((L - 1) * si - 2 * pi + ki for L, ki, si, pi in zip(sizes, k, s, p))
        return Out(shape=join_channels(out, channels, c), conditions=conditions)
    max_unpool.__doc__ = (f"PyTorch MaxUnpool{n}d on (x, indices) from MaxPool{n}d(return_indices=True): "
                          f"each axis grows to (L - 1)*s - 2p + k; no weights.")
    layer(f"MaxUnpool{n}d", f"MaxUnpool{n}d", name=f"max_unpool{n}d")(max_unpool)


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


def _register_fractional(n):
    def fractional_max_pool(x, pool_size: Dims, output_size: Dims = None, output_ratio: _Ratios() = None, *, c):
        if (output_size is None) == (output_ratio is None):
            raise ArgumentError(f"fractional_max_pool{n}d needs output_size or output_ratio (one of them)")
        sizes, channels = split_channels(x, n, f"fractional_max_pool{n}d", c)
        if output_size is not None:
            out = spatial(output_size, n, "output size")
        else:
            out = tuple(sp.floor(L * r) for L, r in zip(sizes, spatial(output_ratio, n, "output ratio")))
        return Out(shape=join_channels(out, channels, c))
    fractional_max_pool.__doc__ = (f"PyTorch FractionalMaxPool{n}d: the spatial axes become output_size, or "
                                   f"floor(L * output_ratio); no weights.")
    layer(f"FractionalMaxPool{n}d", f"FractionalMaxPool{n}d", name=f"fractional_max_pool{n}d")(fractional_max_pool)


for _n in (1, 2, 3):
    _register_lp(_n)
    _register_unpool(_n)
for _n in (2, 3):
    _register_fractional(_n)
