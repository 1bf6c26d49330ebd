"""A small causal transformer LM as a PyTorch user writes it, for `symparams import` (docs/import.md):
nn.TransformerEncoder, learned positions, the output layer tied to the embedding."""
import torch
from torch import nn


class TinyLM(nn.Module):
    def __init__(self, vocab=8000, d=256, heads=4, layers=6, context=128):
        super().__init__()
        self.tok = nn.Embedding(vocab, d)
        self.pos = nn.Parameter(torch.zeros(1, context, d))
        layer = nn.TransformerEncoderLayer(d, heads, 4 * d, batch_first=True, norm_first=True, activation="gelu")
        self.encoder = nn.TransformerEncoder(layer, layers, norm=nn.LayerNorm(d), enable_nested_tensor=False)
        self.head = nn.Linear(d, vocab, bias=False)
        self.head.weight = self.tok.weight      # tied: one table for input and output

    def forward(self, ids):
        x = self.tok(ids) + self.pos
        mask = nn.Transformer.generate_square_subsequent_mask(ids.shape[1])
        return self.head(self.encoder(x, mask=mask, is_causal=True))
