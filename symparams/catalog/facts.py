"""What a layer states about itself beyond its counts, for the quantities read off the graph
(symparams/quantities/): the attention it computes and what a generating model caches of it,
the tensors it keeps for the backward pass, how tensor parallelism splits it, the linear layers
a composite layer holds (as transformers names them, for LoRA and 4-bit weights).

A catalog entry puts these on its `Out`; a layer declared in the language states them in its body
(`attention = attention(...)`, `saved = ...`, `parallel = ...`, `active = ...`; declared.py). No
quantity knows a layer by its name: a new attention layer gets its KV cache, its activations and
its share of the FLOPs from these facts alone.
"""
from __future__ import annotations

from dataclasses import dataclass

import sympy as sp

# What the backward pass keeps is counted by one of two rules:
#   transformers -- what autograd really saves running Hugging Face transformers' modules (measured
#                   with torch.autograd.graph.saved_tensors_hooks; tests/test_activations_runtime.py)
#   korthikanti  -- Korthikanti et al. 2022's accounting (34sbh + 5as^2b per GPT layer)
RULES = ("transformers", "korthikanti")
# How transformers computes attention: `sdpa` (torch's scaled_dot_product_attention, transformers'
# default: no score matrix is kept) or `eager` (explicit products, the fp32 softmax kept).
ATTENTION_IMPLEMENTATIONS = ("sdpa", "eager")
# What attention keeps between its two products: "keys" -- every key position (a decoder's
# self-attention; cross-attention over an encoder's memory, computed once); "window" -- the last
# positions of a sliding window; "latent" -- `latent` numbers per position, shared by every head
# (multi-head latent attention); "none" -- nothing (an encoder's self-attention).
CACHES = ("keys", "window", "latent", "none")
# How tensor parallelism (Megatron-LM) splits a layer: "linear" -- a matrix product, split by
# columns where its input is whole and by rows after a split tensor; "elementwise" -- works on its
# input as it arrives (split or whole); "attention", "mlp", "moe", "embedding" -- split inside
# (heads, hidden units, experts' hidden units, vocabulary); "replicated" -- whole on every device.
ROLES = ("replicated", "linear", "elementwise", "attention", "mlp", "moe", "embedding")
# The number sizes a saved tensor is kept at, beside any dtype of symparams/units.py (float32,
# int64, int32): "activations" -- the activations' dtype; "cast" -- a copy at the activations' dtype
# of an fp32 result (none where the activations are fp32: the result itself is read); "mask" -- a
# dropout's mask (1 byte under korthikanti, as CUDA keeps it; the data's dtype as CPU dropout does).
SAVED_DTYPES = ("activations", "cast", "mask")


@dataclass(frozen=True)
class Saved:
    """One tensor a layer keeps for its backward pass.

    `tensor` "input" or "output": the layer's own input (every distinct one) or output tensor,
    so that a tensor two layers keep (the input q, k and v projections share) counts once, as
    autograd keeps one storage; `elements` is then read from the graph. Otherwise a tensor of
    its own, of `elements` per example. `dtype` is one of SAVED_DTYPES or a dtype's name (an
    input kept "float32" is the input itself where the activations are fp32, else an fp32 copy).
    `rule` says which rule counts it (None: both); `recompute` "selective" drops it when attention
    is recomputed. Under tensor parallelism a tensor of its own is split as `like` says: "input"
    or "output" (as that tensor is), "split", "whole". `per_example` False: one tensor for the
    whole batch (rotary tables, position ids, a mixture's expert offsets), not one per example."""
    elements: sp.Expr = sp.Integer(0)
    dtype: str = "activations"
    tensor: str | None = None
    like: str = "input"
    rule: str | None = None
    recompute: str | None = None
    what: str = ""
    per_example: bool = True


def not_known(reason: str) -> tuple:
    """The Saved facts of a layer whose backward pass keeps what symparams has not measured (a
    fused recurrent kernel, a composite layer): activations refuse it, naming the layer and why,
    rather than count its inputs and say a number that is not what it keeps."""
    return (Saved(dtype="not known", what=reason),)


@dataclass(frozen=True)
class Parallel:
    """How tensor parallelism splits the layer (`role`, ROLES), and what stays whole on every
    device when it is split: `whole_params` (a bias added after the all-reduce of a row split,
    a router) and `whole_macs` (a router's products)."""
    role: str = "replicated"
    whole_params: sp.Expr = sp.Integer(0)
    whole_macs: sp.Expr = sp.Integer(0)


REPLICATED = Parallel()


@dataclass(frozen=True)
class Linear:
    """One linear layer inside a composite catalog layer (an attention's projections, a gated MLP's
    three), named as transformers and peft's `target_modules` name its module: `in_features` to
    `out_features`, a bias or not, `times` such layers (a mixture's experts). `parameter`: not an
    nn.Linear module but a weight kept as a parameter (transformers 5 keeps a mixture's experts as
    3-D tensors), the reason in words: peft's target_modules cannot adapt it, nor does transformers'
    bitsandbytes integration quantize it as a linear layer."""
    name: str
    in_features: sp.Expr
    out_features: sp.Expr
    bias: bool = False
    times: sp.Expr = sp.Integer(1)
    parameter: str | None = None

    @property
    def kernel(self) -> sp.Expr:
        """Its weights less its bias, per copy."""
        return self.in_features * self.out_features

    @property
    def params(self) -> sp.Expr:
        return self.times * (self.kernel + (self.out_features if self.bias else 0))


@dataclass(frozen=True)
class Attention:
    """One attention: `queries` positions over `keys` positions per example, `heads` query heads
    sharing `kv_heads` key/value heads, keys of `key_dim` and values of `value_dim` per head.
    `projections`: the layer holds its own input and output projections (multihead_attention),
    so it also keeps its input and the heads' output; else (attention_product) its inputs are
    the projected q, k and v."""
    heads: sp.Expr
    kv_heads: sp.Expr
    key_dim: sp.Expr
    value_dim: sp.Expr
    queries: sp.Expr
    keys: sp.Expr
    cache: str = "keys"
    window: sp.Expr | None = None
    latent: sp.Expr | None = None
    dropout: bool = False
    projections: bool = False
    upcast: bool = False     # transformers' eager softmax runs in fp32 and is cast back (Llama's)
    times: sp.Expr = sp.Integer(1)   # how often the layer runs it (a stack of num_layers copies)

    @property
    def score_macs(self) -> sp.Expr:
        """Multiply-accumulates of the scores Q K^T and of the weighted sum of the values."""
        return self.times * self.heads * self.queries * self.keys * (self.key_dim + self.value_dim)

    @property
    def lhq(self) -> sp.Expr:
        """PaLM's H*Q for this layer: heads times their width (the mean of the key and value widths,
        where they differ), so that 12*L*H*Q*T is three times the scores' and weighted sum's FLOPs."""
        return self.times * self.heads * (self.key_dim + self.value_dim) / 2

    def cached_positions(self) -> sp.Expr:
        """Key positions a generating model keeps, per example. A sliding window keeps the last
        window - 1 positions, as transformers' sliding-window cache does (the query in hand is
        the window's last)."""
        if self.cache == "none":
            return sp.Integer(0)
        if self.cache == "window":
            return sp.Min(self.keys, self.window - 1)
        return self.keys

    def cached_numbers(self, tp=1) -> sp.Expr:
        """Numbers cached per example on one of `tp` tensor-parallel devices. Key/value heads are
        split among the devices, at least one each (a head is copied where devices outnumber
        them, as vLLM and Megatron-LM do); a latent is shared by every head, so every device
        keeps it whole."""
        positions = self.cached_positions()
        if self.cache == "latent":
            return self.times * positions * self.latent
        heads = self.kv_heads if tp == 1 else sp.Max(self.kv_heads / tp, 1)
        return self.times * positions * heads * (self.key_dim + self.value_dim)

    def saved(self, rule: str, implementation: str) -> list:
        """The tensors this attention keeps for the backward pass (docs/llm.md, Activations):
        Korthikanti et al.'s, or what transformers' attention keeps under `implementation` on the
        CPU (measured: tests/test_activations_runtime.py)."""
        q = self.queries * self.heads * self.key_dim
        k = self.keys * self.kv_heads * self.key_dim
        v = self.keys * self.kv_heads * self.value_dim
        heads_out = self.queries * self.heads * self.value_dim
        scores = self.heads * self.queries * self.keys
        out = [Saved(tensor="input", what="input of the projections")] if self.projections else []
        selective = dict(like="split", recompute="selective")
        if rule == "korthikanti":
            out += [Saved(q + k + v, like="split", what="Q, K, V") if self.projections else
                    Saved(tensor="input", what="Q, K, V"),
                    Saved(scores, what="softmax output", **selective)]
            if self.dropout:
                out += [Saved(scores, "mask", what="dropout mask", **selective),
                        Saved(scores, what="dropped probabilities", **selective)]
            if self.projections:
                out.append(Saved(heads_out, like="split", what="heads' output"))
            return out
        if implementation == "eager":
            # K and V expanded to every query head (repeat_kv) before the products
            wide = self.keys * self.heads * (self.key_dim + self.value_dim)
            out.append(Saved(q + wide, like="split", what="Q, and K and V at every query head"))
            if self.upcast:     # the copy at the activations' dtype is what the weighted sum (or dropout) reads
                out.append(Saved(scores, "float32", what="fp32 softmax output", **selective))
                if not self.dropout:
                    out.append(Saved(scores, "cast", what="probabilities at the activations' dtype", **selective))
            else:
                out.append(Saved(scores, what="softmax output", **selective))
            if self.dropout:
                out += [Saved(scores, "mask", what="dropout mask", **selective),
                        Saved(scores, what="dropped probabilities", **selective)]
        elif self.dropout:
            # sdpa with dropout: torch falls back to its math path, in fp32 whatever the dtype
            out += [Saved(q + k + v, "float32", like="split", what="Q, K, V in fp32"),
                    Saved(3 * scores, "float32", what="softmax, dropout mask, dropped probabilities",
                          **selective)]
        else:
            # sdpa: the fused kernel keeps Q, K and V as given (K and V at kv_heads), a log-sum-exp
            # per query and head, and its output, which the output projection reads as it is
            out += [Saved(q + k + v, like="split", what="Q, K, V"),
                    Saved(self.heads * self.queries, "float32", like="split", what="log-sum-exp")]
            if not self.projections:
                out.append(Saved(tensor="output", what="output"))
        if self.projections:
            out.append(Saved(heads_out, like="split", what="heads' output as the output projection reads it"))
        return out
