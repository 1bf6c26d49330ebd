"""`export --to torch` with the model's own structure: a block becomes an nn.Module class, a
repeat an nn.ModuleList run in a loop, so GPT-2 reads as a person would write it.

It reads a plan made with every repeat built once (`unroll_limit=1`): a Group's first copy is
its body, its multiplier the number of modules in the list. The layer calls are verify's own
(torch_builder.layer_call), so what is exported is what verify checks. Where weights cross a
module's boundary (an instance made outside a repeat's body, a matrix tied across blocks)
the classes cannot hold them: `structured` returns None and `flat_source` writes one module.

Nothing here imports torch, so export prints source on a machine without it: the glue classes are
copied from torch_glue.py's text, and only keyword arguments equal to a constructor's default are
kept there (with torch installed they are left out, as a person would write the call).
"""
from __future__ import annotations

import ast
from pathlib import Path

from .codegen import Scope, Unstructured, body_params, count_text, signature
from .make import NoCounterpart, describe_each
from .plan import Group, identifier
from .torch_builder import layer_call

_OPERATORS = {"add": "+", "subtract": "-", "multiply": "*"}
# Names the written code uses itself, which a layer's variable must not take.
RESERVED = {"self", "torch", "nn", "layer", "super"}


def class_name(name: str) -> str:
    """`gpt_layer` -> `GptLayer`."""
    return "".join(part[:1].upper() + part[1:] for part in name.split("_") if part) or "Block"


class _Scope(Scope):
    """One class being written: its attributes, its forward's lines, the local name of each tensor."""

    def __init__(self, params: list):
        super().__init__(params, RESERVED)
        self.init, self.forward = [], []
        self.module = {}                    # a step's name, or a block Node, -> the attribute holding it
        self.symbols = set()                # the model's symbols its sizes are written in


class _Writer:
    def __init__(self, plan, layer_call, namespace):
        self.plan, self.layer_call, self.namespace = plan, layer_call, namespace
        self.classes: dict[str, list] = {}     # class name -> its lines, in the order written
        self.paths: set = set()                # dotted names the calls use (glue classes to copy)
        self.by_name = {s.name: s for s in plan.steps}
        self.order = list(plan.model.symbols.values())     # the header's order, for signatures

    def body(self, entries, params: list) -> _Scope:
        scope = _Scope(params)
        for entry in entries:
            if isinstance(entry, Group):
                self.group(entry, scope)
            else:
                self.step(entry, scope)
        return scope

    def step(self, step, scope: _Scope) -> None:
        inputs = [scope.read(i) for i in step.inputs]
        out = scope.fresh(step.row.name)
        scope.local[step.name] = out
        op = _OPERATORS.get(step.kind)
        # torch's own `*` aligns the batch axis too, so tensors of different ranks go through Merge.
        if op and len(inputs) == 2 and len({len(shape) for shape in step.input_shapes}) == 1:
            scope.forward.append(f"        {out} = {f' {op} '.join(inputs)}")
            return
        if step.owner is not None:          # the same instance applied again
            if step.owner not in scope.module:
                raise Unstructured(step.name)
            scope.forward.append(f"        {out} = self.{scope.module[step.owner]}({', '.join(inputs)})")
            return
        try:
            call = self.layer_call(step)
        except NoCounterpart as e:
            raise NoCounterpart(f"layer {step.row.name}: {e}") from None
        self.paths |= call.paths()
        scope.symbols |= call.symbols()
        scope.module[step.name] = out
        scope.init.append(f"        self.{out} = {call.source(self.namespace)}")
        if step.frozen:                     # before tying: a frozen tied layer freezes its own weights
            scope.init.append(f"        self.{out}.requires_grad_(False)")
        if step.tied:
            if step.tied not in scope.module:
                raise Unstructured(step.name)
            scope.init.append(f"        {_linear(out, call)}.weight = "
                              f"{_linear(scope.module[step.tied], self.layer_call(self.by_name[step.tied]), True)}.weight")
        scope.forward.append(f"        {out} = self.{out}({', '.join(inputs)})")

    def group(self, group, scope: _Scope) -> None:
        node = group.row
        if group.once or not group.copies:
            raise Unstructured(group.name)
        params = self.params(group)
        args = ", ".join(scope.read(outer) for outer, _ in params)
        out = scope.fresh(node.name)
        if node.reapplies is not None:      # a block instance applied again: the same module
            if node.reapplies not in scope.module:
                raise Unstructured(group.name)
            scope.forward.append(f"        {out} = self.{scope.module[node.reapplies]}({args})")
        else:
            if node.kind == "repeat":
                n = count_text(group, self.plan, scope.symbols)
                rest = "".join(f", {scope.read(outer)}" for outer, _ in params[1:])
                scope.init.append(f"        self.{out} = nn.ModuleList([{self.repeated(group, params, scope)} "
                                  f"for _ in range({n})])")
                scope.forward += [f"        {out} = {scope.read(params[0][0])}",
                                  f"        for layer in self.{out}:",
                                  f"            {out} = layer({out}{rest})"]
            else:
                scope.init.append(f"        self.{out} = {self.write_class(node, group, params, scope)}")
                scope.forward.append(f"        {out} = self.{out}({args})")
            scope.module[node] = out
        scope.local[group.output] = out

    def params(self, group) -> list:
        return body_params(group, self.by_name, RESERVED)

    def repeated(self, group, params, scope) -> str:
        """The module a repeat's list holds: its block's class or its one layer, if that is all the
        body is; else a class of the body's own."""
        body, outer = group.copies[0], [o for o, _ in params]
        if len(body) == 1:
            (entry,) = body
            # A body reading the repeat's tensors in the repeat's order (x, then a decoder's memory).
            if isinstance(entry, Group) and entry.row.kind == "block" and entry.row.reapplies is None \
                    and [o for o, _ in self.params(entry)] == outer:
                return self.write_class(entry.row, entry, self.params(entry), scope)
            if not isinstance(entry, Group) and entry.owner is None and not entry.tied and not entry.frozen \
                    and entry.inputs == outer:
                call = self.layer_call(entry)
                self.paths |= call.paths()
                scope.symbols |= call.symbols()
                return call.source(self.namespace)
        return self.write_class(group.row, group, params, scope)

    def write_class(self, node, group, params, outer) -> str:
        """The class of a body, and its construction as `outer` writes it: `GptLayer(d, h)`, the
        model's symbols the body's sizes use passed on."""
        scope = self.body(group.copies[0], params)
        used = [str(s) for s in self.order if s in scope.symbols]
        outer.symbols |= scope.symbols
        lines = _class_lines(scope, [p for _, p in params], scope.read(group.output), arguments=used)
        for name, existing in self.classes.items():
            if existing == lines:
                return f"{name}({', '.join(used)})"
        base = class_name(node.type if node.kind == "block" else f"{node.name}_body")
        name, k = base, 2
        while name in self.classes:
            name, k = f"{base}{k}", k + 1
        self.classes[name] = lines
        return f"{name}({', '.join(used)})"


def _class_lines(scope: _Scope, params: list, returned: str, doc: str | None = None,
                 arguments: list = ()) -> list:
    lines = [f'    """{doc}"""', ""] if doc else []
    signature = "".join(f", {a}" for a in arguments)
    return lines + [f"    def __init__(self{signature}):", "        super().__init__()", *scope.init, "",
                    f"    def forward(self, {', '.join(params)}):", *scope.forward, f"        return {returned}"]


def _linear(attribute: str, call, table: bool = False) -> str:
    """`self.name`, or `self.name[i]` when the weight sits in the i-th module of a Sequential."""
    if call.path != "nn.Sequential":
        return f"self.{attribute}"
    kinds = ("nn.Linear", "nn.Embedding") if table else ("nn.Linear",)
    index = next(i for i, part in enumerate(call.args) if part.path in kinds)
    return f"self.{attribute}[{index}]"


def structured(plan, top_name: str, doc: str, layer_call, namespace) -> tuple[list, set] | None:
    """The classes (lines each, the model's own last) and the dotted names their calls use; None
    where the model's weights cross a module boundary."""
    writer = _Writer(plan, layer_call, namespace)
    inputs = [(name, identifier(name)) for name, _, _ in plan.inputs]
    try:
        scope = writer.body(plan.top, inputs)
        returned = ", ".join(scope.read(name) for name in plan.outputs)
    except Unstructured:
        return None
    classes = [[f"class {name}(nn.Module):", *lines] for name, lines in writer.classes.items()]
    classes.append([f"class {top_name}(nn.Module):",
                    *_class_lines(scope, [p for _, p in inputs], returned, doc, signature(plan))])
    return classes, writer.paths


def _namespace() -> dict | None:
    """torch's names, for leaving out keyword arguments equal to the defaults; None without torch."""
    try:
        from .torch_network import NAMESPACE
    except ImportError:
        return None
    return NAMESPACE


def _preamble(used: set) -> list:
    """The imports, and the glue classes the calls use (copied from torch_glue.py's own text, so the
    source stands alone and torch need not be imported to write it)."""
    text = Path(__file__).with_name("torch_glue.py").read_text()
    classes = [node for node in ast.parse(text).body if isinstance(node, ast.ClassDef)]
    glue = {node.name for node in classes}
    # and the glue a used class builds (MixtureOfExperts's GatedMLP experts), defined above it
    built = {n.id for node in classes if node.name in used for n in ast.walk(node) if isinstance(n, ast.Name)}
    lines = ["import torch", "from torch import nn", ""]
    for node in classes:
        if node.name in used or node.name in built & glue:
            lines += ["", ast.get_source_segment(text, node).rstrip(), ""]
    return lines


def structured_source(plan, class_name: str) -> str | None:
    """The model as nn.Module classes, a block one class and a repeat an nn.ModuleList, from a plan
    whose repeats are built once; None where weights cross a module boundary (then `source`)."""
    doc = _doc(plan)
    written = structured(plan, class_name, doc, layer_call, _namespace())
    if written is None:
        return None
    classes, used = written
    lines = _preamble(used)
    for cls in classes:
        lines += ["", *cls, ""]
    return "\n".join(lines[:-1]) + "\n"


def flat_source(plan, class_name: str) -> str:
    """The nn.Module the builder makes, one attribute per layer, as Python source a user can train from."""
    made, missing = describe_each(plan, layer_call)
    namespace = _namespace()
    if missing:
        name, reason = next(iter(missing.items()))
        raise NoCounterpart(f"layer {name}: {reason}")
    used = set().union(*(call.paths() for call in made.values())) if made else set()
    lines = _preamble(used)
    args = ", ".join(name for name, _, _ in plan.inputs)
    lines += ["", f"class {class_name}(nn.Module):",
              f'    """{_doc(plan)}"""', "",
              f"    def __init__(self{''.join(', ' + a for a in signature(plan))}):", "        super().__init__()"]
    for name, call in made.items():
        lines.append(f"        self.{name} = {call.source(namespace)}")
    for step in plan.steps:
        if step.frozen and step.name in made:    # before tying, as build() does
            lines.append(f"        self.{step.name}.requires_grad_(False)")
        if step.tied and step.name in made:
            lines.append(f"        {_linear(step.name, made[step.name])}.weight = "
                         f"{_linear(step.tied, made[step.tied], True)}.weight")
    lines += ["", f"    def forward(self, {args}):"]
    for step in plan.steps:
        lines.append(f"        {step.name} = self.{step.owner or step.name}({', '.join(step.inputs)})")
    outputs = ", ".join(plan.outputs)
    lines.append(f"        return {outputs}")
    return "\n".join(lines) + "\n"


def _doc(plan) -> str:
    if plan.symbolic:
        return f"{plan.model.name}, its sizes in its symbols (written by `symparams export`)."
    setting = ", ".join(f"{k}={v}" for k, v in plan.evaluation.values.items()) or "its defaults"
    return f"{plan.model.name} at {setting} (written by `symparams export`)."
