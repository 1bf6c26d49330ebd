"""Every difference between the Keras and PyTorch ways of counting, in one place.

Layer formulas ask a Convention; they never test the framework's name themselves.
"""
from __future__ import annotations

from dataclasses import dataclass

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


CHANNEL_NAMES = {"c", "ch", "channels", "in_channels", "c_in", "cin", "chans"}


def _channel_like(dim, value) -> bool:
    """A size that reads as a channel count: named like one, or as small as an image's 1, 3 or 4."""
    return str(dim).lower() in CHANNEL_NAMES or (value is not None and value <= 4)


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
    alternative = "keras" if not convention.channels_last else "torch"
    swapped = shape[-1:] + shape[:-1] if not convention.channels_last else shape[1:] + shape[:1]
    return (f"the {convention.name} convention reads the input {format_shape(shape, batch=False)} as {layout}, "
            f"so {channels[0]} is an image axis and {other[0]} the channels; if it is "
            f"{'channels-last' if not convention.channels_last else 'channels-first'}, use --convention "
            f"{alternative} (or `convention {alternative}` in the file), or write the input as "
            f"{format_shape(swapped, batch=False)}")
