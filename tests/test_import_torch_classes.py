"""`symparams import` of every torch.nn class the catalog has, each as a user would wrap it: one small
nn.Module holding that one module, its constructor's int parameters the wrapper's sizes, applied to a
suitable input. Each program is compared with PyTorch — params, trainable, buffers, the output shape
(run on the meta device) and MACs (FlopCounterMode's FLOPs / 2). The classes walked are those of
tests/test_coverage.py (torch.nn's modules, losses and catalog/uncounted.py's left out); the few
refused are a documented set (REFUSED), each with its message, never a traceback."""
from __future__ import annotations

import inspect

import pytest

from symparams.catalog.uncounted import UNCOUNTED
from symparams.errors import SymparamsError
from symparams.importers.torch_fx import imported, program

torch = pytest.importorskip("torch")
nn = torch.nn


class Wrap(nn.Module):
    """The one module, called as a user calls it (`call`: its output of (output, state), a pool's indices)."""

    def __init__(self, layer, call=None, before=None):
        super().__init__()
        self.layer = layer
        if before is not None:
            self.before = before
        self.call = call

    def forward(self, x):
        return self.call(self, x) if self.call else self.layer(x)


class Wrap2(Wrap):
    def forward(self, a, b):
        return self.call(self, a, b) if self.call else self.layer(a, b)


def _first(self, *xs):
    return self.layer(*xs)[0]


def _attend(self, x):
    return self.layer(x, x, x, need_weights=False)[0]


def _unpool(self, x):
    y, indices = self.before(x)
    return self.layer(y, indices)


def _bag(self, x):
    return self.layer(x)


# class -> (the wrapper's maker, its int parameters the sizes; the inputs' shapes after the batch; token ids?)
F, I = False, True
CASES = {
    "AdaptiveAvgPool1d": (lambda o=4: Wrap(nn.AdaptiveAvgPool1d(o)), [(3, 10)], F),
    "AdaptiveAvgPool2d": (lambda o=4: Wrap(nn.AdaptiveAvgPool2d(o)), [(3, 10, 10)], F),
    "AdaptiveAvgPool3d": (lambda o=3: Wrap(nn.AdaptiveAvgPool3d(o)), [(2, 6, 6, 6)], F),
    "AdaptiveMaxPool1d": (lambda o=4: Wrap(nn.AdaptiveMaxPool1d(o)), [(3, 10)], F),
    "AdaptiveMaxPool2d": (lambda o=4: Wrap(nn.AdaptiveMaxPool2d((o, 5))), [(3, 10, 10)], F),
    "AdaptiveMaxPool3d": (lambda o=3: Wrap(nn.AdaptiveMaxPool3d(o)), [(2, 6, 6, 6)], F),
    "AlphaDropout": (lambda: Wrap(nn.AlphaDropout(0.2)), [(5, 6)], F),
    "AvgPool1d": (lambda k=3, s=2: Wrap(nn.AvgPool1d(k, s, padding=1)), [(3, 10)], F),
    "AvgPool2d": (lambda k=2: Wrap(nn.AvgPool2d(k, ceil_mode=True)), [(3, 9, 9)], F),
    "AvgPool3d": (lambda k=2: Wrap(nn.AvgPool3d(k)), [(2, 4, 4, 4)], F),
    "BatchNorm1d": (lambda c=4: Wrap(nn.BatchNorm1d(c)), [(4, 10)], F),
    "BatchNorm2d": (lambda c=4: Wrap(nn.BatchNorm2d(c, affine=False)), [(4, 5, 5)], F),
    "BatchNorm3d": (lambda c=4: Wrap(nn.BatchNorm3d(c, track_running_stats=False)), [(4, 3, 3, 3)], F),
    "Bilinear": (lambda a=3, b=4, o=5: Wrap2(nn.Bilinear(a, b, o)), [(3,), (4,)], F),
    "CELU": (lambda: Wrap(nn.CELU(0.5)), [(5,)], F),
    "ChannelShuffle": (lambda g=2: Wrap(nn.ChannelShuffle(g)), [(4, 3, 3)], F),
    "CircularPad1d": (lambda p=1: Wrap(nn.CircularPad1d(p)), [(3, 6)], F),
    "CircularPad2d": (lambda: Wrap(nn.CircularPad2d((1, 2, 0, 1))), [(3, 5, 5)], F),
    "CircularPad3d": (lambda p=1: Wrap(nn.CircularPad3d(p)), [(2, 3, 3, 3)], F),
    "ConstantPad1d": (lambda p=2: Wrap(nn.ConstantPad1d(p, 0.5)), [(3, 6)], F),
    "ConstantPad2d": (lambda p=1: Wrap(nn.ConstantPad2d(p, 0.0)), [(3, 5, 5)], F),
    "ConstantPad3d": (lambda: Wrap(nn.ConstantPad3d((1, 0, 0, 1, 1, 1), 2.0)), [(2, 3, 3, 3)], F),
    "Conv1d": (lambda c=3, f=8, k=3: Wrap(nn.Conv1d(c, f, k, stride=2, padding=1)), [(3, 12)], F),
    "Conv2d": (lambda c=4, f=8, k=3: Wrap(nn.Conv2d(c, f, k, groups=2, bias=False, dilation=2)), [(4, 10, 10)], F),
    "Conv3d": (lambda c=2, f=4, k=3: Wrap(nn.Conv3d(c, f, k, padding="same")), [(2, 6, 6, 6)], F),
    "ConvTranspose1d": (lambda c=3, f=8, k=3: Wrap(nn.ConvTranspose1d(c, f, k, stride=2)), [(3, 5)], F),
    "ConvTranspose2d": (lambda c=3, f=8, k=4: Wrap(nn.ConvTranspose2d(c, f, k, stride=2, padding=1)), [(3, 5, 5)], F),
    "ConvTranspose3d": (lambda c=2, f=4, k=2: Wrap(nn.ConvTranspose3d(c, f, k, stride=2, output_padding=1)),
                        [(2, 3, 3, 3)], F),
    "CosineSimilarity": (lambda: Wrap2(nn.CosineSimilarity(dim=2)), [(4, 6), (4, 6)], F),
    "CrossMapLRN2d": (lambda n=3: Wrap(nn.CrossMapLRN2d(n)), [(4, 5, 5)], F),
    "Dropout": (lambda: Wrap(nn.Dropout(0.1)), [(5,)], F),
    "Dropout1d": (lambda: Wrap(nn.Dropout1d(0.2)), [(3, 8)], F),
    "Dropout2d": (lambda: Wrap(nn.Dropout2d()), [(3, 4, 4)], F),
    "Dropout3d": (lambda: Wrap(nn.Dropout3d(0.3)), [(2, 3, 3, 3)], F),
    "ELU": (lambda: Wrap(nn.ELU(alpha=2.0)), [(5,)], F),
    "Embedding": (lambda n=20, d=8: Wrap(nn.Embedding(n, d, padding_idx=0)), [(6,)], I),
    "EmbeddingBag": (lambda n=20, d=8: Wrap(nn.EmbeddingBag(n, d, mode="sum")), [(6,)], I),
    "FeatureAlphaDropout": (lambda: Wrap(nn.FeatureAlphaDropout(0.2)), [(3, 4, 4)], F),
    "Flatten": (lambda: Wrap(nn.Flatten()), [(3, 4, 4)], F),
    "Fold": (lambda k=2: Wrap(nn.Fold((4, 5), k)), [(12, 12)], F),
    "FractionalMaxPool2d": (lambda k=2, o=3: Wrap(nn.FractionalMaxPool2d(k, output_size=o)), [(3, 8, 8)], F),
    "FractionalMaxPool3d": (lambda k=2: Wrap(nn.FractionalMaxPool3d(k, output_ratio=0.5)), [(2, 6, 6, 6)], F),
    "GELU": (lambda: Wrap(nn.GELU(approximate="tanh")), [(5,)], F),
    "GLU": (lambda: Wrap(nn.GLU(dim=1)), [(6, 3)], F),
    "GRU": (lambda i=4, h=8: Wrap(nn.GRU(i, h, batch_first=True), _first), [(5, 4)], F),
    "GRUCell": (lambda i=4, h=8: Wrap(nn.GRUCell(i, h)), [(4,)], F),
    "GroupNorm": (lambda g=2, c=4: Wrap(nn.GroupNorm(g, c)), [(4, 5, 5)], F),
    "Hardshrink": (lambda: Wrap(nn.Hardshrink(0.3)), [(5,)], F),
    "Hardsigmoid": (lambda: Wrap(nn.Hardsigmoid()), [(5,)], F),
    "Hardswish": (lambda: Wrap(nn.Hardswish()), [(5,)], F),
    "Hardtanh": (lambda: Wrap(nn.Hardtanh(-2.0, 2.0)), [(5,)], F),
    "Identity": (lambda: Wrap(nn.Identity()), [(5,)], F),
    "InstanceNorm1d": (lambda c=4: Wrap(nn.InstanceNorm1d(c)), [(4, 10)], F),
    "InstanceNorm2d": (lambda c=4: Wrap(nn.InstanceNorm2d(c, affine=True)), [(4, 5, 5)], F),
    "InstanceNorm3d": (lambda c=4: Wrap(nn.InstanceNorm3d(c, track_running_stats=True)), [(4, 3, 3, 3)], F),
    "LPPool1d": (lambda k=2: Wrap(nn.LPPool1d(2, k)), [(3, 8)], F),
    "LPPool2d": (lambda k=2: Wrap(nn.LPPool2d(1.5, k, stride=1)), [(3, 8, 8)], F),
    "LPPool3d": (lambda k=2: Wrap(nn.LPPool3d(2, k)), [(2, 4, 4, 4)], F),
    "LSTM": (lambda i=4, h=8: Wrap(nn.LSTM(i, h, num_layers=2, batch_first=True), _first), [(5, 4)], F),
    "LSTMCell": (lambda i=4, h=8: Wrap(nn.LSTMCell(i, h), _first), [(4,)], F),
    "LayerNorm": (lambda d=6: Wrap(nn.LayerNorm(d)), [(5, 6)], F),
    "LazyBatchNorm1d": (lambda: Wrap(nn.LazyBatchNorm1d()), [(4, 10)], F),
    "LazyBatchNorm2d": (lambda: Wrap(nn.LazyBatchNorm2d()), [(4, 5, 5)], F),
    "LazyBatchNorm3d": (lambda: Wrap(nn.LazyBatchNorm3d()), [(4, 3, 3, 3)], F),
    "LazyConv1d": (lambda f=8, k=3: Wrap(nn.LazyConv1d(f, k)), [(3, 12)], F),
    "LazyConv2d": (lambda f=8, k=3: Wrap(nn.LazyConv2d(f, k, padding=1)), [(3, 10, 10)], F),
    "LazyConv3d": (lambda f=4, k=3: Wrap(nn.LazyConv3d(f, k)), [(2, 6, 6, 6)], F),
    "LazyConvTranspose1d": (lambda f=8, k=3: Wrap(nn.LazyConvTranspose1d(f, k, stride=2)), [(3, 5)], F),
    "LazyConvTranspose2d": (lambda f=8, k=3: Wrap(nn.LazyConvTranspose2d(f, k)), [(3, 5, 5)], F),
    "LazyConvTranspose3d": (lambda f=4, k=2: Wrap(nn.LazyConvTranspose3d(f, k)), [(2, 3, 3, 3)], F),
    "LazyInstanceNorm1d": (lambda: Wrap(nn.LazyInstanceNorm1d()), [(4, 10)], F),
    "LazyInstanceNorm2d": (lambda: Wrap(nn.LazyInstanceNorm2d()), [(4, 5, 5)], F),
    "LazyInstanceNorm3d": (lambda: Wrap(nn.LazyInstanceNorm3d(affine=False)), [(4, 3, 3, 3)], F),
    "LazyLinear": (lambda o=8: Wrap(nn.LazyLinear(o)), [(6,)], F),
    "LeakyReLU": (lambda: Wrap(nn.LeakyReLU(0.2)), [(5,)], F),
    "Linear": (lambda i=6, o=8: Wrap(nn.Linear(i, o)), [(6,)], F),
    "LocalResponseNorm": (lambda n=3: Wrap(nn.LocalResponseNorm(n)), [(4, 5, 5)], F),
    "LogSigmoid": (lambda: Wrap(nn.LogSigmoid()), [(5,)], F),
    "LogSoftmax": (lambda: Wrap(nn.LogSoftmax(dim=1)), [(5,)], F),
    "MaxPool1d": (lambda k=2: Wrap(nn.MaxPool1d(k)), [(3, 8)], F),
    "MaxPool2d": (lambda k=3, s=2: Wrap(nn.MaxPool2d(k, s, padding=1)), [(3, 9, 9)], F),
    "MaxPool3d": (lambda k=2: Wrap(nn.MaxPool3d(k, dilation=1)), [(2, 4, 4, 4)], F),
    "MaxUnpool1d": (lambda k=2: Wrap(nn.MaxUnpool1d(k), _unpool, nn.MaxPool1d(k, return_indices=True)), [(3, 8)], F),
    "MaxUnpool2d": (lambda k=2: Wrap(nn.MaxUnpool2d(k), _unpool, nn.MaxPool2d(k, return_indices=True)),
                    [(3, 8, 8)], F),
    "MaxUnpool3d": (lambda k=2: Wrap(nn.MaxUnpool3d(k), _unpool, nn.MaxPool3d(k, return_indices=True)),
                    [(2, 4, 4, 4)], F),
    "Mish": (lambda: Wrap(nn.Mish()), [(5,)], F),
    "MultiheadAttention": (lambda e=8, h=2: Wrap(nn.MultiheadAttention(e, h, batch_first=True), _attend), [(5, 8)], F),
    "PReLU": (lambda c=3: Wrap(nn.PReLU(c)), [(3, 4, 4)], F),
    "PairwiseDistance": (lambda: Wrap2(nn.PairwiseDistance(keepdim=True)), [(4, 6), (4, 6)], F),
    "PixelShuffle": (lambda r=2: Wrap(nn.PixelShuffle(r)), [(8, 3, 3)], F),
    "PixelUnshuffle": (lambda r=2: Wrap(nn.PixelUnshuffle(r)), [(2, 4, 4)], F),
    "RMSNorm": (lambda d=6: Wrap(nn.RMSNorm(d)), [(5, 6)], F),
    "RNN": (lambda i=4, h=8: Wrap(nn.RNN(i, h, nonlinearity="relu", batch_first=True), _first), [(5, 4)], F),
    "RNNCell": (lambda i=4, h=8: Wrap(nn.RNNCell(i, h, bias=False)), [(4,)], F),
    "RReLU": (lambda: Wrap(nn.RReLU()), [(5,)], F),
    "ReLU": (lambda: Wrap(nn.ReLU()), [(5,)], F),
    "ReLU6": (lambda: Wrap(nn.ReLU6()), [(5,)], F),
    "ReflectionPad1d": (lambda p=1: Wrap(nn.ReflectionPad1d(p)), [(3, 6)], F),
    "ReflectionPad2d": (lambda p=2: Wrap(nn.ReflectionPad2d(p)), [(3, 5, 5)], F),
    "ReflectionPad3d": (lambda p=1: Wrap(nn.ReflectionPad3d(p)), [(2, 3, 3, 3)], F),
    "ReplicationPad1d": (lambda p=1: Wrap(nn.ReplicationPad1d(p)), [(3, 6)], F),
    "ReplicationPad2d": (lambda: Wrap(nn.ReplicationPad2d((1, 0, 2, 3))), [(3, 5, 5)], F),
    "ReplicationPad3d": (lambda p=1: Wrap(nn.ReplicationPad3d(p)), [(2, 3, 3, 3)], F),
    "SELU": (lambda: Wrap(nn.SELU()), [(5,)], F),
    "SiLU": (lambda: Wrap(nn.SiLU()), [(5,)], F),
    "Sigmoid": (lambda: Wrap(nn.Sigmoid()), [(5,)], F),
    "Softmax": (lambda: Wrap(nn.Softmax(dim=-1)), [(5,)], F),
    "Softmax2d": (lambda: Wrap(nn.Softmax2d()), [(3, 4, 4)], F),
    "Softmin": (lambda: Wrap(nn.Softmin(dim=1)), [(5,)], F),
    "Softplus": (lambda: Wrap(nn.Softplus(beta=2.0)), [(5,)], F),
    "Softshrink": (lambda: Wrap(nn.Softshrink()), [(5,)], F),
    "Softsign": (lambda: Wrap(nn.Softsign()), [(5,)], F),
    "SyncBatchNorm": (lambda c=4: Wrap(nn.SyncBatchNorm(c)), [(4, 5, 5)], F),
    "Tanh": (lambda: Wrap(nn.Tanh()), [(5,)], F),
    "Tanhshrink": (lambda: Wrap(nn.Tanhshrink()), [(5,)], F),
    "Threshold": (lambda: Wrap(nn.Threshold(0.1, 20.0)), [(5,)], F),
    "Transformer": (lambda d=16, h=2, n=1, ff=32: Wrap2(nn.Transformer(d, h, n, n, ff, batch_first=True)),
                    [(5, 16), (4, 16)], F),
    "TransformerDecoder": (lambda d=16, h=2, n=2: Wrap2(nn.TransformerDecoder(
        nn.TransformerDecoderLayer(d, h, 2 * d, batch_first=True), n)), [(4, 16), (5, 16)], F),
    "TransformerDecoderLayer": (lambda d=16, h=2: Wrap2(nn.TransformerDecoderLayer(d, h, 2 * d, batch_first=True)),
                                [(4, 16), (5, 16)], F),
    "TransformerEncoder": (lambda d=16, h=2, n=2: Wrap(nn.TransformerEncoder(
        nn.TransformerEncoderLayer(d, h, 2 * d, batch_first=True), n, enable_nested_tensor=False)), [(5, 16)], F),
    "TransformerEncoderLayer": (lambda d=16, h=2: Wrap(nn.TransformerEncoderLayer(d, h, 2 * d, batch_first=True)),
                                [(5, 16)], F),
    "Unflatten": (lambda: Wrap(nn.Unflatten(1, (2, 3))), [(6,)], F),
    "Unfold": (lambda k=2: Wrap(nn.Unfold(k, padding=1)), [(3, 5, 5)], F),
    "Upsample": (lambda: Wrap(nn.Upsample(scale_factor=2)), [(3, 4, 4)], F),
    "UpsamplingBilinear2d": (lambda: Wrap(nn.UpsamplingBilinear2d(scale_factor=2)), [(3, 4, 4)], F),
    "UpsamplingNearest2d": (lambda s=8: Wrap(nn.UpsamplingNearest2d(size=s)), [(3, 4, 4)], F),
    "ZeroPad1d": (lambda p=1: Wrap(nn.ZeroPad1d(p)), [(3, 6)], F),
    "ZeroPad2d": (lambda: Wrap(nn.ZeroPad2d((1, 2, 3, 0))), [(3, 5, 5)], F),
    "ZeroPad3d": (lambda p=1: Wrap(nn.ZeroPad3d(p)), [(2, 3, 3, 3)], F),
}

# FlopCounterMode counts no MACs for these (torch.bilinear is no matrix product to it); symparams counts
# in1*in2*out per position, as tests/test_layers_torch_added.py says: their MACs are left out here.
NO_FLOP_COUNT = {"Bilinear"}

# Every class of CASES imports exactly; the classes refused, each with the start of its message (none).
REFUSED: dict[str, str] = {}

# What is refused is a configuration symparams cannot count as PyTorch runs it, each with its message and a
# hint, never a traceback: (module, inputs, the message's words).
REFUSED_CONFIGURATIONS = {
    "sequence_first_rnn": (lambda: Wrap(nn.LSTM(4, 8), _first), [(5, 4)], "LSTM with batch_first=False"),
    "sequence_first_encoder_layer": (lambda: Wrap(nn.TransformerEncoderLayer(8, 2, 16)), [(5, 8)],
                                     "TransformerEncoderLayer with batch_first=False"),
    "attention_of_other_key_width": (lambda: Wrap2(nn.MultiheadAttention(8, 2, kdim=4, vdim=4, batch_first=True),
                                                   lambda self, q, k: self.layer(q, k, k)[0]), [(5, 8), (6, 4)],
                                     "MultiheadAttention with kdim or vdim other than embed_dim"),
    "custom_encoder": (lambda: Wrap2(nn.Transformer(8, 2, 1, 1, 16, batch_first=True,
                                                    custom_encoder=nn.TransformerEncoder(
                                                        nn.TransformerEncoderLayer(8, 2, 16, batch_first=True), 1),
                                                    custom_decoder=Decoder())), [(5, 8), (4, 8)],
                       "Transformer with custom_decoder="),
}


class Decoder(nn.Module):
    """A custom decoder: a Linear of the target, whatever the memory."""

    def __init__(self):
        super().__init__()
        self.linear = nn.Linear(8, 8)

    def forward(self, tgt, memory, **masks):
        return self.linear(tgt)


def torch_classes() -> list:
    """torch.nn's module classes as tests/test_coverage.py walks them, less the uncounted ones."""
    return sorted(n for n, c in vars(nn).items() if inspect.isclass(c) and issubclass(c, nn.Module)
                  and not issubclass(c, nn.modules.loss._Loss) and n not in UNCOUNTED)


def _torch_counts(make, shapes, ints) -> dict:
    from test_import_torch_forms import _torch_counts as counted    # tests/ is on sys.path under pytest
    with torch.device("meta"):
        module = make()
    return counted(module, shapes, ints)


def _counts(text) -> dict:
    import symparams
    model = symparams.parse(text, "imported.sp")
    ev = model.evaluate()
    return {"params": ev.params, "trainable": ev.trainable, "buffers": ev.buffers,
            "output_shape": ev.shape(model.output_shape), "macs": ev.macs}


def test_every_class_has_a_case():
    assert sorted(CASES) == torch_classes()


@pytest.mark.parametrize("name", [n for n in sorted(CASES) if n not in REFUSED])
def test_a_class_imports_as_its_catalog_layer(name):
    make, shapes, ints = CASES[name]
    text = imported(make, shapes, ints)
    ours, theirs = _counts(text), _torch_counts(make, shapes, ints)
    if name in NO_FLOP_COUNT:
        ours.pop("macs"), theirs.pop("macs")
    assert ours == theirs, text


def test_the_classes_import_as_the_catalog_names_them():
    """The layer line is the catalog's entry for the class, its sizes the wrapper's symbols."""
    lines = {name: imported(*CASES[name][:2], CASES[name][2]).strip().splitlines()[-1] for name in
             ("ConvTranspose2d", "GroupNorm", "LazyLinear", "Upsample", "ZeroPad2d", "PReLU", "Dropout2d")}
    assert lines == {
        "ConvTranspose2d": "    layer = conv2d_transpose(f, k, strides=2, padding=1)(x)",
        "GroupNorm": "    layer = groupnorm(groups=g)(x)", "LazyLinear": "    layer = dense(o)(x)",
        "Upsample": "    layer = upsample(scale_factor=2.0)(x)",
        "ZeroPad2d": "    layer = zero_pad2d((1, 2, 3, 0))(x)", "PReLU": "    layer = prelu(num_parameters=c)(x)",
        "Dropout2d": "    layer = spatial_dropout2d()(x)"}


def test_a_subclass_keeping_the_forward_is_its_torch_class():
    class Conv(nn.Conv2d):
        def __init__(self, c, f):
            super().__init__(c, f, 3, padding=1, bias=False)
    assert "conv2d(4, 3, padding=1, use_bias=false)" in program(Wrap(Conv(3, 4)), [(3, 6, 6)])


def test_the_refused_classes_are_the_documented_ones():
    refused = {}
    for name in sorted(CASES):
        try:
            imported(*CASES[name][:2], CASES[name][2])
        except SymparamsError as e:
            refused[name] = str(e)
    assert sorted(refused) == sorted(REFUSED)


@pytest.mark.parametrize("name", sorted(REFUSED_CONFIGURATIONS))
def test_a_refused_configuration_says_why(name):
    make, shapes, words = REFUSED_CONFIGURATIONS[name]
    with pytest.raises(SymparamsError) as e:
        program(make(), shapes)
    assert words in str(e.value) and e.value.hint


@pytest.mark.parametrize("name", [n for n in sorted(CASES) if n not in REFUSED])
def test_a_class_counts_as_torch_at_other_sizes(name):
    """The program's symbols are the wrapper's sizes: at twice each, it counts as the module built there
    (on inputs of the sizes the program gives them), where PyTorch builds and runs it at all."""
    import symparams
    make, shapes, ints = CASES[name]
    model = symparams.parse(imported(make, shapes, ints), "imported.sp")
    values = {k: 2 * p.default for k, p in inspect.signature(make).parameters.items() if k in model.symbols}
    if not values:
        return
    import sympy as sp
    at = {sp.Symbol(k): v for k, v in values.items()}
    inputs = [[int(sp.sympify(d).xreplace({s: at.get(sp.Symbol(s.name), s) for s in sp.sympify(d).free_symbols}))
               for d in t.shape] for t in model.inputs]
    try:
        theirs = _torch_counts(lambda: make(**values), inputs, ints)
    except Exception:            # PyTorch refuses these sizes: so does the program
        with pytest.raises(SymparamsError):
            model.evaluate(values)
        return
    ev = model.evaluate(values)
    ours = {"params": ev.params, "trainable": ev.trainable, "buffers": ev.buffers,
            "output_shape": ev.shape(model.output_shape), "macs": ev.macs}
    if name in NO_FLOP_COUNT:
        ours.pop("macs"), theirs.pop("macs")
    assert ours == theirs
