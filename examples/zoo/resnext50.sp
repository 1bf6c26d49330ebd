# ResNeXt-50 32x4d (Xie et al. 2017) as torchvision's resnext50_32x4d builds it: ResNet-50's
# bottlenecks with a grouped 3x3 convolution, G groups of wg channels per 64 of the stage's width
# (torchvision's width = int(f * wg / 64) * G), the stride on the 3x3 convolution (v1.5), no
# convolution biases, BatchNorm's running statistics as buffers.
# symparams summary examples/zoo/resnext50.sp --expand
convention torch

block conv_bn(f, k, s, g = 1)(x):
    x = conv2d(f, k, strides=s, padding=(k - 1) // 2, groups=g, use_bias=false)(x)
    return batchnorm2d(x)

block bottleneck(f, G, wg)(x):
    y = relu(conv_bn(f * wg // 64 * G, 1, 1)(x))
    y = relu(conv_bn(f * wg // 64 * G, 3, 1, G)(y))
    return relu(x + conv_bn(4 * f, 1, 1)(y))

block bottleneck_down(f, s, G, wg)(x):
    y = relu(conv_bn(f * wg // 64 * G, 1, 1)(x))
    y = relu(conv_bn(f * wg // 64 * G, 3, s, G)(y))
    return relu(conv_bn(4 * f, 1, s)(x) + conv_bn(4 * f, 1, 1)(y))

model resnext50_32x4d(H = 224, W = 224, classes = 1000, G = 32, wg = 4, n1 = 3, n2 = 4, n3 = 6, n4 = 3):
    input (3, H, W)
    conv_bn(64, 7, 2)
    relu
    maxpool2d(3, strides=2, padding=1)
    bottleneck_down(64, 1, G, wg)
    repeat(n1 - 1, bottleneck(64, G, wg))
    bottleneck_down(128, 2, G, wg)
    repeat(n2 - 1, bottleneck(128, G, wg))
    bottleneck_down(256, 2, G, wg)
    repeat(n3 - 1, bottleneck(256, G, wg))
    bottleneck_down(512, 2, G, wg)
    repeat(n4 - 1, bottleneck(512, G, wg))
    adaptive_avgpool2d(1)
    flatten
    linear(classes)
