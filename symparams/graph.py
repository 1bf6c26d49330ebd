"""The derived network as one explicit graph: the structure every consumer reads.

A Node is one application: of a catalog layer (`kind == "layer"`), of a block, or of a repeat.
Its inputs are Tensors, each knowing the Node that made it (`tensor.node`, None for a model's
or a body's input). A block or repeat node holds its Body: the nodes inside, the tensors they
read by the body's own names, and the tensor it returns.

Weight identity is explicit. Every application that reuses an instance's weights points at
the same `Weights` (made by the first application); a dense layer with tied= points at the
Weights whose matrix it borrows. A node's own formulas (`out`) are the layer's; what it adds to
a model's totals follows from them: nothing for weights made elsewhere, the borrowed matrix
left out, everything non-trainable when frozen, a repeat's body multiplied by its count.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import sympy as sp

from .errors import ArgumentError, Pos


class cached_property:
    """functools.cached_property without its lock (Python 3.11 takes one at every first read: a
    tenth of a 10,000-layer model's table); two threads reading a node at once at worst compute it twice."""

    def __init__(self, compute):
        self.compute, self.__doc__ = compute, compute.__doc__

    def __set_name__(self, owner, name):
        self.name = name

    def __get__(self, node, owner=None):
        if node is None:
            return self
        value = node.__dict__[self.name] = self.compute(node)
        return value


@dataclass(eq=False, repr=False)
class Weights:
    """One set of weights, made by one node and reused by any node that points here."""
    made_by: "Node"
    frozen: bool = False

    def __repr__(self):
        return f"<Weights made by {self.made_by.name}{', frozen' if self.frozen else ''}>"


@dataclass(eq=False)
class Body:
    """A block's or repeat's sub-graph."""
    inputs: list          # the Tensors its nodes read as its inputs (a repeat: the tensor fed in)
    nodes: list           # its Nodes, in the order they run
    output: object        # the Tensor it returns
    # Nodes whose instance was made outside a repeated body: one set of weights however often
    # the body runs (their MACs are still paid every time).
    once: frozenset = frozenset()


@dataclass(eq=False, repr=False)
class Node:
    name: str
    type: str                          # as a table shows it: "Dense", "gpt_layer", "gpt_layer × L"
    kind: str                          # "layer", "block" or "repeat"
    inputs: list                       # the Tensors it reads
    shape: tuple                       # its output's shape, batch left out
    pos: Pos | None = None
    spec: object = None                # a layer's catalog LayerSpec
    config: dict = field(default_factory=dict)   # a layer's bound arguments; a block's size arguments
    out: object = None                 # a layer's own formulas (catalog Out)
    body: Body | None = None           # a block's or repeat's sub-graph
    count: sp.Expr | None = None       # a repeat derived once: how many times its body runs
    weights: Weights | None = None
    tied: Weights | None = None        # the weights whose matrix this dense layer reuses (tied=)
    tied_kernel: sp.Expr = sp.Integer(0)   # that matrix's elements, not this layer's own
    reapplies: "Node | None" = None    # an instance applied again: the node of its first application
    output: object = None              # the Tensor it makes, as the nodes after it read it
    # A layer reading the channel axis of a file laid out as the other framework lays tensors out (a
    # channels-last file counted the PyTorch way): its framework's layer runs between transposes.
    transposed: bool = False
    layout_bound: bool = False    # reads the file's layout, and no move of the channels gives the other framework's result

    def __post_init__(self):
        if self.weights is None:
            self.weights = Weights(self)

    def __repr__(self):
        return f"<Node {self.name}: {self.type}, {self.kind}>"

    @property
    def input_shapes(self) -> list:
        return [t.shape for t in self.inputs]

    @property
    def children(self) -> list:
        return self.body.nodes if self.body is not None else []

    @property
    def makes_weights(self) -> bool:
        """False where the weights were counted at another node (an instance applied again)."""
        return self.weights.made_by is self

    @property
    def frozen(self) -> bool:
        return self.weights.frozen

    def walk(self):
        """This node, then the nodes inside it, depth first."""
        yield self
        for child in self.children:
            yield from child.walk()

    # ------------------------------------------------------------ what the node adds to the totals

    def _summed(self, attr: str, multiplied: bool = True) -> sp.Expr:
        count = self.count if self.count is not None else sp.Integer(1)
        fresh = [getattr(n, attr) for n in self.body.nodes if not multiplied or n not in self.body.once]
        kept = [getattr(n, attr) for n in self.body.nodes if multiplied and n in self.body.once]
        return count * sp.Add(*fresh) + sp.Add(*kept)

    @cached_property
    def params(self) -> sp.Expr:
        if self.body is not None:
            return self._summed("params")
        if not self.makes_weights:
            return sp.Integer(0)
        params = sp.sympify(self.out.params)
        # x - 0 is x: skipping sympy's subtraction where nothing is borrowed saves a long model's derivation
        return params if self.tied_kernel is sp.S.Zero else params - self.tied_kernel

    @cached_property
    def non_trainable(self) -> sp.Expr:
        if self.body is not None:
            return self._summed("non_trainable")
        if not self.makes_weights:
            return sp.Integer(0)
        return self.params if self.frozen else sp.sympify(self.out.non_trainable)

    @cached_property
    def trainable(self) -> sp.Expr:
        return self.params if self.non_trainable is sp.S.Zero else self.params - self.non_trainable

    @cached_property
    def buffers(self) -> sp.Expr:
        if self.body is not None:
            return self._summed("buffers")
        return sp.sympify(self.out.buffers) if self.makes_weights else sp.Integer(0)

    @cached_property
    def macs(self) -> sp.Expr:
        if self.body is not None:
            count = self.count if self.count is not None else sp.Integer(1)
            return count * sp.Add(*[n.macs for n in self.body.nodes])
        if self.out.macs_not_known:
            raise self._not_known("the MACs", self.out.macs_not_known,
                                  "the figures that need MACs (macs, flops, training and inference FLOPs)")
        return sp.sympify(self.out.macs)

    def _not_known(self, what: str, why: str, leave_out: str) -> ArgumentError:
        line = f" (line {self.pos.line})" if self.pos is not None else ""
        return ArgumentError(f"{what} of layer {self.name}{line} are not known: {why}",
                             hint=f"its parameters, buffers and shapes are exact; leave out {leave_out}")

    @cached_property
    def sparse(self) -> bool:
        """Does one example use fewer than all of its weights (a mixture of experts inside)?"""
        if self.body is not None:
            return any(n.sparse for n in self.body.nodes)
        return getattr(self.out, "active", None) is not None or bool(getattr(self.out, "active_not_known", None))

    @cached_property
    def active(self) -> sp.Expr:
        """Parameters one example uses: a mixture of experts counts the experts it routes to."""
        if self.body is not None:
            return self._summed("active")
        if not self.makes_weights:
            return sp.Integer(0)
        if getattr(self.out, "active_not_known", None):
            raise self._not_known("the parameters one example uses", self.out.active_not_known,
                                  "the active parameters")
        return sp.sympify(self.out.active) if self.sparse else self.params


@dataclass(eq=False)
class Graph:
    """A model's top level: its input tensors, its nodes in order, the tensors it returns."""
    inputs: list
    nodes: list
    outputs: list
    input_pos: dict = field(default_factory=dict)   # id(input tensor) -> where its `input` line is

    def walk(self):
        for node in self.nodes:
            yield from node.walk()
