"""Layer facts (symparams/catalog/facts.py) decide every figure beyond the counts, never a layer's name.

* A layer declared in the language with the facts of an attention gets its KV cache and its
  activations right with no Python change: a Qwen2 program whose attention product is the user's
  own layer equals the cache and the saved tensors of transformers' Qwen2 at runtime.
* The walks name no catalog layer.
* A declaration's facts are checked where they are written.
"""
from __future__ import annotations

import ast
import json
from pathlib import Path

import pytest
import sympy as sp

import symparams
from symparams.catalog.registry import CATALOG
from symparams.errors import SymparamsError
from symparams.importers.huggingface import program

ROOT = Path(__file__).resolve().parent.parent

MY_ATTENTION = """\
# the user's own attention: no weights, the projections around it hold them
layer my_product(h, g, k)(q: (*, t, a), kk: (*, s, b), v: (*, s, b)) -> (*, t, a):
    where a == h * k, b == g * k
    macs = h * t * s * 2 * k
    attention = attention(heads=h, kv_heads=g, key_dim=k, queries=t, keys=s, upcast=true)
    parallel = elementwise

"""


def own_attention(text: str) -> str:
    """The imported program with its attention product replaced by the user's declared layer."""
    assert "attention_product(" in text
    return MY_ATTENTION + text.replace("attention_product(", "my_product(")


def qwen2_config(**fields):
    config = dict(model_type="qwen2", architectures=["Qwen2ForCausalLM"], vocab_size=128, hidden_size=64,
                  intermediate_size=96, num_hidden_layers=2, num_attention_heads=4, num_key_value_heads=2,
                  max_position_embeddings=512)
    config.update(fields)
    return config


def at(model, expr, B, T):
    values = dict(model.evaluate({"sequence_length": T}).values)
    values[model.batch] = B
    return int(sp.sympify(expr).xreplace(values))


@pytest.mark.parametrize("prefill,steps,batch", [(5, 0, 1), (12, 3, 2)])
def test_a_declared_attention_gets_the_kv_cache_transformers_keeps(prefill, steps, batch):
    pytest.importorskip("transformers")
    from kv_cache_reference import runtime_cache_bytes
    config = qwen2_config()
    m = symparams.parse(own_attention(program(config)))
    ours = at(m, m.quantity("kv_cache", per_batch=True, dtype="float32"), batch, prefill + steps)
    assert ours == runtime_cache_bytes(config, prefill, steps, batch, dtype="float32")


@pytest.mark.parametrize("attention", ["eager", "sdpa"])
@pytest.mark.parametrize("dtype", ["float32", "bfloat16"])
def test_a_declared_attention_gets_the_activations_autograd_keeps(attention, dtype):
    torch = pytest.importorskip("torch")
    from activations_reference import ids, saved_bytes, tiny_qwen2
    model = tiny_qwen2({"float32": torch.float32, "bfloat16": torch.bfloat16}[dtype], attention)
    measured = saved_bytes(model, ids(2, 12, 128))
    m = symparams.parse(own_attention(program(json.loads(model.config.to_json_string()))))
    ours = at(m, m.quantity("activations", per_batch=True, dtype=dtype, attention=attention), 2, 12)
    assert ours == measured


def test_the_walks_name_no_catalog_layer():
    """accounting.py and the quantities read facts: no string in them is a catalog entry's name (the
    tensor-parallel roles "attention" and "embedding" are words of facts.ROLES that layers state)."""
    from symparams.catalog import facts
    from symparams.catalog import everything
    entries = everything().values()   # the formula sheets' and the prelude's
    names = {spec.name for spec in entries} | {spec.keras_name.lower() for spec in entries}
    names -= set(facts.ROLES)
    for module in ("accounting.py", "quantities/registry.py", "quantities/counts.py"):
        tree = ast.parse((ROOT / "symparams" / module).read_text())
        strings = {node.value for node in ast.walk(tree) if isinstance(node, ast.Constant)
                   and isinstance(node.value, str)}
        assert not strings & names, f"{module} names {sorted(strings & names)}"


@pytest.mark.parametrize("body,message", [
    ("attention = attention(heads=h, key_dim=k, queries=t, keys=s, cache=sometimes)", "cache= is one of"),
    ("attention = attention(heads=h, key_dim=k, queries=t, keys=s, colour=1)", "has no keyword 'colour'"),
    ("attention = attention(heads=h, queries=t, keys=s)", "needs key_dim="),
    ("attention = attention(heads=h, key_dim=k, queries=t, keys=s, cache=window)", "cache=window needs window="),
    ("attention = heads(h)", "attention = states the layer's attention"),
    ("parallel = sideways", "parallel = is one of"),
    ("saved = t * nope", "'nope' is not bound"),
])
def test_a_declared_fact_is_checked_where_it_is_written(body, message):
    text = f"layer my(h, k)(q: (*, t, a), v: (*, s, b)) -> (*, t, a):\n    {body}\n"
    with pytest.raises(SymparamsError) as e:
        symparams.parse(text)
    assert message in str(e.value)
    assert e.value.pos is not None and e.value.pos.line == 2


@pytest.mark.parametrize("dtype,bytes_", [("int4", 12_582_912), ("nf4", 12_582_912), ("fp8", 25_165_824),
                                         ("float8_e5m2", 25_165_824), ("int8", 25_165_824)])
def test_sub_byte_and_8_bit_dtypes_wherever_a_dtype_is_taken(dtype, bytes_):
    from symparams.cli import main
    import io
    import contextlib
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        assert main(["formula", str(ROOT / "examples" / "hf" / "qwen2-0.5b"), "--of", "kv_cache", "--dtype", dtype,
                     "--set", "sequence_length=4096", "--format", "json"]) == 0
    res = json.loads(out.getvalue())
    assert res["value"] == bytes_
    assert res["dtype"] in (dtype, {"fp8": "float8_e4m3fn"}.get(dtype))


def test_qwen2_0_5b_kv_cache_at_4096_tokens_in_bfloat16():
    """Issue 18's figure: the cache transformers holds for Qwen2-0.5B at 4,096 tokens."""
    from symparams.interpreter import read
    m = read(ROOT / "examples" / "hf" / "qwen2-0.5b").model(None, None)
    assert at(m, m.quantity("kv_cache", dtype="bfloat16"), 1, 4096) == 50_331_648


def test_a_declared_layer_may_say_its_macs_are_not_known(tmp_path):
    """`macs = not_known` (the general route writes it where no formula is confirmed): the counts
    stand, every figure that needs the MACs is refused naming the layer, and counts cannot say it."""
    import subprocess
    import sys
    source = tmp_path / "m.sp"
    source.write_text("layer mystery(d)(x: (*, t, n)) -> (*, t, n):\n    params = d * n\n    macs = not_known\n"
                      "    saved = not_known\n\nmodel m(d = 8, T = 4):\n    x = input (T, 16)\n    y = mystery(d)(x)\n")
    model = symparams.load(str(source))
    assert model.evaluate({}).params == 128
    for of in ("macs", "kv_cache", "activations", "flops"):
        run = subprocess.run([sys.executable, "-m", "symparams", "formula", str(source), "--of", of],
                             capture_output=True, text=True)
        assert run.returncode == 2 and "not known" in run.stderr and "mystery" in run.stderr, (of, run.stderr)
    source.write_text("layer bad()(x: (*, n)) -> (*, n):\n    params = not_known\n\nmodel m():\n"
                      "    x = input (4)\n    y = bad()(x)\n")
    run = subprocess.run([sys.executable, "-m", "symparams", "summary", str(source)], capture_output=True, text=True)
    assert run.returncode == 2 and "only macs and saved may be not known" in run.stderr


def test_a_declared_layer_may_say_the_parameters_one_example_uses_are_not_known(tmp_path):
    """`active = not_known` (the general route writes it for a mixture of experts whose experts are
    a list of modules): the counts stand, the summary says the active parameters are not known and
    why, its JSON gives no number for them, and `--of active` is refused naming the layer."""
    import subprocess
    import sys
    source = tmp_path / "m.sp"
    source.write_text("layer routed(d)(x: (*, t, n)) -> (*, t, n):\n    params = 4 * d * n\n    active = not_known\n\n"
                      "model m(d = 8, T = 4):\n    x = input (T, 16)\n    y = routed(d)(x)\n")
    assert symparams.load(str(source)).evaluate({}).params == 512

    def run(*args):
        return subprocess.run([sys.executable, "-m", "symparams", *args, str(source)], capture_output=True, text=True)
    summary = run("summary")
    assert summary.returncode == 0 and "Active params (one token): not known" in summary.stdout, summary
    assert "512" in summary.stdout
    totals = json.loads(run("summary", "--format", "json").stdout)["totals"]
    assert totals["active"]["value"] is None and "routed" in totals["active"]["not_known"]
    refused = run("formula", "--of", "active")
    assert refused.returncode == 2 and "not known" in refused.stderr and "routed" in refused.stderr, refused.stderr
