"""Each catalog layer as Keras 3's own layers, under the keras convention (channels last).

KERAS maps a catalog name (row.spec.name) to a function of the step returning the chain of
layer constructor calls (`Make`) applied in turn. Adding a layer is one entry. A layer Keras has
no class for raises NoCounterpart: verify reports it as not checkable, never as passing.
"""
from __future__ import annotations

from .geometry import causal_pads, per_axis
from .make import Make, NoCounterpart

KERAS: dict = {}

_ACTIVATION_NAMES = ("relu", "relu6", "gelu", "silu", "swish", "softmax", "log_softmax", "sigmoid", "tanh", "elu",
                     "selu", "softplus", "softsign", "leaky_relu", "hard_sigmoid", "hard_swish", "hard_silu", "mish",
                     "exponential", "glu", "linear")


def builds(*names):
    def register(fn):
        for name in names:
            KERAS[name] = fn
        return fn
    return register


def activation(name):
    return None if name in (None, "none") else name


@builds(*_ACTIVATION_NAMES)
def _activation_layer(step):
    return [Make("layers.Activation", step.kind)]


@builds("activation")
def _activation(step):
    return [Make("layers.Activation", activation(step.config["activation"]) or "linear")]


@builds("dense")
def _dense(step):
    cfg = step.config
    return [Make("layers.Dense", cfg["units"], use_bias=cfg["use_bias"], activation=activation(cfg["activation"]))]


@builds("flatten")
def _flatten(step):
    return [Make("layers.Flatten")]


@builds("reshape")
def _reshape(step):
    return [Make("layers.Reshape", tuple(step.config["target_shape"]))]


@builds("permute")
def _permute(step):
    return [Make("layers.Permute", tuple(step.config["dims"]))]


_DROPOUTS = {"dropout": "Dropout", "spatial_dropout1d": "SpatialDropout1D", "spatial_dropout2d": "SpatialDropout2D",
             "spatial_dropout3d": "SpatialDropout3D", "alpha_dropout": "AlphaDropout",
             "gaussian_dropout": "GaussianDropout"}


@builds(*_DROPOUTS)
def _dropout(step):
    return [Make(f"layers.{_DROPOUTS[step.kind]}", step.config["rate"])]


@builds("embedding")
def _embedding(step):
    return [Make("layers.Embedding", step.config["input_dim"], step.config["output_dim"])]


_MERGES = {"add": "Add", "subtract": "Subtract", "multiply": "Multiply", "average": "Average", "maximum": "Maximum",
           "minimum": "Minimum"}


@builds(*_MERGES)
def _merge(step):
    return [Make(f"layers.{_MERGES[step.kind]}")]


@builds("concatenate")
def _concatenate(step):
    return [Make("layers.Concatenate", axis=step.config["axis"])]


@builds("batchnorm", "batchnorm1d", "batchnorm2d", "batchnorm3d")
def _batchnorm(step):
    cfg = step.config
    return [Make("layers.BatchNormalization", axis=-1, center=cfg["center"], scale=cfg["scale"])]


@builds("layernorm")
def _layernorm(step):
    cfg = step.config
    return [Make("layers.LayerNormalization", axis=-1, center=cfg["center"], scale=cfg["scale"])]


def _padding(padding, n):
    """Keras's own `padding=` mode, with a ZeroPadding layer first for an explicit amount."""
    if isinstance(padding, str):
        return [], padding
    pads = per_axis(padding, n)
    return [Make(f"layers.ZeroPadding{n}D", pads[0] if n == 1 else pads)], "valid"


def _conv_builder(n):
    def build(step):
        cfg = step.config
        k, s, d = (per_axis(cfg[key], n) for key in ("kernel_size", "strides", "dilation_rate"))
        pre, mode = _padding(cfg["padding"], n)
        if mode == "causal" and n > 1:
            raise NoCounterpart(f"Keras's Conv{n}D has no causal padding")
        return pre + [Make(f"layers.Conv{n}D", cfg["filters"], k, strides=s, padding=mode, dilation_rate=d,
                           groups=cfg["groups"], use_bias=cfg["use_bias"], activation=activation(cfg["activation"]))]
    return build


def _pool_builder(kind, n):
    def build(step):
        cfg = step.config
        if cfg["ceil_mode"]:
            raise NoCounterpart("Keras pooling has no ceil_mode")
        k = per_axis(cfg["pool_size"], n)
        s = per_axis(cfg["strides"], n) if cfg["strides"] is not None else k
        pre, mode = _padding(cfg["padding"], n)
        if mode == "causal" and n > 1:
            raise NoCounterpart(f"Keras has no causal {n}-D pooling")
        if mode == "causal":  # Keras pools have no causal mode: pad k - 1 before, as Conv1D does
            pre, mode = [Make(f"layers.ZeroPadding{n}D", causal_pads(k[0]))], "valid"
        cls = f"layers.{'Max' if kind == 'max' else 'Average'}Pooling{n}D"
        return pre + [Make(cls, k, strides=s, padding=mode)]
    return build


for _n in (1, 2, 3):
    KERAS[f"conv{_n}d"] = _conv_builder(_n)
    for _kind in ("max", "avg"):
        KERAS[f"{_kind}pool{_n}d"] = _pool_builder(_kind, _n)


@builds("simple_rnn", "lstm")
def _recurrent(step):
    cfg = step.config
    cls = "layers.LSTM" if step.kind == "lstm" else "layers.SimpleRNN"
    return [Make(cls, cfg["units"], use_bias=cfg["use_bias"], return_sequences=cfg["return_sequences"])]


@builds("gru")
def _gru(step):
    cfg = step.config
    extra = {} if cfg["reset_after"] is None else {"reset_after": cfg["reset_after"]}
    return [Make("layers.GRU", cfg["units"], use_bias=cfg["use_bias"], return_sequences=cfg["return_sequences"],
                 **extra)]


def layer_chain(step) -> list:
    """The Keras layers, applied in turn, that realise a step."""
    build = KERAS.get(step.kind)
    if build is None:
        raise NoCounterpart(f"verify has no Keras mapping for '{step.kind}' yet")
    return build(step)
