"""Benchmark: issue 10's hostile inputs, each as a whole `symparams` process, timed to its answer.

Every reproducer must answer correctly or be refused with exit 2 and a positioned message within
2 s (the long sequential files are the exception the issue allows: 100,000 layers may be refused).
The script writes each input to a temporary file, runs the command line on it (median of --runs
runs), and prints a Markdown table with the exit code and the first line of the message. Beside
the wall time it gives the process's CPU time (user + system): on a machine others share, the
wall time of one process grows with the load and its CPU time much less.

    python benchmarks/pathological.py [--runs 3] [--size]    # --size: only the long files
"""
from __future__ import annotations

import argparse
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def body(*lines, header="d = 8"):
    return f"model m({header}):\n" + "".join(f"    {line}\n" for line in lines)


CASES = [
    # (label, file text or bytes, command line after the file)
    ("`dense(10**10**10)`", body("input (d)", "dense(10**10**10)"), ["summary"]),
    ("`dense(9**9**9)`", body("input (d)", "dense(9**9**9)"), ["summary"]),
    ("header default `d = 10**10**10`", body("input (d)", "dense(d)", header="d = 10**10**10"), ["summary"]),
    ("literal `1e1000000000`", body("input (d)", "dense(1e1000000000)"), ["summary"]),
    ("`input (2**2**2**2**2)`, dropout", body("input (2**2**2**2**2)", "dropout(0.5)"), ["summary"]),
    ("`input (10**1000)`, dense", body("input (10**1000)", "dense(d)"), ["summary"]),
    ("`--set d=1e1000000000`", body("input (d)", "dense(d)"), ["summary", "--set", "d=1e1000000000"]),
    ("`solve --budget 1e100000`", body("input (d)", "dense(d)"), ["solve", "--for", "d", "--budget", "1e100000"]),
    ("`solve --equals 1e4300`", body("input (d)", "dense(d)"), ["solve", "--for", "d", "--equals", "1e4300"]),
    ("`input (L + 0.5)`", body("input (L + 0.5)", header="L = 8"), ["summary"]),
    ("`maxpool1d(ceil_mode=true)` on (L, 4)", body("input (L, 4)", "maxpool1d(ceil_mode=true)", header="L = 8"),
     ["summary"]),
    ("`average(x, maxpool2d()(x))`", body("x = input (n, n, 2)", "average(x, maxpool2d()(x))", header="n = 8"),
     ["summary"]),
    ("size `256 / min(T % h * h, T)`, h = 1", body("input (T)", "dense(256 / (min(T % h * h, T)))",
                                                   header="T = 8, h = 1"), ["summary"]),
    ("`strides=(B % (B - 1))`, B = 1", body("input (B, B, 3)", "conv2d(4, 3, strides=(B % (B - 1)))",
                                            header="B = 8"), ["summary", "--set", "B=1"]),
    ("`sweep --vary d=1:1T`", body("input (d)", "dense(d)"), ["sweep", "--vary", "d=1:1T"]),
    ("`sweep --vary d=1:100000000`", body("input (d)", "dense(d)"), ["sweep", "--vary", "d=1:100000000"]),
    ("1,000 nested `relu(`", body("input (d)", "x = " + "relu(" * 1000 + ")" * 1000), ["summary"]),
    ("5,000-term `1+1+...`", body("input (d)", "dense(" + "+".join(["1"] * 5000) + ")"), ["summary"]),
    ("200 blocks calling blocks", "block b0()(x):\n    return dense(4)(x)\n" + "".join(
        f"block b{i}()(x):\n    return b{i - 1}()(x)\n" for i in range(1, 200)) + body("input (d)", "b199()"),
     ["summary"]),
    ("1,000 nested `repeat 2:`", body("input (d)") + "".join("    " * (i + 1) + "repeat 2:\n" for i in range(1000))
     + "    " * 1001 + "dense(4)\n", ["summary"]),
    ("a file in Latin-1", body("input (d)  # caf\xe9", "dense(3)").encode("latin-1"), ["summary"]),
    ("a NUL byte", body("input (d)\x00", "dense(3)").encode(), ["summary"]),
]
# The long files (--size runs only these).
SIZE_CASES = [
    ("2 x `dense(d)`: start-up alone", body("input (d)", "dense(d)"), ["summary"]),
    ("10,000 x `dense(d)`", body("input (d)", *["dense(d)"] * 10_000), ["summary"]),
    ("10,000 `where` lines", body("input (d)", *[f"where d <= {i + 8}" for i in range(10_000)], "dense(d)"),
     ["summary"]),
    ("50,000 x `dense(d)`", body("input (d)", *["dense(d)"] * 49_998), ["summary"]),
    ("100,000 x `dense(d)`", body("input (d)", *["dense(d)"] * 100_000), ["summary"]),
]
CASES += SIZE_CASES


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def run_case(path: Path, argv: list[str], runs: int):
    command, options = argv[0], argv[1:]
    times, cpu, proc = [], [], None
    for _ in range(runs):
        start, start_cpu = time.perf_counter(), _children_cpu()
        proc = subprocess.run([sys.executable, "-m", "symparams", command, str(path), *options],
                              capture_output=True, text=True, timeout=120)
        times.append(time.perf_counter() - start)
        cpu.append(_children_cpu() - start_cpu)
    answer = (proc.stderr.strip() or proc.stdout.strip().splitlines()[-1]).splitlines()[0]
    return statistics.median(times), statistics.median(cpu), proc.returncode, answer


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--size", action="store_true", help="only the long files")
    args = parser.parse_args()
    print("| input | command | exit | median | CPU | first line of the answer |")
    print("|---|---|---:|---:|---:|---|")
    with tempfile.TemporaryDirectory() as tmp:
        for label, text, argv in SIZE_CASES if args.size else CASES:
            path = Path(tmp) / "net.sp"
            path.write_bytes(text if isinstance(text, bytes) else text.encode())
            seconds, cpu, code, answer = run_case(path, argv, args.runs)
            answer = answer.replace(str(path), "net.sp").replace("|", "\\|")
            if len(answer) > 90:
                answer = answer[:87] + "..."
            print(f"| {label} | {argv[0]} | {code} | {seconds:.2f} s | {cpu:.2f} s | {answer} |", flush=True)


if __name__ == "__main__":
    main()
