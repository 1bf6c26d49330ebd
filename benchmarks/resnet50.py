"""ResNet-50 side by side, in one run: the symparams zoo summary against building the network.

    python benchmarks/resnet50.py          (PROCESSES=3 fresh processes each, RUNS=5 warm calls)

1. symparams: derive examples/zoo/resnet50_keras.sp (and resnet.sp, the torch ResNet-50),
   evaluate it and render the summary table -- formulas for every symbol, then numbers.
2. Keras 3: keras.applications.ResNet50(weights=None), then count_params().
3. PyTorch: torchvision's ResNet-50 built from torch.nn modules on the meta device (no memory
   for weights), then sum of numel().

Each runs in fresh processes (subprocesses of this script), so a first call is a first call:
sympy's caches cold, nothing of the model derived or printed before. Times are CPU time
(time.process_time, every thread of the process) -- the machine is shared, wall time is noise.
Per process: the import, the first call, then the median of RUNS further calls; the figures are
medians over PROCESSES processes. The counts are checked equal.
"""
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

os.environ.setdefault("KERAS_BACKEND", "torch")
ROOT = Path(__file__).resolve().parent.parent
RUNS = int(os.environ.get("RUNS", "5"))
PROCESSES = int(os.environ.get("PROCESSES", "3"))


def symparams_summary(file, model=None):
    import symparams
    from symparams.render import text_table
    m = symparams.load(ROOT / "examples" / "zoo" / file, model=model)
    ev = m.evaluate()
    text_table(m, ev)
    return ev.params


def torch_resnet50():
    from torch import nn

    def bottleneck(cin, f, s, project):
        main = nn.Sequential(nn.Conv2d(cin, f, 1, bias=False), nn.BatchNorm2d(f), nn.ReLU(),
                             nn.Conv2d(f, f, 3, stride=s, padding=1, bias=False), nn.BatchNorm2d(f), nn.ReLU(),
                             nn.Conv2d(f, 4 * f, 1, bias=False), nn.BatchNorm2d(4 * f))
        short = nn.Sequential(nn.Conv2d(cin, 4 * f, 1, stride=s, bias=False), nn.BatchNorm2d(4 * f)) \
            if project else nn.Identity()
        return nn.ModuleList([main, short])

    layers, cin = [nn.Conv2d(3, 64, 7, 2, 3, bias=False), nn.BatchNorm2d(64), nn.ReLU(), nn.MaxPool2d(3, 2, 1)], 64
    for f, n, s in ((64, 3, 1), (128, 4, 2), (256, 6, 2), (512, 3, 2)):
        layers += [bottleneck(cin, f, s, True)] + [bottleneck(4 * f, f, 1, False) for _ in range(n - 1)]
        cin = 4 * f
    model = nn.Sequential(*layers, nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(2048, 1000)).to("meta")
    return sum(p.numel() for p in model.parameters())


def keras_resnet50():
    import keras
    return keras.applications.ResNet50(weights=None).count_params()


# symparams imports its parts on use (a cold command's cost); a summary reads models and draws with rich
SYMPARAMS = ["symparams", "symparams.interpreter", "symparams.render", "rich.box", "rich.console", "rich.padding",
             "rich.table", "rich.text"]
CASES = {   # name -> (modules imported first, the call)
    "symparams_keras": (SYMPARAMS, lambda: symparams_summary("resnet50_keras.sp")),
    "symparams_torch": (SYMPARAMS, lambda: symparams_summary("resnet.sp", "resnet50")),
    "keras": (["torch", "keras"], keras_resnet50),
    "torch": (["torch"], torch_resnet50),
}


def child(name):
    """In a fresh process: import, first call, warm calls; CPU seconds as JSON on stdout."""
    modules, fn = CASES[name]
    start = time.process_time()
    for module in modules:
        __import__(module)
    imported = time.process_time() - start
    start = time.process_time()
    count = fn()
    first = time.process_time() - start
    warm = []
    for _ in range(RUNS):
        start = time.process_time()
        fn()
        warm.append(time.process_time() - start)
    print(json.dumps({"import": imported, "first": first, "warm": statistics.median(warm), "count": count}))


def measured(name):
    runs = [json.loads(subprocess.run([sys.executable, __file__, name], check=True, capture_output=True,
                                      text=True).stdout.splitlines()[-1]) for _ in range(PROCESSES)]
    out = {key: statistics.median(r[key] for r in runs) for key in ("import", "first", "warm")}
    counts = {r["count"] for r in runs}
    assert len(counts) == 1, counts
    out["count"] = counts.pop()
    return out


def main():
    if len(sys.argv) > 1:
        return child(sys.argv[1])
    ours, ours_torch, keras, torch = (measured(name) for name in CASES)
    assert (ours["count"], ours_torch["count"]) == (keras["count"], torch["count"]), "the counts must agree"

    print(f"ResNet-50, CPU time, medians over {PROCESSES} fresh processes ({sys.platform}, {os.cpu_count()} cores)")
    print(f"{'':42} {'first call':>10} {'warm':>8} {'import':>8} {'params':>12}")
    for label, m in (("symparams zoo summary, Keras ResNet50", ours), ("symparams zoo summary, torch ResNet-50", ours_torch),
                     ("keras.applications.ResNet50(weights=None)", keras),
                     ("torch.nn ResNet-50 on the meta device", torch)):
        print(f"{label:42} {m['first']:9.3f}s {m['warm']:7.3f}s {m['import']:7.2f}s {m['count']:>12,}")
    print(f"symparams vs Keras: {keras['first'] / ours['first']:.1f}x faster on the first call in a process, "
          f"{keras['warm'] / ours['warm']:.1f}x warm, "
          f"{(keras['import'] + keras['first']) / (ours['import'] + ours['first']):.1f}x counting both imports")
    print(f"symparams vs torch meta build: {torch['first'] / ours_torch['first']:.1f}x on the first call, "
          f"{torch['warm'] / ours_torch['warm']:.1f}x warm")


if __name__ == "__main__":
    main()
