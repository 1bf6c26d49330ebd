"""A residual MLP whose forward passes options on with **kwargs: torch.fx cannot trace it, so
`symparams import` reads its module tree (docs/import.md)."""
import torch.nn.functional as F
from torch import nn


class Block(nn.Module):
    def __init__(self, d, hidden):
        super().__init__()
        self.norm = nn.LayerNorm(d)
        self.up = nn.Linear(d, hidden)
        self.down = nn.Linear(hidden, d)

    def forward(self, x, **kwargs):
        return x + self.down(F.gelu(self.up(self.norm(x))))


class ResidualMLP(nn.Module):
    def __init__(self, d=64, hidden=256, depth=4, classes=10):
        super().__init__()
        self.blocks = nn.ModuleList([Block(d, hidden) for _ in range(depth)])
        self.head = nn.Linear(d, classes)

    def forward(self, x, **kwargs):
        for block in self.blocks:
            x = block(x, **kwargs)
        return self.head(x.mean(dim=1))
