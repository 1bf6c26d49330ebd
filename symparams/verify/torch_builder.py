"""Each catalog layer as torch.nn's own modules, under the torch convention (channels first).

TORCH maps a catalog name (row.spec.name) to a function of the step (its evaluated config and
input shapes) returning the chain of constructor calls (`Make`) that realises the layer. Adding a
layer is one entry. A layer torch has no module for raises NoCounterpart: verify then reports it
as not checkable and never as passing.
"""
from __future__ import annotations

from .geometry import causal_pads, per_axis, same_pads
from .make import Make, NoCounterpart

TORCH: dict = {}


def builds(*names):
    def register(fn):
        for name in names:
            TORCH[name] = fn
        return fn
    return register


_ACTIVATIONS = {
    "relu": Make("nn.ReLU"), "relu6": Make("nn.ReLU6"), "gelu": Make("nn.GELU"), "silu": Make("nn.SiLU"),
    "swish": Make("nn.SiLU"), "softmax": Make("nn.Softmax", dim=-1), "log_softmax": Make("nn.LogSoftmax", dim=-1),
    "sigmoid": Make("nn.Sigmoid"), "tanh": Make("nn.Tanh"), "elu": Make("nn.ELU"), "selu": Make("nn.SELU"),
    "softplus": Make("nn.Softplus"), "softsign": Make("nn.Softsign"), "leaky_relu": Make("nn.LeakyReLU"),
    "hard_sigmoid": Make("nn.Hardsigmoid"), "hard_swish": Make("nn.Hardswish"), "hard_silu": Make("nn.Hardswish"),
    "mish": Make("nn.Mish"), "exponential": Make("Exponential"), "glu": Make("nn.GLU", dim=-1),
    "linear": Make("nn.Identity"),
}


def activation(name) -> list:
    """The module an `activation=` argument adds after a layer (none for no activation)."""
    return [] if name in (None, "none") else [_ACTIVATIONS[name]]


@builds(*_ACTIVATIONS)
def _activation_layer(step):
    return activation(step.kind)


@builds("activation")
def _activation(step):
    return activation(step.config["activation"]) or [Make("nn.Identity")]


@builds("dense")
def _dense(step):
    (x,) = step.input_shapes
    cfg = step.config
    return [Make("nn.Linear", x[-1], cfg["units"], bias=cfg["use_bias"])] + activation(cfg["activation"])


@builds("flatten")
def _flatten(step):
    return [Make("nn.Flatten")]


@builds("reshape")
def _reshape(step):
    (x,) = step.input_shapes
    unflatten = Make("nn.Unflatten", 1, tuple(step.config["target_shape"]))
    return [unflatten] if len(x) == 1 else [Make("nn.Flatten"), unflatten]


@builds("permute")
def _permute(step):
    return [Make("Permute", tuple(step.config["dims"]))]


_DROPOUTS = {"dropout": "nn.Dropout", "spatial_dropout1d": "nn.Dropout1d", "spatial_dropout2d": "nn.Dropout2d",
             "spatial_dropout3d": "nn.Dropout3d", "alpha_dropout": "nn.AlphaDropout"}


@builds(*_DROPOUTS)
def _dropout(step):
    return [Make(_DROPOUTS[step.kind], p=step.config["rate"])]


@builds("gaussian_dropout")
def _gaussian_dropout(step):
    raise NoCounterpart("torch.nn has no GaussianDropout")


@builds("embedding")
def _embedding(step):
    return [Make("nn.Embedding", step.config["input_dim"], step.config["output_dim"])]


@builds("add", "subtract", "multiply", "average", "maximum", "minimum")
def _merge(step):
    return [Make("Merge", step.kind)]


@builds("concatenate")
def _concatenate(step):
    return [Make("Merge", "concatenate", dim=step.config["axis"])]


def _affine(cfg, layer):
    if cfg["center"] != cfg["scale"]:
        raise NoCounterpart(f"torch's {layer} has a scale and a shift together or neither, not one alone")
    return cfg["center"]


@builds("batchnorm", "batchnorm1d", "batchnorm2d", "batchnorm3d")
def _batchnorm(step):
    (x,) = step.input_shapes
    n = {1: 1, 2: 1, 3: 2, 4: 3}.get(len(x))
    if n is None:
        raise NoCounterpart(f"torch has no BatchNorm for rank-{len(x) + 1} tensors")
    return [Make(f"nn.BatchNorm{n}d", x[0], affine=_affine(step.config, "BatchNorm"))]


@builds("layernorm")
def _layernorm(step):
    (x,) = step.input_shapes
    cfg = step.config
    if cfg["scale"] or not cfg["center"]:
        return [Make("nn.LayerNorm", x[-1], elementwise_affine=cfg["scale"], bias=cfg["center"])]
    raise NoCounterpart("torch's LayerNorm cannot shift without scaling")


def _padding(padding, sizes, k, s, d, n):
    """torch's own `padding=` argument, or a ZeroPad module to put first (Keras's 'same' with
    strides, 'causal'), and the padding left for the layer itself."""
    if padding == "valid":
        return [], 0
    if padding == "causal" and n > 1:
        raise NoCounterpart(f"causal padding is for 1-D layers, found a {n}-D one")
    if padding == "causal":
        return [Make("nn.ZeroPad1d", causal_pads(k[0], d[0]))], 0
    if padding == "same":
        pads = [same_pads(L, ki, si, di) for L, ki, si, di in zip(sizes, k, s, d)]
        if all(a == b for a, b in pads):
            return [], tuple(a for a, _ in pads)
        flat = tuple(p for pair in reversed(pads) for p in pair)   # ZeroPad wants the last axis first
        return [Make(f"nn.ZeroPad{n}d", flat)], 0
    return [], per_axis(padding, n)


def _conv_builder(n):
    def build(step):
        (x,) = step.input_shapes
        cfg = step.config
        sizes = x[1:]
        k, s, d = (per_axis(cfg[key], n) for key in ("kernel_size", "strides", "dilation_rate"))
        pre, pad = _padding(cfg["padding"], sizes, k, s, d, n)
        conv = Make(f"nn.Conv{n}d", x[0], cfg["filters"], kernel_size=k, stride=s, padding=pad, dilation=d,
                    groups=cfg["groups"], bias=cfg["use_bias"])
        return pre + [conv] + activation(cfg["activation"])
    return build


def _pool_builder(kind, n):
    def build(step):
        (x,) = step.input_shapes
        cfg = step.config
        k = per_axis(cfg["pool_size"], n)
        s = per_axis(cfg["strides"], n) if cfg["strides"] is not None else k
        pre, pad = _padding(cfg["padding"], x[1:], k, s, (1,) * n, n)
        cls = f"nn.MaxPool{n}d" if kind == "max" else f"nn.AvgPool{n}d"
        return pre + [Make(cls, kernel_size=k, stride=s, padding=pad, ceil_mode=cfg["ceil_mode"])]
    return build


for _n in (1, 2, 3):
    TORCH[f"conv{_n}d"] = _conv_builder(_n)
    for _kind in ("max", "avg"):
        TORCH[f"{_kind}pool{_n}d"] = _pool_builder(_kind, _n)


_RNNS = {"simple_rnn": "nn.RNN", "lstm": "nn.LSTM", "gru": "nn.GRU"}


@builds(*_RNNS)
def _recurrent(step):
    (x,) = step.input_shapes
    cfg = step.config
    rnn = Make(_RNNS[step.kind], x[-1], cfg["units"], bias=cfg["use_bias"], batch_first=True)
    return [Make("RecurrentOutput", rnn, cfg["return_sequences"])]


def layer_call(step) -> Make:
    """The one constructor call (a Sequential for a chain) that realises a step in torch."""
    build = TORCH.get(step.kind)
    if build is None:
        raise NoCounterpart(f"verify has no torch mapping for '{step.kind}' yet")
    chain = build(step)
    return chain[0] if len(chain) == 1 else Make("nn.Sequential", *chain)
