"""A model at one setting of its symbols, as the steps a framework builder follows.

Framework-neutral, read off the model's graph (symparams/graph.py). Every layer node becomes a
Step: its configuration evaluated to plain numbers, the steps whose tensors it reads, and whether
it reuses another step's layer (its Weights built there), another's matrix (tied=) or is frozen.

A block or repeat node becomes a Group over the steps of its body. A repeat whose count is small
at these values is built as that many copies; a larger one is built once and its counts
multiplied, as the formula does (UNROLL_LIMIT). Export unrolls every repeat (up to EXPORT_LIMIT
copies): a network to train needs all its layers.
"""
from __future__ import annotations

import re
from collections import ChainMap
from dataclasses import dataclass, field, replace

import sympy as sp

from ..sized import sized
from ..values import LayerInstance

UNROLL_LIMIT = 8
EXPORT_LIMIT = 1000


@dataclass
class Step:
    row: object               # the graph Node it applies
    name: str                 # a unique Python identifier (export uses it as an attribute)
    inputs: list              # names of the steps (or model inputs) whose tensors it reads
    config: dict              # the row's configuration with every size a plain int
    input_shapes: list        # the formulas' input shapes, evaluated (batch left out)
    output_shape: tuple       # the formula's output shape, evaluated
    owner: str | None = None  # the step whose layer this one applies again
    tied: str | None = None   # the step whose weight matrix this dense layer reuses
    frozen: bool = False

    @property
    def kind(self) -> str:
        return self.row.spec.name


@dataclass
class Group:
    """A block or repeat node, realised by the steps of its body."""
    row: object
    name: str
    output: str                       # the step whose tensor the group yields
    steps: list = field(default_factory=list)      # names of every step inside, all copies
    copies: list = field(default_factory=list)     # each built copy of the body: its Steps and Groups
    multiplier: int = 1               # a repeat built once stands for this many copies
    inputs: list = field(default_factory=list)     # the steps (or model inputs) whose tensors it is fed

    @property
    def children(self) -> list:
        """The first copy's Steps and Groups, as the summary table lists them."""
        return self.copies[0] if self.copies else []
    once: set = field(default_factory=set)         # steps whose weights are not multiplied


@dataclass
class Plan:
    model: object
    evaluation: object
    inputs: list              # (name, shape, dtype) of the model's inputs
    steps: list               # every Step, in the order they run
    top: list                 # the model's rows as Steps and Groups, as a summary lists them
    outputs: list             # names of the steps whose tensors the model returns
    symbolic: bool = False    # its sizes are Sizes, remembering their formulas

    def groups(self, entries=None):
        """Every Group, nested ones included."""
        for entry in self.top if entries is None else entries:
            if isinstance(entry, Group):
                yield entry
                for body in entry.copies:
                    yield from self.groups(body)


def identifier(name: str) -> str:
    """A row name as a Python identifier: `x@2` -> `x_2`."""
    text = re.sub(r"\W", "_", name)
    return text if text and not text[0].isdigit() else "_" + text


def concrete(value, evaluation, symbolic: bool = False):
    """A configuration value with its sizes evaluated: sympy sizes become ints (Sizes remembering
    their formula, if `symbolic`), tuples stay tuples."""
    if isinstance(value, tuple):
        return tuple(concrete(v, evaluation, symbolic) for v in value)
    if isinstance(value, LayerInstance):      # a wrapped layer (bidirectional's RNN)
        return replace(value, config={k: concrete(v, evaluation, symbolic) for k, v in value.config.items()})
    if isinstance(value, sp.Basic):
        number = evaluation.number(value)
        if not isinstance(number, int):
            return value
        return sized(number, value) if symbolic else number
    return value


class _Planner:
    """Walks the model's graph. `tensors` maps a Tensor (by id) to the step or input that makes it;
    `built` maps a Weights to the step that built it, so a node applying weights made elsewhere
    (a shared instance, a block applied again, a repeat body's instance made outside it) reuses
    that step's layer, and a tied layer finds the matrix it borrows."""

    def __init__(self, evaluation, unroll_limit, symbolic):
        self.ev = evaluation
        self.unroll_limit = unroll_limit
        self.symbolic = symbolic
        self.steps: list[Step] = []
        self.taken: set[str] = set()

    def unique(self, name: str) -> str:
        base = identifier(name)
        text, k = base, 2
        while text in self.taken:
            text, k = f"{base}_{k}", k + 1
        self.taken.add(text)
        return text

    def shape(self, shape) -> tuple:
        numbers = self.ev.shape(shape)
        if not self.symbolic:
            return numbers
        return tuple(n if n is None else sized(n, axis) for n, axis in zip(numbers, shape))

    def nodes(self, nodes, tensors: dict, built: ChainMap, prefix: str = "", kept: dict | None = None) -> list:
        """Plan `nodes`; a layer whose weights exist once however often a repeat runs registers them
        in `kept` (the repeat's scope) rather than in this copy's own."""
        return [self.node(n, tensors, built, prefix, kept) for n in nodes]

    def node(self, node, tensors: dict, built: ChainMap, prefix: str, kept):
        if node.body is not None:
            return self.group(node, tensors, built, prefix, kept)
        step = Step(node, self.unique(prefix + node.name), [tensors[id(t)] for t in node.inputs],
                    {k: concrete(v, self.ev, self.symbolic) for k, v in node.config.items()},
                    [self.shape(s) for s in node.input_shapes], self.shape(node.shape))
        step.owner = built.get(node.weights)
        if node.tied is not None:
            step.tied = built.get(node.tied)
        step.frozen = node.frozen and step.owner is None    # a reused layer is frozen where it is made
        if step.owner is None:
            (kept if kept is not None else built)[node.weights] = step.name
        self.steps.append(step)
        tensors[id(node.output)] = step.name
        return step

    def group(self, node, tensors: dict, built: ChainMap, prefix: str, kept) -> Group:
        body = node.body
        count = 1 if node.count is None else self.ev.number(node.count)
        copies = count if count <= self.unroll_limit else 1
        name = self.unique(prefix + node.name)
        group = Group(node, name, output="", multiplier=count // copies if copies else 0,
                      inputs=[tensors[id(t)] for t in node.inputs])
        if not copies:     # repeated 0 times at these values: the input passes through
            tensors[id(node.output)] = group.output = tensors[id(node.inputs[0])]
            return group
        inner = dict(tensors)
        inner.update((id(b), tensors[id(t)]) for b, t in zip(body.inputs, node.inputs))
        repeated = node.kind == "repeat"
        for k in range(copies):
            start = len(self.steps)
            # Each copy of a repeat's body has weights of its own, but for those made outside it.
            scope = built.new_child() if repeated else built
            entries = []
            for child in body.nodes:
                once = repeated and child in body.once
                entries.append(self.node(child, inner, scope, f"{name}_{k + 1}_" if copies > 1 else f"{name}_",
                                         built if once else (None if repeated else kept)))
                if once and k == 0:
                    group.once.add(entries[-1].name)
            group.steps += [s.name for s in self.steps[start:]]
            group.copies.append(entries)
            group.output = inner[id(body.output)]
            if repeated:
                inner[id(body.inputs[0])] = group.output     # the next copy reads this one's output
        tensors[id(node.output)] = group.output
        return group


def make_plan(model, values: dict | None = None, unroll_limit: int = UNROLL_LIMIT, symbolic: bool = False) -> Plan:
    """`symbolic`: every size of the steps is a Size remembering its formula in the model's
    symbols (export writes the formulas; verify builds with the numbers)."""
    ev = model.evaluate(values)
    planner = _Planner(ev, unroll_limit, symbolic)
    tensors = {}
    inputs = []
    for t in model.inputs:
        tensors[id(t)] = planner.unique(t.source)
        inputs.append((tensors[id(t)], planner.shape(t.shape), t.dtype))
    top = planner.nodes(model.graph.nodes, tensors, ChainMap())
    return Plan(model, ev, inputs, planner.steps, top, [tensors[id(t)] for t in model.outputs], symbolic)
