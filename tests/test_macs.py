"""MACs per example against PyTorch's own counter.

torch.utils.flop_counter.FlopCounterMode runs the real module (here on the meta device: shapes
only, no memory) and counts 2 FLOPs per multiply-accumulate of matrix products and convolutions;
symparams' MACs must be its count / 2 / batch. Differences, documented in docs/tutorial-paper.md:
FlopCounterMode counts an LSTM only where it decomposes into matrix products (the meta device; on
CPU the fused kernel counts 0), and nn.MultiheadAttention's need_weights=False fast path on CPU
reports the projections only.
"""
import json

import pytest
import sympy as sp
import torch
from torch import nn
from torch.utils.flop_counter import FlopCounterMode

import symparams
from symparams.cli import main

BATCH = 3


def torch_macs(module, shape, n_inputs=1, dtype=torch.float32) -> int:
    """FlopCounterMode's FLOPs / 2 / batch for one forward pass on the meta device."""
    module = module.to("meta")
    xs = [torch.zeros((BATCH,) + tuple(shape), device="meta", dtype=dtype) for _ in range(n_inputs)]
    with FlopCounterMode(display=False) as counter:
        module(*xs)
    flops = counter.get_total_flops()
    assert flops % (2 * BATCH) == 0
    return flops // (2 * BATCH)


def macs(source) -> int:
    return symparams.parse(source).evaluate().macs


def torch_model(body: str, header: str = "") -> str:
    return f"convention torch\nmodel m({header}):\n" + "".join(f"    {line}\n" for line in body.splitlines())


@pytest.mark.parametrize("n, units", [(1, 1), (7, 5), (64, 33)])
def test_dense(n, units):
    assert macs(torch_model(f"input ({n})\nlinear({units})")) == torch_macs(nn.Linear(n, units), (n,))
    assert macs(torch_model(f"input (9, {n})\nlinear({units}, bias=false)")) == \
        torch_macs(nn.Linear(n, units, bias=False), (9, n))


@pytest.mark.parametrize("C, H, f, k, s, p, g", [(3, 16, 8, 3, 1, 0, 1), (4, 15, 6, 5, 2, 2, 2),
                                                 (6, 9, 6, 3, 3, 1, 6), (1, 28, 24, (3, 1), 1, 0, 1)])
def test_conv2d(C, H, f, k, s, p, g):
    kernel = f"({k[0]}, {k[1]})" if isinstance(k, tuple) else k
    src = torch_model(f"input ({C}, {H}, {H + 1})\nconv2d({f}, {kernel}, strides={s}, padding={p}, groups={g})")
    assert macs(src) == torch_macs(nn.Conv2d(C, f, k, stride=s, padding=p, groups=g), (C, H, H + 1))


@pytest.mark.parametrize("C, L, f, k, s, d", [(2, 30, 4, 3, 1, 1), (5, 41, 7, 4, 3, 2), (300, 35, 32, 5, 1, 1)])
def test_conv1d(C, L, f, k, s, d):
    src = torch_model(f"input ({C}, {L})\nconv1d({f}, {k}, strides={s}, dilation={d})")
    assert macs(src) == torch_macs(nn.Conv1d(C, f, k, stride=s, dilation=d), (C, L))


@pytest.mark.parametrize("C, H, f, k, s", [(3, 8, 5, 3, 2), (4, 7, 4, 2, 1)])
def test_conv_transpose2d(C, H, f, k, s):
    src = torch_model(f"input ({C}, {H}, {H})\nconv2d_transpose({f}, {k}, strides={s})")
    assert macs(src) == torch_macs(nn.ConvTranspose2d(C, f, k, stride=s), (C, H, H))


@pytest.mark.parametrize("S", [8, 16, 33])
def test_small_cnn(S):
    src = torch_model("input (1, S, S)\nconv2d(16, 3, padding=1)\nrelu\nbatchnorm\nmaxpool2d(2)\n"
                      "conv2d(32, 3)\nrelu\nflatten\nlinear(100)\nlinear(classes)", f"S = {S}, classes = 10")
    half = S // 2
    net = nn.Sequential(nn.Conv2d(1, 16, 3, padding=1), nn.ReLU(), nn.BatchNorm2d(16), nn.MaxPool2d(2),
                        nn.Conv2d(16, 32, 3), nn.ReLU(), nn.Flatten(), nn.Linear(32 * (half - 2) ** 2, 100),
                        nn.Linear(100, 10))
    assert macs(src) == torch_macs(net, (1, S, S))


class _First(nn.Module):
    """Keep an RNN's output sequence (it returns (output, state))."""

    def __init__(self, inner):
        super().__init__()
        self.inner = inner

    def forward(self, *xs):
        return self.inner(*xs)[0]


@pytest.mark.parametrize("kind, T, F, U, layers, bi", [("lstm", 5, 6, 16, 1, False), ("lstm", 9, 3, 8, 2, True),
                                                      ("gru", 7, 4, 12, 1, False), ("simple_rnn", 4, 5, 6, 2, False)])
def test_recurrent(kind, T, F, U, layers, bi):
    cls = {"lstm": nn.LSTM, "gru": nn.GRU, "simple_rnn": nn.RNN}[kind]
    src = torch_model(f"input ({T}, {F})\n{kind}({U}, num_layers={layers}, bidirectional={str(bi).lower()})")
    net = _First(cls(F, U, num_layers=layers, bidirectional=bi, batch_first=True))
    assert macs(src) == torch_macs(net, (T, F))


class _SelfAttention(nn.Module):
    def __init__(self, inner):
        super().__init__()
        self.inner = inner

    def forward(self, x):
        return self.inner(x, x, x)[0]


@pytest.mark.parametrize("T, E, h", [(5, 8, 2), (16, 64, 4), (3, 12, 12)])
def test_multihead_attention(T, E, h):
    src = torch_model(f"x = input ({T}, {E})\ny = multihead_attention({h}, embed_dim={E})(x, x)")
    assert macs(src) == torch_macs(_SelfAttention(nn.MultiheadAttention(E, h, batch_first=True)), (T, E))


@pytest.mark.parametrize("T, d, h, ff", [(6, 16, 4, 32), (10, 24, 3, 40)])
def test_transformer_encoder_layer(T, d, h, ff):
    src = torch_model(f"input ({T}, {d})\ntransformer_encoder_layer({d}, {h}, {ff})")
    net = nn.TransformerEncoderLayer(d, h, ff, batch_first=True)
    assert macs(src) == torch_macs(net, (T, d))


def test_keras_convention_counts_the_same_products():
    # Channels last, same network: MACs do not depend on the layout.
    keras = "model m():\n    input (12, 12, 3)\n    conv2d(8, 3)\n    flatten\n    dense(10)\n"
    net = nn.Sequential(nn.Conv2d(3, 8, 3), nn.Flatten(), nn.Linear(8 * 10 * 10, 10))
    assert macs(keras) == torch_macs(net, (3, 12, 12))


def test_flops_and_per_batch_figures(tmp_path, capsys):
    f = tmp_path / "m.sp"
    f.write_text(torch_model("input (C, L)\nconv1d(8, 3)\nflatten\nlinear(4)", "C = 5, L = 20"))
    net = nn.Sequential(nn.Conv1d(5, 8, 3), nn.Flatten(), nn.Linear(8 * 18, 4)).to("meta")
    with FlopCounterMode(display=False) as counter:
        net(torch.zeros(7, 5, 20, device="meta"))
    assert main(["formula", str(f), "--of", "flops", "--per-batch", "--set", "B=7", "--format", "json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["value"] == counter.get_total_flops()
    assert out["values"] == {"B": 7, "C": 5, "L": 20}
    # By hand: conv1d 8 filters x 3 taps x C channels at L - 2 positions, then 8*(L - 2) -> 4; twice, B times.
    B, C, L = sp.symbols("B C L")
    assert sp.expand(sp.sympify(out["expr"]) - 2 * B * (24 * C * (L - 2) + 32 * (L - 2))) == 0
