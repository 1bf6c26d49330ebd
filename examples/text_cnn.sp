# A functional graph: named tensors, each layer applied to the one it names.
model text_cnn(T = 35, V = 13649, E = 300, classes = 3):
    tokens = input (T) int
    e = embedding(V, E)(tokens)
    c = conv1d(32, 5, padding=same, activation=relu)(e)
    m = maxpool1d(10, strides=1)(c)
    f = flatten(m)
    d = dropout(0.5)(f)
    out = dense(classes, activation=softmax)(d)
