"""Formula sheet: dense, activations, reshaping, dropout, embedding.

Shapes leave the batch out. `n` is the size of the axis a layer acts on.
"""
import sympy as sp

from ..errors import ShapeError
from ..values import format_shape
from .registry import ACTIVATIONS, Activation, Bool, Dim, Dims, Ints, Out, Real, layer
from .shapes import need_rank
from ..dims import product


@layer("Dense", "Linear")
def dense(x, units: Dim, use_bias: Bool = True, activation: Activation = None):
    """y = x W + b on the last axis: n*units weights + units biases."""
    need_rank(x, tuple(range(1, 9)), "dense")
    n = x[-1]
    return Out(shape=x[:-1] + (units,),
               params=n * units + (units if use_bias else 0),
               macs=product(x[:-1]) * n * units)


@layer("Activation", "Activation")
def activation(x, activation: Activation):
    """An elementwise function: no weights, shape unchanged."""
    return Out(shape=x)


def _activation_layer(name, keras_name, torch_name):
    def fn(x):
        return Out(shape=x)
    fn.__doc__ = f"{name}: elementwise, no weights, shape unchanged."
    layer(keras_name, torch_name, name=name)(fn)


_CLASS_NAMES = {"relu": ("ReLU", "ReLU"), "gelu": ("GELU", "GELU"), "softmax": ("Softmax", "Softmax"),
                "sigmoid": ("Sigmoid", "Sigmoid"), "tanh": ("Tanh", "Tanh"), "elu": ("ELU", "ELU"),
                "selu": ("SELU", "SELU"), "silu": ("SiLU", "SiLU"), "leaky_relu": ("LeakyReLU", "LeakyReLU"),
                "relu6": ("ReLU6", "ReLU6"), "softplus": ("Softplus", "Softplus"), "mish": ("Mish", "Mish"),
                "log_softmax": ("LogSoftmax", "LogSoftmax"), "hard_swish": ("HardSwish", "Hardswish"),
                "hard_sigmoid": ("HardSigmoid", "Hardsigmoid"), "softsign": ("Softsign", "Softsign")}
for _name in ACTIVATIONS:
    if _name in _CLASS_NAMES:
        _activation_layer(_name, *_CLASS_NAMES[_name])


@layer("Flatten", "Flatten")
def flatten(x):
    """All axes but the batch into one: the product of the sizes."""
    return Out(shape=(product(x),))


@layer("Reshape", "Unflatten")
def reshape(x, target_shape: Dims):
    """Same elements, new shape; the sizes' products must agree."""
    from ..dims import agree, describe_condition, recorded_conditions
    verdict = agree(product(x), product(target_shape))
    if verdict is False:
        raise ShapeError(f"reshape cannot turn {format_shape(x)} ({product(x)} values) into "
                         f"{format_shape(target_shape)} ({product(target_shape)} values)")
    if verdict is not True:
        recorded_conditions.get().append(
            (verdict, f"reshape of {format_shape(x)} to {format_shape(target_shape)} needs "
                      f"{describe_condition(verdict)}"))
    return Out(shape=tuple(target_shape))


@layer("Permute", "Permute")
def permute(x, dims: Ints):
    """Reorder the axes; Keras numbers them from 1, leaving the batch out."""
    if sorted(dims) != list(range(1, len(x) + 1)):
        raise ShapeError(f"permute needs each axis 1..{len(x)} once for {format_shape(x)}, found {dims}")
    return Out(shape=tuple(x[d - 1] for d in dims))


@layer("Dropout", "Dropout")
def dropout(x, rate: Real = 0.5):
    """Zeroes a fraction `rate` while training: no weights."""
    return Out(shape=x)


for _n, (_k, _t) in {"spatial_dropout1d": ("SpatialDropout1D", "Dropout1d"),
                     "spatial_dropout2d": ("SpatialDropout2D", "Dropout2d"),
                     "spatial_dropout3d": ("SpatialDropout3D", "Dropout3d"),
                     "alpha_dropout": ("AlphaDropout", "AlphaDropout"),
                     "gaussian_dropout": ("GaussianDropout", "GaussianDropout")}.items():
    def _spatial(x, rate: Real = 0.5):
        return Out(shape=x)
    _spatial.__doc__ = f"{_n}: drops whole channels (or units) while training: no weights."
    layer(_k, _t, name=_n)(_spatial)


@layer("Embedding", "Embedding")
def embedding(x, input_dim: Dim, output_dim: Dim):
    """A lookup table of input_dim vectors of size output_dim: each index becomes a vector."""
    return Out(shape=tuple(x) + (output_dim,), params=input_dim * output_dim)
