"""Each catalog layer as torch.nn's own modules, under the torch convention (channels first).

TORCH maps a catalog name (row.spec.name) to a function of the step (its evaluated config and
input shapes) returning the chain of constructor calls (`Make`) that realises the layer. Adding a
layer is one entry: a row of CALLS when one torch module takes the entry's own arguments
(make.Call), a row of MISSING when torch has no module for it (verify then reports it as not
checkable, never as passing), else a `@builds` function for the arithmetic the translation needs.
The classes of the n-D families are the entries' own torch names (`step.row.spec.torch_name`).
"""
from __future__ import annotations

from dataclasses import replace

from ..catalog import activations
from ..catalog.preprocessing import AUGMENTATION_NAMES
from ..values import LayerInstance
from .geometry import causal_pads, per_axis, same_pads, transpose_same
from .make import Call, Make, Missing, NoCounterpart, declared_in_language, declared_module

# One module of the entry's own arguments: the class, the arguments it takes in order, and its
# keywords, each naming the entry's argument it takes.
CALLS = {
    # elementwise layers taking arguments, or no activation function's (relu, gelu, ...: _function below)
    "identity": Call("nn.Identity"), "log_sigmoid": Call("nn.LogSigmoid"),
    "tanhshrink": Call("nn.Tanhshrink"), "softmax2d": Call("nn.Softmax2d"),
    "softmax": Call("nn.Softmax", dim="axis"), "log_softmax": Call("nn.LogSoftmax", dim="axis"),
    "softmin": Call("nn.Softmin", dim="axis"), "glu": Call("nn.GLU", dim="axis"),
    "leaky_relu": Call("nn.LeakyReLU", negative_slope="negative_slope"), "elu": Call("nn.ELU", alpha="alpha"),
    "celu": Call("nn.CELU", alpha="alpha"), "hardshrink": Call("nn.Hardshrink", lambd="lambd"),
    "softshrink": Call("nn.Softshrink", lambd="lambd"),
    "hardtanh": Call("nn.Hardtanh", min_val="min_val", max_val="max_val"),
    "threshold": Call("nn.Threshold", threshold="threshold", value="value"),
    "rrelu": Call("nn.RReLU", lower="lower", upper="upper"),
    # reshaping, dropout, embedding
    "flatten": Call("nn.Flatten", "start_dim", "end_dim"),
    "unflatten": Call("nn.Unflatten", "axis", "unflattened_size"),
    "dropout": Call("nn.Dropout", p="rate"), "spatial_dropout1d": Call("nn.Dropout1d", p="rate"),
    "spatial_dropout2d": Call("nn.Dropout2d", p="rate"), "spatial_dropout3d": Call("nn.Dropout3d", p="rate"),
    "alpha_dropout": Call("nn.AlphaDropout", p="rate"),
    "feature_alpha_dropout": Call("nn.FeatureAlphaDropout", p="rate"),
    "embedding": Call("nn.Embedding", "input_dim", "output_dim", padding_idx="padding_idx"),
    "embedding_bag": Call("nn.EmbeddingBag", "input_dim", "output_dim", mode="mode", padding_idx="padding_idx"),
    # torch.nn's remaining classes
    "local_response_norm": Call("nn.LocalResponseNorm", "size", alpha="alpha", beta="beta", k="k"),
    "cross_map_lrn2d": Call("nn.CrossMapLRN2d", "size", alpha="alpha", beta="beta", k="k"),
    "cosine_similarity": Call("nn.CosineSimilarity", dim="axis"),
    "pairwise_distance": Call("nn.PairwiseDistance", p="p", keepdim="keepdim"),
    "pixel_shuffle": Call("nn.PixelShuffle", "upscale_factor"),
    "pixel_unshuffle": Call("nn.PixelUnshuffle", "downscale_factor"),
    "channel_shuffle": Call("nn.ChannelShuffle", "groups"),
}

_NO_MODULE = "torch.nn has no module for {kind}"
MISSING = {
    "gaussian_dropout": Missing("torch.nn has no GaussianDropout"),
    **dict.fromkeys(("max_unpool1d", "max_unpool2d", "max_unpool3d"), Missing(
        "MaxUnpool needs the indices of a MaxPool(return_indices=True), which verify does not feed")),
    **dict.fromkeys(("gaussian_noise", "activity_regularization", "unit_normalization", "repeat_vector", "masking",
                     "time_distributed", "dot", "normalization", "stacked_rnn_cells", "conv_lstm1d", "conv_lstm2d",
                     "conv_lstm3d", "spectral_normalization", "reversible_embedding", "einsum_dense", "attention",
                     "additive_attention", "rescaling", "resizing", "center_crop", "random_crop",
                     "category_encoding", "discretization", "mel_spectrogram", "stft_spectrogram",
                     *AUGMENTATION_NAMES), Missing(_NO_MODULE)),
}

TORCH: dict = {**CALLS, **MISSING}


def builds(*names):
    def register(fn):
        for name in names:
            assert name not in TORCH, f"{name} is a row of CALLS or MISSING already"
            TORCH[name] = fn
        return fn
    return register


def _module(step) -> str:
    """The entry's own torch class: nn.Conv2d for conv2d, nn.ReflectionPad3d for reflection_pad3d."""
    return f"nn.{step.row.spec.torch_name}"


def _spatial_axes(step) -> int:
    """The n of an n-D layer: the spatial axes of its (C, ...) input."""
    return len(step.input_shapes[0]) - 1


# ---------------------------------------------------------------- activations

def activation(name) -> list:
    """The module an `activation=` argument adds after a layer (catalog/activations.py's torch
    module; none for no activation)."""
    f = activations.function(name)
    return [Make(f.torch, **dict(f.torch_options))] if f.torch else []


@builds("activation")
def _activation(step):
    return activation(step.config["activation"]) or [Make("nn.Identity")]


@builds(*activations.layers())
def _function(step):
    """A catalog layer computing an activation function alone, taking no arguments (relu, gelu, ...)."""
    return activation(step.kind)


@builds("prelu")
def _prelu(step):
    if step.config["shared_axes"] is not None:
        raise NoCounterpart("torch's PReLU has no shared_axes: one alpha, or one per channel")
    return [Make("nn.PReLU", num_parameters=step.config["num_parameters"] or 1)]


# ---------------------------------------------------------------- dense, reshaping

@builds("dense")
def _dense(step):
    (x,) = step.input_shapes
    cfg = step.config
    return [Make("nn.Linear", x[-1], cfg["units"], bias=cfg["use_bias"])] + activation(cfg["activation"])


@builds("reshape")
def _reshape(step):
    (x,) = step.input_shapes
    unflatten = Make("nn.Unflatten", 1, tuple(step.config["target_shape"]))
    return [unflatten] if len(x) == 1 else [Make("nn.Flatten"), unflatten]


@builds("permute")
def _permute(step):
    (x,) = step.input_shapes
    dims = tuple(step.config["dims"])
    return [Make("Permute", dims[1:] if len(dims) == len(x) + 1 else dims)]


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
    groups = x[0] if cfg["groups"] == -1 else cfg["groups"]      # Keras's -1: a group per channel
    return [Make("nn.GroupNorm", groups, x[0], **_learned(cfg, "GroupNorm"))]


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


@builds("conv1d", "conv2d", "conv3d")
def _conv(step):
    (x,) = step.input_shapes
    cfg, n = step.config, _spatial_axes(step)
    k, s, d = _windows(step, n)
    pre, pad = _padding(cfg["padding"], x[1:], k, s, d, n)
    conv = Make(_module(step), x[0], cfg["filters"], kernel_size=k, stride=s, padding=pad, dilation=d,
                groups=cfg["groups"], bias=cfg["use_bias"], padding_mode=cfg["padding_mode"])
    return pre + [conv] + activation(cfg["activation"])


@builds("conv1d_transpose", "conv2d_transpose", "conv3d_transpose")
def _conv_transpose(step):
    (x,) = step.input_shapes
    cfg, n = step.config, _spatial_axes(step)
    k, s, d = _windows(step, n)
    q = cfg["output_padding"]
    if cfg["padding"] == "same":
        pad, q = transpose_same(k, s, d, q)
    else:
        pad = 0 if cfg["padding"] == "valid" else per_axis(cfg["padding"], n)
        q = 0 if q is None else per_axis(q, n)
    conv = Make(_module(step), x[0], cfg["filters"], kernel_size=k, stride=s, padding=pad, output_padding=q,
                groups=cfg["groups"], bias=cfg["use_bias"], dilation=d)
    return [conv] + activation(cfg["activation"])


def _depthwise_step(step, bias):
    """Keras's depthwise convolution as torch's Conv{n}d with a group per input channel."""
    (x,) = step.input_shapes
    cfg, n = step.config, _spatial_axes(step)
    k, s, d = _windows(step, n)
    pre, pad = _padding(cfg["padding"], x[1:], k, s, d, n)
    return pre + [Make(f"nn.Conv{n}d", x[0], x[0] * cfg["depth_multiplier"], kernel_size=k, stride=s,
                       padding=pad, dilation=d, groups=x[0], bias=bias)]


@builds("depthwise_conv1d", "depthwise_conv2d")
def _depthwise(step):
    return _depthwise_step(step, step.config["use_bias"]) + activation(step.config["activation"])


@builds("separable_conv1d", "separable_conv2d")
def _separable(step):
    cfg = step.config
    (x,) = step.input_shapes
    pointwise = Make(f"nn.Conv{_spatial_axes(step)}d", x[0] * cfg["depth_multiplier"], cfg["filters"], kernel_size=1,
                     bias=cfg["use_bias"])
    return _depthwise_step(step, False) + [pointwise] + activation(cfg["activation"])


@builds("maxpool1d", "maxpool2d", "maxpool3d", "avgpool1d", "avgpool2d", "avgpool3d")
def _pool(step):
    (x,) = step.input_shapes
    cfg, n = step.config, _spatial_axes(step)
    k = per_axis(cfg["pool_size"], n)
    s = per_axis(cfg["strides"], n) if cfg["strides"] is not None else k
    d = per_axis(cfg.get("dilation_rate", 1), n)
    pre, pad = _padding(cfg["padding"], x[1:], k, s, d, n)
    if step.kind.startswith("max"):
        pool = Make(_module(step), kernel_size=k, stride=s, padding=pad, dilation=d, ceil_mode=cfg["ceil_mode"])
    else:
        pool = Make(_module(step), kernel_size=k, stride=s, padding=pad, ceil_mode=cfg["ceil_mode"],
                    count_include_pad=cfg["count_include_pad"])
    return pre + [pool]


@builds("global_maxpool1d", "global_maxpool2d", "global_maxpool3d", "global_avgpool1d", "global_avgpool2d",
        "global_avgpool3d")
def _global_pool(step):
    kind = "Max" if step.kind.startswith("global_max") else "Avg"
    pool = Make(f"nn.Adaptive{kind}Pool{_spatial_axes(step)}d", 1)
    return [pool] if step.config["keepdims"] else [pool, Make("nn.Flatten")]


@builds("adaptive_maxpool1d", "adaptive_maxpool2d", "adaptive_maxpool3d", "adaptive_avgpool1d", "adaptive_avgpool2d",
        "adaptive_avgpool3d")
def _adaptive_pool(step):
    return [Make(_module(step), per_axis(step.config["output_size"], _spatial_axes(step)))]


@builds("lp_pool1d", "lp_pool2d", "lp_pool3d")
def _lp_pool(step):
    cfg, n = step.config, _spatial_axes(step)
    k = per_axis(cfg["pool_size"], n)
    s = k if cfg["strides"] is None else per_axis(cfg["strides"], n)
    if n == 1:            # LPPool1d multiplies by its kernel_size: a number, not a tuple
        k, s = k[0], s[0]
    return [Make(_module(step), cfg["norm_type"], k, stride=s, ceil_mode=cfg["ceil_mode"])]


@builds("fractional_max_pool2d", "fractional_max_pool3d")
def _fractional_max_pool(step):
    cfg, n = step.config, _spatial_axes(step)
    ratio = cfg["output_ratio"]
    return [Make(_module(step), per_axis(cfg["pool_size"], n),
                 output_size=None if cfg["output_size"] is None else per_axis(cfg["output_size"], n),
                 output_ratio=None if ratio is None else tuple(float(r) for r in per_axis(ratio, n)))]


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


@builds("upsampling1d", "upsampling2d", "upsampling3d")
def _upsampling(step):
    return [Make("nn.Upsample", scale_factor=tuple(float(f) for f in per_axis(step.config["size"],
                                                                              _spatial_axes(step))))]


@builds("zero_padding1d", "zero_padding2d", "zero_padding3d")
def _zero_padding(step):
    n = _spatial_axes(step)
    return [_pad_module(_pairs(step.config["padding"], n), n)]


@builds("cropping1d", "cropping2d", "cropping3d")
def _cropping(step):
    n = _spatial_axes(step)
    return [_pad_module(_pairs(step.config["cropping"], n), n, sign=-1)]


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


@builds("zero_pad1d", "zero_pad2d", "zero_pad3d", "constant_pad1d", "constant_pad2d", "constant_pad3d",
        "reflection_pad1d", "reflection_pad2d", "reflection_pad3d", "replication_pad1d", "replication_pad2d",
        "replication_pad3d", "circular_pad1d", "circular_pad2d", "circular_pad3d")
def _torch_pad(step):
    amounts = tuple(step.config["padding"])
    padding = amounts[0] if len(amounts) == 1 else amounts
    extra = (step.config["value"],) if step.kind.startswith("constant") else ()
    return [Make(_module(step), padding, *extra)]


# ---------------------------------------------------------------- recurrent

_RNNS = {"simple_rnn": "nn.RNN", "lstm": "nn.LSTM", "gru": "nn.GRU"}


def _rnn_module(kind, cfg, features, bidirectional):
    if isinstance(cfg["units"], LayerInstance):      # rnn(lstm_cell(8)): torch's LSTM of one layer
        cell = cfg["units"]
        if cell.spec.name not in _CELLS or (cell.spec.name == "gru_cell" and cell.config["reset_after"] is False):
            raise NoCounterpart(f"torch has no RNN module running a {cell.spec.name}")
        kind = cell.spec.name.removesuffix("_cell")
        cfg = {**cell.config, "num_layers": 1}
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


_FOLD_NAMES = {"dilation_rate": "dilation", "strides": "stride"}


@builds("unfold", "fold")
def _fold(step):
    cfg = {_FOLD_NAMES.get(k, k): per_axis(v, 2) for k, v in step.config.items() if k != "data_format"}
    return [Make("nn.Unfold" if step.kind == "unfold" else "nn.Fold", **cfg)]


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


# ---------------------------------------------------------------- the prelude's layers, Llama's and Mixtral's

@builds("first_token")
def _first_token(step):
    return [Make("FirstToken")]


@builds("rotary_embedding")
def _rotary_embedding(step):
    return [Make("RotaryEmbedding")]


@builds("class_token", "layer_scale")
def _learned_vector(step):
    (x,) = step.input_shapes
    return [Make("ClassToken" if step.kind == "class_token" else "LayerScale", x[-1])]


@builds("gated_mlp")
def _gated_mlp(step):
    (x,) = step.input_shapes
    cfg = step.config
    gate = (activation(cfg["activation"]) or [Make("nn.Identity")])[0]
    return [Make("GatedMLP", x[-1], cfg["hidden"], gate, bias=cfg["use_bias"])]


@builds("grouped_query_attention")
def _grouped_query_attention(step):
    cfg = step.config
    q, v = step.input_shapes[0], step.input_shapes[1]
    k = step.input_shapes[2] if len(step.input_shapes) == 3 else v
    heads = cfg["num_query_heads"]   # their width h * (d/h) is d: export writes no d // h, import reads d/h back
    return [Make("GroupedQueryAttention", q[-1], k[-1], v[-1], heads * cfg["head_dim"], heads,
                 cfg["num_key_value_heads"], bias=cfg["use_bias"])]


@builds("mixture_of_experts")
def _mixture_of_experts(step):
    (x,) = step.input_shapes
    cfg = step.config
    return [Make("MixtureOfExperts", x[-1], cfg["num_experts"], cfg["hidden"], top_k=cfg["top_k"], gated=cfg["gated"],
                 bias=cfg["use_bias"])]


def layer_call(step, moved: bool = False) -> Make:
    """The one constructor call (a Sequential for a chain) that realises a step in torch: the
    prelude's declared layers (catalog/prelude.sp) have rows here, a user's name their module."""
    build = TORCH.get(step.kind)
    if build is None and declared_in_language(step.row.spec):
        return declared_module(step, "torch", "nn.")[0]
    if build is None:
        raise NoCounterpart(f"verify has no torch mapping for '{step.kind}' yet")
    if step.row.layout_bound and not moved:
        raise NoCounterpart("it reads the file's channels-last layout, and torch's layer gives another result on "
                            "the tensors moved to channels-first (its output has no channel axis to move back)")
    if step.row.transposed and not moved:       # a channels-last file's layer reading the channel axis
        return Make("ChannelsLast", layer_call(channels_first(step), moved=True))
    chain = build(step)
    return chain[0] if len(chain) == 1 else Make("nn.Sequential", *chain)


def channels_first(step):
    """A step of a channels-last file seen as torch's layers read it: every shape's channels moved
    after the batch, an axis naming the last one naming the first."""
    def move(shape):
        return tuple(shape[-1:]) + tuple(shape[:-1])
    config = dict(step.config)
    rank = len(step.input_shapes[0]) + 1
    if config.get("axis") in (-1, rank - 1):
        config["axis"] = 1
    return replace(step, config=config,
                   input_shapes=[move(s) for s in step.input_shapes], output_shape=move(step.output_shape))
