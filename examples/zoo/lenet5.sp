# LeNet-5 as LeCun, Bottou, Bengio and Haffner describe it (Proc. IEEE, 1998): its
# trainable parameters C1..F6 sum to 60,000. Its sub-sampling layers, C3's partial
# connection table and the RBF output are not standard layers: they are declared here.
convention torch

# S2, S4: each map sums 2x2 windows, times a trainable coefficient, plus a trainable bias.
layer subsampling(k)(x: (c, h, w)) -> (c, h / k, w / k):
    where h % k == 0, w % k == 0
    params = 2 * c

# C3: a k x k convolution in which each output map sees only some input maps; `links`
# counts the (input map, output map) pairs of the paper's Table I (60 for C3).
layer partial_conv(filters, k, links)(x: (c, h, w)) -> (filters, h - k + 1, w - k + 1):
    params = links * k * k + filters
    macs = links * k * k * (h - k + 1) * (w - k + 1)

# Output: one Euclidean RBF unit per class, its parameter vector fixed by hand (not trained).
layer rbf(units)(x: (n)) -> (units):
    params = units * n
    non_trainable = units * n

model lenet5(S = 32, classes = 10):
    input (1, S, S)
    conv2d(6, 5, activation=tanh, name=c1)
    subsampling(2, name=s2)
    partial_conv(16, 5, 60, name=c3)
    subsampling(2, name=s4)
    conv2d(120, 5, activation=tanh, name=c5)
    flatten
    linear(84, activation=tanh, name=f6)
    rbf(classes, name=output)
