"""Formula sheet: the transformer family.

Attention projects a query (T positions of dq features), a key (S of dk) and a value (S of dv)
into h heads -- of key_dim for queries and keys, value_dim for values -- and projects the
heads back to `out` features:

    params = (dq + dk) * h*key_dim + dv * h*value_dim + h*value_dim * out    (+ biases)

Keras MultiHeadAttention(num_heads, key_dim) and PyTorch nn.MultiheadAttention(embed_dim,
num_heads) are the same layer with key_dim = embed_dim / num_heads, so one entry serves both:
spelled `MultiheadAttention(512, 8)`, as the PyTorch class, its positional arguments are
PyTorch's (embed_dim, num_heads); otherwise Keras's (num_heads, key_dim). Inputs are
(query, value) or (query, value, key), Keras's order. MACs count the four projections and the two attention
products (scores and weighted sum). `dropout=` (on the attention probabilities) changes no count;
symparams.accounting reads it for the activations a backward pass keeps.

Keras's Attention and AdditiveAttention have no projections: at most a learned scale (one scalar, or
one per query feature). torch's TransformerEncoder/TransformerDecoder copy their layer num_layers
times; Transformer is both stacks with a final LayerNorm each.
"""
from dataclasses import replace

import sympy as sp

from ..dims import product
from ..errors import ArgumentError, ShapeError
from ..values import format_shape
from . import facts
from .facts import Parallel, Saved, not_known
from .registry import Activation, Bool, Choice, Dim, LayerRef, Out, Probability, _PerAxis, layer
from .shapes import check_size, divides, need_rank, split_channels


# What a generating model keeps of an attention layer (catalog/facts.py): every key position
# (a decoder's self-attention, or cross-attention over an encoder's memory), the last positions of
# a sliding `window`, or nothing (an encoder's self-attention).
Cache = Choice("keys", "window", "none")

# How transformers names an attention's linear layers (facts.Linear, for peft's target_modules and
# bitsandbytes), by the first of them: (query, key, value) projections apart, or one fused module,
# and the output projection. `linears=q_proj` (Llama's, the default), `out_proj` (OPT, GPT-J, BART),
# `dense` (Phi), `query` (BERT-likes, ViT), `q` (T5), `q_lin` (DistilBERT), fused: `c_attn` (GPT-2),
# `query_key_value` (GPT-NeoX, BLOOM, Falcon), `qkv_proj` (Phi-3).
ATTENTION_LINEARS = {
    "q_proj": (("q_proj", "k_proj", "v_proj"), "o_proj"),
    "out_proj": (("q_proj", "k_proj", "v_proj"), "out_proj"),
    "dense": (("q_proj", "k_proj", "v_proj"), "dense"),
    "query": (("query", "key", "value"), "dense"),
    "q": (("q", "k", "v"), "o"),
    "q_lin": (("q_lin", "k_lin", "v_lin"), "out_lin"),
    "c_attn": ("c_attn", "c_proj"),
    "query_key_value": ("query_key_value", "dense"),
    "qkv_proj": ("qkv_proj", "o_proj"),
}
AttentionLinears = Choice(*ATTENTION_LINEARS)
# A gated MLP's: gate, up and down (Llama's), gate and up fused (Phi-3), T5's wi_0, wi_1, wo.
MLP_LINEARS = {"gate_proj": ("gate_proj", "up_proj", "down_proj"), "gate_up_proj": ("gate_up_proj", "down_proj"),
               "wi_0": ("wi_0", "wi_1", "wo")}
MlpLinears = Choice(*MLP_LINEARS)


def _attention_linears(spelling, dq, dk, dv, q_out, k_out, v_out, hidden, out, bias) -> tuple:
    """The attention's linear layers (facts.Linear) as `spelling` names them."""
    inputs, output = ATTENTION_LINEARS[spelling]
    if isinstance(inputs, str):      # one module projects q, k and v from one input
        if sp.simplify(dq - dk) != 0 or sp.simplify(dq - dv) != 0:
            raise ArgumentError(f"linears={spelling} projects query, key and value with one module, which needs "
                                f"one input width: found {dq}, {dk}, {dv}")
        first = (facts.Linear(inputs, dq, q_out + k_out + v_out, bias),)
    else:
        first = tuple(facts.Linear(name, d, o, bias) for name, d, o in zip(inputs, (dq, dk, dv), (q_out, k_out, v_out)))
    return first + (facts.Linear(output, hidden, out, bias),)


def _attention(q, v, k, heads, key_dim, value_dim, out, use_bias, kv_heads=None, cache="keys", window=None,
               dropout=0.0, extra_keys=0, upcast=False, linears="q_proj"):
    """Counts of an attention layer; kv_heads < heads shares key/value heads (grouped-query).
    `extra_keys` key/value positions are appended to the projected ones (torch's add_bias_kv and
    add_zero_attn): the scores and the weighted sum read them too."""
    kv_heads = heads if kv_heads is None else kv_heads
    dq, dv, dk = q[-1], v[-1], k[-1]
    T, S = product(q[:-1]), product(v[:-1])
    weights = dq * heads * key_dim + dk * kv_heads * key_dim + dv * kv_heads * value_dim + \
        heads * value_dim * out
    biases = heads * key_dim + kv_heads * key_dim + kv_heads * value_dim + out
    macs = T * dq * heads * key_dim + S * (dk * kv_heads * key_dim + dv * kv_heads * value_dim) + \
        T * heads * value_dim * out + heads * T * (S + extra_keys) * (key_dim + value_dim)
    if cache == "window" and window is None:
        raise ArgumentError("cache=window needs the window's size: window=W")
    fact = facts.Attention(heads, kv_heads, key_dim, value_dim, T, S + extra_keys, cache=cache, window=window,
                           dropout=bool(dropout), projections=True, upcast=upcast)
    stated = _attention_linears(linears, dq, dk, dv, heads * key_dim, kv_heads * key_dim, kv_heads * value_dim,
                                heads * value_dim, out, bool(use_bias))
    return Out(shape=tuple(q[:-1]) + (out,), params=weights + (biases if use_bias else 0), macs=macs,
               attention=(fact,), parallel=Parallel("attention", whole_params=out if use_bias else 0), linears=stated)


def _query_value_key(xs, name):
    if len(xs) not in (2, 3):
        raise ArgumentError(f"{name} is applied to (query, value) or (query, value, key), found {len(xs)} tensors")
    for x in xs:
        need_rank(x, tuple(range(2, 9)), name, "laid out (..., positions, features)")
    return xs[0], xs[1], xs[2] if len(xs) == 3 else xs[1]


class _OutputShape(_PerAxis):
    """Keras MultiHeadAttention's output_shape: the sizes after the query's positions, an int n being
    (n,); the one size is kept as such, several as their tuple."""

    def __init__(self):
        super().__init__(Dim, "a positive whole-number size or a tuple of them")

    def convert(self, value, where):
        sizes = super().convert(value, where)
        if not sizes:
            self.reject(value, where)
        return sizes[0] if len(sizes) == 1 else sizes


@layer("MultiHeadAttention", "MultiheadAttention", "mha")
def multihead_attention(*xs, num_heads: Dim, key_dim: Dim = None, value_dim: Dim = None, use_bias: Bool = True,
                        output_shape: _OutputShape() = None, embed_dim: Dim = None, kdim: Dim = None, vdim: Dim = None,
                        add_bias_kv: Bool = False, add_zero_attn: Bool = False, dropout: Probability = 0.0,
                        cache: Cache = "keys", window: Dim = None, upcast: Bool = False,
                        linears: AttentionLinears = "q_proj"):
    """Multi-head attention: Keras MultiHeadAttention(num_heads, key_dim) or torch MultiheadAttention(embed_dim=, num_heads=).

    `cache` says what a generating model keeps of it: every key position (`keys`, the default), the
    last of a sliding `window`, or nothing (`none`: an encoder's self-attention). `upcast`: its
    softmax runs in fp32 and is cast back, as transformers' Llama-like attention does (what the
    backward pass keeps; no count changes). `linears` names its projections as transformers does
    (ATTENTION_LINEARS; Llama's q_proj, k_proj, v_proj, o_proj by default), for LoRA and 4-bit
    weights; no count changes."""
    q, v, k = _query_value_key(xs, "multihead_attention")
    conditions = []
    if embed_dim is not None:      # PyTorch: the heads split embed_dim, and the output is embed_dim wide
        if key_dim is not None:
            raise ArgumentError("give key_dim (Keras) or embed_dim (PyTorch), not both")
        conditions += check_size(embed_dim, q[-1], "multihead_attention's embed_dim", "the query")
        if (embed_dim / num_heads).is_integer is False:
            raise ArgumentError(f"embed_dim {embed_dim} is not divisible by num_heads {num_heads}")
        conditions += divides(num_heads, embed_dim, "multihead_attention's num_heads must divide its embed_dim")
        key_dim = value_dim = embed_dim / num_heads
        output_shape = embed_dim
    elif key_dim is None:
        raise ArgumentError("multihead_attention needs key_dim (Keras) or embed_dim= (PyTorch)",
                            hint="usage: multihead_attention(num_heads, key_dim) or "
                                 "MultiheadAttention(embed_dim=E, num_heads=h)")
    conditions += check_size(kdim, k[-1], "multihead_attention's kdim", "the key") + \
        check_size(vdim, v[-1], "multihead_attention's vdim", "the value")
    # torch: a learned key and value (add_bias_kv), and a zero key and value (add_zero_attn), appended
    # to the sequence after the projections
    # Keras: output_shape (2, 3) projects to 2*3 features laid out (..., T, 2, 3), bias of that shape
    sizes = output_shape if isinstance(output_shape, tuple) else (output_shape or q[-1],)
    out = _attention(q, v, k, num_heads, key_dim, value_dim or key_dim, product(sizes), use_bias,
                     cache=cache, window=window, dropout=dropout, extra_keys=int(add_bias_kv) + int(add_zero_attn),
                     upcast=upcast, linears=linears)
    out.shape = tuple(q[:-1]) + sizes
    if add_bias_kv:
        out.params += 2 * num_heads * key_dim
    out.conditions += conditions
    return out


@layer("GroupQueryAttention", "GroupedQueryAttention", "gqa")
def grouped_query_attention(*xs, head_dim: Dim, num_query_heads: Dim, num_key_value_heads: Dim,
                            use_bias: Bool = True, dropout: Probability = 0.0, cache: Cache = "keys",
                            window: Dim = None, upcast: Bool = False, linears: AttentionLinears = "q_proj"):
    """Attention whose num_query_heads share num_key_value_heads key/value heads (Keras GroupQueryAttention).
    `linears` names its projections as transformers does (multihead_attention)."""
    q, v, k = _query_value_key(xs, "grouped_query_attention")
    if (num_query_heads / num_key_value_heads).is_integer is False:
        raise ArgumentError(f"num_query_heads {num_query_heads} is not a multiple of "
                            f"num_key_value_heads {num_key_value_heads}")
    out = _attention(q, v, k, num_query_heads, head_dim, head_dim, q[-1], use_bias, num_key_value_heads, cache,
                     window, dropout, upcast=upcast, linears=linears)
    out.conditions += divides(num_key_value_heads, num_query_heads, "grouped_query_attention's query heads "
                              "must be a multiple of its key/value heads")
    return out


@layer("PositionEmbedding", "PositionEmbedding", "learned_position_embedding")
def position_embedding(x, sequence_length: Dim, output_dim: Dim = None):
    """A learned vector per position: sequence_length * output_dim weights.

    On token ids (t,) it gives (t, output_dim); on embedded features (..., t, d) -- Keras-hub's
    PositionEmbedding -- it gives their shape, to be added to them. t <= sequence_length.
    """
    conditions = []
    if len(x) == 1:
        if output_dim is None:
            raise ArgumentError("position_embedding on token ids needs its output_dim: position_embedding(T, d)")
        shape = (x[0], output_dim)
    else:
        conditions = check_size(output_dim, x[-1], "position_embedding's output_dim")
        shape = tuple(x)
    positions, width = shape[-2], shape[-1]
    # on ids, its backward pass reads the position ids (int64): one row for the whole batch
    saved = (Saved(positions, "int64", rule="transformers", per_example=False, what="position ids"),) \
        if len(x) == 1 else ()
    fits = sp.Le(positions, sequence_length)
    if fits is sp.false:
        raise ShapeError(f"position_embedding has {sequence_length} positions, but its input {format_shape(x)} "
                         f"has {positions}")
    if fits is not sp.true:
        conditions.append((fits, f"position_embedding needs {positions} <= {sequence_length}"))
    return Out(shape=shape, params=sequence_length * width, conditions=conditions, saved=saved)


@layer("GatedMLP", "GatedMLP", "swiglu", "gated_feed_forward")
def gated_mlp(x, hidden: Dim, use_bias: Bool = False, activation: Activation = "silu",
              linears: MlpLinears = "gate_proj"):
    """act(x W_gate) * (x W_up), then W_down back to the input width (SwiGLU with silu): 3*n*hidden weights.
    `linears` names its three linear layers as transformers does: gate_proj, up_proj, down_proj (Llama's,
    the default), gate_up_proj (gate and up in one module) and down_proj (Phi-3), wi_0, wi_1, wo (T5)."""
    n = x[-1]
    bias = bool(use_bias)
    names = MLP_LINEARS[linears]
    if len(names) == 2:
        stated = (facts.Linear(names[0], n, 2 * hidden, bias), facts.Linear(names[1], hidden, n, bias))
    else:
        stated = (facts.Linear(names[0], n, hidden, bias), facts.Linear(names[1], n, hidden, bias),
                  facts.Linear(names[2], hidden, n, bias))
    biases = 2 * hidden + n if use_bias else 0
    tokens = product(x[:-1])
    # its input (read by gate and up), the gate's output (the activation's input), the activation's
    # output and the up projection (the product's inputs), their product (down's input)
    saved = (Saved(tensor="input", what="input"), Saved(4 * tokens * hidden, like="split", what="four hidden-wide"))
    return Out(shape=x, params=3 * n * hidden + biases, macs=tokens * 3 * n * hidden, saved=saved,
               parallel=Parallel("mlp", whole_params=n if use_bias else 0), linears=stated)


def _feed_forward(n, hidden, gated, use_bias):
    """Weights, biases and per-token MACs of one feed-forward network n -> hidden -> n."""
    matrices = 3 if gated else 2
    biases = ((2 if gated else 1) * hidden + n) if use_bias else 0
    return matrices * n * hidden, biases, matrices * n * hidden


@layer("MixtureOfExperts", "MixtureOfExperts", "moe", "sparse_moe")
def mixture_of_experts(x, num_experts: Dim, hidden: Dim, top_k: Dim = 2, gated: Bool = True,
                       use_bias: Bool = False):
    """num_experts feed-forward networks (gated, as Mixtral's) and a router (n*num_experts, no bias);
    each token runs top_k of them: params counts all experts, the row's `active` the ones a token uses."""
    n = x[-1]
    if (top_k - num_experts).is_positive:
        raise ArgumentError(f"top_k {top_k} is more than the {num_experts} experts")
    fits = sp.Le(top_k, num_experts)
    conditions = [] if fits is sp.true else [(fits, f"moe's top_k must not exceed its experts: needs {fits}")]
    weights, biases, macs = _feed_forward(n, hidden, gated, use_bias)
    router = n * num_experts
    tokens = product(x[:-1])
    # Korthikanti-style: its input and the router's probabilities, and for each of the top_k
    # experts a token visits that expert's own copy of the input and its hidden-wide tensors.
    # transformers (Mixtral's block, grouped_mm experts, measured): the router's fp32 softmax, its
    # top_k indices (int64), values and their sum (fp32); per token-expert pair three int64
    # permutations, the gathered input and the expert's output, its four hidden-wide tensors, the
    # routing weight (fp32); and the experts' offsets (int32), once for the batch.
    pairs, wide = top_k * tokens, (4 if gated else 2) * hidden
    saved = (Saved(tensor="input", what="input"),
             Saved(tokens * num_experts, like="whole", rule="korthikanti", what="router probabilities"),
             Saved(pairs * (n + wide), like="split", rule="korthikanti", what="each chosen expert's"),
             Saved(tokens * num_experts + tokens * top_k + tokens, "float32", like="whole", rule="transformers",
                   what="router probabilities, top-k values and their sum"),
             Saved(tokens * top_k + 3 * pairs, "int64", like="whole", rule="transformers",
                   what="top-k indices and the pairs' permutations"),
             Saved(pairs * (2 * n + wide), like="split", rule="transformers", what="each pair's input, hidden-wide "
                                                                                  "tensors and output"),
             Saved(pairs, "float32", like="whole", rule="transformers", what="routing weights"),
             Saved(num_experts, "int32", like="whole", rule="transformers", per_example=False, what="expert offsets"))
    # transformers 5 (Mixtral, Qwen-MoE) keeps the experts' weights as 3-D parameters (experts.gate_up_proj,
    # experts.down_proj), not nn.Linear modules; its router `gate` peft adapts as a linear layer
    fused = "transformers 5 keeps every expert's weights in one 3-D parameter, not nn.Linear modules"
    bias = bool(use_bias)
    stated = (facts.Linear("gate", n, num_experts),) + (
        (facts.Linear("gate_up_proj", n, 2 * hidden, bias, num_experts, fused),) if gated else
        (facts.Linear("up_proj", n, hidden, bias, num_experts, fused),)) + \
        (facts.Linear("down_proj", hidden, n, bias, num_experts, fused),)
    return Out(shape=x, params=router + num_experts * (weights + biases), macs=tokens * (router + top_k * macs),
               active=router + top_k * (weights + biases), conditions=conditions, saved=saved,
               parallel=Parallel("moe", whole_params=router + (num_experts * n if use_bias else 0),
                                 whole_macs=tokens * router), linears=stated)


# torch's transformer layers run attention, a feed-forward network, norms and dropouts inside one
# module (and a fused fast path outside training): what they keep is not measured as a whole.
_COMPOSITE = not_known("torch's transformer layers keep their attention's, feed-forward's, norms' and dropouts' "
                       "tensors inside one module, which symparams has not measured as a whole")


def _attention_block(d, heads, use_bias):
    """torch's MultiheadAttention(d, heads, bias) weights: four d x d projections (+ 4d biases)."""
    return 4 * d * d + (4 * d if use_bias else 0)


def _check_model_width(x, d_model, name) -> list:
    need_rank(x, tuple(range(2, 9)), name, "laid out (..., positions, d_model)")
    return check_size(d_model, x[-1], f"{name}'s d_model")


@layer("TransformerEncoderLayer", "TransformerEncoderLayer")
def transformer_encoder_layer(x, d_model: Dim, nhead: Dim, dim_feedforward: Dim = 2048, dropout: Probability = 0.1,
                              activation: Activation = "relu", norm_first: Bool = False, use_bias: Bool = True):
    """torch TransformerEncoderLayer: self-attention, feed-forward d -> dim_feedforward -> d, two LayerNorms.
    torch's bias=False drops the biases of all of them (use_bias here; `bias=` is accepted)."""
    conditions = _check_model_width(x, d_model, "transformer_encoder_layer") + \
        divides(nhead, d_model, "transformer_encoder_layer's nhead must divide its d_model")
    d, ff, T = d_model, dim_feedforward, product(x[:-1])
    weights, biases, _ = _feed_forward(d, ff, False, use_bias)
    norms = 2 * (d + (d if use_bias else 0))
    macs = 4 * T * d * d + 2 * T * T * d + 2 * T * d * ff
    attention = (facts.Attention(nhead, nhead, d / nhead, d / nhead, T, T, projections=True),)
    return Out(shape=x, params=_attention_block(d, nhead, use_bias) + weights + biases + norms, macs=macs,
               conditions=conditions, attention=attention, saved=_COMPOSITE)


@layer("TransformerDecoderLayer", "TransformerDecoderLayer")
def transformer_decoder_layer(x, memory, d_model: Dim, nhead: Dim, dim_feedforward: Dim = 2048,
                              dropout: Probability = 0.1, activation: Activation = "relu", norm_first: Bool = False,
                              use_bias: Bool = True):
    """torch TransformerDecoderLayer on (tgt, memory): self-attention, cross-attention, feed-forward, three LayerNorms."""
    conditions = _check_model_width(x, d_model, "transformer_decoder_layer") + \
        _check_model_width(memory, d_model, "transformer_decoder_layer") + \
        divides(nhead, d_model, "transformer_decoder_layer's nhead must divide its d_model")
    d, ff, T, S = d_model, dim_feedforward, product(x[:-1]), product(memory[:-1])
    weights, biases, _ = _feed_forward(d, ff, False, use_bias)
    norms = 3 * (d + (d if use_bias else 0))
    macs = (4 * T * d * d + 2 * T * T * d) + (2 * T * d * d + 2 * S * d * d + 2 * T * S * d) + 2 * T * d * ff
    attention = (facts.Attention(nhead, nhead, d / nhead, d / nhead, T, T, projections=True),
                 facts.Attention(nhead, nhead, d / nhead, d / nhead, T, S, projections=True))
    return Out(shape=x, params=2 * _attention_block(d, nhead, use_bias) + weights + biases + norms, macs=macs,
               conditions=conditions, attention=attention, saved=_COMPOSITE)


@layer("PatchEmbedding", "PatchEmbedding", "patch_embed")
def patch_embedding(x, patch_size: Dim, embed_dim: Dim, use_bias: Bool = True, *, c):
    """ViT's patchify: a patch_size x patch_size convolution with stride patch_size, its grid flattened
    into (patches, embed_dim) -- torchvision's conv_proj then reshape."""
    (H, W), C = split_channels(x, 2, "patch_embedding", c)
    patches = sp.floor(H / patch_size) * sp.floor(W / patch_size)
    weights = patch_size * patch_size * C * embed_dim
    return Out(shape=(patches, embed_dim), params=weights + (embed_dim if use_bias else 0), macs=patches * weights)


# ---------------------------------------------------------------- Keras's dot-product and additive attention

ScoreMode = Choice("dot", "concat")


def _keras_attention(xs, name):
    """(query, value, key) of Keras's Attention layers: the key defaults to the value; query and key
    share their width, and the output is the query's positions with the value's features."""
    q, v, k = _query_value_key(xs, name)
    Tq, Tv = product(q[:-1]), product(v[:-1])
    return q, v, Tq * Tv * (q[-1] + v[-1]), check_size(q[-1], k[-1], f"{name}'s key width", "the query")


@layer("Attention", "Attention", "dot_attention", "luong_attention")
def attention(*xs, use_scale: Bool = False, score_mode: ScoreMode = "dot"):
    """Keras Attention on (query, value[, key]): softmax(q k^T) v, no projections; use_scale learns one
    scalar, score_mode='concat' one more. The output has the query's positions and the value's width.
    Not MultiHeadAttention, which projects: see multihead_attention."""
    q, v, macs, conditions = _keras_attention(xs, "attention")
    return Out(shape=tuple(q[:-1]) + (v[-1],), params=int(use_scale) + int(score_mode == "concat"), macs=macs,
               conditions=conditions)


@layer("AdditiveAttention", "AdditiveAttention", "bahdanau_attention")
def additive_attention(*xs, use_scale: Bool = True):
    """Keras AdditiveAttention on (query, value[, key]): softmax(sum(scale * tanh(q + k))) v; use_scale learns
    a scale per feature of the query. The output has the query's positions and the value's width."""
    q, v, macs, conditions = _keras_attention(xs, "additive_attention")
    return Out(shape=tuple(q[:-1]) + (v[-1],), params=q[-1] if use_scale else 0, macs=macs, conditions=conditions)


# ---------------------------------------------------------------- torch's stacks of transformer layers

def _stack(layer_ref, n, norm, shapes, kind, c, name):
    """`n` copies of a torch transformer layer (torch deep-copies it) and an optional final norm."""
    if layer_ref.spec.name != kind:
        raise ArgumentError(f"{name} stacks a {kind} layer, found a {layer_ref.spec.name} layer")
    one = layer_ref.spec.apply(shapes, layer_ref.config, c)
    params, macs, conditions = n * one.params, n * one.macs, list(one.conditions)
    if norm is not None:
        last = norm.spec.apply([tuple(one.shape)], norm.config, c)
        params, conditions = params + last.params, conditions + last.conditions
    return Out(shape=tuple(one.shape), params=params, macs=macs, conditions=conditions, saved=_COMPOSITE,
               attention=tuple(replace(a, times=n * a.times) for a in one.attention))


@layer("TransformerEncoder", "TransformerEncoder")
def transformer_encoder(x, encoder_layer: LayerRef, num_layers: Dim, norm: LayerRef = None, *, c):
    """torch TransformerEncoder(encoder_layer, num_layers, norm): num_layers copies of the layer, then norm."""
    return _stack(encoder_layer, num_layers, norm, [x], "transformer_encoder_layer", c, "transformer_encoder")


@layer("TransformerDecoder", "TransformerDecoder")
def transformer_decoder(x, memory, decoder_layer: LayerRef, num_layers: Dim, norm: LayerRef = None, *, c):
    """torch TransformerDecoder(decoder_layer, num_layers, norm) on (tgt, memory): num_layers copies, then norm."""
    return _stack(decoder_layer, num_layers, norm, [x, memory], "transformer_decoder_layer", c,
                  "transformer_decoder")


@layer("Transformer", "Transformer")
def transformer(src, tgt, d_model: Dim = 512, nhead: Dim = 8, num_encoder_layers: Dim = 6,
                num_decoder_layers: Dim = 6, dim_feedforward: Dim = 2048, dropout: Probability = 0.1,
                activation: Activation = "relu", norm_first: Bool = False, use_bias: Bool = True):
    """torch Transformer on (src, tgt): an encoder of num_encoder_layers layers and a LayerNorm, a decoder of
    num_decoder_layers layers reading the encoder's output, and a LayerNorm; the output is tgt's shape."""
    options = dict(d_model=d_model, nhead=nhead, dim_feedforward=dim_feedforward, use_bias=use_bias,
                   activation=activation, norm_first=norm_first)
    enc = transformer_encoder_layer(src, **options)
    dec = transformer_decoder_layer(tgt, src, **options)
    norms = 2 * (d_model + (d_model if use_bias else 0))
    (encoder,), (self_attention, cross) = enc.attention, dec.attention   # the encoder caches nothing
    attention = (replace(encoder, times=num_encoder_layers, cache="none"), replace(self_attention, times=num_decoder_layers),
                 replace(cross, times=num_decoder_layers))
    return Out(shape=tuple(tgt), params=num_encoder_layers * enc.params + num_decoder_layers * dec.params + norms,
               macs=num_encoder_layers * enc.macs + num_decoder_layers * dec.macs,
               conditions=enc.conditions + dec.conditions, saved=_COMPOSITE, attention=attention)
