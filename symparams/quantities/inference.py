"""Inference: prefill and decode FLOPs, the memory of serving a model (weights and KV cache), and the
roofline bounds of a device (docs/llm.md, Inference).

Every figure is read off the graph's layer facts (catalog/facts.py), never a layer's name:

* prefill_flops -- the forward of the prompt, T = the model's sequence length (every position's
  products, the logits of every position included: what a forward of transformers' model does).
* decode_flops -- one generated token with T tokens already cached: each layer's products per
  position (its MACs over its positions, the attention's scores taken out), plus each attention's
  scores and weighted sum over the keys that step reads (the cached positions and the new one).
* inference_memory -- weights at --weights-dtype and the KV cache of T positions at --kv-dtype.
* roofline() -- decode tokens/s bounded by a device's bandwidth and by its peak FLOP/s, and the
  time to the first token (Python only: the formula command prints no rates yet).
"""
from __future__ import annotations

import sympy as sp

from .. import accounting, units
from ..dims import product
from ..errors import ArgumentError
from .registry import Figure, Options, options, quantity

# What a decode step of an attention reads: every cached key position and the new one (a sliding
# window's cache keeps window - 1 positions, and transformers' eager attention multiplies over
# them and the new key: min(T, window - 1) + 1 keys).
_DECODED_CACHES = ("keys", "window")


def _positions(node):
    """The positions a layer's products run over per example: its output's all but the feature axis."""
    return product(node.shape[:-1])


def _per_position(node, tokens):
    """A layer's multiply-accumulates for one position, its attention scores and weighted sums
    taken out: its MACs over its positions, which must be the model's tokens (a layer whose
    products do not run once a token cannot be split per token)."""
    macs = sp.sympify(node.macs) - sp.Add(*[a.score_macs for a in accounting.attentions(node)])
    macs = sp.expand(macs)
    if macs == 0:
        return sp.Integer(0)
    positions = _positions(node)
    if sp.simplify(positions - tokens) != 0:
        raise ArgumentError(f"layer {node.name}: its products run over {positions} positions, not the model's "
                            f"{tokens} tokens, so decode_flops cannot tell what one generated token costs",
                            hint="decode_flops counts a decoder whose every layer runs once a token")
    for a in accounting.attentions(node):
        if sp.simplify(a.keys - a.queries) != 0:
            raise ArgumentError(f"layer {node.name}: an attention over {a.keys} keys from {a.queries} queries "
                                "(cross-attention) projects its keys once, which decode_flops does not count yet")
    return sp.expand(sp.cancel(macs / positions))


def _decode_keys(node, a):
    if a.cache not in _DECODED_CACHES:
        raise ArgumentError(f"layer {node.name}: its attention caches {a.cache!r}; decode_flops counts attentions "
                            "that cache keys (every position or a sliding window's)",
                            hint="an encoder's self-attention caches nothing: it does not generate")
    return a.cached_positions() + 1


def decode_macs(model):
    """Multiply-accumulates of one generated token with the model's sequence length T cached."""
    tokens = accounting.tokens_per_example(model)
    out = sp.Integer(0)
    for node, times in accounting.leaves(accounting.nodes_of(model)):
        out += times * _per_position(node, tokens)
        for a in accounting.attentions(node):
            out += times * a.times * a.heads * _decode_keys(node, a) * (a.key_dim + a.value_dim)
    return out


@quantity("prefill_flops", "FLOPs", "FLOPs of the prompt's forward: T = the sequence length, per example "
                                    "(every position's logits; --per-batch: B prompts)", options=("peak_flops",),
          whole_model=True)
def _prefill_flops(source, model, o, batch):
    return batch * 2 * sp.sympify(model.macs)


@quantity("decode_flops", "FLOPs", "FLOPs of generating one token with the sequence length T already cached, "
                                   "per example (--per-batch: B sequences)", options=("bandwidth", "peak_flops"),
          whole_model=True)
def _decode_flops(source, model, o, batch):
    return batch * 2 * decode_macs(model)


def _weights_dtype(o: Options) -> str:
    return o.weights_dtype or "bfloat16"


def weights_bytes(model, o: Options):
    """The parameters at --weights-dtype (bfloat16 by default); packed two a byte for 4-bit dtypes."""
    return units.storage_bytes(sp.sympify(model.params), _weights_dtype(o))


def kv_cache_bytes(model, o: Options, batch=1):
    """The keys and values of T positions (the kv_cache figure) at --kv-dtype, by default the weights'."""
    if not accounting.cached_attentions(model):
        return sp.Integer(0)
    return accounting.kv_cache(model, o.kv_dtype or _weights_dtype(o), batch)


@quantity("inference_memory", "bytes", "bytes of serving the model: the weights at --weights-dtype (default "
                                       "bfloat16) and the KV cache of T positions at --kv-dtype (default the "
                                       "weights'); no working set", options=("weights_dtype", "kv_dtype", "bandwidth", "peak_flops"),
          whole_model=True)
def _inference_memory(source, model, o, batch):
    weights, cache = weights_bytes(model, o), kv_cache_bytes(model, o, batch)
    kv = o.kv_dtype or _weights_dtype(o)
    dtype = _weights_dtype(o) if kv == _weights_dtype(o) else f"weights {_weights_dtype(o)}, KV cache {kv}"
    return Figure(weights + cache, [("weights", weights), ("kv_cache", cache)], dtype=dtype)


def roofline(model, per_batch: bool = False, **given) -> dict:
    """The roofline bounds of decoding and prefilling on a device of `bandwidth` bytes/s and
    `peak_flops` FLOP/s (either may be left out), as exact closed forms (sympy Rationals once the
    symbols have values):

    * bytes_per_step -- what a decode step reads: the weights once, and each sequence's KV cache
      (inference_memory's parts);
    * memory_bound_tokens_per_s -- bandwidth * sequences / bytes_per_step;
    * compute_bound_tokens_per_s -- peak_flops / decode_flops of one token;
    * tokens_per_s -- the lower of the two (the roofline);
    * time_to_first_token_s -- prefill_flops / peak_flops (compute-bound).

    With `per_batch`, B sequences decode together (B tokens a step) and B prompts prefill."""
    o = options(**given)
    batch = model.batch if per_batch else sp.Integer(1)
    weights, cache = weights_bytes(model, o), kv_cache_bytes(model, o, batch)
    out = {"bytes_per_step": sp.expand(weights + cache)}
    if o.bandwidth is not None:
        out["memory_bound_tokens_per_s"] = o.bandwidth * batch / out["bytes_per_step"]
    if o.peak_flops is not None:
        out["compute_bound_tokens_per_s"] = sp.Integer(o.peak_flops) / (2 * decode_macs(model))
        out["time_to_first_token_s"] = batch * 2 * sp.sympify(model.macs) / o.peak_flops
    if o.bandwidth is not None and o.peak_flops is not None:
        out["tokens_per_s"] = sp.Min(out["memory_bound_tokens_per_s"], out["compute_bound_tokens_per_s"])
    return out

