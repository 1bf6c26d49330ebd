"""A constructor call held as data, so that one description is both built and printed.

The builders describe each layer as, say, `Make("nn.Conv2d", 3, 32, kernel_size=(3, 3))`.
`verify` instantiates it; `export` prints it. What a user exports is therefore exactly what
was checked.
"""
from __future__ import annotations

import inspect

from ..sized import Size


class NoCounterpart(Exception):
    """The framework has no module for this layer (or this configuration of it)."""


def describe_each(plan, describe) -> tuple[dict, dict]:
    """`describe(step)` for each row that owns its weights, and the reason for each row the
    framework cannot build; a row sharing another's weights inherits its owner's reason."""
    made, missing = {}, {}
    for step in plan.steps:
        if step.owner:
            if step.owner in missing:
                missing[step.name] = missing[step.owner]
            continue
        try:
            made[step.name] = describe(step)
        except NoCounterpart as e:
            missing[step.name] = str(e)
    return made, missing


def declared_in_language(spec) -> bool:
    """A layer the user (or catalog/prelude.sp) declared by its formulas in the language."""
    return spec.fn.__module__ == "symparams.catalog.declared"


def declared_module(step, framework: str, prefix: str) -> list:
    """The framework module a declared layer names (`torch = Linear(n, units)` in its body), or
    NoCounterpart: a declared layer without one has nothing to be compared with."""
    declaration = step.row.spec.fn.declaration
    if framework not in declaration.modules:
        raise NoCounterpart(f"declared by its formulas in the language, naming no {framework} module "
                            f"(add `{framework} = ...` to its body to check it)")
    name, args, kwargs = declaration.module_call(framework, step.input_shapes, step.config)
    return [Make(f"{prefix}{name}", *[plain(a) for a in args], **{k: plain(v) for k, v in kwargs.items()})]


def plain(value):
    """A value of the language as Python: whole numbers as int, other numbers as float, words as str."""
    from ..values import Word
    if isinstance(value, tuple):
        return tuple(plain(v) for v in value)
    if isinstance(value, Word):
        return value.name
    if isinstance(value, bool) or not hasattr(value, "is_Integer"):
        return value
    return int(value) if value.is_Integer else float(value)


class Make:
    def __init__(self, path: str, *args, **kwargs):
        self.path = path          # dotted name inside a namespace: "nn.Conv2d", "layers.Dense", "glue.Merge"
        self.args = args
        self.kwargs = kwargs

    def __repr__(self):
        return f"Make({self.source()})"

    def target(self, namespace: dict):
        head, *rest = self.path.split(".")
        target = namespace[head]
        for part in rest:
            target = getattr(target, part)
        return target

    def build(self, namespace: dict):
        args = [_build(a, namespace) for a in self.args]
        kwargs = {k: _build(v, namespace) for k, v in self.kwargs.items()}
        return self.target(namespace)(*args, **kwargs)

    def source(self, namespace: dict | None = None) -> str:
        """The call as Python; given the namespace, keyword arguments equal to the constructor's
        defaults are left out, so the source reads as a person would write it."""
        defaults = _defaults(self.target(namespace)) if namespace else {}
        kwargs = {k: v for k, v in self.kwargs.items()
                  if not (k in defaults and type(defaults[k]) is type(v) and defaults[k] == v)}
        parts = [_source(a, namespace) for a in self.args] + [f"{k}={_source(v, namespace)}" for k, v in kwargs.items()]
        return f"{self.path}({', '.join(parts)})"

    def symbols(self) -> set:
        """The model's symbols the call's sizes are written in (a plan made `symbolic`)."""
        return _symbols(list(self.args) + list(self.kwargs.values()))

    def paths(self) -> set:
        """Every dotted name the call uses, nested calls included (export imports what they need)."""
        out = {self.path}
        for a in list(self.args) + list(self.kwargs.values()):
            if isinstance(a, Make):
                out |= a.paths()
        return out


class Partial(Make):
    """A function with keyword arguments fixed, as data: built as functools.partial, printed as a
    lambda (`lambda x: keras.activations.gelu(x, approximate=True)`), where a framework takes a
    function (Keras's activation=) and its name alone would mean other arguments."""

    def __init__(self, path: str, **kwargs):
        super().__init__(path, **kwargs)

    def build(self, namespace: dict):
        import functools
        return functools.partial(self.target(namespace), **{k: _build(v, namespace) for k, v in self.kwargs.items()})

    def source(self, namespace: dict | None = None) -> str:
        keywords = "".join(f", {k}={_source(v, namespace)}" for k, v in self.kwargs.items())
        return f"lambda x: {self.path}(x{keywords})"


class Call:
    """A builder that is one constructor call of the entry's own arguments, as a table row:
    `Call("nn.Embedding", "input_dim", "output_dim", padding_idx="padding_idx")` builds
    Make("nn.Embedding", config["input_dim"], config["output_dim"], padding_idx=config["padding_idx"]):
    positional names are the entry's arguments passed in order, keywords the class's, each naming
    the entry's argument it takes."""

    def __init__(self, path: str, *args: str, **kwargs: str):
        self.path, self.args, self.kwargs = path, args, kwargs

    def __call__(self, step) -> list:
        cfg = step.config
        return [Make(self.path, *(cfg[a] for a in self.args), **{k: cfg[v] for k, v in self.kwargs.items()})]


class Missing:
    """A table row for an entry the framework has no module for: verify reports the reason, never a pass."""

    def __init__(self, reason: str):
        self.reason = reason

    def __call__(self, step):
        raise NoCounterpart(self.reason.format(kind=step.kind))


def _symbols(values) -> set:
    out = set()
    for v in values:
        if isinstance(v, Make):
            out |= v.symbols()
        elif isinstance(v, (list, tuple)):
            out |= _symbols(v)
        elif isinstance(v, Size):
            out |= v.formula.free_symbols
    return out


def _build(value, namespace):
    if isinstance(value, Make):
        return value.build(namespace)
    if isinstance(value, list):
        return [_build(v, namespace) for v in value]
    return value


def _source(value, namespace=None) -> str:
    if isinstance(value, Make):
        return value.source(namespace)
    if isinstance(value, list):
        return "[" + ", ".join(_source(v, namespace) for v in value) + "]"
    return repr(value)


def _defaults(target) -> dict:
    try:
        parameters = inspect.signature(target).parameters.values()
    except (TypeError, ValueError):
        return {}
    return {p.name: p.default for p in parameters if p.default is not inspect.Parameter.empty}
