"""`symparams sweep`: compiled NumPy evaluation agrees exactly with evaluating the formulas one by one."""
import sys
from pathlib import Path

import pytest

import symparams
from symparams import sweep
from symparams.cli import main
from symparams.errors import ArgumentError, SymparamsError

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"

GPT_LIKE = """\
model gpt(V = 50257, T = 1024, d = 768, h = 12):
    where d % h == 0
    tokens = input (T) int
    x = embedding(V, d)(tokens)
    x = layernorm(x)
    m = dense(4 * d)(x)
    x = x + dense(d)(m)
    logits = dense(V, use_bias=false)(x)
"""

# Floors (strided convolutions) and a piecewise size (PyTorch's ceil_mode).
STRIDED = """\
convention torch
model strided(C = 3, H = 32):
    input (C, H, H)
    conv2d(8, 3, strides=2)
    conv2d(8, 3, strides=3, padding=1)
    maxpool2d(3, strides=2, ceil_mode=true)
    flatten
    dense(10)
"""
# Ceilings: Keras's same padding with a stride.
SAME = """\
model same(H = 32):
    input (H, H, 3)
    conv2d(4, 3, strides=3, padding=same)
    flatten
    dense(5)
"""


def one_by_one(model, name, value, of):
    ev = model.evaluate({name: value})
    return {"params": ev.params, "macs": ev.macs}[of]


@pytest.mark.parametrize("source, name, values", [
    (GPT_LIKE, "d", range(12, 600, 12)),
    (STRIDED, "H", range(1, 120)),
    (SAME, "H", range(1, 50)),
])
def test_sweep_equals_evaluation(source, name, values):
    model = symparams.parse(source)
    result = sweep.run(model, {name: list(values)}, ["params", "macs"])
    got = {r[name]: (r["params"], r["macs"]) for r in result.rows()}
    expected = {}
    for v in values:
        try:
            expected[v] = (one_by_one(model, name, v, "params"), one_by_one(model, name, v, "macs"))
        except symparams.errors.ValueProblem:
            pass  # too small: some layer's output is empty, so the sweep leaves it out too
    assert got == expected
    assert result.empty == len(values) - len(expected)


def test_grid_and_where_rule():
    model = symparams.parse(GPT_LIKE)
    result = sweep.run(model, {"d": list(range(64, 257, 32)), "h": [8, 12]}, ["params"])
    kept = [(r["d"], r["h"]) for r in result.rows()]
    assert kept == [(d, h) for d in range(64, 257, 32) for h in (8, 12) if d % h == 0]
    assert result.dropped == 14 - len(kept)
    assert all(r["params"] == model.evaluate({"d": r["d"], "h": r["h"]}).params for r in result.rows())


def test_overflow_switches_to_exact_python_integers():
    model = symparams.parse(GPT_LIKE)
    small = sweep.run(model, {"d": [768]}, ["params"])
    huge_d = [3 * 10**9, 3 * 10**9 + 3]   # d**2 terms pass 2**63
    huge = sweep.run(model, {"d": huge_d}, ["params", "macs"])
    assert small.exact_dtype == "int64" and huge.exact_dtype == "object"
    for r in huge.rows():
        ev = model.evaluate({"d": r["d"]})
        assert r["params"] == ev.params and r["macs"] == ev.macs and ev.macs > 2**63


def test_vary_ranges_include_both_ends():
    assert sweep.parse_vary("d=256:1024:256") == ("d", [256, 512, 768, 1024])
    assert sweep.parse_vary("L=12,24,48") == ("L", [12, 24, 48])
    assert sweep.parse_vary("V=1K:3K:1K") == ("V", [1000, 2000, 3000])
    with pytest.raises(ArgumentError, match="empty"):
        sweep.parse_vary("d=10:1")


def test_cli_csv(tmp_path, capsys):
    code = main(["sweep", str(EXAMPLES / "mnist_dense.sp"), "--vary", "classes=1:3", "--of", "params,macs"])
    out = capsys.readouterr().out.splitlines()
    assert code == 0
    assert out == ["classes,params,macs", "1,785,784", "2,1570,1568", "3,2355,2352"]


def test_plot_written_or_missing_matplotlib_said_clearly(tmp_path, monkeypatch):
    model = symparams.parse(GPT_LIKE)
    result = sweep.run(model, {"d": [96, 192, 384], "h": [8, 12]}, ["params", "macs"])
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    with pytest.raises(SymparamsError, match=r"pip install 'symparams\[plot\]'"):
        sweep.plot(result, str(tmp_path / "none.png"), "gpt")
    monkeypatch.undo()
    pytest.importorskip("matplotlib")
    sweep.plot(result, str(tmp_path / "gpt.png"), "gpt")
    assert (tmp_path / "gpt.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_zip_varies_symbols_together():
    model = symparams.parse(GPT_LIKE)
    result = sweep.run(model, {"d": [768, 1024, 1280], "h": [12, 16, 20]}, ["params"], zipped=True)
    assert [(r["d"], r["h"]) for r in result.rows()] == [(768, 12), (1024, 16), (1280, 20)]
    with pytest.raises(ArgumentError, match="as many values each"):
        sweep.run(model, {"d": [768, 1024], "h": [12]}, ["params"], zipped=True)


def test_a_where_rule_that_drops_rows_is_named_with_a_fix(capsys):
    code = main(["sweep", str(EXAMPLES / "gpt2.sp"), "--vary", "d=256:4096:256", "--vary", "L=12,24"])
    err = capsys.readouterr().err
    assert code == 0
    assert "note: `where d % h == 0` leaves out 22 of 32 configurations; --vary d=264:4096:264 keeps d a " \
           "multiple of 12" in err
    assert main(["sweep", str(EXAMPLES / "gpt2.sp"), "--vary", "d=264:4096:264", "--vary", "L=12,24"]) == 0
    assert capsys.readouterr().err == ""


def test_table_format(capsys):
    assert main(["sweep", str(EXAMPLES / "mnist_dense.sp"), "--vary", "classes=10,1000", "--format", "table"]) == 0
    assert capsys.readouterr().out.splitlines() == ["classes   params", "     10    7,850", "  1,000  785,000"]


def test_rows_whose_input_has_no_size_are_left_out(tmp_path, capsys):
    """As at one setting (Evaluation.check), every axis of every input is at least 1 in each row."""
    from symparams.cli import main
    f = tmp_path / "m.sp"
    f.write_text("model m(d = 16):\n    input (d - 8)\n    dense(3)\n")
    assert main(["sweep", str(f), "--vary", "d=4:12:2"]) == 0
    out, err = capsys.readouterr()
    assert out.splitlines() == ["d,params", "10,9", "12,15"]
    assert "3 configurations leave an input or a layer a size <= 0" in err
