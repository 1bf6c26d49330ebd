"""The counts (parameters, MACs, FLOPs, bytes of the parameters, torchsummary's memory, shapes) and
the training quantities (active parameters, training FLOPs, KV cache, activations, training memory),
each an entry of the registry (registry.py) read off the graph and the layers' facts."""
from __future__ import annotations

import sympy as sp

from .. import accounting, memory, units
from ..dims import product
from . import finetune
from ..errors import ArgumentError
from .registry import Figure, quantity


# ---------------------------------------------------------------- the counts

def _graph_count(attr):
    def count(source, model, o, batch):
        return batch * sp.sympify(getattr(source, attr))
    return count


quantity("params", "parameters", "parameters (every weight, trainable or not)", per_example=False)(
    _graph_count("params"))
quantity("trainable", "parameters", "trainable parameters", per_example=False)(_graph_count("trainable"))
quantity("non_trainable", "parameters", "non-trainable parameters", per_example=False)(_graph_count("non_trainable"))
quantity("buffers", "parameters", "PyTorch buffers (state that is not a parameter)", per_example=False)(
    _graph_count("buffers"))
quantity("macs", "MACs", "multiply-accumulates per example")(_graph_count("macs"))


@quantity("flops", "FLOPs", "floating-point operations per example (2 x MACs)")
def _flops(source, model, o, batch):
    return batch * 2 * sp.sympify(source.macs)


@quantity("param_bytes", "bytes", "bytes of the parameters at --dtype", dtype="float32", per_example=False)
def _param_bytes(source, model, o, batch):
    return units.storage_bytes(sp.sympify(source.params), o.dtype)


@quantity("memory", "bytes", "torchsummary's estimated total bytes (input + forward/backward + params) for a "
                             "batch of B", dtype="float32", per_example=False)
def _memory(source, model, o, batch):
    if source is model:
        return memory.estimate(model, o.dtype).total
    size = units.dtype_bytes(o.dtype)   # one layer's share: its weights, and its output kept for backward
    return source.params * size + 2 * model.batch * memory.activation_elements([source]) * size


@quantity("active", "parameters", "parameters one token uses (a mixture of experts counts top_k experts)",
          per_example=False)
def _active(source, model, o, batch):
    return accounting.active(source)


def _place(model, source, o):
    """Where a layer asked for by --layer sits when full recomputation checkpoints the repeats."""
    if source is model or o.recompute != "full":
        return None
    return accounting.place_in_repeat(accounting.nodes_of(model), source.node)


@quantity("training_flops", "FLOPs", "FLOPs of a training step per example: forward, backward (2x), "
                                     "--recompute's forward; per device with --tp, the largest pipeline stage's "
                                     "with --pp", options=("recompute", "tp", "pp"))
def _training_flops(source, model, o, batch):
    if o.pp != 1:
        if source is not model:
            raise ArgumentError("--pp splits the whole model into stages: leave out --layer")
        # each stage's: accounting.stage_flops (the formula command prints a figure's parts as bytes)
        stages = accounting.stage_flops(model, o.pp, o.recompute, batch, o.tp)
        return Figure(stages["largest"], rule=f"the largest of {o.pp} pipeline stages")
    if _place(model, source, o):    # a layer inside a checkpointed repeat is recomputed with it
        return batch * 2 * 4 * sp.sympify(source.node.macs)
    return accounting.training_flops(source, o.recompute, batch, o.tp)


@quantity("kv_cache", "bytes", "bytes of the keys and values cached for generation, per example",
          options=("dtype", "tp"), dtype="bfloat16")
def _kv_cache(source, model, o, batch):
    if not accounting.cached_attentions(model):
        raise ArgumentError(f"model {model.name} has no attention layer, so it caches no keys or values",
                            hint="kv_cache counts what a generating transformer keeps between steps")
    if all(a.cache == "none" for _, _, a in accounting.cached_attentions(model)):
        # an encoder generates nothing: there is no cache to size (transformers returns none), and a
        # 0 would read as a figure
        raise ArgumentError(f"model {model.name} caches no keys or values: every attention in it is an encoder's "
                            "self-attention (cache=none), and an encoder generates nothing",
                            hint="kv_cache counts what a generating model (a decoder, or an encoder-decoder's "
                                 "decoder) keeps between steps")
    return accounting.kv_cache(source, o.dtype, batch, o.tp)


@quantity("activations", "bytes", "bytes saved for the backward pass per example, with --recompute, by --rule",
          options=("dtype", "rule", "attention", "recompute", "tp", "sequence_parallel"), dtype="bfloat16")
def _activations(source, model, o, batch):
    place = _place(model, source, o)
    if place:   # checkpointed with its repeat: only a repetition's own input is kept
        node = source.node
        kept = product(node.input_shapes[0]) * units.dtype_bytes(o.dtype) if place == "body" else 0
        return Figure(batch * kept, rule=o.rule)
    rule = o.rule if o.rule == "korthikanti" else f"transformers, {o.attention} attention"
    return Figure(accounting.activations(source, o.keeping(o.dtype), batch), rule=rule)


@quantity("training_memory", "bytes", "bytes per device of weights, gradients, optimizer states (--optimizer, "
                                      "--precision, --dp, --zero, --tp, --pp, --ep; what --offload moves to the "
                                      "host as named parts; + activations with --with-activations)",
          options=("optimizer", "precision", "dp", "zero", "with_activations", "recompute", "rule", "attention",
                   "tp", "pp", "ep", "offload", "sequence_parallel", "lora_rank", "lora_targets", "weights_dtype",
                   "group_size", "double_quant"),
          whole_model=True)
def _training_memory(source, model, o, batch):
    if o.lora_rank is not None:     # LoRA / QLoRA: a frozen base, trained adapters (finetune.py)
        if o.offload != "none" or o.ep != 1:
            raise ArgumentError("--offload and --ep count full training; LoRA's memory is counted without them",
                                hint="leave --offload and --ep out with --lora-rank")
        return finetune.lora_memory(model, o, batch, o.keeping("bfloat16"))
    if o.lora_targets or o.weights_dtype or o.group_size or o.double_quant:
        raise ArgumentError("--lora-targets, --weights-dtype, --group-size and --double-quant count fine-tuning: "
                            "give --lora-rank",
                            hint="without --lora-rank training_memory trains every weight at --precision")
    # --per-batch: the activations of B examples per device (weights and states are per device already)
    m = accounting.training_memory_parts(model, o.optimizer, o.precision, o.dp, o.zero, o.with_activations,
                                         o.keeping("bfloat16"), batch, o.pp, o.ep, o.offload)
    parts = [(n, e) for n, e in m.parts() if n != "activations" or o.with_activations]
    moved = {"none": None, "optimizer": "gradients and optimizer states on the host, not in the total",
             "params": "weights, gradients and optimizer states on the host, not in the total"}[o.offload]
    return Figure(m.total, parts, dtype=f"{o.precision} precision", rule=moved)


@quantity("shape", "shape", "output shape", per_example=False)
def _shape(source, model, o, batch):
    return tuple(source.output_shape)
