# The first seed question: why does this Dense layer have 7,850 parameters?
model mnist_dense(H = 28, W = 28, classes = 10):
    input (1, H, W)
    flatten
    dense(classes)
    activation(softmax)
