"""`symparams import FILE.py:NAME` against building the same module in PyTorch, as whole processes.

    python benchmarks/import_torch.py          (RUNS=5 by default)

1. symparams: `symparams import tests/torch_forms/nanogpt.py:gpt --input 16 --dtype int64` — start
   Python, import torch and symparams, run the user's file, build the module with its sizes as
   formulas, trace it, write the program and check its counts against the module.
2. PyTorch: `python -c` running the same file, building the same module on the meta device (no
   memory for weights) and printing the sum of numel() over its parameters.
3. PyTorch with the figures the import also gives: the same build, then one forward pass on the
   meta device under FlopCounterMode (the output's shape, the MACs). Many of PyTorch's kernels on
   meta are Python references whose first call imports torch._dynamo (about 0.8 s of CPU): this
   command pays it, and so does the bare build of a module whose constructor calls one (nanoGPT's
   nn.Embedding, whose init.normal_ on meta is one); the import does not (importers/dynamo_free.py).
4. The floor under the import: `import sympy` (as `symparams` imports what it stands on: the cyclic
   collector paused, then frozen; cli.py), then command 2. symparams computes with sympy, which
   PyTorch does not import.
All pay `import torch`. The commands alternate, RUNS times each, so all see the same load on a
shared machine; each run's CPU time (user + system, the child's rusage) and wall time are taken,
and the medians compared. The counts must agree, or the benchmark stops. Every command runs with
the compiled bytecode an install has: in a cache folder of the temp directory, whatever
PYTHONDONTWRITEBYTECODE says (symparams is installed editable: compiling its sources on every run
cost the import 0.1 s of CPU), filled by one untimed run of each command first.
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
RUNS = int(os.environ.get("RUNS", "5"))
ENV = {**{k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}, "PYTHONWARNINGS": "ignore",
       "PYTHONPYCACHEPREFIX": str(Path(tempfile.gettempdir()) / "symparams-import-torch-bytecode")}

# name, FILE.py:NAME, --input shapes, token ids?
CASES = [
    ("nanoGPT", "tests/torch_forms/nanogpt.py:gpt", ["16"], True),
    ("ViT", "tests/torch_forms/vit.py:ViT", ["3,16,16"], False),
    ("ResNet (mean)", "tests/torch_forms/resnet_mean.py:ResNet", ["3,16,16"], False),
]

BUILD = """\
import runpy, torch
make = runpy.run_path({file!r})[{name!r}]
with torch.device("meta"):
    module = make()
print(sum(p.numel() for p in module.parameters()))
"""

FLOOR = "import gc; gc.disable(); import sympy; gc.freeze(); gc.set_threshold(100_000, 50, 100); gc.enable()\n" + BUILD

MEASURE = BUILD + """from torch.utils.flop_counter import FlopCounterMode
x = torch.zeros((1, {shape}), dtype={dtype}, device="meta")
with torch.no_grad(), FlopCounterMode(display=False) as flops:
    y = module.eval()(x)
print(tuple(y.shape[1:]), flops.get_total_flops() // 2)
"""


def run(command: list) -> tuple:
    """(CPU seconds, wall seconds, stdout) of one whole process."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, env=ENV)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode:
        sys.exit(f"{' '.join(command)} failed:\n{done.stderr}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return cpu, wall, done.stdout


def params_of(program: str) -> int:
    import symparams
    return symparams.parse(program).evaluate().params


def main():
    print(f"{RUNS} runs of each, alternating; medians of whole processes, CPU (user + system) and wall")
    print("| module | `symparams import` | PyTorch: build, count | ratio | PyTorch: build, count, forward "
          "with FlopCounterMode | ratio | floor: `import sympy`, build, count | ratio |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    for label, source, inputs, ints in CASES:
        file, _, name = source.rpartition(":")
        ours = [sys.executable, "-m", "symparams", "import", source] + \
            [arg for shape in inputs for arg in ("--input", shape)] + (["--dtype", "int64"] if ints else [])
        build = [sys.executable, "-c", BUILD.format(file=file, name=name)]
        measure = [sys.executable, "-c", MEASURE.format(file=file, name=name, shape=inputs[0],
                                                        dtype="torch.long" if ints else "torch.float32")]
        floor = [sys.executable, "-c", FLOOR.format(file=file, name=name)]
        commands = (("ours", ours), ("build", build), ("measure", measure), ("floor", floor))
        for _, command in commands:
            run(command)                  # bytecode compiled, files in the page cache
        times = {key: [] for key, _ in commands}
        for _ in range(RUNS):
            for key, command in commands:
                cpu, wall, out = run(command)
                times[key].append((cpu, wall))
                if key == "ours":
                    program = out
                if key == "build":
                    count = int(out)
        if params_of(program) != count:
            sys.exit(f"{label}: symparams counts {params_of(program):,}, PyTorch {count:,}")
        cpu = {k: statistics.median(t[0] for t in v) for k, v in times.items()}
        wall = {k: statistics.median(t[1] for t in v) for k, v in times.items()}
        def cell(k):
            return f"{cpu[k]:.2f} s ({wall[k]:.2f} s)"

        def ratio(k):
            return f"{cpu['ours'] / cpu[k]:.2f}× ({wall['ours'] / wall[k]:.2f}×)"
        print(f"| {label} | {cell('ours')} | {cell('build')} | {ratio('build')} | {cell('measure')} | "
              f"{ratio('measure')} | {cell('floor')} | {ratio('floor')} |")
    print("ratio: symparams' time over the command's before it, CPU (wall); below 1 the import is the faster "
          "process")


if __name__ == "__main__":
    main()
