"""torch_glue.py's Llama and Mixtral modules against transformers' own (LlamaMLP, LlamaAttention with
num_key_value_heads, LlamaRotaryEmbedding, MixtralSparseMoeBlock), built from configs on the meta
device: the same weights, and MACs equal to what torch.utils.flop_counter.FlopCounterMode counts / 2
(the experts: see test_mixture_of_experts_is_mixtrals)."""
import pytest
import torch
from torch import nn
from torch.utils.flop_counter import FlopCounterMode

import symparams
from symparams.verify.torch_glue import ClassToken, FirstToken, GatedMLP, GroupedQueryAttention, LayerScale, \
    MixtureOfExperts, RotaryEmbedding

transformers = pytest.importorskip("transformers")
from transformers.models.llama import modeling_llama  # noqa: E402


def _config(d, heads, kv_heads, ff, bias=False):
    return transformers.LlamaConfig(hidden_size=d, num_attention_heads=heads, num_key_value_heads=kv_heads,
                                    intermediate_size=ff, attention_bias=bias, mlp_bias=bias, vocab_size=32)


def _params(module) -> int:
    return sum(p.numel() for p in module.parameters())


def _macs(module, *inputs) -> int:
    with FlopCounterMode(display=False) as counter:
        module(*inputs)
    return counter.get_total_flops() // 2


def _formula_macs(shape: str, line: str) -> int:
    return symparams.parse(f"model m():\n    x = input {shape}\n    {line}\n", convention="torch").evaluate().macs


SIZES = [(64, 8, 2, 172, False), (96, 6, 6, 256, True), (48, 4, 1, 100, False)]


@pytest.mark.parametrize("d,heads,kv_heads,ff,bias", SIZES)
def test_gated_mlp_is_llamas_mlp(d, heads, kv_heads, ff, bias):
    with torch.device("meta"):
        theirs = modeling_llama.LlamaMLP(_config(d, heads, kv_heads, ff, bias))
        ours = GatedMLP(d, ff, nn.SiLU(), bias=bias)
        x = torch.zeros(1, 10, d)
    assert _params(ours) == _params(theirs)
    flag = ", use_bias=true" if bias else ""
    assert _macs(ours, x) == _macs(theirs, x) == _formula_macs(f"(10, {d})", f"y = gated_mlp({ff}{flag})(x)")


@pytest.mark.parametrize("d,heads,kv_heads,ff,bias", SIZES)
def test_grouped_query_attention_is_llamas_attention(d, heads, kv_heads, ff, bias):
    config = _config(d, heads, kv_heads, ff, bias)
    with torch.device("meta"):
        theirs = modeling_llama.LlamaAttention(config, layer_idx=0)
        ours = GroupedQueryAttention(d, d, d, d, heads, kv_heads, bias=bias)
        x = torch.zeros(1, 10, d)
    assert _params(ours) == _params(theirs)
    assert [p.shape for p in ours.parameters()] == [p.shape for p in theirs.parameters()]
    flag = ", use_bias=false" if not bias else ""
    formula = _formula_macs(f"(10, {d})", f"y = grouped_query_attention({d // heads}, {heads}, {kv_heads}{flag})(x, x)")
    assert _macs(ours, x, x) == formula


@pytest.mark.parametrize("d,ff,experts,top_k", [(32, 56, 4, 2), (48, 40, 8, 3)])
def test_mixture_of_experts_is_mixtrals(d, ff, experts, top_k):
    """The same weights (router and experts); FlopCounterMode counts every expert on every token, as
    the glue runs them (the meta device cannot route by data), the formula the top_k a token runs:
    the difference is exactly (experts - top_k) experts' 3*d*ff per token."""
    from transformers.models.mixtral import modeling_mixtral
    config = transformers.MixtralConfig(hidden_size=d, intermediate_size=ff, num_local_experts=experts,
                                        num_experts_per_tok=top_k, num_attention_heads=4, num_key_value_heads=2,
                                        vocab_size=32)
    with torch.device("meta"):
        theirs = modeling_mixtral.MixtralSparseMoeBlock(config)
        ours = MixtureOfExperts(d, experts, ff, top_k=top_k)
        x = torch.zeros(1, 10, d)
    assert _params(ours) == _params(theirs)
    formula = _formula_macs(f"(10, {d})", f"y = mixture_of_experts({experts}, {ff}, top_k={top_k})(x)")
    assert _macs(ours, x) == formula + 10 * (experts - top_k) * 3 * d * ff


def test_rotary_embedding_is_llamas():
    """Real numbers (CPU, small): the rotation transformers applies to queries and keys."""
    config = _config(32, 1, 1, 64)
    rotary = modeling_llama.LlamaRotaryEmbedding(config)
    x = torch.randn(2, 1, 7, 32)
    positions = torch.arange(7)[None]
    cos, sin = rotary(x, positions)
    theirs, _ = modeling_llama.apply_rotary_pos_emb(x, x, cos, sin)
    torch.testing.assert_close(RotaryEmbedding()(x), theirs)
    assert _params(RotaryEmbedding()) == 0 and not list(RotaryEmbedding().buffers())


def test_the_token_glue():
    x = torch.randn(2, 5, 8)
    torch.testing.assert_close(FirstToken()(x), x[:, 0])
    token = ClassToken(8)
    assert _params(token) == 8 and token(x).shape == (2, 6, 8)
    torch.testing.assert_close(token(x)[:, 1:], x)
    scale = LayerScale(8)
    assert _params(scale) == 8 and scale(x).shape == x.shape
