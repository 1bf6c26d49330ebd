"""Offload (ZeRO-Offload, ZeRO-Infinity), expert parallelism and device counts solved for, against
real references: the bytes a mixed-precision torch.optim.AdamW step keeps, transformers' own
expert-parallel split of Mixtral's experts on a fake process group, and the exact boundary of the
smallest ZeRO-3 data-parallel count for Llama 2 70B."""
from __future__ import annotations

import re
from pathlib import Path

import pytest
import sympy as sp

import symparams
from hf_tiny import pair  # noqa: E402  (tests/ is on sys.path under pytest)
from symparams import accounting, quantities
from symparams.cli import main
from symparams.errors import ArgumentError, UnknownName

torch = pytest.importorskip("torch")
transformers = pytest.importorskip("transformers")

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"

CONFIGS = {
    "llama": ("LlamaForCausalLM", dict(vocab_size=128, hidden_size=64, intermediate_size=96, num_hidden_layers=2,
                                       num_attention_heads=4, num_key_value_heads=2)),
    "mixtral": ("MixtralForCausalLM", dict(vocab_size=128, hidden_size=64, intermediate_size=96, num_hidden_layers=2,
                                           num_attention_heads=4, num_key_value_heads=2, num_local_experts=8,
                                           num_experts_per_tok=2)),
}


def _pair(family):
    return pair(family, *CONFIGS[family])


def _value(model, expr, **sizes):
    return int(sp.sympify(expr).xreplace(model.evaluate(sizes).values))


def _bytes(tensors) -> int:
    return sum(t.numel() * t.element_size() for t in tensors)


def run(capsys, *argv) -> str:
    main([str(a) for a in argv])
    return capsys.readouterr().out


# ---------------------------------------------------------------- offload

def _offloaded_step(module, vocab=128):
    """One mixed-precision step as ZeRO-Offload runs it: bf16 weights, forward and backward on the
    device; the bf16 gradients copied to the host, where an fp32 master copy and torch.optim.AdamW's
    moments update it. (device weight bytes, host gradient bytes, host optimizer bytes: the master
    copy and the moments, torch's one-number `step` counters left out.)"""
    module = module.to(torch.bfloat16)
    params = list(module.parameters())
    master = [p.detach().float().clone().requires_grad_(True) for p in params]
    optimizer = torch.optim.AdamW(master)
    tokens = torch.randint(0, vocab, (1, 8))
    module(input_ids=tokens, labels=tokens).loss.backward()
    host_grads = [p.grad.detach().to("cpu", copy=True) for p in params]
    for m, g in zip(master, host_grads):
        m.grad = g.float()
    optimizer.step()
    moments = [t for s in optimizer.state.values() for k, t in s.items() if k != "step"]
    return _bytes(params), _bytes(host_grads), _bytes(master) + _bytes(moments)


@pytest.mark.parametrize("family", ["llama", "mixtral"])
def test_optimizer_offload_moves_the_adamw_states_and_gradients(family):
    model, reference = _pair(family)
    weights, grads, states = _offloaded_step(reference)
    fig = quantities.figure(model, "training_memory", opts=quantities.options(offload="optimizer"))
    parts = {name: _value(model, e) for name, e in fig.parts}
    assert parts == {"weights": weights, "gradients on the host": grads, "optimizer states on the host": states}
    assert _value(model, fig.total) == weights              # the device keeps its bf16 weights alone
    assert "on the host, not in the total" in fig.rule


def test_params_offload_moves_the_weights_too():
    model, reference = _pair("llama")
    weights, grads, states = _offloaded_step(reference)
    fig = quantities.figure(model, "training_memory", opts=quantities.options(offload="params"))
    assert {n: _value(model, e) for n, e in fig.parts} == {
        "weights on the host": weights, "gradients on the host": grads, "optimizer states on the host": states}
    assert fig.total == 0
    with_acts = quantities.figure(model, "training_memory", opts=quantities.options(offload="params",
                                                                                    with_activations=True))
    assert sp.expand(with_acts.total - dict(with_acts.parts)["activations"]) == 0


def test_offload_partitions_under_zero_as_the_device_would():
    """ZeRO-Offload per device (Ren et al. 2021): 2 bytes a parameter on the device, the host's 14
    split over the data-parallel devices by the ZeRO stage, as without offload."""
    m = symparams.load(EXAMPLES / "llm" / "psi.sp")
    P = m.symbols["P"]
    for zero in (1, 2, 3):
        plain = accounting.training_memory_parts(m, dp=64, zero=zero)
        moved = accounting.training_memory_parts(m, dp=64, zero=zero, offload="optimizer")
        assert (moved.weights, moved.host_gradients, moved.host_optimizer) == \
               (plain.weights, plain.gradients, plain.optimizer)
        assert moved.total == plain.weights
    assert accounting.training_memory_parts(m, offload="optimizer").total == 2 * P
    assert accounting.training_memory_parts(m, offload="optimizer").host == 14 * P


def test_offload_is_refused_with_lora_and_checked():
    model, _ = _pair("llama")
    with pytest.raises(ArgumentError, match="--offload and --ep count full training"):
        model.quantity("training_memory", lora_rank=8, lora_targets=("q_proj",), offload="optimizer")
    with pytest.raises(ArgumentError, match="unknown offload 'optimiser'"):
        quantities.options(offload="optimiser")


# ---------------------------------------------------------------- expert parallelism

def _expert_parallel_parameters(reference, ep):
    """The parameters rank 0 holds after transformers' own expert-parallel plan for Mixtral
    (`grouped_gemm`: the experts' 3-D weights sharded along the expert dimension) on a fake
    `ep`-device group; everything else (attention, router, norms, embeddings) stays whole."""
    import torch.distributed as dist
    from torch.distributed.device_mesh import init_device_mesh
    from torch.testing._internal.distributed.fake_pg import FakeStore
    from transformers.distributed.tensor_parallel import ALL_PARALLEL_STYLES
    dist.init_process_group("fake", rank=0, world_size=ep, store=FakeStore())
    try:
        mesh = init_device_mesh("cpu", (ep,))
        base = reference.model
        modules = dict(base.named_modules())
        sharded = 0
        for pattern, style in base.config.base_model_ep_plan.items():
            if style != "grouped_gemm":
                continue
            rx = re.compile("^" + pattern.replace(".", r"\.").replace("*", r"\d+") + "$")
            for name, _ in list(base.named_parameters()):
                if rx.match(name):
                    module, _, param = name.rpartition(".")
                    ALL_PARALLEL_STYLES[style].shard_param(modules[module], param, mesh)
                    sharded += 1
        assert sharded == 2 * CONFIGS["mixtral"][1]["num_hidden_layers"]
        assert modules["layers.0.mlp.experts"].num_experts == CONFIGS["mixtral"][1]["num_local_experts"] // ep
        return sum(p.to_local().numel() if hasattr(p, "to_local") else p.numel() for p in reference.parameters())
    finally:
        dist.destroy_process_group()


@pytest.mark.parametrize("ep", [2, 4, 8])
def test_parameters_per_device_match_transformers_expert_parallel(ep):
    model, reference = _pair("mixtral")
    local = _expert_parallel_parameters(reference, ep)
    assert _value(model, accounting.parameters_per_device(model, ep=ep)) == local
    weights = model.quantity("training_memory", ep=ep, precision="bf16", optimizer="sgd")
    assert _value(model, weights) == 2 * 2 * local      # bf16 weights and gradients of what the rank holds


def test_mixtral_8x7b_per_device_under_expert_parallelism():
    """Mixtral 8x7B: 46,702,792,704 parameters (as its Hugging Face checkpoint), 45,097,156,608 of
    them in experts, 1 expert a layer per device at ep = 8; the router (8 x 4096 a layer) whole."""
    m = symparams.load(EXAMPLES / "zoo" / "mixtral_8x7b.sp")
    assert _value(m, m.quantity("params")) == 46_702_792_704
    dense, experts = accounting.held_per_device(m, ep=8)
    assert _value(m, experts) == 45_097_156_608 // 8 == 32 * 3 * 4096 * 14336
    assert _value(m, dense) == 46_702_792_704 - 45_097_156_608
    e = sp.Symbol("e")
    # ZeRO-1 over 8 devices: the experts' states partitioned over dp/ep, so per device all over dp
    with_ep = accounting.training_memory_parts(m, dp=8, zero=1, ep=8)
    assert _value(m, with_ep.optimizer) == _value(m, accounting.training_memory_parts(m, dp=8, zero=1).optimizer)
    assert _value(m, with_ep.weights) == 2 * _value(m, dense + experts)
    with pytest.raises(ArgumentError, match="must divide --dp"):
        accounting.training_memory_parts(m, dp=12, zero=1, ep=8)
    assert e not in accounting.parameters_per_device(m).free_symbols


def test_expert_and_tensor_parallelism_together():
    """Each rank's experts split by tensor parallelism too: ceiling(E/e) experts, each 1/t; an ep
    that does not divide the experts leaves one device the larger share (ceiling(8/3) = 3 of 8)."""
    m = symparams.load(EXAMPLES / "zoo" / "mixtral_8x7b.sp")
    t, e = sp.Symbol("t", positive=True), sp.Symbol("e", positive=True)
    E = m.symbols["E"]
    _, experts = accounting.held_per_device(m, tp=t, ep=e)
    _, whole = accounting.held_per_device(m)
    assert sp.simplify(experts - sp.ceiling(E / e) / E * whole / t) == 0
    assert _value(m, accounting.held_per_device(m, ep=3)[1]) == 3 * _value(m, whole) // 8


# ---------------------------------------------------------------- device counts solved for

def test_smallest_zero3_data_parallel_count_for_llama2_70b(capsys):
    """Mixed-precision Adam, 16 bytes a parameter (ZeRO paper), 68,976,648,192 parameters: over N
    ZeRO-3 devices 16*P/N <= 80e9 first at N = 14 (13.8 exactly)."""
    m = symparams.load(EXAMPLES / "zoo" / "llama2_70b.sp")
    P = _value(m, m.quantity("params"))
    assert P == 68_976_648_192
    out = run(capsys, "solve", EXAMPLES / "zoo" / "llama2_70b.sp", "--of", "training_memory", "--for", "N",
              "--budget", "80e9", "--zero", "3", "--dp", "N", "--minimize")
    assert out.startswith("N = 14\n")
    exact = {n: sp.sympify(m.quantity("training_memory", dp=n, zero=3)).xreplace(m.evaluate().values)
             for n in (13, 14)}
    # a number of devices: each holds ceiling(P/n) numbers of each kind, as DeepSpeed pads its partitions
    assert exact == {n: 16 * sp.ceiling(sp.Rational(P, n)) for n in (13, 14)}
    assert exact[14] <= 80_000_000_000 < exact[13]
    # solved for by name, the share stays 16*P/N, its ceiling the device holding the larger share
    at = {n: int(sp.ceiling(sp.Rational(16 * P, n))) for n in (13, 14)}
    assert f"training_memory at N = 14: {at[14]:,}" in out
    assert f"the next admissible N, 13, gives {at[13]:,}" in out


def test_a_device_count_unknown_is_exact_at_the_boundary():
    from symparams import solve
    m = symparams.load(EXAMPLES / "zoo" / "llama2_70b.sp")
    for budget in (78_830_455_077, 78_830_455_076):     # the 14-device figure, and one byte less
        problem = solve.make_problem(m, ["n"], "training_memory",
                                     settings=quantities.options(dp=sp.Symbol("n", positive=True, integer=True),
                                                                 zero=3))
        answer = solve.solve_budget(problem, budget, "min")
        assert answer.x == (14 if budget == 78_830_455_077 else 15)


def test_expert_parallel_count_solved_for(capsys):
    """The smallest expert-parallel group that holds Mixtral 8x7B's bf16 weights and gradients (SGD)
    in 30 GB: 4 * (dense + ceiling(8/e) experts) bytes; past 8 devices a device still holds one
    expert, so 24 GB is out of reach."""
    dense, expert = 46_702_792_704 - 45_097_156_608, 45_097_156_608 // 8
    for budget, smallest in ((30e9, 8), (52e9, 4), (24e9, None)):
        fits = [n for n in range(1, 64) if 4 * (dense + -(-8 // n) * expert) <= budget]
        assert (fits[0] if fits else None) == smallest
        out = run(capsys, "solve", EXAMPLES / "zoo" / "mixtral_8x7b.sp", "--of", "training_memory", "--for", "e",
                  "--budget", budget, "--ep", "e", "--precision", "bf16", "--optimizer", "sgd", "--minimize")
        assert out.startswith(f"e = {smallest}\n" if smallest else "no e keeps")


def test_an_unknown_that_is_no_symbol_points_at_the_device_options():
    from symparams import solve
    m = symparams.load(EXAMPLES / "zoo" / "llama2_70b.sp")
    with pytest.raises(UnknownName) as e:
        solve.make_problem(m, ["N"], "training_memory", settings=quantities.options(dp=8, zero=3))
    assert "--dp N" in e.value.hint
