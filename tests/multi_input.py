"""One layer applied to one or several tensors, three ways: a symparams program, a PyTorch module, a Keras layer.

single_layer.py covers layers of one input with symbolic sizes; these helpers take any number of
inputs (Bilinear's x1 and x2, attention's query and value) of given sizes and dtypes, and return the
same dictionary as reference.py, so a test compares them with a plain ==.
"""
from __future__ import annotations

import symparams
from reference import weight_size


def program(line: str, shapes: list, convention: str, dtypes: list | None = None) -> str:
    dtypes = dtypes or [""] * len(shapes)
    names = [f"x{i}" for i in range(len(shapes))]
    inputs = "".join(f"    {n} = input ({', '.join(map(str, s))},) {d}\n" for n, s, d in zip(names, shapes, dtypes))
    return f"convention {convention}\nmodel one_layer():\n{inputs}    out = {line}({', '.join(names)})\n"


def ours(line: str, shapes: list, convention: str = "torch", dtypes: list | None = None) -> dict:
    model = symparams.parse(program(line, shapes, convention, dtypes))
    row = model.evaluate().row(model.rows[-1].name)
    return {k: row[k] for k in ("params", "trainable", "non_trainable", "buffers", "output_shape", "macs")}


def torch_counts(module, shapes: list, dtypes: list | None = None, macs: bool = True) -> dict:
    """Counts, output shape and FlopCounterMode's MACs (FLOPs / 2, one example) of a module on the meta device."""
    import torch
    from torch.utils.flop_counter import FlopCounterMode

    def inputs(batch):
        return [torch.zeros((batch,) + tuple(s), device="meta",
                            dtype=torch.long if d == "int" else torch.float32)
                for s, d in zip(shapes, dtypes or [""] * len(shapes))]
    module = module.to("meta")
    y = module(*inputs(2))
    y = y[0] if isinstance(y, tuple) else y
    with FlopCounterMode(display=False) as flops:
        module(*inputs(1))
    params = sum(p.numel() for p in module.parameters())
    trainable = sum(p.numel() for p in module.parameters() if p.requires_grad)
    out = {"params": params, "trainable": trainable, "non_trainable": params - trainable,
           "buffers": sum(b.numel() for b in module.buffers()), "output_shape": tuple(y.shape[1:])}
    if macs:
        out["macs"] = flops.get_total_flops() // 2
    return out


def keras_counts(layer, shapes: list, dtypes: list | None = None, as_list: bool = True) -> dict:
    """Counts and output shape of a Keras layer called on symbolic inputs (as a list, as Keras's merges
    and attention layers take them, or one by one)."""
    import keras
    inputs = [keras.Input(shape=tuple(s), dtype="int32" if d == "int" else "float32")
              for s, d in zip(shapes, dtypes or [""] * len(shapes))]
    out = layer(inputs) if as_list and len(inputs) > 1 else layer(*inputs)
    trainable = sum(weight_size(w) for w in layer.trainable_weights)
    non_trainable = sum(weight_size(w) for w in layer.non_trainable_weights)
    return {"params": trainable + non_trainable, "trainable": trainable, "non_trainable": non_trainable,
            "buffers": 0, "output_shape": tuple(out.shape[1:])}


def without(counts: dict, *keys) -> dict:
    return {k: v for k, v in counts.items() if k not in keys}
