"""`symparams serve`: the server (HTTP, refusals, the JSON the page evaluates) and the page itself,
driven in headless Chromium. Every figure the page shows is compared with what the real CLI
(`symparams summary`, `formula`, `solve`) prints at the same setting.

The server tests always run. The browser tests need Debian's `chromium` and the `playwright` Python
package (driving that binary; no browser download) and skip, saying which is missing, without them.
"""
from __future__ import annotations

import contextlib
import io
import json
import os
import re
import shutil
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
import zipfile
from pathlib import Path

import pytest

from symparams import cli
from symparams.serve import compile as trees
from symparams.serve.server import find_sources, make_server, url_of

ROOT = Path(__file__).resolve().parent.parent
GPT2 = ROOT / "examples" / "gpt2.sp"
CHROMIUM = os.environ.get("SYMPARAMS_CHROMIUM", "/usr/bin/chromium")


# ---------------------------------------------------------------- helpers

def run_cli(*argv) -> tuple[int, str, str]:
    """The real `symparams` command, in this process: (exit code, stdout, stderr)."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = cli.main([str(a) for a in argv])
    return code, out.getvalue(), err.getvalue()


def cli_json(*argv):
    code, out, err = run_cli(*argv)
    assert code == 0, err
    return json.loads(out)


@contextlib.contextmanager
def serving(path):
    server = make_server(str(path))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield url_of(server)
    finally:
        server.shutdown()
        server.server_close()


def get(url, headers=None):
    req = urllib.request.Request(url, headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=30) as r:
            return r.status, dict(r.headers), r.read()
    except urllib.error.HTTPError as e:
        return e.code, dict(e.headers), e.read()


def post(url, body, kind="application/json"):
    data = body if isinstance(body, bytes) else json.dumps(body).encode()
    req = urllib.request.Request(url, data=data, headers={"Content-Type": kind}, method="POST")
    try:
        with urllib.request.urlopen(req, timeout=60) as r:
            return r.status, json.loads(r.read())
    except urllib.error.HTTPError as e:
        return e.code, e.read()


def document(base, source=0, options=None):
    q = f"source={source}" + (f"&options={urllib.request.quote(json.dumps(options))}" if options else "")
    status, _, body = get(base + "api/model?" + q)
    assert status == 200
    return json.loads(body)


def value(doc, index, values):
    return trees.whole(doc["formulas"][index]["tree"], values)


@pytest.fixture
def gpt2(tmp_path):
    path = tmp_path / "gpt2.sp"
    shutil.copy(GPT2, path)
    return path


# ---------------------------------------------------------------- the server

def test_page_and_assets_are_served_with_a_strict_policy(gpt2):
    with serving(gpt2) as base:
        status, headers, body = get(base)
        assert status == 200 and b"/static/app.js" in body
        assert "script-src 'self'" in headers["Content-Security-Policy"]
        assert headers["X-Content-Type-Options"] == "nosniff"
        for name in ("app.js", "app.css"):
            status, _, body = get(base + "static/" + name)
            assert status == 200 and body
        assert b"http://" not in get(base + "static/app.js")[2].replace(b"http://www.w3.org/2000/svg", b"")


@pytest.mark.parametrize("path", [
    "static/../server.py", "static/%2e%2e/server.py", "static/..%2fserver.py", "static/..%2F..%2Fcli.py",
    "../../../../etc/passwd", "static//etc/passwd", "static/app.js/../../document.py", "gpt2.sp",
    "static/", "static/%00", "api/../static/app.js/..", "examples/gpt2.sp", "static/app.js%00.py", "favicon.ico",
])
def test_nothing_but_its_own_files(gpt2, path):
    with serving(gpt2) as base:
        status, _, body = get(base + path)
        assert status == 404, (path, status)
        assert b"model gpt2" not in body and b"import" not in body


def test_refuses_foreign_hosts_and_forms(gpt2):
    with serving(gpt2) as base:
        port = base.rsplit(":", 1)[1].strip("/")
        assert get(base, {"Host": "attacker.example:" + port})[0] == 403
        assert get(base, {"Host": "localhost:" + port})[0] == 200
        assert post(base + "api/solve", b"of=params", "application/x-www-form-urlencoded")[0] == 415
        assert post(base + "other", {})[0] == 404


def test_listens_on_loopback_only(gpt2):
    server = make_server(str(gpt2))
    try:
        assert server.server_address[0] == "127.0.0.1"
    finally:
        server.server_close()


def test_python_files_are_not_run(tmp_path):
    script = tmp_path / "model.py"
    script.write_text("raise SystemExit('ran')\n")
    code, out, err = run_cli("serve", f"{script}:make", "--no-open")
    assert code == 2 and "Python" in err and "ran" not in out + err
    code, _, err = run_cli("serve", script, "--no-open")
    assert code == 2 and "symparams import" in err


def test_a_figure_a_layer_says_is_not_known_is_no_total(tmp_path):
    """A program whose layer states `macs = not_known` and `active = not_known` (the general
    route's import of a mixture of experts whose experts are a list of modules): its page has the
    counts' totals and none of the figures not known, and the layer's row no MACs, rather than the
    page failing to build."""
    from symparams.interpreter import read
    from symparams.serve import document as page
    source = tmp_path / "m.sp"
    source.write_text("layer routed(d)(x: (*, t, n)) -> (*, t, n):\n    params = 4 * d * n\n    macs = not_known\n"
                      "    active = not_known\n\nmodel m(d = 8, T = 4):\n    x = input (T, 16)\n    y = routed(d)(x)\n")
    program = read(source)
    doc = page.base(program.model(None, None), program)
    assert [t["key"] for t in doc["totals"]] == ["params", "trainable", "non_trainable"]
    assert [r["macs"] for r in doc["rows"] if r["type"] == "routed"] == [None]


def test_figures_match_the_cli(gpt2):
    """Every figure of the document, evaluated from its compiled closed form, is what the CLI prints."""
    with serving(gpt2) as base:
        doc = document(base)["document"]
    for setting in ({"d": 1536}, {"d": 768, "L": 48, "T": 2048}):
        values = {"V": 50257, "T": 1024, "d": 768, "L": 12, "h": 12, **setting}
        sets = ["--set", *[f"{k}={v}" for k, v in setting.items()]]
        summary = cli_json("summary", gpt2, "--format", "json", *sets)
        rows = [r for r in doc["rows"] if r["depth"] == 0]
        assert [r["top_label"].split(" (")[0] for r in rows] == [r["name"] for r in summary["layers"]]
        for row, want in zip(rows, summary["layers"]):
            assert value(doc, row["params"], values) == want["params"]["value"]
            assert value(doc, row["macs"], values) == want["macs"]["value"]
            assert [value(doc, i, values) for i in row["shape"]] == want["output_shape"]["value"]
            assert doc["formulas"][row["params"]]["text"] == want["params"]["expr"]
        for total in doc["totals"]:
            assert value(doc, total["f"], values) == summary["totals"][total["key"]]["value"]
            assert doc["formulas"][total["f"]]["text"] == summary["totals"][total["key"]]["expr"]
        for q in doc["quantities"]:
            want = cli_json("formula", gpt2, "--of", q["name"], "--format", "json", *sets)
            assert value(doc, q["f"], values) == want["value"], q["name"]
            assert doc["formulas"][q["f"]]["text"] == want["expr"]
            assert doc["formulas"][q["f"]]["latex"] == want["latex"]
            for part in q["parts"]:
                assert value(doc, part["f"], values) == want["parts"][part["name"]]["value"]
    assert {q["name"] for q in doc["quantities"]} >= {"training_flops", "kv_cache", "activations",
                                                      "training_memory", "inference_memory"}


def test_options_change_the_figures_as_the_flags_do(gpt2):
    options = {"optimizer": "sgd", "zero": 3, "dp": 8, "tp": 2, "dtype": "int8"}
    with serving(gpt2) as base:
        doc = document(base, options=options)["document"]
        bad = document(base, options={"zero": 2})
    values = {"V": 50257, "T": 1024, "d": 768, "L": 12, "h": 12}
    for q in doc["quantities"]:
        own = {"training_memory": ("optimizer", "zero", "dp", "tp"), "kv_cache": ("tp", "dtype"),
               "activations": ("tp", "dtype"), "training_flops": ("tp",)}.get(q["name"])
        if own is None:
            continue
        wanted = [x for k in own for x in ("--" + k, str(options[k]))]
        want = cli_json("formula", gpt2, "--of", q["name"], "--format", "json", *wanted)
        assert value(doc, q["f"], values) == want["value"], q["name"]
    assert "--zero 2 partitions" in bad["error"]["message"]


def test_solve_is_symparams_solve(gpt2):
    with serving(gpt2) as base:
        for of, budget, extra, body in [
            ("params", "350M", ["--multiple-of", "64"], {"multiple_of": 64}),
            ("params", "350M", [], {}),
            ("kv_cache", "100M", ["--set", "L=24"], {"given": {"L": 24}}),
            ("training_memory", "8G", ["--set", "d=1536", "--zero", "3", "--dp", "8"],
             {"given": {"d": 1536}, "options": {"zero": 3, "dp": 8}, "symbol": "L"}),
        ]:
            symbol = body.get("symbol", "d")
            status, answer = post(base + "api/solve", {"source": 0, "of": of, "budget": budget, "symbol": symbol,
                                                       "direction": "max", **body})
            code, out, _ = run_cli("solve", gpt2, "--for", symbol, "--budget", budget, "--of", of, *extra)
            assert code == 0
            assert answer["answer"]["text"] == out.rstrip("\n")
        status, answer = post(base + "api/solve", {"source": 0, "of": "params", "budget": "lots", "symbol": "d"})
        assert "--budget must be a whole number" in answer["error"]["message"]


def test_an_error_in_the_file_is_shown_as_the_cli_shows_it_and_the_fix_reloads(gpt2):
    good = gpt2.read_text()
    with serving(gpt2) as base:
        first = document(base)["document"]["version"]
        gpt2.write_text(good.replace("x = layernorm(x)\n    logits", "x = layernorm(x, epsilon=)\n    logits"))
        os.utime(gpt2, ns=(time.time_ns(), time.time_ns() + 10**9))
        error = document(base)["error"]
        code, _, err = run_cli("check", gpt2)
        assert code == 2 and error["text"] == err.rstrip("\n")
        assert error["line"] == 16 and error["column"] and error["source_line"].strip().startswith("x = layernorm")
        gpt2.write_text(good.replace("d = 768", "d = 1152"))
        os.utime(gpt2, ns=(time.time_ns(), time.time_ns() + 2 * 10**9))
        doc = document(base)["document"]
        assert doc["version"] != first
        d = next(s for s in doc["symbols"] if s["name"] == "d")
        assert doc["formulas"][d["default"]]["text"] == "1152"


def test_a_setting_that_breaks_a_rule_is_refused_not_computed(gpt2):
    with serving(gpt2) as base:
        doc = document(base)["document"]
    (rule,) = doc["constraints"]
    assert trees.evaluate(rule["cond"], {"d": 770, "h": 12}) is False
    assert trees.evaluate(rule["cond"], {"d": 768, "h": 12}) is True
    d = next(s for s in doc["symbols"] if s["name"] == "d")
    assert [doc["formulas"][i]["text"] for i in d["step"]] == ["h"]


def test_a_folder_of_models(tmp_path):
    shutil.copy(GPT2, tmp_path / "gpt2.sp")
    shutil.copy(ROOT / "examples" / "conv_stack.sp", tmp_path / "conv_stack.sp")
    shutil.copytree(ROOT / "examples" / "hf" / "qwen2-0.5b", tmp_path / "qwen2-0.5b")
    (tmp_path / "notes.txt").write_text("not a model")
    (tmp_path / "build.py").write_text("raise SystemExit")
    with serving(tmp_path) as base:
        status, _, body = get(base + "api/sources")
        labels = [s["label"] for s in json.loads(body)["sources"]]
        assert labels == ["conv_stack.sp", "gpt2.sp", "qwen2-0.5b"]
        conv = document(base, 0)["document"]
        qwen = document(base, 2)["document"]
        assert get(base + "api/model?source=3")[0] == 200 and "error" in json.loads(get(base + "api/model?source=3")[2])
    assert conv["model"] == "conv_stack"
    assert "kv_cache" not in {q["name"] for q in conv["quantities"]}        # a CNN caches no keys
    values = {s["name"]: value(qwen, s["default"], {}) for s in qwen["symbols"] if s["default"] is not None}
    kv = next(q for q in qwen["quantities"] if q["name"] == "kv_cache")
    want = cli_json("formula", tmp_path / "qwen2-0.5b", "--of", "kv_cache", "--format", "json")
    assert value(qwen, kv["f"], values) == want["value"]
    assert find_sources(str(tmp_path / "gpt2.sp")) == [tmp_path / "gpt2.sp"]


def test_a_file_of_several_models_and_either_convention(tmp_path):
    path = tmp_path / "two.sp"
    path.write_text(FOLLOW + "\n" + GPT2.read_text().replace("model gpt2(", "model small_gpt("))
    with serving(path) as base:
        first = document(base)["document"]
        status, _, body = get(base + "api/model?source=0&model=small_gpt&convention=torch")
        second = json.loads(body)["document"]
        missing = json.loads(get(base + "api/model?source=0&model=nope")[2])["error"]
    assert first["models"] == ["follow", "small_gpt"] and first["model"] == "follow"
    assert second["model"] == "small_gpt" and second["convention"] == "torch"
    assert missing["message"] == "the file has no model 'nope'"


def test_the_command_prints_its_address_and_serves(gpt2):
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    env.pop("DISPLAY", None)
    proc = subprocess.Popen([sys.executable, "-m", "symparams", "serve", str(gpt2), "--no-open"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    try:
        line = proc.stdout.readline()
        m = re.search(r"at (http://127\.0\.0\.1:\d+/)", line)
        assert m, line
        assert get(m.group(1))[0] == 200
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def test_the_wheel_ships_the_page_and_it_works_offline(tmp_path, gpt2):
    """Built as a wheel and run from it: the page and its assets come from the package, and nothing
    the page loads is fetched from elsewhere (no CDN)."""
    pytest.importorskip("hatchling")
    build = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-w",
                            str(tmp_path), str(ROOT)], capture_output=True, text=True)
    assert build.returncode == 0, build.stderr
    wheel = next(tmp_path.glob("symparams-*.whl"))
    names = zipfile.ZipFile(wheel).namelist()
    assert {f"symparams/serve/static/{n}" for n in ("index.html", "app.js", "app.css")} <= set(names)
    site = tmp_path / "site"
    zipfile.ZipFile(wheel).extractall(site)
    env = {**os.environ, "PYTHONPATH": str(site)}
    env.pop("DISPLAY", None)
    proc = subprocess.Popen([sys.executable, "-m", "symparams", "serve", str(gpt2), "--no-open"], cwd=tmp_path,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    try:
        base = re.search(r"at (http://127\.0\.0\.1:\d+/)", proc.stdout.readline()).group(1)
        page = get(base)[2].decode()
        assert get(base + "static/app.js")[0] == 200 and get(base + "static/app.css")[0] == 200
        for text in (page, get(base + "static/app.css")[2].decode(), get(base + "static/app.js")[2].decode()):
            assert not re.search(r"(src|href)=\"?(https?:)?//", text) and "@import" not in text
            assert "cdn" not in text.lower() and "fetch(\"http" not in text
    finally:
        proc.terminate()
        proc.wait(timeout=10)


# ---------------------------------------------------------------- the page, in Chromium

def browser():
    """(playwright's sync API, the chromium path), or skip saying what is missing."""
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.skip("the browser tests need the playwright package (pip install playwright; it drives the "
                    "system chromium, no browser download)")
    if not Path(CHROMIUM).exists():
        pytest.skip(f"the browser tests need chromium at {CHROMIUM} (apt-get install chromium)")
    return sync_playwright


@pytest.fixture(scope="module")
def chromium():
    sync_playwright = browser()
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        yield b
        b.close()


def open_page(chromium, url):
    page = chromium.new_page(viewport={"width": 1280, "height": 900})
    problems = []
    page.on("pageerror", lambda e: problems.append(str(e)))
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page.goto(url)
    page.wait_for_selector("#table tbody tr")
    page.problems = problems
    return page


def move(page, symbol, value):
    """Drag a slider to `value`: set it as the browser does and fire its input event."""
    page.eval_on_selector(f"input[type=range][data-symbol='{symbol}']",
                          "(e, v) => { e.step = 'any'; e.max = Math.max(+e.max, v); e.value = v; "
                          "e.dispatchEvent(new Event('input', {bubbles: true})); }", value)


def type_value(page, symbol, value):
    page.fill(f"input[type=number][data-symbol='{symbol}']", str(value))


def summary_lines(path, *sets) -> dict:
    code, out, _ = run_cli("summary", path, *(["--set", *sets] if sets else []))
    assert code == 0
    return {line.split(":")[0]: line for line in out.splitlines() if line.startswith(("Total", "Trainable", "Non-"))}


def test_the_slider_moves_the_table_to_what_summary_prints(chromium, gpt2):
    with serving(gpt2) as base:
        page = open_page(chromium, base)
        move(page, "d", 1536)
        summary = cli_json("summary", gpt2, "--format", "json", "--set", "d=1536")
        texts = summary_lines(gpt2, "d=1536")
        for key, label in (("params", "Total params"), ("trainable", "Trainable params"),
                           ("non_trainable", "Non-trainable params"), ("macs", "Total MACs")):
            shown = page.inner_text(f".total[data-key={key}] .value")
            head = texts[label].split("   ")[0].split(": ", 1)[1]        # '124,439,808 (474.70 MB)'
            assert shown == head, (shown, texts[label])
            node = page.query_selector(f".total[data-key={key}] .formula")
            formula = node.get_attribute("data-text") if node else None
            assert formula == (summary["totals"][key]["expr"] if node else None)
            assert node or summary["totals"][key]["expr"] == str(summary["totals"][key]["value"])
            if formula:                 # typeset: the browser laid the MathML out
                assert page.eval_on_selector(f".total[data-key={key}] math", "m => m.getBoundingClientRect().width") > 40
        rows = page.query_selector_all("#table tbody tr")
        assert len(rows) == len(summary["layers"])
        for tr, want in zip(rows, summary["layers"]):
            cells = tr.query_selector_all(".value")
            assert cells[0].inner_text() == "(None, " + ", ".join(map(str, want["output_shape"]["value"])) + ")"
            assert cells[1].inner_text() == f"{want['params']['value']:,}"
        assert page.inner_text("#title").endswith("at V=50257, T=1024, d=1536, L=12, h=12")
        formula = cli_json("formula", gpt2, "--of", "kv_cache", "--set", "d=1536", "--format", "json")
        kv = page.inner_text(".quantity[data-name=kv_cache] .qvalue")
        code, text, _ = run_cli("formula", gpt2, "--of", "kv_cache", "--set", "d=1536")
        assert kv == text.splitlines()[-1].strip().split("   at ")[0].lstrip("= ")
        assert kv.startswith(f"{formula['value']:,} bytes")
        # the MACs column and the expanded rows agree with summary --expand too
        page.check("#expand")
        page.check("#show-macs")
        expanded = page.query_selector_all("#table tbody tr")
        assert len(expanded) > len(rows)
        assert not page.problems, page.problems
        page.close()


def test_a_size_breaking_a_rule_is_refused_with_the_rule(chromium, gpt2):
    with serving(gpt2) as base:
        page = open_page(chromium, base)
        type_value(page, "d", 770)
        refusal = page.inner_text("#refusal")
        code, _, err = run_cli("summary", gpt2, "--set", "d=770")
        assert code == 2
        message = err.splitlines()[0].split("value error: ", 1)[1]      # 'where d % h == 0, which does not hold ...'
        assert message in refusal
        assert page.inner_text(".total[data-key=params] .value") == "—"
        assert page.inner_text(".quantity[data-name=kv_cache] .qvalue") == "—"
        type_value(page, "d", 0)
        assert "d must be a positive whole number, found 0" in page.inner_text("#refusal")
        type_value(page, "d", 1536)
        assert page.is_hidden("#refusal")
        page.close()


def test_solve_in_the_page_is_symparams_solve(chromium, gpt2):
    with serving(gpt2) as base:
        page = open_page(chromium, base)
        page.select_option("#solve-symbol", "d")
        page.select_option("#solve-of", "params")
        page.fill("#solve-budget", "350M")
        page.fill("#solve-multiple", "64")
        page.click("#solve-go")
        page.locator("#solve-result", has_text=re.compile(r"^d = \d+")).wait_for()   # (no eval: the page's policy)
        code, out, _ = run_cli("solve", gpt2, "--for", "d", "--budget", "350M", "--multiple-of", "64")
        assert page.inner_text("#solve-result") == out.rstrip("\n")
        assert page.query_selector("#plot circle.solved") and page.query_selector("#plot line.budget")
        page.click("#solve-use")
        x = re.match(r"d = (\d+)", out).group(1)
        assert page.input_value("input[type=number][data-symbol=d]") == x
        texts = summary_lines(gpt2, f"d={x}")
        assert page.inner_text(".total[data-key=params] .value") == texts["Total params"].split("   ")[0].split(": ")[1]
        page.close()


def test_plot_copy_and_download(chromium, gpt2):
    with serving(gpt2) as base:
        page = open_page(chromium, base)
        page.select_option("#plot-of", "training_memory")
        page.select_option("#plot-symbol", "L")
        page.check("#plot-logy")
        assert page.evaluate("window.__symparams.plotPoints") > 10
        assert page.query_selector("#plot path.curve").get_attribute("d").count("L") > 10
        with page.expect_download() as svg:
            page.click("#plot-svg")
        assert svg.value.suggested_filename == "gpt2-training_memory-L.svg"
        assert "<path" in Path(svg.value.path()).read_text()
        with page.expect_download() as png:
            page.click("#plot-png")
        assert Path(png.value.path()).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
        page.click(".total[data-key=params] .copy-latex")
        want = cli_json("formula", gpt2, "--of", "params", "--format", "json")
        assert page.evaluate("window.__symparams.copied") == want["latex"]
        page.click(".total[data-key=params] .copy-text")
        assert page.evaluate("window.__symparams.copied") == want["expr"]
        page.close()


def test_an_error_in_the_file_shows_its_line_and_hint_and_saving_reloads(chromium, gpt2):
    good = gpt2.read_text()
    with serving(gpt2) as base:
        page = open_page(chromium, base)
        gpt2.write_text(good.replace("dense(d)(m)", "dense(dd)(m)"))
        os.utime(gpt2, ns=(time.time_ns(), time.time_ns() + 10**9))
        page.wait_for_selector("#file-error:not([hidden])", timeout=10_000)
        code, _, err = run_cli("check", gpt2)
        assert page.inner_text("#file-error .error-text") == err.rstrip("\n")
        head = page.inner_text("#file-error .error-head")
        line = re.search(r":(\d+):(\d+):", err)
        assert f"line {line.group(1)}, column {line.group(2)}" in head
        assert "hint:" in err and err.split("hint: ")[1].strip() in page.inner_text("#file-error .error-text")
        gpt2.write_text(good.replace("L = 12", "L = 24"))
        os.utime(gpt2, ns=(time.time_ns(), time.time_ns() + 2 * 10**9))
        page.wait_for_selector("#file-error", state="hidden", timeout=10_000)
        texts = summary_lines(gpt2)
        assert page.inner_text(".total[data-key=params] .value") == texts["Total params"].split("   ")[0].split(": ")[1]
        page.close()


FOLLOW = """model follow(d = 768, h = d / 64, classes):
    where h >= 2
    input (d)
    dense(h * 4)
    dense(classes)
"""


def test_a_default_that_follows_another_symbol_and_a_symbol_with_none(chromium, tmp_path):
    path = tmp_path / "follow.sp"
    path.write_text(FOLLOW)
    with serving(path) as base:
        page = open_page(chromium, base)
        assert page.inner_text(".sym[data-symbol=h] .sym-follows") == "= d/64"
        assert page.inner_text(".total[data-key=params] .value") == "? (classes has no value)"
        assert summary_lines(path)["Total params"].startswith("Total params: ? (classes has no value)")
        for d in (770, 64):
            type_value(page, "d", d)
            code, _, err = run_cli("summary", path, "--set", f"d={d}")
            assert code == 2
            assert err.splitlines()[0].split("value error: ", 1)[1] in page.inner_text("#refusal")
        type_value(page, "d", 1024)
        assert page.input_value("input[type=number][data-symbol=h]") == "16"
        type_value(page, "classes", 10)
        texts = summary_lines(path, "d=1024", "classes=10")
        assert page.inner_text(".total[data-key=params] .value") == texts["Total params"].split("   ")[0].split(": ")[1]
        assert not page.problems, page.problems
        page.close()


def flattened(layers):
    for layer in layers:
        yield layer
        yield from flattened(layer.get("children", []))


def test_every_row_expanded_is_exact_where_sizes_floor(chromium, tmp_path):
    """Swin-T's sizes are floors of halves of floors: every row, every block's inner row, its shape,
    parameters and MACs at an odd setting, as `summary --format json` gives them."""
    path = tmp_path / "swin_t.sp"
    shutil.copy(ROOT / "examples" / "zoo" / "swin_t.sp", path)
    setting = {"H": 321, "W": 287, "d": 64, "w": 5, "n3": 3}
    with serving(path) as base:
        page = open_page(chromium, base)
        page.check("#expand")
        page.check("#show-macs")
        for name, v in setting.items():
            type_value(page, name, v)
        want = list(flattened(cli_json("summary", path, "--format", "json", "--set",
                                       *[f"{k}={v}" for k, v in setting.items()])["layers"]))
        shown = page.evaluate("""() => [...document.querySelectorAll('#table tbody tr')].map(tr =>
            [...tr.querySelectorAll('.value')].map(v => v.textContent))""")
        assert len(shown) == len(want) > 50
        for (shape, params, macs), row in zip(shown, want):
            assert shape == "(None, " + ", ".join(map(str, row["output_shape"]["value"])) + ")", row["name"]
            assert (params, macs) == (f"{row['params']['value']:,}", f"{row['macs']['value']:,}"), row["name"]
        texts = summary_lines(path, *[f"{k}={v}" for k, v in setting.items()])
        assert page.inner_text(".total[data-key=macs] .value") == texts["Total MACs"].split("   ")[0].split(": ")[1]
        assert not page.problems, page.problems
        page.close()


def test_layout_fits_1280_pixels_without_overlaps(chromium, gpt2, tmp_path):
    with serving(gpt2) as base:
        page = open_page(chromium, base)
        page.fill("#solve-budget", "350M")
        page.click("#solve-go")
        page.locator("#solve-result", has_text=re.compile(r"^d = \d+")).wait_for()   # (no eval: the page's policy)
        shot = tmp_path / "serve.png"
        page.screenshot(path=str(shot), full_page=True)
        assert shot.stat().st_size > 10_000
        assert page.evaluate("document.documentElement.scrollWidth") <= 1280
        assert page.evaluate("(() => { const w = document.getElementById('table-wrap'); "
                             "return w.scrollWidth <= w.clientWidth; })()")
        boxes = page.evaluate("""() => ['side', 'title', 'table-wrap', 'totals', 'llm-panel', 'plot-panel']
            .map(id => { const r = document.getElementById(id).getBoundingClientRect();
                         return [id, r.left, r.top, r.right, r.bottom]; })""")
        for i, a in enumerate(boxes):
            for b in boxes[i + 1:]:
                overlap = min(a[3], b[3]) - max(a[1], b[1]) > 1 and min(a[4], b[4]) - max(a[2], b[2]) > 1
                assert not overlap, (a, b)
        # cells of the table: each row's cells side by side, none over another
        cells = page.evaluate("""() => [...document.querySelectorAll('#table tbody tr')].map(tr =>
            [...tr.children].map(td => { const r = td.getBoundingClientRect(); return [r.left, r.right]; }))""")
        for row in cells:
            assert all(a[1] <= b[0] + 1 for a, b in zip(row, row[1:])), row
        page.check("#show-macs")           # the MACs column too: the long formulas scroll within their cells
        page.check("#expand")
        assert page.evaluate("document.documentElement.scrollWidth") <= 1280
        assert page.evaluate("(() => { const w = document.getElementById('table-wrap'); "
                             "return w.scrollWidth <= w.clientWidth; })()")
        page.uncheck("#show-macs")
        page.uncheck("#expand")
        if os.environ.get("SYMPARAMS_SCREENSHOT"):       # docs/serve.png is made this way
            shutil.copy(shot, os.environ["SYMPARAMS_SCREENSHOT"])
        page.close()


def hundred_layers(path: Path) -> Path:
    lines = ["model deep(H = 32, W = 32, C = 3, w = 64, classes = 10):", "    where w % 8 == 0", "    input (H, W, C)"]
    for i in range(100):
        lines.append("    conv2d(w, 3, padding=same)" if i % 2 == 0 else "    batchnorm")
    lines += ["    flatten", "    dense(classes)"]
    path.write_text("\n".join(lines) + "\n")
    return path


def test_a_slider_move_on_a_hundred_layer_model_is_exact(chromium, tmp_path):
    path = hundred_layers(tmp_path / "deep.sp")
    with serving(path) as base:
        page = open_page(chromium, base)
        assert len(page.query_selector_all("#table tbody tr")) == 102
        ms = page.evaluate("""() => {
            const S = window.__symparams, times = [];
            for (let i = 0; i < 120; i++) {
                const t0 = performance.now();
                S.setSymbol('w', 8 * (1 + (i % 64)));
                times.push(performance.now() - t0);
            }
            times.sort((a, b) => a - b);
            return {median: times[60], p95: times[114], max: times[119]};
        }""")
        plot = page.evaluate("""() => {
            const S = window.__symparams, times = [];
            for (let i = 0; i < 30; i++) { S.setSymbol('w', 8 * (1 + i)); S.drawPlot(); times.push(S.lastPlotMs); }
            times.sort((a, b) => a - b);
            return {median: times[15], points: S.plotPoints};
        }""")
        # (how fast: benchmarks/serve_slider.py, docs/performance.md; tests time nothing)
        assert plot["points"] > 0 and ms["median"] >= 0
        move(page, "w", 96)
        texts = summary_lines(path, "w=96")
        assert page.inner_text(".total[data-key=params] .value") == texts["Total params"].split("   ")[0].split(": ")[1]
        assert page.inner_text(".total[data-key=macs] .value") == texts["Total MACs"].split("   ")[0].split(": ")[1]
        page.close()
