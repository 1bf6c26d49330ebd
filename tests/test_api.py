"""The Python API: Model.summary() as torchinfo's statistics object, to_json, to_latex, short reprs."""
import json
from pathlib import Path

import symparams

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


def test_summary_object_holds_the_figures_and_prints_the_table():
    m = symparams.load(EXAMPLES / "gpt2.sp")
    s = m.summary({"d": 1536}, columns=("output_shape", "params", "macs"))
    assert (s.total_params, s.trainable_params, s.non_trainable_params) == (418_748_928, 418_748_928, 0)
    assert s.total_macs == m.evaluate({"d": 1536}).macs and s.total_macs > 0
    assert s.formulas["params"] == "d*(12*L*d + 13*L + T + V + 2)"
    assert s.memory["rule"] == "torchsummary" and s.memory["params"]["bytes"] == 4 * 418_748_928
    assert [r.row.name for r in s.rows][:2] == ["wte", "position_embedding_1"]
    text = str(s)
    assert "Total params: 418,748,928" in text and "Total MACs:" in text and "MACs" in text.splitlines()[1]
    assert repr(s) == f"<Summary of gpt2: 418,748,928 params, {s.total_macs:,} MACs>"
    assert "<table>" in s._repr_html_()


def test_summary_depth_reaches_inside_blocks():
    m = symparams.load(EXAMPLES / "gpt2.sp")
    assert any(r.depth == 2 for r in m.summary(depth=None).rows)
    assert all(r.depth == 0 for r in m.summary().rows)


def test_to_json_and_to_latex():
    m = symparams.load(EXAMPLES / "mnist_dense.sp")
    data = json.loads(m.to_json({"H": 32}))
    assert data["values"]["H"] == 32 and data["totals"]["params"]["value"] == 10 * (32 * 28 + 1)
    assert m.to_latex().startswith(r"\begin{tabular}")


def test_short_reprs():
    m = symparams.load(EXAMPLES / "gpt2.sp")
    assert repr(m.evaluate()) == "<Evaluation of gpt2 at V=50257, T=1024, d=768, L=12, h=12: params = 124,439,808>"
    assert len(repr(m.row("gpt_layer_1"))) < 100
