"""Every difference between Keras and PyTorch, in one place.

How they count: a `Convention` (KERAS, TORCH), which layer formulas ask; they never test the framework's
name themselves. How a call is spelled: the other framework's argument names (KEYWORD_ALIASES), PyTorch's
positional orders (TORCH_POSITIONAL), keywords that change nothing (IGNORED_KEYWORDS, IGNORED_SUFFIXES)
and those refused (REFUSED), which the registry reads when it binds a call.
"""
from __future__ import annotations

from dataclasses import dataclass, replace

from .errors import ArgumentError, did_you_mean


@dataclass(frozen=True)
class Convention:
    name: str
    # Keras tensors are (H, W, C); PyTorch tensors are (C, H, W).
    channels_last: bool
    # Keras keeps BatchNorm's moving mean/variance as non-trainable weights;
    # PyTorch keeps running_mean/running_var (and num_batches_tracked) as buffers.
    norm_stats_as_buffers: bool
    # PyTorch's nn.RNN/LSTM/GRU and their cells carry two bias vectors (b_ih and b_hh); Keras one
    # (Keras GRU with reset_after=True carries two as well).
    rnn_bias_vectors: int
    # Keras GRU's default since TF 2 is reset_after=True, which matches PyTorch's GRU.
    gru_reset_after: bool
    # Keras takes padding='same' with any stride (output ceil(L/s)); PyTorch only with stride 1.
    same_padding_any_stride: bool
    # Keras refuses a convolution with both strides > 1 and dilation_rate > 1; PyTorch takes it.
    strided_dilation: bool
    # A transposed convolution with padding 'valid' and no output_padding: Keras grows each axis to
    # (L-1)*s + max(k, s), so that the output covers whole strides; PyTorch's output_padding is 0: (L-1)*s + k.
    transpose_covers_stride: bool
    # Keras PReLU learns one alpha per element of an example (shared_axes=None);
    # PyTorch nn.PReLU learns one alpha in all (num_parameters=1).
    prelu_alpha_per_element: bool
    # The channel axis of an example: the last (Keras) or the first (PyTorch). BatchNorm,
    # InstanceNorm and GroupNorm normalise per channel on it, PReLU's per-channel alphas and a
    # concat without `axis` use it.
    @property
    def channel_axis(self) -> int:
        return -1 if self.channels_last else 0

    @property
    def data_format(self) -> str:
        """Keras's name for the layout: a layer's data_format= must be this one."""
        return "channels_last" if self.channels_last else "channels_first"

    def layer_type(self, spec) -> str:
        """The class name a user of this framework would see in a summary table."""
        return spec.torch_name if self.name == "torch" else spec.keras_name

    @property
    def native(self) -> bool:
        """Whether its tensors are laid out as its framework's layers read them (Keras channels last,
        PyTorch channels first). A file's layout is its own (`laid_out`): counted under the other
        framework's rules, the layers that read the channel axis run between transposes."""
        return self.channels_last == CONVENTIONS[self.name].channels_last

    @property
    def layout(self) -> str:
        return "channels-last" if self.channels_last else "channels-first"

    def laid_out(self, channels_last: bool) -> "Convention":
        """This convention's counting rules on tensors laid out channels last or first."""
        return self if channels_last == self.channels_last else replace(self, channels_last=channels_last)


KERAS = Convention("keras", channels_last=True, norm_stats_as_buffers=False, rnn_bias_vectors=1,
                   gru_reset_after=True, prelu_alpha_per_element=True,
                   same_padding_any_stride=True, transpose_covers_stride=True, strided_dilation=False)
TORCH = Convention("torch", channels_last=False, norm_stats_as_buffers=True, rnn_bias_vectors=2,
                   gru_reset_after=True, prelu_alpha_per_element=False,
                   same_padding_any_stride=False, transpose_covers_stride=False, strided_dilation=True)

CONVENTIONS = {"keras": KERAS, "torch": TORCH, "pytorch": TORCH, "tf": KERAS, "tensorflow": KERAS}


def get_convention(name: str, pos=None) -> Convention:
    try:
        return CONVENTIONS[name.lower()]
    except KeyError:
        raise ArgumentError(f"unknown convention '{name}'", pos,
                            did_you_mean(name, ["keras", "torch"]) or "choose 'keras' or 'torch'") from None


# ---------------------------------------------------------------- how a call is spelled

# A call may name a layer's arguments as either framework does; the catalog's entries name them as
# Keras does, and the registry (catalog/registry.py) reads the tables below to bind a call.

# Spellings of the same argument in the two frameworks, mapped to the catalog's (Keras) names; None for
# a constructor keyword that changes no count or shape, accepted by every entry and ignored.
KEYWORD_ALIASES = {
    "out_features": "units", "out_channels": "filters", "stride": "strides", "dilation": "dilation_rate",
    "bias": "use_bias", "num_features": "features", "normalized_shape": "features", "p": "rate",
    "num_embeddings": "input_dim", "embedding_dim": "output_dim", "hidden_size": "units",
    "cell": "units",    # Keras's RNN(cell=...): the rnn entry takes the cell as its first argument
    "kernel_size": "pool_size", "num_groups": "groups", "num_channels": "features", "dim": "axis", "nonlinearity": "activation",
    "inplace": None, "eps": None, "epsilon": None, "momentum": None,
    "dropout": None, "recurrent_dropout": None, "dtype": None, "device": None, "seed": None,
    # ... and the constructors' other keywords that change no count or shape, accepted everywhere.
    "noise_shape": None, "go_backwards": None, "stateful": None, "unroll": None, "use_cudnn": None,
    "unit_forget_bias": None, "synchronized": None, "weights": None, "add_zero_attn": None, "attention_axes": None,
    "sliding_window": None, "flash_attention": None, "return_indices": None, "init": None, "layer_norm_eps": None,
    "max_norm": None, "norm_type": None, "scale_grad_by_freq": None, "sparse": None, "lora_rank": None,
    "lora_alpha": None, "quantization_config": None, "gptq_unpacked_column_size": None, "renorm_clipping": None, "renorm_momentum": None,
    "enable_nested_tensor": None, "mask_check": None,
}
# Constructor keywords that would change a count or an output symparams cannot follow: refused
# (unless given their default) with the reason.
REFUSED = {
    "return_state": "symparams follows one output tensor per layer; the states are the last step's outputs",
    "renorm": "Keras's batch renormalisation adds moving statistics symparams does not count yet",
    "use_gate": "Keras's gated attention adds a gate projection symparams does not count yet",
    "backward_layer": "a different backward layer is not counted yet; Bidirectional copies the forward one",
    "custom_encoder": "write the encoder and decoder as layers of their own instead of a custom Transformer",
    "custom_decoder": "write the encoder and decoder as layers of their own instead of a custom Transformer",
}
# Keyword arguments that change no count or shape: initialisers, regularisers and the like.
IGNORED_SUFFIXES = ("_initializer", "_regularizer", "_constraint")
# PyTorch's batch_first=False reads (T, N, F); symparams' shapes are an example's, batch first.
BATCH_FIRST_HINT = ("symparams' shapes leave the batch out and read batch first: drop batch_first, or write "
                    "batch_first=true (the counts are the same either way)")

# PyTorch's constructor order in the catalog's argument names, for the entries whose PyTorch class takes
# its positional arguments in another order than Keras's: a call spelled as that class (`Conv2d(3, 16, 3)`,
# `Linear(784, 10)`) binds them in this order; its Lazy class (`LazyLinear(10)`) without the first.
_CONV_ORDER = ("in_channels", "filters", "kernel_size", "strides", "padding", "dilation_rate", "groups", "use_bias")
_CONV_TRANSPOSE_ORDER = ("in_channels", "filters", "kernel_size", "strides", "padding", "output_padding", "groups",
                         "use_bias", "dilation_rate")
TORCH_POSITIONAL = {
    "dense": ("in_features", "units", "use_bias"),
    "conv1d": _CONV_ORDER, "conv2d": _CONV_ORDER, "conv3d": _CONV_ORDER,
    "conv1d_transpose": _CONV_TRANSPOSE_ORDER, "conv2d_transpose": _CONV_TRANSPOSE_ORDER,
    "conv3d_transpose": _CONV_TRANSPOSE_ORDER,
    "simple_rnn_cell": ("input_size", "units", "use_bias", "activation"),
    "lstm_cell": ("input_size", "units", "use_bias"),
    "gru_cell": ("input_size", "units", "use_bias"),
    "multihead_attention": ("embed_dim", "num_heads"),
}

# Keywords of one entry's framework class that change the function, never a count or a shape (ReLU's
# max_value, GELU's approximate): accepted by that entry and ignored.
IGNORED_KEYWORDS = {
    "relu": ("max_value", "negative_slope", "threshold"),
    "gelu": ("approximate",),
    "softplus": ("beta", "threshold"),
    "hardtanh": ("min_value", "max_value"),       # torch's deprecated spellings of min_val, max_val
    "embedding_bag": ("include_last_offset",),
    "resizing": ("interpolation", "crop_to_aspect_ratio", "pad_to_aspect_ratio", "fill_mode", "fill_value",
                 "antialias"),
    "mel_spectrogram": ("window", "sampling_rate", "min_freq", "max_freq", "power_to_db", "top_db", "mag_exp",
                        "min_power", "ref_power"),
    "stft_spectrogram": ("window", "periodic", "scaling"),
}


# Keras's positional order of such keywords, after the entry's own arguments: `ReLU(6.0)` is max_value.
IGNORED_POSITIONAL = {
    "relu": ("max_value", "negative_slope", "threshold"),
}

# ---------------------------------------------------------------- the file's layout

# The layout is the file's, never the counting convention's: its `convention` line's, else an input's
# own word (`input (S, S, 1) channels_last`), else what its first image-like input says (a channel-like
# size at one end only), else the convention's. Counting a channels-last file the PyTorch way gives
# what PyTorch gives for the same network on the transposed input.
LAYOUT_WORDS = {"channels_last": True, "channels_first": False}

CHANNEL_NAMES = {"c", "ch", "channels", "in_channels", "c_in", "cin", "chans"}


def _channel_like(dim, value) -> bool:
    """A size that reads as a channel count: named like one, or as small as an image's 1, 3 or 4."""
    return str(dim).lower() in CHANNEL_NAMES or (value is not None and value <= 4)


def read_layout(shape: tuple, values: tuple) -> bool | None:
    """What an input's shape says of its layout: True channels last ((S, S, 1), (H, W, C)), False
    channels first ((3, H, W), (C, L)); None unless exactly one axis, at an end, reads as channels
    (named like them, or as small as an image's 1, 3 or 4)."""
    if len(shape) < 2:
        return None
    # By name at any rank ((C, L), (T, channels)); by a small size only on an image or a volume, whose
    # other axes are large ((S, S, 1), (3, 224, 224)): a sequence's (7, 3) says nothing.
    like = [str(d).lower() in CHANNEL_NAMES or (len(shape) >= 3 and v is not None and v <= 4)
            for d, v in zip(shape, values)]
    if like.count(True) != 1 or not (like[0] or like[-1]):
        return None       # no axis, or more than one, reads as the channels: (6, 4, 4), (64, 64, 64)
    return like[-1]


def misread_layout(convention: Convention, shape: tuple, values: tuple) -> str | None:
    """Why an input may be read in the wrong layout: under torch, (H, W, C) is channels-first, so its
    channels are H and C is an image axis (the reverse under keras). None unless the input has a
    spatial axis and its ends look swapped: the channel-like size at the other convention's end."""
    if len(shape) < 2:
        return None
    ends = [(shape[0], values[0]), (shape[-1], values[-1])]
    channels, other = (ends[1], ends[0]) if not convention.channels_last else (ends[0], ends[1])
    if not _channel_like(*channels) or _channel_like(*other):
        return None
    from .values import format_shape
    layout = "channels-first (C, H, W)" if not convention.channels_last else "channels-last (H, W, C)"
    other_layout = "channels_last" if not convention.channels_last else "channels_first"
    swapped = shape[-1:] + shape[:-1] if not convention.channels_last else shape[1:] + shape[:1]
    return (f"the file is laid out {layout}, so the input {format_shape(shape, batch=False)} has {channels[0]} "
            f"as an image axis and {other[0]} as the channels; if it is "
            f"{'channels-last' if not convention.channels_last else 'channels-first'}, write "
            f"`input {format_shape(shape, batch=False)} {other_layout}` (or the file's `convention` line), or "
            f"write the input as {format_shape(swapped, batch=False)}")
