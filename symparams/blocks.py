"""Blocks, repeats, shared, tied and frozen weights: the structure above single layers.

A block call runs the block's body in its own scope and becomes one graph node whose Body holds
the body's nodes. A repeat with a symbolic count derives its body once and multiplies: the
body must keep its input's shape, and the derivation costs the same for L = 12 and L = 10**9.
"""
from __future__ import annotations

import copy
from dataclasses import dataclass

import sympy as sp

from .catalog.registry import Bool
from itertools import zip_longest

from .catalog.declared import input_pattern, match_pattern
from .dims import agree, describe_condition, require_same_shape
from .errors import ArgumentError, Pos, ShapeError, SyntaxProblem, ValueProblem, did_you_mean
from .expressions import pos_of
from .graph import Body, Node
from .values import LayerInstance, Tensor, Word, format_shape

# A shape-changing body under a concrete count is unrolled, one derivation per repetition.
MAX_UNROLLED = 1000


@dataclass
class Block:
    """`block name(dims)(tensors): ... return expr` -- a sub-network with its own scope."""
    name: str
    params: list            # (name, default syntax tree or None)
    tensors: list           # names of its input tensors
    body: object
    pos: Pos | None
    patterns: list          # per tensor: (pattern items, its text), or None

    @classmethod
    def from_tree(cls, tree, source: str = "") -> "Block":
        name_tok, params, tensors, body = tree.children
        dims = [(str(p.children[0]), p.children[1]) for p in (params.children if params else [])]
        inputs = [i.children for i in (tensors.children if tensors else [])]
        names = [str(t) for t, _ in inputs]
        tokens = [p.children[0] for p in (params.children if params else [])] + [t for t, _ in inputs]
        seen = set()
        for tok in tokens:
            if str(tok) in seen:
                raise SyntaxProblem(f"block {name_tok} names '{tok}' twice", pos_of(tok))
            seen.add(str(tok))
        if not names:
            raise SyntaxProblem(f"block {name_tok} takes no tensor", pos_of(name_tok),
                                f"name its inputs after its sizes: block {name_tok}(d)(x):")
        patterns = [None if pattern is None else input_pattern(pattern, source, "the block's body")
                    for _, pattern in inputs]
        for items, _ in filter(None, patterns):
            for item in items:
                key = item.children[0] if item.data in ("name", "star") else None
                if key is not None and str(key) in names:
                    raise SyntaxProblem(f"block {name_tok}: '{key}' names a tensor and one of its sizes",
                                        pos_of(key))
        return cls(str(name_tok), dims, names, body, pos_of(name_tok), patterns)

    def sizes(self, inputs: list, args: dict, pos) -> tuple:
        """The sizes the input patterns bind for these tensors, beside the size arguments (a name
        given both must agree), and the conditions they hold under."""
        names, conditions = dict(args), []
        for tensor, pattern, x in zip(self.tensors, self.patterns, inputs):
            if pattern is not None:
                try:
                    match_pattern(f"block {self.name}", tensor, *pattern, tuple(x.shape), names, {}, conditions)
                except ShapeError as e:
                    e.pos = e.pos or pos
                    raise
        return names, conditions

    def usage(self) -> str:
        tensors = [t if p is None else f"{t}: {p[1]}" for t, p in zip(self.tensors, self.patterns)]
        return f"usage: {self.name}({', '.join(n for n, _ in self.params)})({', '.join(tensors)})"

    def bind(self, builder, args: list, kwargs: dict, pos) -> dict:
        """Values of the block's size arguments, defaults evaluated in the block's own scope."""
        if len(args) > len(self.params):
            raise ArgumentError(f"block {self.name} takes {len(self.params)} argument"
                                f"{'s' if len(self.params) != 1 else ''}, found {len(args)}", pos, self.usage())
        values = {}
        for (name, _), (value, p) in zip(self.params, args):
            values[name] = _block_argument(value, p)
        known = [n for n, _ in self.params]
        for key, (value, p) in kwargs.items():
            if key in ("name", "trainable"):
                continue
            if key not in known:
                raise ArgumentError(f"block {self.name} has no argument '{key}'", p,
                                    did_you_mean(key, known) or self.usage())
            if key in values:
                raise ArgumentError(f"block {self.name}'s {key} is given twice", p)
            values[key] = _block_argument(value, p)
        for name, default in self.params:
            if name in values:
                continue
            if default is None:
                raise ArgumentError(f"block {self.name} needs its '{name}' argument", pos, self.usage())
            values[name] = builder.body("block", dict(values)).eval(default)
        return {n: values[n] for n in known}


def _block_argument(value, pos):
    if isinstance(value, Tensor) or is_applicable(value):
        raise ArgumentError("a block's arguments are sizes or modes; its tensors go in the second "
                            "parentheses, as in blk(d)(x)", pos)
    return value


def is_applicable(value) -> bool:
    """Can this value be applied to tensors (a layer, block call or repeat)?"""
    return isinstance(value, (LayerInstance, BlockInstance, RepeatInstance))


@dataclass(eq=False)
class BlockInstance:
    """A block with its size arguments bound; applying one instance twice shares its weights."""
    block: Block
    args: dict
    pos: Pos | None
    binding: str | None = None
    owner: Node | None = None
    trainable: bool = True
    row_name: str | None = None
    typed_name: str = ""

    def apply(self, builder, inputs: list, pos):
        block = self.block
        if len(inputs) != len(block.tensors):
            raise ArgumentError(f"block {block.name} takes {len(block.tensors)} input tensor"
                                f"{'s' if len(block.tensors) != 1 else ''} ({', '.join(block.tensors)}), "
                                f"found {len(inputs)}", pos)
        if block.name in builder.calling:
            raise ArgumentError(f"block {block.name} calls itself", pos, "a block cannot contain itself")
        # Inside the body its input tensors go by the block's names for them, which no body row
        # takes: a body row may be named like a tensor outside (both `add_1`), and a row must say
        # unambiguously which one it reads.
        own = [Tensor(t.shape, name, t.dtype) for name, t in zip(block.tensors, inputs)]
        sizes, conditions = block.sizes(inputs, self.args, pos)
        builder.record(conditions, pos)
        child = builder.body("block", {**sizes, **dict(zip(block.tensors, own))}, own[0], calling=block.name,
                             row_names=block.tensors)
        child.run_body(block.body)
        out = child.returned if child.returned is not None else child.current
        node = Node(builder.auto_name(self), block.name, "block", list(inputs), tuple(out.shape), pos,
                    config=dict(self.args), body=Body(own, child.nodes, out))
        return node, out.dtype


@dataclass(eq=False)
class RepeatInstance:
    """`repeat(n, body)` or `repeat n:` over lines. A body bound to a name keeps one set of weights."""
    count: sp.Expr
    pos: Pos | None
    body: object = None        # a LayerInstance, BlockInstance or RepeatInstance
    lines: object = None       # or the syntax tree of `repeat n:`'s indented lines
    shared: bool = False
    binding: str | None = None
    owner: Node | None = None
    trainable: bool = True
    row_name: str | None = None
    typed_name: str = "repeat"

    def describe(self, builder) -> str:
        if isinstance(self.body, BlockInstance):
            return self.body.block.name
        if isinstance(self.body, LayerInstance):
            return builder.convention.layer_type(self.body.spec)
        return "repeat"

    def run_once(self, child, x: Tensor, others: list) -> Tensor:
        if self.lines is not None:
            child.current = x
            child.run_body(self.lines)
            return child.current
        body = self.body
        if not self.shared:   # each repetition has weights of its own
            body = copy.copy(body)
            body.owner = None
            child.created.add(id(body))
        return child.apply(body, [x, *others], self.pos)

    def check_inputs(self, builder, inputs: list, pos) -> None:
        """The first tensor runs through the repetitions, the others go to every one (a decoder's
        memory): the body must take as many."""
        names = self.tensor_names()
        if len(inputs) == len(names):
            return
        what, args = self.describe(builder), ", ".join(names)
        raise ArgumentError(f"this repeat is applied to {len(inputs)} tensor{'s' if len(inputs) != 1 else ''}, but "
                            f"{what} takes {len(names)}"
                            f"{f' ({args})' if isinstance(self.body, BlockInstance) else ''}: the first runs through "
                            f"the repetitions and the others are passed to every one", pos,
                            f"write repeat(L, {what}(...))({args}), or repeat lines: `repeat L:` over an "
                            f"indented line such as `{names[0]} = {what}(...)({args})`")

    def tensor_names(self) -> list:
        """The tensors the body takes: a block's by its names, a layer's as x and memory."""
        body = self.body
        if isinstance(body, BlockInstance):
            return list(body.block.tensors)
        if isinstance(body, RepeatInstance) and body.lines is None:
            return body.tensor_names()
        n = 1 if body.spec.variadic else body.spec.n_inputs
        return ["x", "memory"][:n] if n <= 2 else [f"x{k + 1}" for k in range(n)]

    def apply(self, builder, inputs: list, pos):
        if self.lines is None:
            self.check_inputs(builder, inputs, pos)
        x, others = inputs[0], list(inputs[1:])
        first = self.child(builder)
        y = self.run_once(first, x, others)
        kept = shape_kept(x.shape, y.shape)
        if self.count.is_Integer and kept is not True:
            return self.unrolled(builder, first, inputs, y, pos)
        if not self.count.is_Integer and kept is not True:
            try:
                conditions = require_same_shape([x.shape, y.shape], f"a repeat with a symbolic count "
                                                f"({self.count}) needs a body that keeps the shape; before and "
                                                f"after the body")
            except ShapeError as e:
                e.pos = e.pos or pos
                e.hint = (f"the body turns {format_shape(x.shape)} into {format_shape(y.shape)}; repeat it a "
                          "concrete number of times, or end the body with a tensor of its input's shape")
                raise
            builder.record(conditions, pos)
        if not self.count.is_Integer:      # (num_hidden_layers - 28 at 20 layers is no count)
            builder.record([(sp.Ge(self.count, 0), f"a repeat {self.count} times needs {self.count} >= 0")], pos)
        count = f"({self.count})" if self.count.is_Add else str(self.count)
        node = Node(builder.auto_name(self), f"{self.describe(builder)} × {count}", "repeat", list(inputs),
                    tuple(y.shape), pos, body=Body(list(inputs), first.nodes, y, frozenset(first.made_elsewhere)),
                    count=self.count)
        return node, y.dtype

    def unrolled(self, builder, first, inputs, y, pos):
        """A concrete count and a shape-changing body: one derivation per repetition."""
        n = int(self.count)
        if n > MAX_UNROLLED:
            raise ValueProblem(f"this repeat's body changes the shape, so its {n} repetitions would each be "
                               f"derived; at most {MAX_UNROLLED} are", pos,
                               "make the body keep its shape: then the repeat is multiplied, not unrolled")
        nodes, x, child = list(first.nodes), y, first
        for _ in range(n - 1):
            child = self.child(builder, child)
            x = self.run_once(child, x, list(inputs[1:]))
            nodes += child.nodes
        node = Node(builder.auto_name(self), f"{self.describe(builder)} × {n}", "repeat", list(inputs), tuple(x.shape),
                    pos, body=Body(list(inputs), nodes, x))
        return node, x.dtype

    def child(self, builder, previous=None):
        """The builder of one repetition. Repeated lines see the names the previous repetition bound:
        `x = grow(d)(x, memory)` reads the last repetition's x."""
        carried = previous.scope if previous is not None and self.lines is not None else builder.scope
        return builder.body("repeat", dict(carried))


def repeat_count(value, pos) -> sp.Expr:
    if isinstance(value, Word) and not value.quoted:
        raise ArgumentError(f"'{value.name}' is not a symbol here; a repeat count is a size", pos,
                            did_you_mean(value.name, value.candidates))
    if isinstance(value, bool) or not isinstance(value, sp.Expr) or value.is_integer is False:
        raise ArgumentError("a repeat count is a whole number or a symbol", pos)
    if value.is_number and value < 1:
        raise ArgumentError(f"a repeat count must be at least 1, found {value}", pos)
    return value


def make_repeat(builder, args: list, kwargs: dict, pos) -> RepeatInstance:
    """`repeat(n, body)`: the body is a layer or a block call (a bare name is a layer)."""
    for key, (_, p) in kwargs.items():
        if key not in ("name", "trainable"):
            raise ArgumentError(f"repeat has no argument '{key}'", p, "usage: repeat(n, block(...))(x)")
    if len(args) != 2:
        raise ArgumentError(f"repeat takes a count and a layer or block, found {len(args)} arguments", pos,
                            "usage: repeat(L, block(d))(x)")
    (count, count_pos), (body, body_pos) = args
    if isinstance(body, Word):
        body = builder.instance(body, [], {}, body_pos)
    if not is_applicable(body):
        raise ArgumentError("repeat's second argument is the layer or block to repeat", body_pos)
    inst = RepeatInstance(repeat_count(count, count_pos), pos, body=body, shared=body.binding is not None)
    configure(inst, kwargs)
    builder.created.add(id(inst))
    return inst


def apply_repeat_lines(builder, count, lines, x: Tensor, pos) -> Tensor:
    """`repeat n:` with indented lines, run on the current tensor."""
    inst = RepeatInstance(count, pos, lines=lines)
    builder.created.add(id(inst))
    return builder.apply(inst, [x], pos)


def configure(inst, kwargs: dict) -> None:
    """The keywords every layer, block and repeat takes: name= and trainable=."""
    if "name" in kwargs:
        value = kwargs["name"][0]
        inst.row_name = value.name if isinstance(value, Word) else str(value)
    if "trainable" in kwargs:
        inst.trainable = Bool.convert(kwargs["trainable"][0], "trainable")


def shape_kept(before: tuple, after: tuple):
    """True if the shapes are always equal, False if they can differ, else 'only under a condition'."""
    if len(before) != len(after):
        return False
    verdicts = [agree(a, b) for a, b in zip(before, after)]
    if all(v is True for v in verdicts):
        return True
    return False if any(v is False for v in verdicts) else "conditional"


def reuse_weights(node: Node, first: Node) -> None:
    """A second application of an instance: each of its nodes uses the weights the first made."""
    node.reapplies = first
    for mine, theirs in zip_longest(node.walk(), first.walk()):
        if mine is None:
            break
        mine.weights = theirs.weights if theirs is not None else first.weights


def freeze(node: Node) -> None:
    """trainable=false: every weight the layer or block makes is non-trainable."""
    for n in node.walk():
        if n.makes_weights:
            n.weights.frozen = True


# ---------------------------------------------------------------- tied weights

def tie_target(spec, given) -> LayerInstance:
    value, pos = given
    if spec.name != "dense":
        raise ArgumentError(f"only dense (linear) layers take tied=, not {spec.name}", pos)
    if not isinstance(value, LayerInstance) or value.spec.name not in ("embedding", "dense"):
        raise ArgumentError("tied= names an embedding or dense layer bound to a name", pos,
                            "bind it first, e.g. wte = embedding(V, d), then dense(V, tied=wte)")
    return value


def tied_kernel(inst: LayerInstance, x: tuple):
    """(the Weights, the matrix's element count, the conditions) of a dense layer that reuses another
    layer's weight matrix.

    Dense's params are its n x units kernel plus its bias (catalog/core.py); the kernel is
    the tied layer's matrix, so only the bias is new.
    """
    target = inst.tied
    name = target.binding or target.spec.name
    if target.owner is None:
        raise ArgumentError(f"tied={name}: {name} must be applied before its weights can be reused",
                            hint="apply it first, e.g. x = wte(tokens), then dense(V, tied=wte)")
    if target.spec.name == "embedding":    # a V x d table serves a d -> V layer, transposed
        theirs = (target.config["input_dim"], target.config["output_dim"])
        candidates = [theirs[::-1]]
    else:                                  # a dense kernel, as it is or transposed (autoencoders)
        theirs = (target.owner.input_shapes[0][-1], target.config["units"])
        candidates = [theirs, theirs[::-1]]
    mine = (x[-1], inst.config["units"])
    for candidate in candidates:
        verdicts = [agree(m, t) for m, t in zip(mine, candidate)]
        if False not in verdicts:
            conditions = [(v, f"tied={name}: the weight matrices agree only if {describe_condition(v)}")
                          for v in verdicts if v is not True]
            return target.owner.weights, mine[0] * mine[1], conditions
    raise ShapeError(f"tied={name}: this dense layer on {format_shape(x)} needs a {mine[0]}×{mine[1]} weight "
                     f"matrix, but {name} has a {theirs[0]}×{theirs[1]} one, which does not fit",
                     hint="an output layer tied to embedding(V, d) is dense(V) on a tensor whose last axis is d"
                     if target.spec.name == "embedding" else "a tied dense layer has the same kernel or its transpose")
