"""Cold start: the whole `symparams summary` process, against the scripts a user would write instead.

Each command is run several times as a fresh process; the median wall time is reported.
"""
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RUNS = int(os.environ.get("RUNS", "7"))

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


def median_seconds(cmd) -> float:
    times = []
    for _ in range(RUNS):
        start = time.perf_counter()
        subprocess.run(cmd, check=True, capture_output=True, cwd=ROOT)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main():
    ours = median_seconds([sys.executable, "-m", "symparams", "summary", "examples/conv_stack.sp"])
    print(f"symparams summary examples/conv_stack.sp   median {ours:.3f} s over {RUNS} runs")
    for name, script in (("Keras 3 (torch backend) model.summary()", KERAS),
                         ("PyTorch, meta device, count params", TORCH)):
        try:
            theirs = median_seconds([sys.executable, "-c", script])
        except subprocess.CalledProcessError:
            print(f"{name}: not installed")
            continue
        print(f"{name:40} median {theirs:.3f} s   symparams is {theirs / ours:.1f}x faster")


if __name__ == "__main__":
    main()
