"""A plan built in Keras 3: each row's layers called on example tensors, measured per row.

Keras runs on its PyTorch backend (KERAS_BACKEND must be set before keras is first imported)
with its weights and tensors on the `meta` device, so a large model costs no memory. The layers
run eagerly rather than on symbolic inputs: a symbolic shape is Keras's own claim (its
Activation('glu') claims the input's shape), an eager one is what the computation gives.
"""
from __future__ import annotations

import os

os.environ.setdefault("KERAS_BACKEND", "torch")

import keras  # noqa: E402  (after the backend is chosen)
from keras import layers  # noqa: E402

from .keras_builder import LIST_INPUTS, layer_chain  # noqa: E402
from .keras_source import dtype_name, named_chain  # noqa: E402
from .make import describe_each  # noqa: E402

NAMESPACE = {"layers": layers, "keras": keras}
BATCH = 2


def chains(plan) -> tuple[dict, dict]:
    """The layer chain of each row that owns weights, and why Keras cannot build the others."""
    return describe_each(plan, named_chain)


def _call(chain, xs, as_list):
    """Apply a chain: the first layer to the step's tensors (as one list for merges), the rest in turn."""
    x = chain[0](xs) if as_list else chain[0](*xs)
    for layer in chain[1:]:
        x = layer(x)
    return x


def _run(chain, xs, as_list):
    """Run eagerly; a layer that cannot run on meta tensors (UpSampling goes through NumPy) is run
    symbolically instead, and a zero tensor of the shape Keras infers carries on."""
    try:
        return _call(chain, xs, as_list)
    except Exception as eager:
        try:
            y = _call(chain, [keras.KerasTensor(x.shape, dtype=x.dtype) for x in xs], as_list)
        except Exception:
            raise eager from None
        return keras.ops.zeros(y.shape, dtype=y.dtype)


def measure(plan) -> dict:
    """Per row: the counts and output shape Keras gives, or why it gives none.

    A weight reached again (a shared layer) counts once, at its first row."""
    made, missing = chains(plan)
    results = {name: {"unchecked": reason} for name, reason in missing.items()}
    built, tensors, seen = {}, {}, set()
    with keras.device("meta"):
        for name, shape, dtype in plan.inputs:
            tensors[name] = keras.ops.zeros((BATCH,) + shape, dtype=dtype_name(dtype))
        for step in plan.steps:
            # A row Keras cannot build or run is stood in for by a tensor of the formula's shape,
            # so the rows after it are still checked.
            stand_in = keras.ops.zeros((BATCH,) + step.output_shape)
            if step.name in missing:
                tensors[step.name] = stand_in
                continue
            key = step.owner or step.name
            if key not in built:
                try:
                    built[key] = [call.build(NAMESPACE) for call in made[key]]
                except Exception as e:  # a declared layer's `keras = ...` Keras refuses
                    results[step.name] = {"error": f"keras could not make {made[key][-1].source()}: "
                                                   f"{type(e).__name__}: {e}"}
                    tensors[step.name] = stand_in
                    continue
                for layer in built[key]:
                    layer.trainable = not step.frozen
            try:
                tensors[step.name] = _run(built[key], [tensors[i] for i in step.inputs], step.kind in LIST_INPUTS)
            except Exception as e:  # Keras refused: the row's formula and Keras disagree
                results[step.name] = {"error": f"keras raised {type(e).__name__}: {e}"}
                tensors[step.name] = stand_in
                continue
            trainable = [w for layer in built[key] for w in layer.trainable_weights if id(w) not in seen]
            frozen = [w for layer in built[key] for w in layer.non_trainable_weights if id(w) not in seen]
            seen.update(id(w) for w in trainable + frozen)
            non_trainable = sum(_size(w) for w in frozen)
            results[step.name] = {"params": sum(_size(w) for w in trainable) + non_trainable,
                                  "non_trainable": non_trainable, "buffers": 0,
                                  "output_shape": tuple(tensors[step.name].shape[1:])}
    return results


def _size(w) -> int:
    n = 1
    for d in w.shape:
        n *= int(d)
    return n
