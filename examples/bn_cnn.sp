model bn_cnn(S = 64, classes = 10):
    input (S, S, 1)
    conv2d(32, 3, padding=same, activation=relu)
    batchnorm
    flatten
    dense(100, activation=relu)
    dense(classes, activation=softmax)
