"""torch.nn's remaining countable modules against real PyTorch: counts, output shapes, and MACs where
FlopCounterMode counts the op (it counts matrix products, not pooling, shuffles or elementwise work)."""
import pytest
from torch import nn

import symparams
from multi_input import ours, torch_counts, without
from single_layer import against_torch, call

NO_FLOP_COUNT = ("macs",)     # FlopCounterMode sees no matrix product in these


# ---------------------------------------------------------------- two inputs

@pytest.mark.parametrize("shapes, args, kwargs", [
    ([(3,), (4,)], (3, 4, 5), {}), ([(6, 3), (6, 4)], (3, 4, 2), {"bias": False}),
    ([(2, 5, 3), (2, 5, 7)], (3, 7, 1), {}), ([(4,), (4,)], (), {"in1_features": 4, "in2_features": 4,
                                                                "out_features": 6}),
])
def test_bilinear_matches_torch(shapes, args, kwargs):
    # FlopCounterMode does not count torch.bilinear; symparams counts in1*in2*out per position.
    assert without(ours(call("Bilinear", *args, **kwargs), shapes), "macs") == \
        without(torch_counts(nn.Bilinear(*[s[-1] for s in shapes], *(args[2:] or (6,)),
                                         bias=kwargs.get("bias", True)), shapes), "macs")


@pytest.mark.parametrize("shape, dim", [((3, 4), 1), ((3, 4), 2), ((2, 3, 5), -1), ((6,), 1)])
def test_cosine_similarity_matches_torch(shape, dim):
    assert ours(call("CosineSimilarity", dim=dim), [shape, shape]) == \
        torch_counts(nn.CosineSimilarity(dim=dim), [shape, shape])


@pytest.mark.parametrize("shape, kwargs", [((3, 4), {}), ((3, 4), {"keepdim": True}), ((2, 3, 5), {"p": 1.0}),
                                           ((7,), {"keepdim": True})])
def test_pairwise_distance_matches_torch(shape, kwargs):
    assert ours(call("PairwiseDistance", **kwargs), [shape, shape]) == \
        torch_counts(nn.PairwiseDistance(**kwargs), [shape, shape])


# ---------------------------------------------------------------- shuffles, fold and unfold

@pytest.mark.parametrize("cls, shape, factor", [
    ("PixelShuffle", (8, 3, 4), 2), ("PixelShuffle", (18, 2, 5), 3), ("PixelShuffle", (3, 4, 4), 1),
    ("PixelUnshuffle", (2, 6, 4), 2), ("PixelUnshuffle", (1, 9, 6), 3), ("PixelUnshuffle", (3, 5, 5), 5),
    ("ChannelShuffle", (8, 3, 4), 2), ("ChannelShuffle", (6, 2, 2), 3), ("ChannelShuffle", (4, 5), 4),
])
def test_shuffles_match_torch(cls, shape, factor):
    ours_, theirs = against_torch(cls, shape, factor)
    assert ours_ == theirs


def test_shuffles_need_divisible_sizes():
    with pytest.raises(symparams.errors.ShapeError, match="not a multiple of 4"):
        symparams.parse("convention torch\nmodel m():\n    input (6, 4, 4)\n    PixelShuffle(2)\n")
    with pytest.raises(symparams.errors.ShapeError, match="not a multiple of 4"):
        symparams.parse("convention torch\nmodel m():\n    input (6, 4, 4)\n    ChannelShuffle(4)\n")


@pytest.mark.parametrize("shape, kwargs", [
    ((2, 7, 8), {"kernel_size": 3, "padding": 1, "stride": 2}), ((3, 5, 5), {"kernel_size": (2, 3)}),
    ((1, 9, 10), {"kernel_size": 3, "dilation": 2, "stride": (1, 2)}),
])
def test_unfold_matches_torch(shape, kwargs):
    ours_, theirs = against_torch("Unfold", shape, **kwargs)
    assert ours_ == theirs


@pytest.mark.parametrize("shape, kwargs", [
    ((18, 16), {"output_size": (7, 8), "kernel_size": 3, "padding": 1, "stride": 2}),
    ((18, 12), {"output_size": (5, 5), "kernel_size": (2, 3)}),
    ((9, 15), {"output_size": (9, 10), "kernel_size": 3, "dilation": 2, "stride": (1, 2)}),
])
def test_fold_matches_torch(shape, kwargs):
    ours_, theirs = against_torch("Fold", shape, **kwargs)
    assert ours_ == theirs


def test_fold_needs_the_number_of_blocks_its_output_holds():
    with pytest.raises(symparams.errors.ShapeError, match="puts back 12 blocks"):
        symparams.parse("model m():\n    input (18, 16)\n    Fold((5, 6), 3)\n")


# ---------------------------------------------------------------- pools

@pytest.mark.parametrize("cls, shape, args, kwargs", [
    ("LPPool1d", (2, 10), (2, 3), {}), ("LPPool1d", (3, 11), (1.5, 2), {"stride": 3, "ceil_mode": True}),
    ("LPPool1d", (1, 8), (2, 4), {"stride": 1}),
    ("LPPool2d", (2, 10, 9), (2, 3, 2), {"ceil_mode": True}), ("LPPool2d", (3, 8, 8), (2, (2, 3)), {}),
    ("LPPool2d", (1, 7, 6), (3, 2), {"stride": 1}),
    ("LPPool3d", (2, 4, 5, 6), (2, 2), {}), ("LPPool3d", (1, 6, 6, 6), (2, 3), {"stride": 2}),
    ("LPPool3d", (2, 5, 5, 7), (1.0, (1, 2, 3)), {"ceil_mode": True}),
])
def test_lp_pool_matches_torch(cls, shape, args, kwargs):
    ours_, theirs = against_torch(cls, shape, *args, **kwargs)
    assert ours_ == theirs


@pytest.mark.parametrize("n, shape, args, kwargs", [
    (1, (2, 5), (3, 2, 1), {}), (1, (3, 4), (2,), {}), (1, (1, 6), (4,), {"stride": 3}),
    (2, (2, 3, 4), (2,), {}), (2, (1, 4, 4), (3,), {"stride": 2, "padding": 1}), (2, (3, 2, 5), ((2, 3),), {}),
    (3, (2, 2, 3, 4), (2,), {}), (3, (1, 3, 3, 3), (3, 2, 1), {}), (3, (1, 2, 2, 2), ((1, 2, 3),), {}),
])
def test_max_unpool_matches_torch(n, shape, args, kwargs):
    """Applied to (x, indices), as after MaxPool(return_indices=True)."""
    line = call(f"MaxUnpool{n}d", *args, **kwargs)
    assert without(ours(line, [shape, shape], dtypes=["", "int"]), "macs") == \
        without(torch_counts(getattr(nn, f"MaxUnpool{n}d")(*args, **kwargs), [shape, shape], ["", "int"]), "macs")


@pytest.mark.parametrize("cls, shape, args, kwargs", [
    ("FractionalMaxPool2d", (2, 8, 9), (2,), {"output_size": (3, 4)}),
    ("FractionalMaxPool2d", (3, 8, 9), (2,), {"output_ratio": 0.5}),
    ("FractionalMaxPool2d", (1, 10, 7), ((3, 2),), {"output_ratio": (0.7, 0.6)}),
    ("FractionalMaxPool3d", (2, 8, 9, 10), (2,), {"output_ratio": (0.5, 0.5, 0.7)}),
    ("FractionalMaxPool3d", (1, 6, 6, 6), (2,), {"output_size": 3}),
    ("FractionalMaxPool3d", (1, 7, 8, 9), (3,), {"output_ratio": 0.4}),
])
def test_fractional_max_pool_matches_torch(cls, shape, args, kwargs):
    ours_, theirs = against_torch(cls, shape, *args, **kwargs)
    assert ours_ == theirs


# ---------------------------------------------------------------- local response normalisation

@pytest.mark.parametrize("cls, shape, args, kwargs", [
    ("LocalResponseNorm", (4, 5, 6), (3,), {}), ("LocalResponseNorm", (6, 7), (2,), {"alpha": 0.001, "k": 2.0}),
    ("LocalResponseNorm", (3, 4, 4, 4), (5,), {"beta": 0.5}),
    ("CrossMapLRN2d", (4, 5, 6), (3,), {}), ("CrossMapLRN2d", (8, 2, 3), (5,), {"alpha": 0.001}),
    ("CrossMapLRN2d", (1, 6, 6), (1,), {"k": 2.0}),
])
def test_local_response_norms_match_torch(cls, shape, args, kwargs):
    ours_, theirs = against_torch(cls, shape, *args, **kwargs)
    assert ours_ == theirs


# ---------------------------------------------------------------- cells and bags

@pytest.mark.parametrize("cls, F, U, kwargs", [
    ("RNNCell", 3, 5, {}), ("RNNCell", 7, 2, {"bias": False}), ("RNNCell", 4, 4, {"nonlinearity": "relu"}),
    ("LSTMCell", 3, 5, {}), ("LSTMCell", 6, 1, {"bias": False}), ("LSTMCell", 2, 9, {}),
    ("GRUCell", 3, 5, {}), ("GRUCell", 8, 3, {"bias": False}), ("GRUCell", 1, 6, {}),
])
def test_torch_cells_match(cls, F, U, kwargs):
    ours_, theirs = against_torch(cls, (F,), F, U, **kwargs)
    assert ours_ == theirs


@pytest.mark.parametrize("N, V, E, kwargs", [(6, 10, 4, {}), (3, 50, 8, {"mode": "sum"}),
                                             (9, 7, 3, {"mode": "max", "padding_idx": 0})])
def test_embedding_bag_matches_torch(N, V, E, kwargs):
    assert ours(call("EmbeddingBag", V, E, **kwargs), [(N,)], dtypes=["int"]) == \
        torch_counts(nn.EmbeddingBag(V, E, **kwargs), [(N,)], ["int"])


# ---------------------------------------------------------------- transformer stacks

def _encoder_layer(d, h, ff, **kw):
    return nn.TransformerEncoderLayer(d, h, ff, batch_first=True, **kw)


def _decoder_layer(d, h, ff, **kw):
    return nn.TransformerDecoderLayer(d, h, ff, batch_first=True, **kw)


@pytest.mark.parametrize("T, d, h, ff, n, norm, bias", [(5, 8, 2, 16, 2, False, True), (3, 12, 3, 20, 3, True, True),
                                                        (4, 8, 4, 8, 1, True, False)])
def test_transformer_encoder_matches_torch(T, d, h, ff, n, norm, bias):
    line = f"TransformerEncoder(TransformerEncoderLayer({d}, {h}, {ff}, bias={str(bias).lower()}), {n}" + \
        (f", norm=LayerNorm({d}, bias={str(bias).lower()}))" if norm else ")")
    module = nn.TransformerEncoder(_encoder_layer(d, h, ff, bias=bias), n,
                                   norm=nn.LayerNorm(d, bias=bias) if norm else None, enable_nested_tensor=False)
    assert ours(line, [(T, d)]) == torch_counts(module, [(T, d)])


@pytest.mark.parametrize("T, S, d, h, ff, n, norm", [(5, 7, 8, 2, 16, 2, True), (3, 3, 12, 3, 20, 1, False),
                                                     (4, 6, 8, 4, 8, 3, True)])
def test_transformer_decoder_matches_torch(T, S, d, h, ff, n, norm):
    line = f"TransformerDecoder(TransformerDecoderLayer({d}, {h}, {ff}), {n}" + \
        (f", norm=LayerNorm({d}))" if norm else ")")
    module = nn.TransformerDecoder(_decoder_layer(d, h, ff), n, norm=nn.LayerNorm(d) if norm else None)
    assert ours(line, [(T, d), (S, d)]) == torch_counts(module, [(T, d), (S, d)])


@pytest.mark.parametrize("S, T, args, kwargs", [
    (7, 5, (8, 2, 2, 3, 16), {}), (4, 4, (12, 3, 1, 1, 24), {"bias": False}),
    (6, 3, (8, 4, 3, 2, 8), {"activation": "gelu", "norm_first": True}),
])
def test_transformer_matches_torch(S, T, args, kwargs):
    d = args[0]
    assert ours(call("Transformer", *args, **kwargs), [(S, d), (T, d)]) == \
        torch_counts(nn.Transformer(*args, batch_first=True, **kwargs), [(S, d), (T, d)])


def test_transformer_encoder_stacks_an_encoder_layer():
    with pytest.raises(symparams.errors.ArgumentError, match="stacks a transformer_encoder_layer layer"):
        symparams.parse("model m():\n    input (5, 8)\n    TransformerEncoder(Linear(8), 2)\n")


# ---------------------------------------------------------------- negative padding crops

@pytest.mark.parametrize("cls, shape, args", [
    ("ZeroPad2d", (3, 8, 8), (-1,)), ("ZeroPad2d", (2, 6, 7), ((1, -2, 0, -3),)), ("ZeroPad1d", (4, 9), ((-2, 3),)),
    ("ZeroPad3d", (1, 5, 6, 7), ((-1, 0, 2, -2, 1, 1),)), ("ConstantPad2d", (3, 8, 8), ((2, -3, -1, 0), 0.5)),
    ("ConstantPad1d", (2, 6), (-2, 1.0)),
])
def test_negative_padding_crops_as_torch_does(cls, shape, args):
    ours_, theirs = against_torch(cls, shape, *args)
    assert ours_ == theirs


def test_padding_may_not_crop_an_axis_away():
    with pytest.raises(symparams.errors.ShapeError, match="crops .* to nothing"):
        symparams.parse("convention torch\nmodel m():\n    input (3, 2, 2)\n    ZeroPad2d(-1)\n")
    with pytest.raises(symparams.errors.ArgumentError, match=">= 0"):
        symparams.parse("convention torch\nmodel m():\n    input (3, 4, 4)\n    ReflectionPad2d(-1)\n")


# ---------------------------------------------------------------- EinsumDense's MACs, as torch.einsum costs them

class Einsum(nn.Module):
    """Keras's EinsumDense as torch computes it: einsum of the input with a kernel, then a bias."""

    def __init__(self, equation, kernel_shape, bias_shape):
        super().__init__()
        import torch
        self.equation = equation
        self.kernel = nn.Parameter(torch.zeros(kernel_shape))
        self.bias = nn.Parameter(torch.zeros(bias_shape)) if bias_shape else None

    def forward(self, x):
        import torch
        y = torch.einsum(self.equation, x, self.kernel)
        return y if self.bias is None else y + self.bias


@pytest.mark.parametrize("shape, equation, output_shape, kernel, bias", [
    ((6,), "ab,bc->ac", 4, (6, 4), (4,)), ((5, 6), "abc,cd->abd", (5, 3), (6, 3), (3,)),
    ((5, 6), "abc,cde->abde", (5, 2, 4), (6, 2, 4), (2, 4)), ((5, 6), "...b,bc->...c", 7, (6, 7), None),
])
def test_einsum_dense_costs_what_torch_einsum_costs(shape, equation, output_shape, kernel, bias):
    line = call("EinsumDense", equation, output_shape, **({"bias_axes": equation[-len(bias):]} if bias else {}))
    assert ours(line, [shape], "keras") == torch_counts(Einsum(equation, kernel, bias), [shape])


@pytest.mark.parametrize("cls, args", [("TransformerEncoderLayer", (8, 2, 16, 0.1, "gelu")),
                                       ("Transformer", (8, 2, 1, 1, 16, 0.2, "relu"))])
def test_transformer_arguments_follow_torchs_order(cls, args):
    """dropout is PyTorch's fourth (sixth) positional argument; it changes no count."""
    shapes = [(5, 8)] if cls == "TransformerEncoderLayer" else [(5, 8), (4, 8)]
    assert ours(call(cls, *args), shapes) == torch_counts(getattr(nn, cls)(*args, batch_first=True), shapes)
