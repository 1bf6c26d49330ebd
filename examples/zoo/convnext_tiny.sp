# ConvNeXt-Tiny (Liu et al. 2022) as torchvision's convnext_tiny builds it: a 4x4 patchify stem,
# stages of blocks (7x7 depthwise convolution, LayerNorm over channels, a 4x MLP with GELU, a
# learned per-channel layer scale, the identity added), LayerNorm then a 2x2 strided convolution
# between stages. torchvision's LayerNorm2d permutes to channels last, normalises, permutes back.
# symparams summary examples/zoo/convnext_tiny.sp --expand
convention torch

block norm2d()(x):
    x = permute((2, 3, 1))(x)
    x = layernorm(x)
    return permute((3, 1, 2))(x)

block cn_block()(x: (C, H, W)):
    y = conv2d(C, 7, padding=3, groups=C)(x)
    y = permute((2, 3, 1))(y)
    y = layernorm(y)
    y = linear(4 * C, activation=gelu)(y)
    y = linear(C)(y)
    y = layer_scale(y)
    return x + permute((3, 1, 2))(y)

block downsample(f)(x):
    x = norm2d(x)
    return conv2d(f, 2, strides=2)(x)

model convnext_tiny(H = 224, W = 224, classes = 1000, d = 96, n1 = 3, n2 = 3, n3 = 9, n4 = 3):
    input (3, H, W)
    conv2d(d, 4, strides=4)
    norm2d
    repeat(n1, cn_block)
    downsample(2 * d)
    repeat(n2, cn_block)
    downsample(4 * d)
    repeat(n3, cn_block)
    downsample(8 * d)
    repeat(n4, cn_block)
    adaptive_avgpool2d(1)
    norm2d
    flatten
    linear(classes)
