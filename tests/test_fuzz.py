"""Hostile input, generated: no program may raise anything but a SymparamsError, hang, or make the
command line report an internal error.

Two sources of programs, both driven by hypothesis (so a failure shrinks to a short reproducer):

* a grammar-aware generator: a model header with symbols and defaults, then lines of catalog
  layers, blocks, repeats, `where` conditions and size arithmetic, with numbers from 0 to towers of
  powers;
* mutations of every file in examples/ and examples/zoo/: bytes deleted, inserted or replaced,
  tokens swapped, duplicated or replaced by others (huge numbers, deep brackets, stray keywords).

Each program goes through the API (`symparams.parse`, `evaluate()`, the summary table), the
command line in-process (`symparams.cli.main`: exit 0 or 2, never "internal error") and the REPL
in pipe mode, under a time limit. The CI run takes about a minute; set SYMPARAMS_FUZZ_EXAMPLES
(e.g. 20000) for a long run and SYMPARAMS_FUZZ_SEED to pick its seed.
"""
from __future__ import annotations

import contextlib
import io
import os
import re
import signal
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, seed, settings
from hypothesis import strategies as st

import symparams
from symparams import cli, render
from symparams.errors import SymparamsError
from symparams.repl.piped import run_piped
from symparams.repl.session import Session

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = sorted((ROOT / "examples").glob("*.sp")) + sorted((ROOT / "examples" / "zoo").glob("*.sp"))
TEXTS = [p.read_text() for p in EXAMPLES]
N = int(os.environ.get("SYMPARAMS_FUZZ_EXAMPLES", "60"))
SEED = int(os.environ.get("SYMPARAMS_FUZZ_SEED", "0"))
# Seconds each surface may take on one program. The answers take well under 2 s; the margin is
# for a loaded machine (the REPL re-derives the model at every line of a piped file), while the
# hangs this looks for never answer.
TIME_LIMIT = 30


class Hang(Exception):
    pass


@contextlib.contextmanager
def time_limit(seconds: int):
    def expire(signum, frame):
        raise Hang(f"no answer within {seconds} s")
    old = signal.signal(signal.SIGALRM, expire)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, old)


def through_api(text: str) -> None:
    try:
        model = symparams.parse(text, "fuzz.sp")
        ev = model.evaluate()
        render.text_table(model, ev)
        ev.params, ev.macs
    except SymparamsError as e:
        str(e)   # the message itself must be printable


def through_cli(path: Path) -> None:
    for argv in (["summary", str(path)], ["formula", str(path), "--of", "memory"]):
        err = io.StringIO()
        with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(err):
            try:
                code = cli.main(argv)
            except SystemExit as e:   # argparse's usage errors
                code = e.code
        assert code in (0, 2), f"{argv[0]} exit {code}: {err.getvalue()}"
        assert "internal error" not in err.getvalue(), err.getvalue()


def through_repl(text: str) -> None:
    out, err = io.StringIO(), io.StringIO()
    code = run_piped(Session(), io.StringIO(text + "\ndense(3)\n:set d=1e1000000000\n"), out, err)
    assert code in (0, 2)
    assert "internal error" not in err.getvalue() + out.getvalue()


def check(text: str, tmp_path: Path) -> None:
    path = tmp_path / "fuzz.sp"
    path.write_text(text, errors="surrogateescape")
    for surface, argument in ((through_api, text), (through_cli, path), (through_repl, text)):
        with time_limit(TIME_LIMIT):
            surface(argument)


# ---------------------------------------------------------------- the grammar-aware generator

SYMBOLS = ["d", "h", "H", "W", "C", "L", "T", "B", "n", "k"]
NUMBERS = ["0", "1", "2", "3", "7", "8", "64", "512", "1_000", "7e9", "1.5K", "350M", "0.5", "1e-3",
           "10**10**10", "9**9**9", "2**2**2**2**2", "1e1000000000", "10**99", "10**100", "1" * 120]
LAYERS = ["dense", "conv1d", "conv2d", "conv3d", "maxpool1d", "maxpool2d", "avgpool2d", "dropout",
          "layernorm", "batchnorm", "embedding", "position_embedding", "multihead_attention", "lstm",
          "gru", "flatten", "reshape", "relu", "softmax", "average", "concatenate", "add", "upsampling2d",
          "zero_padding2d", "cropping1d", "global_avgpool2d", "depthwise_conv2d", "separable_conv2d",
          "grouped_query_attention", "mixture_of_experts", "gated_mlp", "rmsnorm", "patch_embedding",
          "conv2d_transpose", "permute", "repeat_vector", "time_distributed", "bidirectional", "glu"]
KEYWORDS = ["strides", "padding", "ceil_mode", "use_bias", "activation", "dilation_rate", "groups",
            "return_sequences", "axis", "num_heads", "key_dim", "kv_heads", "top_k", "experts", "name"]


TAME = ["1", "2", "3", "4", "8", "16", "64", "128"]


def expressions(names, wild: bool):
    """Size expressions over `names`: tame ones (small numbers, symbols, + * //) most of the time, so
    that programs get past the parser to the layers; wild ones (any number, any operator, tuples,
    words) otherwise."""
    tame_leaves = st.sampled_from(TAME + names * 3)
    if not wild:
        return st.recursive(tame_leaves, lambda inner: st.tuples(inner, st.sampled_from(["+", "*", "//"]), inner)
                            .map(" ".join), max_leaves=3)
    leaves = st.one_of(tame_leaves, st.sampled_from(NUMBERS), st.sampled_from(["same", "valid", "true", "false",
                                                                                "'x'", "relu", "x"]))

    def extend(inner):
        return st.one_of(
            st.tuples(inner, st.sampled_from(["+", "-", "*", "/", "//", "%", "**"]), inner).map(" ".join),
            inner.map(lambda e: f"({e})"),
            inner.map(lambda e: f"-{e}"),
            st.tuples(st.sampled_from(["min", "max", "ceil", "floor"]), st.lists(inner, min_size=1, max_size=3)).map(
                lambda t: f"{t[0]}({', '.join(t[1])})"),
            st.lists(inner, min_size=2, max_size=4).map(lambda xs: "(" + ", ".join(xs) + ")"),
        )
    return st.recursive(leaves, extend, max_leaves=8)


@st.composite
def programs(draw):
    symbols = draw(st.lists(st.sampled_from(SYMBOLS), min_size=1, max_size=4, unique=True))

    def expr():
        return draw(expressions(symbols, wild=draw(st.integers(0, 9)) == 0))
    header = ", ".join(f"{s} = {expr()}" if draw(st.integers(0, 4)) == 0 else f"{s} = {draw(st.sampled_from(TAME))}"
                       for s in symbols)
    lines = []
    if draw(st.booleans()):
        lines += ["block blk(u)(z):", f"    return {draw(st.sampled_from(LAYERS))}(u)(z)", ""]
    lines.append(f"model m({header}):")
    rank = draw(st.integers(1, 3))
    lines.append(f"    x = input ({', '.join(expr() for _ in range(rank))}{',' if rank == 1 else ''})")
    indent = "    "
    for _ in range(draw(st.integers(1, 6))):
        kind = draw(st.sampled_from(["layer", "layer", "layer", "where", "repeat", "assign", "merge", "block"]))
        args = [expr() for _ in range(draw(st.integers(0, 2)))]
        kwargs = [f"{draw(st.sampled_from(KEYWORDS))}={expr()}" for _ in range(draw(st.integers(0, 1)))]
        call = f"{draw(st.sampled_from(LAYERS))}({', '.join(args + kwargs)})"
        if kind == "layer":
            lines.append(indent + call)
        elif kind == "where":
            lines.append(indent + f"where {expr()} {draw(st.sampled_from(['==', '<=', '>', '!=']))} {expr()}")
        elif kind == "repeat":
            lines.append(indent + f"repeat {expr()}:")
            indent += "    "
            lines.append(indent + call)
        elif kind == "assign":
            lines.append(indent + f"y = {call}(x)")
        elif kind == "merge":
            lines.append(indent + f"{draw(st.sampled_from(['x + y', 'average(x, y)', 'concatenate(x, x)', 'x * x']))}")
        else:
            lines.append(indent + f"blk({expr()})")
    return "\n".join(lines) + "\n"


# ---------------------------------------------------------------- mutations of the examples

TOKEN = re.compile(r"\d[\d_.eE]*[KMBGT]?|[A-Za-z_]\w*|\*\*|//|[^\s\w]|\s+")
SPLICES = ["10**10**10", "1e1000000000", "(" * 120, ")", "repeat 2:", "where", "input", "model", "\t", "\x00",
           "\r\n", "-", "0", "/ 0", "% (d - d)", "2**2**2**2**2", "**", ",", "=", ":", "\n    ", "\n", "'", '"',
           "block", "return", "output", "1" * 5000]


@st.composite
def mutants(draw):
    text = draw(st.sampled_from(TEXTS))
    for _ in range(draw(st.integers(1, 4))):
        how = draw(st.sampled_from(["byte", "delete", "insert", "token", "swap", "duplicate"]))
        if how in ("byte", "delete", "insert") and text:
            i = draw(st.integers(0, len(text) - 1))
            if how == "byte":
                text = text[:i] + chr(draw(st.integers(0, 255))) + text[i + 1:]
            elif how == "delete":
                text = text[:i] + text[i + draw(st.integers(1, 20)):]
            else:
                text = text[:i] + draw(st.sampled_from(SPLICES)) + text[i:]
            continue
        tokens = TOKEN.findall(text)
        if len(tokens) < 2:
            continue
        i, j = draw(st.integers(0, len(tokens) - 1)), draw(st.integers(0, len(tokens) - 1))
        if how == "token":
            tokens[i] = draw(st.sampled_from(SPLICES + LAYERS + NUMBERS))
        elif how == "swap":
            tokens[i], tokens[j] = tokens[j], tokens[i]
        else:
            tokens.insert(i, tokens[j])
        text = "".join(tokens)
    return text


FUZZ = settings(max_examples=N, deadline=None, database=None, derandomize=False,
                suppress_health_check=list(HealthCheck))


@seed(SEED)
@FUZZ
@given(text=programs())
def test_generated_programs(text, tmp_path_factory):
    check(text, tmp_path_factory.mktemp("gen"))


@seed(SEED)
@FUZZ
@given(text=mutants())
def test_mutated_examples(text, tmp_path_factory):
    check(text, tmp_path_factory.mktemp("mut"))


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.name)
def test_every_example_passes_the_harness(path, tmp_path):
    check(path.read_text(), tmp_path)
