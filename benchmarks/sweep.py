"""Benchmark: a GPT-2-style model's total parameters over a million configurations.

symparams derives the closed form once, compiles it to integer NumPy code over a broadcast grid
and evaluates it (symparams.sweep.run: the same code `symparams sweep` runs, with the
`where d % h == 0` rule and every layer's output size checked per configuration). Side by side,
in one run, CPU time (time.process_time):

* the NumPy floor: the same polynomial written by hand in NumPy, in its factored form
  d*(L*(12*d + 13) + T + V + 2), over the grid's flat columns (numpy.meshgrid, raveled), timed
  with and without building those columns (the sweep returns them too);
* PyTorch building a random sample of the configurations on the meta device and counting.

The sweep's first call is timed in a fresh process (a subprocess: sympy's caches cold, the
model derived but its total not yet printed or compiled), NumPy imported beforehand (its import
is reported apart); the warm figure is the median of RUNS calls in this process. The script
checks every count of the sample against PyTorch and the whole grid against the hand-written
polynomial, exactly.

    python benchmarks/sweep.py [--sample 30] [--seed 0]        (RUNS=7 by default)

The model is examples/gpt2.sp (DESIGN.md's GPT-2: token and position embeddings, a symbolic
`repeat(L, ...)` of pre-norm blocks of attention and a 4d MLP, a final LayerNorm, and an LM head
tied to the token embedding), so one closed form serves every L.
"""
from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import subprocess
import sys
import time
from pathlib import Path

GPT2 = Path(__file__).resolve().parent.parent / "examples" / "gpt2.sp"
RUNS = int(os.environ.get("RUNS", "7"))
# 100 x 100 x 10 x 10 = 1,000,000 configurations; d a multiple of h = 12 (the model's `where`).
GRID = {"L": list(range(1, 101)), "d": list(range(192, 192 * 101, 192)),
        "V": list(range(30_000, 60_000, 3_000)), "T": list(range(256, 2816, 256))}
SIZE = 1_000_000


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


def cpu(fn):
    start = time.process_time()
    result = fn()
    return time.process_time() - start, result


def first_call() -> None:
    """In a fresh process: NumPy's import, then the sweep's first call, as JSON on stdout."""
    import symparams
    from symparams import sweep
    model = symparams.load(GPT2)
    numpy_import, _ = cpu(lambda: __import__("numpy"))
    first, result = cpu(lambda: sweep.run(model, GRID, ["params"]))
    assert len(result) == SIZE
    print(json.dumps({"numpy_import": numpy_import, "first": first}))


def floor_columns(np):
    return [g.ravel() for g in np.meshgrid(*(np.array(v, dtype=np.int64) for v in GRID.values()), indexing="ij")]


def floor_params(L, d, V, T):
    """examples/gpt2.sp's total, written by hand: 12*L*d**2 + 13*L*d + T*d + V*d + 2*d, factored."""
    return d * (L * (12 * d + 13) + T + V + 2)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sample", type=int, default=30, help="configurations PyTorch builds (default 30)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--first-call", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.first_call:
        return first_call()

    firsts = [json.loads(subprocess.run([sys.executable, __file__, "--first-call"], check=True, capture_output=True,
                                        text=True).stdout) for _ in range(3)]
    first = statistics.median(f["first"] for f in firsts)
    numpy_import = statistics.median(f["numpy_import"] for f in firsts)

    import numpy as np
    import symparams
    from symparams import sweep
    t_derive, model = cpu(lambda: symparams.load(GPT2))
    warm_times = [cpu(lambda: sweep.run(model, GRID, ["params"]))[0] for _ in range(RUNS)]
    result = sweep.run(model, GRID, ["params"])
    warm = statistics.median(warm_times)
    assert len(result) == SIZE, len(result)

    columns = floor_columns(np)
    floor_eval = statistics.median(cpu(lambda: floor_params(*columns))[0] for _ in range(RUNS))
    floor_all = statistics.median(cpu(lambda: floor_params(*floor_columns(np)))[0] for _ in range(RUNS))
    expected = floor_params(*columns)
    for name, column in zip(GRID, columns):
        assert np.array_equal(result.columns[name], column), name
    assert np.array_equal(result.columns["params"], expected)

    rng = random.Random(args.seed)
    sample = [rng.randrange(SIZE) for _ in range(args.sample)]
    got = result.columns
    t_torch, torch_counts = cpu(lambda: [torch_gpt2_params(int(got["V"][i]), int(got["T"][i]), int(got["d"][i]),
                                                           int(got["L"][i]), 12) for i in sample])
    for i, expected_count in zip(sample, torch_counts):
        assert int(got["params"][i]) == expected_count, ({k: int(v[i]) for k, v in got.items()}, expected_count)
    default = model.evaluate().params
    assert default == 124_439_808, default

    def rate(seconds):
        return f"{SIZE / seconds / 1e6:,.0f} M/s"

    per_torch = t_torch / len(sample)
    print(f"examples/gpt2.sp, {SIZE:,} configurations (L 1..100, d 192..{GRID['d'][-1]}, "
          f"V {GRID['V'][0]}..{GRID['V'][-1]}, T {GRID['T'][0]}..{GRID['T'][-1]}); at GPT-2's sizes "
          f"{default:,} parameters; CPU time, {os.cpu_count()} cores")
    print(f"derive the model                                   {t_derive * 1e3:8.1f} ms")
    print(f"symparams sweep, first call in a fresh process     {first * 1e3:8.1f} ms   {rate(first)}"
          f"   (+ NumPy's import {numpy_import * 1e3:.0f} ms: {rate(first + numpy_import)})")
    print(f"symparams sweep, warm (median of {RUNS})                 {warm * 1e3:8.1f} ms   {rate(warm)}"
          f"   ({result.exact_dtype} arrays; counts equal the NumPy floor's)")
    print(f"NumPy floor, hand-written, columns built           {floor_eval * 1e3:8.1f} ms   {rate(floor_eval)}")
    print(f"NumPy floor, hand-written, building the columns    {floor_all * 1e3:8.1f} ms   {rate(floor_all)}")
    print(f"PyTorch (meta device), {len(sample)} sampled configurations {per_torch * 1e3:,.1f} ms each; "
          f"counts agree exactly")
    print(f"ratios: warm sweep / floor with columns {warm / floor_all:.2f}, / floor alone {warm / floor_eval:.2f}; "
          f"PyTorch takes {per_torch / (warm / SIZE):,.0f}x longer per configuration (the million: "
          f"{per_torch * SIZE / 3600:,.1f} h)")


if __name__ == "__main__":
    main()
