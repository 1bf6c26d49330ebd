"""A model at one setting of its symbols, as the steps a framework builder follows.

Framework-neutral. Every catalog layer application becomes a Step: its configuration evaluated
to plain numbers, the tensors it reads (`row.inputs`, resolved to step names), and whether it
reuses another step's layer (shared instance), another's matrix (tied=) or is frozen.

A block or repeat row becomes a Group over the steps of its body. A repeat whose count is small
at these values is built as that many copies; a larger one is built once and its counts
multiplied, as the formula does (UNROLL_LIMIT). Export unrolls every repeat (up to EXPORT_LIMIT
copies): a network to train needs all its layers.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field, replace

import sympy as sp

from ..values import LayerInstance

UNROLL_LIMIT = 8
EXPORT_LIMIT = 1000


@dataclass
class Step:
    row: object               # the model's Row
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
    """A block or repeat row, realised by the steps of its body."""
    row: object
    name: str
    output: str                       # the step whose tensor the group yields
    steps: list = field(default_factory=list)      # names of every step inside, all copies
    copies: list = field(default_factory=list)     # each built copy of the body: its Steps and Groups
    multiplier: int = 1               # a repeat built once stands for this many copies

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


class _Planner:
    def __init__(self, evaluation, unroll_limit):
        self.ev = evaluation
        self.unroll_limit = unroll_limit
        self.steps: list[Step] = []
        self.taken: set[str] = set()
        self.leaves: dict[str, list] = {}    # a block or repeat row's name -> its steps, in order

    def unique(self, name: str) -> str:
        base = identifier(name)
        text, k = base, 2
        while text in self.taken:
            text, k = f"{base}_{k}", k + 1
        self.taken.add(text)
        return text

    def rows(self, rows, tensors: dict, layers: dict, prefix: str = "", shared_with: dict | None = None,
             owners=None) -> list:
        """Plan `rows`. `tensors` maps row names to step names (updated as rows run), `layers` maps
        row names to the step owning their layer; `shared_with` maps once-only body rows of a later
        repeat copy to the first copy's steps; `owners` yields, in order, the steps of a block
        applied before whose weights these rows reuse (a block instance applied again)."""
        entries = []
        for row in rows:
            if row.spec is None:
                entries.append(self.group(row, tensors, layers, prefix, owners))
                continue
            step = Step(row, self.unique(prefix + row.name), [tensors[i] for i in row.inputs],
                        {k: concrete(v, self.ev) for k, v in row.config.items()},
                        [self.ev.shape(s) for s in row.input_shapes], self.ev.shape(row.output_shape))
            if row.shares is not None:
                step.owner = layers[row.shares]
            elif shared_with and row.name in shared_with:
                step.owner = shared_with[row.name]
            elif owners is not None:
                step.owner = next(owners, None)
            if row.tied_to is not None:
                step.tied = layers.get(row.tied_to)
            step.frozen = row.frozen and step.owner is None    # a reused layer is frozen where it is made
            self.steps.append(step)
            tensors[row.name] = layers[row.name] = step.name
            entries.append(step)
        return entries

    def group(self, row, tensors: dict, layers: dict, prefix: str, owners=None) -> Group:
        count = 1 if row.repeat_count is None else self.ev.number(row.repeat_count)
        copies = count if count <= self.unroll_limit else 1
        name = self.unique(prefix + row.name)
        group = Group(row, name, output="", multiplier=count // copies if copies else 0)
        if not copies:     # repeated 0 times at these values: the input passes through
            tensors[row.name] = layers[row.name] = group.output = tensors[row.inputs[0]]
            self.leaves[row.name] = []
            return group
        if row.shares is not None:   # the block applied again: its layers are the first application's
            owners = iter(self.leaves[row.shares])
        first_steps = {}
        source = row.inputs[0] if row.inputs else None
        inner_tensors = dict(tensors)
        inner_tensors.update(zip(row.body_inputs, (tensors[i] for i in row.inputs)))
        for k in range(copies):
            inner_layers = dict(layers)
            start = len(self.steps)
            once = {n: first_steps[n] for n in row.repeat_once if n in first_steps} if k else None
            entries = self.rows(row.children, inner_tensors, inner_layers, f"{name}_{k + 1}_" if copies > 1
                                else f"{name}_", once, owners)
            made = self.steps[start:]
            group.steps += [s.name for s in made]
            group.copies.append(entries)
            if k == 0:
                first_steps = {s.row.name: s.name for s in made}
                group.once = {first_steps[n] for n in row.repeat_once if n in first_steps}
            group.output = inner_tensors[row.output_row]
            if row.repeat_count is not None and source is not None:
                inner_tensors[source] = group.output     # the next copy reads this one's output
        tensors[row.name] = layers[row.name] = group.output
        self.leaves[row.name] = group.steps
        return group


def make_plan(model, values: dict | None = None, unroll_limit: int = UNROLL_LIMIT) -> Plan:
    ev = model.evaluate(values)
    planner = _Planner(ev, unroll_limit)
    tensors = {}
    inputs = []
    for t in model.inputs:
        tensors[t.source] = planner.unique(t.source)
        inputs.append((tensors[t.source], ev.shape(t.shape), t.dtype))
    top = planner.rows(model.rows, tensors, {})
    return Plan(model, ev, inputs, planner.steps, top, [tensors[t.source] for t in model.outputs])
