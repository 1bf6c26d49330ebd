"""Hugging Face templates (issue 19): stated fields as symbols of their own, rotary sizes, the
configs that used to be refused, and the task heads — each against transformers building the same
config, and again at a second setting of the fields (the program's formula evaluated there against
transformers rebuilt there), since a formula right at one point can be wrong everywhere else.

Small sizes run on the CPU (a forward pass for the output shapes and FlopCounterMode's MACs); the
second settings and published sizes are built on the meta device.
"""
from __future__ import annotations

import json

import pytest

import symparams
from symparams.errors import SymparamsError
from symparams.importers.huggingface import program, read_config

transformers = pytest.importorskip("transformers")
torch = pytest.importorskip("torch")
transformers.logging.set_verbosity_error()


def _config_json(model_type: str, arch: str, fields: dict) -> dict:
    """The config.json transformers writes for these fields (only what differs from its defaults)."""
    config = transformers.AutoConfig.for_model(model_type, architectures=[arch], **fields)
    return json.loads(config.to_json_string())


def _build(data: dict, arch: str, device: str):
    config = transformers.AutoConfig.for_model(**data)
    with torch.device(device):
        return getattr(transformers, arch)._from_config(config, attn_implementation="eager",
                                                        experts_implementation="eager")


def _counts(model) -> dict:
    return {"params": sum(p.numel() for p in model.parameters()),
            "trainable": sum(p.numel() for p in model.parameters() if p.requires_grad),
            "buffers": sum(b.numel() for b in model.buffers())}


def _ours(model, values: dict) -> dict:
    ev = model.evaluate(values)
    ev.check()
    return {"params": ev.params, "trainable": ev.trainable, "buffers": ev.buffers}


def _at(data: dict, changes: dict) -> dict:
    """The config at another setting: num_labels replaces the labels transformers derives it from, and
    another num_hidden_layers the layer_types list it writes (one per layer)."""
    data = {**data, **changes}
    if "num_labels" in changes:
        data.pop("id2label", None)
        data.pop("label2id", None)
    if "num_hidden_layers" in changes:
        data.pop("layer_types", None)
    return data


def _second(data: dict, arch: str, model, changes: dict):
    """The formula at `changes` (the config's own field names) against transformers rebuilt there."""
    assert _ours(model, changes) == _counts(_build(_at(data, changes), arch, "meta")), changes


def _forward(model, data: dict, arch: str, length: int, choices: int):
    ids = torch.zeros((1, choices, length) if arch.endswith("ForMultipleChoice") else (1, length), dtype=torch.long)
    from torch.utils.flop_counter import FlopCounterMode
    with torch.no_grad(), FlopCounterMode(display=False) as flops:
        y = model(input_ids=ids)
    names = ("start_logits", "end_logits") if arch.endswith("ForQuestionAnswering") else \
        ("logits",) if hasattr(y, "logits") else ("pooler_output",) if getattr(y, "pooler_output", None) is not None \
        else ("last_hidden_state",)
    return [tuple(getattr(y, name).shape[1:]) for name in names], flops.get_total_flops() // 2


def check(model_type: str, arch: str, fields: dict, second: dict, length: int = 5, choices: int = 3,
          forward: bool = True):
    """Counts, output shapes and MACs at the config's own sizes (CPU, a forward pass), then the
    counts at `second`."""
    data = _config_json(model_type, arch, fields)
    model = symparams.parse(program(data, "config.json"), "config.json")
    reference = _build(data, arch, "cpu")
    values = {"sequence_length": length}
    if "num_choices" in {str(s) for s in model.symbols}:
        values["num_choices"] = choices
    assert _ours(model, values) == _counts(reference)
    ev = model.evaluate(values)
    if forward:
        shapes, macs = _forward(reference, data, arch, length, choices)
        assert [ev.shape(t.shape) for t in model.outputs] == shapes
        # the catalog's attention counts its products over a leading axis of choices wrongly (left to
        # the catalog's owners): multiple choice is checked on its counts and shapes only
        if not arch.endswith("ForMultipleChoice"):
            assert ev.macs == macs
    _second(data, arch, model, second)
    return model


# ---------------------------------------------------------------- stated fields are symbols of their own

GEMMA_2B = dict(vocab_size=256000, hidden_size=2048, intermediate_size=16384, num_hidden_layers=18,
                num_attention_heads=8, num_key_value_heads=1, head_dim=256)


def test_gemma_2b_head_dim_stays_256_when_hidden_size_changes():
    """The issue's example: Gemma-2B states head_dim=256 = 2048 / 8; at hidden_size=3072 and 16
    heads transformers keeps 256 (3,985,751,040 parameters), not 3072 / 16."""
    data = _config_json("gemma", "GemmaForCausalLM", GEMMA_2B)
    model = symparams.parse(program(data))
    assert "head_dim" in {str(s) for s in model.params.free_symbols}
    changes = {"hidden_size": 3072, "num_attention_heads": 16}
    assert _ours(model, changes)["params"] == 3_985_751_040
    _second(data, "GemmaForCausalLM", model, changes)


@pytest.mark.parametrize("model_type,arch", [("llama", "LlamaForCausalLM"), ("qwen2", "Qwen2ForCausalLM"),
                                             ("mistral", "MistralForCausalLM"), ("phi3", "Phi3ForCausalLM")])
def test_a_stated_head_dim_equal_to_the_quotient_is_kept(model_type, arch):
    fields = dict(vocab_size=64, hidden_size=32, intermediate_size=24, num_hidden_layers=2,
                  num_attention_heads=4, num_key_value_heads=2, head_dim=8, pad_token_id=0, bos_token_id=0,
                  eos_token_id=0)
    check(model_type, arch, fields, {"hidden_size": 48, "num_attention_heads": 2, "num_hidden_layers": 3})


def test_key_value_heads_left_out_are_the_query_heads():
    """Without num_key_value_heads, Llama uses num_attention_heads, at every setting."""
    data = {"model_type": "llama", "vocab_size": 64, "hidden_size": 32, "intermediate_size": 24,
            "num_hidden_layers": 2, "num_attention_heads": 4}
    model = symparams.parse(program(data))
    assert "num_key_value_heads" not in {str(s) for s in model.symbols}
    _second(data, "LlamaForCausalLM", model, {"num_attention_heads": 8})


def test_opt_word_embed_proj_dim_is_its_own_symbol():
    projected = dict(vocab_size=64, hidden_size=32, num_hidden_layers=2, num_attention_heads=4, ffn_dim=24,
                     word_embed_proj_dim=16, max_position_embeddings=20)
    model = check("opt", "OPTForCausalLM", projected, {"hidden_size": 48, "word_embed_proj_dim": 8})
    with pytest.raises(SymparamsError, match="word_embed_proj_dim"):     # equal, transformers has no projections
        model.evaluate({"word_embed_proj_dim": 32})
    # stated equal to hidden_size: no projections, which holds only while the two stay equal
    equal = {**projected, "word_embed_proj_dim": 32}
    model = check("opt", "OPTForCausalLM", equal, {"hidden_size": 48, "word_embed_proj_dim": 48})
    with pytest.raises(SymparamsError, match="word_embed_proj_dim"):
        model.evaluate({"hidden_size": 48})


def test_electra_embedding_size_is_its_own_symbol():
    fields = dict(vocab_size=64, embedding_size=16, hidden_size=32, num_hidden_layers=2, num_attention_heads=4,
                  intermediate_size=24, max_position_embeddings=20)
    check("electra", "ElectraForMaskedLM", fields, {"hidden_size": 48, "embedding_size": 8})
    model = check("electra", "ElectraModel", {**fields, "embedding_size": 32}, {"hidden_size": 48, "embedding_size": 48})
    with pytest.raises(SymparamsError, match="embedding_size"):
        model.evaluate({"hidden_size": 48})


# ---------------------------------------------------------------- rotary buffers

@pytest.mark.parametrize("model_type,arch,rotated", [
    ("llama", "LlamaForCausalLM", 16), ("qwen2", "Qwen2ForCausalLM", 16), ("gemma", "GemmaForCausalLM", 16),
    ("phi3", "Phi3ForCausalLM", 8), ("phi", "PhiForCausalLM", 8), ("gpt_neox", "GPTNeoXForCausalLM", 8)])
def test_partial_rotary_factor_only_where_the_family_reads_it(model_type, arch, rotated):
    fields = dict(vocab_size=64, hidden_size=64, intermediate_size=24, num_hidden_layers=1, num_attention_heads=4,
                  num_key_value_heads=4, pad_token_id=0, bos_token_id=0, eos_token_id=0,
                  rope_parameters={"rope_type": "default", "rope_theta": 10000.0, "partial_rotary_factor": 0.5})
    if model_type == "gemma":
        fields["head_dim"] = 16
    data = _config_json(model_type, arch, fields)
    model = symparams.parse(program(data))
    # inv_freq and original_inv_freq, rotated / 2 numbers each
    assert _ours(model, {})["buffers"] - (0 if model_type != "gemma" else 1) == rotated
    check(model_type, arch, fields, {"hidden_size": 128, "num_attention_heads": 8})


def test_partial_rotary_factor_counts_with_another_rope_type():
    """rope types other than the default go through modeling_rope_utils, which reads the factor."""
    fields = dict(vocab_size=64, hidden_size=64, intermediate_size=24, num_hidden_layers=1, num_attention_heads=4,
                  rope_parameters={"rope_type": "linear", "factor": 2.0, "rope_theta": 10000.0,
                                   "partial_rotary_factor": 0.5}, pad_token_id=0, bos_token_id=0, eos_token_id=0)
    # transformers builds it but Llama's attention cannot run a partial rotation: counts only
    check("llama", "LlamaForCausalLM", fields, {"hidden_size": 128}, forward=False)


# ---------------------------------------------------------------- configs that used to be refused

def test_gptj_with_fewer_positions_than_2048():
    fields = dict(vocab_size=64, n_embd=32, n_layer=2, n_head=4, rotary_dim=4, n_positions=40)
    model = check("gptj", "GPTJForCausalLM", fields, {"n_embd": 48, "n_positions": 64})
    assert model.values()[model.symbol("sequence_length")] == 40
    with pytest.raises(SymparamsError, match="n_positions"):
        model.evaluate({"sequence_length": 41})


_DEEPSEEK = dict(vocab_size=64, hidden_size=32, intermediate_size=40, num_hidden_layers=2, num_attention_heads=4,
                 q_lora_rank=None, kv_lora_rank=8, qk_nope_head_dim=4, qk_rope_head_dim=4, v_head_dim=4,
                 moe_intermediate_size=8, n_routed_experts=3, n_shared_experts=1, num_experts_per_tok=1,
                 num_key_value_heads=4, first_k_dense_replace=3)


@pytest.mark.parametrize("model_type", ["deepseek_v2", "deepseek_v3"])
def test_deepseek_with_every_layer_dense(model_type):
    arch = "DeepseekV2ForCausalLM" if model_type == "deepseek_v2" else "DeepseekV3ForCausalLM"
    fields = {**_DEEPSEEK, **({"n_group": 1, "topk_group": 1} if model_type == "deepseek_v3" else {})}
    model = check(model_type, arch, fields, {"hidden_size": 48, "num_hidden_layers": 3, "qk_rope_head_dim": 8})
    with pytest.raises(SymparamsError, match="first_k_dense_replace"):     # a fourth layer would be sparse
        model.evaluate({"num_hidden_layers": 4})
    # DeepSeek's configs without routed experts (transformers 5 refuses a null n_routed_experts; DeepSeek's
    # own code makes every layer dense): the same model as first_k_dense_replace >= num_hidden_layers
    data = _config_json(model_type, arch, fields)
    none = {**data, "n_routed_experts": None, "first_k_dense_replace": 0}
    assert _ours(symparams.parse(program(none)), {}) == _ours(model, {})


@pytest.mark.parametrize("model_type,arch,fields,second", [
    ("qwen2_moe", "Qwen2MoeForCausalLM", dict(mlp_only_layers=[0]), {"num_hidden_layers": 5}),
    ("qwen3_moe", "Qwen3MoeForCausalLM", dict(mlp_only_layers=[0]), {"num_hidden_layers": 5}),
    ("qwen2_moe", "Qwen2MoeForCausalLM", dict(decoder_sparse_step=2), {"num_hidden_layers": 6}),
    ("qwen3_moe", "Qwen3MoeForCausalLM", dict(decoder_sparse_step=2, mlp_only_layers=[1, 3]),
     {"hidden_size": 64}),
])
def test_qwen_moe_with_dense_layers(model_type, arch, fields, second):
    base = dict(vocab_size=64, hidden_size=32, intermediate_size=40, num_hidden_layers=4, num_attention_heads=4,
                num_key_value_heads=2, moe_intermediate_size=8, num_experts=3, num_experts_per_tok=1)
    if model_type == "qwen2_moe":
        base["shared_expert_intermediate_size"] = 12
    check(model_type, arch, {**base, **fields}, second)


# ---------------------------------------------------------------- task heads

_LABELS = {"id2label": {str(i): f"L{i}" for i in range(3)}}
_BERT = dict(vocab_size=64, hidden_size=32, num_hidden_layers=2, num_attention_heads=4, intermediate_size=24,
             max_position_embeddings=20, **_LABELS)
_DECODER = dict(vocab_size=64, hidden_size=64, intermediate_size=24, num_hidden_layers=2, num_attention_heads=4,
                num_key_value_heads=2, pad_token_id=0, bos_token_id=0, eos_token_id=0, **_LABELS)
_ENCODER_FIELDS = {
    "bert": _BERT, "roberta": {**_BERT, "max_position_embeddings": 22, "pad_token_id": 1},
    "electra": {**_BERT, "embedding_size": 16},
    "albert": {**_BERT, "embedding_size": 16},
    "distilbert": dict(vocab_size=64, dim=32, n_layers=2, n_heads=4, hidden_dim=24, max_position_embeddings=20,
                       **_LABELS),
}
_PREFIX = {"bert": "Bert", "roberta": "Roberta", "electra": "Electra", "albert": "Albert", "distilbert": "DistilBert"}
ENCODER_HEADS = [(family, f"{_PREFIX[family]}{task}") for family in _PREFIX
                 for task in ("ForSequenceClassification", "ForTokenClassification", "ForQuestionAnswering",
                              "ForMultipleChoice")]


@pytest.mark.parametrize("model_type,arch", ENCODER_HEADS, ids=[a for _, a in ENCODER_HEADS])
def test_encoder_task_heads(model_type, arch):
    fields = dict(_ENCODER_FIELDS[model_type])
    if arch.endswith("QuestionAnswering"):
        fields.pop("id2label")          # the span's start and end: num_labels 2
    hidden = "dim" if model_type == "distilbert" else "hidden_size"
    second = {hidden: 48}
    if "id2label" in fields and not arch.endswith("MultipleChoice"):
        second["num_labels"] = 5
    model = check(model_type, arch, fields, second)
    if "num_labels" in second:
        assert "num_labels" in {str(s) for s in model.params.free_symbols}


DECODER_HEADS = [
    ("gpt2", "GPT2ForSequenceClassification"), ("gpt2", "GPT2ForTokenClassification"),
    ("gpt2", "GPT2ForQuestionAnswering"),
    ("llama", "LlamaForSequenceClassification"), ("llama", "LlamaForTokenClassification"),
    ("llama", "LlamaForQuestionAnswering"),
    ("qwen2", "Qwen2ForSequenceClassification"), ("mistral", "MistralForQuestionAnswering"),
    ("gemma", "GemmaForSequenceClassification"), ("phi3", "Phi3ForTokenClassification"),
    ("gpt_neox", "GPTNeoXForTokenClassification"), ("bloom", "BloomForTokenClassification"),
    ("falcon", "FalconForQuestionAnswering"), ("opt", "OPTForSequenceClassification"),
    ("gptj", "GPTJForQuestionAnswering"), ("olmo", "OlmoForSequenceClassification"),
]


@pytest.mark.parametrize("model_type,arch", DECODER_HEADS, ids=[a for _, a in DECODER_HEADS])
def test_decoder_task_heads(model_type, arch):
    fields = dict(_DECODER)
    if model_type in ("gpt2", "gptj"):
        fields = dict(vocab_size=64, n_embd=32, n_layer=2, n_head=4, n_positions=20, pad_token_id=0, **_LABELS)
    if model_type == "bloom":
        fields = dict(vocab_size=64, hidden_size=32, n_layer=2, n_head=4, pad_token_id=0, **_LABELS)
    if model_type == "opt":
        fields = dict(vocab_size=64, hidden_size=32, num_hidden_layers=2, num_attention_heads=4, ffn_dim=24,
                      word_embed_proj_dim=16, max_position_embeddings=20, pad_token_id=1, **_LABELS)
    if model_type in ("falcon", "gpt_neox"):
        fields.pop("num_key_value_heads")
    if model_type == "falcon":
        fields.pop("intermediate_size")
    if model_type == "gptj":
        fields["rotary_dim"] = 4
    hidden = "n_embd" if model_type in ("gpt2", "gptj") else "hidden_size"
    second = {hidden: 128}
    if not arch.endswith("QuestionAnswering"):
        second["num_labels"] = 5
    check(model_type, arch, fields, second)


def test_deepseek_sequence_classification():
    fields = {**_DEEPSEEK, "first_k_dense_replace": 1, "n_group": 1, "topk_group": 1, "pad_token_id": 0, **_LABELS}
    check("deepseek_v3", "DeepseekV3ForSequenceClassification", fields, {"num_labels": 7})


def test_num_labels_without_id2label_defaults_to_two():
    model = symparams.parse(program({"model_type": "bert", "architectures": ["BertForSequenceClassification"]}))
    assert model.values()[model.symbol("num_labels")] == 2
    model = symparams.parse(program({"model_type": "bert", "architectures": ["BertForSequenceClassification"],
                                     "num_labels": 4}))
    assert model.values()[model.symbol("num_labels")] == 4


# ---------------------------------------------------------------- a model id where a path is expected

def test_a_model_id_is_answered_with_how_to_get_its_config(capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(SymparamsError) as e:
        read_config("Qwen/Qwen2-0.5B")
    text = str(e.value)
    assert "looks like a Hugging Face model id" in text
    assert "huggingface-cli download Qwen/Qwen2-0.5B config.json --local-dir qwen2-0.5b" in text
    from symparams.cli import main
    assert main(["import", "Qwen/Qwen2-0.5B"]) == 2
    assert "huggingface-cli download" in capsys.readouterr().err
    # a missing config.json is still a missing file
    with pytest.raises(SymparamsError, match="cannot read the config"):
        read_config("missing/config.json")
