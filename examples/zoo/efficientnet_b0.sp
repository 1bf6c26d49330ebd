# EfficientNet-B0 (Tan & Le 2019) as torchvision's efficientnet_b0 builds it: MBConv blocks (a 1x1
# expansion by t, none when t = 1; a k x k depthwise convolution; squeeze-and-excitation to a
# quarter of the block's input channels; a 1x1 linear projection), the identity added where the
# shape is kept; SiLU, BatchNorm with its running statistics as buffers. Blocks read their
# channels from their input's shape.
# symparams summary examples/zoo/efficientnet_b0.sp --expand
convention torch

block conv_bn(f, k, s, g)(x):
    x = conv2d(f, k, strides=s, padding=(k - 1) // 2, groups=g, use_bias=false)(x)
    return batchnorm2d(x)

block squeeze_excite(r)(x: (C, H, W)):
    s = adaptive_avgpool2d(1)(x)
    s = conv2d(r, 1, activation=silu)(s)
    s = conv2d(C, 1, activation=sigmoid)(s)
    return x * s

block mbconv(f, t, k, s)(x: (C, H, W)):
    y = silu(conv_bn(C * t, 1, 1, 1)(x))
    y = silu(conv_bn(C * t, k, s, C * t)(y))
    y = squeeze_excite(C // 4)(y)
    return conv_bn(f, 1, 1, 1)(y)

block mbconv_residual(t, k)(x: (C, H, W)):
    return x + mbconv(C, t, k, 1)(x)

# The first block: no expansion.
block mbconv1(f, k)(x: (C, H, W)):
    y = silu(conv_bn(C, k, 1, C)(x))
    y = squeeze_excite(C // 4)(y)
    return conv_bn(f, 1, 1, 1)(y)

model efficientnet_b0(H = 224, W = 224, classes = 1000, t = 6):
    input (3, H, W)
    conv_bn(32, 3, 2, 1)
    silu
    mbconv1(16, 3)
    mbconv(24, t, 3, 2)
    mbconv_residual(t, 3)
    mbconv(40, t, 5, 2)
    mbconv_residual(t, 5)
    mbconv(80, t, 3, 2)
    repeat(2, mbconv_residual(t, 3))
    mbconv(112, t, 5, 1)
    repeat(2, mbconv_residual(t, 5))
    mbconv(192, t, 5, 2)
    repeat(3, mbconv_residual(t, 5))
    mbconv(320, t, 3, 1)
    conv_bn(1280, 1, 1, 1)
    silu
    adaptive_avgpool2d(1)
    flatten
    dropout(0.2)
    linear(classes)
