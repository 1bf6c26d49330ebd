"""Formula sheet: resizing the spatial axes. No weights and no MACs; channels pass through.

    upsampling (Keras UpSampling*D, size s):       L -> L * s
    upsample (PyTorch Upsample, scale_factor f):   L -> floor(L * f), or L -> size when size is given
    zero padding (Keras ZeroPadding*D):            L -> a + L + b   (a before, b after)
    cropping (Keras Cropping*D):                   L -> L - a - b
    PyTorch ZeroPad/ConstantPad/ReflectionPad/ReplicationPad/CircularPad*d:
                                                   the same, with the amounts listed from the LAST axis
                                                   back: (left, right, top, bottom, front, back)

Keras takes one amount for all, one per axis, or an (a, b) pair per axis. Keras' 1-D layers always act
on axis 1 of (steps, features); under the torch convention they act on L of (C, L), as PyTorch's do.
"""
import sympy as sp

from ..errors import ArgumentError
from .registry import Amounts, Bool, Choice, Dims, Kind, Out, Real, layer, spatial
from .shapes import join_channels, split_channels

KERAS_INTERPOLATION = Choice("nearest", "bilinear", "bicubic", "lanczos3", "lanczos5", "area")
TORCH_MODES = Choice("nearest", "nearest-exact", "linear", "bilinear", "bicubic", "trilinear", "area")
OptionalBool = Choice("none", also=Bool)   # PyTorch flags that change values, not shapes


class _SidePairs(Kind):
    """Keras padding/cropping: a number, one per axis, or a (before, after) pair per axis."""
    describe = "a whole number >= 0, one per axis, or a (before, after) pair per axis"

    def convert(self, value, where):
        items = value if isinstance(value, tuple) else (value,)
        return tuple(Amounts.convert(v, where) if isinstance(v, tuple) else self.one(v, where) for v in items)

    @staticmethod
    def one(v, where):
        return Amounts.convert(v, where)[0]


class _Factors(Kind):
    """PyTorch's scale_factor: a positive number (fractions allowed) or one per axis, kept exact."""
    describe = "a positive number or a tuple of them"

    def convert(self, value, where):
        items = value if isinstance(value, tuple) else (value,)
        out = []
        for v in items:
            if isinstance(v, float):
                v = sp.Rational(repr(v))   # 1.5 -> 3/2 exactly, as the decimal reads
            if isinstance(v, bool) or not isinstance(v, sp.Expr) or v.is_positive is False:
                self.reject(v, where)
            out.append(v)
        return tuple(out)


SidePairs, Factors = _SidePairs(), _Factors()


def side_pairs(amounts: tuple, n: int, what: str) -> tuple:
    """Keras' forms, broadcast to one (before, after) pair per spatial axis."""
    amounts = amounts if isinstance(amounts, tuple) else (amounts,)
    if n == 1 and len(amounts) == 2 and not isinstance(amounts[0], tuple):
        return (amounts,)                  # Keras 1-D: (before, after)
    if len(amounts) == 1 and not isinstance(amounts[0], tuple):
        return ((amounts[0], amounts[0]),) * n
    if len(amounts) != n:
        raise ArgumentError(f"expected one {what} amount, {n} (one per axis) or {n} (before, after) pairs, "
                            f"found {len(amounts)}")
    pairs = tuple(a if isinstance(a, tuple) else (a, a) for a in amounts)
    if any(len(p) != 2 for p in pairs):
        raise ArgumentError(f"each {what} pair is (before, after)")
    return pairs


def torch_pairs(amounts: tuple, n: int) -> tuple:
    """PyTorch's padding tuple (last axis first) as (before, after) pairs in axis order."""
    if len(amounts) == 1:
        return ((amounts[0], amounts[0]),) * n
    if len(amounts) != 2 * n:
        raise ArgumentError(f"PyTorch's padding is one number or {2 * n} numbers "
                            f"(left, right{', top, bottom' if n > 1 else ''}{', front, back' if n > 2 else ''}), "
                            f"found {len(amounts)}")
    return tuple((amounts[2 * i], amounts[2 * i + 1]) for i in range(n))[::-1]


def _resize(x, n, name, c, each):
    sizes, channels = split_channels(x, n, name, c)
    return Out(shape=join_channels(tuple(each(i, L) for i, L in enumerate(sizes)), channels, c))


def _register(n):
    def upsampling(x, size: Dims = 2, interpolation: KERAS_INTERPOLATION = "nearest", *, c):
        s = spatial(size, n, "size")
        return _resize(x, n, f"upsampling{n}d", c, lambda i, L: L * s[i])
    upsampling.__doc__ = f"{n}-D upsampling: each spatial axis repeated `size` times, L -> L*size."
    layer(f"UpSampling{n}D", f"UpSampling{n}D", name=f"upsampling{n}d")(upsampling)

    def zero_padding(x, padding: SidePairs = 1, *, c):
        pairs = side_pairs(padding, n, "padding")
        return _resize(x, n, f"zero_padding{n}d", c, lambda i, L: pairs[i][0] + L + pairs[i][1])
    zero_padding.__doc__ = f"{n}-D zero padding: each spatial axis L -> before + L + after."
    layer(f"ZeroPadding{n}D", f"ZeroPadding{n}D", name=f"zero_padding{n}d")(zero_padding)

    def cropping(x, cropping: SidePairs = 1 if n != 2 else 0, *, c):
        pairs = side_pairs(cropping, n, "cropping")
        return _resize(x, n, f"cropping{n}d", c, lambda i, L: L - pairs[i][0] - pairs[i][1])
    cropping.__doc__ = f"{n}-D cropping: each spatial axis L -> L - before - after."
    layer(f"Cropping{n}D", f"Cropping{n}D", name=f"cropping{n}d")(cropping)

    for kind in ("Zero", "Reflection", "Replication", "Circular", "Constant"):
        _register_torch_pad(kind, n)


def _register_torch_pad(kind, n):
    name = f"{kind.lower()}_pad{n}d"

    def pad(x, padding: Amounts, *, c):
        pairs = torch_pairs(padding, n)
        return _resize(x, n, name, c, lambda i, L: pairs[i][0] + L + pairs[i][1])

    def constant_pad(x, padding: Amounts, value: Real, *, c):
        return pad(x, padding, c=c)
    fn = constant_pad if kind == "Constant" else pad
    fn.__doc__ = (f"PyTorch {kind}Pad{n}d: pads the {n} spatial axes, amounts listed from the last axis back "
                  f"(left, right, ...); L -> before + L + after.")
    layer(f"{kind}Pad{n}d", f"{kind}Pad{n}d", name=name)(fn)


for _n in (1, 2, 3):
    _register(_n)


@layer("Upsample", "Upsample", "UpsamplingNearest2d", "UpsamplingBilinear2d", name="upsample")
def upsample(x, size: Dims = None, scale_factor: Factors = None, mode: TORCH_MODES = "nearest",
             align_corners: OptionalBool = None, recompute_scale_factor: OptionalBool = None,
             *, c):
    """PyTorch Upsample: every axis but the channels becomes `size`, or floor(L * scale_factor)."""
    if (size is None) == (scale_factor is None):
        raise ArgumentError("upsample needs either size or scale_factor (not both)")
    if len(x) < 2:
        raise ArgumentError(f"upsample needs channels and at least one spatial axis, found {len(x)} axes")
    n = len(x) - 1
    if size is not None:
        s = spatial(size, n, "size")
        return _resize(x, n, "upsample", c, lambda i, L: s[i])
    f = spatial(scale_factor, n, "scale factor")
    return _resize(x, n, "upsample", c, lambda i, L: sp.floor(L * f[i]))
