"""FLOPs of a Hugging Face model as PyTorch counts them while it runs: the reference the closed-form
training_flops (symparams/accounting.py) is checked against in tests/test_flops_runtime.py.

The model is built by transformers from a small config on the CPU and run on random tokens under
torch.utils.flop_counter.FlopCounterMode, which counts matrix products only (mm, addmm, bmm,
baddbmm, matmul's decompositions, convolutions; 2 FLOPs per multiply-accumulate, a bias add or a
softmax nothing). What had to be settled to make the count mean what the closed form means:

* Attention runs as the family's `eager_attention_forward`: Q K^T and (softmax) V are two
  torch.matmul calls over every query x key pair (the causal mask is added to a full t x s score
  matrix, so nothing is skipped), keys and values first repeated to the query heads (repeat_kv, a
  copy: no FLOPs). So the count is 2 * heads * t * s * (key_dim + value_dim) per attention layer
  and example: query heads, not key/value heads, whatever the grouping. "sdpa" is counted the same
  only under torch.nn.attention.sdpa_kernel(SDPBackend.MATH), which is what attn_implementation=
  "sdpa" does here: on the CPU the default SDPA kernel (_scaled_dot_product_flash_attention_for_cpu)
  is not in FlopCounterMode's registry and counts 0.
* A mixture of experts runs its experts as "eager" (experts_implementation="eager"): a loop over
  the experts some token chose, each a linear over just its tokens. The tokens routed sum to
  tokens * top_k (top_k distinct experts per token), so the count does not depend on the routing:
  router tokens * hidden * experts + tokens * top_k * one expert's products. transformers' default
  "grouped_mm" kernel (aten._grouped_mm) is not in FlopCounterMode's registry and counts 0.
  `routed_tokens` reports what each router chose, to check that.
* recompute="full": transformers' own activation checkpointing of every decoder layer
  (activation_checkpointing_enable, formerly gradient_checkpointing_enable, with use_reentrant=True):
  torch.utils.checkpoint around each GradientCheckpointingLayer's forward; the backward repeats each
  layer's forward, and FlopCounterMode counts that repetition (it sees every op dispatched).
* recompute="selective": torch.utils.checkpoint (use_reentrant=True) around the family's attention
  function only (scores, mask, softmax, dropout, weighted sum: Korthikanti et al.'s selective
  recomputation), so the backward repeats the two attention products.
* The backward starts from logits.sum() (no loss: cross entropy has no matrix product), every
  weight trainable, so every product's backward is two products of its size (the input's and the
  weight's gradients; the first layer's input gradient too, which the embedding table needs); the
  embedding is a lookup, no product either way. So "none" is exactly 3 x the forward.
* Weights and tokens come from fixed seeds; torch runs on one thread while counting (tiny products
  on several threads were 3-4x slower on a busy machine).
"""
from __future__ import annotations

import contextlib
import sys
from functools import partial

import torch
import transformers
from torch.nn.attention import SDPBackend, sdpa_kernel
from torch.utils.checkpoint import checkpoint
from torch.utils.flop_counter import FlopCounterMode

RECOMPUTE = ("none", "selective", "full")


def build(config: dict, attn_implementation: str = "eager"):
    """The transformers model of a config.json dict (its `architectures`, else the family's causal
    LM), on the CPU, with weights drawn from a fixed seed."""
    data = dict(config)
    cfg = transformers.AutoConfig.for_model(**data)
    archs = data.get("architectures") or []
    torch.manual_seed(0)
    options = dict(attn_implementation=attn_implementation, experts_implementation="eager")
    if archs and hasattr(transformers, archs[0]):
        return getattr(transformers, archs[0])._from_config(cfg, **options)
    return transformers.AutoModelForCausalLM.from_config(cfg, **options)


def _tokens(config: dict, T: int, batch: int) -> torch.Tensor:
    vocab = config.get("vocab_size") or transformers.AutoConfig.for_model(**config).vocab_size
    return torch.randint(0, vocab, (batch, T), generator=torch.Generator().manual_seed(1))


def _output(model, tokens):
    y = model(input_ids=tokens, use_cache=False)
    return next(t for t in (getattr(y, n, None) for n in ("logits", "last_hidden_state")) if t is not None)


def _attention_modules(model) -> set:
    """The modeling modules (python files) whose eager_attention_forward the model calls."""
    names = {type(m).__module__ for m in model.modules()}
    return {sys.modules[n] for n in names if hasattr(sys.modules.get(n), "eager_attention_forward")}


def _checkpointed(attention, calls: list):
    """attention(module, q, k, v, mask, ...) run under a reentrant checkpoint: q, k, v (and the mask)
    are its inputs, everything else bound, so the backward repeats exactly this function."""
    def run(module, query, key, value, attention_mask, *args, **kwargs):
        calls.append(type(module).__name__)
        core = partial(_call, attention, module, args, kwargs)
        return checkpoint(core, query, key, value, attention_mask, use_reentrant=True)
    return run


def _call(attention, module, args, kwargs, query, key, value, attention_mask):
    return attention(module, query, key, value, attention_mask, *args, **kwargs)


@contextlib.contextmanager
def selective_recompute(model, attn_implementation: str = "eager"):
    """Checkpoint the core attention of every layer: the family's eager_attention_forward (patched in
    its modeling module for the duration), or the registry's function (e.g. "sdpa"). Yields the
    list of attention calls made; an error if the model never called the patched function (its
    attention written inline, as BLOOM's, or another path such as GPT-2's reorder_and_upcast_attn),
    rather than a count that silently equals no recomputation."""
    calls: list = []
    if attn_implementation == "eager":
        owners = [(mod, "eager_attention_forward") for mod in _attention_modules(model)]
        originals = [getattr(mod, name) for mod, name in owners]
        try:
            for (mod, name), fn in zip(owners, originals):
                setattr(mod, name, _checkpointed(fn, calls))
            yield calls
        finally:
            for (mod, name), fn in zip(owners, originals):
                setattr(mod, name, fn)
    else:
        from transformers.modeling_utils import ALL_ATTENTION_FUNCTIONS as registry
        local = registry._local_mapping.get(attn_implementation)
        registry[attn_implementation] = _checkpointed(registry[attn_implementation], calls)   # a local override
        try:
            yield calls
        finally:
            if local is None:
                del registry[attn_implementation]
            else:
                registry[attn_implementation] = local
    if not calls:
        raise NotImplementedError(f"{type(model).__name__} never called an attention function that could be "
                                  "checkpointed: selective recomputation is not measured for it")


@contextlib.contextmanager
def _one_thread():
    """Tiny products run fastest on one thread (several spin against each other on a busy machine);
    the process's setting is put back after."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(threads)


def _kernel(attn_implementation: str):
    return sdpa_kernel(SDPBackend.MATH) if attn_implementation == "sdpa" else contextlib.nullcontext()


def count(config: dict, T: int, batch: int = 1, recompute: str = "none", backward: bool = True,
          attn_implementation: str = "eager") -> FlopCounterMode:
    """The FlopCounterMode after one forward (and, with backward, the backward) pass; its
    get_flop_counts() has the FLOPs per module (e.g. "LlamaForCausalLM.model.layers.0")."""
    if recompute not in RECOMPUTE:
        raise ValueError(f"recompute must be one of {RECOMPUTE}, not {recompute!r}")
    with _one_thread():
        return _count(config, T, batch, recompute, backward, attn_implementation)


def _count(config, T, batch, recompute, backward, attn_implementation):
    model = build(config, attn_implementation)
    tokens = _tokens(config, T, batch)
    if not backward:
        model.eval()
        with torch.no_grad(), _kernel(attn_implementation), FlopCounterMode(display=False) as counter:
            _output(model, tokens)
        return counter
    model.train()
    if recompute == "full":
        model.activation_checkpointing_enable(activation_checkpointing_kwargs={"use_reentrant": True})
    recomputing = selective_recompute(model, attn_implementation) if recompute == "selective" else None
    with recomputing or contextlib.nullcontext(), _kernel(attn_implementation), FlopCounterMode(display=False) as counter:
        _output(model, tokens).float().sum().backward()
    return counter


def runtime_training_flops(config: dict, T: int, batch: int = 1, recompute: str = "none",
                           attn_implementation: str = "eager") -> int:
    """FLOPs of one training step (forward, backward, and the forward recomputation repeats) of the
    config's model on batch x T tokens, as FlopCounterMode counts them."""
    return count(config, T, batch, recompute, True, attn_implementation).get_total_flops()


def runtime_forward_flops(config: dict, T: int, batch: int = 1, attn_implementation: str = "eager") -> int:
    """FLOPs of one forward pass (no gradients) on batch x T tokens."""
    return count(config, T, batch, "none", False, attn_implementation).get_total_flops()


def routed_tokens(config: dict, T: int, batch: int = 1) -> list[list[int]]:
    """Per mixture-of-experts layer, the tokens each expert was given in a forward pass (read from the
    routers' top-k indices): each layer's sum is batch * T * top_k."""
    model = build(config).eval()
    seen = []

    def hook(module, args, out):
        index = out[-1] if isinstance(out, tuple) else out
        experts = getattr(module, "num_experts", None) or getattr(module, "n_routed_experts")
        seen.append(torch.bincount(index.reshape(-1), minlength=experts).tolist())
    routers = [m for n, m in model.named_modules() if type(m).__name__.endswith(("TopKRouter", "Router"))]
    handles = [r.register_forward_hook(hook) for r in routers]
    try:
        with torch.no_grad(), _one_thread():
            _output(model, _tokens(config, T, batch))
    finally:
        for h in handles:
            h.remove()
    return seen
