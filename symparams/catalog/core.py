"""Formula sheet: dense, activations, reshaping, dropout, embedding, PReLU.

Shapes leave the batch out. Axis arguments are numbered as both frameworks number them:
the batch is axis 0, -1 is the last axis.

    dense       y = x W + b on the last axis n:   n*units + units        MACs prod(x[:-1])*n*units
    embedding   a table of V vectors of size E:   V*E                    (a lookup: no MACs)
                (embedding_bag reduces each bag to one vector; reversible_embedding untied: 2*V*E)
    spectral_normalization(layer)  the layer's weights and a non-trainable vector u (the kernel's last axis)
    prelu       one learned slope per element (Keras), per channel, or one (PyTorch)
    time_distributed(layer)   the layer's weights once, its MACs at each of the T steps
    the rest    no weights
"""
import re

import sympy as sp

from ..dims import agree, describe_condition, product
from ..errors import ArgumentError, ShapeError
from ..values import Word, format_shape
from . import activations
from .facts import Parallel, Saved
from .registry import (Activation, Anything, Bool, Choice, Dim, Dims, Int, Ints, Kind, LayerRef, Out, Probability,
                       Real, layer)
from .shapes import check_size, need_rank


# ---------------------------------------------------------------- shared rules

def axis_index(axis: int, x: tuple, what: str) -> int:
    """Index into a batch-less shape of an axis numbered with the batch as 0 (-1 the last)."""
    index = axis - 1 if axis > 0 else len(x) + axis
    if axis == 0 or not 0 <= index < len(x):
        raise ShapeError(f"{what}: axis {axis} is not an axis of an example of {format_shape(x)} "
                         f"(axis 0 is the batch; use 1..{len(x)} or -1..-{len(x)})")
    return index


def activated(shape: tuple, activation) -> tuple:
    """Every activation keeps the shape, except those halving the last axis (glu: a, b -> a * sigmoid(b))."""
    if not activations.halves(activation):
        return tuple(shape)
    half = sp.sympify(shape[-1]) / 2
    if half.is_number and not half.is_integer:
        raise ShapeError(f"{activation} halves the last axis, which must be even: found {format_shape(shape)}")
    return tuple(shape[:-1]) + (half,)


def kept(keeps, more: int, elements, what: str) -> tuple:
    """What an elementwise function keeps for its backward pass (catalog/activations.py's facts):
    under transformers' rule its input or output tensor ("input", "output" or None) and `more`
    tensors of its input's `elements`; under Korthikanti et al.'s, its input alone."""
    saved = (Saved(0, tensor="input", rule="korthikanti"),)
    if keeps is not None:
        saved += (Saved(0, tensor=keeps, rule="transformers"),)
    if more:
        saved += (Saved(more * elements, like="input", rule="transformers", what=f"{what}'s intermediates"),)
    return saved


def elementwise(shape, keeps: str | None = "input", more: int = 0, elements=None, what: str = "", **counts) -> Out:
    """An elementwise function's Out: `keeps` (its input or output, or None) and `more` tensors of
    `elements` (its input's) for its backward pass. Under tensor parallelism it works on its input
    as it arrives."""
    saved = kept(keeps, more, elements, what)
    return Out(shape=shape, saved=saved, parallel=Parallel("elementwise"), **counts)


def function(x, name: str, shape=None, **counts) -> Out:
    """The Out of the activation function `name` (a row of catalog/activations.py) applied to x alone."""
    keeps, more = activations.keeps(name)
    return elementwise(activated(x, name) if shape is None else shape, keeps, more, product(x), name, **counts)


# ---------------------------------------------------------------- dense

def fused(activation, elements) -> tuple:
    """What a layer's `activation=` keeps for the backward pass, its product's result (the
    activation's input) being `elements` numbers: Korthikanti et al. count that pre-activation;
    transformers' rule counts what autograd keeps of the function (catalog/activations.py): the
    pre-activation, the layer's output or neither, and its further tensors of the pre-activation's size."""
    f = activations.function(activation)
    if f.identity:
        return ()
    saved = (Saved(elements, like="output", rule="korthikanti", what="pre-activation"),)
    if f.keeps == "input":
        saved += (Saved(elements, like="output", rule="transformers", what="pre-activation"),)
    elif f.keeps == "output":
        saved += (Saved(0, tensor="output", rule="transformers", what=f"{f.name}'s output"),)
    if f.more:
        saved += (Saved(f.more * elements, like="output", rule="transformers", what=f"{f.name}'s intermediates"),)
    return saved


@layer("Dense", "Linear", "LazyLinear")
def dense(x, units: Dim, use_bias: Bool = True, activation: Activation = None, in_features: Dim = None):
    """y = x W + b on the last axis n: n*units weights + units biases (any rank)."""
    need_rank(x, tuple(range(1, 9)), "dense")
    n = x[-1]
    rows = product(x[:-1])
    saved = (Saved(0, tensor="input", what="input of the product"),) + fused(activation, rows * units)
    return Out(shape=activated(x[:-1] + (units,), activation),
               params=n * units + (units if use_bias else 0),
               macs=rows * n * units, conditions=check_size(in_features, n, "dense's in_features"),
               saved=saved, parallel=Parallel("linear", whole_params=units if use_bias else 0))


# ---------------------------------------------------------------- activations

@layer("Activation", "Activation")
def activation(x, activation: Activation):
    """An elementwise function: no weights, shape unchanged (glu halves the last axis)."""
    if activations.function(activation).identity:
        return Out(shape=tuple(x), saved=(), parallel=Parallel("elementwise"))
    return function(x, activation)


# Elementwise functions whose class arguments (ReLU's max_value, GELU's approximate, Softplus's beta) change
# the function, never a count or a shape: conventions.IGNORED_KEYWORDS accepts and ignores them.
@layer("ReLU", "ReLU")
def relu(x):
    """max(0, x): no weights, shape unchanged."""
    return function(x, "relu")


@layer("ReLU6", "ReLU6")
def relu6(x):
    """min(max(0, x), 6): no weights, shape unchanged."""
    return function(x, "relu6")


@layer("GELU", "GELU")
def gelu(x):
    """x * Phi(x), Phi the standard normal CDF: no weights, shape unchanged."""
    return function(x, "gelu")


@layer("SiLU", "SiLU", "swish")
def silu(x):
    """x * sigmoid(x) (swish): no weights, shape unchanged."""
    return function(x, "silu")


@layer("Sigmoid", "Sigmoid")
def sigmoid(x):
    """1 / (1 + exp(-x)): no weights, shape unchanged."""
    return function(x, "sigmoid")


@layer("Tanh", "Tanh")
def tanh(x):
    """tanh(x): no weights, shape unchanged."""
    return function(x, "tanh")


@layer("SELU", "SELU")
def selu(x):
    """scale * elu(x, alpha), scale and alpha fixed: no weights, shape unchanged."""
    return function(x, "selu")


@layer("Softplus", "Softplus")
def softplus(x):
    """log(1 + exp(x)): no weights, shape unchanged."""
    return function(x, "softplus")


@layer("Softsign", "Softsign")
def softsign(x):
    """x / (1 + |x|): no weights, shape unchanged."""
    return function(x, "softsign")


@layer("Mish", "Mish")
def mish(x):
    """x * tanh(softplus(x)): no weights, shape unchanged."""
    return function(x, "mish")


@layer("HardSwish", "Hardswish")
def hard_swish(x):
    """x * relu6(x + 3) / 6: no weights, shape unchanged."""
    return function(x, "hard_swish")


@layer("HardSigmoid", "Hardsigmoid")
def hard_sigmoid(x):
    """relu6(x + 3) / 6: no weights, shape unchanged."""
    return function(x, "hard_sigmoid")


@layer("LogSigmoid", "LogSigmoid")
def log_sigmoid(x):
    """log(sigmoid(x)): no weights, shape unchanged."""
    return elementwise(x, "input", 1, product(x), "log_sigmoid")     # and its forward's buffer


@layer("Tanhshrink", "Tanhshrink")
def tanhshrink(x):
    """x - tanh(x): no weights, shape unchanged."""
    return elementwise(x, None, 1, product(x), "tanhshrink")         # tanh(x), neither input nor output


@layer("Identity", "Identity")
def identity(x):
    """x itself: no weights, shape unchanged."""
    return Out(shape=x, saved=(), parallel=Parallel("elementwise"))


@layer("CELU", "CELU")
def celu(x, alpha: Real = 1.0):
    """max(0, x) + min(0, alpha * (exp(x / alpha) - 1)), alpha fixed: no weights, shape unchanged."""
    return elementwise(x)


@layer("Hardshrink", "Hardshrink")
def hardshrink(x, lambd: Real = 0.5):
    """x where |x| > lambd, else 0: no weights, shape unchanged."""
    return elementwise(x)


@layer("Softshrink", "Softshrink")
def softshrink(x, lambd: Real = 0.5):
    """x - lambd * sign(x) where |x| > lambd, else 0: no weights, shape unchanged."""
    return elementwise(x)


@layer("Hardtanh", "Hardtanh")
def hardtanh(x, min_val: Real = -1.0, max_val: Real = 1.0):
    """x clipped to [min_val, max_val]: no weights, shape unchanged."""
    return elementwise(x)


@layer("Threshold", "Threshold")
def threshold(x, threshold: Real, value: Real):
    """x where x > threshold, else value: no weights, shape unchanged."""
    return elementwise(x)


@layer("RReLU", "RReLU")
def rrelu(x, lower: Real = 0.125, upper: Real = 1 / 3):
    """Leaky ReLU with a slope drawn from [lower, upper] while training: no weights, shape unchanged."""
    return elementwise(x, "input", 1, product(x), "rrelu")           # and the slopes drawn


@layer("Softmax", "Softmax")
def softmax(x, axis: Int = -1):
    """exp(x) / sum(exp(x)) along `axis`: no weights, shape unchanged."""
    axis_index(axis, x, "softmax")
    return function(x, "softmax")


@layer("Softmin", "Softmin")
def softmin(x, axis: Int = -1):
    """softmax(-x) along `axis` (PyTorch's dim): no weights, shape unchanged."""
    axis_index(axis, x, "softmin")
    return elementwise(x, "output")


@layer("Softmax2d", "Softmax2d")
def softmax2d(x):
    """softmax over the channels of (C, H, W) at each position: no weights, shape unchanged."""
    need_rank(x, 3, "softmax2d", "(C, H, W)")
    return elementwise(x, "output")


@layer("LogSoftmax", "LogSoftmax")
def log_softmax(x, axis: Int = -1):
    """log(softmax(x)) along `axis`: no weights, shape unchanged."""
    axis_index(axis, x, "log_softmax")
    return function(x, "log_softmax")


@layer("LeakyReLU", "LeakyReLU")
def leaky_relu(x, negative_slope: Real = 0.01):
    """max(x, slope * x) with a fixed slope: no weights, shape unchanged."""
    return function(x, "leaky_relu")


@layer("ELU", "ELU")
def elu(x, alpha: Real = 1.0):
    """x if x > 0 else alpha * (exp(x) - 1), alpha fixed: no weights, shape unchanged."""
    return function(x, "elu")


@layer("GLU", "GLU")
def glu(x, axis: Int = -1):
    """a * sigmoid(b) for the two halves of `axis`: no weights, that axis halves."""
    i = axis_index(axis, x, "glu")
    return function(x, "glu", shape=x[:i] + activated((x[i],), "glu") + x[i + 1:])


@layer("PReLU", "PReLU")
def prelu(x, num_parameters: Dim = None, shared_axes: Ints = None, *, c):
    """max(0, x) + alpha * min(0, x): alphas per element (Keras), per channel, or one (PyTorch).

    Keras: one alpha per element of an example, but one per `shared_axes` group (batch is axis 0).
    PyTorch: num_parameters alphas, 1 (the default) or one per channel. See conventions.py.
    """
    if num_parameters is not None and shared_axes is not None:
        raise ArgumentError("prelu takes num_parameters (PyTorch) or shared_axes (Keras), not both")
    conditions = []
    if num_parameters is not None:
        if num_parameters != 1:
            conditions = check_size(num_parameters, x[c.channel_axis], "prelu's num_parameters (one alpha per channel)")
        alphas = num_parameters
    elif shared_axes is not None:
        shared = {axis_index(a, x, "prelu's shared_axes") for a in shared_axes}
        alphas = product(d for i, d in enumerate(x) if i not in shared)
    else:
        alphas = product(x) if c.prelu_alpha_per_element else 1
    return Out(shape=x, params=alphas, conditions=conditions)


# ---------------------------------------------------------------- reshaping

@layer("Flatten", "Flatten")
def flatten(x, start_dim: Int = 1, end_dim: Int = -1):
    """Axes start_dim..end_dim into one (all but the batch by default): the product of their sizes."""
    first, last = axis_index(start_dim, x, "flatten's start_dim"), axis_index(end_dim, x, "flatten's end_dim")
    if first > last:
        raise ShapeError(f"flatten's start_dim {start_dim} comes after its end_dim {end_dim} in {format_shape(x)}")
    return Out(shape=x[:first] + (product(x[first:last + 1]),) + x[last + 1:])


class _TargetShape(Kind):
    """Sizes, one of which may be -1: 'whatever makes the element counts agree'."""
    describe = "a tuple of sizes (one of them may be -1)"

    def convert(self, value, where):
        items = value if isinstance(value, tuple) else (value,)
        out = tuple(-1 if isinstance(v, sp.Integer) and v == -1 else Dim.convert(v, where) for v in items)
        if out.count(-1) > 1:
            raise ArgumentError(f"{where} may leave only one size as -1")
        return out


def _same_count(x, target, what) -> list:
    verdict = agree(product(x), product(target))
    message = f"{what} cannot turn {format_shape(x)} ({product(x)} values) into {format_shape(target)} " \
              f"({product(target)} values)"
    if verdict is False:
        raise ShapeError(message)
    return [] if verdict is True else [(verdict, f"{message} unless {describe_condition(verdict)}")]


@layer("Reshape", "Reshape", "view")
def reshape(x, target_shape: _TargetShape()):
    """Same elements, new shape: the products of the sizes must agree (-1 takes what is left)."""
    if -1 in target_shape:
        known = product(d for d in target_shape if d != -1)
        rest = sp.sympify(product(x)) / known
        if rest.is_number and not rest.is_integer:
            raise ShapeError(f"reshape cannot fill the -1 of {format_shape(target_shape)} from {format_shape(x)}: "
                             f"{product(x)} values do not divide into groups of {known}")
        target_shape = tuple(rest if d == -1 else d for d in target_shape)
    return Out(shape=tuple(target_shape), conditions=_same_count(x, target_shape, "reshape"))


@layer("Unflatten", "Unflatten")
def unflatten(x, axis: Int, unflattened_size: Dims):
    """PyTorch's nn.Unflatten(dim, sizes): axis `dim` (batch is 0) split into sizes of the same product."""
    i = axis_index(axis, x, "unflatten")
    return Out(shape=x[:i] + tuple(unflattened_size) + x[i + 1:],
               conditions=_same_count((x[i],), unflattened_size, "unflatten"))


@layer("Permute", "Permute")
def permute(x, dims: Ints):
    """Reorder the axes, no weights: Keras Permute((2, 1)) or PyTorch's x.permute(0, 2, 1).

    Keras numbers the axes from 1 without the batch, PyTorch from 0 with the batch first;
    both spellings are accepted."""
    n = len(x)
    if len(dims) == n + 1 and dims[0] == 0:
        dims = dims[1:]
    if sorted(dims) != list(range(1, n + 1)):
        raise ShapeError(f"permute needs each axis 1..{n} once for {format_shape(x)} "
                         f"(or 0..{n} with the batch 0 first), found {dims}")
    return Out(shape=tuple(x[d - 1] for d in dims))


@layer("RepeatVector", "RepeatVector")
def repeat_vector(x, n: Dim):
    """(F,) becomes (n, F): the vector repeated n times, no weights."""
    need_rank(x, 1, "repeat_vector", "(one vector per example)")
    return Out(shape=(n,) + tuple(x))


@layer("GaussianNoise", "GaussianNoise")
def gaussian_noise(x, stddev: Real):
    """Adds zero-mean noise of stddev while training: no weights, shape unchanged."""
    return Out(shape=x, saved=(), parallel=Parallel("elementwise"))


@layer("ActivityRegularization", "ActivityRegularization")
def activity_regularization(x, l1: Real = 0.0, l2: Real = 0.0):
    """Adds l1*sum|x| + l2*sum(x^2) to the training loss: no weights, shape unchanged."""
    return Out(shape=x)


@layer("UnitNormalization", "UnitNormalization")
def unit_normalization(x, axis: Ints = (-1,)):
    """x / ||x|| along `axis` (one or several, batch is 0): no weights, shape unchanged."""
    for a in axis:
        axis_index(a, x, "unit_normalization")
    return Out(shape=x)


@layer("Masking", "Masking")
def masking(x, mask_value: Real = 0.0):
    """Marks the steps equal to mask_value for later layers to skip: no weights, shape unchanged."""
    return Out(shape=x)


@layer("TimeDistributed", "TimeDistributed")
def time_distributed(x, layer: LayerRef, *, c):
    """The same layer on each of the T steps of (T, ...): its weights once, its MACs T times."""
    need_rank(x, tuple(range(2, 9)), "time_distributed", "(steps first)")
    if layer.spec.variadic or layer.spec.n_inputs != 1:
        raise ArgumentError(f"time_distributed wraps a layer of one input, found a {layer.spec.name} layer")
    step = layer.spec.apply([x[1:]], layer.config, c)
    return Out(shape=(x[0],) + tuple(step.shape), params=step.params, non_trainable=step.non_trainable,
               buffers=step.buffers, macs=x[0] * step.macs, conditions=step.conditions)


# ---------------------------------------------------------------- dropout

def dropped(x, rate) -> Out:
    """A dropout's Out: while training it keeps a mask of its input's size for the backward pass
    (Korthikanti et al.: a 1-byte mask; torch on the CPU: a mask of the data's dtype). At rate 0
    torch returns the input itself and keeps nothing."""
    saved = (Saved(product(x), "mask", like="input", rule="korthikanti", what="dropout mask"),)
    if rate:
        saved += (Saved(product(x), "mask", like="input", rule="transformers", what="dropout mask"),)
    return Out(shape=x, saved=saved, parallel=Parallel("elementwise"))


@layer("Dropout", "Dropout")
def dropout(x, rate: Probability = 0.5):
    """Zeroes a fraction `rate` while training: no weights, shape unchanged."""
    return dropped(x, rate)


@layer("SpatialDropout1D", "Dropout1d")
def spatial_dropout1d(x, rate: Probability = 0.5):
    """spatial_dropout1d: drops whole channels while training: no weights."""
    need_rank(x, 2, "spatial_dropout1d", "(steps and channels)")
    return dropped(x, rate)


@layer("SpatialDropout2D", "Dropout2d")
def spatial_dropout2d(x, rate: Probability = 0.5):
    """spatial_dropout2d: drops whole channels while training: no weights."""
    need_rank(x, 3, "spatial_dropout2d", "(an image with channels)")
    return dropped(x, rate)


@layer("SpatialDropout3D", "Dropout3d")
def spatial_dropout3d(x, rate: Probability = 0.5):
    """spatial_dropout3d: drops whole channels while training: no weights."""
    need_rank(x, 4, "spatial_dropout3d", "(a volume with channels)")
    return dropped(x, rate)


@layer("AlphaDropout", "AlphaDropout")
def alpha_dropout(x, rate: Probability = 0.5):
    """alpha_dropout: drops units while training: no weights."""
    return dropped(x, rate)


@layer("GaussianDropout", "GaussianDropout")
def gaussian_dropout(x, rate: Probability = 0.5):
    """gaussian_dropout: drops units while training: no weights."""
    return dropped(x, rate)


@layer("FeatureAlphaDropout", "FeatureAlphaDropout")
def feature_alpha_dropout(x, rate: Probability = 0.5):
    """Alpha dropout of whole channels while training: no weights, shape unchanged."""
    return dropped(x, rate)


# ---------------------------------------------------------------- embedding

@layer("Embedding", "Embedding")
def embedding(x, input_dim: Dim, output_dim: Dim, mask_zero: Bool = False, padding_idx: Int = None):
    """A table of input_dim vectors of size output_dim: input_dim*output_dim weights.

    Each index becomes a vector; mask_zero (Keras) and padding_idx (PyTorch) change no count. Its
    backward pass reads the ids (int64 in torch); tensor parallelism splits the vocabulary."""
    ids = Saved(product(x), "int64", tensor="input", rule="transformers", what="token ids")
    return Out(shape=tuple(x) + (output_dim,), params=input_dim * output_dim, saved=(ids,),
               parallel=Parallel("embedding"))


EmbeddingBagMode = Choice("mean", "sum", "max")


@layer("EmbeddingBag", "EmbeddingBag")
def embedding_bag(x, input_dim: Dim, output_dim: Dim, mode: EmbeddingBagMode = "mean", padding_idx: Int = None):
    """PyTorch EmbeddingBag: a table of input_dim vectors of size output_dim (input_dim*output_dim weights);
    each bag of N indices, (N,), becomes one vector, their mean, sum or max."""
    need_rank(x, 1, "embedding_bag", "(a bag of indices per example)")
    return Out(shape=(output_dim,), params=input_dim * output_dim)


@layer("ReversibleEmbedding", "ReversibleEmbedding")
def reversible_embedding(x, input_dim: Dim, output_dim: Dim, tie_weights: Bool = True, mask_zero: Bool = False,
                         reverse_dtype: Anything = None, logit_soft_cap: Real = None):
    """Keras ReversibleEmbedding: an embedding whose table, transposed, also maps vectors back to input_dim
    logits (call(..., reverse=True)); tie_weights=false learns that reverse table apart: twice the weights."""
    return Out(shape=tuple(x) + (output_dim,), params=input_dim * output_dim * (1 if tie_weights else 2))


# The layers whose kernel SpectralNormalization can normalise, and the kernel's last axis (Keras's layout).
_KERNEL_OUT = {"dense": lambda cfg, x, c: cfg["units"], "embedding": lambda cfg, x, c: cfg["output_dim"],
               **{f"conv{n}d": (lambda cfg, x, c: cfg["filters"]) for n in (1, 2, 3)},
               **{f"conv{n}d_transpose": (lambda cfg, x, c: x[c.channel_axis]) for n in (1, 2, 3)}}


@layer("SpectralNormalization", "SpectralNormalization")
def spectral_normalization(x, layer: LayerRef, power_iterations: Dim = 1, *, c):
    """Keras SpectralNormalization(layer): the layer's weights, and a power-iteration vector u as long as the
    kernel's last axis (units, filters; input channels of a transposed convolution), not trained."""
    if layer.spec.name not in _KERNEL_OUT:
        raise ArgumentError(f"spectral_normalization wraps a layer with a kernel ({', '.join(sorted(_KERNEL_OUT))}), "
                            f"found a {layer.spec.name} layer")
    inner = layer.spec.apply([x], layer.config, c)
    u = _KERNEL_OUT[layer.spec.name](layer.config, x, c)
    return Out(shape=tuple(inner.shape), params=inner.params + u, non_trainable=inner.non_trainable + u,
               buffers=inner.buffers, macs=inner.macs, conditions=inner.conditions)


# ---------------------------------------------------------------- einsum dense (Keras)

_EINSUM_FORMS = ((r"([a-zA-Z]+),([a-zA-Z]+)->([a-zA-Z]+)", None), (r"0([a-zA-Z]+),([a-zA-Z]+)->0([a-zA-Z]+)", "left"),
                 (r"([a-zA-Z]{2,})0,([a-zA-Z]+)->([a-zA-Z]+)0", "right"))


class _Equation(Kind):
    """EinsumDense's equation, in one of Keras's forms: 'ab,bc->ac', '...b,bc->...c' or 'ab...,bc->ac...'."""
    describe = "an einsum equation such as \"ab,bc->ac\" or \"...b,bc->...c\""

    def convert(self, value, where):
        text = value.name.replace(" ", "") if isinstance(value, Word) else None
        for form, elided in _EINSUM_FORMS:
            match = text is not None and re.fullmatch(form, text.replace("...", "0"))
            if match:
                return match.groups() + (elided,)
        self.reject(value, where)


class _OutputShape(Kind):
    """EinsumDense's output_shape without the batch: sizes, none where the input gives it."""
    describe = "a size, or a tuple of sizes and none"

    def convert(self, value, where):
        items = value if isinstance(value, tuple) else (value,)
        return tuple(None if isinstance(v, Word) and v.name == "none" else Dim.convert(v, where) for v in items)


@layer("EinsumDense", "EinsumDense")
def einsum_dense(x, equation: _Equation(), output_shape: _OutputShape(), activation: Activation = None,
                 bias_axes: Anything = None):
    """Keras EinsumDense: y = einsum(equation, x, W) + b. The kernel W has a size per letter of its spec
    (from the input, or from output_shape); the bias one per letter of bias_axes, from the first of them
    on in the output. MACs: the output's size times the sizes summed over."""
    input_spec, weight_spec, output_spec, elided_side = equation
    full = (None,) + tuple(x)                      # Keras's equation names the batch axis too
    elided = len(full) - len(input_spec)
    out = [full[0]] + list(output_shape)
    if elided > 0 and elided_side == "left":
        out[1:1] = full[1:elided]
    elif elided > 0:
        out += list(full[len(full) - elided:])
    if elided < 0 or (elided > 0 and elided_side is None):
        raise ShapeError(f"einsum_dense: the input spec '{input_spec}' names {len(input_spec)} axes, but the input "
                         f"{format_shape(x)} has {len(full)} with the batch")
    shift = elided if elided_side == "left" else 0
    in_axis = {d: i + shift for i, d in enumerate(input_spec)}
    out_axis = {d: i + shift for i, d in enumerate(output_spec)}
    if len(out) != len(output_spec) + (elided if elided_side else 0):
        raise ArgumentError(f"einsum_dense's output_shape {format_shape(output_shape, batch=False)} does not match "
                            f"the output spec '{output_spec}' (the batch left out)")
    for d, i in out_axis.items():
        if out[i] is None and d in in_axis:
            out[i] = full[in_axis[d]]
    for d in output_spec:
        if d not in input_spec and d not in weight_spec:
            raise ArgumentError(f"einsum_dense: output axis '{d}' is in neither the input nor the kernel spec")
    kernel = []
    for d in weight_spec:
        size = out[out_axis[d]] if d in out_axis else full[in_axis[d]] if d in in_axis else None
        if size is None:
            raise ArgumentError(f"einsum_dense: kernel axis '{d}' has no size from the input or output_shape")
        kernel.append(size)
    bias = 0
    if bias_axes is not None:
        letters = bias_axes.name
        for d in letters:
            if d not in output_spec:
                raise ArgumentError(f"einsum_dense: bias axis '{d}' is not in the output spec '{output_spec}'")
        bias = product(out[out_axis[d]] for d in letters)
    summed = product(full[in_axis[d]] for d in set(weight_spec) & set(input_spec) - set(output_spec))
    shape = tuple(out[1:])
    return Out(shape=activated(shape, activation), params=product(kernel) + bias, macs=product(shape) * summed)
