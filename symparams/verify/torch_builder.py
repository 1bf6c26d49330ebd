"""Each catalog layer as torch.nn's own modules, under the torch convention (channels first).

TORCH maps a catalog name (row.spec.name) to a function of the step (its evaluated config and
input shapes) returning the chain of constructor calls (`Make`) that realises the layer. Adding a
layer is one entry. A layer torch has no module for raises NoCounterpart: verify then reports it
as not checkable and never as passing.
"""
from __future__ import annotations

from dataclasses import replace

from ..catalog.preprocessing import AUGMENTATION_NAMES
from .geometry import causal_pads, per_axis, same_pads, transpose_same
from .make import Make, NoCounterpart, declared_in_language, declared_module

TORCH: dict = {}


def builds(*names):
    def register(fn):
        for name in names:
            TORCH[name] = fn
        return fn
    return register


# ---------------------------------------------------------------- activations

_ACTIVATIONS = {
    "relu": Make("nn.ReLU"), "relu6": Make("nn.ReLU6"), "gelu": Make("nn.GELU"), "silu": Make("nn.SiLU"),
    "swish": Make("nn.SiLU"), "softmax": Make("nn.Softmax", dim=-1), "log_softmax": Make("nn.LogSoftmax", dim=-1),
    "sigmoid": Make("nn.Sigmoid"), "tanh": Make("nn.Tanh"), "elu": Make("nn.ELU"), "selu": Make("nn.SELU"),
    "softplus": Make("nn.Softplus"), "softsign": Make("nn.Softsign"), "leaky_relu": Make("nn.LeakyReLU"),
    "hard_sigmoid": Make("nn.Hardsigmoid"), "hard_swish": Make("nn.Hardswish"), "hard_silu": Make("nn.Hardswish"),
    "mish": Make("nn.Mish"), "exponential": Make("Exponential"), "glu": Make("nn.GLU", dim=-1),
    "linear": Make("nn.Identity"), "identity": Make("nn.Identity"),
}


def activation(name) -> list:
    """The module an `activation=` argument adds after a layer (none for no activation)."""
    return [] if name in (None, "none") else [_ACTIVATIONS[name]]


@builds("relu", "relu6", "gelu", "silu", "sigmoid", "tanh", "selu", "softplus", "softsign", "mish", "hard_sigmoid",
        "hard_swish", "identity")
def _activation_layer(step):
    return activation(step.kind)


@builds("activation")
def _activation(step):
    return activation(step.config["activation"]) or [Make("nn.Identity")]


@builds("softmax", "log_softmax")
def _softmax(step):
    return [Make("nn.Softmax" if step.kind == "softmax" else "nn.LogSoftmax", dim=step.config["axis"])]


@builds("leaky_relu")
def _leaky_relu(step):
    return [Make("nn.LeakyReLU", negative_slope=step.config["negative_slope"])]


@builds("elu")
def _elu(step):
    return [Make("nn.ELU", alpha=step.config["alpha"])]


@builds("glu")
def _glu(step):
    return [Make("nn.GLU", dim=step.config["axis"])]


_TORCH_ONLY_ACTIVATIONS = {"log_sigmoid": "nn.LogSigmoid", "tanhshrink": "nn.Tanhshrink", "celu": "nn.CELU",
                           "hardshrink": "nn.Hardshrink", "softshrink": "nn.Softshrink", "hardtanh": "nn.Hardtanh",
                           "threshold": "nn.Threshold", "rrelu": "nn.RReLU", "softmax2d": "nn.Softmax2d",
                           "feature_alpha_dropout": "nn.FeatureAlphaDropout"}


@builds(*_TORCH_ONLY_ACTIVATIONS)
def _parametrised_activation(step):
    """These modules take the entry's arguments under the same names."""
    return [Make(_TORCH_ONLY_ACTIVATIONS[step.kind], **_renamed(step.config, {"rate": "p"}))]


def _renamed(config: dict, names: dict) -> dict:
    return {names.get(k, k): v for k, v in config.items()}


@builds("softmin")
def _softmin(step):
    return [Make("nn.Softmin", dim=step.config["axis"])]


@builds("gaussian_noise", "activity_regularization", "unit_normalization")
def _keras_only(step):
    raise NoCounterpart(f"torch.nn has no module for {step.kind}")


@builds("prelu")
def _prelu(step):
    if step.config["shared_axes"] is not None:
        raise NoCounterpart("torch's PReLU has no shared_axes: one alpha, or one per channel")
    return [Make("nn.PReLU", num_parameters=step.config["num_parameters"] or 1)]


# ---------------------------------------------------------------- dense, reshaping, dropout, embedding

@builds("dense")
def _dense(step):
    (x,) = step.input_shapes
    cfg = step.config
    return [Make("nn.Linear", x[-1], cfg["units"], bias=cfg["use_bias"])] + activation(cfg["activation"])


@builds("flatten")
def _flatten(step):
    return [Make("nn.Flatten", step.config["start_dim"], step.config["end_dim"])]


@builds("reshape")
def _reshape(step):
    (x,) = step.input_shapes
    unflatten = Make("nn.Unflatten", 1, tuple(step.config["target_shape"]))
    return [unflatten] if len(x) == 1 else [Make("nn.Flatten"), unflatten]


@builds("unflatten")
def _unflatten(step):
    return [Make("nn.Unflatten", step.config["axis"], tuple(step.config["unflattened_size"]))]


@builds("permute")
def _permute(step):
    (x,) = step.input_shapes
    dims = tuple(step.config["dims"])
    return [Make("Permute", dims[1:] if len(dims) == len(x) + 1 else dims)]


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
    cfg = step.config
    return [Make("nn.Embedding", cfg["input_dim"], cfg["output_dim"], padding_idx=cfg.get("padding_idx"))]


# ---------------------------------------------------------------- merges

@builds("add", "subtract", "multiply", "average", "maximum", "minimum")
def _merge(step):
    return [Make("Merge", step.kind)]


@builds("concatenate")
def _concatenate(step):
    axis = step.config["axis"]
    return [Make("Merge", "concatenate", dim=1 if axis is None else axis)]


# ---------------------------------------------------------------- normalisation

def _learned(cfg, layer: str) -> dict:
    """torch's affine= and bias= for a layer learning gamma (scale) and beta (shift) per channel:
    the weight exists with affine, the bias with affine and bias."""
    gamma = cfg["scale"] and cfg["affine"]
    beta = cfg["center"] and cfg["affine"] and cfg.get("use_bias", True)
    if beta and not gamma:
        raise NoCounterpart(f"torch's {layer} cannot learn a shift without a scale")
    return {"affine": gamma, "bias": beta} if gamma else {"affine": False}


def _channel_axis(axis, layer):
    if axis not in (None, 1):
        raise NoCounterpart(f"torch's {layer} normalises the channel axis 1, not axis {axis}")


def _per_channel(step, family):
    (x,) = step.input_shapes
    cfg = step.config
    _channel_axis(cfg["axis"], family)
    n = {1: 1, 2: 1, 3: 2, 4: 3}.get(len(x))
    if n is None:
        raise NoCounterpart(f"torch has no {family} for rank-{len(x) + 1} tensors")
    return [Make(f"nn.{family}{n}d", x[0], track_running_stats=cfg["track_running_stats"], **_learned(cfg, family))]


@builds("batchnorm", "batchnorm1d", "batchnorm2d", "batchnorm3d")
def _batchnorm(step):
    return _per_channel(step, "BatchNorm")


@builds("instancenorm1d", "instancenorm2d", "instancenorm3d", "lazy_instancenorm1d", "lazy_instancenorm2d",
        "lazy_instancenorm3d")
def _instancenorm(step):
    return _per_channel(step, "InstanceNorm")


def _normalized_shape(x, cfg, layer) -> tuple:
    """torch's normalized_shape: trailing axes only (Keras may name any)."""
    if cfg["features"] is not None:
        return tuple(cfg["features"])
    axes = sorted({a - 1 if a > 0 else len(x) + a for a in (cfg["axis"] or (-1,))})
    if axes != list(range(axes[0], len(x))):
        raise NoCounterpart(f"torch's {layer} normalises trailing axes only, not axes {cfg['axis']}")
    return tuple(x[axes[0]:])


@builds("layernorm")
def _layernorm(step):
    (x,) = step.input_shapes
    cfg = step.config
    if cfg["rms_scaling"]:       # Keras's RMS-scaled LayerNormalization is torch's RMSNorm
        return [Make("nn.RMSNorm", _normalized_shape(x, cfg, "RMSNorm"))]
    gamma = cfg["scale"] and cfg["elementwise_affine"]
    beta = cfg["center"] and cfg["use_bias"] and cfg["elementwise_affine"]
    if beta and not gamma:
        raise NoCounterpart("torch's LayerNorm cannot shift without scaling")
    return [Make("nn.LayerNorm", _normalized_shape(x, cfg, "LayerNorm"), elementwise_affine=gamma, bias=beta)]


@builds("rmsnorm")
def _rmsnorm(step):
    (x,) = step.input_shapes
    cfg = step.config
    return [Make("nn.RMSNorm", _normalized_shape(x, cfg, "RMSNorm"), elementwise_affine=cfg["elementwise_affine"])]


@builds("groupnorm")
def _groupnorm(step):
    (x,) = step.input_shapes
    cfg = step.config
    _channel_axis(cfg["axis"], "GroupNorm")
    return [Make("nn.GroupNorm", cfg["groups"], x[0], **_learned(cfg, "GroupNorm"))]


# ---------------------------------------------------------------- convolution and pooling

def _padding(padding, sizes, k, s, d, n):
    """torch's own `padding=` argument, or a ZeroPad module to put first (Keras's 'same' with
    strides, 'causal'), and the padding left for the layer itself."""
    if padding == "valid":
        return [], 0
    if padding == "causal":
        return [Make("nn.ZeroPad1d", causal_pads(k[0], d[0]))], 0
    if padding == "same":
        pads = [same_pads(L, ki, si, di) for L, ki, si, di in zip(sizes, k, s, d)]
        if all(a == b for a, b in pads):
            return [], tuple(a for a, _ in pads)
        flat = tuple(p for pair in reversed(pads) for p in pair)   # ZeroPad wants the last axis first
        return [Make(f"nn.ZeroPad{n}d", flat)], 0
    return [], per_axis(padding, n)


def _windows(step, n):
    cfg = step.config
    return tuple(per_axis(cfg[key], n) for key in ("kernel_size", "strides", "dilation_rate"))


def _conv_builder(n):
    def build(step):
        (x,) = step.input_shapes
        cfg = step.config
        k, s, d = _windows(step, n)
        pre, pad = _padding(cfg["padding"], x[1:], k, s, d, n)
        conv = Make(f"nn.Conv{n}d", x[0], cfg["filters"], kernel_size=k, stride=s, padding=pad, dilation=d,
                    groups=cfg["groups"], bias=cfg["use_bias"], padding_mode=cfg["padding_mode"])
        return pre + [conv] + activation(cfg["activation"])
    return build


def _conv_transpose_builder(n):
    def build(step):
        (x,) = step.input_shapes
        cfg = step.config
        k, s, d = _windows(step, n)
        q = cfg["output_padding"]
        if cfg["padding"] == "same":
            pad, q = transpose_same(k, s, d, q)
        else:
            pad = 0 if cfg["padding"] == "valid" else per_axis(cfg["padding"], n)
            q = 0 if q is None else per_axis(q, n)
        conv = Make(f"nn.ConvTranspose{n}d", x[0], cfg["filters"], kernel_size=k, stride=s, padding=pad,
                    output_padding=q, groups=cfg["groups"], bias=cfg["use_bias"], dilation=d)
        return [conv] + activation(cfg["activation"])
    return build


def _depthwise(step, n, bias):
    (x,) = step.input_shapes
    cfg = step.config
    k, s, d = _windows(step, n)
    pre, pad = _padding(cfg["padding"], x[1:], k, s, d, n)
    return pre + [Make(f"nn.Conv{n}d", x[0], x[0] * cfg["depth_multiplier"], kernel_size=k, stride=s,
                       padding=pad, dilation=d, groups=x[0], bias=bias)]


def _depthwise_builder(n):
    def build(step):
        return _depthwise(step, n, step.config["use_bias"]) + activation(step.config["activation"])
    return build


def _separable_builder(n):
    def build(step):
        cfg = step.config
        (x,) = step.input_shapes
        pointwise = Make(f"nn.Conv{n}d", x[0] * cfg["depth_multiplier"], cfg["filters"], kernel_size=1,
                         bias=cfg["use_bias"])
        return _depthwise(step, n, False) + [pointwise] + activation(cfg["activation"])
    return build


def _pool_builder(kind, n):
    def build(step):
        (x,) = step.input_shapes
        cfg = step.config
        k = per_axis(cfg["pool_size"], n)
        s = per_axis(cfg["strides"], n) if cfg["strides"] is not None else k
        d = per_axis(cfg.get("dilation_rate", 1), n)
        pre, pad = _padding(cfg["padding"], x[1:], k, s, d, n)
        if kind == "max":
            pool = Make(f"nn.MaxPool{n}d", kernel_size=k, stride=s, padding=pad, dilation=d,
                        ceil_mode=cfg["ceil_mode"])
        else:
            pool = Make(f"nn.AvgPool{n}d", kernel_size=k, stride=s, padding=pad, ceil_mode=cfg["ceil_mode"],
                        count_include_pad=cfg["count_include_pad"])
        return pre + [pool]
    return build


def _global_pool_builder(kind, n):
    def build(step):
        pool = Make(f"nn.Adaptive{'Max' if kind == 'max' else 'Avg'}Pool{n}d", 1)
        return [pool] if step.config["keepdims"] else [pool, Make("nn.Flatten")]
    return build


def _adaptive_pool_builder(kind, n):
    def build(step):
        return [Make(f"nn.Adaptive{'Max' if kind == 'max' else 'Avg'}Pool{n}d", per_axis(step.config["output_size"], n))]
    return build


# ---------------------------------------------------------------- resizing

def _pairs(amounts, n) -> list:
    """Keras's padding/cropping forms as one (before, after) pair per axis."""
    amounts = amounts if isinstance(amounts, tuple) else (amounts,)
    if n == 1 and len(amounts) == 2 and not isinstance(amounts[0], tuple):
        return [amounts]
    if len(amounts) == 1 and not isinstance(amounts[0], tuple):
        return [(amounts[0], amounts[0])] * n
    return [a if isinstance(a, tuple) else (a, a) for a in amounts]


def _pad_module(pairs, n, sign=1):
    """nn.ZeroPad{n}d takes the amounts last axis first; negative amounts crop."""
    return Make(f"nn.ZeroPad{n}d", tuple(sign * p for pair in reversed(pairs) for p in pair))


def _resize_builders(n):
    TORCH[f"upsampling{n}d"] = lambda step: [Make("nn.Upsample", scale_factor=tuple(
        float(f) for f in per_axis(step.config["size"], n)))]
    TORCH[f"zero_padding{n}d"] = lambda step: [_pad_module(_pairs(step.config["padding"], n), n)]
    TORCH[f"cropping{n}d"] = lambda step: [_pad_module(_pairs(step.config["cropping"], n), n, sign=-1)]
    for kind in ("Zero", "Reflection", "Replication", "Circular", "Constant"):
        TORCH[f"{kind.lower()}_pad{n}d"] = _torch_pad_builder(kind, n)


def _torch_pad_builder(kind, n):
    def build(step):
        amounts = tuple(step.config["padding"])
        padding = amounts[0] if len(amounts) == 1 else amounts
        extra = (step.config["value"],) if kind == "Constant" else ()
        return [Make(f"nn.{kind}Pad{n}d", padding, *extra)]
    return build


@builds("upsample")
def _upsample(step):
    cfg = step.config
    size = cfg["size"]
    scale = cfg["scale_factor"]
    if scale is not None:
        scale = float(scale[0]) if len(scale) == 1 else tuple(float(f) for f in scale)
    options = {k: cfg[k] for k in ("align_corners",) if cfg[k] not in (None, "none")}
    return [Make("nn.Upsample", size=None if size is None else tuple(size), scale_factor=scale, mode=cfg["mode"],
                 **options)]


for _n in (1, 2, 3):
    TORCH[f"conv{_n}d"] = _conv_builder(_n)
    TORCH[f"conv{_n}d_transpose"] = _conv_transpose_builder(_n)
    _resize_builders(_n)
    for _kind in ("max", "avg"):
        TORCH[f"{_kind}pool{_n}d"] = _pool_builder(_kind, _n)
        TORCH[f"global_{_kind}pool{_n}d"] = _global_pool_builder(_kind, _n)
        TORCH[f"adaptive_{_kind}pool{_n}d"] = _adaptive_pool_builder(_kind, _n)
for _n in (1, 2):
    TORCH[f"depthwise_conv{_n}d"] = _depthwise_builder(_n)
    TORCH[f"separable_conv{_n}d"] = _separable_builder(_n)


# ---------------------------------------------------------------- recurrent

_RNNS = {"simple_rnn": "nn.RNN", "lstm": "nn.LSTM", "gru": "nn.GRU"}


def _rnn_module(kind, cfg, features, bidirectional):
    options = {}
    if kind == "simple_rnn":
        if cfg["activation"] not in ("tanh", "relu"):
            raise NoCounterpart(f"torch's RNN has tanh or relu, not {cfg['activation']}")
        options["nonlinearity"] = cfg["activation"]
    if cfg.get("proj_size"):
        options["proj_size"] = cfg["proj_size"]
    return Make(_RNNS[kind], features, cfg["units"], num_layers=cfg["num_layers"], bias=cfg["use_bias"],
                batch_first=True, bidirectional=bidirectional, **options)


def _sequences(flag) -> bool:
    return True if flag is None else flag      # torch's RNNs return every step


@builds(*_RNNS)
def _recurrent(step):
    (x,) = step.input_shapes
    cfg = step.config
    rnn = _rnn_module(step.kind, cfg, x[-1], cfg["bidirectional"])
    return [Make("RecurrentOutput", rnn, _sequences(cfg["return_sequences"]))]


@builds("bidirectional")
def _bidirectional(step):
    (x,) = step.input_shapes
    inner = step.config["layer"]
    if step.config["merge_mode"] != "concat":
        raise NoCounterpart(f"torch's bidirectional RNNs concatenate, they cannot {step.config['merge_mode']}")
    rnn = _rnn_module(inner.spec.name, inner.config, x[-1], True)
    return [Make("RecurrentOutput", rnn, _sequences(inner.config["return_sequences"]))]


# ---------------------------------------------------------------- attention and transformers

@builds("multihead_attention")
def _multihead_attention(step):
    cfg = step.config
    q, v = step.input_shapes[0], step.input_shapes[1]
    k = step.input_shapes[2] if len(step.input_shapes) == 3 else v
    heads, d = cfg["num_heads"], q[-1]
    head = d // heads
    if d % heads or any(cfg[key] not in (None, head) for key in ("key_dim", "value_dim")) or \
            cfg["output_shape"] not in (None, d):
        raise NoCounterpart("torch's MultiheadAttention splits the query's width evenly into heads "
                            "(key_dim = value_dim = embed_dim / num_heads) and outputs embed_dim features")
    attention = Make("nn.MultiheadAttention", d, heads, bias=cfg["use_bias"], add_bias_kv=cfg["add_bias_kv"],
                     kdim=k[-1], vdim=v[-1], batch_first=True)
    return [Make("Attention", attention)]


@builds("position_embedding")
def _position_embedding(step):
    (x,) = step.input_shapes
    cfg = step.config
    width = cfg["output_dim"] if len(x) == 1 else x[-1]
    return [Make("PositionEmbedding", Make("nn.Embedding", cfg["sequence_length"], width))]


@builds("transformer_encoder_layer", "transformer_decoder_layer")
def _transformer_layer(step):
    cfg = step.config
    if cfg["activation"] not in ("relu", "gelu"):
        raise NoCounterpart(f"torch's transformer layers use relu or gelu, not {cfg['activation']}")
    cls = "nn.TransformerEncoderLayer" if step.kind == "transformer_encoder_layer" else "nn.TransformerDecoderLayer"
    return [Make(cls, cfg["d_model"], cfg["nhead"], dim_feedforward=cfg["dim_feedforward"],
                 activation=cfg["activation"], batch_first=True, norm_first=cfg["norm_first"], bias=cfg["use_bias"])]


@builds("patch_embedding")
def _patch_embedding(step):
    (x,) = step.input_shapes
    cfg = step.config
    p = cfg["patch_size"]
    conv = Make("nn.Conv2d", x[0], cfg["embed_dim"], kernel_size=p, stride=p, bias=cfg["use_bias"])
    return [conv, Make("nn.Flatten", 2), Make("Permute", (2, 1))]    # (E, H/p, W/p) -> (patches, E)


@builds("transformer_encoder", "transformer_decoder")
def _transformer_stack(step):
    cfg = step.config
    inner_kind = "transformer_encoder_layer" if step.kind == "transformer_encoder" else "transformer_decoder_layer"
    inner = cfg["encoder_layer" if step.kind == "transformer_encoder" else "decoder_layer"]
    (layer,) = _transformer_layer(replace(step, row=replace(step.row, spec=inner.spec), config=inner.config,
                                          input_shapes=step.input_shapes[:1]))
    norm = None
    if cfg["norm"] is not None:
        norm = layer_call(replace(step, row=replace(step.row, spec=cfg["norm"].spec), config=cfg["norm"].config,
                                  input_shapes=step.input_shapes[:1]))
    extra = {"enable_nested_tensor": False} if step.kind == "transformer_encoder" else {}
    cls = "nn.TransformerEncoder" if inner_kind == "transformer_encoder_layer" else "nn.TransformerDecoder"
    return [Make(cls, layer, cfg["num_layers"], norm=norm, **extra)]


@builds("transformer")
def _transformer(step):
    cfg = step.config
    if cfg["activation"] not in ("relu", "gelu"):
        raise NoCounterpart(f"torch's Transformer uses relu or gelu, not {cfg['activation']}")
    return [Make("nn.Transformer", cfg["d_model"], cfg["nhead"], cfg["num_encoder_layers"], cfg["num_decoder_layers"],
                 cfg["dim_feedforward"], activation=cfg["activation"], batch_first=True, norm_first=cfg["norm_first"],
                 bias=cfg["use_bias"])]


# ---------------------------------------------------------------- layers added for torch.nn's remaining classes

@builds("bilinear")
def _bilinear(step):
    x1, x2 = step.input_shapes
    return [Make("nn.Bilinear", x1[-1], x2[-1], step.config["units"], bias=step.config["use_bias"])]


@builds("cosine_similarity")
def _cosine_similarity(step):
    return [Make("nn.CosineSimilarity", dim=step.config["axis"])]


@builds("pairwise_distance")
def _pairwise_distance(step):
    return [Make("nn.PairwiseDistance", p=step.config["p"], keepdim=step.config["keepdim"])]


@builds("pixel_shuffle", "pixel_unshuffle", "channel_shuffle")
def _shuffle(step):
    cls = {"pixel_shuffle": "nn.PixelShuffle", "pixel_unshuffle": "nn.PixelUnshuffle",
           "channel_shuffle": "nn.ChannelShuffle"}[step.kind]
    key = {"pixel_shuffle": "upscale_factor", "pixel_unshuffle": "downscale_factor"}.get(step.kind, "groups")
    return [Make(cls, step.config[key])]


_FOLD_NAMES = {"dilation_rate": "dilation", "strides": "stride"}


@builds("unfold", "fold")
def _fold(step):
    cfg = {_FOLD_NAMES.get(k, k): per_axis(v, 2) for k, v in step.config.items() if k != "data_format"}
    return [Make("nn.Unfold" if step.kind == "unfold" else "nn.Fold", **cfg)]


def _lp_pool_builder(n):
    def build(step):
        cfg = step.config
        k = per_axis(cfg["pool_size"], n)
        s = k if cfg["strides"] is None else per_axis(cfg["strides"], n)
        if n == 1:            # LPPool1d multiplies by its kernel_size: a number, not a tuple
            k, s = k[0], s[0]
        return [Make(f"nn.LPPool{n}d", cfg["norm_type"], k, stride=s, ceil_mode=cfg["ceil_mode"])]
    return build


def _fractional_builder(n):
    def build(step):
        cfg = step.config
        ratio = cfg["output_ratio"]
        return [Make(f"nn.FractionalMaxPool{n}d", per_axis(cfg["pool_size"], n),
                     output_size=None if cfg["output_size"] is None else per_axis(cfg["output_size"], n),
                     output_ratio=None if ratio is None else tuple(float(r) for r in per_axis(ratio, n)))]
    return build


for _n in (1, 2, 3):
    TORCH[f"lp_pool{_n}d"] = _lp_pool_builder(_n)
for _n in (2, 3):
    TORCH[f"fractional_max_pool{_n}d"] = _fractional_builder(_n)


@builds("max_unpool1d", "max_unpool2d", "max_unpool3d")
def _max_unpool(step):
    raise NoCounterpart("MaxUnpool needs the indices of a MaxPool(return_indices=True), which verify does not feed")


@builds("local_response_norm", "cross_map_lrn2d")
def _lrn(step):
    cfg = step.config
    cls = "nn.LocalResponseNorm" if step.kind == "local_response_norm" else "nn.CrossMapLRN2d"
    return [Make(cls, cfg["size"], alpha=cfg["alpha"], beta=cfg["beta"], k=cfg["k"])]


_CELLS = {"simple_rnn_cell": "nn.RNNCell", "lstm_cell": "nn.LSTMCell", "gru_cell": "nn.GRUCell"}


@builds(*_CELLS)
def _cell(step):
    (x,) = step.input_shapes
    cfg = step.config
    options = {}
    if step.kind == "simple_rnn_cell":
        if cfg["activation"] not in ("tanh", "relu"):
            raise NoCounterpart(f"torch's RNNCell has tanh or relu, not {cfg['activation']}")
        options["nonlinearity"] = cfg["activation"]
    if step.kind == "gru_cell" and cfg["reset_after"] is False:
        raise NoCounterpart("torch's GRUCell always resets after the recurrent product")
    cell = Make(_CELLS[step.kind], x[-1], cfg["units"], bias=cfg["use_bias"], **options)
    return [Make("FirstOutput", cell) if step.kind == "lstm_cell" else cell]


@builds("embedding_bag")
def _embedding_bag(step):
    cfg = step.config
    return [Make("nn.EmbeddingBag", cfg["input_dim"], cfg["output_dim"], mode=cfg["mode"],
                 padding_idx=cfg["padding_idx"])]


@builds("grouped_query_attention", "gated_mlp", "mixture_of_experts", "repeat_vector", "masking", "time_distributed",
        "dot", "normalization", "stacked_rnn_cells", "conv_lstm1d", "conv_lstm2d", "conv_lstm3d",
        "spectral_normalization", "reversible_embedding", "einsum_dense", "attention", "additive_attention", "rescaling", "resizing",
        "center_crop", "random_crop", "category_encoding", "discretization", "mel_spectrogram",
        "stft_spectrogram", *AUGMENTATION_NAMES)
def _no_torch_module(step):
    raise NoCounterpart(f"torch.nn has no module for {step.kind}")


def layer_call(step) -> Make:
    """The one constructor call (a Sequential for a chain) that realises a step in torch."""
    if declared_in_language(step.row.spec):
        chain = declared_module(step, "torch", "nn.")
        return chain[0]
    build = TORCH.get(step.kind)
    if build is None:
        raise NoCounterpart(f"verify has no torch mapping for '{step.kind}' yet")
    chain = build(step)
    return chain[0] if len(chain) == 1 else Make("nn.Sequential", *chain)
