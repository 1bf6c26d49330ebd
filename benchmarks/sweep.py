"""Benchmark: a GPT-2-style model's total parameters over a million configurations.

symparams derives the closed form once, compiles it with sympy.lambdify and evaluates it over the
whole grid in integer NumPy arithmetic (symparams.sweep.run: the same code `symparams sweep` runs,
with the `where d % h == 0` rule and every layer's output size checked per configuration).
Side by side, PyTorch builds the same network on the meta device (no memory) for a random sample
of the configurations and counts its parameters. The script checks the sample's counts agree
exactly and reports the time per configuration of each and their ratio.

    /work/venv/bin/python benchmarks/sweep.py [--sample 30] [--seed 0]

The model is examples/gpt2.sp (DESIGN.md's GPT-2: token and position embeddings, a symbolic
`repeat(L, ...)` of pre-norm blocks of attention and a 4d MLP, a final LayerNorm, and an LM head
tied to the token embedding), so one closed form serves every L.
"""
from __future__ import annotations

import argparse
import random
import time
from pathlib import Path

GPT2 = Path(__file__).resolve().parent.parent / "examples" / "gpt2.sp"


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

    # 100 x 100 x 10 x 10 = 1,000,000 configurations; d a multiple of h = 12 (the model's `where`).
    grid = {"L": list(range(1, 101)), "d": list(range(192, 192 * 101, 192)),
            "V": list(range(30_000, 60_000, 3_000)), "T": list(range(256, 2816, 256))}
    total = 1
    for values in grid.values():
        total *= len(values)

    t0 = time.perf_counter()
    model = symparams.load(GPT2)
    t_derive = time.perf_counter() - t0

    t0 = time.perf_counter()
    result = sweep.run(model, grid, ["params"])
    t_sweep = time.perf_counter() - t0
    assert len(result) == total, (len(result), total)

    rng = random.Random(args.seed)
    sample = [rng.randrange(total) for _ in range(args.sample)]
    columns = result.columns
    t0 = time.perf_counter()
    torch_counts = [torch_gpt2_params(int(columns["V"][i]), int(columns["T"][i]), int(columns["d"][i]),
                                      int(columns["L"][i]), 12) for i in sample]
    t_torch = time.perf_counter() - t0
    for i, expected in zip(sample, torch_counts):
        assert int(columns["params"][i]) == expected, ({k: int(v[i]) for k, v in columns.items()}, expected)
    default = model.evaluate().params
    assert default == 124_439_808, default

    per_symparams = t_sweep / total
    per_torch = t_torch / len(sample)
    print(f"examples/gpt2.sp, {total:,} configurations (L 1..100, d 192..{grid['d'][-1]}, "
          f"V {grid['V'][0]}..{grid['V'][-1]}, T {grid['T'][0]}..{grid['T'][-1]}); at GPT-2's sizes "
          f"{default:,} parameters")
    print(f"symparams: derive the model {t_derive:.2f} s; evaluate all {total:,} "
          f"({result.exact_dtype} arrays) {t_sweep:.3f} s = {per_symparams * 1e9:,.0f} ns per configuration")
    print(f"PyTorch (meta device): {len(sample)} sampled configurations {t_torch:.2f} s = "
          f"{per_torch * 1e3:,.1f} ms per configuration; counts agree exactly")
    print(f"ratio: PyTorch takes {per_torch / per_symparams:,.0f}x longer per configuration; "
          f"the million would take it about {per_torch * total / 3600:,.1f} h")


if __name__ == "__main__":
    main()
