"""`export --to keras` with the model's own structure: a block becomes a Python function that
makes its layers and calls them, a repeat a loop calling it, as Keras' own applications are
written (keras.applications' `stack`/`block` functions).

Like torch_source, it reads a plan whose repeats are built once and the builder's own layer
chains (keras_builder.layer_chain), and returns None where weights cross a function's boundary
(a block instance applied twice, an instance made outside a repeat's body): a function makes
new layers at every call, so `flat_source` writes the flat functional model instead. Nothing here
imports Keras: without it, keyword arguments equal to a layer's defaults are kept in the calls.
"""
from __future__ import annotations

from .codegen import Scope, Unstructured, body_params, count_text, signature
from .keras_builder import LIST_INPUTS, layer_chain
from .make import NoCounterpart, describe_each
from .plan import Group, identifier


RESERVED = {"keras", "layers", "model", "range", "build"}


class _Scope(Scope):
    def __init__(self, params: list, indent: str, reserved: set):
        super().__init__(params, reserved)
        self.lines, self.indent = [], indent
        self.layer = {}                       # a step's name -> the variable holding its layer
        self.symbols = set()                  # the model's symbols its sizes are written in

    def say(self, line: str) -> None:
        self.lines.append(self.indent + line)


class _Writer:
    def __init__(self, plan, namespace):
        self.plan, self.namespace = plan, namespace
        self.functions: dict[str, tuple] = {}    # placeholder -> (name wanted, lines)
        self.locals: set = set()                   # every variable name the source uses
        self.by_name = {s.name: s for s in plan.steps}
        # Steps whose layer is called again or frozen need it in a variable of its own.
        self.kept = {s.owner for s in plan.steps if s.owner} | {s.name for s in plan.steps if s.frozen}
        self.order = list(plan.model.symbols.values())
        # A function's tensors share its scope with the symbols it takes: they get other names.
        self.reserved = RESERVED | (set(plan.model.symbols) if plan.symbolic else set())

    def body(self, entries, params, indent) -> _Scope:
        scope = _Scope(params, indent, self.reserved)
        for entry in entries:
            (self.group if isinstance(entry, Group) else self.step)(entry, scope)
        return scope

    def chain(self, step, scope) -> list:
        if step.tied:
            raise NoCounterpart(f"layer {step.row.name}: Keras's Dense cannot reuse another layer's weight "
                                "matrix (tied=)")
        try:
            calls = layer_chain(step)
        except NoCounterpart as e:
            raise NoCounterpart(f"layer {step.row.name}: {e}") from None
        for call in calls:
            scope.symbols |= call.symbols()
        return [call.source(self.namespace) for call in calls]

    def step(self, step, scope: _Scope) -> None:
        x = ", ".join(scope.read(i) for i in step.inputs)
        if step.kind in LIST_INPUTS:
            x = f"[{x}]"
        out = scope.fresh(step.row.name)
        if step.owner is not None:
            if step.owner not in scope.layer:
                raise Unstructured(step.name)
            calls = [scope.layer[step.owner]]
        else:
            calls = self.chain(step, scope)
            if step.name in self.kept:
                variable = scope.fresh(f"{step.row.name}_layer")
                scope.say(f"{variable} = {calls[-1]}")
                if step.frozen:
                    scope.say(f"{variable}.trainable = False")
                scope.layer[step.name] = calls[-1] = variable
        for call in calls:
            x = f"{call}({x})"
        scope.say(f"{out} = {x}")
        scope.local[step.name] = out

    def group(self, group, scope: _Scope) -> None:
        node = group.row
        if group.once or not group.copies or node.reapplies is not None or \
                any(s in self.kept for s in group.steps if self.by_name[s].owner is None and
                    any(o.owner == s for o in self.plan.steps if o.name not in group.steps)):
            raise Unstructured(group.name)
        params = self.params(group)
        out = scope.fresh(node.name)
        if node.kind == "repeat":
            n = count_text(group, self.plan, scope.symbols)
            function, sizes = self.repeated(group, params, scope)
            rest = "".join(f", {scope.read(o)}" for o, _ in params[1:]) + "".join(f", {s}" for s in sizes)
            scope.say(f"{out} = {scope.read(params[0][0])}")
            scope.say(f"for _ in range({n}):")
            scope.say(f"    {out} = {function}({out}{rest})")
        else:
            function, sizes = self.function(node, group, params, scope)
            args = ", ".join([scope.read(o) for o, _ in params] + sizes)
            scope.say(f"{out} = {function}({args})")
        scope.local[group.output] = out

    def params(self, group) -> list:
        return body_params(group, self.by_name, self.reserved)

    def repeated(self, group, params, outer) -> tuple:
        body = group.copies[0]
        if len(body) == 1 and isinstance(body[0], Group) and body[0].row.kind == "block":
            inner = self.params(body[0])     # the block, if it reads the repeat's tensors in their order
            if [o for o, _ in inner] == [o for o, _ in params]:
                return self.function(body[0].row, body[0], inner, outer)
        return self.function(group.row, group, params, outer)

    def function(self, node, group, params, outer) -> tuple:
        """A placeholder for the function of this body (an identical one is reused), and the
        model's symbols it takes after its tensors; `names` turns placeholders into names once
        every local name is known, so none shadows a function."""
        scope = self.body(group.copies[0], params, "    ")
        self.locals |= scope.taken
        sizes = [str(s) for s in self.order if s in scope.symbols]
        outer.symbols |= scope.symbols
        lines = [f"({', '.join([p for _, p in params] + sizes)}):", *scope.lines,
                 f"    return {scope.read(group.output)}"]
        for key, (_, existing) in self.functions.items():
            if existing == lines:
                return key, sizes
        key = f"\0{len(self.functions)}\0"
        self.functions[key] = (identifier(node.type if node.kind == "block" else f"{node.name}_body"), lines)
        return key, sizes

    def names(self) -> dict:
        taken, names = set(self.locals), {}
        for key, (base, _) in self.functions.items():
            name, k = base, 2
            while name in taken:
                name, k = f"{base}_{k}", k + 1
            taken.add(name)
            names[key] = name
        return names


def structured(plan, input_line, dtype) -> list | None:
    """The source's lines after its imports: one function per distinct block body, then the model;
    None where the model's weights cross a function's boundary."""
    writer = _Writer(plan, _namespace())
    inputs = [(name, identifier(name)) for name, _, _ in plan.inputs]
    try:
        scope = writer.body(plan.top, inputs, "    " if plan.symbolic else "")
        outs = [scope.read(name) for name in plan.outputs]
    except Unstructured:
        return None
    if not writer.functions:
        return None            # nothing to structure: the flat model is the same code
    writer.locals |= scope.taken
    lines = []
    for key, (_, body) in writer.functions.items():
        lines += ["", "", f"def {key}{body[0]}", *body[1:]]
    lines += ["", ""]
    ins = inputs[0][1] if len(inputs) == 1 else "[" + ", ".join(p for _, p in inputs) + "]"
    outs_text = outs[0] if len(outs) == 1 else "[" + ", ".join(outs) + "]"
    model = [input_line(local, shape, dtype(kind)) for (_, shape, kind), (_, local) in zip(plan.inputs, inputs)]
    lines += _model_lines(plan, model, scope.lines, f"keras.Model({ins}, {outs_text}, name={plan.model.name!r})")
    names = writer.names()
    out = []
    for line in lines:
        for key, name in names.items():
            line = line.replace(key, name)
        out.append(line)
    return out


def _header(plan) -> list:
    if plan.symbolic:
        about = f"# {plan.model.name}, its sizes in its symbols: build()'s parameters (written by `symparams export`)"
    else:
        about = (f"# {plan.model.name} at {', '.join(f'{k}={v}' for k, v in plan.evaluation.values.items())} "
                 "(written by `symparams export`)")
    return ["import keras", "from keras import layers", "", about]


def _model_lines(plan, inputs: list, body: list, model: str) -> list:
    """The lines making the model: at numbers, at the top level; with its symbols, the body of
    `def build(V=50257, ...)` returning it, then `model = build()`."""
    if not plan.symbolic:
        return inputs + body + [f"model = {model}"]
    return [f"def build({', '.join(signature(plan))}):", *("    " + line for line in inputs), *body,
            f"    return {model}", "", "", "model = build()"]


def _namespace() -> dict | None:
    """Keras's names, for leaving out keyword arguments equal to the defaults; None without Keras."""
    try:
        import keras
    except ImportError:
        return None
    return {"layers": keras.layers, "keras": keras}


def dtype_name(dtype) -> str:
    return "int32" if dtype == "int" else "float32"


def named_chain(step) -> list:
    """The step's layers, the last named as the step (Keras's names are unique in a model)."""
    if step.tied:
        raise NoCounterpart("Keras's Dense cannot reuse another layer's weight matrix (tied=)")
    chain = layer_chain(step)
    chain[-1].kwargs["name"] = step.name
    return chain


def structured_source(plan) -> str | None:
    """The functional model with a function per block and a loop per repeat, from a plan whose
    repeats are built once; None where weights cross a function's boundary (then `source`)."""
    lines = structured(
        plan, lambda name, shape, dtype: f"{name} = keras.Input(shape={shape!r}, dtype={dtype!r}, name={name!r})",
        dtype_name)
    if lines is None:
        return None
    return "\n".join(_header(plan) + lines) + "\n"


def flat_source(plan) -> str:
    """The Keras functional model the builder makes, one line per layer, as Python source."""
    made, missing = describe_each(plan, named_chain)
    namespace = _namespace()
    if missing:
        name, reason = next(iter(missing.items()))
        raise NoCounterpart(f"layer {name}: {reason}")
    reused = {s.owner for s in plan.steps if s.owner} | {s.name for s in plan.steps if s.frozen}
    # A tensor's variable does not take a symbol's name (the symbols are build()'s parameters).
    clash = set(plan.model.symbols) if plan.symbolic else set()

    def var(name: str) -> str:
        return name + "_" if name in clash else name
    inputs, lines = [], []
    for name, shape, dtype in plan.inputs:
        inputs.append(f"{var(name)} = keras.Input(shape={shape!r}, dtype={dtype_name(dtype)!r}, name={name!r})")
    for step in plan.steps:
        key = step.owner or step.name
        chain = made[key]
        if step.name in reused:
            lines.append(f"{var(step.name + '_layer')} = {chain[-1].source(namespace)}")
            if step.frozen:
                lines.append(f"{var(step.name + '_layer')}.trainable = False")
        x = ", ".join(var(i) for i in step.inputs)
        if step.kind in LIST_INPUTS:
            x = f"[{x}]"
        calls = [c.source(namespace) for c in chain]
        if key in reused:
            calls[-1] = var(f"{key}_layer")
        for call in calls:
            x = f"{call}({x})"
        lines.append(f"{var(step.name)} = {x}")
    ins = var(plan.inputs[0][0]) if len(plan.inputs) == 1 else "[" + ", ".join(var(n) for n, _, _ in plan.inputs) + "]"
    outs = var(plan.outputs[0]) if len(plan.outputs) == 1 else "[" + ", ".join(var(o) for o in plan.outputs) + "]"
    indent = "    " if plan.symbolic else ""
    lines = _header(plan) + _model_lines(plan, inputs, [indent + line for line in lines],
                                         f"keras.Model({ins}, {outs}, name={plan.model.name!r})")
    return "\n".join(lines) + "\n"
