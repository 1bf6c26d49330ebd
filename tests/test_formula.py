"""`symparams formula` and the paper-facing output: LaTeX, Markdown, JSON, rearranged closed forms."""
import json
from pathlib import Path

import pytest
import sympy as sp

import symparams
from symparams.cli import main
from symparams.formulas import latex, latex_number, quantity, rearrange

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


def run(capsys, *argv):
    code = main([str(a) for a in argv])
    out = capsys.readouterr()
    return code, out.out, out.err


def test_dense_layer_latex(capsys):
    # The seed's 7,850: classes * (H*W + 1), with the user's multi-letter name kept as one word.
    code, out, _ = run(capsys, "formula", EXAMPLES / "mnist_dense.sp", "--layer", "dense_1", "--format", "latex")
    assert code == 0
    assert out.strip() == r"\mathit{classes} \left(H W + 1\right) = 7{,}850"


def test_text_and_json(capsys):
    code, out, _ = run(capsys, "formula", EXAMPLES / "mnist_dense.sp")
    assert out.splitlines() == ["params of model mnist_dense (keras convention):", "  classes*(H*W + 1)",
                                "  = 7,850   at H=28, W=28, classes=10"]
    code, out, _ = run(capsys, "formula", EXAMPLES / "text_cnn.sp", "--layer", "maxpool1d_1", "--of", "shape",
                       "--format", "json")
    data = json.loads(out)
    assert data["expr"] == "(None, T - 9, 32)" and data["value"] == [26, 32]   # the seed's (None, 26, 32)


def test_symbol_names_as_written():
    model = symparams.parse("model m(d_model = 8, alpha = 2, n = 3, heads = 2):\n    input (n, d_model)\n"
                            "    dense(alpha * heads)\n")
    text = latex(model.row("dense_1").params)
    assert r"d_{model}" in text and r"\alpha" in text and r"\mathit{heads}" in text
    assert "h e a d s" not in text


def test_expand_factor_collect(capsys):
    model = symparams.load(EXAMPLES / "gpt2.sp")
    L, d = model.symbols["L"], model.symbols["d"]
    total = quantity(model, "params")
    collected = rearrange(total, "collect", model, "L")
    assert sp.expand(collected - total) == 0
    # L appears in exactly one term once its powers are collected: L*(12*d**2 + 13*d) + ...
    assert sum(1 for term in sp.Add.make_args(collected) if term.has(L)) == 1
    factored = rearrange(total, "factor")
    assert isinstance(factored, sp.Mul) and d in factored.args
    assert rearrange(factored, "expand") == sp.expand(total)
    code, out, _ = run(capsys, "formula", EXAMPLES / "gpt2.sp", "--collect", "L", "--format", "json")
    assert sp.expand(sp.sympify(json.loads(out)["expr"]) - sp.sympify(str(total))) == 0
    assert json.loads(out)["value"] == 124_439_808          # DESIGN.md's GPT-2 count


def test_numbers_for_papers():
    assert latex_number(124_439_808) == "124{,}439{,}808"
    assert latex_number(124_439_808, scientific=True) == r"\approx 1.24 \times 10^{8}"
    assert latex_number(7_000_000_000, scientific=True) == r"7 \times 10^{9}"
    assert latex_number(7850, scientific=True) == r"7.85 \times 10^{3}"


def test_markdown_and_scientific(capsys):
    code, out, _ = run(capsys, "formula", EXAMPLES / "gpt2.sp", "--format", "markdown", "--scientific")
    assert r"$$ d \left(12 L d + 13 L + T + V + 2\right) \approx 1.24 \times 10^{8} $$" in out
    assert "`d*(12*L*d + 13*L + T + V + 2)`" in out


def test_memory_breakdown(capsys):
    code, out, _ = run(capsys, "formula", EXAMPLES / "bn_cnn_torch.sp", "--of", "memory")
    lines = out.splitlines()
    assert lines[1].startswith("  Input size (MB): 0.02   = 4*B*S**2 bytes")
    assert lines[4].startswith("  Estimated Total Size (MB): 54.02")


def test_summary_latex_tabular(capsys):
    code, out, _ = run(capsys, "summary", EXAMPLES / "mnist_dense.sp", "--format", "latex")
    assert out.startswith(r"\begin{tabular}") and out.strip().endswith(r"\end{tabular}")
    assert r"dense\_1 (Dense) & $(\mathrm{None}, \mathit{classes})$ & $(\mathrm{None}, 10)$ & 7{,}850 & " \
           r"$\mathit{classes} \left(H W + 1\right)$ \\" in out


def test_notebook_display():
    model = symparams.load(EXAMPLES / "mnist_dense.sp")
    assert model._repr_latex_() == r"$\mathrm{params} = \mathit{classes} \left(H W + 1\right)$"
    html = model._repr_html_()
    assert "<table>" in html and "7,850" in html and "classes*(H*W + 1)" in html


def test_mistakes_exit_2(capsys):
    code, _, err = run(capsys, "formula", EXAMPLES / "mnist_dense.sp", "--of", "param")
    assert code == 2 and "unknown quantity 'param'" in err and "did you mean 'params'" in err
    code, _, err = run(capsys, "formula", EXAMPLES / "mnist_dense.sp", "--layer", "dense_2")
    assert code == 2 and "did you mean 'dense_1'" in err
    code, _, err = run(capsys, "formula", EXAMPLES / "mnist_dense.sp", "--collect", "K")
    assert code == 2 and "no symbol 'K'" in err


@pytest.mark.parametrize("of, per_batch", [("macs", False), ("flops", True)])
def test_per_batch_uses_the_batch_symbol(of, per_batch):
    model = symparams.load(EXAMPLES / "conv_stack.sp")
    expr = quantity(model, of, per_batch=per_batch)
    B = sp.Symbol("B", integer=True, positive=True)
    assert (B in expr.free_symbols) == per_batch
