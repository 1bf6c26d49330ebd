# Squeeze-and-excitation in PyTorch's layout: channels first, the excitation as (C, 1, 1) so that
# it broadcasts over H and W; the block reads its channels from its input's pattern.
convention torch

block se_torch(r = 4)(x: (C, H, W)):
    s = global_avgpool2d(x, keepdims=true)
    s = conv2d(C // r, 1, activation=relu)(s)
    s = conv2d(C, 1, activation=sigmoid)(s)
    return x * s

model se_cnn_torch(S = 32, C = 64, r = 8):
    input (C, S, S)
    conv2d(C, 3, padding=1)
    se_torch(r)
