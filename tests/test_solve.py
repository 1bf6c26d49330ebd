"""`symparams solve`: exact answers, checked against brute force and against PyTorch's own counts."""
from pathlib import Path

import pytest
from hypothesis import given, settings, strategies as st

import symparams
from symparams.cli import main
from symparams.errors import ArgumentError, UnknownName
from symparams.solve import make_problem, solve_budget, solve_equal

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"

SEED_514 = "model m(n = 514):\n    input (n)\n    dense(n)\n    dense(257)\n"

# BERT-base as a sequential graph: the self-attention's four d x d projections written as dense layers
# (the same weights as nn.MultiheadAttention's in_proj and out_proj). L = 12 layers, unrolled.
BERT_LAYER = """\
    a = dense(d)(x)
    a = dense(d)(a)
    a = dense(d)(a)
    a = dense(d)(a)
    x = layernorm(x + a)
    m = dense(4 * d)(x)
    m = dense(d)(m)
    x = layernorm(x + m)
"""
BERT_LIKE = ("model bert(V = 30522, d = 768, P = 512, T = 128):\n"
             "    tokens = input (T) int\n"
             "    w = embedding(V, d)(tokens)\n"
             "    p = embedding(P, d)(tokens)\n"
             "    s = embedding(2, d)(tokens)\n"
             "    x = layernorm(w + p + s)\n"
             + BERT_LAYER * 12 +
             "    pooled = dense(d)(x)\n")


def torch_bert_params(V, d=768, P=512, L=12):
    """The same network's parameters as PyTorch counts them (meta device: no memory)."""
    import torch
    from torch import nn

    def block():
        return nn.ModuleList([nn.MultiheadAttention(d, 12), nn.LayerNorm(d), nn.Linear(d, 4 * d),
                              nn.Linear(4 * d, d), nn.LayerNorm(d)])
    with torch.device("meta"):
        net = nn.ModuleList([nn.Embedding(V, d), nn.Embedding(P, d), nn.Embedding(2, d), nn.LayerNorm(d),
                             *[block() for _ in range(L)], nn.Linear(d, d)])
    return sum(p.numel() for p in net.parameters())


def run(capsys, *argv):
    code = main(list(argv))
    out = capsys.readouterr()
    return code, out.out, out.err


def test_seed_dense_514(tmp_path, capsys):
    # The seed answer that divides by 4 gets 130; the count n*n + n = 264710 has the one root 514.
    f = tmp_path / "m.sp"
    f.write_text(SEED_514)
    code, out, _ = run(capsys, "solve", str(f), "--equals", "264710", "--layer", "dense_1", "--for", "n")
    assert code == 0
    assert out.splitlines()[0] == "n = 514"


def test_bert_vocabulary_from_its_count():
    # The seed's TFBertModel has 162,841,344 parameters; PyTorch counts the same at V = 100000.
    assert torch_bert_params(100000) == 162841344
    model = symparams.parse(BERT_LIKE)
    assert model.evaluate({"V": 30522}).params == torch_bert_params(30522)
    answer = solve_equal(make_problem(model, ["V"]), 162841344)
    assert answer.solutions == [100000] and answer.method == "polynomial roots"


def test_bert_zoo_vocabulary(capsys):
    bert = EXAMPLES / "zoo" / "bert.sp"
    if not bert.exists():
        pytest.skip("examples/zoo/bert.sp is not in this checkout")
    code, out, _ = run(capsys, "solve", str(bert), "--model", "bert_base", "--equals", "162841344", "--for", "V")
    assert code == 0 and out.splitlines()[0] == "V = 100000"


def test_no_whole_solution_is_said_plainly(tmp_path, capsys):
    f = tmp_path / "m.sp"
    f.write_text(SEED_514)
    code, out, _ = run(capsys, "solve", str(f), "--equals", "264711", "--layer", "dense_1", "--for", "n")
    assert code == 1
    assert out.startswith("no whole number n gives")
    assert "between n = 514 (264,710) and n = 515 (265,740)" in out


def test_exact_root_and_a_range_of_solutions():
    model = symparams.parse("model m(x = 5):\n    input (x)\n    dense(x)\n    dense(1)\n")
    # params = x*x + x + x + 1 = (x + 1)**2: the root -9 of (x + 1)**2 = 64 is not a size.
    answer = solve_equal(make_problem(model, ["x"]), 64)
    assert answer.solutions == [7]
    # A stride-2 convolution floors: neighbouring sizes give the same count, so two answers.
    model = symparams.parse("model m(H = 9):\n    input (H, 1)\n    conv1d(1, 1, strides=2)\n    flatten\n"
                            "    dense(1, use_bias=false)\n")
    answer = solve_equal(make_problem(model, ["H"]), 8)
    brute = [H for H in range(1, 200) if model.evaluate({"H": H}).params == 8]
    assert answer.method == "integer search"
    assert len(brute) == 2 and answer.solutions == brute


@settings(max_examples=15, deadline=None)
@given(budget=st.integers(min_value=2_000, max_value=3_000_000), multiple=st.sampled_from([1, 8, 64]),
       h=st.sampled_from([1, 3, 4]))
def test_budget_matches_brute_force(budget, multiple, h):
    model = symparams.parse(f"model m(d = 64, h = {h}, T = 7):\n    where d % h == 0\n    input (T, 16)\n"
                            "    dense(d)\n    layernorm\n    dense(4 * d)\n    dense(d)\n")
    answer = solve_budget(make_problem(model, ["d"]), budget, "max", multiple)
    ev = lambda d: model.evaluate({"d": d}).params  # noqa: E731
    fits = [d for d in range(1, 1200) if d % multiple == 0 and d % h == 0 and ev(d) <= budget]
    expected = max(fits) if fits else None
    assert answer.x == expected
    if expected is not None:
        assert answer.value == ev(expected) and answer.headroom == budget - ev(expected)


def test_budget_over_a_floor_is_an_exact_search():
    model = symparams.parse("model m(H = 64):\n    input (H, H, 3)\n    conv2d(8, 3, strides=2)\n    flatten\n"
                            "    dense(10)\n")
    answer = solve_budget(make_problem(model, ["H"]), 100_000)
    brute = max(H for H in range(3, 400) if model.evaluate({"H": H}).params <= 100_000)
    assert answer.x == brute


def test_minimize_finds_the_smallest_size_within_budget():
    # A larger pool window leaves fewer features for the dense layer: fewer parameters.
    model = symparams.parse("model m(k = 2):\n    input (240, 4)\n    maxpool1d(k)\n    flatten\n    dense(10)\n")
    answer = solve_budget(make_problem(model, ["k"]), 5_000, "min")
    brute = min(k for k in range(1, 241) if model.evaluate({"k": k}).params <= 5_000)
    assert answer.x == brute


def test_relate_and_grid(tmp_path, capsys):
    f = tmp_path / "m.sp"
    f.write_text("model m(d = 64, f = 256, L = 2, h = 4):\n    where d % h == 0\n    input (10, d)\n"
                 "    dense(f)\n    dense(d)\n")
    code, out, _ = run(capsys, "solve", str(f), "--budget", "1M", "--for", "d", "f", "--relate", "f=4*d",
                       "--set", "h=4,16", "--multiple-of", "8")
    assert code == 0
    lines = out.splitlines()
    assert lines[0] == "d for params of model m <= 1,000,000"
    table = {int(line.split()[0]): int(line.split()[1]) for line in lines[3:]}
    model = symparams.parse(f.read_text())
    for h, d in table.items():
        fits = [x for x in range(8, 2000, 8) if x % h == 0 and
                model.evaluate({"d": x, "f": 4 * x, "h": h}).params <= 1_000_000]
        assert d == max(fits)


def test_budget_on_macs_and_memory(capsys):
    model = symparams.load(EXAMPLES / "conv_stack.sp")
    answer = solve_budget(make_problem(model, ["H"], of="macs", sets={"W": 224}), 10**10)
    assert model.evaluate({"H": answer.x}).macs <= 10**10 < model.evaluate({"H": answer.x + 1}).macs
    code, out, _ = run(capsys, "solve", str(EXAMPLES / "bn_cnn_torch.sp"), "--budget", "1G", "--of", "memory",
                       "--for", "B")
    # torchsummary's estimate per batch: 4 bytes x (input 4096 + 2 x 524388 outputs) + params 4 x 13108694.
    per_example, fixed = 4 * (4096 + 2 * 524388), 4 * 13108694
    assert out.splitlines()[0] == f"B = {(10**9 - fixed) // per_example}"


def test_relation_errors_point_into_the_relation():
    model = symparams.parse(SEED_514)
    with pytest.raises(UnknownName) as e:
        make_problem(model, ["n"], relations=["B=4*nn"])
    text = str(e.value)
    assert text.startswith("--relate:1:5:") and "'nn' is not a symbol" in text and "did you mean 'n'?" in text
    with pytest.raises(UnknownName, match="no symbol 'm' to solve for"):
        make_problem(model, ["n", "m"])


def test_two_free_unknowns_are_refused():
    model = symparams.parse("model m(a = 2, b = 3):\n    input (a)\n    dense(b)\n")
    with pytest.raises(ArgumentError, match="2 unknowns"):
        make_problem(model, ["a", "b"])
