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


def _depthwise(x, n, name, kernel_size, strides, padding, depth_multiplier, dilation_rate, use_bias, c):
    """C channels, m kernels each: prod(k)*C*m weights (+ C*m biases)."""
    sizes, channels = split_channels(x, n, name, c)
    out, k = _windows(sizes, n, name, kernel_size, strides, padding, dilation_rate, c)
    mid = channels * depth_multiplier
    return Out(shape=join_channels(out, mid, c), params=product(k) * mid + (mid if use_bias else 0),
               macs=product(out) * mid * product(k))


def _separable(x, n, name, filters, kernel_size, strides, padding, depth_multiplier, dilation_rate, use_bias, c):
    """The depthwise step without its bias, then a 1x1 convolution of its C*m channels to `filters`."""
    depthwise = _depthwise(x, n, name, kernel_size, strides, padding, depth_multiplier, dilation_rate, False, c)
    sizes, mid = split_channels(depthwise.shape, n, name, c)
    return Out(shape=join_channels(sizes, filters, c),
               params=depthwise.params + mid * filters + (filters if use_bias else 0),
               macs=depthwise.macs + product(sizes) * mid * filters)



@layer("Conv1D", "Conv1d", "convolution1d", "LazyConv1d")
def conv1d(x, filters: Dim, kernel_size: Dims, strides: Dims = 1, padding: Padding = "valid", dilation_rate: Dims = 1,
           groups: Dim = 1, use_bias: Bool = True, activation: Activation = None, in_channels: Dim = None,
           padding_mode: PaddingMode = "zeros", *, c):
    """1-D convolution over (L, C) (Keras) or (C, L) (PyTorch): prod(k)*C/groups*filters weights + filters biases."""
    return _conv(x, 1, "conv1d", filters, kernel_size, strides, padding, dilation_rate, groups, use_bias,
                 in_channels, c)


@layer("Conv2D", "Conv2d", "convolution2d", "LazyConv2d")
def conv2d(x, filters: Dim, kernel_size: Dims, strides: Dims = 1, padding: Padding = "valid", dilation_rate: Dims = 1,
           groups: Dim = 1, use_bias: Bool = True, activation: Activation = None, in_channels: Dim = None,
           padding_mode: PaddingMode = "zeros", *, c):
    """2-D convolution over (H, W, C) (Keras) or (C, H, W) (PyTorch): prod(k)*C/groups*filters weights + filters
    biases."""
    return _conv(x, 2, "conv2d", filters, kernel_size, strides, padding, dilation_rate, groups, use_bias,
                 in_channels, c)


@layer("Conv3D", "Conv3d", "convolution3d", "LazyConv3d")
def conv3d(x, filters: Dim, kernel_size: Dims, strides: Dims = 1, padding: Padding = "valid", dilation_rate: Dims = 1,
           groups: Dim = 1, use_bias: Bool = True, activation: Activation = None, in_channels: Dim = None,
           padding_mode: PaddingMode = "zeros", *, c):
    """3-D convolution over (D, H, W, C) (Keras) or (C, D, H, W) (PyTorch): prod(k)*C/groups*filters weights +
    filters biases."""
    return _conv(x, 3, "conv3d", filters, kernel_size, strides, padding, dilation_rate, groups, use_bias,
                 in_channels, c)


# ---------------------------------------------------------------- transposed convolutions


@layer("Conv1DTranspose", "ConvTranspose1d", "Convolution1DTranspose", "deconv1d", "LazyConvTranspose1d")
def conv1d_transpose(x, filters: Dim, kernel_size: Dims, strides: Dims = 1, padding: Padding = "valid",
                     output_padding: Amounts = None, dilation_rate: Dims = 1, groups: Dim = 1, use_bias: Bool = True,
                     activation: Activation = None, in_channels: Dim = None, padding_mode: PaddingMode = "zeros", *, c):
    """1-D transposed convolution over (L, C) (Keras) or (C, L) (PyTorch): prod(k)*C*filters/groups weights +
    filters biases; each axis grows to (L - 1)*s - 2p + K + output_padding."""
    return _conv_transpose(x, 1, "conv1d_transpose", filters, kernel_size, strides, padding, output_padding,
                           dilation_rate, groups, use_bias, in_channels, c)


@layer("Conv2DTranspose", "ConvTranspose2d", "Convolution2DTranspose", "deconv2d", "LazyConvTranspose2d")
def conv2d_transpose(x, filters: Dim, kernel_size: Dims, strides: Dims = 1, padding: Padding = "valid",
                     output_padding: Amounts = None, dilation_rate: Dims = 1, groups: Dim = 1, use_bias: Bool = True,
                     activation: Activation = None, in_channels: Dim = None, padding_mode: PaddingMode = "zeros", *, c):
    """2-D transposed convolution over (H, W, C) (Keras) or (C, H, W) (PyTorch): prod(k)*C*filters/groups weights +
    filters biases; each axis grows to (L - 1)*s - 2p + K + output_padding."""
    return _conv_transpose(x, 2, "conv2d_transpose", filters, kernel_size, strides, padding, output_padding,
                           dilation_rate, groups, use_bias, in_channels, c)


@layer("Conv3DTranspose", "ConvTranspose3d", "Convolution3DTranspose", "deconv3d", "LazyConvTranspose3d")
def conv3d_transpose(x, filters: Dim, kernel_size: Dims, strides: Dims = 1, padding: Padding = "valid",
                     output_padding: Amounts = None, dilation_rate: Dims = 1, groups: Dim = 1, use_bias: Bool = True,
                     activation: Activation = None, in_channels: Dim = None, padding_mode: PaddingMode = "zeros", *, c):
    """3-D transposed convolution over (D, H, W, C) (Keras) or (C, D, H, W) (PyTorch): prod(k)*C*filters/groups
    weights + filters biases; each axis grows to (L - 1)*s - 2p + K + output_padding."""
    return _conv_transpose(x, 3, "conv3d_transpose", filters, kernel_size, strides, padding, output_padding,
                           dilation_rate, groups, use_bias, in_channels, c)


# ---------------------------------------------------------------- depthwise and separable (Keras)


@layer("DepthwiseConv1D", "DepthwiseConv1D")
def depthwise_conv1d(x, kernel_size: Dims, strides: Dims = 1, padding: Padding = "valid", depth_multiplier: Dim = 1,
                     dilation_rate: Dims = 1, use_bias: Bool = True, activation: Activation = None, *, c):
    """1-D depthwise convolution: each of the C channels gets depth_multiplier kernels of its own; prod(k)*C*m
    weights + C*m biases (PyTorch: Conv1d(C, C*m, k, groups=C))."""
    return _depthwise(x, 1, "depthwise_conv1d", kernel_size, strides, padding, depth_multiplier, dilation_rate,
                      use_bias, c)


@layer("DepthwiseConv2D", "DepthwiseConv2D")
def depthwise_conv2d(x, kernel_size: Dims, strides: Dims = 1, padding: Padding = "valid", depth_multiplier: Dim = 1,
                     dilation_rate: Dims = 1, use_bias: Bool = True, activation: Activation = None, *, c):
    """2-D depthwise convolution: each of the C channels gets depth_multiplier kernels of its own; prod(k)*C*m
    weights + C*m biases (PyTorch: Conv2d(C, C*m, k, groups=C))."""
    return _depthwise(x, 2, "depthwise_conv2d", kernel_size, strides, padding, depth_multiplier, dilation_rate,
                      use_bias, c)


@layer("SeparableConv1D", "SeparableConv1D", "SeparableConvolution1D")
def separable_conv1d(x, filters: Dim, kernel_size: Dims, strides: Dims = 1, padding: Padding = "valid",
                     depth_multiplier: Dim = 1, dilation_rate: Dims = 1, use_bias: Bool = True,
                     activation: Activation = None, *, c):
    """1-D separable convolution: a depthwise step (prod(k)*C*m weights, no bias), then a pointwise one (C*m*filters
    weights + filters biases)."""
    return _separable(x, 1, "separable_conv1d", filters, kernel_size, strides, padding, depth_multiplier,
                      dilation_rate, use_bias, c)


@layer("SeparableConv2D", "SeparableConv2D", "SeparableConvolution2D")
def separable_conv2d(x, filters: Dim, kernel_size: Dims, strides: Dims = 1, padding: Padding = "valid",
                     depth_multiplier: Dim = 1, dilation_rate: Dims = 1, use_bias: Bool = True,
                     activation: Activation = None, *, c):
    """2-D separable convolution: a depthwise step (prod(k)*C*m weights, no bias), then a pointwise one (C*m*filters
    weights + filters biases)."""
    return _separable(x, 2, "separable_conv2d", filters, kernel_size, strides, padding, depth_multiplier,
                      dilation_rate, use_bias, c)
