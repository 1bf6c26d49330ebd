"""ResNet-50 side by side, in one run: the symparams zoo summary against building the network.

    /work/venv/bin/python benchmarks/resnet50.py          (RUNS=5 by default)

1. symparams: derive examples/zoo/resnet50_keras.sp (and resnet.sp, the torch ResNet-50),
   evaluate it and render the summary table -- formulas for every symbol, then numbers.
2. Keras 3: keras.applications.ResNet50(weights=None), then count_params().
3. PyTorch: torchvision's ResNet-50 built from torch.nn modules on the meta device (no memory
   for weights), then sum of numel().
Each is timed RUNS times in this process (median); the imports are timed apart, once (Keras's
includes torch's, its backend here).
"""
import os
import statistics
import sys
import time
from pathlib import Path

os.environ.setdefault("KERAS_BACKEND", "torch")
ROOT = Path(__file__).resolve().parent.parent
RUNS = int(os.environ.get("RUNS", "5"))


def timed(fn, runs=RUNS):
    times, result = [], None
    for _ in range(runs):
        start = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times), result


def imported(name):
    start = time.perf_counter()
    module = __import__(name)
    return module, time.perf_counter() - start


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


def main():
    _, sym_import = imported("symparams")
    cold, keras_count = timed(lambda: symparams_summary("resnet50_keras.sp"), runs=1)
    ours, ours_count = timed(lambda: symparams_summary("resnet50_keras.sp"))
    ours_torch, torch_zoo_count = timed(lambda: symparams_summary("resnet.sp", "resnet50"))
    _, torch_import = imported("torch")     # first: Keras's torch backend would import it
    _, keras_import = imported("keras")
    keras_import += torch_import
    keras_time, keras_real = timed(keras_resnet50)
    torch_time, torch_real = timed(torch_resnet50)

    print(f"ResNet-50, median of {RUNS} runs in one process ({sys.platform}, {os.cpu_count()} cores)")
    print(f"{'':44} {'time':>9} {'params':>12}   import")
    print(f"{'symparams zoo summary, Keras (first call)':44} {cold:8.3f}s {keras_count:>12,}   {sym_import:.2f}s")
    print(f"{'symparams zoo summary, Keras':44} {ours:8.3f}s {ours_count:>12,}")
    print(f"{'symparams zoo summary, torch':44} {ours_torch:8.3f}s {torch_zoo_count:>12,}")
    print(f"{'keras.applications.ResNet50(weights=None)':44} {keras_time:8.3f}s {keras_real:>12,}   {keras_import:.2f}s")
    print(f"{'torch.nn ResNet-50 on the meta device':44} {torch_time:8.3f}s {torch_real:>12,}   {torch_import:.2f}s")
    assert (ours_count, torch_zoo_count) == (keras_real, torch_real), "the counts must agree"
    print(f"symparams vs Keras build: {keras_time / ours:.1f}x faster "
          f"({keras_time / cold:.1f}x on the first call; {(keras_import + keras_time) / (sym_import + cold):.1f}x "
          f"counting both imports)")
    print(f"symparams vs torch meta build: {torch_time / ours_torch:.1f}x "
          f"({(torch_import + torch_time) / (sym_import + ours_torch):.1f}x counting both imports)")


if __name__ == "__main__":
    main()
