"""One layer three ways: a symparams program, a PyTorch module, a Keras layer.

Each returns the same dictionary (params, trainable, non_trainable, buffers, output_shape; MACs where the
framework counts them), so a test compares them with a plain ==. The symparams side is a real program
whose input sizes are symbols, evaluated at the sizes as `--set` would.
"""
from __future__ import annotations

import symparams
from reference import keras_counts, symparams_counts, torch_counts, torch_macs


def dsl(value) -> str:
    """A Python argument as the language writes it: bare words, true/false, tuples."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return value if value.replace("_", "").isalnum() else f'"{value}"'
    if isinstance(value, tuple):
        return "(" + ", ".join(dsl(v) for v in value) + ("," if len(value) == 1 else "") + ")"
    return repr(value)


def call(layer_name: str, *args, **kwargs) -> str:
    return f"{layer_name}(" + ", ".join([dsl(a) for a in args] + [f"{k}={dsl(v)}" for k, v in kwargs.items()]) + ")"


def program(line: str, rank: int, convention: str) -> str:
    names = [f"S{i}" for i in range(rank)]
    return (f"convention {convention}\nmodel one_layer({', '.join(names)}):\n"
            f"    input ({', '.join(names)},)\n    {line}\n")


def symparams_layer(line: str, input_shape: tuple, convention: str = "keras") -> dict:
    """Counts of `line` applied to an input of symbolic sizes S0, S1, ... set to `input_shape`."""
    model = symparams.parse(program(line, len(input_shape), convention))
    values = {f"S{i}": size for i, size in enumerate(input_shape)}
    counts = symparams_counts(model, values, model.rows[0].name)
    counts["macs"] = model.evaluate(values).row(model.rows[0].name)["macs"]
    return counts


def torch_layer(module, input_shape: tuple) -> dict:
    """torch_counts plus the MACs torch's FlopCounterMode sees (FLOPs / 2)."""
    return dict(torch_counts(module, input_shape), macs=torch_macs(module, input_shape))


def keras_layer(layer, input_shape: tuple) -> dict:
    return keras_counts(layer, input_shape)


def without_macs(counts: dict) -> dict:
    return {k: v for k, v in counts.items() if k != "macs"}


def against_keras(cls: str, shape: tuple, *args, channels_first: bool = False, **kwargs) -> tuple[dict, dict]:
    """Keras' layer `cls(*args, **kwargs)` as a pasted symparams line and as Keras builds it: both counts,
    MACs left out (Keras does not count them). With channels_first the line runs under the torch
    convention, which reads (C, spatial...) as Keras' data_format='channels_first' does."""
    import keras
    convention, layout = ("torch", {"data_format": "channels_first"}) if channels_first else ("keras", {})
    ours = symparams_layer(call(cls, *args, **kwargs), shape, convention)
    return without_macs(ours), keras_layer(getattr(keras.layers, cls)(*args, **kwargs, **layout), shape)


def against_torch(cls: str, shape: tuple, *args, **kwargs) -> tuple[dict, dict]:
    """PyTorch's module `cls(*args, **kwargs)` as a pasted symparams line (torch convention) and as
    PyTorch builds it: both counts, MACs included."""
    import torch.nn as nn
    return (symparams_layer(call(cls, *args, **kwargs), shape, "torch"),
            torch_layer(getattr(nn, cls)(*args, **kwargs), shape))
