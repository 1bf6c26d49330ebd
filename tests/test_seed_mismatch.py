"""The seed's shape-mismatch question (issue 21, item 4): "expected shape=(None, 35), found
shape=(None, 31)". The table says which layer's weights fix the input size that differs, so a
reader sees why a model built for 35 cannot take 31; `formula --layer` shows a literal layer's sum.
"""
import html

import pytest

import symparams
from symparams.table import build, fixed_sizes

from seed_models import CNN, MNIST_CNN, run  # noqa: E402  (tests/ is on sys.path under pytest)


@pytest.fixture
def files(tmp_path):
    (tmp_path / "cnn.sp").write_text(CNN)
    (tmp_path / "q.sp").write_text(MNIST_CNN)
    return tmp_path


def test_the_table_says_the_dense_weights_fix_T(files, monkeypatch):
    monkeypatch.setenv("COLUMNS", "100")
    code, out = run("summary", files / "cnn.sp")
    assert code == 0
    assert "Total params: 4,145,231" in out                       # the asker's table, reproduced
    assert out.rstrip().endswith("dense_1's weights (96*T - 861) fix T: built at T=35, the model takes no other T")
    code, out = run("summary", files / "cnn.sp", "--set", "T=31")  # the data's length: other weights
    assert "2,115" in out and "built at T=31" in out


def test_only_the_first_layer_reading_a_size_through_a_flatten_is_named():
    m = symparams.parse(CNN)
    fixed = fixed_sizes(m, [(r.name, r) for r in m.rows])
    assert {path: [str(s) for s in found] for path, found in fixed.items()} == {"dense_1": ["T"]}
    # a size the layer reads as an axis of its input says it already: no note
    plain = symparams.parse("model m(d = 8, T = 5):\n    input (T, d)\n    lstm(4)\n    dense(2)\n")
    assert fixed_sizes(plain, [(r.name, r) for r in plain.rows]) == {}
    assert build(plain, plain.evaluate()).notes == []


def test_the_note_in_markdown_html_and_the_api(files):
    m = symparams.load(files / "q.sp")
    note = "dense_1's weights (4608*S*(S - 8) + 73856) fix S: built at S=28, the model takes no other S"
    assert build(m, m.evaluate()).notes == [note]
    code, out = run("summary", files / "q.sp", "--format", "markdown")
    assert f"- {note}" in out
    assert html.escape(note) in m._repr_html_()
    assert " ".join(note.split()) in " ".join(str(m.summary()).split())     # wrapped to the terminal


def test_formula_of_a_literal_layer_shows_its_sum(files):
    code, out = run("formula", files / "q.sp", "--layer", "conv2d_2")
    assert code == 0
    assert out.splitlines() == ["params of layer conv2d_2 (keras convention):", "  24*36*3*3 + 36", "  = 7,812"]
    code, out = run("formula", files / "q.sp", "--layer", "conv2d_2", "--format", "json")
    assert '"arithmetic": "24*36*3*3 + 36"' in out and '"value": 7812' in out
    code, out = run("formula", files / "q.sp", "--layer", "dense_1")        # a formula in S: unchanged
    assert out.splitlines()[1:] == ["  4608*S*(S - 8) + 73856", "  = 2,654,336   at S=28"]
    code, out = run("formula", files / "q.sp", "--layer", "flatten_1")      # no weights: no sum
    assert out.splitlines()[1:] == ["  0"]
