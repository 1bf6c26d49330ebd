"""Large-model accounting (symparams/accounting.py) against real references: FLOPs as PyTorch's
FlopCounterMode counts them (forward, backward, recomputation with torch.utils.checkpoint), the KV
cache a transformers model really keeps, the bytes autograd saves, and the papers' closed forms."""
from pathlib import Path

import pytest
import sympy as sp
import torch
from torch import nn
from torch.utils.checkpoint import checkpoint
from torch.utils.flop_counter import FlopCounterMode

import symparams
from symparams import accounting, quantities
from symparams.cli import main
from symparams.dims import symbol

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
SMALL = dict(V=97, T=16, d=32, L=2, h=4)


def value(model, expr, **sizes):
    return int(sp.sympify(expr).xreplace(model.evaluate(sizes).values))


# ---------------------------------------------------------------- a GPT in torch, as examples/gpt2.sp

class Layer(nn.Module):
    def __init__(self, d, h, p=0.0, selective=False):
        super().__init__()
        self.h, self.p, self.selective = h, p, selective
        self.ln_1, self.qkv, self.proj = nn.LayerNorm(d), nn.Linear(d, 3 * d), nn.Linear(d, d)
        self.ln_2, self.fc, self.out = nn.LayerNorm(d), nn.Linear(d, 4 * d), nn.Linear(4 * d, d)

    def scores(self, q, k, v):
        """Softmax(QK^T / sqrt(dk)) V: what selective recomputation recomputes."""
        w = torch.softmax(q @ k.transpose(-2, -1) * q.shape[-1] ** -0.5, dim=-1)
        return nn.functional.dropout(w, self.p, self.training) @ v

    def forward(self, x):
        b, t, d = x.shape
        q, k, v = (z.view(b, t, self.h, d // self.h).transpose(1, 2) for z in self.qkv(self.ln_1(x)).split(d, -1))
        y = checkpoint(self.scores, q, k, v, use_reentrant=True) if self.selective else self.scores(q, k, v)
        y = y.transpose(1, 2).reshape(b, t, d)
        x = x + nn.functional.dropout(self.proj(y), self.p, self.training)
        m = self.out(nn.functional.gelu(self.fc(self.ln_2(x))))
        return x + nn.functional.dropout(m, self.p, self.training)


class GPT(nn.Module):
    def __init__(self, V, T, d, L, h, recompute="none"):
        super().__init__()
        self.full = recompute == "full"
        self.wte, self.wpe = nn.Embedding(V, d), nn.Embedding(T, d)
        self.layers = nn.ModuleList(Layer(d, h, selective=recompute == "selective") for _ in range(L))
        self.ln_f = nn.LayerNorm(d)

    def forward(self, tokens):
        x = self.wte(tokens) + self.wpe(torch.arange(tokens.shape[1]))
        for layer in self.layers:
            x = checkpoint(layer, x, use_reentrant=True) if self.full else layer(x)
        return self.ln_f(x) @ self.wte.weight.T       # the tied LM head


def counted_flops(model, tokens, backward: bool) -> int:
    with FlopCounterMode(display=False) as counter:
        logits = model(tokens)
        if backward:
            logits.sum().backward()
    return counter.get_total_flops()


@pytest.mark.parametrize("batch", [1, 3])
def test_forward_flops_match_flop_counter(batch):
    m = symparams.load(EXAMPLES / "gpt2.sp")
    tokens = torch.randint(0, SMALL["V"], (batch, SMALL["T"]))
    expected = counted_flops(GPT(**SMALL), tokens, backward=False)
    assert value(m, batch * 2 * m.macs, **SMALL) == expected


@pytest.mark.parametrize("recompute", ["none", "selective", "full"])
def test_training_flops_match_flop_counter_with_checkpointing(recompute):
    """Forward + backward, with the recomputation torch.utils.checkpoint really does."""
    m = symparams.load(EXAMPLES / "gpt2.sp")
    tokens = torch.randint(0, SMALL["V"], (2, SMALL["T"]))
    expected = counted_flops(GPT(**SMALL, recompute=recompute), tokens, backward=True)
    got = accounting.training_flops(m, recompute, batch=m.batch)
    assert int(got.xreplace({**m.evaluate(SMALL).values, m.batch: 2})) == expected


def test_megatron_equation_3_exactly():
    """Narayanan et al. 2021, Eq. 3: full recomputation of every transformer layer. Exact for the
    GPT as written (biases and LayerNorms have no matrix products, so they add no FLOPs here, as
    in the paper); the logit layer is not recomputed, hence 6BsVh rather than 8BsVh."""
    m = symparams.load(EXAMPLES / "megatron_gpt.sp")
    B, s, l, h, V = m.batch, *(m.symbols[k] for k in ("s", "l", "h", "V"))
    eq3 = 96 * B * s * l * h ** 2 * (1 + s / (6 * h) + V / (16 * l * h))
    assert sp.expand(accounting.training_flops(m, "full", B) - eq3) == 0
    assert sp.expand(accounting.training_flops(m, "none", B) - 3 * B * 2 * m.macs) == 0
    for path in (EXAMPLES / "gpt2.sp", EXAMPLES / "zoo" / "gpt2.sp"):     # GPT-2 with biases, as Hugging Face's
        g = symparams.load(path)
        B, s, l, h, V = g.batch, *(g.symbols[k] for k in ("T", "L", "d", "V"))
        eq3 = 96 * B * s * l * h ** 2 * (1 + s / (6 * h) + V / (16 * l * h))
        assert sp.expand(accounting.training_flops(g, "full", B) - eq3) == 0


def test_approximations_beside_the_exact_count(capsys):
    assert main(["formula", str(EXAMPLES / "gpt2.sp"), "--of", "training_flops", "--approx", "--format", "json"]) == 0
    import json
    res = json.loads(capsys.readouterr().out)
    m = symparams.load(EXAMPLES / "gpt2.sp")
    assert res["approximations"]["6N"]["value"] == 6 * 124_439_808 * 1024
    T, d, L = 1024, 768, 12      # PaLM's 12·L·H·Q·T per token, H·Q = d here
    assert res["approximations"]["6N + 12LHQT"]["value"] == (6 * 124_439_808 + 12 * L * d * T) * T
    assert res["value"] == value(m, accounting.training_flops(m))


# ---------------------------------------------------------------- active parameters

def test_active_parameters():
    mixtral = symparams.load(EXAMPLES / "zoo" / "mixtral_8x7b.sp")
    assert mixtral.evaluate().number(mixtral.active) == 12_879_925_248      # Mistral's "12.9B active"
    gpt = symparams.load(EXAMPLES / "gpt2.sp")
    assert sp.expand(gpt.active - gpt.params) == 0
    assert all(r.active == r.params == accounting.active(r) for r in gpt.rows)   # no None without experts
    assert sp.expand(sp.Add(*[r.active for r in mixtral.rows]) - mixtral.active) == 0


def test_summary_shows_active_only_where_it_differs(capsys):
    main(["summary", str(EXAMPLES / "zoo" / "mixtral_8x7b.sp")])
    assert "Active params (one token): 12,879,925,248" in capsys.readouterr().out
    main(["summary", str(EXAMPLES / "gpt2.sp")])
    assert "Active" not in capsys.readouterr().out


# ---------------------------------------------------------------- KV cache

def test_kv_cache_matches_transformers_past_key_values():
    """A tiny Llama with grouped-query attention, on the meta device: the cache it returns."""
    transformers = pytest.importorskip("transformers")
    sizes = dict(V=128, T=24, d=64, L=3, hq=8, hkv=2, ff=96)
    config = transformers.LlamaConfig(vocab_size=sizes["V"], hidden_size=sizes["d"], num_hidden_layers=sizes["L"],
                                      num_attention_heads=sizes["hq"], num_key_value_heads=sizes["hkv"],
                                      intermediate_size=sizes["ff"], max_position_embeddings=sizes["T"])
    with torch.device("meta"):
        model = transformers.LlamaForCausalLM(config).to(torch.bfloat16)
        out = model(torch.zeros(2, sizes["T"], dtype=torch.long), use_cache=True)
    cache = out.past_key_values
    kept = sum(t.numel() * t.element_size() for layer in cache.layers for t in (layer.keys, layer.values))
    m = symparams.load(EXAMPLES / "zoo" / "llama2_70b.sp")
    assert value(m, accounting.kv_cache(m, "bfloat16", batch=2).xreplace({m.batch: 2}), **sizes) == kept


def test_kv_cache_closed_form():
    m = symparams.load(EXAMPLES / "zoo" / "llama2_70b.sp")
    L, T, d, hq, hkv = (m.symbols[k] for k in ("L", "T", "d", "hq", "hkv"))
    assert sp.simplify(accounting.kv_cache(m, "bfloat16") - 2 * L * T * hkv * (d / hq) * 2) == 0


# ---------------------------------------------------------------- activations

def compute(row, of, batch=1, **given):
    """A quantity of one row (a layer or block of the model), as `formula --layer` gives it."""
    o = quantities.options(dtype="bfloat16", **given)
    if of == "activations":
        return accounting.activations(row, o.keeping(o.dtype), batch)
    raise ValueError(of)


def test_korthikanti_activations_per_layer():
    """Korthikanti et al. 2022, section 4: a GPT layer at 16 bits, with dropout."""
    m = symparams.load(EXAMPLES / "megatron_gpt.sp")
    b, s, h, a, l = m.batch, *(m.symbols[k] for k in ("s", "h", "a", "l"))
    layer = m.row("gpt_layer_1")
    assert sp.expand(compute(layer, "activations", rule="korthikanti", batch=b) - (34 * s * b * h + 5 * a * s ** 2 * b)) == 0
    assert sp.expand(compute(layer, "activations", rule="korthikanti", recompute="selective", batch=b) - 34 * s * b * h) == 0
    repeat = m.row("repeat_1")
    assert sp.expand(compute(repeat, "activations", rule="korthikanti", recompute="full", batch=b) - 2 * s * b * h * l) == 0


def saved_bytes(module, x) -> tuple[int, dict]:
    """Bytes of the tensors autograd saves for backward (parameters left out, each storage once)."""
    params = {p.untyped_storage().data_ptr() for p in module.parameters()}
    storages = {}

    def pack(t):
        key = t.untyped_storage().data_ptr()
        if key not in params:
            storages[key] = (t.untyped_storage().nbytes(), t.dtype)
        return t
    with torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t):
        module(x)
    return sum(n for n, _ in storages.values()), storages


def test_autograd_keeps_the_paper_count_plus_norm_statistics_and_wider_masks():
    """What PyTorch (CPU) really saves for a GPT layer in bfloat16 with dropout: Korthikanti's count,
    plus each LayerNorm's mean and reciprocal standard deviation (one number per position each),
    and dropout masks kept at the data's 2 bytes where the paper (and CUDA's fused dropout, a bool
    mask) has 1: a*s*s*b more for the attention's mask, s*b*h more for each of the other two."""
    s, b, h, a = 32, 2, 64, 4
    torch.manual_seed(0)
    layer = Layer(h, a, p=0.1).to(torch.bfloat16).train()
    x = torch.randn(b, s, h, dtype=torch.bfloat16, requires_grad=True)
    measured, _ = saved_bytes(layer, x)
    paper = 34 * s * b * h + 5 * a * s * s * b
    norm_statistics = 2 * 2 * s * b * 2
    wider_masks = a * s * s * b + 2 * s * b * h
    assert measured == paper + norm_statistics + wider_masks
    m = symparams.load(EXAMPLES / "megatron_gpt.sp")
    layer_row = m.row("gpt_layer_1")
    assert value(m, compute(layer_row, "activations", rule="korthikanti", batch=b).xreplace({m.batch: b}),
                 s=s, h=h, a=a, l=1, V=8) == paper


# ---------------------------------------------------------------- training memory

@pytest.mark.parametrize("zero,per_device", [(0, "16*P"), (1, "4*P + 12*P/N"), (2, "2*P + 14*P/N"), (3, "16*P/N")])
def test_zero_model_states(zero, per_device):
    """Rajbhandari et al. 2020, section 5: mixed-precision Adam keeps 2 + 2 + 12 bytes a parameter."""
    m = symparams.load(EXAMPLES / "gpt2.sp")
    N, P = symbol("N"), m.params
    expected = {"16*P": 16 * P, "4*P + 12*P/N": 4 * P + 12 * P / N, "2*P + 14*P/N": 2 * P + 14 * P / N,
                "16*P/N": 16 * P / N}[per_device]
    got = quantities.compute(m, "training_memory", optimizer="adam", precision="mixed", dp=N, zero=zero)
    assert sp.expand(got - expected) == 0


@pytest.mark.parametrize("optimizer,precision,per_param", [("sgd", "fp32", 8), ("sgd_momentum", "fp32", 12),
                                                           ("adamw", "fp32", 16), ("adam", "bf16", 8),
                                                           ("sgd", "mixed", 8)])   # adam8bit: tests/test_quantized.py
def test_bytes_per_parameter(optimizer, precision, per_param):
    m = symparams.load(EXAMPLES / "gpt2.sp")
    got = quantities.compute(m, "training_memory", optimizer=optimizer, precision=precision)
    assert sp.expand(got - per_param * m.params) == 0


def test_bad_choices_are_argument_errors(capsys):
    assert main(["formula", str(EXAMPLES / "gpt2.sp"), "--of", "training_memory", "--zero", "3"]) == 2
    assert "--dp" in capsys.readouterr().err
    assert main(["formula", str(EXAMPLES / "gpt2.sp"), "--of", "training_flops", "--tokens", "1000"]) == 2
    assert "whole number of examples" in capsys.readouterr().err
    assert main(["formula", str(EXAMPLES / "gpt2.sp"), "--of", "params", "--minus", "2*d +"]) == 2


# ---------------------------------------------------------------- questions in one command

def run(capsys, *argv) -> str:
    main([str(a) for a in argv])
    return capsys.readouterr().out


def test_largest_batch_for_llama2_7b_on_80gb_under_zero3(capsys):
    out = run(capsys, "solve", EXAMPLES / "zoo" / "llama2_7b.sp", "--of", "training_memory", "--with-activations",
              "--per-batch", "--for", "B", "--budget", "80e9", "--dp", "8", "--zero", "3", "--recompute", "full")
    assert out.startswith("B = 55\n")
    m = symparams.load(EXAMPLES / "zoo" / "llama2_7b.sp")
    mem = quantities.compute(m, "training_memory", per_batch=True, dp=8, zero=3, with_activations=True, recompute="full")
    at = m.evaluate().values
    assert mem.xreplace({**at, m.batch: 55}) <= 80e9 < mem.xreplace({**at, m.batch: 56})


def test_largest_mixtral_width_under_13b_active(capsys):
    out = run(capsys, "solve", EXAMPLES / "zoo" / "mixtral_8x7b.sp", "--of", "active", "--for", "d",
              "--budget", "13e9", "--multiple-of", "128")
    assert out.startswith("d = 4096\n") and "the next admissible d, 4224, gives 13,325,676,672" in out


def test_kv_cache_of_llama2_70b_at_32k_tokens(capsys):
    out = run(capsys, "formula", EXAMPLES / "zoo" / "llama2_70b.sp", "--of", "kv_cache", "--dtype", "bfloat16",
              "--set", "T=32768")
    assert "= 10,737,418,240 bytes (10.00 GB)" in out       # 2 * 80 * 32768 * 8 * 128 * 2


def test_gpt3_training_flops_and_days(capsys):
    out = run(capsys, "formula", EXAMPLES / "gpt2.sp", "--of", "training_flops", "--set", "d=12288", "L=96", "h=96",
              "T=2048", "--tokens", "300e9", "--throughput", "150e12", "--devices", "1024", "--format", "json")
    import json
    res = json.loads(out)
    V, T, d, L = 50257, 2048, 12288, 96
    assert res["values"]["B"] == 300_000_000_000 // T
    assert res["value"] == 3 * res["values"]["B"] * 2 * (L * (12 * T * d * d + 2 * T * T * d) + T * V * d)
    assert res["days"] == pytest.approx(res["value"] / (150e12 * 1024) / 86400)
    assert round(res["days"], 1) == 24.3


# ---------------------------------------------------------------- docs/llm.md's commands give what it shows

def doc_commands():
    import re
    text = (EXAMPLES.parent / "docs" / "llm.md").read_text()
    out = []
    for block in re.findall(r"```console\n(.*?)```", text, re.S):
        for chunk in re.split(r"^\$ ", block, flags=re.M)[1:]:
            command, _, shown = chunk.partition("\n")
            out.append((command, shown))
    return out


@pytest.mark.parametrize("command,shown", doc_commands(), ids=lambda c: c[:60] if isinstance(c, str) else None)
def test_docs_llm_commands(command, shown, capsys, monkeypatch):
    import shlex
    monkeypatch.chdir(EXAMPLES.parent)
    argv = shlex.split(command)
    assert argv[0] == "symparams"
    main(argv[1:])
    assert capsys.readouterr().out == shown


# ---------------------------------------------------------------- every command reaches the quantities

def test_sweep_columns(capsys):
    out = run(capsys, "sweep", EXAMPLES / "zoo" / "mixtral_8x7b.sp", "--vary", "L=16,32",
              "--of", "params,active,kv_cache,training_flops,activations,training_memory", "--dtype", "bfloat16",
              "--recompute", "selective", "--dp", "8", "--zero", "2")
    header, *lines = out.strip().splitlines()
    assert header == "L,params,active,kv_cache,training_flops,activations,training_memory"
    m = symparams.load(EXAMPLES / "zoo" / "mixtral_8x7b.sp")
    last = [int(v) for v in lines[-1].split(",")]
    assert last[1:4] == [46_702_792_704, 12_879_925_248, 2 * 32 * 4096 * 8 * 128 * 2]
    assert last[4] == value(m, accounting.training_flops(m, "selective"))
    assert last[6] == value(m, quantities.compute(m, "training_memory", dp=8, zero=2))


def test_formula_latex_and_json(capsys):
    out = run(capsys, "formula", EXAMPLES / "megatron_gpt.sp", "--of", "activations", "--layer", "gpt_layer_1",
              "--dtype", "bfloat16", "--per-batch", "--rule", "korthikanti", "--format", "latex")
    assert out.strip() == r"B s \left(5 a s + 34 h\right) = 663{,}748{,}608 \quad \text{(bfloat16, korthikanti)}"
    import json
    res = json.loads(run(capsys, "formula", EXAMPLES / "gpt2.sp", "--of", "training_memory", "--dp", "4",
                         "--zero", "1", "--format", "json"))
    assert res["value"] == 4 * 124_439_808 + 12 * 124_439_808 // 4
    assert res["parts"]["optimizer states"]["value"] == 3 * 124_439_808


def test_solve_json_on_an_accounting_quantity(capsys):
    import json
    res = json.loads(run(capsys, "solve", EXAMPLES / "zoo" / "llama2_70b.sp", "--of", "kv_cache", "--dtype",
                         "bfloat16", "--for", "T", "--budget", "80e9", "--format", "json"))
    assert res[0]["value"] == 80_000_000_000 // (2 * 80 * 8 * 128 * 2)


def test_a_layer_inside_a_repeat_is_recomputed_with_it():
    m = symparams.load(EXAMPLES / "megatron_gpt.sp")
    layer = m.row("gpt_layer_1")
    assert quantities.compute(m, "training_flops", "gpt_layer_1", recompute="full") == sp.expand(8 * layer.macs)
    assert quantities.compute(m, "activations", "gpt_layer_1", dtype="bfloat16", recompute="full") == \
        2 * m.symbols["s"] * m.symbols["h"]
    assert quantities.compute(m, "activations", "gpt_layer_1/dense_1", dtype="bfloat16", recompute="full") == 0


# ---------------------------------------------------------------- tensor and pipeline parallelism

def test_parameters_per_device_match_torch_tensor_parallel():
    """Megatron's split, done by torch.distributed.tensor.parallel on a fake 4-device group: QKV and
    the first MLP matrix by columns, the attention projection and second MLP matrix by rows (their
    biases whole), the token embedding by vocabulary; norms and position embeddings whole."""
    import torch.distributed as dist
    from torch.distributed.device_mesh import init_device_mesh
    from torch.distributed.tensor.parallel import ColwiseParallel, RowwiseParallel, parallelize_module
    from torch.testing._internal.distributed.fake_pg import FakeStore
    t, sizes = 4, dict(V=96, T=16, d=32, L=2, h=4)
    dist.init_process_group("fake", rank=0, world_size=t, store=FakeStore())
    try:
        gpt = GPT(**sizes)
        plan = {"wte": RowwiseParallel()}
        for i in range(sizes["L"]):
            plan.update({f"layers.{i}.qkv": ColwiseParallel(), f"layers.{i}.proj": RowwiseParallel(),
                         f"layers.{i}.fc": ColwiseParallel(), f"layers.{i}.out": RowwiseParallel()})
        parallelize_module(gpt, init_device_mesh("cpu", (t,)), plan)
        local = sum(p.to_local().numel() if hasattr(p, "to_local") else p.numel() for p in gpt.parameters())
    finally:
        dist.destroy_process_group()
    m = symparams.load(EXAMPLES / "gpt2.sp")
    assert value(m, accounting.parameters_per_device(m, tp=t), **sizes) == local


def test_megatron_parameters_per_device_closed_form():
    m = symparams.load(EXAMPLES / "megatron_gpt.sp")
    t, p = symbol("t"), symbol("p")
    V, s, h, l = (m.symbols[k] for k in ("V", "s", "h", "l"))
    per_layer = 12 * h ** 2 / t + 7 * h / t + 6 * h      # split matrices and biases; whole biases and norms
    expected = l * per_layer / p + V * h / t + s * h + 2 * h
    assert sp.expand(accounting.parameters_per_device(m, tp=t, pp=p) - expected) == 0


def test_korthikanti_activations_with_tensor_and_sequence_parallelism():
    """Korthikanti et al. 2022, sections 4.2.1-4.2.2: sbh(10 + 24/t + 5as/(ht)) per layer with tensor
    parallelism, sbh/t (34 + 5as/h) with sequence parallelism too."""
    m = symparams.load(EXAMPLES / "megatron_gpt.sp")
    b, t, (s, h, a) = m.batch, symbol("t"), (m.symbols[k] for k in ("s", "h", "a"))
    layer = m.row("gpt_layer_1")
    tensor = compute(layer, "activations", rule="korthikanti", batch=b, tp=t)
    assert sp.expand(tensor - s * b * h * (10 + 24 / t + 5 * a * s / (h * t))) == 0
    sequence = compute(layer, "activations", rule="korthikanti", batch=b, tp=t, sequence_parallel=True)
    assert sp.expand(sequence - s * b * h / t * (34 + 5 * a * s / h)) == 0


def test_training_flops_and_kv_cache_per_tensor_parallel_device():
    m = symparams.load(EXAMPLES / "megatron_gpt.sp")
    B, t, (s, l, h, V) = m.batch, symbol("t"), (m.symbols[k] for k in ("s", "l", "h", "V"))
    eq3 = 96 * B * s * l * h ** 2 * (1 + s / (6 * h) + V / (16 * l * h))
    assert sp.expand(accounting.training_flops(m, "full", B, tp=t) - eq3 / t) == 0   # every product is split
    mixtral = symparams.load(EXAMPLES / "zoo" / "mixtral_8x7b.sp")
    T, d, E = (mixtral.symbols[k] for k in ("T", "d", "E"))
    router = mixtral.symbols["L"] * T * d * E                                      # kept whole on every device
    assert sp.expand(accounting.training_flops(mixtral, tp=t) -
                     (accounting.training_flops(mixtral) - 6 * router) / t - 6 * router) == 0
    llama = symparams.load(EXAMPLES / "zoo" / "llama2_70b.sp")
    whole = value(llama, accounting.kv_cache(llama, "bfloat16"))
    assert value(llama, accounting.kv_cache(llama, "bfloat16", tp=8)) == whole // 8
    assert value(llama, accounting.kv_cache(llama, "bfloat16", tp=16)) == whole // 8   # a head copied per device


def test_gated_mlp_activations_match_autograd():
    """Llama's MLP, down(silu(gate(x)) * up(x)): autograd keeps x, the gate's output, its silu, the up
    projection and the product -- the input and four hidden-wide tensors."""
    n, hidden, tokens = 16, 24, 10

    class MLP(nn.Module):
        def __init__(self):
            super().__init__()
            self.gate, self.up = nn.Linear(n, hidden, bias=False), nn.Linear(n, hidden, bias=False)
            self.down = nn.Linear(hidden, n, bias=False)

        def forward(self, x):
            return self.down(nn.functional.silu(self.gate(x)) * self.up(x))
    x = torch.randn(1, tokens, n, requires_grad=True)
    measured, _ = saved_bytes(MLP(), x)
    m = symparams.parse(f"model m():\n    x = input ({tokens}, {n})\n    gated_mlp({hidden})(x)\n")
    assert quantities.compute(m, "activations", dtype="float32") == measured == 4 * (tokens * n + 4 * tokens * hidden)
