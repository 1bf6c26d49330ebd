"""The one table of activation functions (symparams/catalog/activations.py): every place that knows
activations reads it, and what it says each function keeps for the backward pass is what autograd
keeps, measured on the CPU with torch.autograd.graph.saved_tensors_hooks (each storage once,
parameters left out) against `quantities.compute(model, "activations", dtype="float32")`.
"""
from __future__ import annotations

import ast
from pathlib import Path

import pytest
import sympy as sp

import symparams
from symparams import quantities
from symparams.catalog import activations
from symparams.catalog.registry import Activation, lookup
from symparams.verify import keras_builder, torch_builder
from symparams.verify.make import Make, NoCounterpart, Partial

torch = pytest.importorskip("torch")
nn = torch.nn

ROWS = activations.FUNCTIONS
BUILT = [f for f in ROWS if f.torch]                 # every row but `none`
PACKAGE = Path(symparams.__file__).parent


# ---------------------------------------------------------------- one list

def test_every_choice_of_activation_is_a_row_and_every_row_a_choice():
    assert Activation.options == activations.NAMES
    assert len(set(activations.NAMES)) == len(ROWS)
    for f in ROWS:
        assert f.keeps in activations.KEEPS and f.more >= 0, f.name
        assert f.applies or (f.torch is None and f.keras is None and f.identity), f.name


def test_the_builders_read_the_table():
    for f in ROWS:
        made = torch_builder.activation(f.name)
        if f.torch is None:
            assert made == []
        else:
            (m,) = made
            assert (m.path, m.args, m.kwargs) == (f.torch, (), dict(f.torch_options))
        if f.keras is None:
            if f.applies:
                with pytest.raises(NoCounterpart):
                    keras_builder.activation(f.name)
            else:
                assert keras_builder.activation(f.name) is None
        elif f.keras_options:
            k = keras_builder.activation(f.name)
            assert isinstance(k, Partial) and (k.path, k.kwargs) == (f"keras.activations.{f.keras}",
                                                                     dict(f.keras_options))
        else:
            assert keras_builder.activation(f.name) == f.keras
    # the catalog layers computing a function alone, taking no arguments (relu, gelu, ...): built from its row
    layers = activations.layers()
    assert {"relu", "gelu", "silu", "sigmoid", "tanh"} <= set(layers)
    for name in layers:
        assert torch_builder.TORCH[name] is torch_builder.TORCH[layers[0]]
        assert keras_builder.KERAS[name] is keras_builder.KERAS[layers[0]]
        assert name not in torch_builder.CALLS and name not in keras_builder.CALLS


def test_the_importers_read_the_table():
    from symparams.importers.huggingface import parts
    from symparams.importers.torch_fx import _functions, _Leaves
    assert parts.ACTIVATIONS is activations.HF
    assert activations.HF["gelu_new"] == "gelu_new" and activations.HF["gelu_pytorch_tanh"] == "gelu_tanh"
    class Spelled:           # sizes written as they are; no symbol is in use
        def __init__(self):
            self.used = set()

        def __call__(self, v):
            return str(v)

        def in_text(self, texts):
            return ()
    leaves = _Leaves(Spelled())
    for f in BUILT:
        module = torch_builder.activation(f.name)[0].build(_namespace())
        g = activations.by_torch_module(module)      # swish's module is silu's: the first row of its class
        assert g.name == {"swish": "silu", "hard_silu": "hard_swish"}.get(f.name, f.name), f.name
        if f.identity:
            continue
        write = leaves(module)
        assert write is not None, f.name
        assert write(module) == f"activation({g.name})" or write(module).startswith(f"{g.name}("), f.name
    functions = _functions()
    for f in ROWS:
        for name in f.functions:
            assert functions[name] in (f"{f.name}()", f"activation({f.name})")


def _named(node) -> set:
    """The strings naming activation functions in one literal collection (and the pairs in it) or
    call of the source; a dict's keys unless its values are all tuples (IGNORED_KEYWORDS: per layer)."""
    if isinstance(node, (ast.Tuple, ast.List, ast.Set)):
        items = node.elts
    elif isinstance(node, ast.Dict):
        keyed = not all(isinstance(v, (ast.Tuple, ast.List)) for v in node.values)
        items = [k for k in node.keys if k is not None and keyed] + list(node.values)
    elif isinstance(node, ast.Call):
        items = node.args
    else:
        return set()
    items = items + [i for item in items if isinstance(item, (ast.Tuple, ast.List)) for i in item.elts]
    # a name only an activation function has (a catalog layer taking arguments, as softmax(axis),
    # is also a row of the builders' CALLS tables)
    only = {f.name for f in ROWS if f.applies and not f.identity and
            not ((spec := lookup(f.name)) is not None and spec.name == f.name and spec.arguments)}
    only |= set(activations.HF) - {"linear"}
    return {i.value for i in items if isinstance(i, ast.Constant) and i.value in only}


def test_no_other_module_lists_activations():
    """Three or more activation names in one literal (a tuple, a dict, a call's arguments) outside the
    table is another list of them."""
    found = []
    for path in sorted(PACKAGE.rglob("*.py")):
        if path == PACKAGE / "catalog" / "activations.py":
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            names = _named(node)
            if len(names) >= 3:
                found.append(f"{path.relative_to(PACKAGE)}:{node.lineno} {sorted(names)}")
    assert not found


def test_the_table_names_what_transformers_has():
    act = pytest.importorskip("transformers.activations")
    for hf, name in activations.HF.items():
        assert hf in act.ACT2CLS, hf
        assert name in activations.BY_NAME


# ---------------------------------------------------------------- what the backward pass keeps

def _namespace():
    from symparams.verify.torch_network import NAMESPACE
    return NAMESPACE


def _kept(fn, x, params=()) -> dict:
    """What autograd keeps running fn(x): {"input": n, "output": n, "other": [sizes]}, storages once,
    parameters left out, sizes in elements of x."""
    packed = []
    with torch.autograd.graph.saved_tensors_hooks(lambda t: packed.append(t) or t, lambda t: t):
        y = fn(x)
    skip = {p.untyped_storage().data_ptr() for p in params}
    seen, out = set(), {"input": 0, "output": 0, "other": []}
    for t in packed:
        storage = t.untyped_storage()
        if storage.data_ptr() in seen or storage.data_ptr() in skip or storage.nbytes() == 0:
            continue
        seen.add(storage.data_ptr())
        if storage.data_ptr() == x.untyped_storage().data_ptr():
            out["input"] += 1
        elif storage.data_ptr() == y.untyped_storage().data_ptr():
            out["output"] += 1
        else:
            out["other"].append(storage.nbytes() / x.untyped_storage().nbytes())
    return out


def _facts(f) -> dict:
    return {"input": int(f.keeps == "input"), "output": int(f.keeps == "output"), "other": [1.0] * f.more}


@pytest.mark.parametrize("name", [f.name for f in BUILT])
def test_each_rows_torch_module_keeps_what_the_row_says(name):
    f = activations.BY_NAME[name]
    module = torch_builder.activation(name)[0].build(_namespace())
    x = torch.randn(3, 5, 8, requires_grad=True)
    assert _kept(module, x) == _facts(f)


@pytest.mark.parametrize("hf", sorted(activations.HF))
def test_each_transformers_activation_keeps_what_its_row_says(hf):
    act = pytest.importorskip("transformers.activations")
    x = torch.randn(3, 5, 8, requires_grad=True)
    assert _kept(act.ACT2FN[hf], x) == _facts(activations.BY_NAME[activations.HF[hf]])


def _ours(text: str, B: int, rule: str = "transformers") -> int:
    model = symparams.parse(text)
    expr = quantities.compute(model, "activations", per_batch=True, dtype="float32", rule=rule)
    values = dict(model.evaluate().values)
    values[model.batch] = B
    return int(sp.sympify(expr).xreplace(values))


def _measured(module, x) -> int:
    """Bytes of the storages autograd keeps running module(x), each once, parameters left out."""
    packed = []
    with torch.autograd.graph.saved_tensors_hooks(lambda t: packed.append(t) or t, lambda t: t):
        module(x)
    params = {p.untyped_storage().data_ptr() for p in module.parameters()}
    storages = {t.untyped_storage().data_ptr(): t.untyped_storage().nbytes() for t in packed}
    return sum(n for ptr, n in storages.items() if ptr not in params)


SIZES = [(2, 3, 8, 6), (3, 5, 4, 10)]     # B, T, n, units


@pytest.mark.parametrize("name", [f.name for f in BUILT])
@pytest.mark.parametrize("B, T, n, units", SIZES)
def test_activations_of_a_function_alone_and_after_dense_equal_autograds(name, B, T, n, units):
    torch.manual_seed(0)
    act = torch_builder.activation(name)[0].build(_namespace())
    header = f"model m(T = {T}, n = {n}):\n    input (T, n)\n"
    x = torch.randn(B, T, n, requires_grad=True)
    assert _ours(header + f"    activation({name})\n", B) == _measured(act, x), "alone"
    x = torch.randn(B, T, n, requires_grad=True)
    dense = nn.Sequential(nn.Linear(n, units), act)
    assert _ours(header + f"    dense({units}, activation={name})\n", B) == _measured(dense, x), "after dense"
    # a layer after it reads its output: a function keeping its output keeps that same storage
    out = units // 2 if activations.halves(name) else units
    stack = nn.Sequential(nn.Linear(n, units), act, nn.Linear(out, 3))
    assert _ours(header + f"    dense({units}, activation={name})\n    dense(3)\n", B) == _measured(stack, x), \
        "between two dense"


@pytest.mark.parametrize("name", [f.name for f in BUILT if not f.identity])
def test_korthikanti_keeps_an_activations_input_alone(name):
    B, T, n, units = 2, 3, 8, 6
    header = f"model m(T = {T}, n = {n}):\n    input (T, n)\n"
    assert _ours(header + f"    activation({name})\n", B, "korthikanti") == 4 * B * T * n
    assert _ours(header + f"    dense({units}, activation={name})\n", B, "korthikanti") == 4 * B * T * (n + units)


def test_gpt2s_gelu_new_keeps_four_tensors_of_the_mlps_width():
    """gelu_new (GPT-2's unfused formula) keeps x, tanh, 1 + tanh and x / 2; torch's gelu keeps x."""
    header = "model m(T = 4, d = 8):\n    input (T, d)\n"
    gelu = _ours(header + "    dense(32, activation=gelu)\n", 1)
    gelu_new = _ours(header + "    dense(32, activation=gelu_new)\n", 1)
    assert gelu_new - gelu == 3 * 4 * 4 * 32


# ---------------------------------------------------------------- the frameworks build each row

@pytest.mark.parametrize("framework", ["torch", "keras"])
@pytest.mark.parametrize("line", ["dense(5, activation=gelu_new)", "activation(gelu_fast)", "activation(gelu_tanh)",
                                  "dense(5, activation=gelu_python)", "activation(quick_gelu)"])
def test_verify_builds_transformers_gelus(framework, line):
    from symparams.verify.compare import check
    model = symparams.parse(f"model m():\n    input (6, 8)\n    {line}\n", convention=framework)
    (row,) = check(model, framework).rows
    if framework == "keras" and "quick_gelu" in line:
        assert row.status != "agrees"
        return
    assert row.status == "agrees", (row.formula, row.framework)


def test_export_writes_each_functions_module(tmp_path, capsys):
    from symparams.cli import main
    source = tmp_path / "m.sp"
    source.write_text("model m(d = 8):\n    input (4, d)\n    dense(4 * d, activation=gelu_new)\n    dense(d)\n")
    assert main(["export", str(source), "--to", "torch"]) == 0
    written = capsys.readouterr().out
    assert "class NewGELU(nn.Module)" in written and "NewGELU()" in written
    assert main(["export", str(source), "--to", "keras"]) == 0
    assert "activation=lambda x: keras.activations.gelu(x, approximate=True)" in capsys.readouterr().out


def test_torch_import_reads_the_functions_back():
    from symparams.importers.torch_fx import program
    from symparams.verify.torch_glue import NewGELU

    class M(nn.Module):
        def __init__(self):
            super().__init__()
            self.up = nn.Sequential(nn.Linear(8, 32), NewGELU())
            self.act = nn.GELU(approximate="tanh")
            self.down = nn.Linear(32, 8)

        def forward(self, x):
            return self.down(self.act(self.up(x))).exp()

    text = program(M(), [(4, 8)])
    assert "activation=gelu_new" in text and "activation(gelu_tanh)" in text and "activation(exponential)" in text
