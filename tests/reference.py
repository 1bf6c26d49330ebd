"""Counting parameters and shapes in the real frameworks, for comparison with the formulas.

Every catalog test builds the same layer in PyTorch (and in Keras 3 on the torch backend where
Keras counts differently) and compares with symparams exactly.
"""
from __future__ import annotations

import os

os.environ.setdefault("KERAS_BACKEND", "torch")


def torch_counts(module, input_shape, dtype=None) -> dict:
    """params / trainable / non_trainable / buffers and output shape (batch left out) of a torch module.

    Shapes go through on the meta device, so large sizes cost no memory.
    """
    import torch
    module = module.to("meta")
    x = torch.zeros((2,) + tuple(input_shape), device="meta", dtype=dtype or torch.float32)
    y = module(x)
    if isinstance(y, tuple):  # RNNs return (output, state)
        y = y[0]
    params = sum(p.numel() for p in module.parameters())
    trainable = sum(p.numel() for p in module.parameters() if p.requires_grad)
    return {"params": params, "trainable": trainable, "non_trainable": params - trainable,
            "buffers": sum(b.numel() for b in module.buffers()), "output_shape": tuple(y.shape[1:])}


def torch_macs(module, input_shape) -> int:
    """Multiply-accumulates torch's FlopCounterMode sees for one example (FLOPs / 2), on the meta device
    (on the CPU the fused LSTM kernel hides its matrix products from the counter)."""
    import torch
    from torch.utils.flop_counter import FlopCounterMode
    with FlopCounterMode(display=False) as flops:
        module.to("meta")(torch.zeros((1,) + tuple(input_shape), device="meta"))
    return flops.get_total_flops() // 2


def keras_counts(layer, input_shape, dtype="float32") -> dict:
    """The same counts for a Keras 3 layer, built on a symbolic input of the given shape."""
    import keras
    inp = keras.Input(shape=tuple(input_shape), dtype=dtype)
    out = layer(inp)
    model = keras.Model(inp, out)
    trainable = sum(weight_size(w) for w in model.trainable_weights)
    non_trainable = sum(weight_size(w) for w in model.non_trainable_weights)
    return {"params": trainable + non_trainable, "trainable": trainable, "non_trainable": non_trainable,
            "buffers": 0, "output_shape": tuple(out.shape[1:])}


def weight_size(w) -> int:
    """The number of elements of a Keras weight (its shape's sizes multiplied)."""
    n = 1
    for d in w.shape:
        n *= int(d)
    return n


def symparams_counts(model, values=None, row=None) -> dict:
    """The same dictionary from a symparams model (one row, or the whole model)."""
    ev = model.evaluate(values or {})
    if row is None:
        return {"params": ev.params, "trainable": ev.trainable, "non_trainable": ev.non_trainable,
                "buffers": ev.buffers, "output_shape": ev.shape(model.output_shape)}
    r = ev.row(row)
    return {k: r[k] for k in ("params", "trainable", "non_trainable", "buffers", "output_shape")}
