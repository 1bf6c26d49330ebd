"""A classic seq2seq: the decoder LSTM starts from the encoder's (h, c)."""
import torch
from torch import nn


class Seq2Seq(nn.Module):
    def __init__(self, src_vocab=50, tgt_vocab=60, dim=16, hidden=24):
        super().__init__()
        self.src_embed = nn.Embedding(src_vocab, dim)
        self.tgt_embed = nn.Embedding(tgt_vocab, dim)
        self.encoder = nn.LSTM(dim, hidden, batch_first=True)
        self.decoder = nn.LSTM(dim, hidden, batch_first=True)
        self.out = nn.Linear(hidden, tgt_vocab)

    def forward(self, src, tgt):
        _, (h, c) = self.encoder(self.src_embed(src))
        y, _ = self.decoder(self.tgt_embed(tgt), (h, c))
        return self.out(y)
