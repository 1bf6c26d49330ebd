"""Formula sheet: convolutions.

A kernel of k_1 x ... x k_n taps over C_in channels split into g groups, with F filters:

    convolution:            params = prod(k) * C_in/g * F + F (bias)
                            MACs   = prod(out) * F * prod(k) * C_in/g
    transposed convolution: params = prod(k) * C_in * F/g + F
                            MACs   = prod(in) * prod(k) * C_in * F/g  (every input position scatters a kernel)
    depthwise (Keras):      one k-kernel per input channel and multiplier m:
                            params = prod(k) * C_in * m + C_in * m,   MACs = prod(out) * C_in * m * prod(k)
                            PyTorch builds it as Conv(C_in, C_in*m, k, groups=C_in): the same counts.
    separable (Keras):      depthwise without bias, then a 1x1 convolution to F filters:
                            params = prod(k) * C_in * m + C_in * m * F + F
                            PyTorch builds it as Conv(C_in, C_in*m, k, groups=C_in, bias=False)
                            followed by Conv(C_in*m, F, 1): the same counts.

Output sizes per axis are in shapes.py (window_out, transpose_out). `padding` is Keras' 'valid' /
'same' / 'causal' (Conv1D only) or PyTorch's zeros per side (a number, or one per axis).
"""
import sympy as sp

from ..dims import product
from ..errors import ArgumentError
from .registry import Activation, Amounts, Bool, Choice, Dim, Dims, Out, Padding, layer, spatial
from .shapes import (check_divides, check_same_padding, check_size, check_strided_dilation, join_channels,
                     split_channels, transpose_out, window_out)

PaddingMode = Choice("zeros", "reflect", "replicate", "circular")   # PyTorch's; changes no count or shape


def _per_axis(n, kernel_size, strides, dilation_rate, padding) -> tuple:
    """The kernel, strides, dilation and padding (each given once or per axis), one value per spatial axis."""
    return (spatial(kernel_size, n, "kernel size"), spatial(strides, n, "strides"),
            spatial(dilation_rate, n, "dilation"), spatial(padding, n, "padding"))


def _windows(sizes, n, name, kernel_size, strides, padding, dilation_rate, c):
    """Output sizes of a sliding kernel over each spatial axis, and the kernel's taps per axis."""
    k, s, d, pads = _per_axis(n, kernel_size, strides, dilation_rate, padding)
    if "causal" in pads and n != 1:
        raise ArgumentError(f"{name}: padding='causal' is for 1-D convolutions only")
    check_same_padding(pads, s, name, c)
    return tuple(window_out(L, ki, si, pi, di) for L, ki, si, pi, di in zip(sizes, k, s, pads, d)), k


def _conv(x, n, name, filters, kernel_size, strides, padding, dilation_rate, groups, use_bias, in_channels, c):
    sizes, channels = split_channels(x, n, name, c)
    conditions = check_size(in_channels, channels, f"{name}'s in_channels") + \
        check_divides(groups, channels, name, "input channels") + check_divides(groups, filters, name, "filters")
    check_strided_dilation(spatial(strides, n, "strides"), spatial(dilation_rate, n, "dilation"), name, c)
    out, k = _windows(sizes, n, name, kernel_size, strides, padding, dilation_rate, c)
    weights_per_filter = product(k) * channels / groups
    return Out(shape=join_channels(out, filters, c),
               params=weights_per_filter * filters + (filters if use_bias else 0),
               macs=product(out) * filters * weights_per_filter, conditions=conditions)


def _conv_transpose(x, n, name, filters, kernel_size, strides, padding, output_padding, dilation_rate, groups,
                    use_bias, in_channels, c):
    sizes, channels = split_channels(x, n, name, c)
    conditions = check_size(in_channels, channels, f"{name}'s in_channels") + \
        check_divides(groups, channels, name, "input channels") + check_divides(groups, filters, name, "filters")
    k, s, d, pads = _per_axis(n, kernel_size, strides, dilation_rate, padding)
    if "causal" in pads:
        raise ArgumentError(f"{name}: padding must be 'valid', 'same' or zeros per side, not 'causal'")
    check_strided_dilation(s, d, name, c)
    q = (None,) * n if output_padding is None else spatial(output_padding, n, "output padding")
    for qi, si, di in zip(q, s, d):
        if qi is not None and (qi - sp.Max(si, di)).is_nonnegative:
            raise ArgumentError(f"{name}: output_padding ({qi}) must be smaller than the stride or the dilation")
    out = tuple(transpose_out(L, ki, si, pi, qi, di, c.transpose_covers_stride)
                for L, ki, si, pi, qi, di in zip(sizes, k, s, pads, q, d))
    weights_per_input_channel = product(k) * filters / groups
    return Out(shape=join_channels(out, filters, c),
               params=weights_per_input_channel * channels + (filters if use_bias else 0),
               macs=product(sizes) * channels * weights_per_input_channel, conditions=conditions)


def _depthwise(x, n, name, kernel_size, strides, padding, depth_multiplier, dilation_rate, c):
    """(spatial output sizes, channels out of the depthwise step, its weights, its MACs) - no bias."""
    sizes, channels = split_channels(x, n, name, c)
    out, k = _windows(sizes, n, name, kernel_size, strides, padding, dilation_rate, c)
    mid = channels * depth_multiplier
    return out, mid, product(k) * mid, product(out) * mid * product(k)


def _register(n):
    layout = {1: "(L, C) (Keras) or (C, L) (PyTorch)", 2: "(H, W, C) (Keras) or (C, H, W) (PyTorch)",
              3: "(D, H, W, C) (Keras) or (C, D, H, W) (PyTorch)"}[n]

    def conv(x, filters: Dim, kernel_size: Dims, strides: Dims = 1, padding: Padding = "valid",
             dilation_rate: Dims = 1, groups: Dim = 1, use_bias: Bool = True, activation: Activation = None,
             in_channels: Dim = None, padding_mode: PaddingMode = "zeros", *, c):
        return _conv(x, n, f"conv{n}d", filters, kernel_size, strides, padding, dilation_rate, groups, use_bias,
                     in_channels, c)
    conv.__doc__ = f"{n}-D convolution over {layout}: prod(k)*C/groups*filters weights + filters biases."
    layer(f"Conv{n}D", f"Conv{n}d", f"convolution{n}d", f"LazyConv{n}d", name=f"conv{n}d",
          torch_positional=("in_channels", "filters", "kernel_size", "strides", "padding", "dilation_rate",
                            "groups", "use_bias"))(conv)

    def conv_transpose(x, filters: Dim, kernel_size: Dims, strides: Dims = 1, padding: Padding = "valid",
                       output_padding: Amounts = None, dilation_rate: Dims = 1, groups: Dim = 1,
                       use_bias: Bool = True, activation: Activation = None, in_channels: Dim = None,
                       padding_mode: PaddingMode = "zeros", *, c):
        return _conv_transpose(x, n, f"conv{n}d_transpose", filters, kernel_size, strides, padding, output_padding,
                               dilation_rate, groups, use_bias, in_channels, c)
    conv_transpose.__doc__ = (f"{n}-D transposed convolution over {layout}: prod(k)*C*filters/groups weights + "
                              f"filters biases; each axis grows to (L - 1)*s - 2p + K + output_padding.")
    layer(f"Conv{n}DTranspose", f"ConvTranspose{n}d", f"Convolution{n}DTranspose", f"deconv{n}d",
          f"LazyConvTranspose{n}d",
          name=f"conv{n}d_transpose",
          torch_positional=("in_channels", "filters", "kernel_size", "strides", "padding", "output_padding",
                            "groups", "use_bias", "dilation_rate"))(conv_transpose)


for _n in (1, 2, 3):
    _register(_n)


def _register_depthwise(n):
    def depthwise(x, kernel_size: Dims, strides: Dims = 1, padding: Padding = "valid", depth_multiplier: Dim = 1,
                  dilation_rate: Dims = 1, use_bias: Bool = True, activation: Activation = None, *, c):
        out, mid, weights, macs = _depthwise(x, n, f"depthwise_conv{n}d", kernel_size, strides, padding,
                                             depth_multiplier, dilation_rate, c)
        return Out(shape=join_channels(out, mid, c), params=weights + (mid if use_bias else 0), macs=macs)
    depthwise.__doc__ = (f"{n}-D depthwise convolution: each of the C channels gets depth_multiplier kernels of "
                         f"its own; prod(k)*C*m weights + C*m biases (PyTorch: Conv{n}d(C, C*m, k, groups=C)).")
    layer(f"DepthwiseConv{n}D", f"DepthwiseConv{n}D", name=f"depthwise_conv{n}d")(depthwise)

    def separable(x, filters: Dim, kernel_size: Dims, strides: Dims = 1, padding: Padding = "valid",
                  depth_multiplier: Dim = 1, dilation_rate: Dims = 1, use_bias: Bool = True,
                  activation: Activation = None, *, c):
        out, mid, weights, macs = _depthwise(x, n, f"separable_conv{n}d", kernel_size, strides, padding,
                                             depth_multiplier, dilation_rate, c)
        return Out(shape=join_channels(out, filters, c),
                   params=weights + mid * filters + (filters if use_bias else 0),
                   macs=macs + product(out) * mid * filters)
    separable.__doc__ = (f"{n}-D separable convolution: a depthwise step (prod(k)*C*m weights, no bias), then a "
                         f"pointwise one (C*m*filters weights + filters biases).")
    layer(f"SeparableConv{n}D", f"SeparableConv{n}D", f"SeparableConvolution{n}D",
          name=f"separable_conv{n}d")(separable)


for _n in (1, 2):
    _register_depthwise(_n)
