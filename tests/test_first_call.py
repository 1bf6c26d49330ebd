"""A process's first summary does only its own work (issue 23): a file with blocks derives none of
the prelude's declared layers (their names are read off its text), a shape check never reaches
sympy's simplify where cancel proves the sizes equal (simplify imports sympy.physics.units on first
use), and a table without experts does not import accounting to learn that. Checked with sys.modules
and caches in fresh processes, never with timings (benchmarks/resnet50.py measures those)."""
import json
import subprocess
import sys
from pathlib import Path

import pytest
import sympy as sp

import symparams
from symparams.catalog import prelude, registry
from symparams.dims import agree, symbol
from symparams.errors import SyntaxProblem

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
