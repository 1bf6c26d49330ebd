"""Quantized weights, 8-bit Adam, the inference working set, MFU, pipeline stages' FLOPs and solving
for a device count, each against the real library's tensors or torch's own count:

* weights at nf4 (with and without double quantization, several block sizes), int8 (LLM.int8) and
  fp8: every storage bitsandbytes / transformers keeps for the model -- parameters, Params4bit's
  quant_state (absmax, code, offset, state2), Int8Params' SCB -- after transformers quantized a tiny
  Llama and Qwen2 on the CPU (its own choice of the layers left unquantized: the head), or
  bitsandbytes' quantize_4bit on tensors of assorted shapes; FP8: transformers' replace_with_fp8_linear
  (FP8Linear's weight and weight_scale_inv) on the meta device, as its FineGrainedFP8 quantizer runs it.
* 8-bit Adam: the state bitsandbytes' Adam8bit / PagedAdamW8bit allocate on the CPU after one step
  (state1, state2, absmax1, absmax2, qmap1, qmap2), for a model and for LoRA adapters under peft.
* the working set: the largest storage a transformers prefill creates, recorded op by op with a
  TorchDispatchMode (no CUDA here: the sizes of the tensors each aten op returns, on the CPU).
* MFU and pipeline stages: FlopCounterMode's FLOPs (per module for the stages).
"""
from __future__ import annotations

import contextlib
import io
import json

import pytest
import sympy as sp

import symparams
import symparams.quantities  # noqa: F401  (the registry: figure, options)
from symparams.errors import ArgumentError
from symparams.importers.huggingface import program

torch = pytest.importorskip("torch")
transformers = pytest.importorskip("transformers")
bnb = pytest.importorskip("bitsandbytes")

from torch.utils._python_dispatch import TorchDispatchMode  # noqa: E402
from torch.utils._pytree import tree_flatten  # noqa: E402

LLAMA = ("llama", "LlamaForCausalLM", dict(vocab_size=97, hidden_size=40, intermediate_size=70, num_hidden_layers=2,
                                            num_attention_heads=4, num_key_value_heads=2, attention_bias=True))
# Qwen2 with tied embeddings: the head is the embedding table, quantized by no one
QWEN2 = ("qwen2", "Qwen2ForCausalLM", dict(vocab_size=97, hidden_size=48, intermediate_size=72, num_hidden_layers=2,
                                            num_attention_heads=4, num_key_value_heads=2, tie_word_embeddings=True))


def _config(case):
    family, arch, fields = case
    return transformers.AutoConfig.for_model(family, architectures=[arch], **fields)


def _imported(case):
    config = _config(case)
    return symparams.parse(program(json.loads(config.to_json_string()), "config.json"), "config.json")


def _at(model, expr, B=None, **sets) -> int:
    values = dict(model.evaluate(sets).values)
    if B is not None:
        values[model.batch] = B
    v = sp.sympify(expr).xreplace(values)
    assert v.is_Integer, v
    return int(v)


def _parts(model, name="inference_memory", per_batch=False, **options) -> dict:
    fig = symparams.quantities.figure(model, name, opts=symparams.quantities.options(**options), per_batch=per_batch)
    return {part: _at(model, e) for part, e in fig.parts}


def _storages(tensors) -> int:
    """Bytes of the distinct storages among `tensors` (a storage two tensors share counted once)."""
    seen = {}
    for t in tensors:
        if isinstance(t, torch.Tensor):
            s = t.untyped_storage()
            seen[s.data_ptr(), s.nbytes()] = s.nbytes()
    return sum(seen.values())


def _state_tensors(state):
    """Every tensor a bitsandbytes QuantState holds (its nested state2's too)."""
    if state is None:
        return []
    out = [state.absmax, state.code, getattr(state, "offset", None)]
    if getattr(state, "state2", None) is not None:
        out += _state_tensors(state.state2)
    return [t for t in out if isinstance(t, torch.Tensor)]


def _library_bytes(model) -> tuple[int, int]:
    """(bytes of every storage the quantized model keeps for its weights, of those of its quantized layers)."""
    everything, quantized = [], []
    for module in model.modules():
        for p in module.parameters(recurse=False):
            extra = _state_tensors(getattr(p, "quant_state", None)) + \
                [t for t in (getattr(p, "SCB", None), getattr(p, "CB", None)) if t is not None]
            everything += [p, *extra]
            if extra:
                quantized += [p, *extra]
    return _storages(everything), _storages(quantized)


@contextlib.contextmanager
def _quiet():
    with contextlib.redirect_stderr(io.StringIO()):
        yield


def _quantized(case, tmp_path, config):
    family, arch, _ = case
    torch.manual_seed(0)
    getattr(transformers, arch)._from_config(_config(case)).to(torch.bfloat16).save_pretrained(tmp_path)
    with _quiet():
        return getattr(transformers, arch).from_pretrained(tmp_path, dtype=torch.bfloat16, device_map="cpu",
                                                           quantization_config=config)


# ---------------------------------------------------------------- weights as the libraries store them

@pytest.mark.parametrize("case", [LLAMA, QWEN2], ids=["llama", "qwen2-tied"])
@pytest.mark.parametrize("double", [False, True])
def test_nf4_weights_are_what_transformers_bitsandbytes_keeps(case, double, tmp_path):
    real = _quantized(case, tmp_path, transformers.BitsAndBytesConfig(
        load_in_4bit=True, bnb_4bit_quant_type="nf4", bnb_4bit_use_double_quant=double,
        bnb_4bit_compute_dtype=torch.bfloat16))
    # transformers' choice: every nn.Linear but the head is a Linear4bit
    kinds = {n: type(m).__name__ for n, m in real.named_modules() if isinstance(m, torch.nn.Linear)}
    assert {n for n, k in kinds.items() if k != "Linear4bit"} == {"lm_head"}
    everything, quantized = _library_bytes(real)
    model = _imported(case)
    parts = _parts(model, weights_dtype="nf4", double_quant=double)
    ours = {k: v for k, v in parts.items() if k not in ("kv_cache",) and not k.startswith("working set")}
    assert sum(ours.values()) == everything
    assert sum(v for k, v in ours.items() if k != "weights at bfloat16") == quantized
    absmax = "absmax (uint8 per 64)" if double else "absmax (float32 per 64)"
    states = [s for m in real.modules() for p in m.parameters(recurse=False)
              for s in [getattr(p, "quant_state", None)] if s is not None]
    assert parts[absmax] == _storages(s.absmax for s in states)
    assert parts["NF4 code (16 float32 per tensor)"] == _storages(s.code for s in states)


@pytest.mark.parametrize("shape", [(7, 9), (300, 130), (513, 2049)])
@pytest.mark.parametrize("block", [32, 128, 4096])
@pytest.mark.parametrize("double", [False, True])
def test_one_nf4_tensor_is_quantize_4bit(shape, block, double):
    from symparams.quantities.finetune import quantized_tensor
    import bitsandbytes.functional as F
    with _quiet():
        packed, state = F.quantize_4bit(torch.randn(*shape), blocksize=block, quant_type="nf4",
                                        compress_statistics=double)
    ours = {k: int(v) for k, v in quantized_tensor("nf4", shape[1], shape[0], block, double).items()}
    assert ours["packed"] == _storages([packed])
    assert ours["absmax"] == _storages([state.absmax])
    assert ours["code"] == _storages([state.code])
    assert ours.get("double", 0) == _storages(_state_tensors(state)) - _storages([state.absmax, state.code])


def test_int8_weights_are_what_transformers_llm_int8_keeps(tmp_path):
    real = _quantized(LLAMA, tmp_path, transformers.BitsAndBytesConfig(load_in_8bit=True))
    kinds = {n: type(m).__name__ for n, m in real.named_modules() if isinstance(m, torch.nn.Linear)}
    assert {n for n, k in kinds.items() if k != "Linear8bitLt"} == {"lm_head"}
    everything, _ = _library_bytes(real)
    model = _imported(LLAMA)
    parts = _parts(model, weights_dtype="int8")
    scb = _storages(p.SCB for p in real.parameters() if getattr(p, "SCB", None) is not None)
    assert parts["SCB (float32 per output row)"] == scb
    assert parts["weights at int8"] + parts["SCB (float32 per output row)"] + parts["weights at bfloat16"] == everything


@pytest.mark.parametrize("block", [None, 32])
def test_fp8_weights_are_transformers_fp8_linear(block):
    from transformers.integrations.finegrained_fp8 import replace_with_fp8_linear
    from transformers.quantizers.base import get_keys_to_not_convert
    case = ("llama", "LlamaForCausalLM", dict(LLAMA[2], attention_bias=False, hidden_size=160, intermediate_size=200,
                                              num_attention_heads=5, num_key_value_heads=1))
    with torch.device("meta"):
        real = transformers.LlamaForCausalLM._from_config(_config(case), dtype=torch.bfloat16)
    config = transformers.FineGrainedFP8Config(**({"weight_block_size": (block, block)} if block else {}))
    with _quiet():
        replace_with_fp8_linear(real, get_keys_to_not_convert(real), config)
    fp8 = [m for m in real.modules() if type(m).__name__ == "FP8Linear"]
    assert len(fp8) == 2 * 7
    nbytes = lambda ts: sum(t.numel() * t.element_size() for t in ts)  # noqa: E731  (meta: no storage)
    scales = nbytes(m.weight_scale_inv for m in fp8)
    model = _imported(case)
    parts = _parts(model, weights_dtype="fp8", group_size=block)
    b = block or 128
    assert parts[f"weight_scale_inv (float32 per {b}x{b} block)"] == scales
    assert parts["weights at float8_e4m3fn"] == nbytes(m.weight for m in fp8)
    assert sum(v for k, v in parts.items() if k.startswith(("weights", "weight_scale"))) == nbytes(real.parameters())


def test_quantized_options_are_refused_where_they_make_no_sense():
    model = _imported(LLAMA)
    with pytest.raises(ArgumentError, match="power of two"):
        model.quantity("inference_memory", weights_dtype="nf4", group_size=48)
    with pytest.raises(ArgumentError, match="one scale per output row"):
        model.quantity("inference_memory", weights_dtype="int8", group_size=64)
    with pytest.raises(ArgumentError, match="double-quant"):
        model.quantity("inference_memory", weights_dtype="int8", double_quant=True)


# ---------------------------------------------------------------- 8-bit Adam

ADAM8 = ("llama", "LlamaForCausalLM", dict(vocab_size=97, hidden_size=64, intermediate_size=96, num_hidden_layers=2,
                                            num_attention_heads=4, num_key_value_heads=2, attention_bias=True))


GPT2_ADAM8 = ("gpt2", "GPT2LMHeadModel", dict(vocab_size=97, n_embd=48, n_layer=2, n_head=4, n_positions=100))


@pytest.mark.parametrize("optimizer,case", [("Adam8bit", ADAM8), ("PagedAdamW8bit", ADAM8), ("AdamW8bit", GPT2_ADAM8)],
                         ids=["llama", "llama-paged", "gpt2"])
def test_adam8bit_state_is_bitsandbytes(optimizer, case):
    """Llama: q_proj 64 x 64 is exactly min_8bit_size (4096): 8-bit; k_proj 2048 and the norms and
    biases stay float32; the embedding and the MLP's blocks of 256 end in a partial block. GPT-2: its
    LayerNorms' two tensors each, the fused c_attn, the tied head (one tensor, once)."""
    torch.manual_seed(0)
    real = getattr(transformers, case[1])._from_config(_config(case))
    with _quiet():
        opt = getattr(bnb.optim, optimizer)(real.parameters(), lr=1e-3)
        tokens = torch.randint(1, 97, (1, 6))
        real(input_ids=tokens, labels=tokens).loss.backward()
        opt.step()
    state = _storages(t for s in opt.state.values() for t in s.values())
    model = _imported(case)
    parts = _parts(model, "training_memory", optimizer="adam8bit", precision="bf16")
    assert parts["optimizer states"] == state
    mixed = _parts(model, "training_memory", optimizer="adam8bit", precision="mixed")
    assert mixed["optimizer states"] == state + 4 * _at(model, model.params)   # and the fp32 master copy


def test_adam8bit_refuses_partitions():
    model = _imported(ADAM8)
    with pytest.raises(ArgumentError, match="adam8bit"):
        model.quantity("training_memory", optimizer="adam8bit", dp=4, zero=1)


def test_lora_adam8bit_state_is_bitsandbytes():
    peft = pytest.importorskip("peft")
    torch.manual_seed(0)
    base = transformers.LlamaForCausalLM._from_config(_config(ADAM8)).to(torch.bfloat16)
    wrapped = peft.get_peft_model(base, peft.LoraConfig(r=64, target_modules=["q_proj", "v_proj"]))
    trained = [p for p in wrapped.parameters() if p.requires_grad]
    with _quiet():
        opt = bnb.optim.AdamW8bit(trained, lr=1e-3)
        tokens = torch.randint(1, 97, (1, 6))
        wrapped(input_ids=tokens, labels=tokens).loss.backward()
        opt.step()
    state = _storages(t for s in opt.state.values() for t in s.values())
    parts = _parts(_imported(ADAM8), "training_memory", optimizer="adam8bit", lora_rank=64,
                   lora_targets=("q_proj", "v_proj"))
    assert parts["optimizer states"] == state


# ---------------------------------------------------------------- the working set of a prefill

class Largest(TorchDispatchMode):
    """The largest storage an aten op creates (an output whose storage none of its inputs holds)."""

    def __init__(self):
        super().__init__()
        self.largest = 0

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        out = func(*args, **(kwargs or {}))
        given = {t.untyped_storage().data_ptr() for t in tree_flatten((args, kwargs))[0] if isinstance(t, torch.Tensor)}
        for t in tree_flatten(out)[0]:
            if isinstance(t, torch.Tensor) and t.untyped_storage().data_ptr() not in given:
                self.largest = max(self.largest, t.untyped_storage().nbytes())
        return out


WORKING = [
    ("llama", "LlamaForCausalLM", dict(vocab_size=97, hidden_size=32, intermediate_size=40, num_hidden_layers=2,
                                        num_attention_heads=4, num_key_value_heads=2)),
    ("qwen2", "Qwen2ForCausalLM", dict(vocab_size=61, hidden_size=32, intermediate_size=88, num_hidden_layers=2,
                                        num_attention_heads=4, num_key_value_heads=2)),
    ("gpt2", "GPT2LMHeadModel", dict(vocab_size=50, n_embd=32, n_layer=2, n_head=4, n_positions=64)),
    ("mistral", "MistralForCausalLM", dict(vocab_size=53, hidden_size=32, intermediate_size=24, num_hidden_layers=2,
                                            num_attention_heads=4, num_key_value_heads=2, head_dim=12,
                                            sliding_window=4)),
]


@pytest.mark.parametrize("case", WORKING, ids=[c[0] for c in WORKING])
@pytest.mark.parametrize("attention", ["eager", "sdpa"])
@pytest.mark.parametrize("T,B,dtype", [(5, 2, "float32"), (40, 2, "bfloat16"), (3, 1, "float32")])
def test_working_set_is_the_largest_tensor_of_a_prefill(case, attention, T, B, dtype):
    family, arch, fields = case
    torch.manual_seed(0)
    real = getattr(transformers, arch)._from_config(_config(case), attn_implementation=attention)
    real = real.to(getattr(torch, dtype)).eval()
    tokens = torch.randint(1, 50, (B, T + 1))
    with torch.no_grad():
        with Largest() as prefill:
            out = real(input_ids=tokens[:, :T], use_cache=True, logits_to_keep=1)   # as generate prefills
        cache = out.cache if "cache" in out else out.past_key_values
        with Largest() as decode:
            real(input_ids=tokens[:, T:], cache=cache, use_cache=True)
    model = _imported(case)
    fig = symparams.quantities.figure(model, "inference_memory", per_batch=True, opts=symparams.quantities.options(
        weights_dtype=dtype, attention=attention))
    work = dict(fig.parts)[f"working set ({attention} attention)"]
    assert _at(model, work, B=B, sequence_length=T) == max(prefill.largest, decode.largest)


# ---------------------------------------------------------------- MFU and pipeline stages' FLOPs

def test_mfu_counts_flopcountermode_flops_per_token():
    from flops_reference import runtime_forward_flops, runtime_training_flops
    from symparams.quantities.inference import flops_per_token, mfu
    case = WORKING[0]
    config = json.loads(_config(case).to_json_string())
    model = _imported(case)
    T, B = 12, 2
    values = model.evaluate({"sequence_length": T}).values
    training = runtime_training_flops(config, T, B)
    assert flops_per_token(model, "training").xreplace(values) == sp.Rational(training, B * T)
    prefill = runtime_forward_flops(config, T, B)
    assert flops_per_token(model, "prefill").xreplace(values) == sp.Rational(prefill, B * T)
    # a measured throughput, as a decimal: exactly tokens/s x FLOPs a token / peak
    got = mfu(model, "1523.4", 10**12).xreplace(values)
    assert got == sp.Rational(15234, 10) * sp.Rational(training, B * T) / 10**12
    assert mfu(model, 1000, 10**12, devices=4).xreplace(values) == sp.Rational(1000 * training, B * T * 4 * 10**12)
    with pytest.raises(ArgumentError):
        mfu(model, 0, 10**12)


def test_the_command_gives_the_mfu_of_a_measured_throughput(tmp_path, capsys):
    """`formula --of training_flops --tokens-per-second R --peak-flops P --devices N`: R tokens/s x
    the training FLOPs FlopCounterMode counts per token, over N x P."""
    from flops_reference import runtime_training_flops
    from symparams.cli import main
    case = WORKING[0]
    config = json.loads(_config(case).to_json_string())
    (tmp_path / "config.json").write_text(json.dumps(config))
    T, B = 12, 2
    per_token = sp.Rational(runtime_training_flops(config, T, B), B * T)
    code = main(["formula", str(tmp_path), "--of", "training_flops", "--set", f"sequence_length={T}",
                 "--tokens-per-second", "2500", "--peak-flops", "1e12", "--devices", "4", "--format", "json"])
    out = json.loads(capsys.readouterr().out)
    assert code == 0 and out["mfu"]["value"] == pytest.approx(float(2500 * per_token / (4 * 10**12)), rel=1e-12)
    assert main(["formula", str(tmp_path), "--of", "params", "--tokens-per-second", "5", "--peak-flops", "1e12"]) == 2
    assert "use it with --of training_flops" in capsys.readouterr().err


def test_pipeline_stages_are_flopcountermode_per_module():
    """4 layers over 2 stages: the first runs the embedding and layers 0-1, the last layers 2-3, the
    final norm and the head; FlopCounterMode's per-module counts (forward and backward) of each."""
    from flops_reference import count
    from symparams import accounting
    case = ("llama", "LlamaForCausalLM", dict(WORKING[0][2], num_hidden_layers=4))
    config = json.loads(_config(case).to_json_string())
    model = _imported(case)
    T, B = 8, 2
    counts = count(config, T, B).get_flop_counts()
    flops = {k: sum(v.values()) for k, v in counts.items()}
    layers = [flops.get(f"LlamaForCausalLM.model.layers.{i}", 0) for i in range(4)]
    head = flops.get("LlamaForCausalLM.lm_head", 0)
    assert sum(layers) + head == flops["Global"]
    stages = accounting.stage_flops(model, 2, batch=model.batch)
    values = {**model.evaluate({"sequence_length": T}).values, model.batch: B}
    got = {k: int(sp.sympify(v).xreplace(values)) for k, v in stages.items()}
    assert got["first"] == layers[0] + layers[1]
    assert got["last"] == layers[2] + layers[3] + head
    fig = symparams.quantities.figure(model, "training_flops", opts=symparams.quantities.options(pp=2),
                                      per_batch=True)
    assert int(sp.sympify(fig.total).xreplace(values)) == max(got["first"], got["last"])
    with pytest.raises(symparams.errors.ValueProblem, match="pipeline stages"):
        fig3 = symparams.quantities.figure(model, "training_flops", opts=symparams.quantities.options(pp=3))
        fig3.check(values)


# ---------------------------------------------------------------- solve: a device count is minimized

def _cli(*argv) -> str:
    from symparams.cli import main
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        main([str(a) for a in argv])
    return out.getvalue()


def test_a_device_count_is_minimized_by_default():
    path = "examples/zoo/llama2_70b.sp"
    args = ("solve", path, "--of", "training_memory", "--for", "N", "--budget", "80e9", "--zero", "3", "--dp", "N")
    default = _cli(*args)
    assert default == _cli(*args, "--minimize")
    assert default.startswith("N = 14\n") and "the smallest N" in default
    assert "however large N grows" in _cli(*args, "--maximize")
    assert json.loads(_cli(*args, "--format", "json"))[0]["direction"] == "min"
    # a size is still maximized
    assert "the largest B" in _cli("solve", "examples/zoo/llama2_7b.sp", "--of", "training_memory", "--with-activations", "--per-batch",
                                    "--for", "B", "--budget", "80e9", "--dp", "8", "--zero", "3", "--recompute", "full")


# ---------------------------------------------------------------- peers (docs/llm.md, Beside other tools)

def test_accelerate_counts_qwen2s_tied_head_twice():
    """accelerate estimate-memory's own functions, offline: AutoModel (no head) and the causal LM,
    whose head comes untied on the meta device and is counted again."""
    pytest.importorskip("accelerate")
    from pathlib import Path
    from accelerate import init_empty_weights
    from accelerate.commands.estimate import estimate_training_usage
    from accelerate.utils import calculate_maximum_sizes
    root = Path(__file__).resolve().parent.parent / "examples" / "hf" / "qwen2-0.5b"
    config = transformers.AutoConfig.from_pretrained(root)
    sizes = {}
    for constructor in (transformers.AutoModel, transformers.AutoModelForCausalLM):
        with init_empty_weights(), _quiet():
            built = constructor.from_config(config, dtype=torch.float32)
        sizes[constructor.__name__] = calculate_maximum_sizes(built)[0]
    assert sizes == {"AutoModel": 1_976_131_328, "AutoModelForCausalLM": 2_520_669_952}
    assert estimate_training_usage(sizes["AutoModel"], "float32")["step"] == 7_904_525_312
    from symparams.interpreter import read
    model = read(root).model(None, None)
    assert _at(model, model.params) == 494_032_768 == (sizes["AutoModel"] - 256) // 4
    assert _at(model, model.quantity("training_memory", precision="fp32")) == 7_904_524_288
