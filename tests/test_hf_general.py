"""The general route (importers/huggingface/general.py): a model type no template knows, built by
transformers from its config. Each figure is checked against transformers itself — parameters,
trainable and buffers of the model built from the config; MACs against FlopCounterMode of a forward
pass on the CPU at a sequence length the importer never measured; the formula at a second setting
of the config's fields against transformers rebuilt there.

SYMPARAMS_HF_SWEEP=1 runs every model type of the installed transformers at its default
(published) configuration on the meta device and reports those it refuses, with the reason
(SYMPARAMS_HF_SWEEP_TYPES=t5,bart,... runs only those)."""
from __future__ import annotations

import json
import os
import re
import subprocess
import sys

import pytest
import sympy as sp

torch = pytest.importorskip("torch")
transformers = pytest.importorskip("transformers")

import symparams  # noqa: E402
from symparams.importers.huggingface import general, program  # noqa: E402
from symparams.importers.huggingface.parts import ImportProblem  # noqa: E402
from test_import_hf import ARCHS, HEAD, _config_json, _small  # noqa: E402  (tests/ is on sys.path)

transformers.logging.set_verbosity_error()

TINY = dict(hidden_size=32, intermediate_size=48, num_hidden_layers=2, num_attention_heads=4, num_key_value_heads=2,
            vocab_size=96, max_position_embeddings=64)
# model types with no template, as people publish them, in tiny sizes; (type, class, fields, MACs known)
CASES = [
    ("granite", "GraniteForCausalLM", TINY, True),
    ("cohere", "CohereForCausalLM", TINY, True),
    ("stablelm", "StableLmForCausalLM", TINY, True),
    ("helium", "HeliumForCausalLM", {**TINY, "head_dim": 8}, True),
    ("gpt_bigcode", "GPTBigCodeForCausalLM", dict(n_embd=32, n_layer=2, n_head=4, vocab_size=96, n_positions=64), True),
    ("codegen", "CodeGenForCausalLM", dict(n_embd=32, n_layer=2, n_head=4, vocab_size=96, n_positions=64,
                                           rotary_dim=4), True),
    ("olmoe", "OlmoeForCausalLM", {**TINY, "num_experts": 4, "num_experts_per_tok": 2}, True),
    # four lists of layers called in turn (attentions[i], layer_norm1[i], ffns[i], layer_norm2[i]): a
    # block of one from each, repeated n_layers times (the field XLM names num_hidden_layers by)
    ("xlm", "XLMWithLMHeadModel", dict(emb_dim=32, n_layers=2, n_heads=4, vocab_size=96, max_position_embeddings=64),
     True),
    ("mamba", "MambaForCausalLM", dict(hidden_size=32, num_hidden_layers=2, vocab_size=96, state_size=4), False),
]


def _reference(model_type, arch, fields, tokens=None):
    config = transformers.AutoConfig.for_model(model_type, **fields)
    torch.manual_seed(0)
    # experts as transformers' eager loop over the experts chosen, each a linear over its tokens
    # (its default, grouped_mm, is no operation FlopCounterMode counts)
    with torch.device("cpu" if tokens else "meta"):
        try:
            model = getattr(transformers, arch)._from_config(config, attn_implementation="sdpa",
                                                             experts_implementation="eager")
        except ValueError:              # no attention (Mamba)
            model = getattr(transformers, arch)._from_config(config, attn_implementation="eager")
    out = {"params": sum(p.numel() for p in model.parameters()),
           "trainable": sum(p.numel() for p in model.parameters() if p.requires_grad),
           "buffers": sum(b.numel() for b in model.buffers())}
    if tokens:
        from torch.nn.attention import SDPBackend, sdpa_kernel
        from torch.utils.flop_counter import FlopCounterMode
        # the CPU's fused attention kernel is not counted by FlopCounterMode; the math one is
        with torch.no_grad(), sdpa_kernel(SDPBackend.MATH), FlopCounterMode(display=False) as flops:
            y = model(input_ids=torch.zeros((1, tokens), dtype=torch.long), use_cache=False)
        out["macs"] = flops.get_total_flops() // 2
        out["output_shape"] = tuple(y.logits.shape[1:])
    return out


def _imported(model, values):
    ev = model.evaluate(values)
    ev.check()
    return {"params": ev.params, "trainable": ev.trainable, "buffers": ev.buffers}


@pytest.mark.parametrize("model_type,arch,fields,macs_known", CASES, ids=[c[0] for c in CASES])
def test_counts_shapes_and_macs_equal_transformers(model_type, arch, fields, macs_known):
    data = _config_json(model_type, arch, fields)
    model = symparams.parse(program(data, "config.json"), "config.json")
    tokens = 6 if macs_known else None     # (Mamba's CPU pass is not counted here)
    got, expected = _imported(model, {"sequence_length": 6}), _reference(model_type, arch, fields, tokens=tokens)
    ev = model.evaluate({"sequence_length": 6})
    assert got == {k: expected[k] for k in got}
    if macs_known:
        assert ev.shape(model.output_shape) == expected["output_shape"]
        assert ev.macs == expected["macs"]
    else:
        with pytest.raises(symparams.errors.SymparamsError, match="MACs of layer .* are not known"):
            ev.macs


@pytest.mark.parametrize("model_type,arch,fields,macs_known", CASES, ids=[c[0] for c in CASES])
def test_the_formula_holds_at_another_setting(model_type, arch, fields, macs_known):
    """The program's symbols are the config's fields: set them elsewhere, and the counts are what
    transformers builds there (nothing was inferred from equal values at the first setting)."""
    data = _config_json(model_type, arch, fields)
    model = symparams.parse(program(data, "config.json"), "config.json")
    symbols = {str(s) for s in model.symbols}
    other = {k: (v * 2 if k not in ("num_hidden_layers", "n_layer") else v + 1) for k, v in fields.items()
             if isinstance(v, int) and k in symbols}
    assert other, "the program has symbols of the config's fields"
    stated = {k: v for k, v in data.items() if k not in ("model_type", "architectures", "transformers_version")}
    assert _imported(model, other) == _reference(model_type, arch, {**stated, **other})


# Eight families on every run (a decoder with biases, GPT-2's Conv1D, an encoder, sliding windows,
# fused projections, experts, two encoder-decoders); every templated family with SYMPARAMS_HF_SWEEP=1.
SAMPLE = {"qwen2", "gpt2", "bert", "gemma2", "phi3", "mixtral", "bart", "t5"}
FAMILIES = sorted(ARCHS) if os.environ.get("SYMPARAMS_HF_SWEEP") else sorted(SAMPLE)


@pytest.mark.parametrize("family", FAMILIES)
def test_a_templated_family_and_the_general_route_agree(family):
    arch = f"{ARCHS[family]}{HEAD.get(family, 'ForCausalLM')}"
    data = _config_json(family, arch, _small(family, 1))
    template = symparams.parse(program(data, "config.json"), "config.json")
    through = symparams.parse(general.program(data, "config.json"), "config.json")
    values = {} if family == "vit" else {"sequence_length": 5}
    if family in ("t5", "bart"):
        values["target_length"] = 5
    at = {k: v for k, v in values.items() if k in {str(s) for s in through.symbols}}
    assert _imported(through, at) == _imported(template, values)
    try:
        macs = through.evaluate(at).macs
    except symparams.errors.SymparamsError as e:
        assert "not known" in e.message
    else:                        # where the general route states MACs, they are the template's
        assert macs == template.evaluate(values).macs


# (XLM fills a cache in its forward pass but returns none to compare with)
KV_CASES = [c[:3] for c in CASES if c[3] and c[0] != "xlm"]


@pytest.mark.parametrize("model_type,arch,fields", KV_CASES, ids=[c[0] for c in KV_CASES])
def test_the_kv_cache_is_what_transformers_caches(model_type, arch, fields):
    """The attention facts the general route reads off the module and the measured pass give the
    cache transformers really fills: a prefill of 5 tokens and 3 decode steps, at bfloat16."""
    from kv_cache_reference import runtime_cache_bytes
    data = _config_json(model_type, arch, fields)
    model = symparams.parse(program(data, "config.json"), "config.json")
    formula = model.quantity("kv_cache", dtype="bfloat16")
    assert int(formula.subs(model.values({"sequence_length": 8}))) == runtime_cache_bytes(data, 5, 3)


def test_a_size_computed_through_a_float_keeps_its_formula():
    """GLM's rotary buffers are int(head_dim * partial_rotary_factor): a float on the way, whose
    formula the build keeps as Python computes it (`head_dim // 2`, whole at every head_dim, where
    the exact `head_dim/2` would be wrong at an odd one). At another head_dim the program's buffers
    are transformers' rebuilt there, odd ones too."""
    fields = {**TINY, "head_dim": 8, "pad_token_id": 0}
    data = _config_json("glm", "GlmForCausalLM", fields)
    text = program(data, "config.json")
    assert "Its formulas are this config's numbers" not in text and "head_dim // 2" in text
    model = symparams.parse(text, "config.json")
    for head_dim in (8, 10, 12, 14, 20):
        values = {"head_dim": head_dim, "sequence_length": 6}
        got = _imported(model, values)
        expected = _reference("glm", "GlmForCausalLM", {**fields, "head_dim": head_dim})
        assert got == {k: v for k, v in expected.items() if k in got}, head_dim


def test_a_head_size_the_width_leaves_over_is_floored_all_the_way_down():
    """GLM-4.5's head size is hidden_size // num_attention_heads (4096 // 96 = 42, 32 left over) and
    its rotary table int(42 * 0.5) // 2 long: every floor kept, so the formula holds at a width
    where the half head is odd (42 at 8192 // 96 = 85), which `ceil(head/4)` did not (44 for 42)."""
    fields = {**TINY, "hidden_size": 40, "num_attention_heads": 3, "num_key_value_heads": 1,
              "n_routed_experts": 4, "num_experts_per_tok": 2, "moe_intermediate_size": 16, "first_k_dense_replace": 1}
    data = _config_json("glm4_moe", "Glm4MoeForCausalLM", fields)
    text = program(data, "config.json")
    assert "Its formulas are this config's numbers" not in text, text
    model = symparams.parse(text, "config.json")
    for hidden in (40, 44, 52, 60):         # heads of 13, 14, 17, 20: half heads 6, 7, 8, 10
        got = _imported(model, {"hidden_size": hidden, "sequence_length": 6})
        expected = _reference("glm4_moe", "Glm4MoeForCausalLM", {**fields, "hidden_size": hidden})
        assert got == {k: v for k, v in expected.items() if k in got}, hidden


def test_a_head_size_the_config_leaves_out_follows_the_fields_it_is_computed_from():
    """Arcee's config computes head_dim = hidden_size // num_attention_heads where config.json does
    not state it (one written before transformers saved every field): the program's head size is
    then that formula, no field of its own, so the counts at other widths and head counts are
    transformers' (a stated head_dim stays a field)."""
    data = _config_json("arcee", "ArceeForCausalLM", TINY)
    del data["head_dim"]
    text = program(data, "config.json")
    model = symparams.parse(text, "config.json")
    assert "head_dim" not in model.symbols and "Its formulas are this config's numbers" not in text, text
    for other in ({"num_attention_heads": 8, "num_key_value_heads": 4}, {"hidden_size": 64}, {"num_attention_heads": 2}):
        got = _imported(model, {**other, "sequence_length": 6})
        expected = _reference("arcee", "ArceeForCausalLM", {**TINY, **other})
        assert got == {k: v for k, v in expected.items() if k in got}, other
    stated = program(_config_json("arcee", "ArceeForCausalLM", TINY), "config.json")
    assert "head_dim" in symparams.parse(stated, "config.json").symbols


def test_the_larger_of_two_sizes_keeps_the_formula_of_each():
    """CLVP's rotary table is max(projection_dim // (2 * num_attention_heads), 32) long: Python's
    `max` in the modeling code keeps both formulas, so the table is right on either side of 32."""
    fields = dict(hidden_size=32, intermediate_size=48, num_hidden_layers=2, num_attention_heads=2,
                  projection_dim=256, vocab_size=64)
    data = _config_json("clvp_encoder", "ClvpEncoder", fields)
    text = program(data, "config.json")
    assert "max(32, " in text and "Its formulas are this config's numbers" not in text \
        and "Its structure follows" not in text, text
    assert _each_field_alone(data, text) == {}
    model = symparams.parse(text, "config.json")
    for heads in (1, 2, 4, 8):          # a table of 128, 64, 32 and 32 positions
        got = _imported(model, {"num_attention_heads": heads, "sequence_length": 6})
        expected = _reference("clvp_encoder", "ClvpEncoder", {**fields, "num_attention_heads": heads})
        assert got == {k: v for k, v in expected.items() if k in got}, heads


def test_a_field_the_structure_follows_is_its_number_and_the_rest_formulas():
    """Ernie 4.5's mixture-of-experts layers run from moe_layer_start_index to moe_layer_end_index,
    the layers past it dense: one layer more is a dense one, which no `repeat` of the config's count
    of layers says. That count is written as this config's number, said in the header, and every
    other field stays a formula that holds with each changed alone and all together."""
    fields = {**TINY, "num_hidden_layers": 4, "moe_layer_start_index": 1, "moe_layer_end_index": 3,
              "moe_num_experts": 4, "moe_k": 2, "moe_intermediate_size": 16, "moe_num_shared_experts": 1}
    data = _config_json("ernie4_5_moe", "Ernie4_5_MoeForCausalLM", fields)
    text = program(data, "config.json")
    assert "Its formulas are this config's numbers" not in text, text
    assert "so they are this config's numbers here: num_hidden_layers = 4" in text, text
    model = symparams.parse(text, "config.json")
    assert "num_hidden_layers" not in model.symbols and {"hidden_size", "moe_num_experts"} <= set(model.symbols)
    assert _each_field_alone(data, text) == {}
    other = {"hidden_size": 64, "intermediate_size": 80, "moe_num_experts": 8, "moe_intermediate_size": 24}
    got = _imported(model, {**other, "sequence_length": 6})
    expected = _reference("ernie4_5_moe", "Ernie4_5_MoeForCausalLM", {**fields, **other})
    assert got == {k: v for k, v in expected.items() if k in got}


@pytest.mark.parametrize("model_type,arch,fields", [
    ("ernie4_5_moe", "Ernie4_5_MoeForCausalLM", {"moe_num_experts": 6, "moe_k": 2, "moe_intermediate_size": 16,
                                                 "moe_num_shared_experts": 1}),
    ("glm4_moe", "Glm4MoeForCausalLM", {"n_routed_experts": 6, "num_experts_per_tok": 2, "moe_intermediate_size": 16,
                                        "first_k_dense_replace": 1}),
    ("deepseek_v3", "DeepseekV3ForCausalLM", {"n_routed_experts": 6, "num_experts_per_tok": 2, "n_group": 1,
                                              "topk_group": 1, "moe_intermediate_size": 16, "first_k_dense_replace": 1,
                                              "q_lora_rank": 16, "kv_lora_rank": 8, "qk_rope_head_dim": 4,
                                              "qk_nope_head_dim": 4, "v_head_dim": 8}),
], ids=["ernie4_5_moe", "glm4_moe", "deepseek_v3"])
def test_active_parameters_are_those_one_token_reaches(model_type, arch, fields):
    """A mixture of experts' active parameters (the general route's `active =`, the template's
    catalog experts for DeepSeek-V3): transformers' model on the CPU takes one token and its
    gradient reaches top_k experts of each layer; every other weight counts whole (its embedding's
    table too, as the catalog's experts count). The experts' stacked weights the gradient did not
    reach are what one token does not use."""
    fields = {**TINY, **fields}
    data = _config_json(model_type, arch, fields)
    text = program(data, "config.json")
    assert "active = " in text or "no template" not in text, text
    model = symparams.parse(text, "config.json")
    config = transformers.AutoConfig.for_model(model_type, **fields)
    torch.manual_seed(0)
    reference = getattr(transformers, arch)._from_config(config, experts_implementation="eager")
    reference(torch.tensor([[3]])).logits.sum().backward()
    unused = 0
    for p in reference.parameters():
        if p.dim() == 3:        # (experts, out, in): the experts no gradient reached
            reached = (p.grad is not None) and (p.grad.flatten(1) != 0).any(dim=1)
            unused += int((~reached).sum()) * p[0].numel() if p.grad is not None else p.numel()
    expected = sum(p.numel() for p in reference.parameters()) - unused
    assert int(model.evaluate({"sequence_length": 6}).number(model.active)) == expected


def test_setting_a_field_the_program_states_as_a_number_imports_the_config_again(tmp_path, capsys):
    """`summary config.json --set num_hidden_layers=6` of the Ernie 4.5 program above, whose count
    of layers is the config's number: the config is imported again with the field set there, and
    its count is transformers' at 6 layers (the last past moe_layer_end_index dense), together with
    another field set as a symbol."""
    from symparams.cli import main
    fields = {**TINY, "num_hidden_layers": 4, "moe_layer_start_index": 1, "moe_layer_end_index": 3,
              "moe_num_experts": 4, "moe_k": 2, "moe_intermediate_size": 16, "moe_num_shared_experts": 1}
    path = tmp_path / "config.json"
    path.write_text(json.dumps(_config_json("ernie4_5_moe", "Ernie4_5_MoeForCausalLM", fields)))
    assert main(["summary", str(path), "--set", "num_hidden_layers=6", "moe_num_experts=8",
                 "--columns", "params", "--format", "json"]) == 0
    out, err = capsys.readouterr()
    assert "num_hidden_layers is this config's number in its program" in err
    expected = _reference("ernie4_5_moe", "Ernie4_5_MoeForCausalLM", {**fields, "num_hidden_layers": 6,
                                                                      "moe_num_experts": 8})
    assert json.loads(out)["totals"]["params"]["value"] == expected["params"]


def test_sweeping_a_field_the_program_states_as_a_number_imports_the_config_at_each_value(tmp_path, capsys):
    """`sweep config.json --vary num_hidden_layers=4,6 --vary moe_num_experts=4,8` of the Ernie 4.5
    program: the count of layers is the config's number, so the config is imported again at each of
    its values (a note says so) and the rest swept over each program; every row is transformers'
    count there. `solve` for that field is refused, naming the sweep that answers it."""
    from symparams.cli import main
    fields = {**TINY, "num_hidden_layers": 4, "moe_layer_start_index": 1, "moe_layer_end_index": 3,
              "moe_num_experts": 4, "moe_k": 2, "moe_intermediate_size": 16, "moe_num_shared_experts": 1}
    path = tmp_path / "config.json"
    path.write_text(json.dumps(_config_json("ernie4_5_moe", "Ernie4_5_MoeForCausalLM", fields)))
    assert main(["sweep", str(path), "--vary", "num_hidden_layers=4,6", "--vary", "moe_num_experts=4,8",
                 "--format", "json"]) == 0
    out, err = capsys.readouterr()
    assert "num_hidden_layers is this config's number in its program" in err and "each of 2 values" in err
    rows = json.loads(out)["rows"]
    assert [(r["num_hidden_layers"], r["moe_num_experts"]) for r in rows] == [(4, 4), (4, 8), (6, 4), (6, 8)]
    for r in rows:
        expected = _reference("ernie4_5_moe", "Ernie4_5_MoeForCausalLM",
                              {**fields, "num_hidden_layers": r["num_hidden_layers"],
                               "moe_num_experts": r["moe_num_experts"]})
        assert r["params"] == expected["params"], r
    assert main(["sweep", str(path), "--vary", "num_hidden_layers=5,6", "--vary", "moe_num_experts=4,8",
                 "--zip"]) == 0
    out, _ = capsys.readouterr()
    assert out.splitlines()[1:] == [
        f"{n},{e},{_reference('ernie4_5_moe', 'Ernie4_5_MoeForCausalLM', {**fields, 'num_hidden_layers': n, 'moe_num_experts': e})['params']}"
        for n, e in ((5, 4), (6, 8))]
    assert main(["solve", str(path), "--for", "num_hidden_layers", "--budget", "1e6"]) == 2
    _, err = capsys.readouterr()
    assert "num_hidden_layers is this config's number in its program" in err and "--vary num_hidden_layers" in err


def test_a_formula_that_does_not_hold_elsewhere_becomes_the_configs_numbers():
    """A ResNet's first stage has a shortcut convolution only where its input's channels
    (embedding_size, 4) are not its output's (hidden_sizes[0], 8): at the second setting, where
    embedding_size is 8, transformers builds none, which no formula says. The program says so and
    states this config's numbers, exact, rather than formulas that are wrong elsewhere."""
    fields = dict(embedding_size=4, hidden_sizes=[8, 16], depths=[1, 2], layer_type="bottleneck")
    text = general.program(_config_json("resnet", "ResNetModel", fields), "config.json")
    assert "Its formulas are this config's numbers" in text and "at embedding_size=8" in text, text
    model = symparams.parse(text, "config.json")
    assert not model.symbols
    reference = transformers.ResNetModel._from_config(transformers.AutoConfig.for_model("resnet", **fields))
    assert _imported(model, {}) == {
        "params": sum(p.numel() for p in reference.parameters()),
        "trainable": sum(p.numel() for p in reference.parameters() if p.requires_grad),
        "buffers": sum(b.numel() for b in reference.buffers())}


def test_a_program_in_the_configs_numbers_is_set_and_swept_by_importing_again(tmp_path, capsys):
    """The ResNet above is in its config's numbers: `--set embedding_size=8` imports the config
    again with it set (a note says so) and counts what transformers builds there (a shortcut
    convolution fewer), `sweep --vary` does at each value; a name that is no field of the config is
    still an unknown name, and `solve` for a field is refused, naming the sweep."""
    from symparams.cli import main
    fields = dict(embedding_size=4, hidden_sizes=[8, 16], depths=[1, 2], layer_type="bottleneck")
    path = tmp_path / "config.json"
    path.write_text(json.dumps(_config_json("resnet", "ResNetModel", fields)))

    def reference(size):
        built = transformers.ResNetModel._from_config(
            transformers.AutoConfig.for_model("resnet", **{**fields, "embedding_size": size}))
        return sum(p.numel() for p in built.parameters())
    assert main(["summary", str(path), "--set", "embedding_size=8", "--format", "json"]) == 0
    out, err = capsys.readouterr()
    assert "embedding_size is this config's number in its program" in err
    assert json.loads(out)["totals"]["params"]["value"] == reference(8) != reference(4)
    assert main(["sweep", str(path), "--vary", "embedding_size=4,8,16"]) == 0
    out, _ = capsys.readouterr()
    assert out.splitlines()[1:] == [f"{n},{reference(n)}" for n in (4, 8, 16)]
    assert main(["summary", str(path), "--set", "embedding_sizes=8"]) == 2
    assert "no symbol 'embedding_sizes'" in capsys.readouterr().err
    assert main(["solve", str(path), "--for", "embedding_size", "--budget", "1e6"]) == 2
    assert "--vary embedding_size" in capsys.readouterr().err


def test_a_field_no_formula_names_is_set_by_importing_again(tmp_path, capsys):
    """GOT-OCR2's vision encoder: an image, though the class inherits `input_ids` as its main input.
    Its global-attention layers are a list's (`global_attn_indexes`), so its count of layers is no
    formula, and `--set num_hidden_layers=6` imports the config again: the count is transformers'
    at 6 layers (beside hidden_size set as a symbol), as is a sweep's at each depth. Its 4 x 4
    patches a side are image_size / patch_size, not hidden_size / num_attention_heads, 4 too here:
    the output's shape is transformers' with the heads doubled, and at another image size."""
    from symparams.cli import main
    fields = dict(hidden_size=32, output_channels=16, num_hidden_layers=4, num_attention_heads=8, image_size=64,
                  patch_size=16, window_size=2, global_attn_indexes=[1, 3], mlp_dim=64)
    # (transformers exports no GotOcr2VisionEncoder: a config.json without `architectures`)
    data = {**transformers.AutoConfig.for_model("got_ocr2_vision", **fields).to_diff_dict(),
            "model_type": "got_ocr2_vision"}
    path = tmp_path / "config.json"
    path.write_text(json.dumps(data))

    def reference(**changed):
        config = transformers.AutoConfig.for_model("got_ocr2_vision", **{**fields, **changed})
        from transformers.models.got_ocr2.modeling_got_ocr2 import GotOcr2VisionEncoder
        side = config.image_size
        with torch.device("meta"):
            built = GotOcr2VisionEncoder._from_config(config)
            shape = tuple(built(pixel_values=torch.zeros((1, 3, side, side))).last_hidden_state.shape[1:])
        return sum(p.numel() for p in built.parameters()), shape
    text = program(data, "config.json")
    model = symparams.parse(text, "config.json")
    assert "pixel_values = input (num_channels, image_size, image_size)" in text, text
    assert "num_hidden_layers" not in model.symbols
    for changed in ({}, {"num_attention_heads": 16}, {"image_size": 128}, {"image_size": 96, "window_size": 3}):
        ev = model.evaluate(changed)
        assert (ev.params, ev.shape(model.output_shape)) == reference(**changed)
    assert main(["summary", str(path), "--set", "num_hidden_layers=6", "hidden_size=64", "--format", "json"]) == 0
    out, err = capsys.readouterr()
    assert "num_hidden_layers is named by no formula of its program: imported again" in err
    assert json.loads(out)["totals"]["params"]["value"] == reference(num_hidden_layers=6, hidden_size=64)[0]
    assert main(["sweep", str(path), "--vary", "num_hidden_layers=4,5,6"]) == 0
    out, _ = capsys.readouterr()
    assert out.splitlines()[1:] == [f"{n},{reference(num_hidden_layers=n)[0]}" for n in (4, 5, 6)]


def test_a_field_transformers_ignores_here_is_said_to_change_nothing(tmp_path, capsys):
    """Mamba's `expand` beside a stated `intermediate_size`: `--set expand=3` imports the config
    again, and transformers builds the same model there; the note says so, and the count is
    transformers'."""
    from symparams.cli import main
    fields = dict(hidden_size=32, num_hidden_layers=2, vocab_size=96, state_size=4, intermediate_size=64)
    path = tmp_path / "config.json"
    path.write_text(json.dumps(_config_json("mamba", "MambaForCausalLM", fields)))
    assert main(["summary", str(path), "--set", "expand=3", "--format", "json"]) == 0
    out, err = capsys.readouterr()
    assert "imported again at expand=3; transformers builds the same model there" in err, err
    built = transformers.MambaForCausalLM._from_config(transformers.AutoConfig.for_model("mamba", **fields, expand=3))
    assert json.loads(out)["totals"]["params"]["value"] == sum(p.numel() for p in built.parameters())


def test_a_sinusoidal_table_is_sized_by_its_own_buffer():
    """M2M-100's positions are a sinusoidal table, a buffer of (max_position_embeddings + 2) rows of
    d_model: with both fields 32, the table's width is d_model by its own buffer's shape (no weight
    holds it), so the program is in the config's names, not its numbers, and holds with each field
    changed alone."""
    fields = dict(vocab_size=96, d_model=32, encoder_layers=1, decoder_layers=1, encoder_attention_heads=4,
                  decoder_attention_heads=4, encoder_ffn_dim=64, decoder_ffn_dim=64, max_position_embeddings=32)
    text = program(_config_json("m2m_100", "M2M100ForConditionalGeneration", fields), "config.json")
    assert "Its formulas are this config's numbers" not in text, text
    model = symparams.parse(text, "config.json")
    for changed in ({}, {"d_model": 64}, {"max_position_embeddings": 48}):
        reference = transformers.M2M100ForConditionalGeneration._from_config(
            transformers.AutoConfig.for_model("m2m_100", **{**fields, **changed}))
        assert _imported(model, changed) == {
            "params": sum(p.numel() for p in reference.parameters()),
            "trainable": sum(p.numel() for p in reference.parameters() if p.requires_grad),
            "buffers": sum(b.numel() for b in reference.buffers())}, changed


def test_a_chain_ending_at_no_tensor_of_the_pass_is_not_one_chain():
    """XLNet runs its layers over (positions, batch, width), so the chain read from its pass ends
    at the embeddings' (7, 32), which the pass returns no tensor of: its layers are not one chain.
    The program says so, each layer keeping its shape and its MACs not known, and counts as
    transformers does at the config and with fields changed (it was the config's numbers, its
    output still wrong)."""
    fields = dict(d_model=32, n_layer=2, n_head=4, d_inner=64, vocab_size=96)
    text = program(_config_json("xlnet", "XLNetLMHeadModel", fields), "config.json")
    assert "Its layers are not one chain" in text and "ends at (7, 32), which its forward pass returns no tensor" \
        in text, text
    model = symparams.parse(text, "config.json")
    # (XLNet's config refuses a d_head other than d_model // n_head: it is set with them)
    for changed in ({}, {"n_layer": 3}, {"d_model": 64, "d_head": 16}, {"n_head": 8, "d_head": 4}):
        reference = transformers.XLNetLMHeadModel._from_config(transformers.AutoConfig.for_model(
            "xlnet", **{**fields, **{k: v for k, v in changed.items() if k != "d_head"}}))
        assert _imported(model, changed)["params"] == sum(p.numel() for p in reference.parameters()), changed
    with pytest.raises(symparams.errors.SymparamsError, match="not known"):
        model.evaluate({"sequence_length": 7}).macs


def test_a_position_table_made_through_expand_keeps_its_formula():
    """A CLIP whose text positions (16) are as many as its image's patches ((32/8)**2): the text's
    position ids, `arange(max_position_embeddings).expand((1, -1))`, keep the formula of the
    arange's length through the expand, so the program is in the config's names and holds at
    another max_position_embeddings."""
    config = transformers.AutoConfig.for_model("clip", text_config={**TOWER_TEXT, "max_position_embeddings": 16},
                                               vision_config=TOWER_IMAGE, projection_dim=20)
    data = {**config.to_diff_dict(), "model_type": "clip", "architectures": ["CLIPModel"]}
    text = general.program(data, "config.json")
    assert "Its formulas are this config's numbers" not in text, text
    model = symparams.parse(text, "config.json")
    for positions in (16, 40):
        other = transformers.AutoConfig.for_model(
            "clip", text_config={**TOWER_TEXT, "max_position_embeddings": positions}, vision_config=TOWER_IMAGE,
            projection_dim=20)
        reference = transformers.CLIPModel._from_config(other)
        assert _imported(model, {"text_max_position_embeddings": positions, "sequence_length": 6}) == {
            "params": sum(p.numel() for p in reference.parameters()),
            "trainable": sum(p.numel() for p in reference.parameters() if p.requires_grad),
            "buffers": sum(b.numel() for b in reference.buffers())}, positions


# Encoder-decoders in tiny sizes, the encoder's and the decoder's depths apart (each is its own
# field): two inputs, the decoder's layers reading the encoder's output too.
SEQ2SEQ = dict(d_model=32, encoder_layers=2, decoder_layers=3, encoder_attention_heads=4, decoder_attention_heads=2,
               encoder_ffn_dim=48, decoder_ffn_dim=40, vocab_size=96, max_position_embeddings=64)
ENCODER_DECODERS = [
    ("bart", "BartForConditionalGeneration", SEQ2SEQ),
    ("mbart", "MBartForConditionalGeneration", SEQ2SEQ),
    ("marian", "MarianMTModel", {**SEQ2SEQ, "decoder_vocab_size": 96, "pad_token_id": 0}),
    ("pegasus", "PegasusForConditionalGeneration", SEQ2SEQ),
    ("t5", "T5ForConditionalGeneration", dict(d_model=32, d_kv=8, d_ff=48, num_layers=2, num_decoder_layers=3,
                                              num_heads=4, vocab_size=96)),
    ("mt5", "MT5ForConditionalGeneration", dict(d_model=32, d_kv=8, d_ff=48, num_layers=2, num_decoder_layers=3,
                                                num_heads=4, vocab_size=96, tie_word_embeddings=False)),
]


WHISPER = {**SEQ2SEQ, "num_mel_bins": 6, "max_source_positions": 10, "max_target_positions": 24, "pad_token_id": 0,
           "bos_token_id": 1, "eos_token_id": 2, "decoder_start_token_id": 1}


def _seq2seq_reference(model_type, arch, fields, source=None, target=None):
    """Counts of transformers' model; with lengths, the logits' shape and the MACs of its forward
    pass on the CPU over `source` encoder positions and `target` decoder positions."""
    config = transformers.AutoConfig.for_model(model_type, **fields)
    torch.manual_seed(0)
    with torch.device("cpu" if source else "meta"):
        model = getattr(transformers, arch)._from_config(config, attn_implementation="sdpa").eval()
    out = {"params": sum(p.numel() for p in model.parameters()),
           "trainable": sum(p.numel() for p in model.parameters() if p.requires_grad),
           "buffers": sum(b.numel() for b in model.buffers())}
    if source:
        from torch.nn.attention import SDPBackend, sdpa_kernel
        from torch.utils.flop_counter import FlopCounterMode
        ids = {"input_ids": torch.ones((1, source), dtype=torch.long)} if model.main_input_name == "input_ids" else \
            {"input_features": torch.zeros((1, config.num_mel_bins, source))}
        ids["decoder_input_ids"] = torch.ones((1, target), dtype=torch.long)
        with torch.no_grad(), sdpa_kernel(SDPBackend.MATH), FlopCounterMode(display=False) as flops:
            y = model(**ids, use_cache=False)
        out["macs"] = flops.get_total_flops() // 2
        out["output_shape"] = tuple(y.logits.shape[1:])
    return out


@pytest.mark.parametrize("model_type,arch,fields", ENCODER_DECODERS, ids=[c[0] for c in ENCODER_DECODERS])
def test_an_encoder_decoder_is_two_chains_counted_as_transformers(model_type, arch, fields):
    """Counts, the logits' shape and the MACs at a source and a target length neither measured by
    the importer, against transformers' forward pass; the formulas at a second setting of every
    field the program names (the two depths grown apart) against transformers rebuilt there."""
    data = _config_json(model_type, arch, fields)
    text = general.program(data, "config.json")
    assert "this config's numbers" not in text and "MACs are not stated" not in text, text[:600]
    model = symparams.parse(text, "config.json")
    assert {"sequence_length", "target_length"} <= {str(s) for s in model.symbols}
    at = {"sequence_length": 6, "target_length": 4}
    expected = _seq2seq_reference(model_type, arch, fields, 6, 4)
    ev = model.evaluate(at)
    assert _imported(model, at) == {k: expected[k] for k in ("params", "trainable", "buffers")}
    assert ev.shape(model.output_shape) == expected["output_shape"]
    assert ev.macs == expected["macs"]
    symbols = {str(s) for s in model.symbols} - set(at)
    layers = [k for k in sorted(symbols) if "layer" in k]
    assert len(layers) == 2, "the encoder's and the decoder's depths are the config's fields"
    other = {k: v + 1 + layers.index(k) if k in layers else v * 2 for k, v in fields.items() if k in symbols}
    stated = {k: v for k, v in data.items() if k not in ("model_type", "architectures", "transformers_version")}
    assert _imported(model, other) == _seq2seq_reference(model_type, arch, {**stated, **other})


def test_whisper_reads_mel_features_and_its_decoder_the_encoders_frames():
    """Whisper's encoder takes num_mel_bins x 2*max_source_positions features (it refuses any other
    length): counts and the logits' shape as transformers', at the config and at a second setting;
    its convolutions' MACs are not stated, so the whole model's are refused, not guessed."""
    data = _config_json("whisper", "WhisperForConditionalGeneration", WHISPER)
    text = general.program(data, "config.json")
    model = symparams.parse(text, "config.json")
    assert "input_features = input (num_mel_bins, 2*max_source_positions)" in text
    expected = _seq2seq_reference("whisper", "WhisperForConditionalGeneration", WHISPER, 20, 4)
    ev = model.evaluate({"target_length": 4})
    assert _imported(model, {"target_length": 4}) == {k: expected[k] for k in ("params", "trainable", "buffers")}
    assert ev.shape(model.output_shape) == expected["output_shape"]
    with pytest.raises(symparams.errors.SymparamsError, match="not known"):
        ev.macs
    other = {"d_model": 64, "encoder_layers": 3, "decoder_layers": 5, "max_source_positions": 12, "num_mel_bins": 4}
    stated = {k: v for k, v in data.items() if k not in ("model_type", "architectures", "transformers_version")}
    assert _imported(model, other) == _seq2seq_reference("whisper", "WhisperForConditionalGeneration",
                                                         {**stated, **other})


def test_a_bert_to_bert_model_leaves_the_encoders_pooler_off_its_chain():
    """EncoderDecoderModel of two BERTs: the encoder's output is its last hidden state, which its
    pooler reads after it (pooling nothing the decoder reads): counts and logits as transformers'."""
    bert = dict(hidden_size=32, intermediate_size=48, num_hidden_layers=2, num_attention_heads=4, vocab_size=96,
                max_position_embeddings=64)
    fields = {"encoder": {"model_type": "bert", **bert},
              "decoder": {"model_type": "bert", **bert, "is_decoder": True, "add_cross_attention": True},
              "decoder_start_token_id": 1, "pad_token_id": 0}
    data = {"model_type": "encoder-decoder", "architectures": ["EncoderDecoderModel"], **fields}
    model = symparams.parse(general.program(data, "config.json"), "config.json")
    config = transformers.AutoConfig.for_model("encoder-decoder", **fields)
    reference = transformers.EncoderDecoderModel(config=config).eval()
    with torch.no_grad():
        y = reference(input_ids=torch.ones((1, 7), dtype=torch.long),
                      decoder_input_ids=torch.ones((1, 5), dtype=torch.long))
    ev = model.evaluate({"sequence_length": 7, "target_length": 5})
    assert (ev.params, ev.trainable, ev.buffers) == (sum(p.numel() for p in reference.parameters()),
                                                     sum(p.numel() for p in reference.parameters() if p.requires_grad),
                                                     sum(b.numel() for b in reference.buffers()))
    assert ev.shape(model.output_shape) == tuple(y.logits.shape[1:])


@pytest.mark.parametrize("model_type,arch,fields", ENCODER_DECODERS[:1] + ENCODER_DECODERS[4:5],
                         ids=["bart", "t5"])
def test_an_encoder_decoder_caches_what_transformers_caches(model_type, arch, fields):
    """The decoder's self-attention caches the decoder's positions, its cross-attention the
    encoder's: the cache transformers fills after a prefill and 3 decode steps, at bfloat16."""
    from kv_cache_reference import runtime_cache_bytes
    data = _config_json(model_type, arch, fields)
    model = symparams.parse(general.program(data, "config.json"), "config.json")
    formula = model.quantity("kv_cache", dtype="bfloat16")
    at = model.values({"sequence_length": 6, "target_length": 8})    # 6 encoder positions; 5 + 3 decoder
    assert int(formula.subs(at)) == runtime_cache_bytes(data, 5, 3, encoder_length=6)


@pytest.mark.parametrize("model_type,arch,macs_known", [("siglip_text_model", "SiglipTextModel", False),
                                                        ("clip_text_model", "CLIPTextModel", True)])
def test_a_towers_own_config_is_built_by_its_own_class(model_type, arch, macs_known):
    """A text tower's config (no Auto class maps SiglipTextConfig) imports through the model class
    transformers builds from it: counts, output shape and MACs as its forward pass over 6 tokens.
    SigLIP's head projects the pooled last position, beside the chain: its MACs are not stated, so
    the model's are refused, not guessed."""
    fields = dict(hidden_size=32, intermediate_size=48, num_hidden_layers=2, num_attention_heads=4, vocab_size=96,
                  max_position_embeddings=16, bos_token_id=1, eos_token_id=2, pad_token_id=0)
    data = {**transformers.AutoConfig.for_model(model_type, **fields).to_diff_dict(), "model_type": model_type}
    text = general.program(data, "config.json")
    assert text.startswith(f"# {arch},")
    model = symparams.parse(text, "config.json")
    config = transformers.AutoConfig.for_model(model_type, **fields)
    reference = getattr(transformers, arch)._from_config(config, attn_implementation="sdpa").eval()
    from torch.nn.attention import SDPBackend, sdpa_kernel
    from torch.utils.flop_counter import FlopCounterMode
    with torch.no_grad(), sdpa_kernel(SDPBackend.MATH), FlopCounterMode(display=False) as flops:
        y = reference(input_ids=torch.ones((1, 6), dtype=torch.long))
    ev = model.evaluate({"sequence_length": 6})
    assert (ev.params, ev.trainable, ev.buffers) == (sum(p.numel() for p in reference.parameters()),
                                                     sum(p.numel() for p in reference.parameters() if p.requires_grad),
                                                     sum(b.numel() for b in reference.buffers()))
    assert ev.shape(model.output_shape) == tuple(y.last_hidden_state.shape[1:])
    if macs_known:
        assert ev.macs == flops.get_total_flops() // 2
    else:
        with pytest.raises(symparams.errors.SymparamsError, match="not known"):
            ev.macs


QWEN3_5 = {"text_config": dict(hidden_size=32, intermediate_size=48, num_hidden_layers=2, num_attention_heads=4,
                                num_key_value_heads=2, head_dim=8, vocab_size=96, max_position_embeddings=64,
                                layer_types=["linear_attention", "full_attention"], linear_num_key_heads=2,
                                linear_num_value_heads=4, linear_key_head_dim=8, linear_value_head_dim=8),
           "vision_config": dict(hidden_size=24, intermediate_size=40, depth=2, num_heads=4, out_hidden_size=32,
                                 patch_size=4, spatial_merge_size=2, temporal_patch_size=2)}
IDEFICS2_VISION = dict(hidden_size=24, intermediate_size=40, num_hidden_layers=2, num_attention_heads=4, image_size=32,
                       patch_size=8)


@pytest.mark.parametrize("model_type,fields,module,arch", [
    ("qwen3_5", QWEN3_5, "transformers", "Qwen3_5Model"),
    ("idefics2_vision", IDEFICS2_VISION, "transformers.models.idefics2.modeling_idefics2",
     "Idefics2VisionTransformer")])
def test_a_config_without_architectures_is_built_by_the_class_that_reads_it(model_type, fields, module, arch):
    """A multimodal config whose Auto causal LM is its text model's (Qwen3_5ForCausalLM reads a
    Qwen3_5TextConfig, and fails on the whole config) is the whole model; a tower's config that no
    Auto class maps (Idefics2VisionConfig) is its family's class built from exactly it."""
    data = {"model_type": model_type, **fields}
    text = general.program(data, "config.json")
    assert text.startswith(f"# {arch},")
    import importlib
    with torch.device("meta"):
        reference = getattr(importlib.import_module(module), arch)(transformers.AutoConfig.for_model(model_type, **fields))
    ev = symparams.parse(text, "config.json").evaluate({})
    assert (ev.params, ev.trainable, ev.buffers) == (sum(p.numel() for p in reference.parameters()),
                                                     sum(p.numel() for p in reference.parameters() if p.requires_grad),
                                                     sum(b.numel() for b in reference.buffers()))


def test_an_image_given_as_its_patches_is_a_tower_of_its_own():
    """SigLIP 2 reads its image as flattened patches, with their mask and the grid's shape beside
    them: its image tower is a chain over num_patches rows; counts and both embeddings' shapes as
    transformers' on that input."""
    text = {**TOWER_TEXT, "projection_size": 24}
    vision = dict(hidden_size=24, intermediate_size=40, num_hidden_layers=3, num_attention_heads=4, num_patches=16,
                  patch_size=4)
    data = {"model_type": "siglip2", "text_config": text, "vision_config": vision}
    program_text = general.program(data, "config.json")
    assert "pixel_values = input (vision_num_patches, vision_num_channels*vision_patch_size**2)" in program_text
    model = symparams.parse(program_text, "config.json")
    reference = transformers.Siglip2Model(transformers.AutoConfig.for_model("siglip2", text_config=text,
                                                                            vision_config=vision)).eval()
    with torch.no_grad():
        y = reference(input_ids=torch.zeros((1, 18), dtype=torch.long), pixel_values=torch.zeros((1, 16, 48)),
                      pixel_attention_mask=torch.ones((1, 16), dtype=torch.long),
                      spatial_shapes=torch.full((1, 2), 4, dtype=torch.long))
    ev = model.evaluate({})
    assert (ev.params, ev.trainable, ev.buffers) == (sum(p.numel() for p in reference.parameters()),
                                                     sum(p.numel() for p in reference.parameters() if p.requires_grad),
                                                     sum(b.numel() for b in reference.buffers()))
    assert [ev.shape(t.shape) for t in model.outputs] == [tuple(y.text_embeds.shape[1:]),
                                                          tuple(y.image_embeds.shape[1:])]


def test_an_arange_over_floats_keeps_its_step():
    """BROS's bounding-box embeddings make their frequencies from `torch.arange(0.0, dim, 2.0)`:
    ceil(dim / 2) of them, not dim (at BROS's default config, counted as dim, the import was
    refused with 24 buffers over)."""
    data = {"model_type": "bros", "architectures": ["BrosModel"]}          # its default config
    text = general.program(data, "config.json")
    with torch.device("meta"):
        reference = transformers.BrosModel(transformers.AutoConfig.for_model("bros"))
    ev = symparams.parse(text, "config.json").evaluate({})
    assert (ev.params, ev.buffers) == (sum(p.numel() for p in reference.parameters()),
                                       sum(b.numel() for b in reference.buffers()))


def test_where_no_pass_runs_a_linear_map_off_the_chains_width_is_declared():
    """Decision Transformer reads states, actions, returns and timesteps, which the route does not
    make, so no pass runs and each layer is taken to keep its input's shape. Its embeddings of the
    returns (1 to 128) and actions (4 to 128) were written as the chain's dense layers over its 128
    features (16,512 parameters each): counted 1,302,622 where transformers builds 1,256,854,
    refused. A linear map whose input width is not the chain's is declared with its own weights."""
    text = general.program({"model_type": "decision_transformer"}, "config.json")     # its default config
    assert "did not run" in text
    with torch.device("meta"):
        reference = transformers.DecisionTransformerModel(transformers.AutoConfig.for_model("decision_transformer"))
    ev = symparams.parse(text, "config.json").evaluate({})
    assert (ev.params, ev.buffers) == (sum(p.numel() for p in reference.parameters()),
                                       sum(b.numel() for b in reference.buffers())) == (1256854, 0)


# models whose pass runs but whose layers the route cannot write as one chain: CPM-Ant prepends its
# prompt's tokens inside forward(), LED's encoder pads its input to its attention window
UNCHAINED = [
    ("cpmant", "CpmAntForCausalLM", dict(hidden_size=32, num_attention_heads=4, dim_head=8, dim_ff=48,
                                         num_hidden_layers=2, vocab_size=96, prompt_length=4, prompt_types=2,
                                         segment_types=4, position_bias_num_buckets=8),
     {"num_hidden_layers": 3, "prompt_length": 6, "dim_ff": 64}),
    ("led", "LEDForConditionalGeneration", dict(d_model=32, encoder_layers=2, decoder_layers=2, encoder_ffn_dim=48,
                                                decoder_ffn_dim=48, encoder_attention_heads=4,
                                                decoder_attention_heads=4, vocab_size=96, attention_window=8,
                                                max_encoder_position_embeddings=64,
                                                max_decoder_position_embeddings=64),
     {"encoder_layers": 3, "decoder_ffn_dim": 64}),
]


@pytest.mark.parametrize("model_type,arch,fields,other", UNCHAINED, ids=[c[0] for c in UNCHAINED])
def test_layers_that_are_not_one_chain_are_counted_in_the_order_they_ran(model_type, arch, fields, other):
    """Both were refused ("cannot write … as one chain"). Their passes ran, so the order of their
    layers is known: written in that order, each keeping the shape it is handed (the header says
    so), MACs not known; the formulas in the config's names, checked at a second setting."""
    text = general.program({"model_type": model_type, "architectures": [arch], **fields}, "config.json")
    assert "Its layers are not one chain" in text and "macs = not_known" in text
    assert "decoder_input_ids = input" not in text or "(decoder_input_ids)" in text      # (LED's decoder reads it)
    model = symparams.parse(text, "config.json")
    for values in ({}, other):
        with torch.device("meta"):
            reference = getattr(transformers, arch)(transformers.AutoConfig.for_model(model_type,
                                                                                    **{**fields, **values}))
        ev = model.evaluate(values)
        assert (ev.params, ev.trainable, ev.buffers) == (
            sum(p.numel() for p in reference.parameters()),
            sum(p.numel() for p in reference.parameters() if p.requires_grad),
            sum(b.numel() for b in reference.buffers())), values
    with pytest.raises(symparams.errors.SymparamsError, match="not known"):
        model.evaluate({}).macs


def test_a_module_named_as_a_keyword_is_written_under_another_name():
    """FLAVA's image codebook calls its first convolution `input`, a word of the language: the
    program named the line `input` and did not parse (refused)."""
    fields = dict(hidden_size=16, num_groups=4, num_blocks_per_group=1, vocab_size=32)
    text = general.program({"model_type": "flava_image_codebook", "architectures": ["FlavaImageCodebook"], **fields},
                           "config.json")
    assert "name=input_layer)" in text
    with torch.device("meta"):
        reference = transformers.FlavaImageCodebook(transformers.AutoConfig.for_model("flava_image_codebook",
                                                                                      **fields))
    assert symparams.parse(text, "config.json").evaluate({}).params == sum(p.numel() for p in reference.parameters())


def test_a_model_type_whose_default_its_own_validator_rejects_imports_from_a_published_config():
    """Gemma 4's assistant's default config is rejected by transformers' validator (per-layer inputs
    must be 0, default 256); the route read that default for the fields a config leaves out, and
    refused the published config too ("the general route failed on this model")."""
    import hf_sweep
    assert hf_sweep.one("gemma4_assistant")["outcome"] == "exact"


def test_a_table_read_beside_the_chain_keeps_the_chains_tensor():
    """Gemma 4's per-layer embeddings read the token ids beside the main embedding, and its layers
    take them as a second input: a tensor of their own in the program, the chain's kept (written
    over it, the next projection read the ids, and the default config counted 6.07 B parameters
    where transformers builds 5.08 B: refused)."""
    fields = dict(vocab_size=96, hidden_size=32, intermediate_size=48, num_hidden_layers=2, num_attention_heads=4,
                  num_key_value_heads=2, head_dim=8, max_position_embeddings=64, sliding_window=8,
                  vocab_size_per_layer_input=80, hidden_size_per_layer_input=4,
                  layer_types=["sliding_attention", "full_attention"], per_layer_config={})
    data = {"model_type": "gemma4_text", "architectures": ["Gemma4ForCausalLM"], **fields}
    text = general.program(data, "config.json")
    assert "embed_tokens_per_layer = " in text
    with torch.device("meta"):
        reference = transformers.Gemma4ForCausalLM(transformers.AutoConfig.for_model("gemma4_text", **fields))
    ev = symparams.parse(text, "config.json").evaluate({})
    assert (ev.params, ev.trainable, ev.buffers) == (sum(p.numel() for p in reference.parameters()),
                                                     sum(p.numel() for p in reference.parameters() if p.requires_grad),
                                                     sum(b.numel() for b in reference.buffers()))


# (sizes apart from each other: a weight's size shared by two formulas is written as its number)
TOWER_TEXT = dict(hidden_size=32, intermediate_size=48, num_hidden_layers=2, num_attention_heads=4, vocab_size=96,
                  max_position_embeddings=18, bos_token_id=1, eos_token_id=2, pad_token_id=0)
TOWER_IMAGE = dict(hidden_size=24, intermediate_size=40, num_hidden_layers=3, num_attention_heads=4, image_size=32,
                   patch_size=8, num_channels=3)
# (SigLIP scores the two towers' last states against each other: its text projects to the image's width)
TOWERS = [("clip", "CLIPModel", {"projection_dim": 20}), ("siglip", "SiglipModel", {"text": {"projection_size": 24}}),
          ("blip", "BlipModel", {"projection_dim": 20}), ("chinese_clip", "ChineseCLIPModel", {"projection_dim": 20})]


@pytest.mark.parametrize("model_type,arch,extra", TOWERS, ids=[t[0] for t in TOWERS])
def test_a_model_of_two_towers_is_both_towers_in_the_config_names(model_type, arch, extra):
    """A whole CLIP-like model reads token ids and an image; each tower is a chain of its own and the
    program's outputs are the two embeddings transformers returns (text_embeds, image_embeds).
    Counts and both outputs' shapes equal transformers' at the config and at a second setting of
    its fields, each tower's depth its own config's `num_hidden_layers`; MACs, where stated (CLIP's
    are), FlopCounterMode's of the towers over 6 tokens and the image."""
    extra = dict(extra)
    text_extra = extra.pop("text", {})

    def config(text, image):
        return transformers.AutoConfig.for_model(model_type, text_config={**text_extra, **text}, vision_config=image,
                                                 **extra)
    data = {**config(TOWER_TEXT, TOWER_IMAGE).to_diff_dict(), "model_type": model_type, "architectures": [arch]}
    text = general.program(data, "config.json")
    model = symparams.parse(text, "config.json")
    assert "repeat(text_num_hidden_layers, " in text and "repeat(vision_num_hidden_layers, " in text, text
    # (BLIP's patch embedding takes 3 channels whatever its config says: the input says 3)
    assert re.search(r"input_ids = input \(sequence_length\) int\n    pixel_values = input "
                     r"\((vision_num_channels|3), vision_image_size, vision_image_size\)", text) and len(model.inputs) == 2
    grown_text = {**TOWER_TEXT, "num_hidden_layers": 3, "hidden_size": 64, "intermediate_size": 80}
    grown_image = {**TOWER_IMAGE, "num_hidden_layers": 1, "hidden_size": 48, "image_size": 48}
    if "projection_size" in text_extra:
        grown_text["projection_size"] = 48
    for text_fields, image_fields in ((TOWER_TEXT, TOWER_IMAGE), (grown_text, grown_image)):
        built = config(text_fields, image_fields)
        reference = getattr(transformers, arch)._from_config(built, attn_implementation="eager").eval()
        # the program's fields read off the config transformers built (BLIP's text encoder_hidden_size
        # is its vision hidden_size, which BlipConfig sets)
        values = {k: getattr(getattr(built, k.split("_")[0] + "_config", None) or built,
                             k.split("_", 1)[1] if k.startswith(("text_", "vision_")) else k)
                  for k in model.defaults if k != "sequence_length"}
        size = image_fields["image_size"]
        from torch.nn.attention import SDPBackend, sdpa_kernel
        from torch.utils.flop_counter import FlopCounterMode
        with torch.no_grad(), sdpa_kernel(SDPBackend.MATH), FlopCounterMode(display=False) as flops:
            y = reference(input_ids=torch.ones((1, 6), dtype=torch.long), pixel_values=torch.zeros((1, 3, size, size)))
        # the towers' and heads' MACs: what the root's own forward() computes (the logits) is no tensor here
        towers = sum(sum(v.values()) for k, v in flops.get_flop_counts().items() if k.count(".") == 1) // 2
        ev = model.evaluate({**values, "sequence_length": 6})
        if model_type == "clip":
            assert ev.macs == towers, values
        else:                      # stated only where checked: equal, or refused as not known
            try:
                assert ev.macs == towers, values
            except symparams.errors.SymparamsError as e:
                assert "not known" in e.message
        assert (ev.params, ev.trainable, ev.buffers) == (
            sum(p.numel() for p in reference.parameters()),
            sum(p.numel() for p in reference.parameters() if p.requires_grad),
            sum(b.numel() for b in reference.buffers())), values
        assert [ev.shape(t.shape) for t in model.outputs] == [tuple(y.text_embeds.shape[1:]),
                                                              tuple(y.image_embeds.shape[1:])], values


EXAMPLE_INPUTS = [
    ("resnet", "ResNetModel", dict(embedding_size=8, hidden_sizes=[8, 16], depths=[1, 2]), "pixel_values",
     "pixel_values = input (3, 224, 224)"),
    ("wav2vec2", "Wav2Vec2Model", dict(hidden_size=32, num_hidden_layers=2, num_attention_heads=4, intermediate_size=48,
                                       conv_dim=[8, 8], conv_stride=[5, 2], conv_kernel=[10, 3],
                                       num_conv_pos_embeddings=16, num_conv_pos_embedding_groups=4),
     "input_values", "input_values = input (16000)"),
    # speech features: frames first (Parakeet's 2-D subsampling), bins first over the only length a
    # Whisper-like encoder takes (2 * max_source_positions); a codec's channels over one second
    ("parakeet_encoder", "ParakeetEncoder", dict(hidden_size=32, num_hidden_layers=2, num_attention_heads=4,
                                                 intermediate_size=48, subsampling_conv_channels=8, num_mel_bins=16,
                                                 num_key_value_heads=4),
     "input_features", "input_features = input (100, 16)"),
    ("qwen2_audio_encoder", "Qwen2AudioEncoder", dict(num_mel_bins=16, encoder_layers=2, encoder_attention_heads=4,
                                                      encoder_ffn_dim=48, d_model=32, max_source_positions=20),
     "input_features", "input_features = input (16, 40)"),
    ("encodec", "EncodecModel", dict(sampling_rate=8000, hidden_size=16, num_filters=4, upsampling_ratios=[4, 2],
                                     codebook_size=32, codebook_dim=16, num_lstm_layers=1),
     "input_values", "input_values = input (1, 8000)"),
    # a time series: context_length steps of num_input_channels series
    ("patchtsmixer", "PatchTSMixerModel", dict(context_length=32, num_input_channels=2, patch_length=8, patch_stride=8,
                                               d_model=16, num_layers=2),
     "past_values", "past_values = input (32, 2)"),
    # a video: num_frames images, frames first (VideoMAE reads pixel_values as frames of images)
    ("videomae", "VideoMAEModel", dict(image_size=32, patch_size=8, num_frames=4, tubelet_size=2, hidden_size=24,
                                       num_hidden_layers=2, num_attention_heads=4, intermediate_size=40),
     "pixel_values", "pixel_values = input (4, 3, 32, 32)"),
]


@pytest.mark.parametrize("model_type,arch,fields,name,line", EXAMPLE_INPUTS, ids=[c[0] for c in EXAMPLE_INPUTS])
def test_an_input_the_config_gives_no_size_is_an_example(model_type, arch, fields, name, line):
    """A ResNet's config states no image size, a wav2vec2's no length of audio, a speech encoder's
    no number of frames: each is measured on an example (224 x 224 pixels; one second at 16 kHz or
    at the config's sampling rate; 100 frames) written as numbers in the input, and the
    forward() glue before the first module (wav2vec2's channel axis) is a line. Counts and the
    output shape are transformers' at that input (its sizes written as this config's numbers, the
    feature maps measured at one size)."""
    data = _config_json(model_type, arch, fields)
    text = general.program(data, "config.json")
    assert line in text, text
    model = symparams.parse(text, "config.json")
    reference = getattr(transformers, arch)._from_config(transformers.AutoConfig.for_model(model_type, **fields))
    ev = model.evaluate({})
    size = (1, *map(int, ev.shape(model.inputs[0].shape)))
    with torch.no_grad():
        y = reference.eval()(**{name: torch.zeros(size)})
    assert (ev.params, ev.trainable, ev.buffers) == (
        sum(p.numel() for p in reference.parameters()),
        sum(p.numel() for p in reference.parameters() if p.requires_grad),
        sum(b.numel() for b in reference.buffers()))
    # the chain's last module's: ResNet's pooler, beside the last hidden state it returns too
    assert ev.shape(model.output_shape) in {tuple(t.shape[1:]) for t in y.values() if isinstance(t, torch.Tensor)}


def test_a_model_too_large_to_run_off_meta_is_measured_on_a_shallower_copy(monkeypatch):
    """DeBERTa-v2's forward pass asks `.item()` of a tensor, which meta tensors cannot answer, and
    a model above CPU_PASS_BYTES is not run on the CPU: it is measured on a copy 3 layers deep and
    written with the config's depth, its counts checked against transformers' whole model."""
    fields = dict(hidden_size=32, num_hidden_layers=6, num_attention_heads=4, intermediate_size=48, vocab_size=96,
                  max_position_embeddings=16)
    data = _config_json("deberta-v2", "DebertaV2Model", fields)

    def size(layers):
        config = transformers.AutoConfig.for_model("deberta-v2", **{**fields, "num_hidden_layers": layers})
        with torch.device("meta"):
            model = transformers.DebertaV2Model(config)
        return sum(t.numel() * t.element_size() for t in (*model.parameters(), *model.buffers()))
    monkeypatch.setattr(general, "CPU_PASS_BYTES", (size(3) + size(6)) // 2)
    text = general.program(data, "config.json")
    assert "# Measured on a copy 3 layers deep" in text and "num_hidden_layers = 6" in text, text
    model = symparams.parse(text, "config.json")
    for layers in (6, 9):
        reference = transformers.DebertaV2Model(transformers.AutoConfig.for_model(
            "deberta-v2", **{**fields, "num_hidden_layers": layers}))
        assert _imported(model, {"num_hidden_layers": layers, "sequence_length": 6}) == {
            "params": sum(p.numel() for p in reference.parameters()),
            "trainable": sum(p.numel() for p in reference.parameters() if p.requires_grad),
            "buffers": sum(b.numel() for b in reference.buffers())}


def test_what_is_not_known_is_refused_not_zero(tmp_path):
    data = _config_json("mamba", "MambaForCausalLM", dict(hidden_size=32, num_hidden_layers=2, vocab_size=96,
                                                          state_size=4))
    (tmp_path / "config.json").write_text(__import__("json").dumps(data))
    for of in ("macs", "kv_cache", "activations"):
        run = subprocess.run([sys.executable, "-m", "symparams", "formula", str(tmp_path), "--of", of],
                             capture_output=True, text=True)
        assert run.returncode == 2, (of, run.stdout, run.stderr)
        assert "not known" in run.stderr and "Traceback" not in run.stderr


@pytest.mark.skipif(not os.environ.get("SYMPARAMS_HF_SWEEP"), reason="every model type: SYMPARAMS_HF_SWEEP=1")
def test_every_model_type_at_its_default_configuration(tmp_path):
    """tests/hf_sweep.py over every model type (or SYMPARAMS_HF_SWEEP_TYPES=a,b): none wrong, none
    failing with anything but a clear refusal; the counts and refusals are printed."""
    import json

    import hf_sweep
    out = tmp_path / "sweep.jsonl"
    hf_sweep.sweep(str(out), [t for t in os.environ.get("SYMPARAMS_HF_SWEEP_TYPES", "").split(",") if t])
    hf_sweep.summary(str(out))
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert not [r for r in rows if r["outcome"] in ("wrong", "failed")]


def test_the_program_written_again_without_macs_is_the_one_a_fresh_build_gives(monkeypatch):
    """Where the MACs fail their check at the second setting, the program is written again without
    them from the same build and passes (not rebuilt, not measured again): it is, byte for byte, the
    program a fresh build and fresh passes give — the `where` its divisions need included."""
    data = _config_json("granite", "GraniteForCausalLM", TINY)
    compare = general._compare
    doubts = iter(["the MACs disagree (made to, for this test)"])

    def once(model, other, reference, ran, tokens):
        doubt, macs = compare(model, other, reference, ran, tokens)
        return doubt, next(doubts, macs)
    monkeypatch.setattr(general, "_compare", once)
    reused = general.program(data, "config.json")
    assert "MACs are not stated" in reused and "where " in reused
    fresh = general._program(data, "config.json", symbolic=True, note="the MACs disagree (made to, for this test)",
                             macs=False)
    assert reused == fresh


FEATURE_MAPS = [
    # a ViT whose embeddings prepend a class token at forward time: 1 + (32/8)**2 = 17 positions,
    # which no size the build computed has; image_size and patch_size are then this config's numbers
    ("beit", "BeitModel", dict(image_size=32, patch_size=8, hidden_size=24, num_hidden_layers=2, num_attention_heads=4,
                               intermediate_size=40), {"hidden_size": 48, "intermediate_size": 56},
     {"image_size", "patch_size"}),
    # a config with no image size: an example of 224 x 224, whose feature maps (56, 28, ...) no field
    # sets. Its bottleneck's 6 channels (24 // 4, from the list of hidden sizes) are no embedding_size.
    ("resnet", "ResNetModel", dict(embedding_size=6, hidden_sizes=[24, 16], depths=[1, 2], layer_type="bottleneck",
                                   downsample_in_bottleneck=True),
     {"embedding_size": 10}, set()),
    # a DETR-style decoder runs over its num_queries positions, a table's rows the decoder's layers do
    # not hold: on an example, the one formula of that value is taken where its field changed alone
    # moves the layers' input with it (it was the example's number, and num_queries pinned)
    ("table-transformer", "TableTransformerModel",
     dict(use_timm_backbone=False, backbone=None, d_model=16, encoder_layers=1, decoder_layers=1,
          encoder_attention_heads=2, decoder_attention_heads=2, encoder_ffn_dim=32, decoder_ffn_dim=32,
          num_queries=10, backbone_config={"model_type": "resnet", "embedding_size": 8, "hidden_sizes": [8, 16],
                                           "depths": [1, 1], "layer_type": "basic",
                                           "out_features": ["stage1", "stage2"]}),
     {"num_queries": 20, "decoder_ffn_dim": 48}, set()),
]


@pytest.mark.parametrize("model_type,arch,fields,other,pinned", FEATURE_MAPS, ids=[c[0] for c in FEATURE_MAPS])
def test_an_examples_feature_maps_are_its_numbers_and_the_rest_formulas(model_type, arch, fields, other, pinned):
    """A model over an example of fixed size (an image) whose feature maps' sizes no formula of the
    config's fields gives: those sizes are the example's numbers, the fields they follow (the input's
    own, the patch's) this config's numbers, every other size a formula in the config's names. At a
    second setting of those, counts and output shape are transformers' rebuilt there."""
    data = _config_json(model_type, arch, fields)
    text = general.program(data, "config.json")
    assert "Its formulas are this config's numbers" not in text, text
    assert "Its feature maps are this example's numbers" in text, text
    model = symparams.parse(text, "config.json")
    assert set(other) <= {str(s) for s in model.symbols} and not pinned & {str(s) for s in model.symbols}
    for values in ({}, other):
        config = transformers.AutoConfig.for_model(model_type, **{**fields, **values})
        reference = getattr(transformers, arch)._from_config(config)
        image = (1, *map(int, re.search(r"pixel_values = input \((.*)\)", text)[1].split(", ")))
        with torch.no_grad():
            y = reference.eval()(pixel_values=torch.zeros(image))
        ev = model.evaluate(values)
        assert (ev.params, ev.trainable, ev.buffers) == (
            sum(p.numel() for p in reference.parameters()),
            sum(p.numel() for p in reference.parameters() if p.requires_grad),
            sum(b.numel() for b in reference.buffers())), values
        assert ev.shape(model.output_shape) in {tuple(t.shape[1:]) for t in y.values()
                                                if isinstance(t, torch.Tensor)}, values


def test_a_size_made_whole_with_int_keeps_its_formula():
    """DINOv2's MLP is `int(hidden_size * mlp_ratio)` wide: `int` of a whole number the build
    computed keeps its formula, so the program holds at another mlp_ratio."""
    fields = dict(image_size=28, patch_size=14, hidden_size=24, num_hidden_layers=2, num_attention_heads=4,
                  mlp_ratio=2)
    text = general.program(_config_json("dinov2", "Dinov2Model", fields), "config.json")
    assert "hidden_size*mlp_ratio" in text.replace(" ", ""), text
    model = symparams.parse(text, "config.json")
    for ratio in (2, 3, 5):
        reference = transformers.Dinov2Model._from_config(
            transformers.AutoConfig.for_model("dinov2", **{**fields, "mlp_ratio": ratio}))
        assert model.evaluate({"mlp_ratio": ratio}).params == sum(p.numel() for p in reference.parameters()), ratio


def test_a_field_the_config_computes_is_the_formula_of_the_fields_it_follows():
    """Sarvam-MLA's config sets head_dim to qk_rope_head_dim whatever it is given, and its rotary
    table is head_dim / 2 long: written in qk_rope_head_dim, not as a number another field shares
    (here num_hidden_layers, 2)."""
    fields = dict(hidden_size=32, intermediate_size=48, moe_intermediate_size=16, num_hidden_layers=2,
                  num_attention_heads=4, num_key_value_heads=4, n_routed_experts=4, num_experts_per_tok=2,
                  n_shared_experts=1, first_k_dense_replace=1, kv_lora_rank=8, q_lora_rank=12, qk_rope_head_dim=4,
                  qk_nope_head_dim=8, v_head_dim=8, vocab_size=96, max_position_embeddings=64)
    config = transformers.AutoConfig.for_model("sarvam_mla", **fields)
    assert general._derived(transformers, "sarvam_mla", fields, config)["head_dim"] == \
        general._symbol("qk_rope_head_dim")
    model, _, shapes, _ = general.build({**fields, "model_type": "sarvam_mla"})
    rotary = next(m for m in model.modules() if hasattr(m, "inv_freq"))
    assert shapes.of(rotary.inv_freq) == (sp.ceiling(general._symbol("qk_rope_head_dim") / 2),)
    text = general.program({**fields, "model_type": "sarvam_mla"}, "config.json")
    model = symparams.parse(text, "config.json")
    for rope in (4, 8):
        reference = _reference("sarvam_mla", "DeepseekV3ForCausalLM", {**fields, "qk_rope_head_dim": rope})
        assert _imported(model, {"qk_rope_head_dim": rope, "sequence_length": 6}) == reference, rope


def test_an_expand_to_a_size_keeps_its_formula():
    """Jamba's Mamba layers hold `A_log`, `arange(1, d_state + 1)[None, :].expand(intermediate, -1)`:
    the expanded axis is the formula of the size it was expanded to, the other the arange's, so the
    program holds at another mamba_expand and mamba_d_state. (Its layers all Mamba's, each with
    experts: a pattern of layer kinds that a depth of 3 does not change.)"""
    fields = dict(hidden_size=32, intermediate_size=48, num_hidden_layers=2, num_attention_heads=4,
                  num_key_value_heads=2, vocab_size=96, num_experts=2, num_experts_per_tok=1, mamba_d_state=4,
                  mamba_d_conv=2, mamba_expand=2, mamba_dt_rank=4, attn_layer_period=8, attn_layer_offset=4,
                  expert_layer_period=1, expert_layer_offset=0, max_position_embeddings=64)
    text = general.program(_config_json("jamba", "JambaForCausalLM", fields), "config.json")
    assert "Its formulas are this config's numbers" not in text, text
    model = symparams.parse(text, "config.json")
    for other in ({"mamba_expand": 3}, {"mamba_d_state": 6}):
        reference = _reference("jamba", "JambaForCausalLM", {**fields, **other})
        assert _imported(model, {**other, "sequence_length": 6}) == reference, other


def test_a_concatenation_a_repeat_and_a_broadcast_keep_their_sizes_formulas():
    """The rules that carry a size's formula through an operation that changes the shape: each
    records the formulas of the result's own sizes, or nothing (never a formula of other sizes)."""
    from symparams.importers.module_tree import Field, _Shapes
    a, b = (Field(n, general._symbol(name)) for n, name in ((3, "a"), (5, "b")))
    shapes = _Shapes()
    shapes.fields = {"a": 3, "b": 5}
    A, B = sp.symbols("a b", integer=True, positive=True)
    with torch.device("meta"), shapes.watching():
        x, y = torch.zeros(1, a), torch.zeros(1, b)
        assert shapes.of(torch.cat([x, y], axis=1)) == (1, A + B)
        assert shapes.of(torch.cat([x, x], dim=0)) == (2, A)
        assert shapes.of(torch.zeros(a).repeat(2, b)) == (2, A * B)
        assert shapes.of(torch.arange(b)[:, None] * torch.zeros(1, a)) == (B, A)
        assert shapes.of(torch.arange(1, b + 1)[None, :].expand(a, -1)) == (A, B)
        assert id(torch.zeros(a, b).transpose(0, 1)) not in shapes.formulas    # (no rule records it)


def test_a_towers_field_the_model_config_sets_follows_the_model_configs_field():
    """PaliGemma's config sets its vision tower's projection_dim to its own projection_dim whatever
    the tower is given: the projector is written in `projection_dim`, and its vision tower's layers,
    which its pass over text alone does not call, are one run of `vision_num_hidden_layers`. At a
    second setting of both, the counts are transformers' rebuilt there."""
    fields = dict(projection_dim=16,
                  text_config=dict(hidden_size=32, intermediate_size=48, num_hidden_layers=2, num_attention_heads=4,
                                   num_key_value_heads=1, head_dim=8, vocab_size=96),
                  vision_config=dict(hidden_size=24, intermediate_size=40, num_hidden_layers=3,
                                     num_attention_heads=4, image_size=28, patch_size=14, vision_use_head=False))
    config = transformers.AutoConfig.for_model("paligemma", **fields)
    assert general._derived(transformers, "paligemma", fields, config)["vision_projection_dim"] == \
        general._symbol("projection_dim")
    text = program({**fields, "model_type": "paligemma"}, "config.json")
    assert "Its formulas are this config's numbers" not in text, text
    assert "repeat(vision_num_hidden_layers, " in text, text
    model = symparams.parse(text, "config.json")
    for projection, depth in ((16, 3), (24, 5)):
        other = {**fields, "projection_dim": projection,
                 "vision_config": {**fields["vision_config"], "num_hidden_layers": depth}}
        reference = _reference("paligemma", "PaliGemmaForConditionalGeneration", other)
        assert _imported(model, {"projection_dim": projection, "vision_num_hidden_layers": depth,
                                 "sequence_length": 6}) == reference, (projection, depth)
    assert not _each_field_alone({**fields, "model_type": "paligemma"}, text)


def _each_field_alone(config: dict, text: str) -> dict:
    """{field: why the counts differ} where the program, with that field changed alone, differs from
    transformers rebuilt there (`hf_sweep.each_field_alone`); some must compare, and the program may
    refuse none of them."""
    from hf_sweep import each_field_alone
    compared, wrong, refused = each_field_alone(config, text)
    assert compared or not symparams.parse(text, "config.json").symbols, "no setting of a single field built"
    assert not refused, f"the program refuses {refused} alone, which transformers builds"
    return wrong


def test_every_field_a_program_names_is_one_the_check_changes():
    """A DETR whose ResNet backbone's config leaves num_channels out: the program's
    `backbone_num_channels` is still changed at the second setting (set in the backbone's config,
    as the config transformers builds holds it), and every setting that builds is compared, its
    forward pass run or not. So the program is in the config's numbers or each of its symbols,
    changed alone, gives transformers' counts."""
    fields = dict(use_timm_backbone=False, backbone=None, d_model=32, encoder_layers=2, decoder_layers=2,
                  encoder_attention_heads=4, decoder_attention_heads=4, encoder_ffn_dim=48, decoder_ffn_dim=48,
                  num_queries=10, backbone_config=dict(model_type="resnet", embedding_size=8, hidden_sizes=[8, 16, 24, 32],
                                                       depths=[1, 1, 1, 1], layer_type="basic",
                                                       out_features=["stage4"]))
    config = {**fields, "model_type": "detr"}
    # the backbone's channels, which its config leaves out, are set in it (as transformers built it)
    set_in = general._with_fields(config, {"backbone_num_channels": 6})
    assert set_in["backbone_config"]["num_channels"] == 6 and "backbone_num_channels" not in set_in
    text = general.program(config, "config.json")
    model = symparams.parse(text, "config.json")
    assert "Its formulas are this config's numbers" in text or not _each_field_alone(config, text), text
    reference = transformers.DetrModel._from_config(transformers.AutoConfig.for_model("detr", **fields))
    assert model.evaluate({}).params == sum(p.numel() for p in reference.parameters())


def test_a_last_layer_is_the_rest_of_its_list_only_where_the_rebuilt_model_says_so():
    """Jamba's layers alternate Mamba and attention by period: its last attention layer after the
    others is no `repeat(num_hidden_layers - 3, …)`, which would count a fifth layer as attention
    (transformers makes it Mamba). Settings that change every field together hid it; one more layer
    alone shows it, and the program is written with each such layer alone. Each field it names,
    changed alone, gives transformers' counts."""
    fields = dict(hidden_size=32, intermediate_size=48, num_hidden_layers=4, num_attention_heads=4,
                  num_key_value_heads=2, vocab_size=96, num_experts=2, num_experts_per_tok=1, mamba_d_state=4,
                  mamba_d_conv=4, mamba_expand=2, mamba_dt_rank=8, attn_layer_period=2, attn_layer_offset=1,
                  expert_layer_period=2, expert_layer_offset=1)
    config = {**fields, "model_type": "jamba"}
    first = general._program(config, "config.json", symbolic=True)       # (the rule for Qwen 3.5's last layer)
    assert "repeat(num_hidden_layers - 3, " in first and general._alone(config, first, {}) is not None
    text = program(config, "config.json")
    assert "repeat(num_hidden_layers" not in text and "Its formulas are this config's numbers" not in text, text
    assert not _each_field_alone(config, text)


def test_a_towers_layers_are_counted_by_its_own_field_of_layers():
    """Aya Vision's text layers come in runs of three sliding-window layers and one full: the
    second run of three, after four others, is seven layers into its list, as many as the vision
    tower has; it is not `repeat(vision_num_hidden_layers - 4, …)`, which one more vision layer
    would make one more text layer. Each field, changed alone, gives transformers' counts."""
    fields = dict(downsample_factor=2,
                  text_config=dict(model_type="cohere2", hidden_size=32, intermediate_size=48, num_hidden_layers=8,
                                   num_attention_heads=4, num_key_value_heads=2, vocab_size=96, head_dim=8,
                                   sliding_window=16, sliding_window_pattern=4),
                  vision_config=dict(model_type="siglip_vision_model", hidden_size=24, intermediate_size=40,
                                     num_hidden_layers=7, num_attention_heads=4, image_size=28, patch_size=14))
    config = {**fields, "model_type": "aya_vision"}
    text = program(config, "config.json")
    assert "repeat(vision_num_hidden_layers, " in text and "repeat(vision_num_hidden_layers - " not in text, text
    assert not _each_field_alone(config, text)


def test_a_weight_normed_convolution_and_layerdrop_keep_the_macs_formulas():
    """wav2vec2's positional convolution is weight-normed (its `weight` made afresh at each read,
    holding no formula: its MACs are written from the stored weight's), and it drops layers at
    random in training (every model built for a check is in eval mode, as the user's is run). Its
    MACs at another hidden_size and kernel are FlopCounterMode's over transformers' model there."""
    fields = dict(hidden_size=32, num_hidden_layers=2, num_attention_heads=4, intermediate_size=48, conv_dim=[16, 16],
                  conv_stride=[5, 2], conv_kernel=[10, 3], num_conv_pos_embeddings=16,
                  num_conv_pos_embedding_groups=4, vocab_size=32, layerdrop=0.5)
    text = program({**fields, "model_type": "wav2vec2"}, "config.json")
    assert "MACs are not stated" not in text and "Its formulas are this config's numbers" not in text, text
    model = symparams.parse(text, "config.json")
    for hidden, kernel in ((32, 16), (64, 24)):
        other = {"hidden_size": hidden, "num_conv_pos_embeddings": kernel}
        assert model.evaluate(other).macs == _audio_macs("wav2vec2", transformers.Wav2Vec2Model, {**fields, **other}), \
            other


def _audio_macs(model_type: str, cls, fields: dict) -> int:
    """The MACs FlopCounterMode counts in transformers' model built from `fields`, on meta, over one
    second of audio at 16 kHz."""
    from torch.utils.flop_counter import FlopCounterMode
    with torch.device("meta"):
        reference = cls._from_config(transformers.AutoConfig.for_model(model_type, **fields)).eval()
    with torch.no_grad(), FlopCounterMode(display=False) as flops:
        reference(input_values=torch.zeros((1, 16000), device="meta"))
    return flops.get_total_flops() // 2


def test_a_convolutions_positions_follow_its_kernel_on_an_example():
    """Data2Vec-Audio's positional convolutions are `conv_pos_kernel_size // 2` padded: an even kernel
    gives one position more (which forward() then drops), over an example of audio whose positions
    are its numbers. Their MACs are written with the positions PyTorch's convolution arithmetic makes
    of the example's (transformers built with the kernel changed alone moves them so), so the program
    stays in the config's fields; at an even kernel they are FlopCounterMode's over transformers'
    model there."""
    fields = dict(hidden_size=32, num_hidden_layers=2, num_attention_heads=4, intermediate_size=48, conv_dim=[24, 24],
                  conv_stride=[5, 2], conv_kernel=[10, 3], num_conv_pos_embeddings=3, conv_pos_kernel_size=5,
                  num_conv_pos_embedding_groups=4, vocab_size=32)
    text = program({**fields, "model_type": "data2vec-audio"}, "config.json")
    assert "Its formulas are this config's numbers" not in text and "MACs are not stated" not in text, text
    model = symparams.parse(text, "config.json")
    for hidden, kernel in ((32, 6), (64, 7)):
        other = {"hidden_size": hidden, "conv_pos_kernel_size": kernel}
        assert model.evaluate(other).macs == \
            _audio_macs("data2vec-audio", transformers.Data2VecAudioModel, {**fields, **other}), other


def test_a_saved_configs_layer_types_do_not_stop_the_check_of_its_depth():
    """A config.json as save_pretrained writes it states its layer types (Cohere 2's three sliding
    and one full): one more layer, alone, is rebuilt with the config's own pattern made again, not
    refused for a list of the old length, so the depth is checked like any field."""
    fields = dict(hidden_size=32, intermediate_size=48, num_hidden_layers=8, num_attention_heads=4,
                  num_key_value_heads=2, vocab_size=96, head_dim=8, sliding_window=16, sliding_window_pattern=4)
    saved = {k: v for k, v in transformers.AutoConfig.for_model("cohere2", **fields).to_dict().items()
             if k not in ("transformers_version", "architectures")}
    assert len(saved["layer_types"]) == 8
    config = {**saved, "model_type": "cohere2"}
    deeper = general._rebuilt(transformers, config, {"num_hidden_layers": 9})
    assert len(deeper.model.layers) == 9
    text = program(config, "config.json")
    assert "Its formulas are this config's numbers" not in text and "num_hidden_layers" in text, text
    assert not _each_field_alone(config, text)


_GEMMA4 = dict(hidden_size=32, intermediate_size=48, num_hidden_layers=6, num_attention_heads=4, num_key_value_heads=2,
               head_dim=8, global_head_dim=16, vocab_size=96, vocab_size_per_layer_input=96,
               hidden_size_per_layer_input=4, sliding_window=16, max_position_embeddings=64)


def _gemma4_config() -> dict:
    """A tiny Gemma 4 text config.json as save_pretrained writes it: its layer types, and the head
    size of its full-attention layers as a per-layer override (`per_layer_config`)."""
    saved = transformers.AutoConfig.for_model("gemma4_text", **_GEMMA4).to_diff_dict()
    assert saved["per_layer_config"] and len(saved["layer_types"]) == 6
    return {**saved, "model_type": "gemma4_text", "architectures": ["Gemma4ForCausalLM"]}


def test_a_projection_beside_the_chain_keeps_the_chains_output():
    """Gemma 4 projects its embeddings into per-layer inputs that its layers take beside the running
    tensor: that projection is a tensor of its own (its MACs counted), not the chain, so the logits
    are (tokens, vocab_size) as transformers returns them — they were (tokens, 7680), the per-layer
    inputs' width — and the counts, shape and MACs of a 6-token pass are transformers'."""
    config = _gemma4_config()
    text = program(config, "config.json")
    assert "Its formulas are this config's numbers" not in text, text
    assert "per_layer_model_projection = dense(" in text
    model = symparams.parse(text, "config.json")
    fields = {k: v for k, v in config.items() if k not in ("model_type", "architectures", "transformers_version")}
    expected = _reference("gemma4_text", "Gemma4ForCausalLM", fields, tokens=6)
    ev = model.evaluate({"sequence_length": 6})
    assert _imported(model, {"sequence_length": 6}) == {k: expected[k] for k in ("params", "trainable", "buffers")}
    assert ev.shape(model.output_shape) == expected["output_shape"] == (6, 96)
    assert ev.macs == expected["macs"]


def test_a_head_size_some_layers_override_is_their_own_and_the_cache_is_transformers():
    """Gemma 4's full-attention layers override head_dim (per_layer_config, 16 here): the global
    head_dim is a field (transformers refuses to read it whole, so it was written as a number) and
    the full layers' key size is their own number, not a field of equal value; their keys, repeated
    to every head before the product, are cached at num_key_value_heads. The cache is what
    transformers fills (a prefill of 5 tokens and 3 decode steps, at bfloat16), at the config and at
    other head counts and sizes."""
    from kv_cache_reference import runtime_cache_bytes
    config = _gemma4_config()
    text = program(config, "config.json")
    assert "head_dim = 8" in text.split("\nmodel ")[1].splitlines()[0]
    assert "kv_heads=num_key_value_heads, key_dim=16" in text, text
    model = symparams.parse(text, "config.json")
    formula = model.quantity("kv_cache", dtype="bfloat16")
    for other in ({}, {"num_key_value_heads": 1}, {"head_dim": 16, "num_attention_heads": 8}):
        data = general._with_fields(config, other)
        data.update(model_type="gemma4_text", architectures=["Gemma4ForCausalLM"])
        at = model.values({"sequence_length": 8, **other})
        assert int(formula.subs(at)) == runtime_cache_bytes(data, 5, 3), other


def test_a_pattern_of_layers_whose_last_the_config_fixes_is_checked_at_twice_the_depth():
    """Gemma 4 makes every sixth layer full attention and its last one full whatever the count: one
    layer more (31 of 30) gives one more full layer, which `num_hidden_layers - 29` full layers at
    the end fits, but twice the depth does not (10 full of 60, not 35). The depth is checked at both,
    with the per-layer head sizes made for the new layers as for the old; it is then this config's
    number, said so in the header, and every other field a formula transformers rebuilt agrees with."""
    config = _gemma4_config()
    deeper = general._rebuilt(transformers, config, {"num_hidden_layers": 12})
    with torch.device("meta"):
        own = transformers.Gemma4ForCausalLM(transformers.AutoConfig.for_model(
            "gemma4_text", **{**_GEMMA4, "num_hidden_layers": 12}))
    assert [layer.self_attn.head_dim for layer in deeper.model.layers] == \
        [layer.self_attn.head_dim for layer in own.model.layers] == [8] * 5 + [16] + [8] * 5 + [16]
    text = program(config, "config.json")
    assert general.pinned_fields(text, (general.STRUCTURE,)) == ["num_hidden_layers"], text
    assert "num_hidden_layers - " not in text
    assert not _each_field_alone(config, text)


def test_a_list_with_an_item_per_layer_follows_the_depth():
    """Gemma 3n's config.json as saved states its intermediate_size per layer (one size for all) and
    its activation sparsity per layer (the config's own pattern, the first ten sparse): a count of
    layers changed alone makes the one as long and the other again, as transformers' own config at
    that depth has them, so the depth is rebuilt and checked rather than refused."""
    fields = dict(hidden_size=32, intermediate_size=48, num_hidden_layers=12, num_attention_heads=4,
                  num_key_value_heads=2, head_dim=8, vocab_size=96, vocab_size_per_layer_input=96,
                  hidden_size_per_layer_input=4, num_kv_shared_layers=0, laurel_rank=4, sliding_window=16,
                  altup_num_inputs=2)
    saved = transformers.AutoConfig.for_model("gemma3n_text", **fields).to_diff_dict()
    config = {**saved, "model_type": "gemma3n_text"}
    assert saved["intermediate_size"] == [48] * 12 and saved["activation_sparsity_pattern"] == [0.95] * 10 + [0.0] * 2
    deeper = general._rebuilt(transformers, config, {"num_hidden_layers": 13})
    own = transformers.AutoConfig.for_model("gemma3n_text", **{**fields, "num_hidden_layers": 13})
    assert len(deeper.model.layers) == 13
    assert (deeper.config.intermediate_size, deeper.config.activation_sparsity_pattern) == \
        (own.intermediate_size, own.activation_sparsity_pattern)
    text = program(config, "config.json")
    assert "builds no model" not in text and "Its formulas are this config's numbers" not in text, text


def test_a_list_of_layer_kinds_the_model_indexes_is_made_again_for_another_depth():
    """AXK1's config.json as saved states `mlp_layer_types`, one per layer ('dense' first, then
    'sparse'), which the config takes at any length and the model indexes by layer: one layer more
    builds no model with the old list, so the depth was never checked. The list is left to the
    config, which makes it for the new depth, and the depth's formula is checked there."""
    fields = dict(hidden_size=32, intermediate_size=48, moe_intermediate_size=16, num_hidden_layers=4,
                  num_attention_heads=4, num_key_value_heads=4, n_shared_experts=1, n_routed_experts=4,
                  num_experts_per_tok=2, n_group=1, topk_group=1, kv_lora_rank=8, q_lora_rank=16,
                  qk_rope_head_dim=4, v_head_dim=8, qk_nope_head_dim=8, head_dim=4, vocab_size=96,
                  max_position_embeddings=64)
    saved = transformers.AutoConfig.for_model("axk1", **fields).to_diff_dict()
    assert saved["mlp_layer_types"] == ["dense"] + ["sparse"] * 3
    config = {**saved, "model_type": "axk1"}
    deeper = general._rebuilt(transformers, config, {"num_hidden_layers": 5})
    assert deeper.config.mlp_layer_types == \
        transformers.AutoConfig.for_model("axk1", **{**fields, "num_hidden_layers": 5}).mlp_layer_types
    text = program(config, "config.json")
    assert "Its formulas are this config's numbers" not in text and not general.pinned_fields(text), text
    assert "repeat(num_hidden_layers - 1, " in text
    assert not _each_field_alone(config, text)


def test_a_list_of_layer_kinds_of_the_users_own_is_not_carried_to_another_depth(tmp_path, capsys):
    """An AXK1 config.json whose two first layers are dense (its own list, not the one the config
    makes): no formula says what a fifth layer would be, so the depth is this config's number, the
    header saying transformers builds no model with it changed, and `--set num_hidden_layers=6` is
    refused with transformers' reason rather than counted with the config's default pattern."""
    from symparams.cli import main
    fields = dict(hidden_size=32, intermediate_size=48, moe_intermediate_size=16, num_hidden_layers=4,
                  num_attention_heads=4, num_key_value_heads=4, n_shared_experts=1, n_routed_experts=4,
                  num_experts_per_tok=2, n_group=1, topk_group=1, kv_lora_rank=8, q_lora_rank=16,
                  qk_rope_head_dim=4, v_head_dim=8, qk_nope_head_dim=8, head_dim=4, vocab_size=96,
                  max_position_embeddings=64, mlp_layer_types=["dense", "dense", "sparse", "sparse"])
    config = {**transformers.AutoConfig.for_model("axk1", **fields).to_diff_dict(), "model_type": "axk1"}
    assert config["mlp_layer_types"] == fields["mlp_layer_types"]
    text = program(config, "config.json")
    assert general.pinned_fields(text) == ["num_hidden_layers"] and "builds no model with num_hidden_layers" in text
    model = symparams.parse(text, "config.json")
    assert _imported(model, {}) == {k: v for k, v in _reference("axk1", "AXK1ForCausalLM", fields).items()}
    path = tmp_path / "config.json"
    path.write_text(json.dumps(config))
    assert main(["summary", str(path), "--set", "num_hidden_layers=6"]) == 2
    assert "transformers could not build" in capsys.readouterr().err


def _counted(model_type: str, fields: dict, arch: str | None = None) -> dict:
    """Parameters, trainable and buffers of transformers' model built from `fields` on meta."""
    config = transformers.AutoConfig.for_model(model_type, **fields)
    cls = getattr(transformers, arch) if arch else transformers.AutoModel._model_mapping[type(config)]
    with torch.device("meta"):
        model = cls._from_config(config)
    return {"params": sum(p.numel() for p in model.parameters()),
            "trainable": sum(p.numel() for p in model.parameters() if p.requires_grad),
            "buffers": sum(b.numel() for b in model.buffers())}


def _config_data(model_type: str, fields: dict) -> dict:
    return {**transformers.AutoConfig.for_model(model_type, **fields).to_diff_dict(), "model_type": model_type}


def test_fields_of_one_number_are_told_apart_by_changing_each_alone():
    """MobileBERT's embeddings give 32 features, and hidden_size, intermediate_size and
    max_position_embeddings are all 32 (doubling every field keeps them equal): the output's width
    is the one field that moves it where each is changed alone, hidden_size. The program is in the
    config's names (it was in its numbers), and its counts and output shape (the pooler's) are
    transformers' with each of the three changed alone."""
    fields = dict(hidden_size=32, intermediate_size=32, max_position_embeddings=32, embedding_size=8,
                  intra_bottleneck_size=8, true_hidden_size=8, num_attention_heads=2, num_hidden_layers=2,
                  vocab_size=96)
    text = program(_config_data("mobilebert", fields), "config.json")
    assert "-> (*, t, hidden_size):" in text and "this config's numbers" not in text, text
    model = symparams.parse(text, "config.json")
    for changed in ({}, {"hidden_size": 64}, {"intermediate_size": 64}, {"max_position_embeddings": 48}):
        config = transformers.AutoConfig.for_model("mobilebert", **{**fields, **changed})
        with torch.device("meta"):
            built = transformers.MobileBertModel._from_config(config)
            shape = tuple(built(input_ids=torch.zeros((1, 5), dtype=torch.long)).pooler_output.shape[1:])
        ev = model.evaluate({**changed, "sequence_length": 5})
        assert _imported(model, changed) == _counted("mobilebert", {**fields, **changed}, "MobileBertModel")
        assert ev.shape(model.output_shape) == shape, changed


def test_a_sequence_with_a_token_prepended_is_t_plus_its_count():
    """VideoPrism's text embeddings set a class token before the text: (t + 1) positions, found
    in every measured pass. Its layers then run over t + 1 (their own t), so their MACs are
    FlopCounterMode's at a length the import never measured, and ViLT's text and image patches in
    one sequence are t + image_size**2 / patch_size**2 + 1, at another image size too."""
    from torch.nn.attention import SDPBackend, sdpa_kernel
    from torch.utils.flop_counter import FlopCounterMode
    fields = dict(hidden_size=32, intermediate_size=64, num_hidden_layers=2, num_attention_heads=4, vocab_size=96,
                  max_position_embeddings=32)
    text = program(_config_data("videoprism_text_model", fields), "config.json")
    assert "-> (*, t + 1, hidden_size):" in text, text
    model = symparams.parse(text, "config.json")
    config = transformers.AutoConfig.for_model("videoprism_text_model", **fields)
    built = transformers.VideoPrismTextModel._from_config(config, attn_implementation="eager").eval()
    with torch.no_grad(), sdpa_kernel(SDPBackend.MATH), FlopCounterMode(display=False) as flops:
        y = built(input_ids=torch.zeros((1, 9), dtype=torch.long))
    ev = model.evaluate({"sequence_length": 9})
    assert ev.shape(model.output_shape) == tuple(y.last_hidden_state.shape[1:]) == (10, 32)
    assert ev.macs == flops.get_total_flops() // 2
    fields = dict(hidden_size=32, intermediate_size=64, num_hidden_layers=2, num_attention_heads=4, vocab_size=96,
                  max_position_embeddings=16, image_size=64, patch_size=16)
    text = program(_config_data("vilt", fields), "config.json")
    assert "-> (*, t + image_size**2/patch_size**2 + 1, hidden_size):" in text, text
    model = symparams.parse(text, "config.json")
    for changed in ({}, {"image_size": 96}):
        config = transformers.AutoConfig.for_model("vilt", **{**fields, **changed})
        side = config.image_size
        built = transformers.ViltModel._from_config(config).eval()      # (on the CPU: its forward reads .item())
        with torch.no_grad():
            y = built(input_ids=torch.zeros((1, 6), dtype=torch.long), pixel_values=torch.zeros((1, 3, side, side)))
        ev = model.evaluate({**changed, "sequence_length": 6})
        assert ev.shape(model.row("embeddings").output_shape) == tuple(y.last_hidden_state.shape[1:]), changed
        assert ev.shape(model.output_shape) == tuple(y.pooler_output.shape[1:])
        assert _imported(model, changed) == _counted("vilt", {**fields, **changed}, "ViltModel")


def test_a_head_size_the_config_computes_follows_the_heads_it_divides_by():
    """Unlimited-OCR's text model computes head_dim = hidden_size // num_attention_heads in its
    config whatever the config.json states: doubling the heads halves it, so it is
    hidden_size / num_attention_heads (it was hidden_size / 4, the heads' number, and the model
    in the config's numbers). The counts hold with the heads changed alone."""
    fields = dict(hidden_size=32, intermediate_size=48, num_hidden_layers=2, num_attention_heads=4,
                  num_key_value_heads=4, vocab_size=96, n_routed_experts=4, n_shared_experts=1, num_experts_per_tok=2,
                  moe_intermediate_size=16)
    text = program(_config_data("unlimited_ocr_text", fields), "config.json")
    assert "where hidden_size % num_attention_heads == 0" in text and "this config's numbers" not in text, text
    model = symparams.parse(text, "config.json")
    for changed in ({}, {"num_attention_heads": 8}, {"num_attention_heads": 8, "num_key_value_heads": 2},
                    {"hidden_size": 64}):
        assert _imported(model, changed) == _counted("unlimited_ocr_text", {**fields, **changed},
                                                     "UnlimitedOcrTextModel"), changed


def test_a_bert_to_bert_models_two_towers_keep_their_own_fields():
    """A BERT-to-BERT model: BERT's modeling code is imported only as the model is built, and its
    head size, int(hidden_size / num_attention_heads), kept its formula only where that code is
    imported before (each tower's is); its encoder's and decoder's position tables are both 512
    long, told apart by changing each alone. The program is in the config's names, no field pinned,
    and counts as transformers with the encoder's heads, and the decoder's positions, changed alone."""
    bert = dict(hidden_size=32, num_hidden_layers=2, num_attention_heads=4, intermediate_size=48, vocab_size=96,
                max_position_embeddings=64)
    config = transformers.EncoderDecoderConfig.from_encoder_decoder_configs(
        transformers.BertConfig(**bert), transformers.BertConfig(**bert, is_decoder=True, add_cross_attention=True))
    data = {**config.to_diff_dict(), "model_type": "encoder-decoder", "architectures": ["EncoderDecoderModel"]}
    text = program(data, "config.json")
    assert "this config's numbers" not in text, text
    model = symparams.parse(text, "config.json")
    for changed in ({}, {"encoder_num_attention_heads": 8}, {"decoder_max_position_embeddings": 128}):
        tower = {k.split("_", 1)[0]: {} for k in ("encoder_", "decoder_")}
        for k, v in changed.items():
            tower[k.split("_", 1)[0]][k.split("_", 1)[1]] = v
        again = transformers.EncoderDecoderConfig.from_encoder_decoder_configs(
            transformers.BertConfig(**{**bert, **tower["encoder"]}),
            transformers.BertConfig(**{**bert, **tower["decoder"]}, is_decoder=True, add_cross_attention=True))
        with torch.device("meta"):
            built = transformers.EncoderDecoderModel(config=again)
        assert _imported(model, changed) == {
            "params": sum(p.numel() for p in built.parameters()),
            "trainable": sum(p.numel() for p in built.parameters() if p.requires_grad),
            "buffers": sum(b.numel() for b in built.buffers())}, changed


def test_a_division_transformers_floors_at_another_setting_is_floored():
    """Parakeet's subsampling: out_length = num_mel_bins // stride**3, 16 // 8 at the config, whole;
    where the stride is 4 (a setting transformers builds) it is not, and transformers floors it, so
    the program floors it too (its `where` had refused that setting, and the program was in the
    config's numbers). Its counts are transformers' there."""
    encoder = dict(hidden_size=32, intermediate_size=64, num_hidden_layers=2, num_attention_heads=4,
                   subsampling_conv_channels=8, num_mel_bins=16)
    fields = dict(encoder_config=encoder, vocab_size=33, decoder_hidden_size=16)
    text = program(_config_data("parakeet_tdt", fields), "config.json")
    assert "(encoder_num_mel_bins // encoder_subsampling_conv_stride**3)" in text, text
    model = symparams.parse(text, "config.json")
    for stride in (2, 3, 4):
        expected = _counted("parakeet_tdt", {**fields, "encoder_config": {**encoder, "subsampling_conv_stride": stride}},
                            "ParakeetForTDT")
        assert _imported(model, {"encoder_subsampling_conv_stride": stride}) == expected, stride


def test_a_field_the_config_computes_as_a_square_follows_it_squared():
    """RADIO's config computes patch_dim = num_channels * patch_size**2 whatever it is given: doubling
    patch_size alone quadruples it, so it follows patch_size squared (it was 256 * num_channels, and
    the model in the config's numbers); the config transformers makes at other values agrees."""
    fields = dict(hidden_size=32, num_hidden_layers=2, num_attention_heads=4, patch_size=4, num_channels=3,
                  max_img_size=64, image_size=32)
    config = transformers.AutoConfig.for_model("radio", **fields)
    formula = general._derived(transformers, "radio", fields, config)["patch_dim"]
    for channels, patch in ((3, 4), (5, 8), (1, 2)):
        made = transformers.AutoConfig.for_model("radio", **{**fields, "num_channels": channels, "patch_size": patch})
        assert formula.subs({general._symbol("num_channels"): channels,
                             general._symbol("patch_size"): patch}) == made.patch_dim


def test_a_program_whose_sizes_follow_every_field_says_so_field_by_field():
    """MobileViT v2's channels are its lists' and a float multiplier's: its counts hold with
    ffn_multiplier changed alone, but its output's shape does not (512 channels were ffn_multiplier
    times 256 by value), which transformers run there shows. Every field it names is then this
    config's number (its convolutions' kernel for the example's feature maps): the program is in
    its numbers, saying what each field does, and counts as transformers."""
    text = program(_config_data("mobilevitv2", {}), "config.json")
    head = text.split("\nmodel ")[0]
    assert "its sizes follow each of its fields in a way no formula of them states" in head, head
    assert "at ffn_multiplier=4 alone transformers gives no output of" in head, head
    assert _imported(symparams.parse(text, "config.json"), {}) == _counted("mobilevitv2", {})


def test_a_weight_norms_magnitude_keeps_its_weights_channels():
    """WavTokenizer's convolutions are weight-normed: each one's magnitude, (out, 1, 1), is the
    norm of its weight over every axis but the first, made from the weight, no Size. Its channels
    are the weight's formula (num_filters, 2 * num_filters, ...), not a number read by its value,
    32 where num_filters and another formula are both 32: the program is in the config's names,
    and its counts are transformers' with num_filters and compress changed."""
    fields = dict(num_filters=32, compress=2, hidden_size=64, codebook_size=16, codebook_dim=64)
    text = program(_config_data("wavtokenizer_encoder", fields), "config.json")
    assert not general.in_numbers(text) and not general.pinned_fields(text), text
    model = symparams.parse(text, "config.json")
    for other in ({"num_filters": 16}, {"num_filters": 64, "compress": 4}):
        expected = _counted("wavtokenizer_encoder", {**fields, **other})
        assert _imported(model, other) == expected, other


def test_a_decoders_positions_read_unbatched_follow_its_length():
    """Cohere ASR's decoder adds a position table read at positions arange(target_length), unbatched,
    (positions, width): the line after it makes the decoder's positions, its length handed to it,
    not the first pass's 5. Its encoder maps its output (decoder.proj) before the decoder's layers read
    it. At other target lengths the output's shape is transformers' (the counts too)."""
    encoder = dict(hidden_size=32, num_hidden_layers=2, num_attention_heads=4, num_key_value_heads=4,
                   intermediate_size=48, subsampling_conv_channels=8, num_mel_bins=16, conv_kernel_size=3)
    fields = dict(hidden_size=24, num_hidden_layers=2, num_attention_heads=4, num_key_value_heads=4, head_dim=6,
                  intermediate_size=40, vocab_size=64, max_position_embeddings=32, encoder_config=encoder)
    text = program(_config_data("cohere_asr", fields), "config.json")
    assert not general.in_numbers(text), text
    model = symparams.parse(text, "config.json")
    frames = model.evaluate({}).shape(model.inputs[0].shape)
    reference = transformers.CohereAsrModel._from_config(transformers.AutoConfig.for_model("cohere_asr", **fields))
    for length in (5, 9):
        with torch.no_grad():
            y = reference.eval()(input_features=torch.zeros((1, *map(int, frames))),
                                 decoder_input_ids=torch.zeros((1, length), dtype=torch.long), use_cache=False)
        ev = model.evaluate({"target_length": length})
        returned = {tuple(t.shape[1:]) for t in y.to_tuple() if isinstance(t, torch.Tensor)}
        assert all(tuple(ev.shape(out.shape)) in returned for out in model.outputs), length
    assert _imported(model, {}) == _counted("cohere_asr", fields)


def test_a_backbones_sizes_are_its_own_configs_and_a_real_factor_keeps_its_formula():
    """DEIMv2's HGNetV2 backbone is built from its backbone_config, whose sizes are its lists': its
    stem's 4 channels and kernels are no decoder_attention_heads or decoder_n_points of 4, which by
    value they had been (both pinned as numbers). Its encoder's blocks are
    `round(hidden_expansion * encoder_hidden_dim // 2)` channels wide, a real factor first, which
    float's product had made a number. A saved config states head_dim, which its validator holds
    d_model to: d_model alone is checked with it computed again (and pinned, as the decoder's input
    channels, a list's, follow it). At other settings its counts are transformers'."""
    fields = dict(encoder_hidden_dim=64, d_model=64, encoder_ffn_dim=128, decoder_ffn_dim=128, encoder_attention_heads=4,
                  decoder_attention_heads=4, num_queries=30, decoder_layers=2, decoder_in_channels=[64, 64, 64],
                  hidden_expansion=0.5)
    text = program(_config_data("deimv2", fields), "config.json")
    assert not general.in_numbers(text), text
    model = symparams.parse(text, "config.json")
    assert {"encoder_hidden_dim", "decoder_attention_heads", "decoder_n_points"} <= set(model.defaults), text
    assert "d_model" in general.pinned_fields(text, (general.STRUCTURE,)), text
    for other in ({"encoder_hidden_dim": 128}, {"decoder_attention_heads": 8, "decoder_n_points": 8}):
        assert _imported(model, other) == _counted("deimv2", {**fields, **other}), other


def test_a_field_the_validator_ties_to_another_is_doubled_with_it_to_find_what_it_derives():
    """dots3's audio encoder computes head_dim (hidden_size // num_attention_heads) and its key-value
    heads whatever its config.json states, and its validator refuses a hidden_size other than its
    adapter_input_size: doubled with it, hidden_size shows head_dim following it (it had been
    1280 / num_attention_heads, and the program in the config's numbers). At other settings its
    counts are transformers'."""
    fields = dict(hidden_size=64, intermediate_size=128, num_hidden_layers=2, num_attention_heads=4,
                  adapter_input_size=64, adapter_out_dim=128, downsample_hidden_size=16)
    text = program(_config_data("dots3_note_audio_encoder", fields), "config.json")
    assert not general.in_numbers(text) and not general.pinned_fields(text), text
    model = symparams.parse(text, "config.json")
    for other in ({"hidden_size": 128, "adapter_input_size": 128}, {"num_attention_heads": 8},
                  {"hidden_size": 96, "adapter_input_size": 96, "num_attention_heads": 2}):
        expected = _counted("dots3_note_audio_encoder", {**fields, **other}, "Dots3NoteAudioModel")
        assert _imported(model, other) == expected, other


def test_a_pass_whose_output_follows_its_weights_checks_no_formula():
    """FastSpeech 2's spectrogram is as long as the durations its weights predict: on the CPU, twins
    of other weights give other lengths (1 and 2 frames for 7 tokens). Such a pass tells no formula
    anything: the import takes it as not run (MACs not known, each layer keeping its shape) and a
    second setting's pass checks nothing (an import's outcome had followed the weights its twin
    happened to draw)."""
    config = transformers.AutoConfig.for_model("fastspeech2_conformer")
    with torch.device("meta"):
        model = transformers.FastSpeech2ConformerModel(config)
    entry = general._entry(model)
    lengths = {general._on_twin(model, seed, lambda twin: general._pass_on(twin, entry, 7, "cpu"))[0][0]
               for seed in (0, 1)}
    assert len(lengths) == 2, lengths           # (the model's own behaviour, which the test rests on)
    with pytest.raises(ImportProblem, match="follow its weights' values"):
        general._whole_pass(model, entry, 7, "cpu")
    text = program(_config_data("fastspeech2_conformer", {}), "config.json")
    assert "output shape follows its weights' values" in text and "macs = not_known" in text, text


def test_a_sequence_a_strided_layer_shortens_is_its_length_floored():
    """CANINE's characters become molecules by a convolution of stride downsampling_rate: 1, 2 and 3
    of them for 7, 11 and 13 characters, `t // downsampling_rate` (the size of 1 had been no formula,
    and the program in the config's numbers). At other lengths the molecules (a hook on transformers' own layer) and the outputs are transformers', and so are
    the counts at other sizes."""
    fields = dict(hidden_size=32, num_hidden_layers=2, num_attention_heads=4, intermediate_size=64, downsampling_rate=4,
                  num_hash_functions=2, num_hash_buckets=64, upsampling_kernel_size=4, max_position_embeddings=64)
    text = program(_config_data("canine", fields), "config.json")
    assert not general.in_numbers(text), text
    model = symparams.parse(text, "config.json")
    row = next(r for r in model.rows if r.name == "chars_to_molecules")
    reference = transformers.CanineModel(transformers.AutoConfig.for_model("canine", **fields)).eval()
    seen = []
    reference.chars_to_molecules.register_forward_hook(lambda m, a, out: seen.append(tuple(out.shape[1:])))
    for length in (16, 23):
        with torch.no_grad():
            y = reference(input_ids=torch.ones((1, length), dtype=torch.long))
        ev = model.evaluate({"sequence_length": length})
        assert tuple(ev.shape(row.output_shape)) == seen[-1], length
        returned = {tuple(t.shape[1:]) for t in y.to_tuple() if isinstance(t, torch.Tensor)}
        assert all(tuple(ev.shape(out.shape)) in returned for out in model.outputs), length
    for other in ({"hidden_size": 64, "num_attention_heads": 8}, {"num_hidden_layers": 3}):
        assert _imported(model, other) == _counted("canine", {**fields, **other}), other
