"""`symparams import` of PyTorch modules written as people write them (tests/torch_forms/): nanoGPT,
a ViT, ConvNeXt, a ResNet ending in `x.mean(dim=(2, 3))`, an LSTM seq2seq, MLP-Mixer, a model split
over two files, a parameter of k * (k + 1) // 2 columns. Each program is compared with PyTorch
itself — params, trainable, buffers (the module's), the output shape (run on the meta device) and
MACs (FlopCounterMode's FLOPs / 2) — at the constructor's defaults and at other values of its int
parameters, the module rebuilt there."""
from __future__ import annotations

import runpy
from pathlib import Path

import pytest

import symparams
from symparams.errors import SymparamsError
from symparams.importers.torch_fx import imported, program

torch = pytest.importorskip("torch")
nn = torch.nn
FORMS = Path(__file__).resolve().parent / "torch_forms"


def _load(file: str, name: str):
    return runpy.run_path(str(FORMS / file))[name]


def _torch_counts(module, shapes, ints):
    from torch.utils.flop_counter import FlopCounterMode
    inputs = [torch.zeros((1,) + tuple(shape), dtype=torch.long if ints else torch.float32, device="meta")
              for shape in shapes]
    with torch.no_grad(), FlopCounterMode(display=False) as flops:
        y = module.eval()(*inputs)
    return {"params": sum(p.numel() for p in module.parameters()),
            "trainable": sum(p.numel() for p in module.parameters() if p.requires_grad),
            "buffers": sum(b.numel() for b in module.buffers()), "output_shape": tuple(y.shape[1:]),
            "macs": flops.get_total_flops() // 2}


def _counts(model, values=None):
    ev = model.evaluate(values)
    return {"params": ev.params, "trainable": ev.trainable, "buffers": ev.buffers,
            "output_shape": ev.shape(model.output_shape), "macs": ev.macs}


# file, class, --input shapes, token ids?, other settings of the constructor's int parameters
FORMS_CASES = [
    ("nanogpt", "nanogpt.py", "gpt", [(16,)], True,
     [dict(block_size=24, vocab_size=50, n_layer=3, n_head=4, n_embd=32)]),
    ("resnet_mean", "resnet_mean.py", "ResNet", [(3, 16, 16)], False, [dict(width=4, num_blocks=3, classes=5)]),
    ("resnet_mean_keyword", "resnet_mean.py", "ResNetKeyword", [(3, 16, 16)], False,
     [dict(width=12, num_blocks=2, classes=3)]),
    ("seq2seq", "seq2seq.py", "Seq2Seq", [(7,), (5,)], True, [dict(src_vocab=30, tgt_vocab=20, dim=8, hidden=10)]),
    ("convnext", "convnext.py", "ConvNeXt", [(3, 32, 32)], False, [dict(dim=8, depth=3, classes=4)]),
    ("mixer", "mixer.py", "Mixer", [(3, 16, 16)], False, [dict(image=16, patch=4, dim=16, depth=3, classes=7)]),
    ("split_files", "split/net.py", "Net", [(12,)], False, [dict(features=5, width=8, depth=3, classes=2)]),
    ("vit", "vit.py", "ViT", [(3, 16, 16)], False, [dict(image=32, patch=8, dim=48, depth=3, heads=6, classes=5)]),
    ("pairs", "pairs.py", "Pairs", [(6, 8)], False, [dict(dim=12, k=6, classes=5), dict(dim=8, k=7, classes=3)]),
]


@pytest.mark.parametrize("name,file,cls,shapes,ints,settings", FORMS_CASES, ids=[c[0] for c in FORMS_CASES])
def test_a_module_as_people_write_it_counts_as_torch(name, file, cls, shapes, ints, settings):
    from symparams.importers import defined
    make = defined(str(FORMS / file), cls)
    model = symparams.parse(imported(make, shapes, ints))
    with torch.device("meta"):
        module = make()
    assert _counts(model) == _torch_counts(module, shapes, ints)
    for values in settings:
        with torch.device("meta"):
            module = make(**values)
        ev = model.evaluate(values)
        assert _counts(model, values) == _torch_counts(module, [ev.shape(t.shape) for t in model.inputs], ints)


def test_a_vit_position_table_keeps_its_constructors_arithmetic():
    """Its position table has (image // patch)**2 + 1 rows, no linear formula: the build records the
    formula torch.zeros was given, so the table and the input are the constructor's image and patch."""
    text = imported(_load("vit.py", "ViT"), [(3, 16, 16)])
    assert "pos = position_embedding((image // patch)**2 + 1)(cat_out)" in text
    assert "x = input (3, image, image)" in text
    # and the instance alone, with no constructor to read, at its numbers
    with torch.device("meta"):
        module = _load("vit.py", "ViT")()
    model = symparams.parse(program(module, [(3, 16, 16)]))
    assert _counts(model) == _torch_counts(module, [(3, 16, 16)], False)


def test_the_seq2seq_decoder_starts_from_the_encoder():
    text = imported(_load("seq2seq.py", "Seq2Seq"), [(7,), (5,)], True)
    assert "src_embed = embedding(src_vocab, dim)(src)" in text and "encoder = lstm(hidden" in text


def test_the_resnet_blocks_are_valid_and_a_shape_changing_block_is_no_repeat():
    make = _load("resnet_mean.py", "ResNet")
    text = imported(make, [(3, 16, 16)], symbols={"num_blocks": 1})
    assert "repeat(num_blocks, basic_block_2" not in text and "\n    0 = " not in text
    assert "repeat(num_blocks - 1, basic_block_3(width))" in imported(make, [(3, 16, 16)])


def test_a_model_split_over_two_files_imports_from_the_command(capsys):
    import sys
    from symparams.cli import main
    path = list(sys.path)
    assert main(["import", f"{FORMS / 'split' / 'net.py'}:Net", "--input", "12"]) == 0
    assert sys.path == path
    assert "repeat(depth, block(width))" in capsys.readouterr().out


class Dropped(nn.Module):
    """The encoder's state goes nowhere symparams follows: a GRU's h[-1] read as data."""

    def __init__(self):
        super().__init__()
        self.embed = nn.Embedding(20, 8)
        self.gru = nn.GRU(8, 6, batch_first=True)
        self.extra = nn.Linear(8, 8)
        self.head = nn.Linear(8, 3)

    def forward(self, x):
        return self.head(self.embed(x).mean(1))


def test_a_part_of_the_model_left_out_is_refused_by_name():
    with pytest.raises(SymparamsError) as e:
        program(Dropped(), [(5,)], True)
    message = str(e.value)
    assert "the program would leave out 360 of the 547 numbers PyTorch counts" in message
    assert "gru (gru.weight_ih_l0, gru.weight_hh_l0, …: 288 numbers), which forward() never calls" in message
    assert "whole or not at all" in e.value.hint


class Positions(nn.Module):
    def __init__(self):
        super().__init__()
        self.tok = nn.Embedding(30, 8)
        self.pos = nn.Embedding(12, 8)

    def forward(self, tokens):
        return self.tok(tokens) + self.pos(torch.arange(tokens.shape[1], device=tokens.device))


class Shapes(nn.Module):
    """Sizes read from the tensor, views, chunks, keepdim reductions, amax, F.* functions."""

    def __init__(self):
        super().__init__()
        self.proj = nn.Linear(8, 16)

    def forward(self, x):
        import torch.nn.functional as F
        b, t, c = x.shape
        a, g = self.proj(x).chunk(2, dim=-1)
        y = (a * F.silu(g)).reshape(b, t, 2, c // 2).permute(0, 2, 1, 3)
        y = F.softmax(y, dim=-1) - y.amax(dim=-1, keepdim=True)
        y = y.sum(dim=1) + x.size(1)
        return torch.stack([y, y.unsqueeze(1).squeeze(1)], dim=1).flatten(1)


@pytest.mark.parametrize("make,shapes,ints", [(Positions, [(6,)], True), (Shapes, [(5, 8)], False)],
                         ids=["arange_positions", "shape_ops"])
def test_ordinary_forward_code_counts_as_torch(make, shapes, ints):
    with torch.device("meta"):
        module = make()
    assert _counts(symparams.parse(program(module, shapes, ints))) == _torch_counts(module, shapes, ints)


def test_an_unsupported_operation_names_the_users_line():
    class Sine(nn.Module):
        def forward(self, x):
            return torch.sin(x.unsqueeze(1))

    with pytest.raises(SymparamsError, match=r"the operation sin \(call_function\) in forward has no catalog layer "
                                             r"at test_import_torch_forms.py:\d+: return torch.sin"):
        program(Sine(), [(4,)])
