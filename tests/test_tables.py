"""The summary table: fits COLUMNS, plain when piped, one table model behind every format."""
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

import symparams
from symparams import render, table

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"
MODELS = sorted(EXAMPLES.glob("*.sp")) + sorted((EXAMPLES / "zoo").glob("*.sp"))


def summary(*args, columns=None):
    env = {k: v for k, v in os.environ.items() if k != "COLUMNS"}
    if columns:
        env["COLUMNS"] = str(columns)
    return subprocess.run([sys.executable, "-m", "symparams", "summary", *map(str, args)], capture_output=True,
                          text=True, cwd=ROOT, env=env)


@pytest.mark.parametrize("width", [80, 100])
@pytest.mark.parametrize("path", MODELS, ids=lambda p: p.stem)
def test_the_table_fits_the_terminal(path, width):
    model = symparams.load(path)
    for expand in (False, True):
        shown = render.text_table(model, model.evaluate(), expand=expand, width=width,
                                  columns=("output_shape", "params", "macs", "formula"))
        too_wide = [line for line in shown.splitlines() if len(line) > width]
        assert not too_wide, too_wide[0]


def test_columns_env_reaches_the_command_and_a_pipe_gets_plain_text():
    run = summary("examples/zoo/mobilenet_v2.sp", columns=80)
    lines = run.stdout.splitlines()
    assert run.returncode == 0 and max(len(line) for line in lines) <= 80
    assert "\x1b[" not in run.stdout
    wide = summary("examples/zoo/mobilenet_v2.sp", columns=100).stdout.splitlines()
    assert max(len(line) for line in wide) <= 100 and len(wide) < len(lines)


def test_a_formula_sits_beneath_its_number():
    m = symparams.load(EXAMPLES / "mnist_dense.sp")
    lines = render.text_table(m, m.evaluate(), width=100).splitlines()
    number = next(i for i, line in enumerate(lines) if line.startswith("dense_1"))
    assert lines[number].endswith("7,850") and lines[number + 1].endswith("classes*(H*W + 1)")


def test_one_printed_form_of_each_total():
    """Total and Trainable are one expression: they print alike (issue 14's three forms of GPT-2's)."""
    m = symparams.load(EXAMPLES / "gpt2.sp")
    t = table.build(m, m.evaluate())
    forms = {total.key: total.formula for total in t.totals}
    assert forms["params"] == forms["trainable"] == "d*(12*L*d + 13*L + T + V + 2)"
    data = render.to_json(m, m.evaluate())
    assert data["totals"]["params"]["expr"] == data["totals"]["trainable"]["expr"] == forms["params"]
    assert "d*(12*L*d + 13*L + T + V + 2)" in render.markdown_table(m, m.evaluate())


def test_totals_include_macs():
    run = summary("examples/mnist_dense.sp")
    assert "Total MACs: 7,840" in run.stdout and "= H*W*classes" in run.stdout


def test_columns_choose_what_is_shown():
    run = summary("examples/mnist_dense.sp", "--columns", "output_shape,params,trainable,macs,memory")
    header = run.stdout.splitlines()[1].split()
    assert header == ["Layer", "(type)", "Output", "Shape", "Param", "#", "Trainable", "MACs", "Output", "size"]
    dense = next(line for line in run.stdout.splitlines() if line.startswith("dense_1"))
    assert dense.split()[-5:] == ["7,850", "True", "7,840", "40.00", "B"]
    assert "classes*(H*W + 1)" not in run.stdout.split("Total")[0]     # no formula column asked for
    bad = summary("examples/mnist_dense.sp", "--columns", "parms")
    assert bad.returncode == 2 and "did you mean 'params'" in bad.stderr


def test_markdown_and_latex_follow_the_columns():
    m = symparams.load(EXAMPLES / "mnist_dense.sp")
    ev = m.evaluate()
    md = render.markdown_table(m, ev, columns=("output_shape", "macs", "formula"))
    assert "| Layer (type) | Output Shape | Shape formula | MACs | MAC formula |" in md
    assert "| dense_1 (Dense) | `(None, 10)` | `(None, classes)` | 7,840 | `H*W*classes` |" in md
    tex = render.latex_table(m, ev, columns=("params", "macs"))
    assert r"Layer (type) & Param \# & MACs \\" in tex and r"dense\_1 (Dense) & 7{,}850 & 7{,}840 \\" in tex


def test_depth_shows_nested_levels_and_names_repeats_by_path():
    m = symparams.load(EXAMPLES / "gpt2.sp")
    ev = m.evaluate()
    one = table.build(m, ev, depth=1)
    assert [line.label for line in one.lines if line.depth == 1] == ["gpt_layer_1 (gpt_layer)"]
    full = table.build(m, ev, depth=None)
    labels = [line.label for line in full.lines]
    # layernorm_1 is a row of the model and of the block: the inner one is named by its path
    assert "gpt_layer_1/layernorm_1 (LayerNormalization)" in labels and "layernorm_1 (LayerNormalization)" in labels
    assert "multihead_attention_1 (MultiHeadAttention)" in labels     # named once: no path
    inner = next(line for line in full.lines if line.label.startswith("gpt_layer_1/layernorm_1"))
    assert m.row(inner.label.split()[0]).node is inner.row.node
    run = summary("examples/gpt2.sp", "--depth", "1")
    assert "  gpt_layer_1 (gpt_layer)" in run.stdout and "multihead_attention_1" not in run.stdout


def test_notebook_html_has_formulas_notes_and_assumptions():
    m = symparams.load(EXAMPLES / "gpt2.sp")
    html = m._repr_html_()
    assert "<code>(None, T, d)</code>" in html and "tied to wte" in html and "Assumes: <code>where d % h == 0" in html
    assert "\\(" in html        # the totals' LaTeX, typeset where the notebook has MathJax


def test_json_stays_json_with_every_option():
    run = summary("examples/gpt2.sp", "--format", "json", "--memory", "--expand", "--depth", "2")
    assert json.loads(run.stdout)["memory"]["rule"] == "torchsummary"


@pytest.mark.parametrize("path", [EXAMPLES / "gpt2.sp", EXAMPLES / "conv_stack.sp", EXAMPLES / "har_lstm.sp",
                                  EXAMPLES / "zoo" / "mixtral_8x7b.sp", EXAMPLES / "zoo" / "mobilenet_v2.sp"],
                         ids=lambda p: p.stem)
def test_a_long_models_table_is_laid_out_as_rich_lays_it_out(path):
    """Past render.RICH_ROWS rows the table is laid out without rich (rich's cost per cell would
    dominate); where no cell needs folding, the two layouts are the same text."""
    model = symparams.load(path)
    t = render._table(model, model.evaluate(), False, None, 0)
    assert render._plain_text(t, 100) == render.render_text(t, 100)


def test_a_long_table_is_complete_and_fits():
    text = "model m(d = 8):\n    input (d)\n" + "    dense(d)\n" * 2000
    model = symparams.parse(text)
    shown = render.text_table(model, model.evaluate(), width=80)
    assert "dense_2000 (Dense)" in shown and "Total params: 144,000" in shown
    assert max(len(line) for line in shown.splitlines()) <= 80
