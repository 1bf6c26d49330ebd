# EfficientNet-B0 (Tan & Le 2019) as keras.applications.EfficientNetB0(weights=None) builds it:
# rescaling and a Normalization (mean, variance and count: 7 non-trainable weights), then MBConv
# blocks: a 1x1 expansion by t (none when t = 1), a k x k depthwise convolution, squeeze-and-
# excitation to a quarter of the block's input channels, a 1x1 linear projection; the identity is
# added where the shape is kept. Blocks read their channels from their input's shape.
# Keras pads a strided convolution by imagenet_utils.correct_pad (one row and column less at the
# top left where H and W are even) and slides it 'valid': that is TensorFlow's 'same' padding,
# written so here to keep the sizes ceil(H/2), ceil(H/4), ... (the same shapes, no weights).
# symparams summary examples/zoo/efficientnet_b0_keras.sp --expand
block squeeze_excite(r)(x: (H, W, C)):
    s = global_avgpool2d(keepdims=true)(x)
    s = conv2d(r, 1, activation=swish)(s)
    s = conv2d(C, 1, activation=sigmoid)(s)
    return x * s

block expand(t)(x: (H, W, C)):
    return swish(batchnorm(conv2d(C * t, 1, use_bias=false)(x)))

block depthwise(k)(x):
    return swish(batchnorm(depthwise_conv2d(k, padding=same, use_bias=false)(x)))

block depthwise_down(k)(x):
    return swish(batchnorm(depthwise_conv2d(k, strides=2, padding=same, use_bias=false)(x)))

block project(f)(x):
    return batchnorm(conv2d(f, 1, use_bias=false)(x))

# The first block: no expansion, stride 1, 32 -> 16 channels.
block mbconv1(f, k)(x: (H, W, C)):
    x = depthwise(k)(x)
    x = squeeze_excite(C // 4)(x)
    return project(f)(x)

block mbconv_down(f, t, k)(x: (H, W, C)):
    x = expand(t)(x)
    x = depthwise_down(k)(x)
    x = squeeze_excite(C // 4)(x)
    return project(f)(x)

block mbconv(f, t, k)(x: (H, W, C)):
    y = expand(t)(x)
    y = depthwise(k)(y)
    y = squeeze_excite(C // 4)(y)
    return project(f)(y)

block mbconv_residual(t, k)(x: (H, W, C)):
    return x + mbconv(C, t, k)(x)

model efficientnet_b0_keras(H = 224, W = 224, classes = 1000, t = 6):
    input (H, W, 3)
    rescaling(1 / 255)
    normalization
    conv2d(32, 3, strides=2, padding=same, use_bias=false)
    batchnorm
    swish
    mbconv1(16, 3)
    mbconv_down(24, t, 3)
    mbconv_residual(t, 3)
    mbconv_down(40, t, 5)
    mbconv_residual(t, 5)
    mbconv_down(80, t, 3)
    repeat(2, mbconv_residual(t, 3))
    mbconv(112, t, 5)
    repeat(2, mbconv_residual(t, 5))
    mbconv_down(192, t, 5)
    repeat(3, mbconv_residual(t, 5))
    mbconv(320, t, 3)
    conv2d(1280, 1, use_bias=false)
    batchnorm
    swish
    global_avgpool2d
    dropout(0.2)
    dense(classes, activation=softmax)
