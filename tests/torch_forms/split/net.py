"""A model whose block lives in the next file: `python net.py` finds it as its folder is on sys.path."""
from torch import nn

from blocks import Block


class Net(nn.Module):
    def __init__(self, features=12, width=16, depth=2, classes=5):
        super().__init__()
        self.embed = nn.Linear(features, width)
        self.blocks = nn.Sequential(*[Block(width) for _ in range(depth)])
        self.head = nn.Linear(width, classes)

    def forward(self, x):
        return self.head(self.blocks(self.embed(x)))
