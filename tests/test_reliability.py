"""Issue 10's reproducers: each answers correctly, or is refused with exit 2 and a positioned
message -- never a traceback, a hang or an internal error. How fast each is refused is timed in
benchmarks/pathological.py, not here."""
from __future__ import annotations

import contextlib
import io

import pytest

import symparams
from symparams import bounds, cli
from symparams.errors import ArgumentError, SymparamsError
from symparams.repl.piped import run_piped
from symparams.repl.session import Session

def body(*lines, header="d = 8"):
    return f"model m({header}):\n" + "".join(f"    {line}\n" for line in lines)


def run_cli(*argv):
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = cli.main([str(a) for a in argv])
    return code, out.getvalue(), err.getvalue()


def refused(tmp_path, text, *options, command="summary", where=None, says=""):
    """The file is refused with exit 2, pointing at `where` (line:column), saying `says`."""
    path = tmp_path / "net.sp"
    path.write_text(text) if isinstance(text, str) else path.write_bytes(text)
    code, _, err = run_cli(command, path, *options)
    assert code == 2, err
    assert "internal error" not in err and "Traceback" not in err
    if where:
        assert f"net.sp:{where}:" in err, err
    assert says in err, err
    return err


# ---------------------------------------------------------------- huge numbers

@pytest.mark.parametrize("size, where", [("10**10**10", "3:11"), ("9**9**9", "3:11"), ("1e1000000000", "3:11"),
                                          ("2**2**2**2**2", "3:11"), ("10**1000", "3:11"), ("1" * 5000, "3:11")])
def test_a_huge_size_is_refused_before_it_is_computed(tmp_path, size, where):
    refused(tmp_path, body("input (d)", f"dense({size})"), where=where, says="too large")


def test_a_huge_default_is_refused_at_the_header(tmp_path):
    refused(tmp_path, body("input (d)", "dense(d)", header="d = 10**10**10"), where="1:13", says="too large")


def test_an_input_too_large_to_print_is_refused(tmp_path):
    refused(tmp_path, body("input (2**2**2**2**2)", "dropout(0.5)"), where="2:12", says="too large")


@pytest.mark.parametrize("options", [["--set", "d=1e1000000000"], ["--set", "d=" + "9" * 5000]])
def test_a_huge_set_value_is_refused(tmp_path, options):
    refused(tmp_path, body("input (d)", "dense(d)"), *options, says="numbers are limited to 100 digits")


@pytest.mark.parametrize("options", [["--budget", "1e100000"], ["--equals", "1e4300"]])
def test_a_huge_solve_target_is_refused(tmp_path, options):
    refused(tmp_path, body("input (d)", "dense(d)"), "--for", "d", *options, command="solve", says="too large")


def test_the_repl_refuses_a_huge_set_and_goes_on():
    out, err = io.StringIO(), io.StringIO()
    lines = [body("input (d)").splitlines()[0], "input (d)", ":set d=1e1000000000", "dense(10**10**10)", "dense(3)"]
    assert run_piped(Session(), lines, out, err) == 2
    assert err.getvalue().count("too large") == 2 and "params 3*d + 3 = 27" in out.getvalue()


def test_numbers_just_inside_the_bound_still_count_and_print(tmp_path):
    path = tmp_path / "net.sp"
    path.write_text(body("input (10**99, 10**99)", "dense(10**99)"))
    code, out, err = run_cli("summary", path, "--memory")
    assert code == 0, err
    assert "Estimated Total Size (MB): 15258789062500" in out   # beyond a float, formatted exactly


def test_the_power_check_works_on_the_operands():
    bounds.check_power(sp_int(10), sp_int(99))
    with pytest.raises(ArgumentError, match="too large"):
        bounds.check_power(sp_int(10), sp_int(100))
    with pytest.raises(ArgumentError, match="exponent"):
        bounds.check_power(sp_int(2), sp_int(101))


def sp_int(n):
    import sympy as sp
    return sp.Integer(n)


@pytest.mark.parametrize("text, value", [("7e9", 7 * 10**9), ("1.5K", 1500), ("350M", 350 * 10**6), ("1_000", 1000),
                                         ("0.5", 0.5), ("1e-3", 0.001), ("0", 0), ("1" + "0" * 99, 10**99)])
def test_number_literals_keep_their_values(text, value):
    assert bounds.number_value(text) == value


# ---------------------------------------------------------------- ordinary-looking programs

def test_a_real_number_in_a_symbolic_size(tmp_path):
    refused(tmp_path, body("input (L + 0.5)", header="L = 8"), where="2:12", says="a real number")


def test_maxpool1d_with_ceil_mode_on_a_numeric_axis(tmp_path):
    path = tmp_path / "net.sp"
    path.write_text(body("input (L, 4)", "maxpool1d(ceil_mode=true)", header="L = 8"))
    code, out, err = run_cli("summary", path)
    assert code == 0, err
    assert symparams.load(path).rows[-1].output_shape[-1] == 4


def test_shapes_that_sympy_decides_differ_are_the_documented_shape_error(tmp_path):
    refused(tmp_path, body("x = input (n, n, 2)", "average(x, maxpool2d()(x))", header="n = 8"),
            where="3:5", says="shape error: average of 2 tensors")


@pytest.mark.parametrize("layer", ["dense(256 / (min(T % h * h, T)))", "embedding(256 / (min(T % h * h, T)), 4)"])
def test_a_size_that_divides_by_zero_at_the_values(tmp_path, layer):
    refused(tmp_path, body("input (T)", layer, header="T = 8, h = 1"), where="3:5", says="divides by zero")


def test_a_stride_that_divides_by_zero_at_the_values(tmp_path):
    text = body("input (B, B, 3)", "conv2d(4, 3, strides=(B % (B - 1)))", header="B = 8")
    refused(tmp_path, text, "--set", "B=1", where="3:5", says="divides by zero")


# ---------------------------------------------------------------- grids

@pytest.mark.parametrize("vary", ["d=1:1T", "d=1:100000000", "d=1:99999999999999999999T"])
def test_a_grid_too_large_is_refused_before_it_is_built(tmp_path, vary):
    refused(tmp_path, body("input (d)", "dense(d)"), "--vary", vary, command="sweep",
            says="a sweep evaluates at most 10,000,000")


def test_two_axes_too_large_together(tmp_path):
    refused(tmp_path, body("input (d)", "dense(L)", header="d = 8, L = 2"), "--vary", "d=1:5000",
            "--vary", "L=1:5000", command="sweep", says="25,000,000 configurations")


# ---------------------------------------------------------------- deep nesting

DEEP = {
    "brackets": body("input (d)", "x = " + "relu(" * 1000 + ")" * 1000),
    "sum": body("input (d)", "dense(" + "+".join(["1"] * 4000) + ")"),
    "blocks": "block b0()(x):\n    return dense(4)(x)\n" + "".join(
        f"block b{i}()(x):\n    return b{i - 1}()(x)\n" for i in range(1, 200)) + body("input (d)", "b199()"),
    "repeats": body("input (d)") + "".join("    " * (i + 1) + "repeat 2:\n" for i in range(1000)) +
    "    " * 1001 + "dense(4)\n",
}


@pytest.mark.parametrize("name", DEEP)
def test_deep_nesting_is_one_positioned_error(tmp_path, name):
    with pytest.raises(SymparamsError, match="nests more than 100 levels") as e:
        symparams.parse(DEEP[name])
    assert e.value.pos is not None
    refused(tmp_path, DEEP[name], says="nests more than 100 levels")


def test_the_repl_reports_deep_nesting_and_keeps_its_state():
    out, err = io.StringIO(), io.StringIO()
    lines = ["model m(d = 8):", "input (d)", "dense(d)", "x = " + "relu(" * 1000 + ")" * 1000,
             "dense(" + "+".join(["1"] * 4000) + ")", "dense(3)"]
    assert run_piped(Session(), lines, out, err) == 2
    assert err.getvalue().count("nests more than 100 levels") == 2
    assert "total: 99 params" in out.getvalue()   # 8*8 + 8, then 8*3 + 3: the model kept both good lines


def test_nesting_within_the_bound_derives():
    m = symparams.parse(body("input (d)", "dense(" + "(" * 40 + "d" + ")" * 40 + ")",
                             "dense(" + "+".join(["1"] * 60) + ")"))
    assert m.evaluate().params == (8 * 8 + 8) + (8 * 60 + 60)


# ---------------------------------------------------------------- files

def test_a_file_that_is_not_utf8(tmp_path):
    text = body("input (d)  # caf\xe9", "dense(3)").encode("latin-1")
    refused(tmp_path, text, where="2:21", says="not UTF-8")


def test_a_nul_byte(tmp_path):
    refused(tmp_path, body("input (d)\x00", "dense(3)").encode(), where="2:14", says="unexpected character")


@pytest.mark.parametrize("newline", ["\r\n", "\r"])
def test_other_line_endings_read_as_newlines(tmp_path, newline):
    path = tmp_path / "net.sp"
    path.write_bytes(body("input (d)", "dense(3)").replace("\n", newline).encode())
    assert symparams.load(path).evaluate().params == 27


def test_a_byte_order_mark_and_tabs(tmp_path):
    path = tmp_path / "net.sp"
    path.write_bytes(b"\xef\xbb\xbf" + b"model m(d = 8):\n    input (d)\n\tdense(3)\n")
    assert symparams.load(path).evaluate().params == 27


def test_the_repl_loads_a_file_that_is_not_utf8(tmp_path):
    path = tmp_path / "net.sp"
    path.write_bytes(body("input (d)  # caf\xe9").encode("latin-1"))
    out, err = io.StringIO(), io.StringIO()
    assert run_piped(Session(), [f":load {path}", "model m(d = 8):", "input (d)"], out, err) == 2
    assert "not UTF-8" in err.getvalue()


# ---------------------------------------------------------------- size

def test_ten_thousand_layers(tmp_path):
    path = tmp_path / "net.sp"
    path.write_text(body("input (d)", *["dense(d)"] * 10_000))
    code, out, err = run_cli("summary", path)
    assert code == 0 and "10000*d*(d + 1)" in out


def test_a_text_over_the_line_limit_is_refused(tmp_path):
    refused(tmp_path, body("input (d)", *["dense(d)"] * bounds.MAX_LINES), where=f"{bounds.MAX_LINES + 1}:1",
            says="symparams reads at most 50,000")


def test_where_conditions_are_decided_as_before():
    def relations(condition):
        return [c.relation for c in symparams.parse(body(f"where {condition}", "input (d)", header="d = 8, h = 2"))
                .constraints]
    import sympy as sp
    assert relations("d >= 1") == [sp.true] and relations("d * h + d > 1") == [sp.true]
    assert str(relations("d <= 8")[0]) == "d <= 8" and str(relations("8 >= d")[0]) == "8 >= d"
    for never in ("d < 1", "d == 0", "0 == d", "d + h <= 1"):
        with pytest.raises(SymparamsError, match="can never hold"):
            relations(never)


def test_a_condition_at_numbers_has_the_verdict_sympy_gives():
    """bounds.holds compares rational sides as numbers; its verdict is bounds.at's, errors included."""
    import sympy as sp
    from symparams.dims import symbol
    d, h = symbol("d"), symbol("h")
    relations = [sp.Le(d, 9, evaluate=False), sp.Gt(d, 9, evaluate=False), sp.Eq(sp.Mod(d, h), 0),
                 sp.Ne(d / h, 4, evaluate=False), sp.Ge(d * h, d + h, evaluate=False), sp.Le(d, sp.Rational(17, 2))]
    for values in ({d: sp.Integer(8), h: sp.Integer(2)}, {d: sp.Integer(10), h: sp.Integer(3)}, {d: sp.Integer(9)}):
        for relation in relations:
            assert bounds.holds(relation, values) == bounds.at(relation, values), (relation, values)
    with pytest.raises(SymparamsError, match="divides by zero"):
        bounds.holds(sp.Le(d / (h - 2), 1, evaluate=False), {d: sp.Integer(8), h: sp.Integer(2)})


def test_a_long_sum_is_the_sum_sympy_makes():
    import sympy as sp
    from symparams.dims import symbol, total
    d, L = symbol("d"), symbol("L")
    terms = [d**2 + d, 4 * d, d**2 + d, sp.Integer(0), L * d, 4 * d, sp.floor(d / 3)] * 50
    assert total(terms) == sp.Add(*terms) and total([]) == 0


def test_a_hint_names_what_was_in_scope_where_the_name_was_written():
    from symparams.values import Names
    symbols, scope = {"d": 1}, {"x": 1}
    names = Names(symbols, scope)
    scope["y"], scope["x"] = 2, 3      # a later name, and a name bound again
    assert list(names) == ["d", "x"]


def test_a_sweep_over_sizes_that_divide_by_zero_drops_them_quietly(tmp_path):
    path = tmp_path / "net.sp"
    path.write_text(body("input (T)", "dense(256 / (min(T % h * h, T)))", header="T = 8, h = 1"))
    code, out, err = run_cli("sweep", path, "--vary", "h=1:3", "--vary", "T=1:3")
    assert code == 0, err
    assert "Warning" not in err
    assert out.splitlines() == ["h,T,params", "2,1,512", "2,3,512", "3,1,512", "3,2,384"]
