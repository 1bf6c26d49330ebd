"""A U-Net as people write it (tests/torch_forms/unet.py: double convolutions, max-pool down,
transposed convolutions or bilinear upsampling up, the skip padded with F.pad to the upsampled size and joined with
torch.cat) imports exactly through torch.fx: params, trainable, buffers, output shape and MACs
(FlopCounterMode on meta) equal PyTorch's, at the constructor's defaults and at other settings."""
from __future__ import annotations

from pathlib import Path

import pytest

import symparams

torch = pytest.importorskip("torch")
FILE = Path(__file__).resolve().parent / "torch_forms" / "unet.py"


def _torch(module, shape):
    from torch.utils.flop_counter import FlopCounterMode
    with torch.no_grad(), FlopCounterMode(display=False) as flops:
        y = module.eval()(torch.zeros((1, *shape), device="meta"))
    return (sum(p.numel() for p in module.parameters()), sum(p.numel() for p in module.parameters() if p.requires_grad),
            sum(b.numel() for b in module.buffers()), tuple(y.shape[1:]), flops.get_total_flops() // 2)


def _ours(model, values=None):
    ev = model.evaluate(values)
    return ev.params, ev.trainable, ev.buffers, tuple(ev.shape(model.output_shape)), ev.macs


@pytest.mark.parametrize("name,written", [
    ("UNet", "conv2d_transpose(4*base, 2, strides=2)"),
    # bilinear upsampling: down2 and down3 are identical, but down2's output is also up1's skip, so the
    # two are not folded into a repeat (which would hide it)
    ("BilinearUNet", "down3 = down_2(base)(down2)"),
])
def test_a_unet_imports_exactly_through_fx(name, written):
    from symparams.importers import defined
    from symparams.importers.torch_fx import imported
    make = defined(str(FILE), name)
    text = imported(make, [(3, 32, 32)])
    assert "(torch.fx)" in text and written in text
    model = symparams.parse(text)
    for values in ({}, dict(n_channels=1, n_classes=5, base=4), dict(n_channels=4, n_classes=3, base=6)):
        with torch.device("meta"):
            module = make(**values)
        channels = values.get("n_channels", 3)
        assert _ours(model, values) == _torch(module, (channels, 32, 32))
