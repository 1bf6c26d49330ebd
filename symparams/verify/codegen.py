"""What both structured exporters (torch_source, keras_source) share: the names a written body
uses, and the tensors a block's or repeat's body reads from outside it."""
from __future__ import annotations

import keyword

from ..sized import python
from .plan import identifier


class Unstructured(Exception):
    """Weights or tensors cross a module's boundary: the plan is written flat instead."""


class Scope:
    """One body being written: the local name of each tensor, and the names already taken."""

    def __init__(self, params: list, reserved: set):
        self.local = dict(params)           # a step's (or input's) plan name -> its name in the code
        self.reserved = reserved
        self.taken = set(self.local.values()) | reserved

    def fresh(self, name: str) -> str:
        base = identifier(name)
        text, k = base, 2
        while text in self.taken or keyword.iskeyword(text):
            text, k = f"{base}_{k}", k + 1
        self.taken.add(text)
        return text

    def read(self, name: str) -> str:
        if name not in self.local:          # a tensor from outside this body
            raise Unstructured(name)
        return self.local[name]


def body_params(group, steps: dict, reserved: set) -> list:
    """(plan name outside, parameter name inside) of each tensor the body reads from outside: its
    inputs by the body's own names, then any other (a `repeat n:` body reading `mem`), once each."""
    node, made = group.row, set(group.steps)
    params = [(outer, safe(identifier(t.source), reserved)) for outer, t in zip(group.inputs, node.body.inputs)]
    for name in (i for s in group.steps for i in steps[s].inputs):
        if name not in made and name not in (o for o, _ in params):
            params.append((name, safe(identifier(name), reserved)))
    distinct, seen = [], set()
    for outer, inner in params:
        if outer not in seen:
            seen.add(outer)
            distinct.append((outer, inner))
    return distinct


def safe(name: str, reserved: set) -> str:
    """A parameter name that is neither a Python keyword nor a name the written code uses itself."""
    return name + "_" if keyword.iskeyword(name) or name in reserved else name


def count_text(group, plan, symbols: set) -> str:
    """How many times a repeat's body runs: its count's formula in the model's symbols (adding
    them to `symbols`) where the plan is symbolic, else the number."""
    count = group.row.count
    if plan.symbolic and count is not None and count.free_symbols:
        symbols |= count.free_symbols
        return python(count)
    return str(group.multiplier * len(group.copies))


def signature(plan) -> list:
    """The model's symbols as the written model's keyword parameters, their values the defaults
    (`d=768`); none where the plan is written at numbers."""
    if not plan.symbolic:
        return []
    values = {str(k): v for k, v in plan.evaluation.values.items()}
    return [f"{name}={values[name]}" for name in plan.model.symbols]


def symbolic_names_clash(model, reserved: set) -> bool:
    """A symbol the written code cannot take as a parameter name (a keyword, or a name the code
    uses itself): such a model is written at numbers."""
    return any(keyword.iskeyword(name) or name in reserved for name in model.symbols)
