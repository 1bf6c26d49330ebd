"""Where torch.fx cannot trace a module, `symparams import FILE.py:NAME` reads its module tree
(importers/module_tree.py): the module built with its constructor's ints as sizes, a forward pass
measured by hooks. Each program is compared with PyTorch: params, trainable, buffers and the output
shape exactly, MACs (FlopCounterMode) where the program states them, at the constructor's defaults
and, through its formulas, at a second setting of its ints against PyTorch building the module there."""
from __future__ import annotations

import runpy
from pathlib import Path

import pytest

import symparams
from symparams.errors import SymparamsError

torch = pytest.importorskip("torch")

FORMS = Path(__file__).resolve().parent / "torch_forms"
FILE = FORMS / "untraceable.py"
DEFINED = runpy.run_path(str(FILE))

# name, --input, int input, a second setting of the constructor's ints, the input there, MACs stated?
CASES = [
    ("Guarded", (16,), False, dict(d=20, hidden=36, classes=3), (20,), True),
    ("KwargsMLP", (5, 24), False, dict(d=40, hidden=72, depth=5, classes=2), (5, 40), True),
    ("TinyCausalLM", (12,), True, dict(vocab_size=203, hidden_size=48, num_hidden_layers=3,
                                       num_attention_heads=4, intermediate_size=96, max_position_embeddings=32),
     (12,), True),
    ("Pyramid", (3, 32, 32), False, dict(channels=12, classes=4), (3, 32, 32), False),
]


def _imported(name, shape, ints):
    from symparams.importers.torch_fx import imported
    return imported(DEFINED[name], [shape], ints, source=f"{FILE.name}:{name}")


def _measured(module, shape, ints):
    """PyTorch's counts, output shape (batch left out) and MACs (FlopCounterMode / 2, on the CPU with
    the math attention kernel, which it counts)."""
    from torch.nn.attention import SDPBackend, sdpa_kernel
    from torch.utils.flop_counter import FlopCounterMode
    x = torch.zeros((1, *shape), dtype=torch.long if ints else torch.float32)
    counter = FlopCounterMode(display=False)
    with torch.no_grad(), sdpa_kernel(SDPBackend.MATH), counter:
        y = module.eval()(x)
    y = y if isinstance(y, torch.Tensor) else y.logits
    return (sum(p.numel() for p in module.parameters()),
            sum(p.numel() for p in module.parameters() if p.requires_grad),
            sum(b.numel() for b in module.buffers()), tuple(y.shape[1:]), counter.get_total_flops() // 2)


def _check(ev, model, want, stated):
    params, trainable, buffers, shape, macs = want
    assert (ev.params, ev.trainable, ev.buffers) == (params, trainable, buffers)
    assert tuple(ev.shape(model.output_shape)) == shape
    if stated:
        assert ev.macs == macs
    else:
        with pytest.raises(SymparamsError):
            ev.macs


@pytest.mark.parametrize("name,shape,ints,other,other_shape,stated", CASES, ids=[c[0] for c in CASES])
def test_module_tree_equals_pytorch(name, shape, ints, other, other_shape, stated):
    text = _imported(name, shape, ints)
    assert f"# from the module tree: torch.fx could not trace {name} (" in text
    model = symparams.parse(text)
    _check(model.evaluate(), model, _measured(DEFINED[name](), shape, ints), stated)
    # the formulas, at a second setting of the constructor's ints
    at = {k: v for k, v in other.items() if k in model.defaults}
    assert set(model.defaults) <= set(other) | {"sequence_length"}
    _check(model.evaluate(at), model, _measured(DEFINED[name](**other), other_shape, ints), stated)


def test_the_header_says_why_fx_stopped():
    text = _imported("Guarded", (16,), False)
    assert "could not trace Guarded (TraceError: symbolically traced variables cannot be used as inputs to " \
           "control flow, in Guarded.forward (untraceable.py:" in text
    assert "running forward() on the CPU (its forward needs values)" in text
    assert "dense(hidden, name=fc1)" in text           # a module the catalog has stays its layer


def test_identical_layers_are_a_repeat_of_the_constructors_count():
    assert "repeat(num_hidden_layers, decoder_layer(" in _imported("TinyCausalLM", (12,), True)
    assert "repeat(depth, block(d, hidden, name=blocks))" in _imported("KwargsMLP", (5, 24), False)


def test_a_module_called_several_times_states_no_macs():
    text = _imported("Pyramid", (3, 32, 32), False)
    assert "macs = not_known" in text and "params = 9*channels**2 + channels" in text


def test_the_command_takes_the_fallback(capsys):
    from symparams.cli import main
    assert main(["import", f"{FILE}:KwargsMLP", "--input", "5,24"]) == 0
    out = capsys.readouterr().out
    assert "torch.fx could not trace KwargsMLP" in out
    assert symparams.parse(out).evaluate().params == sum(p.numel() for p in DEFINED["KwargsMLP"]().parameters())


def test_the_documented_example_is_todays_import(tmp_path):
    """docs/import.md shows the formulas of examples/torch/residual_mlp.sp: it must be today's import."""
    from symparams.cli import main
    root = FORMS.parent.parent
    written = tmp_path / "residual_mlp.sp"
    assert main(["import", str(root / "examples/torch/residual_mlp.py") + ":ResidualMLP", "--input", "16,64",
                 "-o", str(written)]) == 0
    expected = (root / "examples/torch/residual_mlp.sp").read_text()
    assert written.read_text().split("\n", 2)[2] == expected.split("\n", 2)[2], \
        "regenerate it: symparams import examples/torch/residual_mlp.py:ResidualMLP --input 16,64 " \
        "-o examples/torch/residual_mlp.sp"
    module = runpy.run_path(str(root / "examples/torch/residual_mlp.py"))["ResidualMLP"]
    model = symparams.parse(expected)
    for at in ({}, dict(d=32, hidden=96, depth=2, classes=3)):
        ev = model.evaluate(at)
        _check(ev, model, _measured(module(**at), (16, at.get("d", 64)), False), True)


def test_a_hugging_face_model_built_by_a_function():
    """transformers' LlamaForCausalLM, built by the user's function from its sizes: fx stops at
    "co_varnames is too small"; the module tree is exact, its formulas in the function's names."""
    pytest.importorskip("transformers")
    from symparams.importers.torch_fx import imported
    make = runpy.run_path(str(FORMS / "hf_llama.py"))["tiny_llama"]
    text = imported(make, [(10,)], True, source="hf_llama.py:tiny_llama")
    assert "torch.fx could not trace LlamaForCausalLM (ValueError: code: co_varnames is too small)" in text
    assert "repeat(num_hidden_layers, llama_decoder_layer(" in text
    model = symparams.parse(text)
    for at in ({}, dict(vocab_size=400, hidden_size=96, num_hidden_layers=3, num_attention_heads=6,
                        num_key_value_heads=3, intermediate_size=160)):
        module = make(**at)
        params, trainable, buffers, shape, macs = _measured(module, (10,), True)
        ev = model.evaluate(at)
        assert (ev.params, ev.trainable, ev.buffers, ev.macs) == (params, trainable, buffers, macs)
        assert tuple(ev.shape(model.output_shape)) == shape


class _Refusing(torch.nn.Module):
    """A forward that branches on a value and then fails wherever it runs."""

    def __init__(self, d=4):
        super().__init__()
        self.fc = torch.nn.Linear(d, d)

    def forward(self, x):
        if self.fc(x).sum() >= 0:       # a branch on a value: fx cannot trace it
            raise ValueError("refused")
        raise ValueError("refused")     # and whatever the weights' signs, it runs nowhere


def test_a_module_neither_route_reads_is_refused_with_both_reasons():
    from symparams.importers.torch_fx import imported
    with pytest.raises(SymparamsError) as e:
        imported(_Refusing, [(4,)])
    message = str(e.value)
    assert "torch.fx cannot trace _Refusing" in message and "nor could its module tree be read" in message
    assert "ValueError: refused" in message
