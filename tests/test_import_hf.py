"""`symparams import` of Hugging Face configs: each imported program against transformers building
the same config on the meta device (no weights downloaded), exactly; at the small sizes also the
MACs, against torch's FlopCounterMode on a forward pass.

The importer reads the JSON transformers itself writes (`to_json_string()`: only the fields that
differ from the family's defaults, as in a saved config.json), so the family defaults it assumes
are tested too. Sizes: published models' configs, written out here, and two small random ones.
"""
from __future__ import annotations

import json
import random
import re
from pathlib import Path

import pytest

import symparams
from symparams.errors import SymparamsError
from symparams.importers.huggingface import FAMILIES, program

transformers = pytest.importorskip("transformers")
torch = pytest.importorskip("torch")

# (model_type, architecture, label, fields): published sizes, as in the models' config.json files.
PUBLISHED = [
    ("llama", "LlamaForCausalLM", "Llama-2-7B", dict(
        vocab_size=32000, hidden_size=4096, intermediate_size=11008, num_hidden_layers=32,
        num_attention_heads=32, num_key_value_heads=32, max_position_embeddings=4096)),
    ("llama", "LlamaForCausalLM", "Llama-3-8B", dict(
        vocab_size=128256, hidden_size=4096, intermediate_size=14336, num_hidden_layers=32,
        num_attention_heads=32, num_key_value_heads=8, max_position_embeddings=8192, rope_theta=500000.0)),
    ("llama", "LlamaForCausalLM", "Llama-3.2-1B", dict(
        vocab_size=128256, hidden_size=2048, intermediate_size=8192, num_hidden_layers=16,
        num_attention_heads=32, num_key_value_heads=8, head_dim=64, tie_word_embeddings=True,
        max_position_embeddings=131072, rope_parameters=dict(
            rope_type="llama3", rope_theta=500000.0, factor=32.0, low_freq_factor=1.0, high_freq_factor=4.0,
            original_max_position_embeddings=8192))),
    ("mistral", "MistralForCausalLM", "Mistral-7B-v0.1", dict(
        vocab_size=32000, hidden_size=4096, intermediate_size=14336, num_hidden_layers=32,
        num_attention_heads=32, num_key_value_heads=8, max_position_embeddings=32768, sliding_window=4096)),
    ("mistral", "MistralForCausalLM", "Mistral-Nemo-12B", dict(
        vocab_size=131072, hidden_size=5120, intermediate_size=14336, num_hidden_layers=40,
        num_attention_heads=32, num_key_value_heads=8, head_dim=128, max_position_embeddings=1024000)),
    ("qwen2", "Qwen2ForCausalLM", "Qwen2-7B", dict(
        vocab_size=152064, hidden_size=3584, intermediate_size=18944, num_hidden_layers=28,
        num_attention_heads=28, num_key_value_heads=4, max_position_embeddings=131072)),
    ("qwen2", "Qwen2ForCausalLM", "Qwen2-0.5B", dict(
        vocab_size=151936, hidden_size=896, intermediate_size=4864, num_hidden_layers=24,
        num_attention_heads=14, num_key_value_heads=2, tie_word_embeddings=True)),
    ("qwen3", "Qwen3ForCausalLM", "Qwen3-8B", dict(
        vocab_size=151936, hidden_size=4096, intermediate_size=12288, num_hidden_layers=36,
        num_attention_heads=32, num_key_value_heads=8, head_dim=128, max_position_embeddings=40960)),
    ("qwen3", "Qwen3ForCausalLM", "Qwen3-0.6B", dict(
        vocab_size=151936, hidden_size=1024, intermediate_size=3072, num_hidden_layers=28,
        num_attention_heads=16, num_key_value_heads=8, head_dim=128, tie_word_embeddings=True)),
    ("gpt2", "GPT2LMHeadModel", "GPT-2", dict()),
    ("gpt2", "GPT2LMHeadModel", "GPT-2-XL", dict(n_embd=1600, n_layer=48, n_head=25)),
    ("gpt_neox", "GPTNeoXForCausalLM", "Pythia-160M", dict(
        vocab_size=50304, hidden_size=768, intermediate_size=3072, num_hidden_layers=12,
        num_attention_heads=12, rotary_pct=0.25)),
    ("gpt_neox", "GPTNeoXForCausalLM", "GPT-NeoX-20B", dict(
        vocab_size=50432, hidden_size=6144, intermediate_size=24576, num_hidden_layers=44,
        num_attention_heads=64)),
    ("phi3", "Phi3ForCausalLM", "Phi-3-mini-4k", dict(
        vocab_size=32064, hidden_size=3072, intermediate_size=8192, num_hidden_layers=32,
        num_attention_heads=32, num_key_value_heads=32, max_position_embeddings=4096)),
    ("phi3", "Phi3ForCausalLM", "Phi-3-medium-4k", dict(
        vocab_size=32064, hidden_size=5120, intermediate_size=17920, num_hidden_layers=40,
        num_attention_heads=40, num_key_value_heads=10, max_position_embeddings=4096)),
    ("gemma", "GemmaForCausalLM", "Gemma-2B", dict(
        vocab_size=256000, hidden_size=2048, intermediate_size=16384, num_hidden_layers=18,
        num_attention_heads=8, num_key_value_heads=1, head_dim=256)),
    ("gemma", "GemmaForCausalLM", "Gemma-7B", dict(
        vocab_size=256000, hidden_size=3072, intermediate_size=24576, num_hidden_layers=28,
        num_attention_heads=16, num_key_value_heads=16, head_dim=256)),
    ("gemma2", "Gemma2ForCausalLM", "Gemma-2-2B", dict(
        vocab_size=256000, hidden_size=2304, intermediate_size=9216, num_hidden_layers=26,
        num_attention_heads=8, num_key_value_heads=4, head_dim=256)),
    ("gemma2", "Gemma2ForCausalLM", "Gemma-2-9B", dict(
        vocab_size=256000, hidden_size=3584, intermediate_size=14336, num_hidden_layers=42,
        num_attention_heads=16, num_key_value_heads=8, head_dim=256)),
    ("gemma3_text", "Gemma3ForCausalLM", "Gemma-3-1B", dict(
        vocab_size=262144, hidden_size=1152, intermediate_size=6912, num_hidden_layers=26,
        num_attention_heads=4, num_key_value_heads=1, head_dim=256)),
    ("gemma3_text", "Gemma3ForCausalLM", "Gemma-3-12B (text)", dict(
        vocab_size=262208, hidden_size=3840, intermediate_size=15360, num_hidden_layers=48,
        num_attention_heads=16, num_key_value_heads=8, head_dim=256)),
    ("mixtral", "MixtralForCausalLM", "Mixtral-8x7B", dict(
        vocab_size=32000, hidden_size=4096, intermediate_size=14336, num_hidden_layers=32,
        num_attention_heads=32, num_key_value_heads=8, num_local_experts=8, num_experts_per_tok=2,
        max_position_embeddings=32768)),
    ("mixtral", "MixtralForCausalLM", "Mixtral-8x22B", dict(
        vocab_size=32768, hidden_size=6144, intermediate_size=16384, num_hidden_layers=56,
        num_attention_heads=48, num_key_value_heads=8, num_local_experts=8, num_experts_per_tok=2,
        max_position_embeddings=65536)),
    ("qwen2_moe", "Qwen2MoeForCausalLM", "Qwen1.5-MoE-A2.7B", dict(
        vocab_size=151936, hidden_size=2048, intermediate_size=5632, num_hidden_layers=24,
        num_attention_heads=16, num_key_value_heads=16, moe_intermediate_size=1408,
        shared_expert_intermediate_size=5632, num_experts=60, num_experts_per_tok=4)),
    ("qwen2_moe", "Qwen2MoeForCausalLM", "Qwen2-57B-A14B", dict(
        vocab_size=151936, hidden_size=3584, intermediate_size=18944, num_hidden_layers=28,
        num_attention_heads=28, num_key_value_heads=4, moe_intermediate_size=2560,
        shared_expert_intermediate_size=20480, num_experts=64, num_experts_per_tok=8)),
    ("qwen3_moe", "Qwen3MoeForCausalLM", "Qwen3-30B-A3B", dict(
        vocab_size=151936, hidden_size=2048, intermediate_size=6144, num_hidden_layers=48,
        num_attention_heads=32, num_key_value_heads=4, head_dim=128, moe_intermediate_size=768,
        num_experts=128, num_experts_per_tok=8)),
    ("qwen3_moe", "Qwen3MoeForCausalLM", "Qwen3-235B-A22B", dict(
        vocab_size=151936, hidden_size=4096, intermediate_size=12288, num_hidden_layers=94,
        num_attention_heads=64, num_key_value_heads=4, head_dim=128, moe_intermediate_size=1536,
        num_experts=128, num_experts_per_tok=8)),
    ("olmo", "OlmoForCausalLM", "OLMo-1B", dict(
        vocab_size=50304, hidden_size=2048, intermediate_size=8192, num_hidden_layers=16,
        num_attention_heads=16, tie_word_embeddings=True)),
    ("olmo", "OlmoForCausalLM", "OLMo-7B", dict(
        vocab_size=50304, hidden_size=4096, intermediate_size=11008, num_hidden_layers=32,
        num_attention_heads=32)),
    ("olmo2", "Olmo2ForCausalLM", "OLMo-2-7B", dict(
        vocab_size=100352, hidden_size=4096, intermediate_size=11008, num_hidden_layers=32,
        num_attention_heads=32, num_key_value_heads=32)),
    ("olmo2", "Olmo2ForCausalLM", "OLMo-2-13B", dict(
        vocab_size=100352, hidden_size=5120, intermediate_size=13824, num_hidden_layers=40,
        num_attention_heads=40, num_key_value_heads=40)),
    ("starcoder2", "Starcoder2ForCausalLM", "StarCoder2-3B", dict(
        vocab_size=49152, hidden_size=3072, intermediate_size=12288, num_hidden_layers=30,
        num_attention_heads=24, num_key_value_heads=2)),
    ("starcoder2", "Starcoder2ForCausalLM", "StarCoder2-7B", dict(
        vocab_size=49152, hidden_size=4608, intermediate_size=18432, num_hidden_layers=32,
        num_attention_heads=36, num_key_value_heads=4)),
    ("phi", "PhiForCausalLM", "Phi-1.5", dict(
        vocab_size=51200, hidden_size=2048, intermediate_size=8192, num_hidden_layers=24,
        num_attention_heads=32, partial_rotary_factor=0.5)),
    ("phi", "PhiForCausalLM", "Phi-2", dict(
        vocab_size=51200, hidden_size=2560, intermediate_size=10240, num_hidden_layers=32,
        num_attention_heads=32, partial_rotary_factor=0.4)),
    ("bloom", "BloomForCausalLM", "BLOOM-560M", dict(vocab_size=250880, hidden_size=1024, n_layer=24, n_head=16)),
    ("bloom", "BloomForCausalLM", "BLOOM-7B1", dict(vocab_size=250880, hidden_size=4096, n_layer=30, n_head=32)),
    ("gptj", "GPTJForCausalLM", "GPT-J-6B", dict(
        vocab_size=50400, n_embd=4096, n_layer=28, n_head=16, rotary_dim=64, n_positions=2048)),
    ("gptj", "GPTJForCausalLM", "KoGPT-6B", dict(
        vocab_size=64512, n_embd=4096, n_layer=28, n_head=16, rotary_dim=64, n_positions=2048)),
    ("opt", "OPTForCausalLM", "OPT-125M", dict(
        vocab_size=50272, hidden_size=768, num_hidden_layers=12, num_attention_heads=12, ffn_dim=3072,
        word_embed_proj_dim=768)),
    ("opt", "OPTForCausalLM", "OPT-350M", dict(
        vocab_size=50272, hidden_size=1024, num_hidden_layers=24, num_attention_heads=16, ffn_dim=4096,
        word_embed_proj_dim=512, do_layer_norm_before=False)),
    ("opt", "OPTForCausalLM", "OPT-1.3B", dict(
        vocab_size=50272, hidden_size=2048, num_hidden_layers=24, num_attention_heads=32, ffn_dim=8192,
        word_embed_proj_dim=2048)),
    ("falcon", "FalconForCausalLM", "Falcon-7B", dict(
        vocab_size=65024, hidden_size=4544, num_hidden_layers=32, num_attention_heads=71, multi_query=True,
        parallel_attn=True, bias=False)),
    ("falcon", "FalconForCausalLM", "Falcon-40B", dict(
        vocab_size=65024, hidden_size=8192, num_hidden_layers=60, num_attention_heads=128, num_kv_heads=8,
        new_decoder_architecture=True, parallel_attn=True, bias=False)),
    ("falcon", "FalconForCausalLM", "Falcon-RW-1B", dict(
        vocab_size=50304, hidden_size=2048, num_hidden_layers=24, num_attention_heads=32, alibi=True,
        multi_query=False, parallel_attn=False, bias=True)),
    ("bert", "BertModel", "BERT-base-uncased", dict()),
    ("bert", "BertForMaskedLM", "BERT-large-uncased", dict(
        hidden_size=1024, num_hidden_layers=24, num_attention_heads=16, intermediate_size=4096)),
    ("roberta", "RobertaForMaskedLM", "RoBERTa-base", dict(
        vocab_size=50265, max_position_embeddings=514, type_vocab_size=1)),
    ("roberta", "RobertaModel", "RoBERTa-large", dict(
        vocab_size=50265, hidden_size=1024, num_hidden_layers=24, num_attention_heads=16, intermediate_size=4096,
        max_position_embeddings=514, type_vocab_size=1)),
    ("distilbert", "DistilBertForMaskedLM", "DistilBERT-base-uncased", dict()),
    ("distilbert", "DistilBertModel", "DistilBERT-base-multilingual", dict(vocab_size=119547)),
    ("electra", "ElectraModel", "ELECTRA-base-discriminator", dict(
        embedding_size=768, hidden_size=768, num_attention_heads=12, intermediate_size=3072)),
    ("electra", "ElectraForMaskedLM", "ELECTRA-small-generator", dict(
        embedding_size=128, hidden_size=256, num_attention_heads=4, intermediate_size=1024)),
    ("albert", "AlbertForMaskedLM", "ALBERT-base-v2", dict(
        hidden_size=768, num_attention_heads=12, intermediate_size=3072)),
    ("albert", "AlbertModel", "ALBERT-xxlarge-v2", dict(
        hidden_size=4096, num_attention_heads=64, intermediate_size=16384)),
    ("vit", "ViTForImageClassification", "ViT-B/16-224", dict(id2label={str(i): f"c{i}" for i in range(1000)})),
    ("vit", "ViTModel", "ViT-L/16-224-in21k", dict(
        hidden_size=1024, num_hidden_layers=24, num_attention_heads=16, intermediate_size=4096)),
    ("t5", "T5ForConditionalGeneration", "T5-small", dict()),
    ("t5", "T5Model", "T5-base", dict(d_model=768, d_ff=3072, num_layers=12, num_heads=12)),
    ("t5", "T5ForConditionalGeneration", "T5-v1.1-base", dict(
        d_model=768, d_ff=2048, num_layers=12, num_heads=12, feed_forward_proj="gated-gelu",
        tie_word_embeddings=False)),
    ("t5", "T5ForConditionalGeneration", "Flan-T5-large", dict(
        d_model=1024, d_ff=2816, num_layers=24, num_heads=16, feed_forward_proj="gated-gelu",
        tie_word_embeddings=False)),
    ("bart", "BartForConditionalGeneration", "BART-large", dict()),
    ("bart", "BartModel", "BART-base", dict(
        d_model=768, encoder_layers=6, decoder_layers=6, encoder_attention_heads=12, decoder_attention_heads=12,
        encoder_ffn_dim=3072, decoder_ffn_dim=3072)),
    ("deepseek_v2", "DeepseekV2ForCausalLM", "DeepSeek-V2-Lite", dict(
        vocab_size=102400, hidden_size=2048, intermediate_size=10944, num_hidden_layers=27, num_attention_heads=16,
        q_lora_rank=None, kv_lora_rank=512, qk_nope_head_dim=128, qk_rope_head_dim=64, v_head_dim=128,
        moe_intermediate_size=1408, n_routed_experts=64, n_shared_experts=2, num_experts_per_tok=6,
        first_k_dense_replace=1)),
    ("deepseek_v2", "DeepseekV2ForCausalLM", "DeepSeek-V2", dict(
        vocab_size=102400, hidden_size=5120, intermediate_size=12288, num_hidden_layers=60, num_attention_heads=128,
        q_lora_rank=1536, kv_lora_rank=512, qk_nope_head_dim=128, qk_rope_head_dim=64, v_head_dim=128,
        moe_intermediate_size=1536, n_routed_experts=160, n_shared_experts=2, num_experts_per_tok=6,
        first_k_dense_replace=1)),
    ("deepseek_v3", "DeepseekV3ForCausalLM", "DeepSeek-V3", dict()),
    ("deepseek_v3", "DeepseekV3ForCausalLM", "Kimi-K2", dict(
        vocab_size=163840, num_attention_heads=64, n_routed_experts=384, first_k_dense_replace=1,
        num_key_value_heads=64, n_group=1, topk_group=1)),
]

# Published counts, from the models' own cards or reports, as a check that the configs above are right.
KNOWN = {"Llama-2-7B": 6_738_415_616, "Llama-3-8B": 8_030_261_248, "Mistral-7B-v0.1": 7_241_732_096,
         "GPT-2": 124_439_808, "GPT-2-XL": 1_557_611_200, "Mixtral-8x7B": 46_702_792_704,
         "OPT-125M": 125_239_296, "Falcon-7B": 6_921_720_704, "GPT-J-6B": 6_050_882_784,
         "BLOOM-560M": 559_214_592, "Phi-2": 2_779_683_840, "BERT-base-uncased": 109_482_240,
         "ViT-B/16-224": 86_567_656, "T5-small": 60_506_624, "BART-large": 406_291_456}


def _small(family: str, seed: int) -> dict:
    """A random small config of the family: sizes drawn so every divisibility rule holds."""
    rng = random.Random(f"{family}-{seed}")
    kv = rng.choice([1, 2, 3])
    heads = kv * rng.choice([1, 2, 4])
    head_dim = rng.choice([8, 16] if family == "gpt_neox" else [4, 6, 8, 16])   # an even rotary part
    hidden = heads * head_dim
    if family in ("gpt2", "gptj"):
        fields = dict(vocab_size=rng.randint(50, 300), n_embd=hidden, n_layer=rng.randint(1, 4), n_head=heads,
                      n_positions=rng.randint(16, 64), n_inner=rng.choice([None, rng.randint(8, 64)]))
        if family == "gptj":
            fields.update(rotary_dim=rng.choice([2, 4]), bos_token_id=0, eos_token_id=0,
                          tie_word_embeddings=rng.random() < 0.5)
        return fields
    if family in ("bert", "roberta", "electra", "albert", "distilbert", "vit"):
        fields = dict(hidden_size=hidden, num_hidden_layers=rng.randint(1, 3), num_attention_heads=heads,
                      intermediate_size=rng.randint(8, 64), hidden_act=rng.choice(["gelu", "relu", "gelu_new"]))
        if family == "vit":
            patch = rng.choice([4, 8])
            return {**fields, "patch_size": patch, "image_size": patch * rng.randint(1, 4) + rng.randint(0, 3),
                    "num_channels": rng.choice([1, 3]), "qkv_bias": rng.random() < 0.5,
                    "id2label": {str(i): str(i) for i in range(rng.randint(2, 9))}}
        fields.update(vocab_size=rng.randint(50, 300), max_position_embeddings=rng.randint(8, 40), pad_token_id=0,
                      tie_word_embeddings=rng.random() < 0.5)
        if family == "distilbert":
            return dict(vocab_size=fields["vocab_size"], dim=hidden, n_layers=fields["num_hidden_layers"],
                        n_heads=heads, hidden_dim=fields["intermediate_size"], pad_token_id=0,
                        max_position_embeddings=fields["max_position_embeddings"],
                        sinusoidal_pos_embds=rng.random() < 0.5 and hidden % 2 == 0,
                        tie_word_embeddings=fields["tie_word_embeddings"])
        if family == "roberta":
            fields["max_position_embeddings"] += 2      # positions start after the padding index
        fields["type_vocab_size"] = rng.randint(1, 3)
        if family in ("electra", "albert"):
            fields["embedding_size"] = rng.choice([hidden, 8, 12])
        return fields
    if family in ("deepseek_v2", "deepseek_v3"):
        layers = rng.randint(1, 4)
        fields = dict(vocab_size=rng.randint(50, 300), hidden_size=hidden, num_hidden_layers=layers,
                      num_attention_heads=heads, intermediate_size=rng.randint(8, 64),
                      # even ranks: DeepSeek-V2's complex-number rotary needs even strides to run
                      q_lora_rank=rng.choice([None, 2 * rng.randint(2, 8)]), kv_lora_rank=2 * rng.randint(2, 8),
                      qk_nope_head_dim=rng.choice([4, 8]), qk_rope_head_dim=rng.choice([2, 4]),
                      v_head_dim=rng.choice([4, 6]), moe_intermediate_size=rng.randint(4, 32),
                      n_routed_experts=rng.randint(2, 5), n_shared_experts=rng.randint(1, 2),
                      num_experts_per_tok=rng.randint(1, 2), first_k_dense_replace=rng.randint(0, layers - 1),
                      attention_bias=rng.random() < 0.5, pad_token_id=0, bos_token_id=0, eos_token_id=0,
                      tie_word_embeddings=rng.random() < 0.5)
        if family == "deepseek_v3":
            fields.update(n_group=1, topk_group=1)
        fields["num_key_value_heads"] = heads    # the eager attention repeats keys by heads / kv heads
        return fields
    if family == "t5":
        return dict(vocab_size=rng.randint(50, 300), d_model=hidden, d_kv=rng.choice([4, 8]), num_heads=heads,
                    d_ff=rng.randint(8, 64), num_layers=rng.randint(1, 3), num_decoder_layers=rng.randint(1, 3),
                    relative_attention_num_buckets=rng.randint(4, 16),
                    feed_forward_proj=rng.choice(["relu", "gated-gelu", "gated-silu"]),
                    tie_word_embeddings=rng.random() < 0.5, decoder_start_token_id=0)
    if family == "bart":
        dec_heads = rng.choice([h for h in (1, 2, 4) if hidden % h == 0])
        return dict(vocab_size=rng.randint(50, 300), d_model=hidden, encoder_layers=rng.randint(1, 3),
                    decoder_layers=rng.randint(1, 3), encoder_attention_heads=heads,
                    decoder_attention_heads=dec_heads, encoder_ffn_dim=rng.randint(8, 64),
                    decoder_ffn_dim=rng.randint(8, 64), max_position_embeddings=rng.randint(8, 40),
                    activation_function=rng.choice(["gelu", "relu"]), tie_word_embeddings=rng.random() < 0.5,
                    pad_token_id=0, bos_token_id=0, eos_token_id=0, decoder_start_token_id=0,
                    forced_eos_token_id=0)
    if family == "bloom":
        return dict(vocab_size=rng.randint(50, 300), hidden_size=hidden, n_layer=rng.randint(1, 4), n_head=heads,
                    tie_word_embeddings=rng.random() < 0.5, bos_token_id=0, eos_token_id=0, pad_token_id=0)
    fields = dict(vocab_size=rng.randint(50, 300), hidden_size=hidden, num_hidden_layers=rng.randint(1, 4),
                  num_attention_heads=heads, intermediate_size=rng.randint(8, 64), pad_token_id=0,
                  bos_token_id=0, eos_token_id=0, tie_word_embeddings=rng.random() < 0.5)
    if family not in ("gpt_neox", "opt", "falcon"):
        fields["num_key_value_heads"] = kv
    if family == "opt":
        fields.update(ffn_dim=fields.pop("intermediate_size"), word_embed_proj_dim=rng.choice([hidden, 8, 12]),
                      do_layer_norm_before=rng.random() < 0.5, enable_bias=rng.random() < 0.5,
                      layer_norm_elementwise_affine=rng.random() < 0.5, max_position_embeddings=rng.randint(8, 40))
    if family == "falcon":
        new = rng.random() < 0.5
        fields.update(ffn_hidden_size=fields.pop("intermediate_size"), new_decoder_architecture=new,
                      multi_query=rng.random() < 0.5, parallel_attn=new or rng.random() < 0.5,
                      bias=rng.random() < 0.5, alibi=rng.random() < 0.3,
                      num_ln_in_parallel_attn=rng.choice([None, 1, 2]) if new else None)
        if new:
            fields["num_kv_heads"] = kv
    if family == "phi":
        fields.update(qk_layernorm=rng.random() < 0.5, partial_rotary_factor=rng.choice([0.5, 1.0]))
    if family in ("qwen3", "qwen3_moe", "gemma", "gemma2", "gemma3_text", "mistral") and rng.random() < 0.5:
        fields["head_dim"] = rng.choice([4, 8, 12])
    if family in ("mixtral",):
        fields.update(num_local_experts=rng.randint(2, 5), num_experts_per_tok=rng.randint(1, 2))
    if family in ("qwen2_moe", "qwen3_moe"):
        fields.update(num_experts=rng.randint(2, 5), num_experts_per_tok=rng.randint(1, 2),
                      moe_intermediate_size=rng.randint(4, 32))
    if family == "qwen2_moe":
        fields["shared_expert_intermediate_size"] = rng.randint(4, 32)
    if family == "gemma3_text":    # from 6 layers on, full attention joins the sliding kind
        fields["num_hidden_layers"] = rng.randint(4, 8)
    if family == "llama":
        fields.update(attention_bias=rng.random() < 0.5, mlp_bias=rng.random() < 0.5)
    if family == "starcoder2":
        fields["use_bias"] = rng.random() < 0.5
    if family == "gpt_neox":
        fields.update(use_parallel_residual=rng.random() < 0.5, attention_bias=rng.random() < 0.5,
                      rotary_pct=rng.choice([0.25, 0.5, 1.0]))
    return fields


ARCHS = {"gemma3_text": "Gemma3", "llama": "Llama", "mistral": "Mistral", "mixtral": "Mixtral", "qwen2": "Qwen2", "qwen3": "Qwen3",
         "qwen2_moe": "Qwen2Moe", "qwen3_moe": "Qwen3Moe", "phi3": "Phi3", "gemma": "Gemma", "gemma2": "Gemma2",
         "olmo": "Olmo", "olmo2": "Olmo2", "starcoder2": "Starcoder2", "gpt_neox": "GPTNeoX", "gpt2": "GPT2",
         "phi": "Phi", "bloom": "Bloom", "gptj": "GPTJ", "opt": "OPT", "falcon": "Falcon", "bert": "Bert",
         "roberta": "Roberta", "distilbert": "DistilBert", "electra": "Electra", "albert": "Albert", "vit": "ViT",
         "t5": "T5", "bart": "Bart", "deepseek_v2": "DeepseekV2", "deepseek_v3": "DeepseekV3"}
HEAD = {"gpt2": "LMHeadModel", "bert": "ForMaskedLM", "roberta": "ForMaskedLM", "distilbert": "ForMaskedLM",
        "electra": "ForMaskedLM", "albert": "ForMaskedLM", "vit": "ForImageClassification",
        "t5": "ForConditionalGeneration", "bart": "ForConditionalGeneration"}

SMALL = [(family, f"{ARCHS[family]}{HEAD.get(family, 'ForCausalLM')}", f"small-{seed}", _small(family, seed))
         for family in ARCHS for seed in (1, 2)]
BARE = [(family, "Gemma3TextModel" if family == "gemma3_text" else f"{ARCHS[family]}Model", "small-bare",
         _small(family, 3)) for family in ARCHS]


def _config_json(model_type, arch, fields) -> dict:
    """The config.json transformers writes for these fields: only what differs from the defaults."""
    config = transformers.AutoConfig.for_model(model_type, architectures=[arch], **fields)
    return json.loads(config.to_json_string())


# The grouped matrix product transformers uses for experts by default wants bfloat16 on the meta
# device; the eager loop builds the same weights.
_EAGER_EXPERTS = {"experts_implementation": "eager"}


def _reference(data: dict, arch: str, shape_length: int | None):
    """Counts (and the output shape, for an input of shape_length tokens) of the transformers model.
    Published sizes are built on the meta device; the small ones, which run, on the CPU: routing
    tokens to experts depends on the values, which meta tensors do not have."""
    config = transformers.AutoConfig.for_model(**data)
    with torch.device("cpu" if shape_length else "meta"):
        model = getattr(transformers, arch)._from_config(config, attn_implementation="eager", **_EAGER_EXPERTS)
    params = sum(p.numel() for p in model.parameters())
    out = {"params": params, "trainable": sum(p.numel() for p in model.parameters() if p.requires_grad),
           "buffers": sum(b.numel() for b in model.buffers())}
    if shape_length:
        from torch.utils.flop_counter import FlopCounterMode
        with torch.no_grad(), FlopCounterMode(display=False) as flops:
            if data["model_type"] == "vit":
                size, channels = config.image_size, config.num_channels
                y = model(pixel_values=torch.zeros((1, channels, size, size)))
            elif data["model_type"] in ("t5", "bart"):
                tokens = torch.zeros((1, shape_length), dtype=torch.long)
                y = model(input_ids=tokens, decoder_input_ids=tokens)
            else:
                y = model(input_ids=torch.zeros((1, shape_length), dtype=torch.long))
        # the program's output: the logits, else the pooled first token, else the last hidden states
        last = next(t for t in (getattr(y, name, None) for name in ("logits", "pooler_output", "last_hidden_state"))
                    if t is not None)
        out["output_shape"] = tuple(last.shape[1:])
        out["macs"] = flops.get_total_flops() // 2       # a multiply-accumulate is two FLOPs
    return out


def _imported(data: dict, shape_length: int | None):
    model = symparams.parse(program(data, "config.json"), "config.json")
    sequence = shape_length and data["model_type"] != "vit"
    lengths = {"sequence_length": shape_length}
    if data["model_type"] in ("t5", "bart"):
        lengths["target_length"] = shape_length
    ev = model.evaluate(lengths if sequence else {})
    ev.check()
    out = {"params": ev.params, "trainable": ev.trainable, "buffers": ev.buffers}
    if shape_length:
        out["output_shape"] = ev.shape(model.output_shape)
        out["macs"] = ev.macs
    return out


@pytest.mark.parametrize("model_type,arch,label,fields", PUBLISHED, ids=[c[2] for c in PUBLISHED])
def test_published_sizes(model_type, arch, label, fields):
    data = _config_json(model_type, arch, fields)
    expected, got = _reference(data, arch, None), _imported(data, None)
    assert got == expected
    if label in KNOWN:
        assert got["params"] == KNOWN[label]


@pytest.mark.parametrize("model_type,arch,label,fields", SMALL + BARE, ids=[f"{c[0]}-{c[2]}" for c in SMALL + BARE])
def test_small_sizes_with_shapes_and_macs(model_type, arch, label, fields):
    data = _config_json(model_type, arch, fields)
    assert _imported(data, 5) == _reference(data, arch, 5)


def test_every_family_is_tested():
    assert {c[0] for c in PUBLISHED} == set(FAMILIES) == set(ARCHS)
    for family in FAMILIES:
        assert sum(c[0] == family for c in PUBLISHED) >= 2, family


def test_symbols_are_the_config_fields():
    data = _config_json(*PUBLISHED[1][:2], PUBLISHED[1][3])
    model = symparams.parse(program(data), "config.json")
    assert {str(s) for s in model.params.free_symbols} == {
        "vocab_size", "hidden_size", "num_hidden_layers", "num_attention_heads", "num_key_value_heads",
        "intermediate_size", "head_dim"}      # transformers 5 writes head_dim into every Llama config
    assert model.values()[model.symbol("num_key_value_heads")] == 8


@pytest.mark.parametrize("config,message", [
    ({"model_type": "llama", "hidden_size": 50, "num_attention_heads": 4},
     "hidden_size=50 is not a multiple of num_attention_heads=4"),
    ({"model_type": "no_such_type"}, "transformers cannot read this config"),
    ({}, "the config's model_type must be a name such as \"llama\", found null"),
    ({"model_type": "llama", "hidden_act": "swiglu"}, "the activation hidden_act=\"swiglu\" is not supported"),
    ({"model_type": "llama", "hidden_size": 0}, "'hidden_size' must be a positive whole number, found 0"),
    ({"model_type": "qwen3_moe", "mlp_only_layers": "0"}, 'mlp_only_layers="0" must be a list of layer indices'),
    ({"model_type": "gpt2", "add_cross_attention": True}, "add_cross_attention=true is not supported"),
    ({"model_type": "gpt_neox", "partial_rotary_factor": 2}, "partial_rotary_factor must be a number in (0, 1]"),
    ({"model_type": "qwen2", "attention_dropout": 0.1}, "attention_dropout=0.1 (a dropout on the attention"),
    ({"model_type": "llama", "num_hidden_layers": 2, "layer_types": ["chunked_attention"] * 2},
     "layer_types=[\"chunked_attention\", \"chunked_attention\"] is not supported"),
    ({"model_type": "gemma2", "sliding_window": None}, "some layers slide (layer_types), but sliding_window is null"),
])
def test_what_the_templates_cannot_express_is_an_error(config, message):
    with pytest.raises(SymparamsError) as e:
        program(config)
    assert message in str(e.value)
    assert "supported: " in str(e.value) or "hint: " in str(e.value) or "whole number" in message


def test_a_field_spelled_as_older_configs_spell_it():
    """Qwen3-MoE's published config.json says num_experts; transformers 5 writes num_local_experts."""
    old = {"model_type": "qwen3_moe", "num_experts": 16, "hidden_size": 64, "num_attention_heads": 4}
    model = symparams.parse(program(old), "config.json")
    assert "num_experts" in {str(s) for s in model.params.free_symbols}
    new = {**old, "num_local_experts": old.pop("num_experts")}
    assert symparams.parse(program(new), "c.json").evaluate().params == model.evaluate().params


# ---------------------------------------------------------------- the command line, and docs/import.md

ROOT = Path(__file__).resolve().parent.parent
QWEN = "examples/hf/qwen2-0.5b"


def _run(capsys, *argv):
    from symparams.cli import main
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_import_prints_the_program_or_writes_it(capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(ROOT)
    code, printed, _ = _run(capsys, "import", QWEN)
    assert code == 0 and printed.startswith("# Qwen2ForCausalLM (output layer tied to the embedding)")
    out = tmp_path / "qwen.sp"
    assert _run(capsys, "import", f"{QWEN}/config.json", "-o", str(out)) == (0, "", "")
    assert out.read_text() == printed
    assert symparams.load(out).evaluate().params == 494_032_768


def test_every_command_reads_a_config(capsys, monkeypatch):
    monkeypatch.chdir(ROOT)
    code, out, _ = _run(capsys, "summary", f"{QWEN}/config.json", "--set", "sequence_length=16")
    assert code == 0 and "Total params: 494,032,768" in out and "(None, 16, 151936)" in out
    assert _run(capsys, "check", QWEN)[0] == 0
    assert symparams.load(QWEN).evaluate().params == 494_032_768


def test_a_bad_config_is_a_users_mistake(capsys, tmp_path):
    bad = tmp_path / "config.json"
    bad.write_text('{"model_type": "no_such_type"}')
    for command in ("import", "summary"):
        code, _, err = _run(capsys, command, str(tmp_path))
        assert code == 2
        assert err.startswith(f"{bad}: import error: transformers cannot read this config")
    bad.write_text("{not json")
    assert "not valid JSON" in _run(capsys, "import", str(bad))[2]
    assert "cannot read the config" in _run(capsys, "import", str(tmp_path / "missing.json"))[2]


def _doc_commands():
    text = (ROOT / "docs" / "import.md").read_text()
    for block in re.findall(r"```console\n(.*?)```", text, re.S):
        for chunk in block.split("$ symparams ")[1:]:
            command, _, output = chunk.partition("\n")
            yield command, output


@pytest.mark.parametrize("command,output", list(_doc_commands()))
def test_docs_show_real_output(command, output, capsys, monkeypatch):
    monkeypatch.chdir(ROOT)
    monkeypatch.setenv("COLUMNS", "100")        # the pages' width, as tests/test_docs.py prints them
    code, out, err = _run(capsys, *command.split())
    assert code == 0 and err + out == output       # (a note on stderr comes first, as the page shows it)
