"""Cold start: the whole `symparams summary` process, beside the floor it stands on and the scripts
a user would write instead (docs/performance.md, "Cold command").

Every command runs as a fresh process, RUNS times, the commands taking turns so that the machine's
load falls on all of them alike; each figure is the median. Against the floor (`python -c "import
sympy, lark"`, what any process of ours must import) the figure is CPU time, user + system, of the
whole process: on a shared machine wall time measures the neighbours. A first run of each command,
not counted, leaves the compiled bytecode an install has (in a cache folder of the temp directory,
whatever PYTHONDONTWRITEBYTECODE says: compiling the package's sources costs a cold start a fifth).
"""
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RUNS = int(os.environ.get("RUNS", "11"))
PY = sys.executable
ENV = {**{k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"},
       "PYTHONPYCACHEPREFIX": str(Path(tempfile.gettempdir()) / "symparams-cold-start-bytecode")}

FLOOR = [PY, "-c", "import sympy, lark"]
# sympy's first sum of symbols imports sympy.tensor and sympy.combinatorics (Add.flatten asks
# whether a term is a tensor): a cost of any sympy arithmetic, which the bare import does not pay.
FIRST_SUM = [PY, "-c", "import sympy, lark; sympy.Symbol('x') + 1"]
# symparams imports with the cyclic collector paused (cli.main); the floor so imported, to show what
# of the gap that is.
PAUSED = [PY, "-c", "import gc; gc.disable(); import sympy, lark"]
OURS = {
    "symparams summary examples/conv_stack.sp": [PY, "-m", "symparams", "summary", "examples/conv_stack.sp"],
    "symparams summary examples/gpt2.sp": [PY, "-m", "symparams", "summary", "examples/gpt2.sp"],
    "symparams --help": [PY, "-m", "symparams", "--help"],
}

KERAS = """
import os; os.environ.setdefault("KERAS_BACKEND", "torch")
import keras
m = keras.Sequential([keras.Input((224, 224, 3)), keras.layers.Conv2D(32, 3, activation="relu"),
    keras.layers.Conv2D(64, 3, activation="relu"), keras.layers.Conv2D(128, 3, activation="relu"),
    keras.layers.Dense(10, activation="softmax")])
m.summary()
"""
TORCH = """
import torch
from torch import nn
m = nn.Sequential(nn.Conv2d(3, 32, 3), nn.ReLU(), nn.Conv2d(32, 64, 3), nn.ReLU(), nn.Conv2d(64, 128, 3),
                  nn.ReLU()).to("meta")
y = m(torch.zeros(1, 3, 224, 224, device="meta"))
print(sum(p.numel() for p in m.parameters()), tuple(y.shape))
"""


def one_run(cmd) -> tuple:
    """(CPU seconds, wall seconds) of one process (getrusage: microseconds, where os.times counts ticks)."""
    before, start = resource.getrusage(resource.RUSAGE_CHILDREN), time.perf_counter()
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=ROOT, env=ENV)
    wall, after = time.perf_counter() - start, resource.getrusage(resource.RUSAGE_CHILDREN)
    return after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime, wall


def medians(commands: dict) -> dict:
    """name -> (median CPU seconds, median wall seconds), the commands taking turns."""
    for cmd in commands.values():
        one_run(cmd)                      # bytecode compiled, files in the page cache
    runs = {name: [] for name in commands}
    for _ in range(RUNS):
        for name, cmd in commands.items():
            runs[name].append(one_run(cmd))
    return {name: (statistics.median(c for c, _ in r), statistics.median(w for _, w in r)) for name, r in runs.items()}


def main():
    figures = medians({"import sympy, lark (the floor)": FLOOR, "... and one sum of symbols": FIRST_SUM,
                       "... with the collector paused": PAUSED, **OURS})
    floor = figures["import sympy, lark (the floor)"][0]
    print(f"CPU time of the whole process, median of {RUNS} runs, against the floor:")
    for name, (cpu, _) in figures.items():
        print(f"  {name:42} {cpu * 1000:6.0f} ms   {cpu / floor:.2f}x")
    ours = figures["symparams summary examples/conv_stack.sp"][1]
    print(f"\nWall time, median of {RUNS} runs: symparams summary examples/conv_stack.sp {ours:.3f} s")
    for name, script in (("Keras 3 (torch backend) model.summary()", KERAS),
                         ("PyTorch, meta device, count params", TORCH)):
        try:
            theirs = medians({name: [PY, "-c", script]})[name][1]
        except subprocess.CalledProcessError:
            print(f"{name}: not installed")
            continue
        print(f"{name:40} median {theirs:.3f} s   symparams is {theirs / ours:.1f}x faster")


if __name__ == "__main__":
    main()
