import torch
from torch import nn


class Attention(nn.Module):
    """nn.MultiheadAttention called as Keras calls attention: (query, value[, key]), the output only."""

    def __init__(self, attention):
        super().__init__()
        self.attention = attention

    def forward(self, query, value, key=None):
        key = value if key is None else key
        out, _ = self.attention(query, key, value, need_weights=False)
        return out


class PositionEmbedding(nn.Module):
    """An nn.Embedding of positions 0..t-1: on token ids (N, t) it gives (N, t, d); on features
    (N, ..., t, d) their shape, to be added to them."""

    def __init__(self, embedding):
        super().__init__()
        self.embedding = embedding

    def forward(self, x):
        positions = x.shape[1] if x.dim() == 2 else x.shape[-2]
        table = self.embedding(torch.arange(positions, device=x.device))
        shape = (x.shape[0], positions, table.shape[-1]) if x.dim() == 2 else x.shape
        return table.expand(shape)


class GptLayer(nn.Module):
    def __init__(self, d, h):
        super().__init__()
        self.layernorm_1 = nn.LayerNorm((d,))
        self.multihead_attention_1 = Attention(nn.MultiheadAttention(d, h, kdim=d, vdim=d, batch_first=True))
        self.layernorm_2 = nn.LayerNorm((d,))
        self.dense_1 = nn.Sequential(nn.Linear(d, 4*d), nn.GELU())
        self.dense_2 = nn.Linear(4*d, d)

    def forward(self, x):
        layernorm_1 = self.layernorm_1(x)
        multihead_attention_1 = self.multihead_attention_1(layernorm_1, layernorm_1)
        add_1 = x + multihead_attention_1
        layernorm_2 = self.layernorm_2(add_1)
        dense_1 = self.dense_1(layernorm_2)
        dense_2 = self.dense_2(dense_1)
        add_2 = add_1 + dense_2
        return add_2


class Gpt2(nn.Module):
    """gpt2, its sizes in its symbols (written by `symparams export`)."""

    def __init__(self, V=50257, T=1024, d=768, L=12, h=12):
        super().__init__()
        self.wte = nn.Embedding(V, d)
        self.position_embedding_1 = PositionEmbedding(nn.Embedding(T, d))
        self.repeat_1 = nn.ModuleList([GptLayer(d, h) for _ in range(L)])
        self.layernorm_1 = nn.LayerNorm((d,))
        self.dense_1 = nn.Linear(d, V, bias=False)
        self.dense_1.weight = self.wte.weight

    def forward(self, input_1):
        wte = self.wte(input_1)
        position_embedding_1 = self.position_embedding_1(input_1)
        add_1 = wte + position_embedding_1
        repeat_1 = add_1
        for layer in self.repeat_1:
            repeat_1 = layer(repeat_1)
        layernorm_1 = self.layernorm_1(repeat_1)
        dense_1 = self.dense_1(layernorm_1)
        return dense_1
