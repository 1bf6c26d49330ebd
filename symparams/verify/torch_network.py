"""A plan built in PyTorch: one nn.Module whose forward follows the rows, measured per row.

Modules are created on the `meta` device, so a large model costs no memory: parameters and
shapes exist, values do not.
"""
from __future__ import annotations

import torch
from torch import nn

from . import torch_glue
from .make import NoCounterpart, describe_each
from .torch_builder import layer_call

NAMESPACE = {"nn": nn, "torch": torch, **torch_glue.GLUE}


class Network(nn.Module):
    """The model as one module: `layers` holds a module per row that owns weights; forward runs the
    rows in order, each reading the tensors its row names. A row with no torch counterpart, or one
    torch refuses to run (kept in `failures`), is stood in for by a tensor of the formula's shape,
    so the rows after it are still checked."""

    def __init__(self, plan, layers: dict):
        super().__init__()
        self.plan = plan
        self.layers = nn.ModuleDict(layers)
        self.failures: dict = {}

    def forward(self, *inputs) -> dict:
        env = {name: x for (name, _, _), x in zip(self.plan.inputs, inputs)}
        batch = inputs[0].shape[0]
        self.failures = {}
        for step in self.plan.steps:
            key = step.owner or step.name
            if key in self.layers:
                try:
                    env[step.name] = self.layers[key](*[env[i] for i in step.inputs])
                    continue
                except Exception as e:  # torch refused: the row's formula and torch disagree
                    self.failures[step.name] = f"torch raised {type(e).__name__}: {e}"
            env[step.name] = torch.zeros((batch,) + step.output_shape, device=inputs[0].device)
        return env


def calls(plan) -> tuple[dict, dict]:
    """Constructor calls of the rows that own a layer, and the reason for each row torch cannot build."""
    return describe_each(plan, layer_call)


def build(plan) -> tuple[Network, dict, dict]:
    """The network, the reason for each row torch has no module for, and the error of each module
    torch refused to construct (a declared layer's `torch = ...` with wrong arguments)."""
    made, missing = calls(plan)
    layers, refused = {}, {}
    with torch.device("meta"):
        for name, call in made.items():
            try:
                layers[name] = call.build(NAMESPACE)
            except Exception as e:
                refused[name] = f"torch could not make {call.source()}: {type(e).__name__}: {e}"
    for step in plan.steps:
        if step.name not in layers:
            continue
        if step.frozen:      # before tying: a frozen tied layer freezes its own weights, not the borrowed matrix
            layers[step.name].requires_grad_(False)
        if step.tied:
            reason = tie(layers[step.name], layers.get(step.tied))
            if reason:
                missing[step.name] = reason
                del layers[step.name]
    return Network(plan, layers), missing, refused


def tie(module, target) -> str | None:
    """Give a dense layer's nn.Linear the tied layer's weight matrix (an embedding's (V, d) table
    serves an nn.Linear(d, V) as it is); the reason if torch cannot share it."""
    linear = next((m for m in module.modules() if isinstance(m, nn.Linear)), None)
    if target is None or linear is None:
        return "the tied layer is not built in torch"
    weight = next((m.weight for m in target.modules() if isinstance(m, (nn.Embedding, nn.Linear))), None)
    if weight is None or weight.shape != linear.weight.shape:
        return "torch shares a weight matrix only as it is, and this one would need transposing"
    linear.weight = weight
    return None


def example_inputs(plan, batch: int = 2) -> list:
    return [torch.zeros((batch,) + shape, device="meta", dtype=torch.long if dtype == "int" else torch.float32)
            for _, shape, dtype in plan.inputs]


def measure(plan) -> dict:
    """Per row: the counts and output shape torch gives, or why it gives none.

    A weight reached again (a shared layer, a tied matrix) counts once, at its first row."""
    network, missing, refused = build(plan)
    results = {name: {"unchecked": reason} for name, reason in missing.items()}
    results.update({name: {"error": error} for name, error in refused.items()})
    env = network(*example_inputs(plan))
    results.update({name: {"error": error} for name, error in network.failures.items()})
    seen = set()
    for step in plan.steps:
        if step.name in results:
            continue
        key = step.owner or step.name
        if key not in network.layers:
            results[step.name] = {"unchecked": f"the layer it shares ({key}) could not be built"}
            continue
        module = network.layers[key]
        params = [p for p in module.parameters() if id(p) not in seen]
        buffers = [b for b in module.buffers() if id(b) not in seen]
        seen.update(id(t) for t in params + buffers)
        total = sum(p.numel() for p in params)
        results[step.name] = {"params": total,
                              "non_trainable": total - sum(p.numel() for p in params if p.requires_grad),
                              "buffers": sum(b.numel() for b in buffers),
                              "output_shape": tuple(env[step.name].shape[1:])}
    return results
