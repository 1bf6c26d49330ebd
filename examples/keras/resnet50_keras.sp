# Functional model 'resnet50_keras' built by examples/keras/resnet50_keras.py:build, imported by `symparams import`
# (its sizes as formulas of the parameters of build): counted as Keras builds it.
convention keras

block conv_bn()(x):
    conv2d_out = conv2d(64, 1, padding=same)(x)
    return batchnorm()(conv2d_out)

block conv_bn_5()(x):
    conv2d_out = conv2d(64, 3, padding=same)(x)
    return batchnorm()(conv2d_out)

block conv_bn_6()(x):
    conv2d_out = conv2d(256, 1, padding=same)(x)
    return batchnorm()(conv2d_out)

block bottleneck_down()(x):
    conv_bn_out = conv_bn()(x)
    activation_out = activation(relu)(conv_bn_out)
    conv_bn_5_out = conv_bn_5()(activation_out)
    activation_out_1 = activation(relu)(conv_bn_5_out)
    conv_bn_6_out = conv_bn_6()(x)
    conv_bn_6_out_1 = conv_bn_6()(activation_out_1)
    add_out = add()(conv_bn_6_out, conv_bn_6_out_1)
    return activation(relu)(add_out)

block bottleneck()(x):
    conv_bn_out = conv_bn()(x)
    activation_out = activation(relu)(conv_bn_out)
    conv_bn_5_out = conv_bn_5()(activation_out)
    activation_out_1 = activation(relu)(conv_bn_5_out)
    conv_bn_6_out = conv_bn_6()(activation_out_1)
    add_out = add()(x, conv_bn_6_out)
    return activation(relu)(add_out)

block conv_bn_7()(x):
    conv2d_out = conv2d(128, 1, strides=2, padding=same)(x)
    return batchnorm()(conv2d_out)

block conv_bn_8()(x):
    conv2d_out = conv2d(128, 3, padding=same)(x)
    return batchnorm()(conv2d_out)

block conv_bn_9()(x):
    conv2d_out = conv2d(512, 1, strides=2, padding=same)(x)
    return batchnorm()(conv2d_out)

block conv_bn_10()(x):
    conv2d_out = conv2d(512, 1, padding=same)(x)
    return batchnorm()(conv2d_out)

block bottleneck_down_5()(x):
    conv_bn_7_out = conv_bn_7()(x)
    activation_out = activation(relu)(conv_bn_7_out)
    conv_bn_8_out = conv_bn_8()(activation_out)
    activation_out_1 = activation(relu)(conv_bn_8_out)
    conv_bn_9_out = conv_bn_9()(x)
    conv_bn_10_out = conv_bn_10()(activation_out_1)
    add_out = add()(conv_bn_9_out, conv_bn_10_out)
    return activation(relu)(add_out)

block conv_bn_11()(x):
    conv2d_out = conv2d(128, 1, padding=same)(x)
    return batchnorm()(conv2d_out)

block bottleneck_2()(x):
    conv_bn_11_out = conv_bn_11()(x)
    activation_out = activation(relu)(conv_bn_11_out)
    conv_bn_8_out = conv_bn_8()(activation_out)
    activation_out_1 = activation(relu)(conv_bn_8_out)
    conv_bn_10_out = conv_bn_10()(activation_out_1)
    add_out = add()(x, conv_bn_10_out)
    return activation(relu)(add_out)

block conv_bn_12()(x):
    conv2d_out = conv2d(256, 1, strides=2, padding=same)(x)
    return batchnorm()(conv2d_out)

block conv_bn_13()(x):
    conv2d_out = conv2d(256, 3, padding=same)(x)
    return batchnorm()(conv2d_out)

block conv_bn_14()(x):
    conv2d_out = conv2d(1024, 1, strides=2, padding=same)(x)
    return batchnorm()(conv2d_out)

block conv_bn_15()(x):
    conv2d_out = conv2d(1024, 1, padding=same)(x)
    return batchnorm()(conv2d_out)

block bottleneck_down_6()(x):
    conv_bn_12_out = conv_bn_12()(x)
    activation_out = activation(relu)(conv_bn_12_out)
    conv_bn_13_out = conv_bn_13()(activation_out)
    activation_out_1 = activation(relu)(conv_bn_13_out)
    conv_bn_14_out = conv_bn_14()(x)
    conv_bn_15_out = conv_bn_15()(activation_out_1)
    add_out = add()(conv_bn_14_out, conv_bn_15_out)
    return activation(relu)(add_out)

block bottleneck_3()(x):
    conv_bn_6_out = conv_bn_6()(x)
    activation_out = activation(relu)(conv_bn_6_out)
    conv_bn_13_out = conv_bn_13()(activation_out)
    activation_out_1 = activation(relu)(conv_bn_13_out)
    conv_bn_15_out = conv_bn_15()(activation_out_1)
    add_out = add()(x, conv_bn_15_out)
    return activation(relu)(add_out)

block conv_bn_16()(x):
    conv2d_out = conv2d(512, 3, padding=same)(x)
    return batchnorm()(conv2d_out)

block conv_bn_17()(x):
    conv2d_out = conv2d(2048, 1, strides=2, padding=same)(x)
    return batchnorm()(conv2d_out)

block conv_bn_18()(x):
    conv2d_out = conv2d(2048, 1, padding=same)(x)
    return batchnorm()(conv2d_out)

block bottleneck_down_7()(x):
    conv_bn_9_out = conv_bn_9()(x)
    activation_out = activation(relu)(conv_bn_9_out)
    conv_bn_16_out = conv_bn_16()(activation_out)
    activation_out_1 = activation(relu)(conv_bn_16_out)
    conv_bn_17_out = conv_bn_17()(x)
    conv_bn_18_out = conv_bn_18()(activation_out_1)
    add_out = add()(conv_bn_17_out, conv_bn_18_out)
    return activation(relu)(add_out)

block bottleneck_4()(x):
    conv_bn_10_out = conv_bn_10()(x)
    activation_out = activation(relu)(conv_bn_10_out)
    conv_bn_16_out = conv_bn_16()(activation_out)
    activation_out_1 = activation(relu)(conv_bn_16_out)
    conv_bn_18_out = conv_bn_18()(activation_out_1)
    add_out = add()(x, conv_bn_18_out)
    return activation(relu)(add_out)

model resnet50_keras(H = 224, W = 224, classes = 1000, n1 = 3, n2 = 4, n3 = 6, n4 = 3):
    input_1 = input (H, W, 3)
    zero_padding2d_out = zero_padding2d(padding=3)(input_1)
    conv2d_out = conv2d(64, 7, strides=2)(zero_padding2d_out)
    batchnorm_out = batchnorm()(conv2d_out)
    activation_out = activation(relu)(batchnorm_out)
    zero_padding2d_out_1 = zero_padding2d()(activation_out)
    maxpool2d_out = maxpool2d(pool_size=3, strides=2)(zero_padding2d_out_1)
    bottleneck_down_out = bottleneck_down()(maxpool2d_out)
    bottleneck_out = repeat(n1 - 1, bottleneck())(bottleneck_down_out)
    bottleneck_down_5_out = bottleneck_down_5()(bottleneck_out)
    bottleneck_2_out = repeat(n2 - 1, bottleneck_2())(bottleneck_down_5_out)
    bottleneck_down_6_out = bottleneck_down_6()(bottleneck_2_out)
    bottleneck_3_out = repeat(n3 - 1, bottleneck_3())(bottleneck_down_6_out)
    bottleneck_down_7_out = bottleneck_down_7()(bottleneck_3_out)
    bottleneck_4_out = repeat(n4 - 1, bottleneck_4())(bottleneck_down_7_out)
    global_avgpool2d_out = global_avgpool2d()(bottleneck_4_out)
    dense_out = dense(classes, activation=softmax)(global_avgpool2d_out)
