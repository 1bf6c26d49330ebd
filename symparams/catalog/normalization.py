"""Formula sheet: normalisation layers.

Over n normalised features a layer may learn a scale gamma (n) and a shift beta (n):

    batchnorm     per channel (C): gamma, beta, and a running mean and variance that training
                  does not touch. Keras: 4C weights, 2C of them non-trainable. PyTorch: 2C
                  parameters and 2C + 1 buffers (with num_batches_tracked). See conventions.py.
    instancenorm  PyTorch's InstanceNorm: as batchnorm, but affine and track_running_stats
                  default to false (no weights at all)
    layernorm     over the last axis (Keras `axis`, PyTorch normalized_shape: trailing axes):
                  gamma, beta of the normalised size
    groupnorm     the C channels in G groups (G must divide C): gamma, beta per channel
    rmsnorm       x / rms(x) * gamma: gamma only (so is Keras LayerNormalization(rms_scaling=True))
    normalization Keras Normalization: adapted mean and variance of the kept axes and a count,
                  all non-trainable (none when mean and variance are given)
    local_response_norm, cross_map_lrn2d: no weights

Keras spells the learned parts center / scale, PyTorch affine / bias (BatchNorm, InstanceNorm,
GroupNorm) or elementwise_affine / bias (LayerNorm, RMSNorm); both spellings are accepted.
"""
import sympy as sp

from ..dims import product
from ..errors import ArgumentError, ShapeError
from ..values import format_shape
from .core import axis_index
from .facts import Saved
from .registry import Bool, Dim, Dims, Int, Ints, Kind, Out, Real, _is_dim, _PerAxis, is_none, layer
from .shapes import check_size, divides, need_rank


def _keeps_input(x, statistics=0) -> tuple:
    """What a norm keeps for its backward pass: its input, and (as torch's kernels do) its mean and
    reciprocal standard deviation, `statistics` numbers each, at the data's dtype as the CPU kernel
    keeps them (CUDA's in fp32) (Korthikanti et al.: the input alone)."""
    saved = (Saved(0, tensor="input", what="input"),)
    if statistics:
        saved += (Saved(2 * statistics, rule="transformers", what="mean and 1/std"),)
    return saved


def _gamma_beta(n, gamma: bool, beta: bool):
    return n * (int(gamma) + int(beta))


def _channel(x, axis, c, what) -> int:
    """The channel axis: Keras `axis` if given, else the convention's (last, or first after the batch)."""
    return c.channel_axis % len(x) if axis is None else axis_index(axis, x, what)


# ---------------------------------------------------------------- batch and instance normalisation

def _per_channel(x, name, features, axis, center, scale, affine, use_bias, track_running_stats, c):
    """gamma and beta per channel, and (if tracked) a running mean and variance per channel."""
    n = x[_channel(x, axis, c, name)]
    conditions = check_size(features, n, f"{name}'s num_features")
    learned = _gamma_beta(n, scale and affine, center and affine and use_bias)
    stats = 2 * n if track_running_stats else 0
    saved = _keeps_input(x)
    if c.norm_stats_as_buffers:
        return Out(shape=x, params=learned, buffers=stats + 1 if track_running_stats else 0, conditions=conditions,
                   saved=saved)
    return Out(shape=x, params=learned + stats, non_trainable=stats, conditions=conditions, saved=saved)


# SyncBatchNorm is BatchNorm whose statistics are reduced across processes: the same weights.
@layer("BatchNormalization", "BatchNorm", "batch_norm", "batchnormalization", "SyncBatchNorm")
def batchnorm(x, features: Dim = None, axis: Int = None, center: Bool = True, scale: Bool = True,
              affine: Bool = True, use_bias: Bool = True, track_running_stats: Bool = True, *, c):
    """Batch normalisation over any input: per channel C, gamma and beta (trained), running mean and variance
    (Keras: 4C weights, 2C not trained; PyTorch: 2C, and 2C + 1 buffers)."""
    return _per_channel(x, "batchnorm", features, axis, center, scale, affine, use_bias, track_running_stats, c)


# torch's Lazy* classes infer num_features from their first input, as every entry does.
@layer("BatchNorm1d", "BatchNorm1d", "LazyBatchNorm1d")
def batchnorm1d(x, features: Dim = None, axis: Int = None, center: Bool = True, scale: Bool = True,
                affine: Bool = True, use_bias: Bool = True, track_running_stats: Bool = True, *, c):
    """Batch normalisation over (C,) or steps with channels: per channel C, gamma and beta (trained), running mean
    and variance (Keras: 4C weights, 2C not trained; PyTorch: 2C, and 2C + 1 buffers)."""
    need_rank(x, (1, 2), "batchnorm1d", "(C,) or steps with channels")
    return _per_channel(x, "batchnorm1d", features, axis, center, scale, affine, use_bias, track_running_stats, c)


@layer("BatchNorm2d", "BatchNorm2d", "LazyBatchNorm2d")
def batchnorm2d(x, features: Dim = None, axis: Int = None, center: Bool = True, scale: Bool = True,
                affine: Bool = True, use_bias: Bool = True, track_running_stats: Bool = True, *, c):
    """Batch normalisation over images with channels: per channel C, gamma and beta (trained), running mean and
    variance (Keras: 4C weights, 2C not trained; PyTorch: 2C, and 2C + 1 buffers)."""
    need_rank(x, 3, "batchnorm2d", "images with channels")
    return _per_channel(x, "batchnorm2d", features, axis, center, scale, affine, use_bias, track_running_stats, c)


@layer("BatchNorm3d", "BatchNorm3d", "LazyBatchNorm3d")
def batchnorm3d(x, features: Dim = None, axis: Int = None, center: Bool = True, scale: Bool = True,
                affine: Bool = True, use_bias: Bool = True, track_running_stats: Bool = True, *, c):
    """Batch normalisation over volumes with channels: per channel C, gamma and beta (trained), running mean and
    variance (Keras: 4C weights, 2C not trained; PyTorch: 2C, and 2C + 1 buffers)."""
    need_rank(x, 4, "batchnorm3d", "volumes with channels")
    return _per_channel(x, "batchnorm3d", features, axis, center, scale, affine, use_bias, track_running_stats, c)


@layer("InstanceNorm1d", "InstanceNorm1d")
def instancenorm1d(x, features: Dim = None, axis: Int = None, center: Bool = True, scale: Bool = True,
                   affine: Bool = False, use_bias: Bool = True, track_running_stats: Bool = False, *, c):
    """Instance normalisation over (C,) or steps with channels: no weights by default; affine=true adds gamma and
    beta per channel, track_running_stats=true a running mean and variance as BatchNorm has."""
    need_rank(x, 2, "instancenorm1d", "(C,) or steps with channels")
    return _per_channel(x, "instancenorm1d", features, axis, center, scale, affine, use_bias, track_running_stats, c)


@layer("InstanceNorm2d", "InstanceNorm2d")
def instancenorm2d(x, features: Dim = None, axis: Int = None, center: Bool = True, scale: Bool = True,
                   affine: Bool = False, use_bias: Bool = True, track_running_stats: Bool = False, *, c):
    """Instance normalisation over images with channels: no weights by default; affine=true adds gamma and beta per
    channel, track_running_stats=true a running mean and variance as BatchNorm has."""
    need_rank(x, 3, "instancenorm2d", "images with channels")
    return _per_channel(x, "instancenorm2d", features, axis, center, scale, affine, use_bias, track_running_stats, c)


@layer("InstanceNorm3d", "InstanceNorm3d")
def instancenorm3d(x, features: Dim = None, axis: Int = None, center: Bool = True, scale: Bool = True,
                   affine: Bool = False, use_bias: Bool = True, track_running_stats: Bool = False, *, c):
    """Instance normalisation over volumes with channels: no weights by default; affine=true adds gamma and beta per
    channel, track_running_stats=true a running mean and variance as BatchNorm has."""
    need_rank(x, 4, "instancenorm3d", "volumes with channels")
    return _per_channel(x, "instancenorm3d", features, axis, center, scale, affine, use_bias, track_running_stats, c)


# Not aliases of instancenorm*d: torch's LazyInstanceNorm*d default to affine=True, track_running_stats=True.
@layer("LazyInstanceNorm1d", "LazyInstanceNorm1d")
def lazy_instancenorm1d(x, features: Dim = None, axis: Int = None, center: Bool = True, scale: Bool = True,
                        affine: Bool = True, use_bias: Bool = True, track_running_stats: Bool = True, *, c):
    """Instance normalisation (torch's Lazy class, whose affine and track_running_stats default to true) over (C,)
    or steps with channels: per channel C, gamma and beta (trained), running mean and variance (Keras: 4C
    weights, 2C not trained; PyTorch: 2C, and 2C + 1 buffers)."""
    need_rank(x, 2, "lazy_instancenorm1d", "(C,) or steps with channels")
    return _per_channel(x, "lazy_instancenorm1d", features, axis, center, scale, affine, use_bias,
                        track_running_stats, c)


@layer("LazyInstanceNorm2d", "LazyInstanceNorm2d")
def lazy_instancenorm2d(x, features: Dim = None, axis: Int = None, center: Bool = True, scale: Bool = True,
                        affine: Bool = True, use_bias: Bool = True, track_running_stats: Bool = True, *, c):
    """Instance normalisation (torch's Lazy class, whose affine and track_running_stats default to true) over images
    with channels: per channel C, gamma and beta (trained), running mean and variance (Keras: 4C weights, 2C not
    trained; PyTorch: 2C, and 2C + 1 buffers)."""
    need_rank(x, 3, "lazy_instancenorm2d", "images with channels")
    return _per_channel(x, "lazy_instancenorm2d", features, axis, center, scale, affine, use_bias,
                        track_running_stats, c)


@layer("LazyInstanceNorm3d", "LazyInstanceNorm3d")
def lazy_instancenorm3d(x, features: Dim = None, axis: Int = None, center: Bool = True, scale: Bool = True,
                        affine: Bool = True, use_bias: Bool = True, track_running_stats: Bool = True, *, c):
    """Instance normalisation (torch's Lazy class, whose affine and track_running_stats default to true) over
    volumes with channels: per channel C, gamma and beta (trained), running mean and variance (Keras: 4C weights,
    2C not trained; PyTorch: 2C, and 2C + 1 buffers)."""
    need_rank(x, 4, "lazy_instancenorm3d", "volumes with channels")
    return _per_channel(x, "lazy_instancenorm3d", features, axis, center, scale, affine, use_bias,
                        track_running_stats, c)


# ---------------------------------------------------------------- layer and RMS normalisation

def _normalised_size(x, features, axis, what) -> tuple:
    """Product of the normalised sizes: PyTorch's normalized_shape (the trailing axes, restated),
    Keras' `axis` (one or several, batch is 0), or by default the last axis; and the conditions
    under which a restated shape matches."""
    if features is not None and axis is not None:
        raise ArgumentError(f"{what} takes normalized_shape (PyTorch) or axis (Keras), not both")
    if features is not None:
        if len(features) > len(x):
            raise ShapeError(f"{what}'s normalized_shape {format_shape(features, batch=False)} has more axes "
                             f"than its input {format_shape(x)}")
        conditions = [c for given, actual in zip(features, x[len(x) - len(features):])
                      for c in check_size(given, actual,
                                          f"{what}'s normalized_shape {format_shape(features, batch=False)}")]
        return product(features), conditions
    axes = {axis_index(a, x, what) for a in (axis or (-1,))}
    return product(x[i] for i in sorted(axes)), []


@layer("LayerNormalization", "LayerNorm", "layer_norm", "ln")
def layernorm(x, features: Dims = None, axis: Ints = None, center: Bool = True, scale: Bool = True,
              elementwise_affine: Bool = True, use_bias: Bool = True, rms_scaling: Bool = False):
    """Per example over n normalised features (the last axis by default): gamma (n), beta (n).

    Keras's rms_scaling=true divides by the root mean square instead: gamma only, whatever center and scale say."""
    n, conditions = _normalised_size(x, features, axis, "layernorm")
    saved = _keeps_input(x, product(x) / n)
    if rms_scaling:
        return Out(shape=x, params=n, conditions=conditions, saved=saved)
    return Out(shape=x, params=_gamma_beta(n, scale and elementwise_affine,
                                           center and use_bias and elementwise_affine), conditions=conditions,
               saved=saved)


@layer("RMSNormalization", "RMSNorm", "rms_norm")
def rmsnorm(x, features: Dims = None, axis: Ints = None, elementwise_affine: Bool = True):
    """x / sqrt(mean(x^2)) * gamma over n normalised features: gamma (n) only.

    For its backward pass transformers' RMSNorm (computed in fp32, as Llama's) keeps its input in
    fp32, 1/rms per position (fp32) and the normalised input at the activations' dtype."""
    n, conditions = _normalised_size(x, features, axis, "rmsnorm")
    saved = (Saved(0, tensor="input", rule="korthikanti", what="input"),
             Saved(0, "float32", tensor="input", rule="transformers", what="input in fp32"),
             Saved(product(x) / n, "float32", rule="transformers", what="1/rms"),
             Saved(product(x), rule="transformers", what="normalised input"))
    return Out(shape=x, params=n if elementwise_affine else 0, conditions=conditions, saved=saved)


# ---------------------------------------------------------------- group normalisation

class _Groups(Kind):
    """GroupNormalization's groups: a size, or -1 (Keras): one group per channel, an instance norm."""
    describe = "a positive whole-number size, or -1 (a group per channel)"

    def convert(self, value, where):
        if isinstance(value, sp.Integer) and value == -1:
            return value
        if isinstance(value, bool) or not _is_dim(value):
            self.reject(value, where)
        return value


@layer("GroupNormalization", "GroupNorm", "group_norm")
def groupnorm(x, groups: _Groups() = 32, features: Dim = None, axis: Int = None, center: Bool = True,
              scale: Bool = True, affine: Bool = True, use_bias: Bool = True, *, c):
    """C channels in `groups` groups (which must divide C; Keras's -1: C groups): gamma (C) and beta (C)."""
    n = x[_channel(x, axis, c, "groupnorm")]
    groups = n if groups == -1 else groups
    conditions = check_size(features, n, "groupnorm's num_channels")
    left_over = sp.Mod(n, groups)
    if left_over.is_number and left_over != 0:
        raise ShapeError(f"groupnorm cannot split {n} channels into {groups} groups: {n} is not a multiple of "
                         f"{groups} (input {format_shape(x)})")
    conditions += divides(groups, n, f"groupnorm splits {n} channels into {groups} groups, so {groups} must divide {n}")
    return Out(shape=x, params=_gamma_beta(n, scale and affine, center and affine and use_bias),
               conditions=conditions, saved=_keeps_input(x, groups))


# ---------------------------------------------------------------- fixed normalisations

@layer("LocalResponseNorm", "LocalResponseNorm", "lrn")
def local_response_norm(x, size: Dim, alpha: Real = 1e-4, beta: Real = 0.75, k: Real = 1.0):
    """AlexNet's local response normalisation over `size` neighbouring channels: no weights, shape unchanged."""
    need_rank(x, tuple(range(2, 9)), "local_response_norm", "(channels and at least one more axis)")
    return Out(shape=x)


@layer("CrossMapLRN2d", "CrossMapLRN2d")
def cross_map_lrn2d(x, size: Dim, alpha: Real = 1e-4, beta: Real = 0.75, k: Real = 1.0):
    """PyTorch's legacy CrossMapLRN2d on (C, H, W): local response normalisation, no weights."""
    need_rank(x, 3, "cross_map_lrn2d", "(C, H, W)")
    return Out(shape=x)


class _Statistic(Kind):
    """Normalization's mean or variance: a number or a tuple of them (their values count nothing)."""
    describe = "a number or a tuple of numbers"

    def convert(self, value, where):
        items = value if isinstance(value, tuple) else (value,)
        for v in items:
            if isinstance(v, bool) or not isinstance(v, (float, sp.Number)):
                self.reject(v, where)
        return value


class _KeptAxes(_PerAxis):
    """Normalization's axis: the axes with a mean and variance per index; none (Keras's None) is no
    axis: one scalar mean and variance for every element."""

    def convert(self, value, where):
        return () if is_none(value) else super().convert(value, where)


KeptAxes = _KeptAxes(Int, "a whole number, a tuple of them, or none")


@layer("Normalization", "Normalization")
def normalization(x, axis: KeptAxes = (-1,), mean: _Statistic() = None, variance: _Statistic() = None,
                  invert: Bool = False):
    """Keras Normalization, (x - mean) / sqrt(variance) per index of `axis` (the last by default): n kept
    values give 2n + 1 non-trainable weights (mean, variance, count), none when mean and variance are given.

    adapt() learns the mean and variance; given, they are constants. `axis` counts the batch as 0."""
    if (mean is None) != (variance is None):
        raise ArgumentError("normalization takes both mean and variance, or neither (adapt() learns them)")
    if mean is not None:
        return Out(shape=x)
    kept = product(x[i] for i in sorted({axis_index(a, x, "normalization") for a in axis}))
    stats = 2 * kept + 1
    return Out(shape=x, params=stats, non_trainable=stats)
