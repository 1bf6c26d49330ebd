"""Benchmark: every large-model quantity of Llama 2 70B, as closed forms and numbers.

symparams loads examples/zoo/llama2_70b.sp and derives, as exact sympy expressions, then evaluates
at the defaults: params, active params, forward FLOPs, training FLOPs under each recomputation,
the KV cache, activations under each recomputation, and training memory per device under each
ZeRO stage over 64 devices (with activations). The first run in the process (sympy's caches
cold) is reported apart from the median of the warm runs. Side by side, what the same figures
begin with otherwise: building transformers' LlamaForCausalLM at 70B on the meta device and
counting its parameters (the check that the counts agree).

    python benchmarks/llm.py [--runs 5] [--no-transformers]
"""
from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

MODEL = Path(__file__).resolve().parent.parent / "examples" / "zoo" / "llama2_70b.sp"


def all_quantities() -> dict:
    import symparams
    from symparams import accounting
    m = symparams.load(MODEL)
    B = m.batch
    exprs = {"params": m.params, "active": m.active, "flops": 2 * m.macs}
    for r in accounting.RECOMPUTE:
        exprs[f"training_flops/{r}"] = m.quantity("training_flops", per_batch=True, recompute=r)
        exprs[f"activations/{r}"] = m.quantity("activations", per_batch=True, recompute=r)
    exprs["kv_cache"] = m.quantity("kv_cache", per_batch=True)
    for zero in (0, 1, 2, 3):
        exprs[f"training_memory/zero{zero}"] = m.quantity("training_memory", per_batch=True, dp=64, zero=zero,
                                                          with_activations=True, recompute="full")
    values = {**m.evaluate().values, B: 1}
    return {k: int(e.xreplace(values)) for k, e in exprs.items()}


def timed(fn):
    start = time.perf_counter()
    out = fn()
    return time.perf_counter() - start, out


def transformers_params() -> tuple[float, int]:
    import torch
    import transformers
    config = transformers.LlamaConfig(vocab_size=32000, hidden_size=8192, num_hidden_layers=80,
                                      num_attention_heads=64, num_key_value_heads=8, intermediate_size=28672)

    def build():
        with torch.device("meta"):
            model = transformers.LlamaForCausalLM(config)
        return sum(p.numel() for p in model.parameters())
    return timed(build)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--no-transformers", action="store_true")
    args = parser.parse_args()
    t_import, _ = timed(lambda: __import__("symparams.accounting"))
    first, figures = timed(all_quantities)
    warm = statistics.median(timed(all_quantities)[0] for _ in range(args.runs))
    for name, v in figures.items():
        print(f"  {name:28} {v:>32,}")
    print(f"symparams: import {t_import:.2f} s; all {len(figures)} quantities of Llama 2 70B "
          f"(load, derive, evaluate): first {first:.3f} s, warm median {warm:.3f} s")
    if not args.no_transformers:
        t, params = transformers_params()
        agree = "agree" if params == figures["params"] else f"DIFFER ({params:,})"
        print(f"transformers LlamaForCausalLM 70B on the meta device, parameters only: {t:.2f} s; counts {agree}")


if __name__ == "__main__":
    main()
