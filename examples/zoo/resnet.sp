# ResNet-18 and ResNet-50 (He et al. 2016) as torchvision builds them: the stride of a
# bottleneck sits on its 3x3 convolution (ResNet v1.5), convolutions have no bias, and
# BatchNorm's running statistics are buffers.
# symparams summary examples/zoo/resnet.sp --model resnet50
convention torch

block conv_bn(f, k, s)(x):
    x = conv2d(f, k, strides=s, padding=(k - 1) / 2, use_bias=false)(x)
    return batchnorm2d(x)

# ResNet-18/34: two 3x3 convolutions; a projection shortcut where the shape changes.
block basic(f)(x):
    y = relu(conv_bn(f, 3, 1)(x))
    return relu(x + conv_bn(f, 3, 1)(y))

block basic_down(f, s)(x):
    y = relu(conv_bn(f, 3, s)(x))
    return relu(conv_bn(f, 1, s)(x) + conv_bn(f, 3, 1)(y))

# ResNet-50/101/152: 1x1 down to f, 3x3, 1x1 up to 4f.
block bottleneck(f)(x):
    y = relu(conv_bn(f, 1, 1)(x))
    y = relu(conv_bn(f, 3, 1)(y))
    return relu(x + conv_bn(4 * f, 1, 1)(y))

block bottleneck_down(f, s)(x):
    y = relu(conv_bn(f, 1, 1)(x))
    y = relu(conv_bn(f, 3, s)(y))
    return relu(conv_bn(4 * f, 1, s)(x) + conv_bn(4 * f, 1, 1)(y))

block stem(w)(x):
    x = relu(conv_bn(w, 7, 2)(x))
    return maxpool2d(3, strides=2, padding=1)(x)

model resnet18(H = 224, W = 224, classes = 1000, n1 = 2, n2 = 2, n3 = 2, n4 = 2):
    input (3, H, W)
    stem(64)
    repeat(n1, basic(64))
    basic_down(128, 2)
    repeat(n2 - 1, basic(128))
    basic_down(256, 2)
    repeat(n3 - 1, basic(256))
    basic_down(512, 2)
    repeat(n4 - 1, basic(512))
    adaptive_avgpool2d(1)
    flatten
    linear(classes)

model resnet50(H = 224, W = 224, classes = 1000, n1 = 3, n2 = 4, n3 = 6, n4 = 3):
    input (3, H, W)
    stem(64)
    bottleneck_down(64, 1)
    repeat(n1 - 1, bottleneck(64))
    bottleneck_down(128, 2)
    repeat(n2 - 1, bottleneck(128))
    bottleneck_down(256, 2)
    repeat(n3 - 1, bottleneck(256))
    bottleneck_down(512, 2)
    repeat(n4 - 1, bottleneck(512))
    adaptive_avgpool2d(1)
    flatten
    linear(classes)
