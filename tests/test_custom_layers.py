"""Layers declared in the language: shape patterns, formulas, and mistakes pointed at."""
import pytest
import sympy as sp

import symparams
from symparams.errors import ShapeError, SymparamsError, SyntaxProblem, UnknownName

MY_DENSE = """
layer my_dense(units)(x: (*rows, n)) -> (*rows, units):
    params = n*units + units
    macs = rows*n*units
"""


def n_params(module) -> int:
    return sum(p.numel() for p in module.parameters())


@pytest.mark.parametrize("shape,units", [((7,), 3), ((5, 9), 12), ((2, 3, 4), 8)])
def test_declared_dense_matches_torch_linear_and_the_catalog(shape, units):
    import torch
    from torch import nn
    dims = ", ".join(map(str, shape))
    mine = symparams.parse(MY_DENSE + f"model m():\n    input ({dims})\n    my_dense({units})\n").evaluate()
    built_in = symparams.parse(f"model m():\n    input ({dims})\n    dense({units})\n").evaluate()
    linear = nn.Linear(shape[-1], units).to("meta")
    out = linear(torch.zeros((1,) + shape, device="meta"))
    assert mine.params == built_in.params == n_params(linear)
    assert mine.macs == built_in.macs
    assert mine.shape(mine.model.output_shape) == tuple(out.shape[1:])


def test_declared_layer_is_symbolic_and_reads_its_type():
    m = symparams.parse(MY_DENSE + "model m(T = 4, d = 8, k = 3):\n    input (T, d)\n    my_dense(k)\n")
    T, d, k = (m.symbols[s] for s in "Tdk")
    row = m.rows[0]
    assert row.type == "my_dense" and row.output_shape == (T, k)
    assert sp.expand(row.params - (d * k + k)) == 0 and sp.expand(row.macs - T * d * k) == 0


def test_pattern_names_bind_and_must_agree():
    text = """
layer pair_product(units)(a: (*, n), b: (*, n)) -> (*, units):
    params = n*n*units + units
model m():
    x = input (4, 6)
    y = input (4, {m})
    z = pair_product(5)(x, y)
"""
    from torch import nn
    assert symparams.parse(text.format(m=6)).evaluate().params == n_params(nn.Bilinear(6, 6, 5))
    with pytest.raises(ShapeError) as e:
        symparams.parse(text.format(m=7), "bil.sp")
    assert "expected 6, found 7" in str(e.value) and "bil.sp:7:9" in str(e.value)


def test_rank_mismatch_names_the_pattern():
    with pytest.raises(ShapeError, match=r"expects its input x as \(t, n\), found \(None, 3\)"):
        symparams.parse("layer seq()(x: (t, n)) -> (t, n):\n    params = n\n"
                        "model m():\n    input (3)\n    seq\n")


def test_where_condition_of_a_declared_layer():
    text = "layer halve()(x: (*, n)) -> (*, n / 2):\n    where n % 2 == 0\nmodel m(k = 6):\n    input (k)\n    halve\n"
    m = symparams.parse(text)
    assert m.evaluate().shape(m.output_shape) == (3,)
    with pytest.raises(SymparamsError, match="n % 2 == 0"):
        m.evaluate({"k": 7})


def test_declared_layer_inside_a_block_and_under_torch():
    text = MY_DENSE + """
block mlp(h)(x):
    x = my_dense(h)(x)
    return my_dense(2)(x)

convention torch
model m(n = 10):
    input (n)
    mlp(32)
"""
    from torch import nn
    ev = symparams.parse(text).evaluate()
    assert ev.params == n_params(nn.Sequential(nn.Linear(10, 32), nn.Linear(32, 2)))


MALFORMED = [
    # (declaration, error class, line, column, words in the message)
    ("layer f(u)(x: (*, n)) -> (*, u):\n    params = n*unit\n", UnknownName, 2, 16, "'unit' is not bound"),
    ("layer f(u)(x: (*, n)) -> (*, u):\n    parms = n*u\n", SyntaxProblem, 2, 5, "did you mean 'params'"),
    ("layer f(u)(x: (*, *a, n)) -> (*, u):\n    params = n\n", SyntaxProblem, 1, 19, "at most one '*'"),
    ("layer f(u)(x: (n + 1)) -> (u):\n    params = n\n", SyntaxProblem, 1, 16, "names, numbers"),
    ("layer f(u)(x: (n)) -> (*, u):\n    params = n\n", SyntaxProblem, 1, 24, "matches nothing"),
    ("layer f(u)(x: (*, n)) (*, u):\n    params = n\n", SyntaxProblem, 1, 23, "expected"),
    ("layer f(u)(x: (*, n)) -> (*, u):\n    params = n\n    params = u\n", SyntaxProblem, 3, 5, "given twice"),
    ("layer f(u, u)(x: (*, n)) -> (*, u):\n    params = n\n", SyntaxProblem, 1, 12, "twice"),
    ("layer f(u)(x: (*, n)) -> (*, u):\n    dense(3)\n", SyntaxProblem, 2, 5, "only formulas"),
]


@pytest.mark.parametrize("text,error,line,column,words", MALFORMED)
def test_malformed_declarations_point_at_file_line_column(text, error, line, column, words):
    with pytest.raises(error) as e:
        symparams.parse(text + "model m():\n    input (3)\n", "decl.sp")
    assert e.value.pos is not None and (e.value.pos.line, e.value.pos.column) == (line, column)
    assert str(e.value).startswith(f"decl.sp:{line}:{column}:") and words in str(e.value)


def test_a_declared_layer_may_not_shadow_the_catalog():
    with pytest.raises(SyntaxProblem, match="already a layer of the catalog"):
        symparams.parse("layer dense(u)(x: (*, n)) -> (*, u):\n    params = n*u\nmodel m():\n    input (3)\n")


def test_prelude_layers_are_listed_with_their_declaration(capsys):
    from symparams.cli import main
    assert main(["layers", "class_token"]) == 0
    out = capsys.readouterr().out
    assert "class_token" in out and "layer class_token()" in out
