# MobileNetV2 (Sandler et al. 2018) as torchvision's mobilenet_v2 counts it: inverted
# residual blocks (1x1 expand by t, 3x3 depthwise, 1x1 linear projection), ReLU6.
# symparams summary examples/zoo/mobilenet_v2.sp --expand
convention torch

block conv_bn(f, k, s, g)(x):
    x = conv2d(f, k, strides=s, padding=(k - 1) / 2, groups=g, use_bias=false)(x)
    return batchnorm2d(x)

# Expand cin to cin*t channels, filter each channel alone, project to cout.
block inverted(cin, cout, t, s)(x):
    x = relu6(conv_bn(cin * t, 1, 1, 1)(x))
    x = relu6(conv_bn(cin * t, 3, s, cin * t)(x))
    return conv_bn(cout, 1, 1, 1)(x)

block inverted_residual(c, t)(x):
    return x + inverted(c, c, t, 1)(x)

# The first block has no expansion (t = 1): depthwise, then projection.
block first(cin, cout)(x):
    x = relu6(conv_bn(cin, 3, 1, cin)(x))
    return conv_bn(cout, 1, 1, 1)(x)

model mobilenet_v2(H = 224, W = 224, classes = 1000, t = 6):
    input (3, H, W)
    conv_bn(32, 3, 2, 1)
    relu6
    first(32, 16)
    inverted(16, 24, t, 2)
    inverted_residual(24, t)
    inverted(24, 32, t, 2)
    repeat(2, inverted_residual(32, t))
    inverted(32, 64, t, 2)
    repeat(3, inverted_residual(64, t))
    inverted(64, 96, t, 1)
    repeat(2, inverted_residual(96, t))
    inverted(96, 160, t, 2)
    repeat(2, inverted_residual(160, t))
    inverted(160, 320, t, 1)
    conv_bn(1280, 1, 1, 1)
    relu6
    adaptive_avgpool2d(1)
    flatten
    dropout(0.2)
    linear(classes)
