"""The runtime reference for KV cache bytes: what Hugging Face transformers really caches.

`runtime_cache_bytes(config, prefill, decode_steps)` builds the transformers model of a config.json
dict on the CPU (tiny sizes, random weights), runs a prefill of `prefill` tokens with
use_cache=True, then `decode_steps` single-token steps feeding the returned cache back, and
returns the bytes of the keys and values the cache object then holds (numel * element_size of
every `keys`/`values` tensor, walked generically through the object: DynamicCache.layers,
EncoderDecoderCache's self_attention_cache and cross_attention_cache, sliding-window layers).

`cache_tensors` lists every tensor the cache holds, so the bookkeeping ones (a sliding-window
layer's `_sliding_window_tensor`, an int64 scalar: 8 bytes per sliding layer, independent of the
positions) can be seen; `runtime_cache_bytes(..., everything=True)` counts them too. By default it
does not count the hidden storage a sliced view keeps alive (`storage=True` does): transformers keeps
the last `sliding_window - 1` positions of a sliding layer as a view of the concatenated
tensor, so the allocation behind it is larger (all `prefill` positions right after the prefill,
`min(positions, sliding_window)` after a decode step).

`CASES`: (label, config dict) tiny configs, one or more per family symparams imports, written as
a config.json would be (model_type, architectures and fields).

Measured rules (transformers 5.25, CPU runs of the CASES below): a layer caches
batch * kv_heads * (key_dim + value_dim) numbers per kept position at the model's dtype; a full
attention layer keeps every position; a sliding layer keeps min(positions, sliding_window - 1);
DeepSeek-V2/V3 keep the compressed latent, not per-head keys and values: one "head" of
kv_lora_rank (the normed c_kv, stored as `keys`) + qk_rope_head_dim (the rotated shared key,
stored as `values`) numbers per position per layer; encoder-decoders keep the decoder's
self-attention keys/values at every decoder position plus the cross-attention keys/values of
every encoder position, once per decoder layer; encoder-only models return no cache.
`rule_bytes` below is that rule in code.
"""
from __future__ import annotations

import json
from functools import lru_cache

import torch
import transformers

ENCODER_ONLY = {"bert", "roberta", "distilbert", "electra", "albert", "vit"}
ENCODER_DECODER = {"t5", "bart"}

_DTYPES = {"float32": torch.float32, "bfloat16": torch.bfloat16, "float16": torch.float16}
_VOCAB_IDS = 40       # token ids drawn below this; every tiny config's vocabulary is larger


def cache_tensors(obj, path: str = "cache") -> list[tuple[str, torch.Tensor]]:
    """Every tensor reachable from a cache object, once each, with its attribute path."""
    seen, out = set(), []

    def walk(o, p):
        if id(o) in seen:
            return
        seen.add(id(o))
        if isinstance(o, torch.Tensor):
            out.append((p, o))
        elif isinstance(o, (list, tuple)):
            for i, v in enumerate(o):
                walk(v, f"{p}[{i}]")
        elif isinstance(o, dict):
            for k, v in o.items():
                walk(v, f"{p}[{k!r}]")
        elif hasattr(o, "__dict__") and not isinstance(o, (type, torch.nn.Module, torch.device, torch.dtype)):
            for k, v in vars(o).items():
                walk(v, f"{p}.{k}")

    walk(obj, path)
    return out


def is_kv(path: str) -> bool:
    return path.endswith((".keys", ".values"))


def _build(config: dict, dtype: str):
    return _build_cached(json.dumps(config, sort_keys=True), dtype)


@lru_cache(maxsize=None)
def _build_cached(config_json: str, dtype: str):
    """The model, built once per config and dtype: a forward does not change it."""
    config = json.loads(config_json)
    data = dict(config)
    arch = (data.pop("architectures", None) or [None])[0]
    cfg = transformers.AutoConfig.for_model(**data)
    torch.manual_seed(0)
    kwargs = dict(dtype=_DTYPES[dtype], attn_implementation="eager")
    if any(k in config for k in ("num_local_experts", "num_experts", "n_routed_experts")) or \
            config["model_type"] in ("mixtral", "qwen2_moe", "qwen3_moe", "deepseek_v2", "deepseek_v3"):
        kwargs["experts_implementation"] = "eager"
    cls = getattr(transformers, arch) if arch else transformers.AutoModelForCausalLM
    return cls._from_config(cfg, **kwargs).eval()


def run_cache(config: dict, prefill: int, decode_steps: int, batch: int = 1, dtype: str = "bfloat16",
              encoder_length: int | None = None):
    """The cache object after the prefill and the decode steps (None for an encoder-only model).
    One CPU thread: the tensors are tiny, and several threads contending on a loaded machine made
    the runs ten times slower."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        return _run_cache(config, prefill, decode_steps, batch, dtype, encoder_length)
    finally:
        torch.set_num_threads(threads)


def _run_cache(config, prefill, decode_steps, batch, dtype, encoder_length):
    family = config["model_type"]
    model = _build(config, dtype)
    g = torch.Generator().manual_seed(1)

    def tokens(n):
        return torch.randint(1, _VOCAB_IDS, (batch, n), generator=g)

    with torch.no_grad():
        if family in ENCODER_ONLY:
            if family == "vit":
                size = model.config.image_size
                out = model(pixel_values=torch.zeros(batch, model.config.num_channels, size, size,
                                                     dtype=_DTYPES[dtype]))
            else:
                out = model(input_ids=tokens(prefill), use_cache=True)
            return getattr(out, "cache", None)
        if family in ENCODER_DECODER:
            encoder_ids = tokens(encoder_length if encoder_length is not None else prefill)
            encoder_outputs = model.get_encoder()(input_ids=encoder_ids)
            out = model(encoder_outputs=encoder_outputs, decoder_input_ids=tokens(prefill), use_cache=True)
            for _ in range(decode_steps):
                out = model(encoder_outputs=encoder_outputs, decoder_input_ids=tokens(1), cache=out.cache,
                            use_cache=True)
            return out.cache
        out = model(input_ids=tokens(prefill), use_cache=True)
        for _ in range(decode_steps):
            out = model(input_ids=tokens(1), cache=out.cache, use_cache=True)
        return out.cache


def runtime_cache_bytes(config: dict, prefill: int, decode_steps: int, batch: int = 1, dtype: str = "bfloat16",
                        encoder_length: int | None = None, everything: bool = False, storage: bool = False) -> int:
    """Bytes of the keys and values transformers' cache holds after `prefill` tokens and
    `decode_steps` single-token steps: sum of numel * element_size over every keys/values tensor.
    `everything` adds the other tensors the cache holds (a sliding layer's int64 window scalar);
    `storage` counts the allocation behind each tensor instead of its visible elements.
    An encoder-decoder's encoder reads `encoder_length` tokens (default: `prefill`).
    An encoder-only model has no cache: 0."""
    cache = run_cache(config, prefill, decode_steps, batch, dtype, encoder_length)
    if cache is None:
        return 0
    total, storages = 0, set()
    for path, t in cache_tensors(cache):
        if not (everything or is_kv(path)):
            continue
        if storage:
            key = t.untyped_storage().data_ptr()
            if key not in storages:
                storages.add(key)
                total += t.untyped_storage().nbytes()
        else:
            total += t.numel() * t.element_size()
    return total


# ------------------------------------------------------------------------------ tiny configs

def _dec(model_type, arch, **fields):
    base = dict(vocab_size=64, hidden_size=32, num_hidden_layers=2, num_attention_heads=4, num_key_value_heads=2,
                intermediate_size=16, pad_token_id=0, bos_token_id=0, eos_token_id=0)
    base.update(fields)
    return {"model_type": model_type, "architectures": [arch], **{k: v for k, v in base.items() if v is not ...}}


_MOE = dict(num_experts_per_tok=2, moe_intermediate_size=8)

CASES: list[tuple[str, dict]] = [
    # Llama: GQA, MHA, MQA, a head_dim that is not hidden/heads
    ("llama-gqa", _dec("llama", "LlamaForCausalLM")),
    ("llama-mha", _dec("llama", "LlamaForCausalLM", num_key_value_heads=4, num_hidden_layers=3)),
    ("llama-mqa", _dec("llama", "LlamaForCausalLM", num_key_value_heads=1)),
    ("llama-head_dim", _dec("llama", "LlamaForCausalLM", head_dim=12)),
    # Mistral: every layer slides when sliding_window is set (the class default is 4096); null turns it off
    ("mistral-swa8", _dec("mistral", "MistralForCausalLM", sliding_window=8)),
    ("mistral-no-swa", _dec("mistral", "MistralForCausalLM", sliding_window=None)),
    ("mistral-default-4096", _dec("mistral", "MistralForCausalLM")),
    ("mistral-head_dim", _dec("mistral", "MistralForCausalLM", head_dim=16, sliding_window=None)),
    ("mixtral", _dec("mixtral", "MixtralForCausalLM", num_local_experts=3, num_experts_per_tok=2)),
    ("mixtral-swa8", _dec("mixtral", "MixtralForCausalLM", num_local_experts=3, num_experts_per_tok=2,
                          sliding_window=8)),
    # Qwen2/Qwen3: sliding only with use_sliding_window, on layers i >= max_window_layers
    ("qwen2", _dec("qwen2", "Qwen2ForCausalLM")),
    ("qwen2-swa-ignored", _dec("qwen2", "Qwen2ForCausalLM", sliding_window=8)),
    ("qwen2-swa8-from-layer-1", _dec("qwen2", "Qwen2ForCausalLM", num_hidden_layers=3, use_sliding_window=True,
                                     sliding_window=8, max_window_layers=1)),
    ("qwen3", _dec("qwen3", "Qwen3ForCausalLM", head_dim=16)),
    ("qwen3-swa8-from-layer-2", _dec("qwen3", "Qwen3ForCausalLM", num_hidden_layers=3, head_dim=8,
                                     use_sliding_window=True, sliding_window=8, max_window_layers=2)),
    # Qwen2-MoE: sliding (with use_sliding_window) on even layers i < max_window_layers; Qwen3-MoE: all layers
    ("qwen2_moe", _dec("qwen2_moe", "Qwen2MoeForCausalLM", num_experts=3, shared_expert_intermediate_size=8,
                       **_MOE)),
    ("qwen2_moe-swa8", _dec("qwen2_moe", "Qwen2MoeForCausalLM", num_experts=3, shared_expert_intermediate_size=8,
                            num_hidden_layers=4, use_sliding_window=True, sliding_window=8, max_window_layers=3,
                            **_MOE)),
    ("qwen3_moe", _dec("qwen3_moe", "Qwen3MoeForCausalLM", num_experts=3, head_dim=16, **_MOE)),
    ("qwen3_moe-swa8", _dec("qwen3_moe", "Qwen3MoeForCausalLM", num_experts=3, head_dim=8, use_sliding_window=True,
                            sliding_window=8, **_MOE)),
    ("phi3", _dec("phi3", "Phi3ForCausalLM")),
    ("phi3-swa8", _dec("phi3", "Phi3ForCausalLM", sliding_window=8)),
    # Gemma: MQA by default; Gemma 2 alternates sliding (even layers) and full; Gemma 3 five sliding then one full
    ("gemma-mqa", _dec("gemma", "GemmaForCausalLM", num_key_value_heads=1, head_dim=16)),
    ("gemma2-swa8", _dec("gemma2", "Gemma2ForCausalLM", num_hidden_layers=4, head_dim=8, sliding_window=8)),
    ("gemma2-default-4096", _dec("gemma2", "Gemma2ForCausalLM", num_hidden_layers=3, head_dim=8)),
    ("gemma3_text-swa8", _dec("gemma3_text", "Gemma3ForCausalLM", num_hidden_layers=7, head_dim=8,
                              sliding_window=8)),
    ("gemma3_text-pattern2", _dec("gemma3_text", "Gemma3ForCausalLM", num_hidden_layers=4, head_dim=8,
                                  sliding_window=8, sliding_window_pattern=2)),
    ("gemma3_text-layer_types", _dec("gemma3_text", "Gemma3ForCausalLM", num_hidden_layers=3, head_dim=8,
                                     sliding_window=6, layer_types=["full_attention", "sliding_attention",
                                                                    "full_attention"])),
    ("olmo", _dec("olmo", "OlmoForCausalLM")),
    ("olmo2", _dec("olmo2", "Olmo2ForCausalLM")),
    ("starcoder2", _dec("starcoder2", "Starcoder2ForCausalLM")),
    ("starcoder2-swa8", _dec("starcoder2", "Starcoder2ForCausalLM", sliding_window=8)),
    ("gpt_neox", _dec("gpt_neox", "GPTNeoXForCausalLM", num_key_value_heads=...)),
    ("gpt2", {"model_type": "gpt2", "architectures": ["GPT2LMHeadModel"], "vocab_size": 64, "n_embd": 32,
              "n_layer": 2, "n_head": 4, "n_positions": 64}),
    ("phi", _dec("phi", "PhiForCausalLM", partial_rotary_factor=0.5)),
    ("bloom", {"model_type": "bloom", "architectures": ["BloomForCausalLM"], "vocab_size": 64, "hidden_size": 32,
               "n_layer": 2, "n_head": 4, "pad_token_id": 0, "bos_token_id": 0, "eos_token_id": 0}),
    ("gptj", {"model_type": "gptj", "architectures": ["GPTJForCausalLM"], "vocab_size": 64, "n_embd": 32,
              "n_layer": 2, "n_head": 4, "rotary_dim": 4, "n_positions": 64, "bos_token_id": 0, "eos_token_id": 0}),
    ("opt", {"model_type": "opt", "architectures": ["OPTForCausalLM"], "vocab_size": 64, "hidden_size": 32,
             "num_hidden_layers": 2, "num_attention_heads": 4, "ffn_dim": 16, "word_embed_proj_dim": 16,
             "max_position_embeddings": 64, "pad_token_id": 0, "bos_token_id": 0, "eos_token_id": 0}),
    # Falcon: multi_query (one kv head, the default), the new architecture's num_kv_heads, and MHA
    ("falcon-mqa", {"model_type": "falcon", "architectures": ["FalconForCausalLM"], "vocab_size": 64,
                    "hidden_size": 32, "num_hidden_layers": 2, "num_attention_heads": 4, "multi_query": True,
                    "parallel_attn": True, "bias": False}),
    ("falcon-new-gqa", {"model_type": "falcon", "architectures": ["FalconForCausalLM"], "vocab_size": 64,
                        "hidden_size": 32, "num_hidden_layers": 2, "num_attention_heads": 4, "num_kv_heads": 2,
                        "new_decoder_architecture": True, "parallel_attn": True, "bias": False}),
    ("falcon-mha-alibi", {"model_type": "falcon", "architectures": ["FalconForCausalLM"], "vocab_size": 64,
                          "hidden_size": 32, "num_hidden_layers": 2, "num_attention_heads": 4, "multi_query": False,
                          "parallel_attn": False, "bias": True, "alibi": True}),
    # DeepSeek multi-head latent attention (num_key_value_heads = heads: the eager attention repeats by their ratio)
    ("deepseek_v2", _dec("deepseek_v2", "DeepseekV2ForCausalLM", num_key_value_heads=4, q_lora_rank=None,
                         kv_lora_rank=10, qk_nope_head_dim=8, qk_rope_head_dim=4, v_head_dim=6,
                         moe_intermediate_size=8, n_routed_experts=3, n_shared_experts=1, num_experts_per_tok=2,
                         first_k_dense_replace=1)),
    ("deepseek_v3", _dec("deepseek_v3", "DeepseekV3ForCausalLM", num_key_value_heads=4, q_lora_rank=12,
                         kv_lora_rank=12, qk_nope_head_dim=8, qk_rope_head_dim=2, v_head_dim=6,
                         moe_intermediate_size=8, n_routed_experts=3, n_shared_experts=1, num_experts_per_tok=2,
                         first_k_dense_replace=1, n_group=1, topk_group=1)),
    # encoder-decoders: decoder self-attention + cross-attention over the encoder's positions
    ("t5", {"model_type": "t5", "architectures": ["T5ForConditionalGeneration"], "vocab_size": 64, "d_model": 32,
            "d_kv": 8, "num_heads": 4, "d_ff": 16, "num_layers": 2, "decoder_start_token_id": 0}),
    ("t5-deeper-decoder-d_kv", {"model_type": "t5", "architectures": ["T5ForConditionalGeneration"],
                                "vocab_size": 64, "d_model": 32, "d_kv": 6, "num_heads": 4, "d_ff": 16,
                                "num_layers": 1, "num_decoder_layers": 3, "decoder_start_token_id": 0}),
    ("bart", {"model_type": "bart", "architectures": ["BartForConditionalGeneration"], "vocab_size": 64,
              "d_model": 32, "encoder_layers": 1, "decoder_layers": 2, "encoder_attention_heads": 4,
              "decoder_attention_heads": 2, "encoder_ffn_dim": 16, "decoder_ffn_dim": 16,
              "max_position_embeddings": 64, "pad_token_id": 0, "bos_token_id": 0, "eos_token_id": 0,
              "decoder_start_token_id": 0, "forced_eos_token_id": 0}),
    # encoder-only: no cache
    ("bert", {"model_type": "bert", "architectures": ["BertModel"], "vocab_size": 64, "hidden_size": 32,
              "num_hidden_layers": 2, "num_attention_heads": 4, "intermediate_size": 16,
              "max_position_embeddings": 64}),
    ("roberta", {"model_type": "roberta", "architectures": ["RobertaModel"], "vocab_size": 64, "hidden_size": 32,
                 "num_hidden_layers": 2, "num_attention_heads": 4, "intermediate_size": 16,
                 "max_position_embeddings": 66, "pad_token_id": 0}),
    ("distilbert", {"model_type": "distilbert", "architectures": ["DistilBertModel"], "vocab_size": 64, "dim": 32,
                    "n_layers": 2, "n_heads": 4, "hidden_dim": 16, "max_position_embeddings": 64}),
    ("electra", {"model_type": "electra", "architectures": ["ElectraModel"], "vocab_size": 64, "embedding_size": 16,
                 "hidden_size": 32, "num_hidden_layers": 2, "num_attention_heads": 4, "intermediate_size": 16,
                 "max_position_embeddings": 64}),
    ("albert", {"model_type": "albert", "architectures": ["AlbertModel"], "vocab_size": 64, "embedding_size": 16,
                "hidden_size": 32, "num_hidden_layers": 2, "num_attention_heads": 4, "intermediate_size": 16,
                "max_position_embeddings": 64}),
    ("vit", {"model_type": "vit", "architectures": ["ViTModel"], "hidden_size": 32, "num_hidden_layers": 2,
             "num_attention_heads": 4, "intermediate_size": 16, "image_size": 8, "patch_size": 4}),
]


# ------------------------------------------------------------------------------ the measured rule

def rule_bytes(config: dict, prefill: int, decode_steps: int, batch: int = 1, dtype: str = "bfloat16",
               encoder_length: int | None = None) -> int:
    """The closed rule the measurements follow, from transformers' resolved config (its defaults,
    layer_types, sliding_window): sum over cached attention layers of
    batch * kept_positions * kv_heads * (key_dim + value_dim) * bytes_per_number, where a sliding
    layer keeps min(positions, sliding_window - 1) (all of them when sliding_window == 1: the slice
    [-0:] keeps everything) and every other layer keeps all positions."""
    family = config["model_type"]
    if family in ENCODER_ONLY:
        return 0
    size = torch.empty((), dtype=_DTYPES[dtype]).element_size()
    data = {k: v for k, v in config.items() if k != "architectures"}
    c = transformers.AutoConfig.for_model(**data)
    positions = prefill + decode_steps

    if family == "t5":
        layers = c.num_decoder_layers
        per = c.num_heads * 2 * c.d_kv
        encoder = encoder_length if encoder_length is not None else prefill
        return batch * size * layers * per * (positions + encoder)
    if family == "bart":
        per = 2 * c.d_model      # decoder_attention_heads * 2 * (d_model / decoder_attention_heads)
        encoder = encoder_length if encoder_length is not None else prefill
        return batch * size * c.decoder_layers * per * (positions + encoder)
    if family in ("deepseek_v2", "deepseek_v3"):
        # the compressed latent: keys = normed c_kv (kv_lora_rank), values = rotated k_pe (qk_rope_head_dim)
        return batch * size * c.num_hidden_layers * positions * (c.kv_lora_rank + c.qk_rope_head_dim)

    heads = c.num_attention_heads
    if family == "falcon":
        kv = c.num_kv_heads if c.new_decoder_architecture else (1 if c.multi_query else heads)
    elif family in ("gpt2", "gptj", "bloom", "gpt_neox", "opt"):
        kv = heads
    else:
        kv = getattr(c, "num_key_value_heads", None) or heads
    head_dim = getattr(c, "head_dim", None) or c.hidden_size // heads
    per = kv * 2 * head_dim

    types = getattr(c, "layer_types", None)
    if types is None:
        types = ["sliding_attention" if getattr(c, "sliding_window", None) is not None else "full_attention"] \
            * c.num_hidden_layers
    total = 0
    for kind in types[: c.num_hidden_layers]:
        kept = positions
        if kind == "sliding_attention" and c.sliding_window > 1:
            kept = min(positions, c.sliding_window - 1)
        total += kept * per
    return batch * size * total
