"""A projection onto every pair of k features: a (1, dim, k * (k + 1) // 2) nn.Parameter the
constructor makes by its own arithmetic (no linear formula of k), read with @ in forward."""
import torch
from torch import nn


class Pairs(nn.Module):
    def __init__(self, dim=8, k=4, classes=3):
        super().__init__()
        self.norm = nn.LayerNorm(dim)
        self.pairs = nn.Parameter(torch.zeros(1, dim, k * (k + 1) // 2))
        self.head = nn.Linear(k * (k + 1) // 2, classes)

    def forward(self, x):
        return self.head(self.norm(x) @ self.pairs)
