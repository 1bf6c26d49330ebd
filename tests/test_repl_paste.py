"""The REPL as a user meets it (issue 21, item 5): a pasted model file kept whole, a '(' left open
continuing on the next line, hints in the REPL's spelling, `:help` wrapped under each command, a
size alone computed exactly -- and every error leaving the session as it was.

Driven as the other REPL tests are: prompt_toolkit's pipe input (a bracketed paste is the
terminal's ESC[200~ ... ESC[201~) and `symparams repl` with piped stdin.
"""
import subprocess
import sys
from pathlib import Path

import pytest

from symparams.repl.session import Session, help_text

from seed_models import MNIST_CNN  # noqa: E402  (tests/ is on sys.path under pytest)

ROOT = Path(__file__).resolve().parent.parent


def terminal(keys: str) -> tuple[Session, list]:
    """Keys typed at prompt_toolkit's prompt (a pipe standing for the terminal): the session, the replies."""
    from prompt_toolkit.input import create_pipe_input
    from prompt_toolkit.output import DummyOutput
    from symparams.repl.terminal import run_terminal
    session, shown = Session(), []
    with create_pipe_input() as pipe:
        pipe.send_text(keys + ":quit\r")
        assert run_terminal(session, input=pipe, output=DummyOutput(), write=shown.append) == 0
    return session, shown[:-1]


def paste(text: str) -> str:
    return "\x1b[200~" + text + "\x1b[201~\r"


def repl(script: str, *args):
    return subprocess.run([sys.executable, "-m", "symparams", "repl", *args], input=script, capture_output=True,
                          text=True, cwd=ROOT)


# ---------------------------------------------------------------- a pasted file

def test_a_pasted_model_file_is_kept_whole():
    session, shown = terminal(paste(MNIST_CNN))
    [reply] = shown
    assert reply.ok and reply.text.startswith("pasted model mnist_cnn: 5 layers")
    assert "total: 2,663,678 params" in reply.text                     # the seed's Keras total
    assert session.source.text() == MNIST_CNN.replace("(3,3)", "(3,3)")  # every line, as pasted
    assert [r.name for r in session.model.rows][-1] == "dense_2"


def test_undo_takes_a_paste_back_and_a_bad_paste_changes_nothing():
    session, shown = terminal("input (8)\r" + paste(MNIST_CNN) + ":undo\r")
    assert "undid: pasted model mnist_cnn -- back to the session before it" in shown[-1].text
    assert session.source.text() == "model repl():\n    input (8)\n"
    broken = MNIST_CNN.replace("Flatten()", "Flatten(")
    session, shown = terminal("input (8)\r" + paste(broken))
    assert not shown[-1].ok and "the paste was not taken: nothing was changed" in shown[-1].text
    assert "this '(' is not closed" in shown[-1].text and session.source.text() == "model repl():\n    input (8)\n"


def test_a_pasted_file_of_several_models_takes_the_first_and_names_the_others():
    two = MNIST_CNN + "\nmodel other():\n    input (4)\n    dense(2)\n"
    session, [reply] = terminal(paste(two))
    assert reply.ok and "its other models, other, were not taken" in reply.text
    assert session.source.header.name == "mnist_cnn"


def test_pasted_lines_without_a_model_line_are_taken_one_by_one():
    session, shown = terminal("input (28, 28, 24)\r" + paste("conv2d(36, 3)\nflatten\ndense(\n    10)\n"))
    assert all(r.ok for r in shown) and [r.name for r in session.model.rows] == ["conv2d_1", "flatten_1", "dense_1"]
    assert "params 24*36*3*3 + 36 = 7,812" in shown[1].text


def test_pasted_keras_lines_assigning_a_tensor_named_model_are_lines_not_a_file():
    lines = ("inputs = Input(shape = (64, 64, 1))\n"
             "model = Conv2D(filters=32, kernel_size=(3, 3), padding='SAME', activation='relu')(inputs)\n"
             "model = BatchNormalization(momentum=0.15, axis=-1)(model)\n")
    session, shown = terminal(paste(lines))
    assert all(r.ok for r in shown), [r.text for r in shown]
    assert session.evaluation.params == 320 + 128 and session.source.header.name == "repl"


def test_a_file_piped_in_is_read_whole():
    run = repl(MNIST_CNN + ":summary\n")
    assert run.returncode == 0, run.stderr
    assert "Total params: 2,663,678" in run.stdout and "dense_2 (Dense)" in run.stdout


# ---------------------------------------------------------------- an open parenthesis

def test_an_open_parenthesis_continues_at_the_terminal():
    session, shown = terminal("input (8)\rdense(\r4,\ractivation=relu)\r")
    assert shown[-1].ok and "dense_1 (Dense)  (None, 4)" in shown[-1].text
    assert session.source.body[-1] == "dense(\n    4,\n    activation=relu)"     # indented for you, as IPython


def test_an_open_parenthesis_continues_with_piped_input_and_echo():
    run = repl("input (8)\ndense(\n  4)\n:source\n", "--echo")
    assert run.returncode == 0, run.stderr
    assert ">>> dense(\n...   4)\ndense_1 (Dense)  (None, 4)" in run.stdout


def test_the_continuation_indents_under_the_open_parenthesis():
    session = Session()
    session.feed("input (8)")
    assert session.feed("x = dense(") == [] and session.indent == "    "
    session.feed("    4,")
    assert session.indent == "    "
    [reply] = session.feed("    activation=relu)")
    assert reply.ok and not session.continuing


def test_a_command_ends_an_open_parenthesis_and_runs():
    session = Session()
    session.feed("input (8)")
    session.feed("dense(4")
    replies = session.feed(":source")
    assert [r.ok for r in replies] == [False, True]
    assert "this '(' is not closed" in replies[0].text and replies[1].text == "model repl():\n    input (8)"


def test_a_header_and_a_block_header_over_several_lines():
    session = Session()
    for line in ["model m(d = 8,", "        L = 2):", "block f(n,", "        m)(x):", "    return dense(n + m)(x)", "",
                 "input (d)", "f(1, 2)"]:
        replies = session.feed(line)
        assert all(r.ok for r in replies), [r.text for r in replies]
    assert session.source.header.params == (("d", "8"), ("L", "2"))
    assert session.evaluation.params == 8 * 3 + 3


# ---------------------------------------------------------------- hints, help

def test_the_layout_hint_speaks_repl():
    session = Session()
    replies = [r for line in (":convention torch", "input (28, 28, 3)", "conv2d(8, 5)") for r in session.feed(line)]
    assert not replies[-1].ok
    assert "`:convention keras`" in replies[-1].text and "--convention" not in replies[-1].text
    assert "the file's `convention` line" not in replies[-1].text


def test_help_wraps_under_each_command():
    text = help_text(width=60)
    lines = text.splitlines()
    assert all(len(line) <= 60 for line in lines)
    at = next(i for i, line in enumerate(lines) if line.startswith("  :summary"))
    column = lines[at].index("the Keras-style")
    assert lines[at + 1][:column].strip() == "" and lines[at + 1][column] != " "   # a hanging indent
    [reply] = Session().feed(":help")
    assert reply.ok and ":convention [keras|torch]" in reply.text


# ---------------------------------------------------------------- the calculator

@pytest.mark.parametrize("typed, shown", [
    ("12*W", "12*W = 336   at W=28"),
    ("W/3", "W/3 = 28/3 ≈ 9.33333   at W=28"),
    ("3*3*24*36", "3*3*24*36 = 7,776"),
    ("W // 3 + min(W, 5)", "= 14   at W=28"),
    ("W", "28   at W=28"),
    ("12*d", "12*d   (d has no value: :set d=...)"),
])
def test_a_size_alone_is_computed_exactly(typed, shown):
    session = Session()
    session.feed(":symbols W=28 d")
    before = session.source.text()
    [reply] = session.feed(typed)
    assert reply.ok and shown in reply.text, reply.text
    assert session.source.text() == before and session.undo_stack[-1][1].startswith(":symbols")


def test_the_calculator_uses_the_set_values_and_never_evaluates_python():
    session = Session()
    for line in (":symbols W=28", "input (W, W, 1)", ":set W=31"):
        session.feed(line)
    [reply] = session.feed("12*W")
    assert reply.text == "12*W = 372   at W=31"
    for typed in ("__import__('os')", "W.real", "().__class__"):
        [reply] = session.feed(typed)
        assert not reply.ok               # a model line, refused by the grammar: nothing ran
    assert session.evaluation.values and len(session.model.rows) == 0


def test_calculator_errors_leave_the_session_as_it_was():
    session = Session()
    session.feed(":symbols W=28")
    session.feed("input (W)")
    before = session.source.text()
    for typed, says in (("W/0", "division by zero"), ("W**W", "exponent"), ("10**10**10", "too large")):
        [reply] = session.feed(typed)
        assert not reply.ok and says in reply.text, reply.text
    assert session.source.text() == before
    [reply] = session.feed("dense(3)")
    assert reply.ok and "3*W + 3 = 87" in reply.text


def test_tensor_arithmetic_is_still_a_model_line():
    session = Session()
    for line in ("model m(d = 4):", "x = input (d)", "y = dense(d)(x)"):
        session.feed(line)
    [reply] = session.feed("x + y")      # a merge of two tensors, not a calculation
    assert reply.ok and "add_1 (Add)" in reply.text
