# MobileNet (v1; Howard et al. 2017) as keras.applications.MobileNet(weights=None) builds it at
# alpha = 1: depthwise-separable blocks (3x3 depthwise, BatchNorm, ReLU6, 1x1 pointwise, BatchNorm,
# ReLU6); a strided block pads one row and column at the bottom right, then slides 'valid'.
# The classifier is a 1x1 convolution on the pooled features.
# symparams summary examples/zoo/mobilenet_keras.sp --expand
block separable(f)(x):
    x = relu6(batchnorm(depthwise_conv2d(3, padding=same, use_bias=false)(x)))
    return relu6(batchnorm(conv2d(f, 1, use_bias=false)(x)))

block separable_down(f)(x):
    x = zero_padding2d(((0, 1), (0, 1)))(x)
    x = relu6(batchnorm(depthwise_conv2d(3, strides=2, use_bias=false)(x)))
    return relu6(batchnorm(conv2d(f, 1, use_bias=false)(x)))

model mobilenet_keras(H = 224, W = 224, classes = 1000, n = 5):
    input (H, W, 3)
    conv2d(32, 3, strides=2, padding=same, use_bias=false)
    batchnorm
    relu6
    separable(64)
    separable_down(128)
    separable(128)
    separable_down(256)
    separable(256)
    separable_down(512)
    repeat(n, separable(512))
    separable_down(1024)
    separable(1024)
    global_avgpool2d(keepdims=true)
    dropout(0.001)
    conv2d(classes, 1, padding=same)
    reshape((classes,))
    activation(softmax)
