"""Formula sheet: convolutions.

A kernel of k_1 x ... x k_n over C_in channels (split into `groups`) has
prod(k) * C_in / groups * filters weights and `filters` biases; each output position costs
prod(k) * C_in / groups multiply-accumulates per filter.
"""
from ..dims import product
from .registry import Activation, Bool, Dim, Dims, Out, Padding, layer, spatial
from .shapes import join_channels, padding_per_axis, split_channels, window_out


def _conv(x, n, name, filters, kernel_size, strides, padding, dilation_rate, groups, use_bias, c):
    sizes, channels = split_channels(x, n, name, c)
    k = spatial(kernel_size, n, "kernel size")
    s = spatial(strides, n, "strides")
    d = spatial(dilation_rate, n, "dilation")
    pads = padding_per_axis(padding, n)
    out_sizes = tuple(window_out(L, ki, si, pi, di) for L, ki, si, pi, di in zip(sizes, k, s, pads, d))
    weights_per_filter = product(k) * channels / groups
    return Out(shape=join_channels(out_sizes, filters, c),
               params=weights_per_filter * filters + (filters if use_bias else 0),
               macs=product(out_sizes) * filters * weights_per_filter)


@layer("Conv1D", "Conv1d", "convolution1d")
def conv1d(x, filters: Dim, kernel_size: Dims, strides: Dims = 1, padding: Padding = "valid",
           dilation_rate: Dims = 1, groups: Dim = 1, use_bias: Bool = True, activation: Activation = None, *, c):
    """1-D convolution over (L, C) (Keras) or (C, L) (PyTorch)."""
    return _conv(x, 1, "conv1d", filters, kernel_size, strides, padding, dilation_rate, groups, use_bias, c)


@layer("Conv2D", "Conv2d", "convolution2d")
def conv2d(x, filters: Dim, kernel_size: Dims, strides: Dims = 1, padding: Padding = "valid",
           dilation_rate: Dims = 1, groups: Dim = 1, use_bias: Bool = True, activation: Activation = None, *, c):
    """2-D convolution over (H, W, C) (Keras) or (C, H, W) (PyTorch)."""
    return _conv(x, 2, "conv2d", filters, kernel_size, strides, padding, dilation_rate, groups, use_bias, c)


@layer("Conv3D", "Conv3d", "convolution3d")
def conv3d(x, filters: Dim, kernel_size: Dims, strides: Dims = 1, padding: Padding = "valid",
           dilation_rate: Dims = 1, groups: Dim = 1, use_bias: Bool = True, activation: Activation = None, *, c):
    """3-D convolution over (D, H, W, C) (Keras) or (C, D, H, W) (PyTorch)."""
    return _conv(x, 3, "conv3d", filters, kernel_size, strides, padding, dilation_rate, groups, use_bias, c)
