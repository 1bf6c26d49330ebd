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
from .make import NoCounterpart, describe_each  # noqa: E402

NAMESPACE = {"layers": layers}
BATCH = 2


def chains(plan) -> tuple[dict, dict]:
    """The layer chain of each row that owns weights, and why Keras cannot build the others."""
    return describe_each(plan, _named_chain)


def _named_chain(step) -> list:
    if step.tied:
        raise NoCounterpart("Keras's Dense cannot reuse another layer's weight matrix (tied=)")
    chain = layer_chain(step)
    chain[-1].kwargs["name"] = step.name
    return chain


def _dtype(dtype):
    return "int32" if dtype == "int" else "float32"


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
            tensors[name] = keras.ops.zeros((BATCH,) + shape, dtype=_dtype(dtype))
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


def structured_source(plan) -> str | None:
    """The functional model with a function per block and a loop per repeat, from a plan whose
    repeats are built once; None where weights cross a function's boundary (then `source`)."""
    from . import keras_source
    lines = keras_source.structured(
        plan, lambda name, shape, dtype: f"{name} = keras.Input(shape={shape!r}, dtype={dtype!r}, name={name!r})",
        _dtype)
    if lines is None:
        return None
    header = ["import keras", "from keras import layers", "",
              f"# {plan.model.name} at {', '.join(f'{k}={v}' for k, v in plan.evaluation.values.items())} "
              "(written by `symparams export`)"]
    return "\n".join(header + lines) + "\n"


def source(plan) -> str:
    """The Keras functional model the builder makes, one line per layer, as Python source."""
    made, missing = chains(plan)
    if missing:
        name, reason = next(iter(missing.items()))
        raise NoCounterpart(f"layer {name}: {reason}")
    reused = {s.owner for s in plan.steps if s.owner} | {s.name for s in plan.steps if s.frozen}
    lines = ["import keras", "from keras import layers", "",
             f"# {plan.model.name} at {', '.join(f'{k}={v}' for k, v in plan.evaluation.values.items())} "
             "(written by `symparams export`)"]
    for name, shape, dtype in plan.inputs:
        lines.append(f"{name} = keras.Input(shape={shape!r}, dtype={_dtype(dtype)!r}, name={name!r})")
    for step in plan.steps:
        key = step.owner or step.name
        chain = made[key]
        if step.name in reused:
            lines.append(f"{step.name}_layer = {chain[-1].source(NAMESPACE)}")
            if step.frozen:
                lines.append(f"{step.name}_layer.trainable = False")
        x = ", ".join(step.inputs)
        if step.kind in LIST_INPUTS:
            x = f"[{x}]"
        calls = [c.source(NAMESPACE) for c in chain]
        if key in reused:
            calls[-1] = f"{key}_layer"
        for call in calls:
            x = f"{call}({x})"
        lines.append(f"{step.name} = {x}")
    ins = plan.inputs[0][0] if len(plan.inputs) == 1 else "[" + ", ".join(n for n, _, _ in plan.inputs) + "]"
    outs = plan.outputs[0] if len(plan.outputs) == 1 else "[" + ", ".join(plan.outputs) + "]"
    lines.append(f"model = keras.Model({ins}, {outs}, name={plan.model.name!r})")
    return "\n".join(lines) + "\n"
