"""`symparams serve`: a slider move on a 102-row model, against what a user would otherwise run.

    python benchmarks/serve_slider.py        (needs Chromium at /usr/bin/chromium and playwright)

1. the page: `symparams serve` on a model of 100 conv/batchnorm layers; in headless Chromium the
   symbol `w` is set 120 times (the table, the totals and the figures recomputed from the closed
   forms each time) and the plot redrawn 30 times; median and 95th percentile per move.
2. the command line: `symparams summary deep.sp --set w=…` as a whole process, the way the same
   question is asked without the page (median of 5).
"""
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

CHROMIUM = os.environ.get("SYMPARAMS_CHROMIUM", "/usr/bin/chromium")


def model(path: Path) -> Path:
    lines = ["model deep(H = 32, W = 32, C = 3, w = 64, classes = 10):", "    where w % 8 == 0", "    input (H, W, C)"]
    lines += ["    conv2d(w, 3, padding=same)" if i % 2 == 0 else "    batchnorm" for i in range(100)]
    path.write_text("\n".join(lines + ["    flatten", "    dense(classes)"]) + "\n")
    return path


def main():
    from playwright.sync_api import sync_playwright
    from symparams.serve.server import make_server, url_of
    path = model(Path(tempfile.mkdtemp()) / "deep.sp")
    server = make_server(str(path))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            page.goto(url_of(server))
            page.wait_for_selector("#table tbody tr")
            moves = page.evaluate("""() => {
                const S = window.__symparams, times = [];
                for (let i = 0; i < 120; i++) {
                    const t0 = performance.now(); S.setSymbol('w', 8 * (1 + (i % 64))); times.push(performance.now() - t0);
                }
                times.sort((a, b) => a - b);
                return {median: times[60], p95: times[114]};
            }""")
            plot = page.evaluate("""() => {
                const S = window.__symparams, times = [];
                for (let i = 0; i < 30; i++) { S.setSymbol('w', 8 * (1 + i)); S.drawPlot(); times.push(S.lastPlotMs); }
                times.sort((a, b) => a - b);
                return times[15];
            }""")
            browser.close()
    finally:
        server.shutdown()
    cli = []
    for w in (72, 80, 88, 96, 104):
        start = time.perf_counter()
        subprocess.run([sys.executable, "-m", "symparams", "summary", str(path), "--set", f"w={w}"],
                       check=True, capture_output=True)
        cli.append(time.perf_counter() - start)
    per_move = moves["median"] + plot
    command = statistics.median(cli) * 1000
    print("| a new value of `w` on a 102-row model | median | p95 |")
    print("|---|---:|---:|")
    print(f"| the page: table, totals and figures | {moves['median']:.2f} ms | {moves['p95']:.2f} ms |")
    print(f"| the page: the plot redrawn | {plot:.2f} ms | |")
    print(f"| `symparams summary --set w=…`, a whole process | {command:.0f} ms | |")
    print(f"the page answers {command / per_move:.0f}× faster than a command per value, "
          f"{1000 / per_move:.0f} moves a second with the plot")


if __name__ == "__main__":
    main()
