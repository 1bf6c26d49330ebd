"""Every model type of the installed transformers, imported as a user's config.json is imported
(templates first, then the general route) and compared with transformers' own model built from the
same config on the meta device: parameters, trainable, buffers.

    python tests/hf_sweep.py OUT.jsonl [TYPE ...]

writes one JSON line per model type as it goes ({"type", "outcome": exact|refused|wrong|failed,
"reason", "seconds"}) and skips the types OUT.jsonl already holds, so a long run can be resumed;
`--summary OUT.jsonl` prints the counts and the refusals grouped by reason. A type that takes
longer than SYMPARAMS_SWEEP_TIMEOUT seconds (default 300) is recorded as failed. With
SYMPARAMS_SWEEP_ALONE=1, each program in the config's names is also evaluated with each of its
fields changed alone against transformers rebuilt there (`each_field_alone`; the row's "alone"). The whole sweep
takes hours on a small machine; tests/test_hf_general.py runs it with SYMPARAMS_HF_SWEEP=1."""
from __future__ import annotations

import collections
import copy
import json
import os
import re
import signal
import sys
import time


class _Timeout(Exception):
    pass


def _alarm(signum, frame):
    raise _Timeout()


_DEEPSEEK_OCR2_TEXT = {"num_hidden_layers": 12, "mlp_layer_types": ["dense"] + ["sparse"] * 11, "num_experts_per_tok": 6}
_INTRACLASS_BLOCK = {
    "reduce_channel": [1, 1, 0], "return_channel": [1, 1, 0],
    "vertical_long_to_small_conv_longratio": [[7, 1], [1, 1], [3, 0]],
    "vertical_long_to_small_conv_midratio": [[5, 1], [1, 1], [2, 0]],
    "vertical_long_to_small_conv_shortratio": [[3, 1], [1, 1], [1, 0]],
    "horizontal_small_to_long_conv_longratio": [[1, 7], [1, 1], [0, 3]],
    "horizontal_small_to_long_conv_midratio": [[1, 5], [1, 1], [0, 2]],
    "horizontal_small_to_long_conv_shortratio": [[1, 3], [1, 1], [0, 1]],
    "symmetric_conv_long_longratio": [[7, 7], [1, 1], [3, 3]],
    "symmetric_conv_long_midratio": [[5, 5], [1, 1], [2, 2]],
    "symmetric_conv_long_shortratio": [[3, 3], [1, 1], [1, 1]],
}
_QWEN4_EXP_QSA = {"indexer_n_heads": 4, "indexer_kv_heads": 1, "indexer_head_dim": 128, "indexer_budget": 2048,
                  "indexer_compress_ratio": 4, "partial_rotary_factor": 0.25}
_DIFFUSION_GEMMA_MOE = {"num_experts": 128, "top_k_experts": 8, "moe_intermediate_size": 704}
# microsoft/resnet-50's and microsoft/resnet-18's configurations, as the DETR conversions load them
# (convert_detr_to_pytorch.py: the last stage only; convert_table_transformer_to_hf_no_timm.py: all four)
_RESNET_50 = {"model_type": "resnet", "embedding_size": 64, "hidden_sizes": [256, 512, 1024, 2048],
              "depths": [3, 4, 6, 3], "layer_type": "bottleneck", "hidden_act": "relu",
              "downsample_in_first_stage": False, "out_features": ["stage4"]}
_RESNET_18_ALL_STAGES = {"model_type": "resnet", "embedding_size": 64, "hidden_sizes": [64, 128, 256, 512],
                         "depths": [2, 2, 2, 2], "layer_type": "basic", "hidden_act": "relu",
                         "downsample_in_first_stage": False, "out_features": ["stage1", "stage2", "stage3", "stage4"]}


# Fields a published checkpoint's config.json states and the default configuration leaves unset,
# without which transformers builds nothing from it (Reformer's LM head is a decoder's; a time
# series model needs its prediction length; ESM's vocabulary has no default size) or runs nothing
# (DeepSeek-V2's default routes each token to None experts).
PUBLISHED = {
    "reformer": {"is_decoder": True},                          # google/reformer-crime-and-punishment
    "autoformer": {"prediction_length": 24},                   # huggingface/autoformer-tourism-monthly
    "informer": {"prediction_length": 24},                     # huggingface/informer-tourism-monthly
    "time_series_transformer": {"prediction_length": 24},      # huggingface/time-series-transformer-tourism-monthly
    "esm": {"vocab_size": 33, "pad_token_id": 1},              # facebook/esm2_t6_8M_UR50D
    "deepseek_v2": {"num_experts_per_tok": 6},                 # deepseek-ai/DeepSeek-V2-Lite
    # Fields a default configuration leaves None (or an empty list) where its published checkpoint
    # states a value, so that transformers builds nothing from the default:
    "ministral": {"head_dim": 128},                            # mistralai/Ministral-8B-Instruct-2410
    "nemotron": {"num_key_value_heads": 8},                    # nvidia/Minitron-8B-Base
    "hunyuan_v1_dense": {"head_dim": 128},                     # tencent/Hunyuan-7B-Instruct
    "hunyuan_v1_moe": {"head_dim": 128},                       # tencent/Hunyuan-A13B-Instruct
    "hunyuan_vl": {"text_config": {"head_dim": 128}},          # tencent/HunyuanOCR (its attention_head_dim)
    "hunyuan_vl_text": {"head_dim": 128},                      # tencent/HunyuanOCR
    "dbrx": {"attn_config": {"rope_theta": 500000, "clip_qkv": 8}},   # databricks/dbrx-instruct
    # the one entry of the vocabulary map the model reads when built (the checkpoint states the whole
    # tokenizer vocabulary): Chameleon's "<image>" (its <reserved08707>), Emu3's end-of-line token
    "chameleon": {"vocabulary_map": {"<image>": 8711}},        # facebook/chameleon-7b
    "emu3": {"vocabulary_map": {"<|extra_200|>": 151846}},     # BAAI/Emu3-Chat-hf
    "lfm2_moe": {"num_hidden_layers": 24, "layer_types": [     # LiquidAI/LFM2-8B-A1B
        "full_attention" if i in (2, 6, 10, 14, 18, 21) else "conv" for i in range(24)]},
    "deepseek_ocr2_text": _DEEPSEEK_OCR2_TEXT,                 # deepseek-ai/DeepSeek-OCR-2's language_config
    "deepseek_ocr2": {"text_config": _DEEPSEEK_OCR2_TEXT},     # (its first_k_dense_replace as mlp_layer_types)
    "pp_ocrv5_server_det": {"intraclass_block_config": _INTRACLASS_BLOCK,   # PaddlePaddle/PP-OCRv5_server_det_safetensors
                            "scale_factor_list": [1, 2, 4, 8], "kernel_list": [3, 2, 2]},
    "pp_ocrv6_medium_det": {"intraclass_block_config": _INTRACLASS_BLOCK,   # PaddlePaddle/PP-OCRv6_medium_det_safetensors
                            "scale_factor_list": [1, 2, 4, 8], "kernel_list": [3, 2, 2]},
    "moonshine_streaming": {"num_key_value_heads": 8},         # UsefulSensors/moonshine-streaming-tiny
    "qwen3_omni_moe_talker_text": {"shared_expert_intermediate_size": 768},  # Qwen/Qwen3-Omni-30B-A3B-Instruct
    "qwen3_omni_moe": {"talker_config": {"spatial_merge_size": 2,           # Qwen/Qwen3-Omni-30B-A3B-Instruct
                                         "text_config": {"shared_expert_intermediate_size": 768}}},
    # T5Gemma 2's top-level config hands its dropout_rate down to the towers; a tower alone has none
    "t5gemma2_encoder": {"text_config": {"dropout_rate": 0.0}},  # google/t5gemma-2-270m-270m
    "t5gemma2_decoder": {"dropout_rate": 0.0},                 # google/t5gemma-2-270m-270m
    "t5gemma2_text": {"dropout_rate": 0.0},                    # google/t5gemma-2-270m-270m
    "qwen4_exp_text": _QWEN4_EXP_QSA,                          # Qwen/Qwen4-Exp's text_config (its QSA indexer)
    "qwen4_exp": {"text_config": _QWEN4_EXP_QSA},              # Qwen/Qwen4-Exp
    "diffusion_gemma_text": _DIFFUSION_GEMMA_MOE,              # google/diffusiongemma-26B-A4B-it
    "diffusion_gemma": {"text_config": _DIFFUSION_GEMMA_MOE},  # google/diffusiongemma-26B-A4B-it
    # the default SigLIP tower has 14 heads of 1152 / 14 widths; a dict replaces the whole tower
    "aya_vision": {"vision_config": {                          # CohereLabs/aya-vision-8b
        "model_type": "siglip_vision_model", "hidden_size": 1152, "intermediate_size": 4304, "image_size": 364,
        "patch_size": 14, "num_hidden_layers": 27, "num_attention_heads": 16, "vision_use_head": False}},
    "dots1": {"n_routed_experts": 128, "n_shared_experts": 2, "num_experts_per_tok": 6},  # rednote-hilab/dots.llm1.base
    # an assistant's text model has no per-layer inputs (its validator requires 0)
    "gemma4_assistant": {"text_config": {                      # google/gemma-4-e2b-it-assistant
        "hidden_size_per_layer_input": 0, "vocab_size_per_layer_input": 0}},
    "granite4_vision": {"deepstack_layer_map": [[-19, 9], [-13, 6], [-7, 3], [-1, 0]],  # ibm-granite/granite-4.0-3b-vision
                        "downsample_rate": "4/8"},
    # DETR's and Table Transformer's default backbone is timm's (not installed here); their checkpoints
    # converted with transformers' own ResNet (the "no_timm" revisions) state it as backbone_config.
    # Conditional, DAB- and Deformable DETR and OmDet-Turbo have no such checkpoint: theirs load timm.
    "detr": {"use_timm_backbone": False, "backbone": None,     # facebook/detr-resnet-50, revision no_timm
             "backbone_config": _RESNET_50},
    "table-transformer": {"use_timm_backbone": False, "backbone": None,  # microsoft/table-transformer-detection,
                          "backbone_config": _RESNET_18_ALL_STAGES},     # revision no_timm
}


def _why_numbers(text: str) -> str | bool:
    """Why the program is in this config's numbers (its header's words), or False."""
    head = text.split("\nmodel ")[0]
    at = head.find("# Its formulas are this config's numbers")
    if at < 0:
        return False
    return " ".join(line.removeprefix("# ") for line in head[at:].splitlines() if line.startswith("# "))


def each_field_alone(config: dict, text: str) -> tuple[int, dict, list]:
    """(settings compared or failed, {field: why its counts first differ}, fields whose setting the
    program's own conditions refuse): the program `text` of `config` with each field it names
    changed alone (doubled; a count of layers one more and doubled) against transformers rebuilt
    there — parameters, trainable, buffers (the general route's own single-field check, over every
    field rather than its counts of layers and heads)."""
    from symparams.importers.huggingface import general
    found = list(general.each_field_alone(config, text, {}, every=True))
    wrong: dict = {}
    for name, doubt in found:
        if doubt:
            wrong.setdefault(name, doubt)
    return sum(doubt != "" for _, doubt in found), wrong, [name for name, doubt in found if doubt == ""]


def one(model_type: str) -> dict:
    """The outcome for one model type at its default configuration (with PUBLISHED's fields)."""
    import torch
    import transformers

    import symparams
    from symparams.importers.huggingface import general, program
    try:
        config = transformers.AutoConfig.for_model(model_type, **copy.deepcopy(PUBLISHED.get(model_type, {})))
        data = {**config.to_diff_dict(), "model_type": model_type}
        cls = general._model_class(transformers, config, None)
    except Exception as e:
        return {"outcome": "refused", "reason": f"transformers: {type(e).__name__}: {str(e)[:160]}"}
    try:
        text = program(data, "config.json")
        model = symparams.parse(text, "config.json")
        ev = model.evaluate({})
        ev.check()
    except symparams.errors.SymparamsError as e:
        return {"outcome": "refused", "reason": e.message[:240]}
    # the class the program says it counts (a template reads a config without `architectures` as
    # its family's usual head, DistilBertForMaskedLM; the general route as transformers' Auto classes)
    named = getattr(transformers, re.split(r"[, ]", text[2:], maxsplit=1)[0], None) if text.startswith("# ") else None
    cls = named if isinstance(named, type) else cls
    with torch.device("meta"):
        reference = cls(transformers.AutoConfig.for_model(**data))
    expected = {"params": sum(p.numel() for p in reference.parameters()),
                "trainable": sum(p.numel() for p in reference.parameters() if p.requires_grad),
                "buffers": sum(b.numel() for b in reference.buffers())}
    got = {"params": int(ev.params), "trainable": int(ev.trainable), "buffers": int(ev.buffers)}
    if got == expected:
        # through the general route, measured: its MACs and shapes from its forward pass; else counted,
        # each layer keeping its shape (None: a template's program)
        general_route = "(no template for this model type)" in text
        row = {"outcome": "exact", "reason": "", "params": got["params"],
               "measured": "# counted as transformers builds it from this config; MACs" in text if general_route
               else None, "numbers": _why_numbers(text),
               "structure": general.pinned_fields(text, (general.STRUCTURE,)),
               "example": general.pinned_fields(text, (general.FOLLOWED,))}
        if os.environ.get("SYMPARAMS_SWEEP_ALONE") == "1" and general_route and not row["numbers"]:
            compared, wrong, refused = each_field_alone(data, text)
            row["alone"] = {"compared": compared, "wrong": wrong, "refused": refused}
        return row
    return {"outcome": "wrong", "reason": f"symparams {got}, transformers {expected}"}


def sweep(out: str, only: list[str]) -> None:
    import transformers
    from transformers.models.auto.configuration_auto import CONFIG_MAPPING_NAMES
    transformers.logging.set_verbosity_error()
    done = set()
    if os.path.exists(out):
        done = {json.loads(line)["type"] for line in open(out) if line.strip()}
    timeout = int(os.environ.get("SYMPARAMS_SWEEP_TIMEOUT", "300"))
    signal.signal(signal.SIGALRM, _alarm)
    for model_type in sorted(CONFIG_MAPPING_NAMES):
        if model_type in done or (only and model_type not in only):
            continue
        start = time.process_time()
        signal.alarm(timeout)
        try:
            row = one(model_type)
        except _Timeout:
            row = {"outcome": "failed", "reason": f"took over {timeout} s"}
        except Exception as e:      # the sweep records what a user would have seen as a crash
            row = {"outcome": "failed", "reason": f"{type(e).__name__}: {str(e)[:200]}"}
        finally:
            signal.alarm(0)
        row = {"type": model_type, **row, "seconds": round(time.process_time() - start, 2)}
        with open(out, "a") as f:
            f.write(json.dumps(row) + "\n")
        print(row["type"], row["outcome"], row["reason"][:100], flush=True)


def _kind(reason: str) -> str:
    """A refusal's reason without its model-specific details, to group alike ones."""
    reason = re.sub(r"'[^']*'|\"[^\"]*\"|`[^`]*`|\([^()]*\)", "…", reason)
    reason = re.sub(r"\b(?:[A-Za-z]*[A-Z][a-z0-9]*[A-Z]\w*|\w+_\w+)\b", "…", reason)   # class and layer names
    return re.sub(r"\d[\d,.]*", "N", reason)[:80]


def summary(out: str) -> None:
    rows = [json.loads(line) for line in open(out) if line.strip()]
    count = collections.Counter(r["outcome"] for r in rows)
    print(f"{len(rows)} model types: " + ", ".join(f"{count[k]} {k}" for k in ("exact", "refused", "wrong", "failed")))
    unmeasured = sorted(r["type"] for r in rows if r["outcome"] == "exact" and r.get("measured") is False)
    numbers = sorted(r["type"] for r in rows if r["outcome"] == "exact" and r.get("numbers"))
    if numbers:
        print(f"  of the exact, {len(numbers)} written in the config's numbers (its formulas did not hold at a "
              f"second setting):\n       {', '.join(numbers)}")
    pinned = sorted(r["type"] for r in rows if r["outcome"] == "exact" and r.get("structure"))
    if pinned:
        print(f"  of the exact, {len(pinned)} written in the config's names but for fields their structure follows "
              f"in a way no formula states ({sum(len(r['structure']) for r in rows if r.get('structure'))} fields "
              f"in all):\n       {', '.join(pinned)}")
    if unmeasured:
        print(f"  of the exact, {len(unmeasured)} counted with no measured pass (MACs not known, shapes assumed):\n"
              f"       {', '.join(unmeasured)}")
    alone = [r for r in rows if r.get("alone")]
    if alone:
        wrong = sorted(r["type"] for r in alone if r["alone"]["wrong"])
        print(f"  of the {len(alone)} in the config's names checked with each field alone "
              f"({sum(r['alone']['compared'] for r in alone)} settings), {len(wrong)} differ from transformers"
              + (f":\n       {', '.join(wrong)}" if wrong else ""))
    groups = collections.defaultdict(list)
    for r in rows:
        if r["outcome"] != "exact":
            groups[(r["outcome"], _kind(r["reason"]))].append(r["type"])
    for (outcome, kind), types in sorted(groups.items(), key=lambda g: -len(g[1])):
        print(f"{len(types):4} {outcome}: {kind}\n       {', '.join(types)}")


if __name__ == "__main__":
    if sys.argv[1:2] == ["--summary"]:
        summary(sys.argv[2])
    else:
        sweep(sys.argv[1], sys.argv[2:])
