"""Glue for what torch.nn has no module for: merging tensors, an RNN's last step, permuting axes,
the [CLS] token, rotary positions, Llama's gated MLP and grouped-query attention, Mixtral's experts,
exp and transformers' GELU formulas.

Every weight is a torch.nn layer's (the MLP's, attention's and experts' are nn.Linear), so the counts
verify compares come from torch.nn — except ClassToken's and LayerScale's: each holds one
nn.Parameter, as torchvision's VisionTransformer (class_token) and ConvNeXt (layer_scale) do, and
verify's count for those two comes from the glue itself.
`symparams export` copies the classes it uses into the source it prints (and the glue classes those
build, as MixtureOfExperts's GatedMLP), so keep each one self-contained (only `torch` and `nn`).
"""
import torch
from torch import nn


class Merge(nn.Module):
    """Keras's merge layers: elementwise add/subtract/multiply/average/maximum/minimum (broadcasting as
    Keras does), or concatenate."""

    def __init__(self, op, dim=-1):
        super().__init__()
        self.op, self.dim = op, dim

    def forward(self, *xs):
        if self.op == "concatenate":
            return torch.cat(xs, dim=self.dim)
        # Keras broadcasts a lower-rank input by giving it axes after the batch: (N, C) * (N, H, W, C).
        rank = max(x.dim() for x in xs)
        xs = [x.reshape(x.shape[:1] + (1,) * (rank - x.dim()) + x.shape[1:]) for x in xs]
        if self.op == "subtract":
            return xs[0] - xs[1]
        op = {"add": torch.add, "average": torch.add, "multiply": torch.mul, "maximum": torch.maximum,
              "minimum": torch.minimum}[self.op]
        out = xs[0]
        for x in xs[1:]:
            out = op(out, x)
        return out / len(xs) if self.op == "average" else out


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


class ChannelsLast(nn.Module):
    """A torch layer (channels first) run on channels-last tensors, as the file lays them out: each
    input's last axis moved after the batch, and the output's back to the end."""

    def __init__(self, layer):
        super().__init__()
        self.layer = layer

    def forward(self, *xs):
        y = self.layer(*[x.movedim(-1, 1) for x in xs])
        return y.movedim(1, -1)


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


class FirstOutput(nn.Module):
    """A module returning a tuple (LSTMCell's (h, c)) as its first tensor."""

    def __init__(self, module):
        super().__init__()
        self.module = module

    def forward(self, *xs):
        return self.module(*xs)[0]


class FirstToken(nn.Module):
    """The first position's features, (N, ..., t, n) -> (N, ..., n): BERT's pooler and ViT's head read [CLS]."""

    def forward(self, x):
        return x.select(-2, 0)


class RotaryEmbedding(nn.Module):
    """Rotary positions (RoPE, Su et al. 2021) on the last axis, as Llama applies them: feature i of the
    first half and feature i of the second turn together by position * base**(-2i/n). No weights;
    the angles are computed in forward, so the module holds no buffer either."""

    def __init__(self, base=10000.0):
        super().__init__()
        self.base = base

    def forward(self, x):
        half = x.shape[-1] // 2
        frequencies = self.base ** (-torch.arange(half, device=x.device, dtype=torch.float32) / half)
        angles = torch.arange(x.shape[-2], device=x.device, dtype=torch.float32)[:, None] * frequencies
        cos, sin = torch.cat([angles.cos()] * 2, -1).to(x.dtype), torch.cat([angles.sin()] * 2, -1).to(x.dtype)
        rotated = torch.cat([-x[..., half:], x[..., :half]], -1)
        return x * cos + rotated * sin


class ClassToken(nn.Module):
    """ViT's [CLS] token: one learned width-vector put in front of the sequence, (N, ..., t, n) -> (N, ..., t+1, n)."""

    def __init__(self, width):
        super().__init__()
        self.width = width
        self.token = nn.Parameter(torch.zeros(1, 1, width))

    def forward(self, x):
        token = self.token.expand(*x.shape[:-2], 1, self.width)
        return torch.cat([token, x], dim=-2)


class LayerScale(nn.Module):
    """A learned scale per feature on the last axis, started at 1e-6 as ConvNeXt's (CaiT's LayerScale)."""

    def __init__(self, width):
        super().__init__()
        self.width = width
        self.gamma = nn.Parameter(torch.full((width,), 1e-6))

    def forward(self, x):
        return x * self.gamma


class GatedMLP(nn.Module):
    """Llama's MLP (SwiGLU with nn.SiLU): down(activation(gate(x)) * up(x)), three nn.Linear."""

    def __init__(self, width, hidden, activation, bias=False):
        super().__init__()
        self.width, self.hidden = width, hidden
        self.gate = nn.Linear(width, hidden, bias=bias)
        self.up = nn.Linear(width, hidden, bias=bias)
        self.down = nn.Linear(hidden, width, bias=bias)
        self.activation = activation

    def forward(self, x):
        return self.down(self.activation(self.gate(x)) * self.up(x))


class GroupedQueryAttention(nn.Module):
    """Llama's attention with num_key_value_heads (Keras's GroupQueryAttention), called as Keras calls
    attention: (query, value[, key]), the output only. `width` is all query heads' features
    (num_query_heads * head_dim, as nn.MultiheadAttention's embed_dim); each key/value head serves
    num_query_heads / num_key_value_heads query heads. Four nn.Linear (q, k, v, o), all with or all
    without biases. No mask: every query sees every key, as the formulas count."""

    def __init__(self, query_dim, key_dim, value_dim, width, num_query_heads, num_key_value_heads, bias=True):
        super().__init__()
        self.width, self.num_query_heads, self.num_key_value_heads = width, num_query_heads, num_key_value_heads
        kv_width = width // num_query_heads * num_key_value_heads
        self.q_proj = nn.Linear(query_dim, width, bias=bias)
        self.k_proj = nn.Linear(key_dim, kv_width, bias=bias)
        self.v_proj = nn.Linear(value_dim, kv_width, bias=bias)
        self.o_proj = nn.Linear(width, query_dim, bias=bias)

    def forward(self, query, value, key=None):
        key = value if key is None else key
        group = self.num_query_heads // self.num_key_value_heads

        def heads(x, proj, count, repeat=1):      # (..., t, count * head_dim) -> (..., count * repeat, t, head_dim)
            x = proj(x).unflatten(-1, (count, -1)).transpose(-3, -2)
            return x.repeat_interleave(repeat, dim=-3)

        q = heads(query, self.q_proj, self.num_query_heads)
        k = heads(key, self.k_proj, self.num_key_value_heads, group)
        v = heads(value, self.v_proj, self.num_key_value_heads, group)
        weights = torch.softmax(q @ k.transpose(-2, -1) / q.shape[-1] ** 0.5, dim=-1)
        return self.o_proj((weights @ v).transpose(-3, -2).flatten(-2))


class MixtureOfExperts(nn.Module):
    """Mixtral's sparse MoE block: a router (nn.Linear, no bias) picks top_k of num_experts feed-forward
    networks for each token, whose outputs are summed weighted by the softmax of the chosen logits.
    The experts, an nn.ModuleList, are GatedMLPs (SwiGLU) or, not gated, two nn.Linear around a SiLU.
    Every expert runs on every token, the unchosen weighted 0: which expert a token takes is data, and
    the meta device verify builds on cannot route by data. So FlopCounterMode counts num_experts
    experts' MACs per token where the formula counts the top_k a sparse implementation runs."""

    def __init__(self, width, num_experts, hidden, top_k=2, gated=True, bias=False):
        super().__init__()
        self.num_experts, self.hidden, self.top_k, self.gated = num_experts, hidden, top_k, gated
        self.router = nn.Linear(width, num_experts, bias=False)

        def expert():
            if gated:
                return GatedMLP(width, hidden, nn.SiLU(), bias=bias)
            return nn.Sequential(nn.Linear(width, hidden, bias=bias), nn.SiLU(), nn.Linear(hidden, width, bias=bias))
        self.experts = nn.ModuleList([expert() for _ in range(num_experts)])

    def forward(self, x):
        logits = self.router(x)
        top, chosen = logits.topk(self.top_k, dim=-1)
        weights = torch.zeros_like(logits).scatter(-1, chosen, top.softmax(dim=-1))
        outputs = torch.stack([expert(x) for expert in self.experts], dim=-1)
        return (outputs * weights.unsqueeze(-2)).sum(dim=-1)


class Exponential(nn.Module):
    def forward(self, x):
        return torch.exp(x)


# transformers' GELUs written as Python formulas (transformers.activations), copied op for op, so
# that autograd keeps the same tensors for the backward pass as theirs (catalog/activations.py).
class NewGELU(nn.Module):
    """transformers' gelu_new (GPT-2): the tanh approximation, unfused."""

    def forward(self, x):
        return 0.5 * x * (1.0 + torch.tanh(0.7978845608028654 * (x + 0.044715 * torch.pow(x, 3.0))))


class FastGELU(nn.Module):
    """transformers' gelu_fast: the tanh approximation, written another way."""

    def forward(self, x):
        return 0.5 * x * (1.0 + torch.tanh(x * 0.7978845608 * (1.0 + 0.044715 * x * x)))


class PythonGELU(nn.Module):
    """transformers' gelu_python: the exact GELU through erf, unfused."""

    def forward(self, x):
        return x * 0.5 * (1.0 + torch.erf(x / 1.4142135623730951))


class QuickGELU(nn.Module):
    """transformers' quick_gelu (CLIP): x * sigmoid(1.702 x)."""

    def forward(self, x):
        return x * torch.sigmoid(1.702 * x)


GLUE = {cls.__name__: cls for cls in (Merge, RecurrentOutput, Permute, ChannelsLast, Attention, PositionEmbedding, FirstOutput,
                                      FirstToken, RotaryEmbedding, ClassToken, LayerScale, GatedMLP,
                                      GroupedQueryAttention, MixtureOfExperts, Exponential, NewGELU, FastGELU,
                                      PythonGELU, QuickGELU)}
