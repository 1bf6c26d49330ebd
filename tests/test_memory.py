"""Memory: torchsummary's estimate and Keras's weight sizes, against the real tools' printouts."""
import contextlib
import io
from pathlib import Path

import pytest
import sympy as sp
import torch
from torch import nn

import symparams
from symparams import memory, printing
from symparams.cli import main
from symparams.formulas import quantity

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


def torchsummary_lines(net, input_size, batch_size=-1) -> list[str]:
    """The four MB lines torchsummary itself prints (it runs the model on CPU, batch of 2)."""
    torchsummary = pytest.importorskip("torchsummary")
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        torchsummary.summary(net, input_size, batch_size=batch_size, device="cpu")
    return [line for line in out.getvalue().splitlines() if "(MB)" in line]


def our_lines(model, batch=1, values=None) -> list[str]:
    return memory.estimate_text(model, model.evaluate(values or {}), "float32", batch).splitlines()


def test_bn_cnn_torch_reproduces_the_seed(capsys):
    # The seed's printout: Input 0.02, Forward/backward 4.00, Params 50.01, Total 54.02 (MB).
    assert main(["summary", str(EXAMPLES / "bn_cnn_torch.sp"), "--memory"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[-4:] == ["Input size (MB): 0.02", "Forward/backward pass size (MB): 4.00",
                        "Params size (MB): 50.01", "Estimated Total Size (MB): 54.02"]


def test_bn_cnn_torch_against_torchsummary_itself():
    net = nn.Sequential(nn.Conv2d(1, 32, 3, padding=1), nn.ReLU(), nn.BatchNorm2d(32), nn.Flatten(),
                        nn.Linear(32 * 64 * 64, 100), nn.Linear(100, 10))
    model = symparams.load(EXAMPLES / "bn_cnn_torch.sp")
    assert our_lines(model) == torchsummary_lines(net, (1, 64, 64))


@pytest.mark.parametrize("S, batch", [(16, -1), (16, 8), (40, 3)])
def test_closed_form_in_the_batch_size(S, batch):
    src = ("convention torch\nmodel m(S = 16):\n    input (3, S, S)\n    conv2d(8, 3, strides=2)\n    relu\n"
           "    maxpool2d(2)\n    flatten\n    linear(20)\n    dropout\n    linear(5)\n")
    side = ((S - 3) // 2 + 1) // 2
    net = nn.Sequential(nn.Conv2d(3, 8, 3, stride=2), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
                        nn.Linear(8 * side * side, 20), nn.Dropout(), nn.Linear(20, 5))
    model = symparams.parse(src)
    assert our_lines(model, abs(batch), {"S": S}) == torchsummary_lines(net, (3, S, S), batch)
    est = memory.estimate(model)
    assert est.batch.name == "B" and est.batch in est.forward_backward.free_symbols
    assert est.batch not in est.params.free_symbols


def test_keras_weight_sizes_as_keras_prints_them():
    import keras
    net = keras.Sequential([keras.Input((1, 28, 28)), keras.layers.Flatten(), keras.layers.Dense(10),
                            keras.layers.Activation("softmax")])
    lines = []
    net.summary(print_fn=lambda text, **kw: lines.extend(text.splitlines()))
    keras_total = next(line for line in lines if "Total params" in line).strip()
    assert keras_total == "Total params: 7,850 (30.66 KB)"
    ours = io.StringIO()
    with contextlib.redirect_stdout(ours):
        main(["summary", str(EXAMPLES / "mnist_dense.sp")])
    assert "Total params: 7,850 (30.66 KB)" in ours.getvalue()
    assert "Non-trainable params: 0 (0.00 B)" in ours.getvalue()


@pytest.mark.parametrize("dtype", ["float32", "bfloat16", "float16", "float64"])
def test_parameter_bytes_by_dtype(dtype):
    model = symparams.load(EXAMPLES / "har_lstm.sp", convention="torch")
    with torch.device("meta"):
        net = nn.ModuleList([nn.LSTM(6, 64), nn.LSTM(64, 64), nn.Linear(64, 64), nn.Linear(64, 64),
                             nn.Linear(64, 6)]).to(getattr(torch, dtype))
    torch_bytes = sum(p.numel() * p.element_size() for p in net.parameters())
    expr = quantity(model, "param_bytes", dtype=dtype)
    assert model.evaluate().number(expr) == torch_bytes


def test_int8_and_unknown_dtype():
    model = symparams.load(EXAMPLES / "mnist_dense.sp")
    assert model.evaluate().number(quantity(model, "param_bytes", dtype="int8")) == 7850
    with pytest.raises(symparams.errors.ArgumentError, match="unknown dtype"):
        quantity(model, "param_bytes", dtype="float8")


def test_readable_size_follows_keras():
    from keras.src.utils.summary_utils import readable_memory_size
    for n in (0, 1023, 1024, 31400, 52434776, 5 * 1024 ** 3, 3 * 1024 ** 5 + 7):
        assert printing.readable_size(n) == readable_memory_size(n)


def test_batch_symbol_yields_to_a_model_symbol_named_B():
    model = symparams.parse("model m(B = 4):\n    input (B)\n    dense(3)\n")
    est = memory.estimate(model)
    assert est.batch.name == "batch"
    assert sp.expand(est.input - 4 * est.batch * model.symbols["B"]) == 0


def torchinfo_lines(net, input_size) -> list[str]:
    """The four MB lines torchinfo itself prints."""
    torchinfo = pytest.importorskip("torchinfo")
    stats = torchinfo.summary(net, input_size=input_size, device="cpu", verbose=0)
    return [line for line in str(stats).splitlines() if "(MB)" in line]


@pytest.mark.parametrize("S, batch", [(16, 1), (16, 8), (40, 3)])
def test_torchinfo_rule_against_torchinfo_itself(S, batch):
    src = ("convention torch\nmodel m(S = 16):\n    input (3, S, S)\n    conv2d(8, 3, strides=2)\n    relu\n"
           "    batchnorm\n    maxpool2d(2)\n    flatten\n    linear(20)\n    dropout\n    linear(5)\n")
    side = ((S - 3) // 2 + 1) // 2
    net = nn.Sequential(nn.Conv2d(3, 8, 3, stride=2), nn.ReLU(), nn.BatchNorm2d(8), nn.MaxPool2d(2), nn.Flatten(),
                        nn.Linear(8 * side * side, 20), nn.Dropout(), nn.Linear(20, 5))
    model = symparams.parse(src)
    ours = memory.estimate_text(model, model.evaluate({"S": S}), "float32", batch, "torchinfo").splitlines()
    assert ours == torchinfo_lines(net, (batch, 3, S, S))


def test_bn_cnn_torch_by_both_rules(capsys):
    """The figures issue 14 compared: torchinfo's 52.43 MB of parameters and 2.10 MB forward/backward."""
    assert main(["summary", str(EXAMPLES / "bn_cnn_torch.sp"), "--memory", "--memory-rule", "torchinfo"]) == 0
    assert capsys.readouterr().out.splitlines()[-4:] == [
        "Input size (MB): 0.02", "Forward/backward pass size (MB): 2.10", "Params size (MB): 52.43",
        "Estimated Total Size (MB): 54.55"]
