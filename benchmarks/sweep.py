"""Benchmark: a GPT-2-style model's total parameters over a million configurations.

symparams derives the closed form once, compiles it with sympy.lambdify and evaluates it over the
whole grid in integer NumPy arithmetic (symparams.sweep.run: the same code `symparams sweep` runs,
with the `where d % h == 0` rule and every layer's output size checked per configuration).
Side by side, PyTorch builds the same network on the meta device (no memory) for a random sample
of the configurations and counts its parameters. The script checks the sample's counts agree
exactly and reports the time per configuration of each and their ratio.

    /work/venv/bin/python benchmarks/sweep.py [--sample 30] [--seed 0]

The model: GPT-2's body as in DESIGN.md (token and position embeddings, L pre-norm blocks of
attention and a 4d MLP, a final LayerNorm; its LM head is tied to the token embedding, so it adds
no parameters). Until the language has `repeat`, the benchmark writes the L blocks out in
sequence for each L it sweeps, so L takes a few values and d, V, T many.
"""
from __future__ import annotations

import argparse
import random
import time

BLOCK = """\
    a = layernorm(x)
    x = x + multihead_attention(h, d / h)(a, a)
    m = layernorm(x)
    m = dense(4 * d, activation=gelu)(m)
    x = x + dense(d)(m)
"""


def gpt_source(layers: int) -> str:
    return (f"model gpt2_L{layers}(V = 50257, T = 1024, d = 768, h = 12):\n"
            "    where d % h == 0\n"
            "    tokens = input (T) int\n"
            "    x = embedding(V, d)(tokens) + position_embedding(T, d)(tokens)\n"
            + BLOCK * layers +
            "    x = layernorm(x)\n")


def torch_gpt2_params(V, T, d, L, h) -> int:
    """The same network in PyTorch on the meta device; the LM head shares the token embedding."""
    import torch
    from torch import nn

    class Block(nn.Module):
        def __init__(self):
            super().__init__()
            self.ln_1, self.attn = nn.LayerNorm(d), nn.MultiheadAttention(d, h)
            self.ln_2, self.fc, self.proj = nn.LayerNorm(d), nn.Linear(d, 4 * d), nn.Linear(4 * d, d)

    class GPT2(nn.Module):
        def __init__(self):
            super().__init__()
            self.wte, self.wpe = nn.Embedding(V, d), nn.Embedding(T, d)
            self.blocks = nn.ModuleList(Block() for _ in range(L))
            self.ln_f = nn.LayerNorm(d)
            self.head = nn.Linear(d, V, bias=False)
            self.head.weight = self.wte.weight

    with torch.device("meta"):
        model = GPT2()
    return sum(p.numel() for p in model.parameters())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sample", type=int, default=30, help="configurations PyTorch builds (default 30)")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    import symparams
    from symparams import sweep

    # 4 x 100 x 50 x 50 = 1,000,000 configurations; d a multiple of 64 and of h = 12.
    grid = {"L": [6, 12, 24, 48], "d": list(range(192, 192 * 101, 192)),
            "V": list(range(30_000, 30_000 + 50 * 1_000, 1_000)), "T": list(range(128, 128 + 50 * 128, 128))}
    total = 1
    for values in grid.values():
        total *= len(values)

    t0 = time.perf_counter()
    models = {L: symparams.parse(gpt_source(L)) for L in grid["L"]}
    t_derive = time.perf_counter() - t0

    t0 = time.perf_counter()
    results = {L: sweep.run(models[L], {k: grid[k] for k in ("d", "V", "T")}, ["params"]) for L in grid["L"]}
    t_sweep = time.perf_counter() - t0
    evaluated = sum(len(r) for r in results.values())
    assert evaluated == total, (evaluated, total)

    rng = random.Random(args.seed)
    sample = [(rng.choice(grid["L"]), rng.randrange(100), rng.randrange(50), rng.randrange(50))
              for _ in range(args.sample)]
    t0 = time.perf_counter()
    torch_counts = [torch_gpt2_params(grid["V"][v], grid["T"][t], grid["d"][i], L, 12) for L, i, v, t in sample]
    t_torch = time.perf_counter() - t0
    for (L, i, v, t), expected in zip(sample, torch_counts):
        got = int(results[L].columns["params"][(i * 50 + v) * 50 + t])
        assert got == expected, (L, grid["d"][i], grid["V"][v], grid["T"][t], got, expected)
    default = models[12].evaluate().params
    assert default == 124_439_808, default

    per_symparams = t_sweep / total
    per_torch = t_torch / len(sample)
    print(f"GPT-2-style model, {total:,} configurations (L in {grid['L']}, d 192..{grid['d'][-1]}, "
          f"V {grid['V'][0]}..{grid['V'][-1]}, T {grid['T'][0]}..{grid['T'][-1]}); at GPT-2's sizes "
          f"{default:,} parameters")
    print(f"symparams: derive the {len(models)} models {t_derive:.2f} s; evaluate all {total:,} "
          f"({results[12].exact_dtype}) {t_sweep:.3f} s = {per_symparams * 1e9:,.0f} ns per configuration")
    print(f"PyTorch (meta device): {len(sample)} sampled configurations {t_torch:.2f} s = "
          f"{per_torch * 1e3:,.1f} ms per configuration; counts agree exactly")
    print(f"ratio: PyTorch takes {per_torch / per_symparams:,.0f}x longer per configuration; "
          f"the million would take it about {per_torch * total / 3600:,.1f} h")


if __name__ == "__main__":
    main()
