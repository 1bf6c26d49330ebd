"""Long input (issue 23): the parser keeps positions without lark's per-node propagation, and the
REPL derives each new line onto the last good state -- with the same trees, positions and replies
as deriving everything again. The work is counted (texts parsed, derivations), never timed:
benchmarks/long_input.py times it."""
from __future__ import annotations

import glob
import io
import textwrap

import pytest
from lark import Lark, Token, Tree

from symparams import parse, syntax
from symparams.repl.live import Derivations
from symparams.repl.piped import run_piped
from symparams.repl.session import Session

META = ("empty", "line", "column", "end_line", "end_column", "start_pos", "end_pos", "container_line",
        "container_column", "container_start_pos", "container_end_line", "container_end_column",
        "container_end_pos")


def _same_tree(a, b, path="start"):
    """The same tree, and every node's Meta as lark's propagate_positions gives it."""
    if isinstance(a, Tree):
        assert isinstance(b, Tree) and a.data == b.data, path
        assert [getattr(a.meta, k, None) for k in META] == [getattr(b.meta, k, None) for k in META], path
        assert syntax.lines_and_columns(b) == (None if a.meta.empty else (
            a.meta.line, a.meta.column, a.meta.end_line, a.meta.end_column)), path
        assert len(a.children) == len(b.children), path
        for i, (x, y) in enumerate(zip(a.children, b.children)):
            _same_tree(x, y, f"{path}/{a.data}[{i}]")
    else:
        assert type(a) is type(b) and a == b, path
        if isinstance(a, Token):
            assert (a.type, a.line, a.column, a.end_line, a.end_column) == \
                (b.type, b.line, b.column, b.end_line, b.end_column), path


TEXTS = [open(f).read() for f in sorted(glob.glob("examples/**/*.sp", recursive=True) +
                                        glob.glob("symparams/catalog/*.sp"))] + [
    "model m(d = (3 + 4), h = 2):\n    x = input (d, (d))\n    y = ((dense((d) * h)))(x)  # c\n\n"
    "    # between\n    z = dense(d // 2, name = \"z\")(y) + (y)\n    where (d) >= 2, d % h == 0\n",
    "block b(c = 2)(x: (*rest, n)):\n    y = dense(c)(x)\n    return y\n\nmodel m(d):\n    input (d)\n"
    "    repeat 3:\n        b(4)\n        dense(d)\n    repeat(2, dense(d))\n",
]


@pytest.mark.parametrize("text", TEXTS, ids=range(len(TEXTS)))
def test_parser_trees_and_positions_are_lark_propagate_positions(text):
    reference = Lark(syntax.grammar_text(), parser="lalr", postlex=syntax._Indenter(), propagate_positions=True,
                     maybe_placeholders=True)
    _same_tree(reference.parse(text), syntax.parse_tree(text))


@pytest.mark.parametrize("text", ["(a + b) * c", "((d))", "-(3)", "max(a, (b)) ** 2", "(a,)", "()", "f(x, y=(2+3))"])
def test_expression_positions_are_lark_propagate_positions(text):
    reference = Lark(syntax.grammar_text(), parser="lalr", start="expr", propagate_positions=True,
                     maybe_placeholders=True)
    _same_tree(reference.parse(text), syntax.parse_expression(text))


# ---------------------------------------------------------------- the REPL

class _Whole(Derivations):
    """The REPL as it was: every change derives the whole text."""

    def _extends(self, source, values):
        return False


def _replies(lines, whole: bool = False):
    session = Session()
    if whole:
        session.derivations = _Whole()
    out, err = io.StringIO(), io.StringIO()
    status = run_piped(session, [line + "\n" for line in lines], out, err, echo=True)
    return out.getvalue(), err.getvalue(), status, session


SCRIPT = textwrap.dedent("""\
    model m(d = 8, T = 5):
    x = input (T, d)
    h1 = dense(d)(x)
    h2 = dense(4*d)(h1)
    bad = dense(q)(h2)
    h3 = dense(d)(h2)
    where d >= 4
    :set d=16
    h4 = dense(d)(h3) + h3
    :undo
    :undo
    :redo
    y = h3 + h2
    repeat 2:
        dense(d)

    dense(d) \\
    dense(d)
    shared = dense(d)
    shared
    shared
    frozen = dense(d, trainable=false)(h3)
    h5 = dense(d, name=h3)(frozen)
    where d > 100
    :set d=3
    dense(d // 2)
    :unset
    :symbols L=2
    repeat L:
        dense(d)

    :convention torch
    dense(d)
    dense(7)(x)
    :source
    """).splitlines()


def test_replies_are_those_of_deriving_the_whole_text():
    """Errors, undo and redo, :set, shared and frozen weights, a backslash: word for word the same."""
    fast, whole = _replies(SCRIPT), _replies(SCRIPT, whole=True)
    assert fast[:3] == whole[:3]
    assert fast[3].derivations.lines > 5        # most lines were derived alone
    model = fast[3].model
    reference = parse(fast[3].source.text())
    assert (model.params, model.macs, model.trainable) == (reference.params, reference.macs, reference.trainable)


def _parsed_lines(monkeypatch, n: int, line: str) -> tuple[list, Session]:
    """The non-blank lines of each text parsed while `n` copies of `line` are piped in."""
    import symparams.repl.live as live
    texts = []

    def counting(text):
        texts.append(sum(1 for t in text.split("\n") if t.strip()))
        return syntax.parse_tree(text)

    monkeypatch.setattr(live, "parse_tree", counting)
    _, err, status, session = _replies(["model m(d = 8):", "x = input (d)", "h0 = dense(d)(x)"] +
                                       [line.format(i=i) for i in range(1, n + 1)])
    assert status == 0, err
    return texts, session


@pytest.mark.parametrize("line", ["dense(d)", "h{i} = dense(d)(h0)"])
def test_a_piped_line_parses_and_derives_only_itself(monkeypatch, line):
    """Each line's work is that line: one two-line text parsed (a throwaway header and the line),
    no derivation of the whole text after the first input, at 50 lines as at 200."""
    for n in (50, 200):
        texts, session = _parsed_lines(monkeypatch, n, line)
        assert texts == [2] * (n + 1)                      # the first layer's line and the n after it
        assert session.derivations.whole == 2              # the header, the input line
        assert session.derivations.lines == n + 1
        assert len(session.model.rows) == n + 1


def test_a_failed_line_then_derives_the_whole_text_once():
    """A line failing part-way (its first layer built, its second refused) leaves nothing behind: the
    whole text says what failed, and the next line is derived from the whole text once more."""
    fast, err, _, session = _replies(["model m(d = 8):", "input (d)", "dense(d)", "dense(d) + dense(q)",
                                      "dense(d)", "dense(d)"])
    assert "'q' is not a symbol" in err
    assert [r.name for r in session.model.rows] == ["dense_1", "dense_2", "dense_3"]
    assert session.derivations.whole == 4        # the header, the input, the failed line, the line after it
    assert session.derivations.lines == 2        # dense_1, and the last line


def test_ten_thousand_named_tensors_count_as_pytorch_does():
    """The long file's form (`h_i = dense(d)(h_{i-1})`) at a size a test can build in PyTorch."""
    torch = pytest.importorskip("torch")
    n, d = 2000, 6
    text = "model m(d = 6):\n    h0 = input (d)\n" + "".join(f"    h{i} = dense(d)(h{i - 1})\n"
                                                            for i in range(1, n + 1))
    with torch.device("meta"):
        net = torch.nn.Sequential(*[torch.nn.Linear(d, d) for _ in range(n)])
    model = parse(text)
    assert model.evaluate().params == sum(p.numel() for p in net.parameters())
    assert len(model.rows) == n


# ---------------------------------------------------------------- one derivation per distinct call

MIXED = """model m(d = 8, h = 2):
    x = input (d, d)
    a = dense(d)(x)
    b = dense(d, use_bias=false)(x)
    c = dense(d, use_bias=False)(x)
    e = dense(h * d)(x)
    f = dense(d, activation=relu)(x)
    g = dense(d, activation="gelu")(a)
    k = dense(d)(e)
    l = Dense(d)(k)
    y = dense(d)(concatenate()(a, b, c, f, g, l))
"""


def _derived(model) -> list:
    """Every figure of every node (a MACs count not known as its message), and the constraints."""
    def figure(node, what):
        try:
            return getattr(node, what)
        except Exception as e:          # noqa: BLE001 -- the same refusal either way
            return str(e)
    nodes = [(n.name, n.type, n.shape, *(figure(n, w) for w in ("params", "non_trainable", "buffers", "macs")),
              n.out.conditions if n.out is not None else None)
             for n in model.graph.walk()]
    return nodes + [(c.relation, c.text) for c in model.constraints]


def _every_model():
    from symparams.interpreter import Program
    examples = [open(f).read() for f in sorted(glob.glob("examples/**/*.sp", recursive=True))]
    for text in examples + TEXTS[-2:] + [MIXED]:
        program = Program(text)
        for name in program.models:
            for convention in ("keras", "torch"):
                try:
                    yield program.model(name, convention)
                except Exception as e:      # noqa: BLE001 -- compared as its message
                    yield str(e)


def test_remembered_calls_derive_what_computing_each_derives(monkeypatch):
    """A call's bound arguments and its layer's Out are computed once per distinct call (the same
    entry, arguments, input shapes, convention): every figure of every node of every example, under
    both conventions, is what computing each call afresh gives."""
    from symparams import interpreter
    remembered = [m if isinstance(m, str) else _derived(m) for m in _every_model()]

    def unkeyable(value):
        raise TypeError("computed afresh")
    monkeypatch.setattr(interpreter, "_typed", unkeyable)
    afresh = [m if isinstance(m, str) else _derived(m) for m in _every_model()]
    assert remembered == afresh


def test_a_long_chain_binds_and_applies_its_layer_once(monkeypatch):
    from symparams.catalog.registry import LayerSpec
    calls = {"bind": 0, "apply": 0}
    for what in calls:
        def counted(self, *args, _what=what, _real=getattr(LayerSpec, what), **kwargs):
            calls[_what] += 1
            return _real(self, *args, **kwargs)
        monkeypatch.setattr(LayerSpec, what, counted)
    model = parse("model m(d = 8):\n    input (d)\n    dense(2 * d)\n" + "    dense(d)\n" * 300)
    assert calls == {"bind": 2, "apply": 3}      # dense(2*d) on (d,); dense(d) on (2*d,), then on (d,)
    torch = pytest.importorskip("torch")
    with torch.device("meta"):
        net = torch.nn.Sequential(torch.nn.Linear(3, 6), torch.nn.Linear(6, 3),
                                  *[torch.nn.Linear(3, 3) for _ in range(299)])
    assert model.evaluate({"d": 3}).params == sum(p.numel() for p in net.parameters())


def test_equal_values_of_other_types_are_other_calls():
    import sympy as sp
    from symparams.interpreter import _typed
    keys = [_typed(v) for v in ((1,), (True,), (1.0,), (sp.Integer(2),), (sp.Float(2.0),), [1], {"a": 1},
                                {"a": True})]
    assert len(set(keys)) == len(keys)
