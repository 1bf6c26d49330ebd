"""Derivation time against depth: a sequential stack of N layers, symbolic widths.

Shows time per layer staying flat (linear growth) from 50 to 400 layers, next to building the same
stack in PyTorch on the meta device and counting its parameters.
"""
import statistics
import time

import symparams

PATTERN = ["dense(4 * d)", "gelu", "dense(d)", "layernorm"]


def stack_source(n_layers: int) -> str:
    lines = [PATTERN[i % len(PATTERN)] for i in range(n_layers)]
    return "model stack(T = 128, d = 512):\n    input (T, d)\n" + "".join(f"    {l}\n" for l in lines)


def time_symparams(n_layers: int, runs: int = 5) -> tuple[float, int]:
    text, times = stack_source(n_layers), []
    for _ in range(runs):
        start = time.perf_counter()
        model = symparams.parse(text)
        total = model.evaluate().params
        times.append(time.perf_counter() - start)
    return statistics.median(times), total


def time_torch(n_layers: int, runs: int = 5) -> tuple[float, int] | None:
    try:
        import torch
        from torch import nn
    except ImportError:
        return None
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        with torch.device("meta"):
            mods = []
            for i in range(n_layers):
                kind = i % 4
                mods.append({0: lambda: nn.Linear(512, 2048), 1: nn.GELU, 2: lambda: nn.Linear(2048, 512),
                             3: lambda: nn.LayerNorm(512)}[kind]())
            model = nn.Sequential(*mods)
            model(torch.zeros(1, 128, 512))
            total = sum(p.numel() for p in model.parameters())
        times.append(time.perf_counter() - start)
    return statistics.median(times), total


def main():
    symparams.parse(stack_source(4))  # load the grammar once, as a warm process would have
    print(f"{'layers':>7} {'symparams':>11} {'per layer':>10} {'torch meta':>11} {'ratio':>6}")
    for n in (50, 100, 200, 400):
        ours, total = time_symparams(n)
        torch_result = time_torch(n)
        line = f"{n:>7} {ours * 1000:>9.1f}ms {ours / n * 1e6:>8.0f}us"
        if torch_result:
            theirs, their_total = torch_result
            assert their_total == total, (their_total, total)
            line += f" {theirs * 1000:>9.1f}ms {theirs / ours:>5.2f}x"
        print(line)


if __name__ == "__main__":
    main()
