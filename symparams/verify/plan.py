"""A model at one setting of its symbols, as the steps a framework builder follows.

Framework-neutral: each step is one row with its configuration evaluated to plain numbers, the
names of the tensors it reads (`row.inputs`), and whether it reuses another row's layer.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, replace

import sympy as sp

from ..values import LayerInstance


@dataclass
class Step:
    row: object               # the model's Row
    name: str                 # a Python identifier for the row (export uses it as an attribute)
    inputs: list              # identifiers of the tensors it reads
    config: dict              # the row's configuration with every size a plain int
    input_shapes: list        # the formulas' input shapes, evaluated (batch left out)
    output_shape: tuple       # the formula's output shape, evaluated
    owner: str | None = None  # identifier of the step whose layer this one applies again
    frozen: bool = False

    @property
    def kind(self) -> str:
        return self.row.spec.name


@dataclass
class Plan:
    model: object
    evaluation: object
    inputs: list              # (identifier, shape, dtype) of the model's inputs
    steps: list
    outputs: list             # identifiers of the model's outputs


def identifier(name: str) -> str:
    """A row name as a Python identifier: `x@2` -> `x_2`."""
    text = re.sub(r"\W", "_", name)
    return text if text and not text[0].isdigit() else "_" + text


def concrete(value, evaluation):
    """A configuration value with its sizes evaluated: sympy sizes become ints, tuples stay tuples."""
    if isinstance(value, tuple):
        return tuple(concrete(v, evaluation) for v in value)
    if isinstance(value, LayerInstance):      # a wrapped layer (bidirectional's RNN)
        return replace(value, config={k: concrete(v, evaluation) for k, v in value.config.items()})
    if isinstance(value, sp.Basic):
        number = evaluation.number(value)
        return number if isinstance(number, int) else value
    return value


_SHARED = re.compile(r"shares weights with (\S+)")


def shared_owner(row) -> str | None:
    """The row whose weights this row reuses, if the interpreter marked it as a second application."""
    match = _SHARED.search(row.note or "")
    return match.group(1) if match else None


def make_plan(model, values: dict | None = None) -> Plan:
    ev = model.evaluate(values)
    ids = {t.source: identifier(t.source) for t in model.inputs}
    ids.update({r.name: identifier(r.name) for r in model.rows})
    steps = []
    for row in model.rows:
        owner = shared_owner(row)
        steps.append(Step(row, ids[row.name], [ids[i] for i in row.inputs],
                          {k: concrete(v, ev) for k, v in row.config.items()},
                          [ev.shape(s) for s in row.input_shapes], ev.shape(row.output_shape),
                          owner=ids[owner] if owner else None, frozen=row.note == "frozen"))
    inputs = [(ids[t.source], ev.shape(t.shape), t.dtype) for t in model.inputs]
    return Plan(model, ev, inputs, steps, [ids[t.source] for t in model.outputs])
