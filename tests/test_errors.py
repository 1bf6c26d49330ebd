"""A user's mistakes get one clear message: file, line, column, what was expected, what was found."""
import contextlib
import io
import subprocess
import sys
from pathlib import Path

import pytest

import symparams
from symparams.errors import ArgumentError, ShapeError, SymparamsError, SyntaxProblem, UnknownName, ValueProblem

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


def error_of(text, filename="net.sp", **kw):
    with pytest.raises(SymparamsError) as info:
        symparams.parse(text, filename, **kw).evaluate()
    return info.value


def test_syntax_error_names_line_column_and_expectation():
    e = error_of("model m(H = 28):\n    input (H, H, 1)\n    dense(10,, 3)\n")
    assert isinstance(e, SyntaxProblem)
    assert (e.pos.line, e.pos.column) == (3, 14)
    text = str(e)
    assert text.startswith("net.sp:3:14: syntax error: expected")
    assert "found ','" in text
    assert "    dense(10,, 3)\n" + " " * 17 + "^" in text


def test_unclosed_parenthesis_points_at_it():
    e = error_of("model m(H = 28):\n    input (H, H, 1)\n    conv2d(32, 3\n    dense(10)\n")
    assert (e.pos.line, e.pos.column) == (3, 11)
    assert "not closed" in e.message and e.hint == "add the missing ')'"


def test_missing_colon_has_a_hint():
    e = error_of("model m(H = 2)\n    input (H)\n")
    assert "expected ':'" in e.message and "ends with ':'" in e.hint


def test_unknown_layer_suggests_the_catalog_name():
    e = error_of("model m(H = 28):\n    input (H, H, 3)\n    conv2dd(32, 3)\n")
    assert isinstance(e, UnknownName)
    assert "conv2dd" in e.message and "'conv2d'" in e.hint
    assert (e.pos.line, e.pos.column) == (3, 5)


def test_unknown_symbol_is_never_a_silent_new_symbol():
    e = error_of("model m(H = 28, W = 28):\n    input (H, Wd, 1)\n")
    assert isinstance(e, UnknownName)
    assert "'Wd'" in e.message and "'W'" in e.hint
    assert (e.pos.line, e.pos.column) == (2, 15)


def test_unknown_keyword_argument_and_mode():
    e = error_of("model m(H = 28):\n    input (H, H, 1)\n    conv2d(8, 3, padding=sme)\n")
    assert isinstance(e, ArgumentError) and "'same'" in e.hint
    e = error_of("model m(H = 28):\n    input (H)\n    dense(4, use_biass=true)\n")
    assert "use_biass" in e.message and "'use_bias'" in e.hint
    assert (e.pos.line, e.pos.column) == (3, 14)   # at the argument, not the whole call


def test_shape_mismatch_in_plus_names_both_shapes_and_the_axis():
    e = error_of("model m(H = 28):\n    x = input (H, 16)\n    a = dense(64)(x)\n    b = dense(128)(x)\n"
                 "    y = a + b\n")
    assert isinstance(e, ShapeError)
    assert "(None, H, 64)" in e.message and "(None, H, 128)" in e.message
    assert "axis 2" in e.message and "64 vs 128" in e.message
    assert e.pos.line == 5


def test_symbolic_mismatch_records_the_condition():
    m = symparams.parse("model m(H = 28, C = 128):\n    x = input (H, C)\n    b = dense(128)(x)\n    y = x + b\n")
    assert any("C = 128" in c.text for c in m.constraints)
    assert m.evaluate().params == m.evaluate({"C": 128}).params
    with pytest.raises(ValueProblem) as info:
        m.evaluate({"C": 64})
    assert "C = 128" in info.value.message and "C=64" in info.value.message


def test_kernel_larger_than_input_names_the_layer():
    e = error_of("model m(H = 2):\n    input (H, H, 1)\n    conv2d(8, 3)\n")
    assert isinstance(e, ValueProblem)
    assert "conv2d_1" in e.message and e.pos.line == 3


def test_set_of_unknown_symbol():
    m = symparams.parse("model m(H = 2):\n    input (H)\n    dense(3)\n")
    with pytest.raises(UnknownName) as info:
        m.evaluate({"h": 4})
    assert "'H'" in info.value.hint


def test_where_constraint_is_checked():
    m = symparams.parse("model m(d = 768, h = 12):\n    where d % h == 0\n    input (d)\n    dense(d)\n")
    assert m.evaluate({"d": 780}).params == 780 * 781
    with pytest.raises(ValueProblem) as info:
        m.evaluate({"d": 770})
    assert "d % h == 0" in info.value.message


def test_cli_prints_one_message_and_exits_2(tmp_path):
    bad = tmp_path / "bad.sp"
    bad.write_text("model m(H = 28):\n    input (H, H, 1)\n    conv2dd(32, 3)\n")
    run = subprocess.run([sys.executable, "-m", "symparams", "summary", str(bad)], capture_output=True, text=True)
    assert run.returncode == 2
    assert "Traceback" not in run.stderr
    assert run.stderr.startswith(f"{bad}:3:5: unknown name")
    missing = subprocess.run([sys.executable, "-m", "symparams", "check", str(tmp_path / "none.sp")],
                             capture_output=True, text=True)
    assert missing.returncode == 2 and "cannot read" in missing.stderr and "Traceback" not in missing.stderr


@pytest.mark.parametrize("line, words", [
    ("dense(n // 0)", "division by zero"),
    ("dense(n % 0)", "division by zero"),
    ("dense(max())", "max takes one or more sizes"),
    ("dense(ceil(n, 2))", "ceil takes one size"),
    ("dropout(5)", "from 0 to 1"),
])
def test_size_arithmetic_and_rates_are_checked(line, words):
    e = error_of(f"model m(n = 5):\n    input (n)\n    {line}\n")
    assert words in e.message and e.pos.line == 3


def test_a_framework_class_left_out_on_purpose_says_why():
    e = error_of("model m(n = 5):\n    input (n)\n    Lambda(3)\n")
    assert isinstance(e, UnknownName) and e.code == "uncounted" and "runs code" in e.message
    assert "declare a layer" in e.hint and e.pos.line == 3


@pytest.mark.parametrize("body, condition, sets", [
    ("x = input (T, d)\n    y = multihead_attention(h, d / h)(x, x)", "needs d % h == 0", {"d": 10, "h": 3}),
    ("input (T, d)\n    moe(8, 32, top_k=k)", "needs k <= 8", {"k": 9}),
    ("x = input (T, d)\n    y = grouped_query_attention(4, h, k)(x, x)", "needs h % k == 0", {"h": 6, "k": 4}),
    ("x = input (T, d)\n    y = multihead_attention(h - 12, 4)(x, x)", "needs h - 12 >= 1", {"h": 12}),
    ("input (d - 8)\n    dense(3)", "every size must be a whole number >= 1", {"d": 8}),
])
def test_conditions_on_symbolic_arguments_are_recorded_and_checked(body, condition, sets):
    """Checks that numbers get hold for symbols too: the condition is recorded on the model,
    stated in its own terms, and refuses the values that break it (issue 10's silent cases)."""
    m = symparams.parse(f"model m(d = 16, h = 4, k = 2, T = 4):\n    {body}\n")
    with pytest.raises(ValueProblem) as caught:
        m.evaluate(sets)
    assert condition in caught.value.message and caught.value.pos.line in (2, 3)


from hypothesis import given, settings, strategies as st  # noqa: E402

_PIECES = ["model m(n = 4):\n", "    ", "input (n, n, 3)", "dense(", "conv2d(8, 3", ")", "(", ",", "=", "n",
           " + ", " * ", " / ", " // ", " % ", "\n", "x = ", "x", "block b(d)(y):\n", "return y", "repeat n:",
           "repeat(n, b(4))", "0", "3", "-", "where n % 2 == 0", "flatten", "true", "'same'", "#c", "\t", ":"]


@settings(max_examples=150, deadline=None)
@given(st.lists(st.sampled_from(_PIECES), max_size=25))
def test_any_text_gives_a_result_or_a_symparams_error(pieces):
    """Whatever is typed, the answer is a model or a SymparamsError -- never another exception."""
    try:
        symparams.parse("".join(pieces)).evaluate()
    except SymparamsError as e:
        assert str(e)


def test_an_input_laid_out_for_the_other_convention_is_named():
    """A file whose convention line lays it out channels first, with an (H, W, C) input: say how it was read."""
    m = symparams.parse("convention torch\nmodel m(H = 32, W = 32, C = 3):\n    input (H, W, C)\n"
                        "    conv2d(8, 5)\n")
    with pytest.raises(SymparamsError) as e:
        m.evaluate()
    text = str(e.value)
    assert "the file is laid out channels-first (C, H, W), so the input (H, W, C) has C as an image axis and H as the channels" in text
    assert "write `input (H, W, C) channels_last`" in text and "write the input as (C, H, W)" in text


def test_a_small_input_under_its_own_convention_keeps_its_hint():
    m = symparams.parse("model m(H = 2):\n    input (H, H, 3)\n    conv2d(8, 5)\n")
    with pytest.raises(SymparamsError, match="input is too small") as e:
        m.evaluate()
    assert "a kernel or pool larger than its input" in str(e.value)
