"""Each catalog layer as Keras 3's own layers, under the keras convention (channels last).

KERAS maps a catalog name (row.spec.name) to a function of the step returning the chain of
layer constructor calls (`Make`) applied in turn. Adding a layer is one entry: a row of CALLS
when one Keras layer takes the entry's own arguments (make.Call), a row of MISSING when Keras
has no layer for it (verify reports it as not checkable, never as passing), else a `@builds`
function for the arithmetic the translation needs. The classes of the n-D families are the
entries' own Keras names (`step.row.spec.keras_name`).
"""
from __future__ import annotations

from dataclasses import replace

from .geometry import per_axis
from ..catalog.preprocessing import AUGMENTATION_NAMES
from ..catalog import activations
from ..values import LayerInstance
from .make import Call, Make, Missing, NoCounterpart, Partial, declared_in_language, declared_module, plain

# One layer of the entry's own arguments: the class, the arguments it takes in order, and its
# keywords, each naming the entry's argument it takes.
CALLS = {
    "identity": Call("layers.Identity"), "softmax": Call("layers.Softmax", axis="axis"),
    "leaky_relu": Call("layers.LeakyReLU", negative_slope="negative_slope"), "elu": Call("layers.ELU", alpha="alpha"),
    "gaussian_noise": Call("layers.GaussianNoise", "stddev"),
    "activity_regularization": Call("layers.ActivityRegularization", l1="l1", l2="l2"),
    "reshape": Call("layers.Reshape", "target_shape"),
    "dropout": Call("layers.Dropout", "rate"), "spatial_dropout1d": Call("layers.SpatialDropout1D", "rate"),
    "spatial_dropout2d": Call("layers.SpatialDropout2D", "rate"),
    "spatial_dropout3d": Call("layers.SpatialDropout3D", "rate"), "alpha_dropout": Call("layers.AlphaDropout", "rate"),
    "gaussian_dropout": Call("layers.GaussianDropout", "rate"),
    "embedding": Call("layers.Embedding", "input_dim", "output_dim", mask_zero="mask_zero"),
    "reversible_embedding": Call("layers.ReversibleEmbedding", "input_dim", "output_dim", tie_weights="tie_weights",
                                 mask_zero="mask_zero"),
    "repeat_vector": Call("layers.RepeatVector", "n"), "masking": Call("layers.Masking", mask_value="mask_value"),
    "add": Call("layers.Add"), "subtract": Call("layers.Subtract"), "multiply": Call("layers.Multiply"),
    "average": Call("layers.Average"), "maximum": Call("layers.Maximum"), "minimum": Call("layers.Minimum"),
    "grouped_query_attention": Call("layers.GroupQueryAttention", "head_dim", "num_query_heads",
                                    "num_key_value_heads", use_bias="use_bias"),
    "attention": Call("layers.Attention", use_scale="use_scale", score_mode="score_mode"),
    "additive_attention": Call("layers.AdditiveAttention", use_scale="use_scale"),
}

_NO_LAYER = "Keras has no layer for {kind}"
MISSING = {
    "unflatten": Missing("Keras has no Unflatten (a Reshape names the whole target shape)"),
    **dict.fromkeys(("simple_rnn_cell", "lstm_cell", "gru_cell", "stacked_rnn_cells"), Missing(
        "Keras runs a cell inside layers.RNN, on a sequence; the tests build cells alone")),
    **dict.fromkeys(("position_embedding", "gated_mlp", "mixture_of_experts", "transformer_encoder_layer",
                     "transformer_decoder_layer"), Missing("Keras has no core layer for {kind} (keras_hub's differ)")),
    **dict.fromkeys(("threshold", "rrelu", "softmin", "softmax2d", "feature_alpha_dropout", "bilinear",
                     "cosine_similarity", "pairwise_distance", "pixel_shuffle", "pixel_unshuffle", "channel_shuffle",
                     "unfold", "fold", "lp_pool1d", "lp_pool2d", "lp_pool3d", "max_unpool1d", "max_unpool2d",
                     "max_unpool3d", "fractional_max_pool2d", "fractional_max_pool3d", "local_response_norm",
                     "cross_map_lrn2d", "embedding_bag", "transformer_encoder", "transformer_decoder", "transformer"),
                    Missing(_NO_LAYER)),
}

KERAS: dict = {**CALLS, **MISSING}


def builds(*names):
    def register(fn):
        for name in names:
            assert name not in KERAS, f"{name} is a row of CALLS or MISSING already"
            KERAS[name] = fn
        return fn
    return register


def _layer(step) -> str:
    """The entry's own Keras class: layers.Conv2D for conv2d, layers.GlobalMaxPooling3D for global_maxpool3d."""
    return f"layers.{step.row.spec.keras_name}"


def _spatial_axes(step) -> int:
    """The n of an n-D layer: the spatial axes of its (..., C) input."""
    return len(step.input_shapes[0]) - 1


def activation(name):
    """What Keras's activation= takes for an activation function (catalog/activations.py): its
    keras.activations name, the function with its keywords fixed, or None for no activation."""
    f = activations.function(name)
    if not f.applies:
        return None
    if f.keras is None:
        raise NoCounterpart(f"Keras has no activation {f.name}")
    return Partial(f"keras.activations.{f.keras}", **dict(f.keras_options)) if f.keras_options else f.keras


# ---------------------------------------------------------------- activations

@builds(*activations.layers())
def _activation_layer(step):
    """A catalog layer computing an activation function alone, taking no arguments (relu, gelu, ...)."""
    return [Make("layers.Activation", activation(step.kind))]


@builds("activation")
def _activation(step):
    return [Make("layers.Activation", activation(step.config["activation"]) or "linear")]


@builds("log_softmax")
def _log_softmax(step):
    if step.config["axis"] != -1:
        raise NoCounterpart("Keras's log_softmax activation works on the last axis only")
    return [Make("layers.Activation", "log_softmax")]


@builds("glu")
def _glu(step):
    if step.config["axis"] != -1:
        raise NoCounterpart("Keras's glu activation splits the last axis only")
    return [Make("layers.Activation", "glu")]


# Keras has these as activations: a layer only at their default arguments.
_KERAS_ACTIVATIONS = {"log_sigmoid": ("log_sigmoid", {}), "tanhshrink": ("tanh_shrink", {}),
                      "celu": ("celu", {"alpha": 1.0}), "hardshrink": ("hard_shrink", {"lambd": 0.5}),
                      "softshrink": ("soft_shrink", {"lambd": 0.5}),
                      "hardtanh": ("hard_tanh", {"min_val": -1.0, "max_val": 1.0})}


@builds(*_KERAS_ACTIVATIONS)
def _activation_function(step):
    name, defaults = _KERAS_ACTIVATIONS[step.kind]
    if any(step.config[k] != v for k, v in defaults.items()):
        raise NoCounterpart(f"Keras's {name} activation takes no arguments in a layer")
    return [Make("layers.Activation", name)]


@builds("unit_normalization")
def _unit_normalization(step):
    return [Make("layers.UnitNormalization", axis=list(step.config["axis"]))]


@builds("prelu")
def _prelu(step):
    (x,) = step.input_shapes
    cfg = step.config
    every_axis = tuple(range(1, len(x) + 1))
    if cfg["num_parameters"] == 1:
        return [Make("layers.PReLU", shared_axes=every_axis)]
    if cfg["num_parameters"] is not None:      # one alpha per channel: the last axis under Keras
        return [Make("layers.PReLU", shared_axes=every_axis[:-1] or None)]
    return [Make("layers.PReLU", shared_axes=cfg["shared_axes"])]


# ---------------------------------------------------------------- dense, reshaping, wrappers

@builds("dense")
def _dense(step):
    cfg = step.config
    return [Make("layers.Dense", cfg["units"], use_bias=cfg["use_bias"], activation=activation(cfg["activation"]))]


@builds("flatten")
def _flatten(step):
    (x,) = step.input_shapes
    if step.config["start_dim"] != 1 or step.config["end_dim"] not in (-1, len(x)):
        raise NoCounterpart("Keras's Flatten flattens every axis but the batch")
    return [Make("layers.Flatten")]


@builds("permute")
def _permute(step):
    (x,) = step.input_shapes
    dims = tuple(step.config["dims"])
    return [Make("layers.Permute", dims[1:] if len(dims) == len(x) + 1 else dims)]


@builds("time_distributed")
def _time_distributed(step):
    (x,) = step.input_shapes
    inner = step.config["layer"]
    chain = layer_chain(replace(step, row=replace(step.row, spec=inner.spec), config=inner.config,
                                input_shapes=[x[1:]]))
    if len(chain) != 1:
        raise NoCounterpart(f"Keras's TimeDistributed wraps one layer; {inner.spec.name} needs {len(chain)}")
    return [Make("layers.TimeDistributed", chain[0])]


# ---------------------------------------------------------------- merges

@builds("concatenate")
def _concatenate(step):
    axis = step.config["axis"]
    return [Make("layers.Concatenate", axis=-1 if axis is None else axis)]


# ---------------------------------------------------------------- normalisation

def _center_scale(cfg) -> dict:
    return {"center": cfg["center"] and cfg["affine"] and cfg.get("use_bias", True),
            "scale": cfg["scale"] and cfg["affine"]}


@builds("batchnorm", "batchnorm1d", "batchnorm2d", "batchnorm3d")
def _batchnorm(step):
    cfg = step.config
    if not cfg["track_running_stats"]:
        raise NoCounterpart("Keras's BatchNormalization always keeps moving statistics")
    axis = -1 if cfg["axis"] is None else cfg["axis"]
    return [Make("layers.BatchNormalization", axis=axis, **_center_scale(cfg))]


@builds("instancenorm1d", "instancenorm2d", "instancenorm3d", "lazy_instancenorm1d", "lazy_instancenorm2d",
        "lazy_instancenorm3d")
def _instancenorm(step):
    """Keras's instance normalisation is GroupNormalization with a group per channel."""
    (x,) = step.input_shapes
    cfg = step.config
    if cfg["track_running_stats"]:
        raise NoCounterpart("Keras's GroupNormalization keeps no running statistics")
    axis = -1 if cfg["axis"] is None else cfg["axis"]
    return [Make("layers.GroupNormalization", x[axis if axis < 0 else axis - 1], axis=axis, **_center_scale(cfg))]


def _norm_axes(cfg):
    """Keras's `axis`: as given, or the trailing axes a PyTorch normalized_shape names, or the last."""
    if cfg["features"] is not None:
        return list(range(-len(cfg["features"]), 0))
    return list(cfg["axis"]) if cfg["axis"] is not None else -1


@builds("layernorm")
def _layernorm(step):
    cfg = step.config
    if cfg["rms_scaling"]:
        return [Make("layers.LayerNormalization", axis=_norm_axes(cfg), rms_scaling=True)]
    return [Make("layers.LayerNormalization", axis=_norm_axes(cfg),
                 center=cfg["center"] and cfg["use_bias"] and cfg["elementwise_affine"],
                 scale=cfg["scale"] and cfg["elementwise_affine"])]


@builds("rmsnorm")
def _rmsnorm(step):
    if not step.config["elementwise_affine"]:
        raise NoCounterpart("Keras's RMSNormalization always learns its scale")
    return [Make("layers.RMSNormalization", axis=_norm_axes(step.config))]


@builds("groupnorm")
def _groupnorm(step):
    cfg = step.config
    return [Make("layers.GroupNormalization", cfg["groups"], axis=-1 if cfg["axis"] is None else cfg["axis"],
                 **_center_scale(cfg))]


# ---------------------------------------------------------------- convolution and pooling

def _padding(padding, n):
    """Keras's own `padding=` mode, with a ZeroPadding layer first for an explicit amount."""
    if isinstance(padding, str):
        return [], padding
    pads = per_axis(padding, n)
    if not any(pads):
        return [], "valid"
    return [Make(f"layers.ZeroPadding{n}D", pads[0] if n == 1 else pads)], "valid"


def _windows(cfg, n):
    return tuple(per_axis(cfg[key], n) for key in ("kernel_size", "strides", "dilation_rate"))


@builds("conv1d", "conv2d", "conv3d")
def _conv(step):
    cfg, n = step.config, _spatial_axes(step)
    k, s, d = _windows(cfg, n)
    pre, mode = _padding(cfg["padding"], n)
    return pre + [Make(_layer(step), cfg["filters"], k, strides=s, padding=mode, dilation_rate=d,
                       groups=cfg["groups"], use_bias=cfg["use_bias"], activation=activation(cfg["activation"]))]


@builds("conv1d_transpose", "conv2d_transpose", "conv3d_transpose")
def _conv_transpose(step):
    cfg, n = step.config, _spatial_axes(step)
    if cfg["groups"] != 1:
        raise NoCounterpart(f"Keras's Conv{n}DTranspose has no groups")
    k, s, d = _windows(cfg, n)
    q = None if cfg["output_padding"] is None else per_axis(cfg["output_padding"], n)
    post = []
    padding = cfg["padding"]
    if not isinstance(padding, str):       # PyTorch's zeros per side: a valid transpose, cropped
        crop = per_axis(padding, n)
        q = q or (0,) * n
        post = [Make(f"layers.Cropping{n}D", crop[0] if n == 1 else crop)] if any(crop) else []
        padding = "valid"
    conv = Make(_layer(step), cfg["filters"], k, strides=s, padding=padding, output_padding=q,
                dilation_rate=d, use_bias=cfg["use_bias"], activation=activation(cfg["activation"]))
    return [conv] + post


@builds("depthwise_conv1d", "depthwise_conv2d")
def _depthwise(step):
    cfg, n = step.config, _spatial_axes(step)
    k, s, d = _windows(cfg, n)
    pre, mode = _padding(cfg["padding"], n)
    return pre + [Make(_layer(step), k, strides=s, padding=mode, depth_multiplier=cfg["depth_multiplier"],
                       dilation_rate=d, use_bias=cfg["use_bias"], activation=activation(cfg["activation"]))]


@builds("separable_conv1d", "separable_conv2d")
def _separable(step):
    cfg, n = step.config, _spatial_axes(step)
    k, s, d = _windows(cfg, n)
    pre, mode = _padding(cfg["padding"], n)
    return pre + [Make(_layer(step), cfg["filters"], k, strides=s, padding=mode,
                       depth_multiplier=cfg["depth_multiplier"], dilation_rate=d, use_bias=cfg["use_bias"],
                       activation=activation(cfg["activation"]))]


@builds("maxpool1d", "maxpool2d", "maxpool3d", "avgpool1d", "avgpool2d", "avgpool3d")
def _pool(step):
    cfg, n = step.config, _spatial_axes(step)
    if cfg["ceil_mode"]:
        raise NoCounterpart("Keras pooling has no ceil_mode")
    if any(d != 1 for d in per_axis(cfg.get("dilation_rate", 1), n)):
        raise NoCounterpart("Keras pooling has no dilation")
    k = per_axis(cfg["pool_size"], n)
    s = per_axis(cfg["strides"], n) if cfg["strides"] is not None else k
    pre, mode = _padding(cfg["padding"], n)
    return pre + [Make(_layer(step), k, strides=s, padding=mode)]


@builds("global_maxpool1d", "global_maxpool2d", "global_maxpool3d", "global_avgpool1d", "global_avgpool2d",
        "global_avgpool3d")
def _global_pool(step):
    return [Make(_layer(step), keepdims=step.config["keepdims"])]


@builds("adaptive_maxpool1d", "adaptive_maxpool2d", "adaptive_maxpool3d", "adaptive_avgpool1d", "adaptive_avgpool2d",
        "adaptive_avgpool3d")
def _adaptive_pool(step):
    return [Make(_layer(step), per_axis(step.config["output_size"], _spatial_axes(step)))]


# ---------------------------------------------------------------- resizing

def _pairs(amounts):
    """Keras's padding/cropping argument as given: a number, one per axis, or pairs."""
    amounts = amounts if isinstance(amounts, tuple) else (amounts,)
    return amounts[0] if len(amounts) == 1 else amounts


@builds("zero_padding1d", "zero_padding2d", "zero_padding3d")
def _zero_padding(step):
    return [Make(_layer(step), _pairs(step.config["padding"]))]


@builds("cropping1d", "cropping2d", "cropping3d")
def _cropping(step):
    return [Make(_layer(step), _pairs(step.config["cropping"]))]


@builds("reflection_pad1d", "reflection_pad2d", "reflection_pad3d", "replication_pad1d", "replication_pad2d",
        "replication_pad3d", "circular_pad1d", "circular_pad2d", "circular_pad3d")
def _torch_only_pad(step):
    raise NoCounterpart(f"Keras has no {step.row.spec.torch_name[:-2]} layer")


@builds("zero_pad1d", "zero_pad2d", "zero_pad3d", "constant_pad1d", "constant_pad2d", "constant_pad3d")
def _torch_pad(step):
    n = _spatial_axes(step)
    amounts = tuple(step.config["padding"])
    pairs = [(amounts[0], amounts[0])] * n if len(amounts) == 1 else \
        [(amounts[2 * i], amounts[2 * i + 1]) for i in range(n)][::-1]   # PyTorch lists the last axis first
    if step.kind.startswith("constant") and step.config["value"] != 0:
        raise NoCounterpart("Keras pads with zeros only")
    # PyTorch crops with negative amounts: Keras pads the positive ones, then crops the others
    pads = [tuple(max(a, 0) for a in pair) for pair in pairs]
    crops = [tuple(max(-a, 0) for a in pair) for pair in pairs]
    chain = [Make(f"layers.{cls}{n}D", amounts[0] if n == 1 else tuple(amounts))
             for cls, amounts in (("ZeroPadding", pads), ("Cropping", crops)) if any(map(any, amounts))]
    return chain or [Make(f"layers.ZeroPadding{n}D", pads[0] if n == 1 else tuple(pads))]


@builds("upsampling1d", "upsampling2d", "upsampling3d")
def _upsampling(step):
    n = _spatial_axes(step)
    extra = {"interpolation": step.config["interpolation"]} if n == 2 else {}
    size = per_axis(step.config["size"], n)
    return [Make(_layer(step), size[0] if n == 1 else size, **extra)]


@builds("upsample")
def _upsample(step):
    (x,) = step.input_shapes
    n = len(x) - 1
    cfg = step.config
    if cfg["size"] is not None:
        if n != 2:
            raise NoCounterpart("Keras resizes to a given size in 2-D only (Resizing)")
        height, width = per_axis(cfg["size"], 2)
        return [Make("layers.Resizing", height, width)]
    factors = per_axis(cfg["scale_factor"], n)
    if not all(getattr(f, "is_integer", False) or isinstance(f, int) for f in factors) or n > 3:
        raise NoCounterpart("Keras upsamples by whole factors only")
    size = tuple(int(f) for f in factors)
    return [Make(f"layers.UpSampling{n}D", size[0] if n == 1 else size)]


# ---------------------------------------------------------------- recurrent

_RNNS = {"simple_rnn": "layers.SimpleRNN", "lstm": "layers.LSTM", "gru": "layers.GRU"}


_CELLS = {"simple_rnn_cell": "layers.SimpleRNNCell", "lstm_cell": "layers.LSTMCell", "gru_cell": "layers.GRUCell"}


def _cell(cell) -> Make:
    """A cell the rnn entry runs over time (Keras's RNN(cell)): a cell layer, or StackedRNNCells of them."""
    if cell.spec.name == "stacked_rnn_cells":
        return Make("layers.StackedRNNCells", [_cell(c) for c in cell.config["cells"]])
    cfg = cell.config
    options = {"activation": activation(cfg["activation"]), "use_bias": cfg["use_bias"]}
    if cell.spec.name != "simple_rnn_cell":
        options["recurrent_activation"] = activation(cfg["recurrent_activation"])
    if cell.spec.name == "gru_cell" and cfg["reset_after"] is not None:
        options["reset_after"] = cfg["reset_after"]
    return Make(_CELLS[cell.spec.name], cfg["units"], **options)


def _rnn_layers(kind, cfg, bidirectional, merge_mode="concat") -> list:
    """num_layers stacked RNN layers (each wrapped in Bidirectional if asked), the last returning what the
    row asks for (Keras's default: the last step)."""
    if isinstance(cfg["units"], LayerInstance):     # rnn(lstm_cell(8)): Keras's RNN(cell)
        rnn = Make("layers.RNN", _cell(cfg["units"]), return_sequences=bool(cfg["return_sequences"]))
        return [Make("layers.Bidirectional", rnn, merge_mode=merge_mode) if bidirectional else rnn]
    if cfg.get("proj_size"):
        raise NoCounterpart("Keras's LSTM has no proj_size")
    options = {"activation": activation(cfg["activation"]), "use_bias": cfg["use_bias"]}
    if kind != "simple_rnn":
        options["recurrent_activation"] = activation(cfg["recurrent_activation"])
    if kind == "gru" and cfg["reset_after"] is not None:
        options["reset_after"] = cfg["reset_after"]
    out = []
    for i in range(cfg["num_layers"]):
        sequences = True if i < cfg["num_layers"] - 1 else bool(cfg["return_sequences"])
        rnn = Make(_RNNS[kind], cfg["units"], return_sequences=sequences, **options)
        out.append(Make("layers.Bidirectional", rnn, merge_mode=merge_mode) if bidirectional else rnn)
    return out


@builds(*_RNNS)
def _recurrent(step):
    return _rnn_layers(step.kind, step.config, step.config["bidirectional"])


@builds("bidirectional")
def _bidirectional(step):
    inner = step.config["layer"]
    return _rnn_layers(inner.spec.name, inner.config, True, step.config["merge_mode"])


# ---------------------------------------------------------------- attention and transformers

@builds("multihead_attention")
def _multihead_attention(step):
    cfg = step.config
    if cfg["add_bias_kv"]:
        raise NoCounterpart("Keras's MultiHeadAttention has no add_bias_kv")
    key_dim = cfg["key_dim"] or cfg["embed_dim"] // cfg["num_heads"]
    value_dim = cfg["value_dim"] or key_dim
    out = cfg["output_shape"] or cfg["embed_dim"]
    return [Make("layers.MultiHeadAttention", cfg["num_heads"], key_dim, value_dim=value_dim,
                 use_bias=cfg["use_bias"], output_shape=out)]


@builds("patch_embedding")
def _patch_embedding(step):
    cfg = step.config
    p, width = cfg["patch_size"], cfg["embed_dim"]
    return [Make("layers.Conv2D", width, p, strides=p, use_bias=cfg["use_bias"]), Make("layers.Reshape", (-1, width))]


# ---------------------------------------------------------------- layers added for keras.layers' remaining classes

@builds("dot")
def _dot(step):
    axes = tuple(step.config["axes"])
    return [Make("layers.Dot", axes[0] if len(axes) == 1 else axes, normalize=step.config["normalize"])]


@builds("normalization")
def _normalization(step):
    cfg = step.config
    axis = tuple(cfg["axis"])
    return [Make("layers.Normalization", axis=axis[0] if len(axis) == 1 else axis or None, mean=plain(cfg["mean"]),
                 variance=plain(cfg["variance"]), invert=cfg["invert"])]


@builds("conv_lstm1d", "conv_lstm2d", "conv_lstm3d")
def _conv_lstm(step):
    cfg, n = step.config, len(step.input_shapes[0]) - 2      # (T, ..., C)
    k, s, d = _windows(cfg, n)
    return [Make(_layer(step), cfg["filters"], k, strides=s, padding=cfg["padding"], dilation_rate=d,
                 activation=activation(cfg["activation"]),
                 recurrent_activation=activation(cfg["recurrent_activation"]),
                 use_bias=cfg["use_bias"], return_sequences=cfg["return_sequences"])]


@builds("spectral_normalization")
def _spectral_normalization(step):
    (x,) = step.input_shapes
    inner = step.config["layer"]
    chain = layer_chain(replace(step, row=replace(step.row, spec=inner.spec), config=inner.config, input_shapes=[x]))
    if len(chain) != 1:
        raise NoCounterpart(f"Keras's SpectralNormalization wraps one layer; {inner.spec.name} needs {len(chain)}")
    return [Make("layers.SpectralNormalization", chain[0], power_iterations=step.config["power_iterations"])]


@builds("einsum_dense")
def _einsum_dense(step):
    cfg = step.config
    inputs, kernel, output, elided = cfg["equation"]
    left, right = ("...", "") if elided == "left" else ("", "...") if elided == "right" else ("", "")
    equation = f"{left}{inputs}{right},{kernel}->{left}{output}{right}"
    shape = tuple(cfg["output_shape"])
    return [Make("layers.EinsumDense", equation, shape[0] if len(shape) == 1 else shape,
                 activation=activation(cfg["activation"]), bias_axes=plain(cfg["bias_axes"]))]


@builds("rescaling", "resizing", "center_crop", "random_crop", "category_encoding", "discretization",
        "mel_spectrogram", "stft_spectrogram", *AUGMENTATION_NAMES)
def _preprocessing(step):
    """Preprocessing layers take the entry's arguments under Keras's own names."""
    options = {k: plain(v) for k, v in step.config.items() if v is not None and k != "data_format"}
    return [Make(f"layers.{step.row.spec.keras_name}", **options)]


def channels_last(step):
    """A step of a channels-first file seen as Keras's layers read it: every shape's channels moved
    to the end, an axis naming the first one naming the last."""
    def move(shape):
        return tuple(shape[1:]) + tuple(shape[:1])
    config = dict(step.config)
    if config.get("axis") == 1:
        config["axis"] = -1
    return replace(step, config=config, input_shapes=[move(s) for s in step.input_shapes],
                   output_shape=move(step.output_shape))


# Layers Keras calls on a list of tensors; the others take each tensor as an argument.
LIST_INPUTS = {"add", "subtract", "multiply", "average", "maximum", "minimum", "concatenate", "dot", "attention",
               "additive_attention"}


def layer_chain(step, moved: bool = False) -> list:
    """The Keras layers, applied in turn, that realise a step."""
    if step.row.transposed and not moved:       # a channels-first file's layer reading the channel axis
        if len(step.input_shapes) != 1:
            raise NoCounterpart("Keras reads this channels-first file's merge only through one Permute per "
                                "input, which verify does not build")
        n, m = len(step.input_shapes[0]), len(step.output_shape)
        last = Make("layers.Permute", tuple(range(2, n + 1)) + (1,))
        first = [Make("layers.Permute", (m,) + tuple(range(1, m)))] if m >= 2 else []   # a pool's (C,) stays
        return [last, *layer_chain(channels_last(step), moved=True), *first]
    if step.row.layout_bound and not moved:
        raise NoCounterpart("it reads the file's channels-first layout, and Keras's layer gives another result "
                            "on the tensors moved to channels-last (its output has no channel axis to move back)")
    if declared_in_language(step.row.spec):
        return declared_module(step, "keras", "layers.")
    build = KERAS.get(step.kind)
    if build is None:
        raise NoCounterpart(f"verify has no Keras mapping for '{step.kind}' yet")
    return build(step)
