"""Formula sheet: resizing the spatial axes. No weights and no MACs; channels pass through.

    upsampling (Keras UpSampling*D, size s):       L -> L * s
    upsample (PyTorch Upsample, scale_factor f):   L -> floor(L * f), or L -> size when size is given
    zero padding (Keras ZeroPadding*D):            L -> a + L + b   (a before, b after)
    cropping (Keras Cropping*D):                   L -> L - a - b
    PyTorch ZeroPad/ConstantPad/ReflectionPad/ReplicationPad/CircularPad*d:
                                                   the same, with the amounts listed from the LAST axis
                                                   back: (left, right, top, bottom, front, back); a negative
                                                   amount crops (ZeroPad, ConstantPad)

    pixel_shuffle(r) (PyTorch):                     (C*r^2, H, W) -> (C, H*r, W*r); pixel_unshuffle the reverse
    unfold (PyTorch im2col):                        (C, H, W) -> (C*prod(k), L), L kernel positions; fold the reverse

Keras takes one amount for all, one per axis, or an (a, b) pair per axis. Keras' 1-D layers always act
on axis 1 of (steps, features); under the torch convention they act on L of (C, L), as PyTorch's do.
"""
import sympy as sp

from ..dims import agree, product
from ..errors import ArgumentError, ShapeError
from ..values import format_shape
from .registry import Amounts, Bool, Choice, Dim, Dims, Kind, Out, Real, layer, spatial
from .shapes import join_channels, need_rank, split_channels, window_out

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


def _upsampled(x, n, name, size, c):
    s = spatial(size, n, "size")
    return _resize(x, n, name, c, lambda i, L: L * s[i])


def _keras_padded(x, n, name, padding, c):
    pairs = side_pairs(padding, n, "padding")
    return _resize(x, n, name, c, lambda i, L: pairs[i][0] + L + pairs[i][1])


def _cropped(x, n, name, cropping, c):
    pairs = side_pairs(cropping, n, "cropping")
    return _resize(x, n, name, c, lambda i, L: L - pairs[i][0] - pairs[i][1])


@layer("UpSampling1D", "UpSampling1D")
def upsampling1d(x, size: Dims = 2, interpolation: KERAS_INTERPOLATION = "nearest", *, c):
    """1-D upsampling: each spatial axis repeated `size` times, L -> L*size."""
    return _upsampled(x, 1, "upsampling1d", size, c)


@layer("UpSampling2D", "UpSampling2D")
def upsampling2d(x, size: Dims = 2, interpolation: KERAS_INTERPOLATION = "nearest", *, c):
    """2-D upsampling: each spatial axis repeated `size` times, L -> L*size."""
    return _upsampled(x, 2, "upsampling2d", size, c)


@layer("UpSampling3D", "UpSampling3D")
def upsampling3d(x, size: Dims = 2, interpolation: KERAS_INTERPOLATION = "nearest", *, c):
    """3-D upsampling: each spatial axis repeated `size` times, L -> L*size."""
    return _upsampled(x, 3, "upsampling3d", size, c)


@layer("ZeroPadding1D", "ZeroPadding1D")
def zero_padding1d(x, padding: SidePairs = 1, *, c):
    """1-D zero padding: each spatial axis L -> before + L + after."""
    return _keras_padded(x, 1, "zero_padding1d", padding, c)


@layer("ZeroPadding2D", "ZeroPadding2D")
def zero_padding2d(x, padding: SidePairs = 1, *, c):
    """2-D zero padding: each spatial axis L -> before + L + after."""
    return _keras_padded(x, 2, "zero_padding2d", padding, c)


@layer("ZeroPadding3D", "ZeroPadding3D")
def zero_padding3d(x, padding: SidePairs = 1, *, c):
    """3-D zero padding: each spatial axis L -> before + L + after."""
    return _keras_padded(x, 3, "zero_padding3d", padding, c)


@layer("Cropping1D", "Cropping1D")
def cropping1d(x, cropping: SidePairs = 1, *, c):
    """1-D cropping: each spatial axis L -> L - before - after."""
    return _cropped(x, 1, "cropping1d", cropping, c)


@layer("Cropping2D", "Cropping2D")
def cropping2d(x, cropping: SidePairs = 0, *, c):
    """2-D cropping: each spatial axis L -> L - before - after."""
    return _cropped(x, 2, "cropping2d", cropping, c)


@layer("Cropping3D", "Cropping3D")
def cropping3d(x, cropping: SidePairs = 1, *, c):
    """3-D cropping: each spatial axis L -> L - before - after."""
    return _cropped(x, 3, "cropping3d", cropping, c)


# ---------------------------------------------------------------- PyTorch's padding layers

# Zero and constant padding take negative amounts (they crop); reflection and the others do not.

class _SignedAmounts(Kind):
    """PyTorch's zero and constant padding: whole numbers, a negative one crops that side."""
    describe = "a whole number (negative crops) or a tuple of them"

    def convert(self, value, where):
        items = value if isinstance(value, tuple) else (value,)
        for v in items:
            if isinstance(v, bool) or not (isinstance(v, sp.Integer) or Amounts.convert(v, where)):
                self.reject(v, where)
        return items


SignedAmounts = _SignedAmounts()


def _padded(x, n, name, c, pairs) -> Out:
    """Each spatial axis L -> before + L + after; what negative amounts leave must be a size."""
    out = _resize(x, n, name, c, lambda i, L: pairs[i][0] + L + pairs[i][1])
    sizes, _ = split_channels(tuple(out.shape), n, name, c)
    for L in map(sp.sympify, sizes):
        if L.is_number and L <= 0:
            raise ShapeError(f"{name}: the padding crops {format_shape(x)} to nothing ({L} on an axis)")
        if not L.is_number and not L.is_positive:
            out.conditions.append((sp.Gt(L, 0), f"{name} crops an axis to {L}, which must stay above 0"))
    return out


@layer("ZeroPad1d", "ZeroPad1d")
def zero_pad1d(x, padding: SignedAmounts, *, c):
    """PyTorch ZeroPad1d: pads the 1 spatial axes, amounts listed from the last axis back (left, right, ...); L ->
    before + L + after (a negative amount crops)."""
    return _padded(x, 1, "zero_pad1d", c, torch_pairs(padding, 1))


@layer("ZeroPad2d", "ZeroPad2d")
def zero_pad2d(x, padding: SignedAmounts, *, c):
    """PyTorch ZeroPad2d: pads the 2 spatial axes, amounts listed from the last axis back (left, right, ...); L ->
    before + L + after (a negative amount crops)."""
    return _padded(x, 2, "zero_pad2d", c, torch_pairs(padding, 2))


@layer("ZeroPad3d", "ZeroPad3d")
def zero_pad3d(x, padding: SignedAmounts, *, c):
    """PyTorch ZeroPad3d: pads the 3 spatial axes, amounts listed from the last axis back (left, right, ...); L ->
    before + L + after (a negative amount crops)."""
    return _padded(x, 3, "zero_pad3d", c, torch_pairs(padding, 3))


@layer("ConstantPad1d", "ConstantPad1d")
def constant_pad1d(x, padding: SignedAmounts, value: Real, *, c):
    """PyTorch ConstantPad1d: pads the 1 spatial axes, amounts listed from the last axis back (left, right, ...); L
    -> before + L + after (a negative amount crops)."""
    return _padded(x, 1, "constant_pad1d", c, torch_pairs(padding, 1))


@layer("ConstantPad2d", "ConstantPad2d")
def constant_pad2d(x, padding: SignedAmounts, value: Real, *, c):
    """PyTorch ConstantPad2d: pads the 2 spatial axes, amounts listed from the last axis back (left, right, ...); L
    -> before + L + after (a negative amount crops)."""
    return _padded(x, 2, "constant_pad2d", c, torch_pairs(padding, 2))


@layer("ConstantPad3d", "ConstantPad3d")
def constant_pad3d(x, padding: SignedAmounts, value: Real, *, c):
    """PyTorch ConstantPad3d: pads the 3 spatial axes, amounts listed from the last axis back (left, right, ...); L
    -> before + L + after (a negative amount crops)."""
    return _padded(x, 3, "constant_pad3d", c, torch_pairs(padding, 3))


@layer("ReflectionPad1d", "ReflectionPad1d")
def reflection_pad1d(x, padding: Amounts, *, c):
    """PyTorch ReflectionPad1d: pads the 1 spatial axes, amounts listed from the last axis back (left, right, ...);
    L -> before + L + after."""
    return _padded(x, 1, "reflection_pad1d", c, torch_pairs(padding, 1))


@layer("ReflectionPad2d", "ReflectionPad2d")
def reflection_pad2d(x, padding: Amounts, *, c):
    """PyTorch ReflectionPad2d: pads the 2 spatial axes, amounts listed from the last axis back (left, right, ...);
    L -> before + L + after."""
    return _padded(x, 2, "reflection_pad2d", c, torch_pairs(padding, 2))


@layer("ReflectionPad3d", "ReflectionPad3d")
def reflection_pad3d(x, padding: Amounts, *, c):
    """PyTorch ReflectionPad3d: pads the 3 spatial axes, amounts listed from the last axis back (left, right, ...);
    L -> before + L + after."""
    return _padded(x, 3, "reflection_pad3d", c, torch_pairs(padding, 3))


@layer("ReplicationPad1d", "ReplicationPad1d")
def replication_pad1d(x, padding: Amounts, *, c):
    """PyTorch ReplicationPad1d: pads the 1 spatial axes, amounts listed from the last axis back (left, right, ...);
    L -> before + L + after."""
    return _padded(x, 1, "replication_pad1d", c, torch_pairs(padding, 1))


@layer("ReplicationPad2d", "ReplicationPad2d")
def replication_pad2d(x, padding: Amounts, *, c):
    """PyTorch ReplicationPad2d: pads the 2 spatial axes, amounts listed from the last axis back (left, right, ...);
    L -> before + L + after."""
    return _padded(x, 2, "replication_pad2d", c, torch_pairs(padding, 2))


@layer("ReplicationPad3d", "ReplicationPad3d")
def replication_pad3d(x, padding: Amounts, *, c):
    """PyTorch ReplicationPad3d: pads the 3 spatial axes, amounts listed from the last axis back (left, right, ...);
    L -> before + L + after."""
    return _padded(x, 3, "replication_pad3d", c, torch_pairs(padding, 3))


@layer("CircularPad1d", "CircularPad1d")
def circular_pad1d(x, padding: Amounts, *, c):
    """PyTorch CircularPad1d: pads the 1 spatial axes, amounts listed from the last axis back (left, right, ...); L
    -> before + L + after."""
    return _padded(x, 1, "circular_pad1d", c, torch_pairs(padding, 1))


@layer("CircularPad2d", "CircularPad2d")
def circular_pad2d(x, padding: Amounts, *, c):
    """PyTorch CircularPad2d: pads the 2 spatial axes, amounts listed from the last axis back (left, right, ...); L
    -> before + L + after."""
    return _padded(x, 2, "circular_pad2d", c, torch_pairs(padding, 2))


@layer("CircularPad3d", "CircularPad3d")
def circular_pad3d(x, padding: Amounts, *, c):
    """PyTorch CircularPad3d: pads the 3 spatial axes, amounts listed from the last axis back (left, right, ...); L
    -> before + L + after."""
    return _padded(x, 3, "circular_pad3d", c, torch_pairs(padding, 3))


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


# ---------------------------------------------------------------- rearranging channels and positions (PyTorch)

def _exact_division(n, d, what, conditions) -> sp.Expr:
    """n / d, which must be whole: refused when it is not, a condition while it is symbolic."""
    q = sp.sympify(n) / d
    if q.is_number and not q.is_integer:
        raise ShapeError(f"{what}: {n} is not a multiple of {d}")
    if not q.is_number:
        conditions.append((sp.Eq(sp.Mod(n, d), 0), f"{what}: {d} must divide {n}"))
    return q


@layer("PixelShuffle", "PixelShuffle", "depth_to_space")
def pixel_shuffle(x, upscale_factor: Dim, *, c):
    """PyTorch PixelShuffle(r): (C*r^2, H, W) -> (C, H*r, W*r); no weights."""
    (H, W), C = split_channels(x, 2, "pixel_shuffle", c)
    conditions = []
    channels = _exact_division(C, upscale_factor ** 2, "pixel_shuffle's channels (upscale_factor^2)", conditions)
    return Out(shape=join_channels((H * upscale_factor, W * upscale_factor), channels, c), conditions=conditions)


@layer("PixelUnshuffle", "PixelUnshuffle", "space_to_depth")
def pixel_unshuffle(x, downscale_factor: Dim, *, c):
    """PyTorch PixelUnshuffle(r): (C, H*r, W*r) -> (C*r^2, H, W); no weights."""
    (H, W), C = split_channels(x, 2, "pixel_unshuffle", c)
    conditions = []
    sizes = tuple(_exact_division(L, downscale_factor, "pixel_unshuffle's height and width", conditions)
                  for L in (H, W))
    return Out(shape=join_channels(sizes, C * downscale_factor ** 2, c), conditions=conditions)


@layer("ChannelShuffle", "ChannelShuffle")
def channel_shuffle(x, groups: Dim, *, c):
    """PyTorch ChannelShuffle(g) (ShuffleNet): the channels regrouped, g must divide them; shape unchanged."""
    conditions = []
    _exact_division(x[c.channel_axis], groups, "channel_shuffle's channels (groups)", conditions)
    return Out(shape=x, conditions=conditions)


def _blocks(sizes, kernel_size, dilation, padding, stride, name):
    n = len(sizes)
    k, d = spatial(kernel_size, n, "kernel size"), spatial(dilation, n, "dilation")
    p, s = spatial(padding, n, "padding"), spatial(stride, n, "stride")
    return k, tuple(window_out(L, ki, si, pi, di) for L, ki, si, pi, di in zip(sizes, k, s, p, d))


@layer("Unfold", "Unfold")
def unfold(x, kernel_size: Dims, dilation_rate: Dims = 1, padding: Amounts = 0, strides: Dims = 1):
    """PyTorch Unfold (im2col): (C, H, W) -> (C * prod(k), L), L the number of kernel positions; no weights.
    Channels first in both conventions, as PyTorch lays it out."""
    need_rank(x, 3, "unfold", "(C, H, W)")
    k, out = _blocks(x[1:], kernel_size, dilation_rate, padding, strides, "unfold")
    return Out(shape=(x[0] * product(k), product(out)))


@layer("Fold", "Fold")
def fold(x, output_size: Dims, kernel_size: Dims, dilation_rate: Dims = 1, padding: Amounts = 0, strides: Dims = 1):
    """PyTorch Fold (col2im): (C * prod(k), L) -> (C, *output_size), L the number of kernel positions in
    output_size; no weights. Channels first in both conventions."""
    need_rank(x, 2, "fold", "(C * prod(kernel_size), L)")
    size = spatial(output_size, 2, "output size")
    k, out = _blocks(size, kernel_size, dilation_rate, padding, strides, "fold")
    conditions = []
    channels = _exact_division(x[0], product(k), "fold's input channels (prod(kernel_size))", conditions)
    verdict = agree(x[1], product(out))
    message = f"fold puts back {product(out)} blocks into {format_shape(size, batch=False)}, but its input has {x[1]}"
    if verdict is False:
        raise ShapeError(message)
    if verdict is not True:
        conditions.append((verdict, message))
    return Out(shape=(channels,) + tuple(size), conditions=conditions)
