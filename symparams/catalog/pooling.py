"""Formula sheet: pooling. No weights and no MACs; channels pass through.

    max/avg pooling:   each axis as a sliding window (shapes.window_out) of pool_size taps moved by
                       strides (default: pool_size, in both frameworks); padding 'valid'/'same'
                       (Keras) or zeros per side (PyTorch, at most half the window), ceil_mode (PyTorch)
    global pooling:    (C,), or (1, ..., 1, C) with keepdims (channels first under PyTorch)
    adaptive pooling:  the spatial axes become output_size, whatever the input's
"""
import sympy as sp

from ..errors import ArgumentError
from .registry import Bool, Dims, Int, Out, Padding, layer, spatial
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
