"""A small residual CNN as a Keras user writes it, for `symparams import` (docs/import.md)."""
import keras
from keras import layers


def residual(x, width):
    y = layers.Conv2D(width, 3, padding="same", use_bias=False)(x)
    y = layers.BatchNormalization()(y)
    y = layers.ReLU()(y)
    y = layers.Conv2D(width, 3, padding="same", use_bias=False)(y)
    y = layers.BatchNormalization()(y)
    return layers.ReLU()(layers.Add()([x, y]))


def make_model(size=32, width=32, depth=3, classes=10):
    inputs = keras.Input((size, size, 3))
    x = layers.Conv2D(width, 3, padding="same", activation="relu")(inputs)
    for _ in range(depth):
        x = residual(x, width)
    x = layers.MaxPooling2D()(x)
    x = layers.Conv2D(2 * width, 3, strides=2, activation="relu")(x)
    x = layers.GlobalAveragePooling2D()(x)
    return keras.Model(inputs, layers.Dense(classes, activation="softmax")(x), name="residual_cnn")
