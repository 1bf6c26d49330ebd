"""Inference: prefill and decode FLOPs, the memory of serving a model (weights and KV cache), and the
roofline bounds of a device (docs/llm.md, Inference).

Every figure is read off the graph's layer facts (catalog/facts.py), never a layer's name:

* prefill_flops -- the forward of the prompt, T = the model's sequence length (every position's
  products, the logits of every position included: what a forward of transformers' model does).
* decode_flops -- one generated token with T tokens already cached: each layer's products per
  position (its MACs over its positions, the attention's scores taken out), plus each attention's
  scores and weighted sum over the keys that step reads (the cached positions and the new one).
* inference_memory -- weights at --weights-dtype (quantized as the libraries store them:
  finetune.base_weights), the KV cache of T positions at --kv-dtype, and the working set: the
  largest tensor the prompt's forward makes (working_set).
* roofline() -- decode tokens/s bounded by a device's bandwidth and by its peak FLOP/s, and the
  time to the first token; mfu() -- model FLOPs utilisation from a measured tokens/s.
"""
from __future__ import annotations

import sympy as sp

from .. import accounting, units
from ..dims import product
from ..errors import ArgumentError
from . import finetune
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


# The dtype of everything a quantized model does not quantize (embeddings, norms, biases, the head)
# and of its activations: transformers' torch_dtype / bnb_4bit_compute_dtype, bfloat16 here.
COMPUTE_DTYPE = "bfloat16"


def _compute_dtype(o: Options) -> str:
    w = _weights_dtype(o)
    return w if units.dtype_bits(w) >= 16 else COMPUTE_DTYPE


def weights_parts(model, o: Options) -> list:
    """(part, bytes) of the weights at --weights-dtype: every weight at a dtype of 16 bits or more;
    below, the linear layers as their library stores them, the rest at bfloat16 (finetune.base_weights)."""
    return finetune.base_weights(model, _weights_dtype(o), COMPUTE_DTYPE, o.group_size, o.double_quant,
                                 label="weights")


def weights_bytes(model, o: Options):
    """The weights' bytes at --weights-dtype (weights_parts summed)."""
    return sp.Add(*[b for _, b in weights_parts(model, o)])


def _kv_dtype(o: Options) -> str:
    """--kv-dtype, by default the weights' -- the compute dtype under quantized weights, whose libraries
    (bitsandbytes, FP8) leave the cache at it."""
    return o.kv_dtype or _compute_dtype(o)


def kv_cache_bytes(model, o: Options, batch=1):
    """The keys and values of T positions (the kv_cache figure) at --kv-dtype."""
    if not accounting.cached_attentions(model):
        return sp.Integer(0)
    return accounting.kv_cache(model, _kv_dtype(o), batch)


def working_set(model, o: Options, batch=1):
    """The largest tensor the prompt's forward (T tokens, `batch` prompts) makes beside the weights and
    the cache, at the compute dtype, read off the layers' facts: every layer's output (the head's at
    the last position only, as transformers' generate asks for it: logits_to_keep=1), the output of each linear layer a composite layer states (a gated MLP's gate and up
    projections), a copy a layer makes of its input at another dtype (RMSNorm's float32: its facts.Saved),
    and under eager attention each attention's scores, heads x queries x keys (in float32 where the
    family computes its softmax so: facts.Attention.upcast; sdpa's fused kernel makes no such tensor);
    and a decode step's: each layer's cache grown by one position (torch.cat makes it anew), under eager
    attention its keys and values repeated to every query head. Its other tensors are one position's."""
    data = units.dtype_bytes(_compute_dtype(o))
    outputs = {id(t) for t in model.outputs}
    candidates = set()
    for node, _ in accounting.leaves(accounting.nodes_of(model)):
        positions = _positions(node)
        # the head gives the last position's logits alone, as generate asks (logits_to_keep=1)
        kept = product(node.shape[-1:]) if id(node.output) in outputs and node.shape else product(node.shape)
        candidates.add(batch * data * kept)
        linears = node.out.linears if node.out is not None else ()
        for f in linears:
            if f.parameter is None:
                candidates.add(batch * data * positions * f.out_features)
        keeping = accounting.Keeping("transformers", o.attention, "none", _compute_dtype(o))
        for item in accounting.saved_facts(node, keeping) if node.out is not None and node.out.saved else ():
            if item.tensor is not None and item.dtype not in ("activations", "cast", "mask"):
                # a copy of its input or output at another dtype (RMSNorm's float32 input)
                shapes = [t.shape for t in node.inputs] if item.tensor == "input" else [node.shape]
                candidates.update(batch * units.dtype_bytes(item.dtype) * product(sh) for sh in shapes)
        for a in accounting.attentions(node):
            if o.attention == "eager":
                scores = a.heads * a.queries * a.keys
                candidates.add(batch * scores * (units.dtype_bytes("float32") if a.upcast else data))
            if a.cache in _DECODED_CACHES:
                # a decode step: the cache of each layer grown by one (torch.cat: a new tensor), and
                # under eager attention its keys and values repeated to every query head (repeat_kv)
                keys = _decode_keys(node, a)
                cache = units.dtype_bytes(_kv_dtype(o))
                candidates.update(batch * cache * a.kv_heads * keys * dim for dim in (a.key_dim, a.value_dim))
                if o.attention == "eager":
                    candidates.update(batch * data * a.heads * keys * dim for dim in (a.key_dim, a.value_dim))
    candidates = {sp.expand(c) for c in candidates}
    # a candidate another one provably bounds (their difference non-negative at every positive size) goes
    kept = [c for c in candidates if not any(d != c and sp.expand(d - c).is_nonnegative for d in candidates)]
    return sp.Max(*kept) if kept else sp.Integer(0)


@quantity("inference_memory", "bytes", "bytes of serving the model: the weights at --weights-dtype (default "
                                       "bfloat16; quantized as bitsandbytes and transformers store them), the KV "
                                       "cache of T positions at --kv-dtype (default the weights') and the working "
                                       "set, the largest tensor of the prompt's forward (--attention)",
          options=("weights_dtype", "kv_dtype", "group_size", "double_quant", "attention", "bandwidth",
                   "peak_flops"),
          whole_model=True)
def _inference_memory(source, model, o, batch):
    weights, cache = weights_parts(model, o), kv_cache_bytes(model, o, batch)
    work = working_set(model, o, batch)
    kv = _kv_dtype(o)
    dtype = _weights_dtype(o) if kv == _weights_dtype(o) else f"weights {_weights_dtype(o)}, KV cache {kv}"
    parts = weights + [("kv_cache", cache), (f"working set ({o.attention} attention)", work)]
    return Figure(sp.Add(*[b for _, b in parts]), parts, dtype=dtype)


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



MFU_STEPS = ("training", "prefill", "decode")


def flops_per_token(model, step: str = "training"):
    """The model FLOPs of one token of a step, exact: a training step's (forward and backward, no
    recomputation: what MFU counts, Chowdhery et al. 2022 appendix B), the prompt's forward's, or a
    generated token's with T tokens cached (decode_flops)."""
    if step not in MFU_STEPS:
        raise ArgumentError(f"unknown step '{step}'", hint="choose one of " + ", ".join(MFU_STEPS))
    if step == "decode":
        return 2 * decode_macs(model)
    tokens = accounting.tokens_per_example(model)
    per_example = accounting.training_flops(model) if step == "training" else 2 * sp.sympify(model.macs)
    return sp.cancel(per_example / tokens)


def mfu(model, tokens_per_second, peak_flops, step: str = "training", devices=1):
    """Model FLOPs utilisation: the model FLOPs a measured throughput does, over the devices' peak --
    tokens_per_second x flops_per_token(step) / (devices x peak_flops) -- exact (a sympy Rational once
    the model's symbols have values; tokens_per_second may be a decimal such as "1523.4", read exactly)."""
    rate, peak = sp.Rational(str(tokens_per_second)), sp.Rational(str(peak_flops))
    if rate <= 0 or peak <= 0 or not (isinstance(devices, int) and devices >= 1):
        raise ArgumentError("mfu needs a positive tokens/s, peak FLOP/s and device count")
    return rate * flops_per_token(model, step) / (devices * peak)
