# The same network as the PyTorch user wrote it
convention torch
model bn_cnn_torch(S = 64, classes = 10):
    input (1, S, S)
    conv2d(32, 3, padding=1)
    relu
    batchnorm
    flatten
    linear(100)
    linear(classes)
