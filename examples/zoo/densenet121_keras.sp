# DenseNet-121 (Huang et al. 2017) as keras.applications.DenseNet121(weights=None) builds it:
# each layer of a dense block concatenates k = 32 new channels (BN-ReLU-1x1 conv to 4k, BN-ReLU-3x3
# conv to k) onto its input; a transition halves the channels it reads from its input's shape,
# and the resolution. The dense blocks change the shape, so their repeats are unrolled.
# symparams summary examples/zoo/densenet121_keras.sp --expand
block dense_layer(k)(x):
    y = relu(batchnorm(x))
    y = conv2d(4 * k, 1, use_bias=false)(y)
    y = relu(batchnorm(y))
    y = conv2d(k, 3, padding=same, use_bias=false)(y)
    return concat(x, y)

block transition()(x: (H, W, C)):
    x = relu(batchnorm(x))
    x = conv2d(C // 2, 1, use_bias=false)(x)
    return avgpool2d(2, strides=2)(x)

model densenet121_keras(H = 224, W = 224, classes = 1000):
    input (H, W, 3)
    zero_padding2d(3)
    conv2d(64, 7, strides=2, use_bias=false)
    batchnorm
    relu
    zero_padding2d(1)
    maxpool2d(3, strides=2)
    repeat(6, dense_layer(32))
    transition
    repeat(12, dense_layer(32))
    transition
    repeat(24, dense_layer(32))
    transition
    repeat(16, dense_layer(32))
    batchnorm
    relu
    global_avgpool2d
    dense(classes, activation=softmax)
