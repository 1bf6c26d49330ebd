"""Modules torch.fx cannot trace, as people write them: imported from the module tree instead."""
import torch
from torch import nn
import torch.nn.functional as F


class Guarded(nn.Module):
    """A forward that branches on a tensor's value (a guard against large activations)."""

    def __init__(self, d=16, hidden=48, classes=5):
        super().__init__()
        self.fc1 = nn.Linear(d, hidden)
        self.norm = nn.LayerNorm(hidden)
        self.fc2 = nn.Linear(hidden, classes)

    def forward(self, x):
        h = F.relu(self.fc1(x))
        if h.abs().max() > 1e4:
            h = h / h.abs().max()
        return self.fc2(self.norm(h))


class Block(nn.Module):
    def __init__(self, d, hidden):
        super().__init__()
        self.norm = nn.LayerNorm(d)
        self.up = nn.Linear(d, hidden)
        self.down = nn.Linear(hidden, d)

    def forward(self, x, **kwargs):
        return x + self.down(F.gelu(self.up(self.norm(x))))


class KwargsMLP(nn.Module):
    """forward(self, x, **kwargs), as code that passes options through does."""

    def __init__(self, d=24, hidden=96, depth=3, classes=7):
        super().__init__()
        self.blocks = nn.ModuleList([Block(d, hidden) for _ in range(depth)])
        self.head = nn.Linear(d, classes)

    def forward(self, x, **kwargs):
        for block in self.blocks:
            x = block(x, **kwargs)
        return self.head(x)


class Attention(nn.Module):
    def __init__(self, hidden_size, num_heads):
        super().__init__()
        self.num_heads, self.head_dim = num_heads, hidden_size // num_heads
        self.q_proj = nn.Linear(hidden_size, hidden_size)
        self.k_proj = nn.Linear(hidden_size, hidden_size)
        self.v_proj = nn.Linear(hidden_size, hidden_size)
        self.o_proj = nn.Linear(hidden_size, hidden_size)

    def forward(self, hidden_states, attention_mask=None, **kwargs):
        b, t, _ = hidden_states.shape
        q, k, v = (p(hidden_states).view(b, t, self.num_heads, self.head_dim).transpose(1, 2)
                   for p in (self.q_proj, self.k_proj, self.v_proj))
        a = F.scaled_dot_product_attention(q, k, v, is_causal=True)
        return self.o_proj(a.transpose(1, 2).reshape(b, t, -1))


class DecoderLayer(nn.Module):
    def __init__(self, hidden_size, num_heads, intermediate_size):
        super().__init__()
        self.input_layernorm = nn.LayerNorm(hidden_size)
        self.self_attn = Attention(hidden_size, num_heads)
        self.post_attention_layernorm = nn.LayerNorm(hidden_size)
        self.mlp = nn.Sequential(nn.Linear(hidden_size, intermediate_size), nn.GELU(),
                                 nn.Linear(intermediate_size, hidden_size))

    def forward(self, hidden_states, attention_mask=None, **kwargs):
        hidden_states = hidden_states + self.self_attn(self.input_layernorm(hidden_states), attention_mask, **kwargs)
        return hidden_states + self.mlp(self.post_attention_layernorm(hidden_states))


class TinyCausalLM(nn.Module):
    """A Hugging Face-style layer stack: embed_tokens, a ModuleList of decoder layers taking **kwargs,
    a final norm and an lm_head."""

    def __init__(self, vocab_size=101, hidden_size=32, num_hidden_layers=2, num_attention_heads=4,
                 intermediate_size=80, max_position_embeddings=64):
        super().__init__()
        self.embed_tokens = nn.Embedding(vocab_size, hidden_size)
        self.embed_positions = nn.Embedding(max_position_embeddings, hidden_size)
        self.layers = nn.ModuleList([DecoderLayer(hidden_size, num_attention_heads, intermediate_size)
                                     for _ in range(num_hidden_layers)])
        self.norm = nn.LayerNorm(hidden_size)
        self.lm_head = nn.Linear(hidden_size, vocab_size, bias=False)

    def forward(self, input_ids, attention_mask=None, **kwargs):
        positions = torch.arange(input_ids.shape[1], device=input_ids.device)
        hidden_states = self.embed_tokens(input_ids) + self.embed_positions(positions)
        for layer in self.layers:
            hidden_states = layer(hidden_states, attention_mask, **kwargs)
        return self.lm_head(self.norm(hidden_states))


class Pyramid(nn.Module):
    """Halves its input until it is small: the loop's count depends on the input's size."""

    def __init__(self, channels=8, classes=10):
        super().__init__()
        self.stem = nn.Conv2d(3, channels, 3, padding=1)
        self.down = nn.Conv2d(channels, channels, 3, stride=2, padding=1)
        self.head = nn.Linear(channels, classes)

    def forward(self, x):
        x = self.stem(x)
        while x.shape[-1] > 4:
            x = F.relu(self.down(x))
        return self.head(x.mean(dim=(2, 3)))
