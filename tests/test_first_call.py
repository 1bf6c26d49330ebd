"""A process's first summary does only its own work (issue 23): a file with blocks derives none of
the prelude's declared layers (their names are read off its text), a shape check never reaches
sympy's simplify where cancel proves the sizes equal (simplify imports sympy.physics.units on first
use), a table without experts does not import accounting to learn that, a window's size is not
handed to sympy's floor to decide what a trial assignment shows it leaves alone, and reading a file
imports no zipfile. Checked with sys.modules and counts in fresh processes, never with timings
(benchmarks/resnet50.py measures those). The shortcuts give sympy's very answers: floors and
ceilings (dims), sympy's str of sizes and counts (printing.text), the number of terms of an expanded
total (printing.term_count), checked against sympy over every example and random expressions."""
import json
import random
import subprocess
import sys
from pathlib import Path

import pytest
import sympy as sp

import symparams
from symparams import dims, printing
from symparams.catalog import prelude, registry
from symparams.dims import agree, symbol
from symparams.errors import SymparamsError, SyntaxProblem
from symparams.interpreter import read

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = sorted((ROOT / "examples").rglob("*.sp"))


def fresh(code: str) -> dict:
    """Run `code` in a fresh interpreter; it leaves its findings in a dict `out`, printed as JSON."""
    run = subprocess.run([sys.executable, "-c", "out = {}\n" + code + "\nimport json; print(json.dumps(out))"],
                         capture_output=True, text=True, cwd=ROOT)
    assert run.returncode == 0, run.stderr
    return json.loads(run.stdout.splitlines()[-1])


def test_a_zoo_summary_with_blocks_derives_no_prelude_and_imports_no_physics_or_accounting():
    out = fresh("import sys\nimport symparams\nfrom symparams.render import text_table\n"
                "m = symparams.load('examples/zoo/resnet50_keras.sp')\ntext_table(m, m.evaluate())\n"
                "from symparams.catalog import prelude\n"
                "out['derived'] = prelude.entries.cache_info().currsize\n"
                "out['modules'] = sorted(sys.modules)")
    assert out["derived"] == 0
    assert not [m for m in out["modules"] if m.startswith("sympy.physics")]
    assert "symparams.accounting" not in out["modules"]


def test_no_example_reaches_simplify():
    """Every example's every model derived, evaluated and printed: sympy.physics never imported."""
    out = fresh("import sys\nimport symparams.interpreter as interpreter\nfrom symparams.render import text_table\n"
                f"for path in {[str(p.relative_to(ROOT)) for p in EXAMPLES]!r}:\n"
                "    program = interpreter.read(path)\n"
                "    for name in program.models:\n"
                "        m = program.model(name)\n"
                "        text_table(m, m.evaluate())\n"
                "out['physics'] = sorted(m for m in sys.modules if m.startswith('sympy.physics'))")
    assert out["physics"] == []


def test_the_prelude_names_read_off_its_text_are_its_entries_names():
    derived = prelude.entries()
    assert set(derived) == prelude.names() and len(derived) >= 20
    assert {registry.normalize(spec.name) for spec in derived.values()} == prelude.names()
    for key in prelude.names():
        assert registry.is_layer_name(key) and registry.lookup(key) is derived[key]


def test_a_miss_is_no_layer_and_catalog_names_are():
    assert not registry.is_layer_name("bottleneck_down") and registry.lookup("bottleneck_down") is None
    assert registry.is_layer_name("Conv2D") and registry.is_layer_name("first_token")


@pytest.mark.parametrize("name", ["first_token", "Dense", "rotary_embedding"])
def test_a_block_named_as_a_catalog_layer_is_refused_where_it_is_named(name):
    with pytest.raises(SyntaxProblem, match="already a layer of the catalog") as e:
        symparams.parse(f"block {name}(n)(x):\n    return x\nmodel m(n = 2):\n    input (n)\n", "b.sp")
    assert str(e.value).startswith("b.sp:1:7:")


def test_agree_proves_a_ratio_equal_without_simplify():
    out = fresh("import sys\nfrom symparams.dims import agree, symbol\nx = symbol('x')\n"
                "out['verdict'] = agree(1 / (x + 1) + x / (x + 1), 1) is True\n"
                "out['physics'] = any(m.startswith('sympy.physics') for m in sys.modules)")
    assert out == {"verdict": True, "physics": False}


def test_agree_still_asks_simplify_what_cancel_cannot_prove():
    H, W = symbol("H"), symbol("W")
    assert agree(H, 2 * sp.floor(H / 2)) == sp.Eq(H, 2 * sp.floor(H / 2))    # holds for even H only
    half = sp.floor(H / 2)       # not a ratio of polynomials: cancel is not asked, simplify proves it
    assert agree((H**2 - 1) / (H - 1) * half, (H + 1) * half) is True
    assert agree(H * W / (H + 1), W) is False                     # a ratio cancel cannot prove 0: never equal
    assert agree(H * W / (H + 1), W - 1) == sp.Eq(H * W / (H + 1), W - 1)     # equal where W = H + 1
    assert agree(H + 1, H) is False


# ---------------------------------------------------------------- sympy's answers, without asking sympy

def test_a_zoo_resnet_summary_hands_no_window_to_sympys_floor_and_reads_no_zip():
    out = fresh("import sys\nfrom sympy.functions.elementary.integers import RoundFunction\n"
                "asked = []\nsympys = RoundFunction.eval.__func__\n"
                "def spy(cls, arg):\n"
                "    if arg.free_symbols:\n"
                "        asked.append(f'{cls.__name__}({arg})')\n"
                "    return sympys(cls, arg)\n"
                "RoundFunction.eval = classmethod(spy)\n"
                "import symparams\nfrom symparams.render import text_table\n"
                "for file, name in (('resnet50_keras.sp', None), ('resnet.sp', 'resnet50')):\n"
                "    m = symparams.load('examples/zoo/' + file, model=name)\n"
                "    text_table(m, m.evaluate())\n"
                "out['asked'] = asked\n"
                "out['zip'] = [m for m in ('zipfile', 'importlib.readers') if m in sys.modules]")
    assert out == {"asked": [], "zip": []}


def _random_size(rng, symbols, depth):
    """A size as layers build them: sums, products, squares, floors and ceilings of quotients."""
    r = rng.random()
    if depth == 0 or r < 0.3:
        return rng.choice([*symbols, sp.Integer(rng.randint(-5, 9)), sp.Rational(rng.randint(-5, 5), rng.randint(1, 4))])
    if r < 0.55:
        return sp.Add(*[_random_size(rng, symbols, depth - 1) for _ in range(rng.randint(2, 3))])
    if r < 0.75:
        return sp.Mul(*[_random_size(rng, symbols, depth - 1) for _ in range(2)])
    if r < 0.85:
        return sp.floor(_random_size(rng, symbols, depth - 1) / rng.choice([2, 3, 4, symbols[-1]]))
    if r < 0.95:
        return sp.ceiling(_random_size(rng, symbols, depth - 1) / rng.choice([2, 3, 4]))
    return _random_size(rng, symbols, depth - 1) ** 2


def _examples_expressions():
    """Every shape size, count and printed form of every model of every example, with their parts."""
    seen = {}
    for path in EXAMPLES:
        program = read(str(path))
        for name in program.models:
            m = program.model(name)
            figures = [m.params, m.trainable, m.non_trainable, m.buffers]
            for row in (r for top in m.rows for r in top.walk()):
                figures += [row.params, row.non_trainable, *row.output_shape]
                try:
                    figures.append(row.macs)
                except SymparamsError:     # a layer's MACs not known
                    pass
            for e in figures:
                e = sp.sympify(e)
                for form in (e, printing.canonical(e)):
                    for part in sp.preorder_traversal(form):
                        seen[part] = None
    return list(seen)


@pytest.fixture(scope="module")
def example_expressions():
    return _examples_expressions()


def test_floors_and_ceilings_of_windows_are_sympys(example_expressions):
    rounded = [e for e in example_expressions if isinstance(e, (sp.floor, sp.ceiling))]
    assert len(rounded) > 20
    rng = random.Random(23)
    symbols = [symbol(c) for c in "HWks"]
    args = [e.args[0] for e in rounded] + \
        [_random_size(rng, symbols, 3) / rng.choice([1, 2, 3, 4, symbols[-1]]) for _ in range(600)]
    for arg in args:
        for cls in (sp.floor, sp.ceiling):
            ours, sympys = dims._rounded(cls, arg), cls(arg)
            assert ours == sympys and str(ours) == str(sympys), (cls, arg)
    # a symbol that not every positive integer may stand for: sympy decides
    even = sp.Symbol("e", even=True, positive=True)
    assert dims.floordiv(even, 2) == sp.floor(even / 2) == even / 2


def test_the_printed_form_of_sizes_and_counts_is_sympys(example_expressions):
    rng = random.Random(7)
    symbols = [symbol(c) for c in ("H", "W", "classes", "n1", "d_model", "T")]
    randoms = [_random_size(rng, symbols, 4) for _ in range(800)]
    for e in example_expressions + randoms + [sp.expand(e) for e in randoms]:
        assert printing.text(e) == str(e), e


def test_term_count_is_expands(example_expressions):
    rng = random.Random(11)
    symbols = [symbol(c) for c in "HWkn"]
    for e in [e for e in example_expressions if not e.is_Atom] + \
            [_random_size(rng, symbols, 3) for _ in range(300)]:
        assert printing.term_count(e) == len(sp.Add.make_args(sp.expand(e))), e


def test_a_size_built_whole_is_whole_for_sympy(example_expressions):
    rng = random.Random(3)
    symbols = [symbol(c) for c in "HWk"]
    for e in example_expressions + [_random_size(rng, symbols, 3) for _ in range(300)]:
        if isinstance(e, sp.Expr) and dims.is_whole(e):
            assert e.is_integer, e
