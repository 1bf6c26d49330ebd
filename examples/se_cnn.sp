# Squeeze-and-excitation (Hu et al. 2018): the block reads its input's channels from its pattern.

block se(r = 4)(x: (H, W, C)):
    s = global_avgpool2d(x)
    s = dense(C // r, activation=relu)(s)
    s = dense(C, activation=sigmoid)(s)
    return x * s

model se_cnn(S = 32, C = 64, r = 8):
    input (S, S, C)
    conv2d(C, 3, padding=same)
    se(r)
    conv2d(2 * C, 3, strides=2, padding=same)
    se(r)
