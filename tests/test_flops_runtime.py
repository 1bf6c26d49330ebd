"""Training FLOPs of imported Hugging Face configs against the FLOPs PyTorch counts when transformers
runs the same model (tests/flops_reference.py): forward, forward + backward with no recomputation,
with the core attention checkpointed (selective) and with every decoder layer checkpointed (full).

FlopCounterMode counts matrix products only. With eager attention the scores and the weighted sum
are two products over every query x key pair of every query head (keys and values repeated to
the query heads first, a copy), so an attention layer's forward is 2 * heads * T^2 * (key_dim +
value_dim) FLOPs per example at T tokens, causal mask or not; the mixtures of experts run their
"eager" expert loop, which gives each token's top_k experts just that token, so their count is the
same for any routing. Each family is run once, at every setting, and compared through `ours`.
"""
from __future__ import annotations

import json
from functools import lru_cache

import pytest
import sympy as sp

import symparams
from symparams import accounting
from symparams.importers.huggingface import program

transformers = pytest.importorskip("transformers")
torch = pytest.importorskip("torch")

from flops_reference import count, routed_tokens  # noqa: E402  (tests/ is on sys.path under pytest)


# ---------------------------------------------------------------- the one adapter to symparams

def ours(config: dict, T: int, batch: int, quantity: str, recompute: str = "none") -> int:
    """symparams' figure for the imported config at sequence_length=T and `batch` examples:
    quantity "training_flops" (with `recompute`), "forward_flops", or "lhqt" (PaLM's attention term,
    (6N + 12LHQT) - 6N, for the whole batch)."""
    model = _imported(json.dumps(config, sort_keys=True))
    values = {**model.evaluate({"sequence_length": T}).values, model.batch: batch}
    if quantity == "training_flops":
        expr = model.quantity("training_flops", per_batch=True, recompute=recompute)
    elif quantity == "forward_flops":
        expr = model.quantity("flops", per_batch=True)
    elif quantity == "lhqt":
        approx = accounting.approximations(model, batch=model.batch)
        expr = approx["6N + 12LHQT"] - approx["6N"]
    else:
        raise ValueError(quantity)
    return int(sp.sympify(expr).xreplace(values))


@lru_cache(maxsize=None)
def _imported(config_json: str):
    return symparams.parse(program(json.loads(config_json), "config.json"), "config.json")


# ---------------------------------------------------------------- the families, small

T, BATCH = 8, 2
COMMON = dict(vocab_size=97, pad_token_id=0, bos_token_id=0, eos_token_id=0)
LLAMA_LIKE = dict(COMMON, hidden_size=32, intermediate_size=40, num_hidden_layers=2, num_attention_heads=4,
                  num_key_value_heads=2)

# (model_type, architecture, fields); each at its family's distinctive settings
FAMILIES = [
    ("llama", "LlamaForCausalLM", LLAMA_LIKE),
    ("mistral", "MistralForCausalLM", dict(LLAMA_LIKE, head_dim=12, sliding_window=4)),
    ("qwen2", "Qwen2ForCausalLM", LLAMA_LIKE),
    ("qwen3", "Qwen3ForCausalLM", dict(LLAMA_LIKE, head_dim=12)),
    ("mixtral", "MixtralForCausalLM", dict(LLAMA_LIKE, num_local_experts=4, num_experts_per_tok=2)),
    ("qwen2_moe", "Qwen2MoeForCausalLM", dict(LLAMA_LIKE, num_experts=4, num_experts_per_tok=2,
                                              moe_intermediate_size=12, shared_expert_intermediate_size=20)),
    ("qwen3_moe", "Qwen3MoeForCausalLM", dict(LLAMA_LIKE, num_experts=4, num_experts_per_tok=2,
                                              moe_intermediate_size=12)),
    ("gpt2", "GPT2LMHeadModel", dict(COMMON, n_embd=32, n_layer=2, n_head=4, n_positions=16)),
    ("gpt_neox", "GPTNeoXForCausalLM", dict(COMMON, hidden_size=32, intermediate_size=40, num_hidden_layers=2,
                                            num_attention_heads=4, rotary_pct=0.5)),
    ("phi", "PhiForCausalLM", dict(LLAMA_LIKE, partial_rotary_factor=0.5, qk_layernorm=True)),
    ("phi3", "Phi3ForCausalLM", LLAMA_LIKE),
    ("gemma", "GemmaForCausalLM", dict(LLAMA_LIKE, head_dim=12)),
    ("gemma2", "Gemma2ForCausalLM", dict(LLAMA_LIKE, head_dim=12, sliding_window=4)),
    ("gemma3_text", "Gemma3ForCausalLM", dict(LLAMA_LIKE, head_dim=12, sliding_window=4)),
    ("olmo", "OlmoForCausalLM", LLAMA_LIKE),
    ("olmo2", "Olmo2ForCausalLM", LLAMA_LIKE),
    ("starcoder2", "Starcoder2ForCausalLM", LLAMA_LIKE),
    ("gptj", "GPTJForCausalLM", dict(COMMON, n_embd=32, n_layer=2, n_head=4, rotary_dim=4, n_positions=16)),
    ("opt", "OPTForCausalLM", dict(COMMON, hidden_size=32, ffn_dim=40, num_hidden_layers=2, num_attention_heads=4,
                                   word_embed_proj_dim=32, max_position_embeddings=16)),
    ("falcon", "FalconForCausalLM", dict(COMMON, hidden_size=32, ffn_hidden_size=40, num_hidden_layers=2,
                                         num_attention_heads=4, new_decoder_architecture=True, num_kv_heads=2,
                                         parallel_attn=True, alibi=False, bias=False)),
    ("deepseek_v2", "DeepseekV2ForCausalLM", dict(COMMON, hidden_size=32, intermediate_size=40, num_hidden_layers=2,
                                                  num_attention_heads=4, num_key_value_heads=4, q_lora_rank=None,
                                                  kv_lora_rank=8, qk_nope_head_dim=8, qk_rope_head_dim=4,
                                                  v_head_dim=6, moe_intermediate_size=12, n_routed_experts=4,
                                                  n_shared_experts=1, num_experts_per_tok=2, first_k_dense_replace=1)),
    ("deepseek_v3", "DeepseekV3ForCausalLM", dict(COMMON, hidden_size=32, intermediate_size=40, num_hidden_layers=2,
                                                  num_attention_heads=4, num_key_value_heads=4, q_lora_rank=16,
                                                  kv_lora_rank=8, qk_nope_head_dim=8, qk_rope_head_dim=4,
                                                  v_head_dim=6, moe_intermediate_size=12, n_routed_experts=4,
                                                  n_shared_experts=1, num_experts_per_tok=2, first_k_dense_replace=1,
                                                  n_group=1, topk_group=1)),
]
# BLOOM is left out of the selective setting: its attention is written inside BloomAttention.forward
# (alibi.baddbmm, bmm), with no attention function to checkpoint apart from the projections.
BLOOM = ("bloom", "BloomForCausalLM", dict(COMMON, hidden_size=32, n_layer=2, n_head=4))
IDS = [f[0] for f in FAMILIES]
MOE = {"mixtral", "qwen2_moe", "qwen3_moe", "deepseek_v2", "deepseek_v3"}
EQUAL_KV_DIMS = set(IDS) - {"deepseek_v2", "deepseek_v3"}     # PaLM's 12LHQT assumes key_dim == value_dim


def config_of(model_type, arch, fields) -> dict:
    """The config.json transformers writes (only what differs from the family's defaults)."""
    return json.loads(transformers.AutoConfig.for_model(model_type, architectures=[arch], **fields).to_json_string())


@lru_cache(maxsize=None)
def runtime(family: str) -> dict:
    """The family's counts at T tokens x BATCH examples, every setting, each on a fresh model."""
    model_type, arch, fields = next(f for f in FAMILIES + [BLOOM] if f[0] == family)
    config = config_of(model_type, arch, fields)
    out = {"config": config, "forward": count(config, T, BATCH, backward=False).get_total_flops()}
    for recompute in ("none", "selective", "full"):
        if family == "bloom" and recompute == "selective":
            continue
        out[recompute] = count(config, T, BATCH, recompute).get_total_flops()
    return out


# ---------------------------------------------------------------- symparams against the runtime

@pytest.mark.parametrize("family", IDS + ["bloom"])
def test_forward_flops(family):
    r = runtime(family)
    assert ours(r["config"], T, BATCH, "forward_flops") == r["forward"]


@pytest.mark.parametrize("recompute", ["none", "selective", "full"])
@pytest.mark.parametrize("family", IDS)
def test_training_flops(family, recompute):
    r = runtime(family)
    assert ours(r["config"], T, BATCH, "training_flops", recompute) == r[recompute]


@pytest.mark.parametrize("recompute", ["none", "full"])
def test_training_flops_bloom(recompute):
    r = runtime("bloom")
    assert ours(r["config"], T, BATCH, "training_flops", recompute) == r[recompute]


@pytest.mark.parametrize("family", sorted(EQUAL_KV_DIMS))
def test_palm_attention_term_is_three_times_the_attention_products(family):
    """PaLM's 12LHQT per token is the forward + backward of the scores and the weighted sum: three
    times what selective recomputation repeats, which the runtime measures as selective - none."""
    r = runtime(family)
    assert ours(r["config"], T, BATCH, "lhqt") == 3 * (r["selective"] - r["none"])


# ---------------------------------------------------------------- the reference's own rules

def test_reference_full_recompute_repeats_each_layers_forward():
    """transformers' activation checkpointing (reentrant) is counted: full - none is the decoder
    layers' forward, and selective - none the two attention products per layer, 4 * B * L * h * T^2 * d."""
    r = runtime("llama")
    fwd = count(r["config"], T, BATCH, backward=False).get_flop_counts()
    layers = sum(sum(ops.values()) for name, ops in fwd.items() if name.count(".") == 3 and ".layers." in name)
    assert r["full"] - r["none"] == layers
    h, d, L = 4, 8, 2
    assert r["selective"] - r["none"] == 4 * BATCH * L * h * T * T * d
    assert r["none"] == 3 * r["forward"]


def test_reference_sdpa_counts_as_eager_under_the_math_kernel():
    config = runtime("qwen2")["config"]
    for recompute in ("none", "selective", "full"):
        assert count(config, T, BATCH, recompute, attn_implementation="sdpa").get_total_flops() == \
            runtime("qwen2")[recompute]


@pytest.mark.parametrize("family", sorted(MOE))
def test_reference_routes_top_k_tokens_per_token(family):
    """The count is routing-free: every router hands out exactly T * B * top_k token slots."""
    config = runtime(family)["config"]
    top_k = config.get("num_experts_per_tok", 2)
    for per_expert in routed_tokens(config, T, BATCH):
        assert sum(per_expert) == T * BATCH * top_k


def test_reference_refuses_selective_where_no_attention_function_runs():
    with pytest.raises(NotImplementedError, match="BloomForCausalLM"):
        count(runtime("bloom")["config"], T, BATCH, "selective")


# ---------------------------------------------------------------- torch's MultiheadAttention's extra keys

@pytest.mark.parametrize("batch_first", [False, True])
@pytest.mark.parametrize("add_bias_kv,add_zero_attn", [(False, False), (True, False), (False, True), (True, True)])
def test_multihead_attention_extra_key_positions(add_bias_kv, add_zero_attn, batch_first):
    """add_bias_kv appends a learned key and value, add_zero_attn a zero one, after the projections:
    each is one more key position the scores and the weighted sum read, 2 * T * E multiply-accumulates
    (h heads x T queries x (E/h + E/h)), the projections unchanged. A (4, 8) input is one unbatched
    sequence (batch_first only orders a 3-D input's axes). need_weights=True (the default) runs the
    products as bmm/baddbmm, which FlopCounterMode counts; need_weights=False goes to SDPA, counted 0
    on the CPU unless under SDPBackend.MATH, and a batched input in inference mode takes the fused
    fast path (add_bias_kv and add_zero_attn off), counted 0 altogether."""
    from torch import nn
    from torch.utils.flop_counter import FlopCounterMode
    T, E, h = 4, 8, 2
    mha = nn.MultiheadAttention(E, h, add_bias_kv=add_bias_kv, add_zero_attn=add_zero_attn, batch_first=batch_first)
    x = torch.randn(T, E)
    with FlopCounterMode(display=False) as counter:
        mha(x, x, x)
    extra = int(add_bias_kv) + int(add_zero_attn)
    macs = 4 * T * E * E + h * T * (T + extra) * 2 * (E // h)
    assert counter.get_total_flops() == 2 * macs
    flag = {False: "false", True: "true"}
    ev = symparams.parse(f"convention torch\nmodel m():\n    x = input ({T}, {E})\n"
                         f"    y = MultiheadAttention(embed_dim={E}, num_heads={h}, add_bias_kv={flag[add_bias_kv]}, "
                         f"add_zero_attn={flag[add_zero_attn]})(x, x)\n").evaluate()
    assert ev.macs == macs
