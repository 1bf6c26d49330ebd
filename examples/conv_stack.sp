model conv_stack(H = 224, W = 224, C = 3, classes = 10):
    input (H, W, C)
    conv2d(32, 3, activation=relu)
    conv2d(64, 3, activation=relu)
    conv2d(128, 3, activation=relu)
    dense(classes, activation=softmax)
