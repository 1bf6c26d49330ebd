# ResidualMLP from examples/torch/residual_mlp.py:ResidualMLP, imported by `symparams import`
# from the module tree: torch.fx could not trace ResidualMLP (TraceError: Proxy object cannot be iterated, in ResidualMLP.forward (residual_mlp.py:26: x = block(x, **kwargs))).
# Counted as PyTorch builds it, its constructor's size parameters as symbols; shapes and MACs measured by running forward() on the meta device.
convention torch

layer block(d, hidden)(x: (*s)) -> (16, d):
    params = 2*d*hidden + 3*d + hidden
    macs = 32*d*hidden
    saved = not_known

layer forward_ops(d)(x: (*s)) -> (d):
    saved = not_known

model residual_mlp(d = 64, hidden = 256, depth = 4, classes = 10):
    x = input (16, d)
    h = repeat(depth, block(d, hidden, name=blocks))(x)
    h = forward_ops(d)(h)
    h = dense(classes, name=head)(h)
