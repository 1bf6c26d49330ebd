"""Long input (issue 23): a 10,000-layer file in each form the language has, and the REPL fed
lines from a pipe, each a whole process, in CPU time (user + system, from the kernel's
accounting of the child: a busy machine stretches wall time, not this).

    python benchmarks/long_input.py                  # the figures of docs/performance.md
    python benchmarks/long_input.py --before DIR     # also a source tree DIR (e.g. `git worktree`
                                                     # of an earlier commit), side by side
    python benchmarks/long_input.py --layers 2000    # a shorter file

The floor is PyTorch building the same layers (10,000 nn.Linear in an nn.Sequential, on the meta
device: no memory for weights) and counting their parameters, also a whole process.
"""
from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent.parent

FORMS = {
    "named tensors (`h2 = dense(d)(h1)`)":
        lambda n: "model m(d = 8):\n    h0 = input (d)\n" + "".join(f"    h{i} = dense(d)(h{i - 1})\n"
                                                                for i in range(1, n + 1)),
    "one name bound again (`x = Dense(d)(x)`)":
        lambda n: "model m(d = 8):\n    x = input (d)\n" + "    x = Dense(d)(x)\n" * n,
    "a sequential chain (`dense(d)`)":
        lambda n: "model m(d = 8):\n    input (d)\n" + "    dense(d)\n" * n,
    "PyTorch's spelling (`Linear(d, d)`)":
        lambda n: "convention torch\nmodel m(d = 8):\n    input (d)\n" + "    Linear(d, d)\n" * n,
}

FLOOR = """
import torch
with torch.device("meta"):
    net = torch.nn.Sequential(*[torch.nn.Linear(8, 8) for _ in range({n})])
print(sum(p.numel() for p in net.parameters()))
"""


PHASES = """
import gc, sys, time
gc.freeze(); gc.set_threshold(100_000, 50, 100)     # as the command sets the collector (cli.py)
start = time.process_time()
from symparams import render
from symparams.interpreter import Program
from symparams.syntax import read_source
imported = time.process_time()
program = Program(read_source(sys.argv[1]), sys.argv[1])
parsed = time.process_time()
model = program.model()
derived = time.process_time()
render.text_table(model, model.evaluate())
shown = time.process_time()
print(imported - start, parsed - imported, derived - parsed, shown - derived)
"""


def phases(path: Path, tree: Path, times: int) -> list[float]:
    """CPU seconds of importing, parsing, deriving and the table, in one process (the least of `times`)."""
    env = dict(os.environ, PYTHONPATH=str(tree), KERAS_BACKEND=os.environ.get("KERAS_BACKEND", "torch"))
    runs = [[float(x) for x in subprocess.run([sys.executable, "-c", PHASES, str(path)], capture_output=True,
                                              text=True, env=env, cwd=tree, check=True).stdout.split()]
            for _ in range(times)]
    return [min(run[i] for run in runs) for i in range(4)]


def cpu(command: list[str], stdin: str | None = None, tree: Path = HERE) -> float:
    """User + system CPU seconds of one child process run to its end."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    env = dict(os.environ, PYTHONPATH=str(tree), KERAS_BACKEND=os.environ.get("KERAS_BACKEND", "torch"))
    done = subprocess.run(command, input=stdin, capture_output=True, text=True, env=env, cwd=tree)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(command)} failed:\n{done.stderr[-2000:]}")
    return after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime


def best(times: int, *args, **kwargs) -> float:
    return min(cpu(*args, **kwargs) for _ in range(times))


def repl_lines(n: int) -> str:
    return "model m(d = 8):\ninput (d)\n" + "dense(d)\n" * n


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--layers", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=3, help="runs of each; the least CPU time is shown")
    parser.add_argument("--before", type=Path, help="another source tree to time beside this one")
    args = parser.parse_args()
    trees = {"now": HERE} | ({"before": args.before.resolve()} if args.before else {})
    python = sys.executable
    with tempfile.TemporaryDirectory() as tmp:
        print(f"`symparams summary` of {args.layers:,} layers, a whole process, CPU seconds (least of {args.repeat})")
        floor = best(args.repeat, [python, "-c", FLOOR.format(n=args.layers)])
        print(f"  {'PyTorch: nn.Sequential of nn.Linear on meta, params counted':58} {floor:6.2f}")
        for name, make in FORMS.items():
            path = Path(tmp) / f"form{len(name)}.sp"
            path.write_text(make(args.layers))
            figures = {which: best(args.repeat, [python, "-m", "symparams", "summary", str(path)], tree=tree)
                       for which, tree in trees.items()}
            shown = "  ".join(f"{which} {t:6.2f}" for which, t in figures.items())
            print(f"  {name:58} {shown}   {figures['now'] / floor:4.1f}x PyTorch")
            for which, tree in trees.items():
                steps = phases(path, tree, args.repeat)
                print(f"  {'':4}{which:7} in process: import {steps[0]:.2f}, parse {steps[1]:.2f}, "
                      f"derive {steps[2]:.2f}, table {steps[3]:.2f} (the rest: start and exit)")
        print("\n`symparams repl` reading dense(d) lines from a pipe: CPU per line, ms "
              "(the process less one fed the header and input alone)")
        for which, tree in trees.items():
            start = best(args.repeat, [python, "-m", "symparams", "repl"], repl_lines(0), tree=tree)
            per = {n: (best(args.repeat, [python, "-m", "symparams", "repl"], repl_lines(n), tree=tree) - start)
                   / n * 1000 for n in (100, 400)}
            print(f"  {which:7} at 100 lines {per[100]:6.2f}   at 400 lines {per[400]:6.2f}   "
                  f"ratio {per[400] / per[100]:4.2f}")


if __name__ == "__main__":
    main()
