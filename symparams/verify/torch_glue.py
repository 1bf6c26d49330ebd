"""Glue for what torch.nn has no module for: merging tensors, an RNN's last step, permuting axes.

None of these holds a weight: every count verify compares comes from torch.nn's own layers.
`symparams export` copies the classes it uses into the source it prints, so keep each one
self-contained (only `torch` and `nn`).
"""
import torch
from torch import nn


class Merge(nn.Module):
    """Keras's merge layers: elementwise add/subtract/multiply/average/maximum/minimum, or concatenate."""

    def __init__(self, op, dim=-1):
        super().__init__()
        self.op, self.dim = op, dim

    def forward(self, *xs):
        if self.op == "concatenate":
            return torch.cat(xs, dim=self.dim)
        if self.op == "subtract":
            return xs[0] - xs[1]
        stacked = torch.stack(xs)
        if self.op == "add":
            return stacked.sum(0)
        if self.op == "multiply":
            return stacked.prod(0)
        if self.op == "average":
            return stacked.mean(0)
        if self.op == "maximum":
            return stacked.amax(0)
        return stacked.amin(0)


class RecurrentOutput(nn.Module):
    """An nn.RNN/LSTM/GRU returning its whole sequence, or its last step as Keras does by default."""

    def __init__(self, rnn, return_sequences):
        super().__init__()
        self.rnn, self.return_sequences = rnn, return_sequences

    def forward(self, x):
        y, _ = self.rnn(x)
        return y if self.return_sequences else y[:, -1]


class Permute(nn.Module):
    """Keras's Permute: axes numbered from 1, the batch left in place."""

    def __init__(self, dims):
        super().__init__()
        self.dims = tuple(dims)

    def forward(self, x):
        return x.permute(0, *self.dims)


class Exponential(nn.Module):
    def forward(self, x):
        return torch.exp(x)


GLUE = {cls.__name__: cls for cls in (Merge, RecurrentOutput, Permute, Exponential)}
