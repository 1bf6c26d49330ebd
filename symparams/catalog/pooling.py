"""Formula sheet: pooling. No weights; windows slide as convolutions do."""
from .registry import Bool, Dims, Out, Padding, layer, spatial
from .shapes import join_channels, padding_per_axis, split_channels, window_out


def _pool(x, n, name, pool_size, strides, padding, ceil_mode, c):
    sizes, channels = split_channels(x, n, name, c)
    k = spatial(pool_size, n, "pool size")
    s = spatial(strides, n, "strides") if strides is not None else k   # both frameworks: stride = window
    pads = padding_per_axis(padding, n)
    out = tuple(window_out(L, ki, si, pi, 1, ceil_mode) for L, ki, si, pi in zip(sizes, k, s, pads))
    return Out(shape=join_channels(out, channels, c))


def _register(kind, n):
    keras = f"{'Max' if kind == 'max' else 'Average'}Pooling{n}D"
    torch = f"{kind.capitalize()}Pool{n}d"

    def pool(x, pool_size: Dims = 2, strides: Dims = None, padding: Padding = "valid", ceil_mode: Bool = False,
             *, c):
        return _pool(x, n, f"{kind}pool{n}d", pool_size, strides, padding, ceil_mode, c)
    pool.__doc__ = f"{n}-D {kind} pooling: no weights; each axis shrinks as a window of pool_size slides by strides."
    layer(keras, torch, f"{kind}pool{n}d", name=f"{kind}pool{n}d")(pool)


for _kind in ("max", "avg"):
    for _n in (1, 2, 3):
        _register(_kind, _n)
