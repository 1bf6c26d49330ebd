"""Inference figures (symparams/quantities/inference.py) against what transformers really runs and holds.

* prefill_flops: FlopCounterMode of a forward of the prompt (eager attention, eager experts), as
  tests/flops_reference.py counts it.
* decode_flops: FlopCounterMode of ONE decode step -- a prefill of T tokens with use_cache=True
  (not counted), then one token fed with the returned cache (counted): the per-position products
  of every layer and each attention's scores and weighted sum over the keys the step reads (T + 1,
  or a sliding window's min(T, window - 1) + 1: transformers' sliding cache keeps window - 1
  positions and its eager attention multiplies over them and the new key).
* inference_memory's weights: the bytes of a transformers model's parameters at that dtype (built
  on the meta device for the full-size configs: shapes and dtypes, no storage). Its KV cache part is
  the kv_cache figure, checked against transformers' cache in tests/test_kv_cache_runtime.py.
* solve --for sequence_length under a budget: exact at the boundary.
"""
from __future__ import annotations

import ast
import json
from functools import lru_cache
from pathlib import Path

import pytest
import sympy as sp

import symparams
from symparams.importers.huggingface import program

transformers = pytest.importorskip("transformers")
torch = pytest.importorskip("torch")

from flops_reference import _one_thread, build, runtime_forward_flops  # noqa: E402
from torch.utils.flop_counter import FlopCounterMode  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
COMMON = dict(vocab_size=97, pad_token_id=0, bos_token_id=0, eos_token_id=0)
LLAMA_LIKE = dict(COMMON, hidden_size=32, intermediate_size=40, num_hidden_layers=2, num_attention_heads=4,
                  num_key_value_heads=2)

# (label, model_type, architecture, fields): two sizes of each family
CASES = [
    ("llama", "llama", "LlamaForCausalLM", LLAMA_LIKE),
    ("llama-wide", "llama", "LlamaForCausalLM", dict(LLAMA_LIKE, hidden_size=48, num_attention_heads=6,
                                                      num_key_value_heads=3, num_hidden_layers=3)),
    ("qwen2", "qwen2", "Qwen2ForCausalLM", LLAMA_LIKE),
    ("qwen2-mqa", "qwen2", "Qwen2ForCausalLM", dict(LLAMA_LIKE, hidden_size=64, num_key_value_heads=1,
                                                     intermediate_size=24)),
    ("mistral-window-below", "mistral", "MistralForCausalLM", dict(LLAMA_LIKE, head_dim=12, sliding_window=4)),
    ("mistral-window-above", "mistral", "MistralForCausalLM", dict(LLAMA_LIKE, sliding_window=64)),
    ("gpt2", "gpt2", "GPT2LMHeadModel", dict(COMMON, n_embd=32, n_layer=2, n_head=4, n_positions=32)),
    ("gpt2-wide", "gpt2", "GPT2LMHeadModel", dict(COMMON, n_embd=48, n_layer=3, n_head=6, n_positions=32)),
    ("mixtral", "mixtral", "MixtralForCausalLM", dict(LLAMA_LIKE, num_local_experts=4, num_experts_per_tok=2)),
    ("mixtral-top1", "mixtral", "MixtralForCausalLM", dict(LLAMA_LIKE, hidden_size=48, num_attention_heads=6,
                                                           num_local_experts=3, num_experts_per_tok=1)),
]
IDS = [c[0] for c in CASES]
SIZES = [(5, 1), (9, 2)]     # (T tokens cached, batch)


@lru_cache(maxsize=None)
def config_of(label: str) -> dict:
    _, model_type, arch, fields = next(c for c in CASES if c[0] == label)
    return json.loads(transformers.AutoConfig.for_model(model_type, architectures=[arch], **fields).to_json_string())


@lru_cache(maxsize=None)
def imported(config_json: str):
    return symparams.parse(program(json.loads(config_json), "config.json"), "config.json")


def ours(config: dict, quantity: str, T: int, batch: int, **options) -> int:
    model = imported(json.dumps(config, sort_keys=True))
    values = {**model.evaluate({"sequence_length": T}).values, model.batch: batch}
    return int(sp.sympify(model.quantity(quantity, per_batch=True, **options)).xreplace(values))


@lru_cache(maxsize=None)
def _model(label: str):
    return build(config_of(label)).eval()


def runtime_decode_flops(label: str, T: int, batch: int) -> int:
    """FLOPs of one decode step after a prefill of T tokens (the prefill is not counted)."""
    model = _model(label)
    g = torch.Generator().manual_seed(1)
    tokens = torch.randint(1, 97, (batch, T + 1), generator=g)
    with _one_thread(), torch.no_grad():
        out = model(input_ids=tokens[:, :T], use_cache=True)
        cache = out.cache if "cache" in out else out.past_key_values    # transformers 5.25 names it cache
        with FlopCounterMode(display=False) as counter:
            model(input_ids=tokens[:, T:], cache=cache, use_cache=True)
    return counter.get_total_flops()


@pytest.mark.parametrize("T,batch", SIZES)
@pytest.mark.parametrize("label", IDS)
def test_decode_flops_is_one_step_of_transformers(label, T, batch):
    assert ours(config_of(label), "decode_flops", T, batch) == runtime_decode_flops(label, T, batch)


@pytest.mark.parametrize("label", ["llama", "mistral-window-below", "gpt2", "mixtral"])
def test_prefill_flops_is_the_prompts_forward(label):
    config = config_of(label)
    with _one_thread():
        assert ours(config, "prefill_flops", 7, 2) == runtime_forward_flops(config, 7, 2)


def test_generate_keeps_the_last_logits_only():
    """The difference the docs state: generate() passes logits_to_keep=1 to the prefill, which
    leaves out the head's products at the other T - 1 positions, 2 * (T - 1) * V * d per prompt."""
    config, T, batch = config_of("llama"), 7, 2
    model = _model("llama")
    tokens = torch.randint(1, 97, (batch, T), generator=torch.Generator().manual_seed(1))
    with _one_thread(), torch.no_grad(), FlopCounterMode(display=False) as counter:
        model(input_ids=tokens, use_cache=True, logits_to_keep=1)
    V, d = config["vocab_size"], config["hidden_size"]
    assert ours(config, "prefill_flops", T, batch) - counter.get_total_flops() == batch * 2 * (T - 1) * V * d


def test_a_window_below_T_reads_window_keys():
    """The reference's own rule: with window W <= T the step's attention reads W keys, so its
    FLOPs do not grow with T once the window is full (the per-position products do not either)."""
    assert runtime_decode_flops("mistral-window-below", 6, 1) == runtime_decode_flops("mistral-window-below", 9, 1)
    assert runtime_decode_flops("mistral-window-above", 6, 1) < runtime_decode_flops("mistral-window-above", 9, 1)


# ---------------------------------------------------------------- weights bytes

def _param_bytes(model) -> int:
    return sum(p.numel() * p.element_size() for p in model.parameters())    # tied weights once


def _meta_model(config: dict, dtype):
    data = dict(config)
    arch = data.pop("architectures")[0]
    cfg = transformers.AutoConfig.for_model(**data)
    with torch.device("meta"):
        return getattr(transformers, arch)._from_config(cfg, dtype=dtype)


def _weights(m, **options) -> int:
    fig = symparams.quantities.figure(m, "inference_memory", opts=symparams.quantities.options(**options))
    parts = dict(fig.parts)
    return int(sp.sympify(parts["weights"]).xreplace(m.evaluate({}).values))


@pytest.mark.parametrize("example", ["qwen2-0.5b", "mistral-7b-v0.1"])
@pytest.mark.parametrize("dtype", ["bfloat16", "float32"])
def test_weights_are_the_bytes_of_transformers_parameters(example, dtype):
    from symparams.interpreter import read
    config = json.loads((ROOT / "examples" / "hf" / example / "config.json").read_text())
    real = _param_bytes(_meta_model(config, getattr(torch, dtype)))
    m = read(ROOT / "examples" / "hf" / example).model(None, None)
    assert _weights(m, weights_dtype=dtype) == real
    if dtype == "bfloat16":
        assert _weights(m) == real       # the default


def test_four_bit_weights_pack_the_linear_layers():
    """int4 packs the linear layers' kernels two a byte and leaves the rest (embeddings, norms, biases,
    the head) at bfloat16; the libraries' formats are checked against bitsandbytes and transformers in
    tests/test_quantized.py."""
    from symparams.interpreter import read
    m = read(ROOT / "examples" / "hf" / "qwen2-0.5b").model(None, None)
    fig = symparams.quantities.figure(m, "inference_memory", opts=symparams.quantities.options(weights_dtype="int4"))
    parts = {k: int(sp.sympify(v).xreplace(m.evaluate({}).values)) for k, v in fig.parts}
    assert parts["weights at int4"] * 4 + parts["weights at bfloat16"] == _weights(m, weights_dtype="bfloat16")


def test_kv_cache_part_is_the_kv_cache_figure_at_the_kv_dtype():
    from symparams.interpreter import read
    m = read(ROOT / "examples" / "hf" / "mistral-7b-v0.1").model(None, None)
    fig = symparams.quantities.figure(m, "inference_memory", opts=symparams.quantities.options(
        weights_dtype="int8", kv_dtype="fp8"), per_batch=True)
    assert sp.expand(dict(fig.parts)["kv_cache"] - m.quantity("kv_cache", dtype="fp8", per_batch=True)) == 0
    # the cache of quantized weights stays at the compute dtype, as bitsandbytes leaves it
    default = symparams.quantities.figure(m, "inference_memory", opts=symparams.quantities.options(weights_dtype="int8"))
    assert sp.expand(dict(default.parts)["kv_cache"] - m.quantity("kv_cache", dtype="bfloat16")) == 0
    assert fig.dtype == "weights int8, KV cache float8_e4m3fn" and default.dtype == "weights int8, KV cache bfloat16"
    fp32 = symparams.quantities.figure(m, "inference_memory", opts=symparams.quantities.options(weights_dtype="fp32"))
    assert sp.expand(dict(fp32.parts)["kv_cache"] - m.quantity("kv_cache", dtype="float32")) == 0


# ---------------------------------------------------------------- solve, roofline, the CLI

def _cli(*argv) -> str:
    import contextlib
    import io
    from symparams.cli import main
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        assert main(list(argv)) == 0
    return out.getvalue()


def test_solve_for_the_sequence_length_is_exact_at_the_boundary():
    from symparams.interpreter import read
    path = str(ROOT / "examples" / "hf" / "qwen2-0.5b")
    text = _cli("solve", path, "--of", "inference_memory", "--for", "sequence_length", "--budget", "80e9")
    T = int(text.split("\n")[0].split("=")[1])
    m = read(ROOT / "examples" / "hf" / "qwen2-0.5b").model(None, None)
    total = m.quantity("inference_memory")

    def at(t):
        return int(total.xreplace(m.evaluate({"sequence_length": t}).values))
    assert at(T) <= 80 * 10**9 < at(T + 1)


def test_roofline():
    from symparams.interpreter import read
    from symparams.quantities.inference import roofline
    m = read(ROOT / "examples" / "hf" / "qwen2-0.5b").model(None, None)
    r = roofline(m, bandwidth=2 * 10**12, peak_flops=10**15)
    values = m.evaluate({"sequence_length": 4096}).values
    v = {k: sp.sympify(e).xreplace(values) for k, e in r.items()}
    parts = dict(symparams.quantities.figure(m, "inference_memory").parts)
    step = int((parts["weights"] + parts["kv_cache"]).xreplace(values))     # a step reads these, not the working set
    decode = int(m.quantity("decode_flops").xreplace(values))
    prefill = int(m.quantity("prefill_flops").xreplace(values))
    assert v["bytes_per_step"] == step
    assert v["memory_bound_tokens_per_s"] == sp.Rational(2 * 10**12, step)
    assert v["compute_bound_tokens_per_s"] == sp.Rational(10**15, decode)
    assert v["tokens_per_s"] == min(v["memory_bound_tokens_per_s"], v["compute_bound_tokens_per_s"])
    assert v["time_to_first_token_s"] == sp.Rational(prefill, 10**15)


def test_whole_model_only():
    from symparams.errors import SymparamsError
    from symparams.interpreter import read
    m = read(ROOT / "examples" / "hf" / "qwen2-0.5b").model(None, None)
    for name in ("prefill_flops", "decode_flops", "inference_memory"):
        with pytest.raises(SymparamsError, match="whole model"):
            m.quantity(name, layer="norm")


def test_an_encoder_has_no_decode_step():
    from symparams.errors import SymparamsError
    m = symparams.parse(program(json.loads(transformers.AutoConfig.for_model(
        "bert", hidden_size=32, num_hidden_layers=1, num_attention_heads=4, intermediate_size=40,
        vocab_size=97).to_json_string()), "config.json"), "config.json")
    with pytest.raises(SymparamsError, match="caches 'none'|positions"):
        m.quantity("decode_flops")


def test_the_inference_sheet_names_no_catalog_layer():
    from symparams.catalog import facts
    from symparams.catalog import everything
    entries = everything().values()   # the formula sheets' and the prelude's
    names = {spec.name for spec in entries} | {spec.keras_name.lower() for spec in entries}
    names -= set(facts.ROLES)
    tree = ast.parse((ROOT / "symparams" / "quantities" / "inference.py").read_text())
    strings = {n.value for n in ast.walk(tree) if isinstance(n, ast.Constant) and isinstance(n.value, str)}
    assert not strings & names, sorted(strings & names)
