import keras
from keras import layers

# resnet50_keras, its sizes in its symbols: build()'s parameters (written by `symparams export`)


def conv_bn(x):
    conv2d_1 = layers.Conv2D(64, (1, 1), padding='same')(x)
    batchnorm_1 = layers.BatchNormalization()(conv2d_1)
    return batchnorm_1


def conv_bn_5(x):
    conv2d_1 = layers.Conv2D(64, (3, 3), padding='same')(x)
    batchnorm_1 = layers.BatchNormalization()(conv2d_1)
    return batchnorm_1


def conv_bn_6(x):
    conv2d_1 = layers.Conv2D(256, (1, 1), padding='same')(x)
    batchnorm_1 = layers.BatchNormalization()(conv2d_1)
    return batchnorm_1


def bottleneck_down(x):
    conv_bn_1 = conv_bn(x)
    relu_1 = layers.Activation('relu')(conv_bn_1)
    conv_bn_2 = conv_bn_5(relu_1)
    relu_2 = layers.Activation('relu')(conv_bn_2)
    conv_bn_3 = conv_bn_6(x)
    conv_bn_4 = conv_bn_6(relu_2)
    add_1 = layers.Add()([conv_bn_3, conv_bn_4])
    relu_3 = layers.Activation('relu')(add_1)
    return relu_3


def bottleneck(x):
    conv_bn_1 = conv_bn(x)
    relu_1 = layers.Activation('relu')(conv_bn_1)
    conv_bn_2 = conv_bn_5(relu_1)
    relu_2 = layers.Activation('relu')(conv_bn_2)
    conv_bn_3 = conv_bn_6(relu_2)
    add_1 = layers.Add()([x, conv_bn_3])
    relu_3 = layers.Activation('relu')(add_1)
    return relu_3


def conv_bn_7(x):
    conv2d_1 = layers.Conv2D(128, (1, 1), strides=(2, 2), padding='same')(x)
    batchnorm_1 = layers.BatchNormalization()(conv2d_1)
    return batchnorm_1


def conv_bn_8(x):
    conv2d_1 = layers.Conv2D(128, (3, 3), padding='same')(x)
    batchnorm_1 = layers.BatchNormalization()(conv2d_1)
    return batchnorm_1


def conv_bn_9(x):
    conv2d_1 = layers.Conv2D(512, (1, 1), strides=(2, 2), padding='same')(x)
    batchnorm_1 = layers.BatchNormalization()(conv2d_1)
    return batchnorm_1


def conv_bn_10(x):
    conv2d_1 = layers.Conv2D(512, (1, 1), padding='same')(x)
    batchnorm_1 = layers.BatchNormalization()(conv2d_1)
    return batchnorm_1


def bottleneck_down_5(x):
    conv_bn_1 = conv_bn_7(x)
    relu_1 = layers.Activation('relu')(conv_bn_1)
    conv_bn_2 = conv_bn_8(relu_1)
    relu_2 = layers.Activation('relu')(conv_bn_2)
    conv_bn_3 = conv_bn_9(x)
    conv_bn_4 = conv_bn_10(relu_2)
    add_1 = layers.Add()([conv_bn_3, conv_bn_4])
    relu_3 = layers.Activation('relu')(add_1)
    return relu_3


def conv_bn_11(x):
    conv2d_1 = layers.Conv2D(128, (1, 1), padding='same')(x)
    batchnorm_1 = layers.BatchNormalization()(conv2d_1)
    return batchnorm_1


def bottleneck_2(x):
    conv_bn_1 = conv_bn_11(x)
    relu_1 = layers.Activation('relu')(conv_bn_1)
    conv_bn_2 = conv_bn_8(relu_1)
    relu_2 = layers.Activation('relu')(conv_bn_2)
    conv_bn_3 = conv_bn_10(relu_2)
    add_1 = layers.Add()([x, conv_bn_3])
    relu_3 = layers.Activation('relu')(add_1)
    return relu_3


def conv_bn_12(x):
    conv2d_1 = layers.Conv2D(256, (1, 1), strides=(2, 2), padding='same')(x)
    batchnorm_1 = layers.BatchNormalization()(conv2d_1)
    return batchnorm_1


def conv_bn_13(x):
    conv2d_1 = layers.Conv2D(256, (3, 3), padding='same')(x)
    batchnorm_1 = layers.BatchNormalization()(conv2d_1)
    return batchnorm_1


def conv_bn_14(x):
    conv2d_1 = layers.Conv2D(1024, (1, 1), strides=(2, 2), padding='same')(x)
    batchnorm_1 = layers.BatchNormalization()(conv2d_1)
    return batchnorm_1


def conv_bn_15(x):
    conv2d_1 = layers.Conv2D(1024, (1, 1), padding='same')(x)
    batchnorm_1 = layers.BatchNormalization()(conv2d_1)
    return batchnorm_1


def bottleneck_down_6(x):
    conv_bn_1 = conv_bn_12(x)
    relu_1 = layers.Activation('relu')(conv_bn_1)
    conv_bn_2 = conv_bn_13(relu_1)
    relu_2 = layers.Activation('relu')(conv_bn_2)
    conv_bn_3 = conv_bn_14(x)
    conv_bn_4 = conv_bn_15(relu_2)
    add_1 = layers.Add()([conv_bn_3, conv_bn_4])
    relu_3 = layers.Activation('relu')(add_1)
    return relu_3


def bottleneck_3(x):
    conv_bn_1 = conv_bn_6(x)
    relu_1 = layers.Activation('relu')(conv_bn_1)
    conv_bn_2 = conv_bn_13(relu_1)
    relu_2 = layers.Activation('relu')(conv_bn_2)
    conv_bn_3 = conv_bn_15(relu_2)
    add_1 = layers.Add()([x, conv_bn_3])
    relu_3 = layers.Activation('relu')(add_1)
    return relu_3


def conv_bn_16(x):
    conv2d_1 = layers.Conv2D(512, (3, 3), padding='same')(x)
    batchnorm_1 = layers.BatchNormalization()(conv2d_1)
    return batchnorm_1


def conv_bn_17(x):
    conv2d_1 = layers.Conv2D(2048, (1, 1), strides=(2, 2), padding='same')(x)
    batchnorm_1 = layers.BatchNormalization()(conv2d_1)
    return batchnorm_1


def conv_bn_18(x):
    conv2d_1 = layers.Conv2D(2048, (1, 1), padding='same')(x)
    batchnorm_1 = layers.BatchNormalization()(conv2d_1)
    return batchnorm_1


def bottleneck_down_7(x):
    conv_bn_1 = conv_bn_9(x)
    relu_1 = layers.Activation('relu')(conv_bn_1)
    conv_bn_2 = conv_bn_16(relu_1)
    relu_2 = layers.Activation('relu')(conv_bn_2)
    conv_bn_3 = conv_bn_17(x)
    conv_bn_4 = conv_bn_18(relu_2)
    add_1 = layers.Add()([conv_bn_3, conv_bn_4])
    relu_3 = layers.Activation('relu')(add_1)
    return relu_3


def bottleneck_4(x):
    conv_bn_1 = conv_bn_10(x)
    relu_1 = layers.Activation('relu')(conv_bn_1)
    conv_bn_2 = conv_bn_16(relu_1)
    relu_2 = layers.Activation('relu')(conv_bn_2)
    conv_bn_3 = conv_bn_18(relu_2)
    add_1 = layers.Add()([x, conv_bn_3])
    relu_3 = layers.Activation('relu')(add_1)
    return relu_3


def build(H=224, W=224, classes=1000, n1=3, n2=4, n3=6, n4=3):
    input_1 = keras.Input(shape=(H, W, 3), dtype='float32', name='input_1')
    zero_padding2d_1 = layers.ZeroPadding2D(3)(input_1)
    conv2d_1 = layers.Conv2D(64, (7, 7), strides=(2, 2))(zero_padding2d_1)
    batchnorm_1 = layers.BatchNormalization()(conv2d_1)
    relu_1 = layers.Activation('relu')(batchnorm_1)
    zero_padding2d_2 = layers.ZeroPadding2D(1)(relu_1)
    maxpool2d_1 = layers.MaxPooling2D((3, 3), strides=(2, 2))(zero_padding2d_2)
    bottleneck_down_1 = bottleneck_down(maxpool2d_1)
    repeat_1 = bottleneck_down_1
    for _ in range(n1 - 1):
        repeat_1 = bottleneck(repeat_1)
    bottleneck_down_2 = bottleneck_down_5(repeat_1)
    repeat_2 = bottleneck_down_2
    for _ in range(n2 - 1):
        repeat_2 = bottleneck_2(repeat_2)
    bottleneck_down_3 = bottleneck_down_6(repeat_2)
    repeat_3 = bottleneck_down_3
    for _ in range(n3 - 1):
        repeat_3 = bottleneck_3(repeat_3)
    bottleneck_down_4 = bottleneck_down_7(repeat_3)
    repeat_4 = bottleneck_down_4
    for _ in range(n4 - 1):
        repeat_4 = bottleneck_4(repeat_4)
    global_avgpool2d_1 = layers.GlobalAveragePooling2D()(repeat_4)
    dense_1 = layers.Dense(classes, activation='softmax')(global_avgpool2d_1)
    return keras.Model(input_1, dense_1, name='resnet50_keras')


model = build()
