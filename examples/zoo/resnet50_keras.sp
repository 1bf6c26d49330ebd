# ResNet50 as keras.applications.ResNet50(weights=None) builds it: ResNet v1 (the stride on
# a block's first 1x1 convolution), convolutions with biases, BatchNorm's moving statistics
# as non-trainable weights.
# symparams summary examples/zoo/resnet50_keras.sp --expand
block conv_bn(f, k, s)(x):
    x = conv2d(f, k, strides=s, padding=same)(x)
    return batchnorm(x)

block bottleneck(f)(x):
    y = relu(conv_bn(f, 1, 1)(x))
    y = relu(conv_bn(f, 3, 1)(y))
    return relu(x + conv_bn(4 * f, 1, 1)(y))

block bottleneck_down(f, s)(x):
    y = relu(conv_bn(f, 1, s)(x))
    y = relu(conv_bn(f, 3, 1)(y))
    return relu(conv_bn(4 * f, 1, s)(x) + conv_bn(4 * f, 1, 1)(y))

model resnet50_keras(H = 224, W = 224, classes = 1000, n1 = 3, n2 = 4, n3 = 6, n4 = 3):
    input (H, W, 3)
    zero_padding2d(3)
    conv2d(64, 7, strides=2)
    batchnorm
    relu
    zero_padding2d(1)
    maxpool2d(3, strides=2)
    bottleneck_down(64, 1)
    repeat(n1 - 1, bottleneck(64))
    bottleneck_down(128, 2)
    repeat(n2 - 1, bottleneck(128))
    bottleneck_down(256, 2)
    repeat(n3 - 1, bottleneck(256))
    bottleneck_down(512, 2)
    repeat(n4 - 1, bottleneck(512))
    global_avgpool2d
    dense(classes, activation=softmax)
