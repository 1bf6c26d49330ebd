"""A constructor call held as data, so that one description is both built and printed.

The builders describe each layer as, say, `Make("nn.Conv2d", 3, 32, kernel_size=(3, 3))`.
`verify` instantiates it; `export` prints it. What a user exports is therefore exactly what
was checked.
"""
from __future__ import annotations


class NoCounterpart(Exception):
    """The framework has no module for this layer (or this configuration of it)."""


def declared_in_language(spec) -> bool:
    """A layer the user (or catalog/prelude.sp) declared by its formulas: it has no framework module."""
    return spec.fn.__module__ == "symparams.declared"


class Make:
    def __init__(self, path: str, *args, **kwargs):
        self.path = path          # dotted name inside a namespace: "nn.Conv2d", "layers.Dense", "glue.Merge"
        self.args = args
        self.kwargs = kwargs

    def __repr__(self):
        return f"Make({self.source()})"

    def build(self, namespace: dict):
        head, *rest = self.path.split(".")
        target = namespace[head]
        for part in rest:
            target = getattr(target, part)
        args = [_build(a, namespace) for a in self.args]
        kwargs = {k: _build(v, namespace) for k, v in self.kwargs.items()}
        return target(*args, **kwargs)

    def source(self) -> str:
        parts = [_source(a) for a in self.args] + [f"{k}={_source(v)}" for k, v in self.kwargs.items()]
        return f"{self.path}({', '.join(parts)})"

    def paths(self) -> set:
        """Every dotted name the call uses, nested calls included (export imports what they need)."""
        out = {self.path}
        for a in list(self.args) + list(self.kwargs.values()):
            if isinstance(a, Make):
                out |= a.paths()
        return out


def _build(value, namespace):
    if isinstance(value, Make):
        return value.build(namespace)
    if isinstance(value, list):
        return [_build(v, namespace) for v in value]
    return value


def _source(value) -> str:
    if isinstance(value, Make):
        return value.source()
    if isinstance(value, list):
        return "[" + ", ".join(_source(v) for v in value) + "]"
    return repr(value)
