"""Syntax tree to Model: runs a model's lines, applying catalog layers to symbolic tensors.

Values are sympy expressions (sizes), Tensors, LayerInstances (and the BlockInstances and
RepeatInstances of symparams/blocks.py), Words (bare names that are not symbols), booleans,
reals and tuples. What an operator means depends on its operands: `+` adds sizes, or merges
two tensors through the catalog's `add` layer.
"""
from __future__ import annotations

import sympy as sp
from lark import Tree

from . import blocks, catalog
from .catalog import declared
from .bounds import MAX_NESTING, too_deep
from .catalog.registry import Dim, LayerSpec, lookup, normalize
from .conventions import KERAS, get_convention
from .dims import symbol
from .errors import ArgumentError, Pos, ShapeError, SymparamsError, SyntaxProblem, UnknownName, did_you_mean
from .expressions import DIM_FUNCTIONS, Evaluator, dim_function, pos_of
from .graph import Graph, Node
from .model import Constraint, Model
from .syntax import parse_tree, read_source
from .values import LayerInstance, Names, Tensor, Word

_TENSOR_OPERATORS = {"add": "add", "sub": "subtract", "mul": "multiply"}
# Keyword arguments the interpreter handles for every layer and block, not the catalog.
_APPLICATION_KEYWORDS = ("name", "trainable", "tied")


class Program:
    """A parsed file: its models, blocks and declared layers by name, and its file-level convention."""

    def __init__(self, text: str, filename: str | None = None):
        self.text, self.filename = text, filename
        self.lines = text.splitlines()
        self.models: dict[str, Tree] = {}
        self.blocks: dict[str, Tree] = {}
        self.layers: dict[str, LayerSpec] = {}      # declared in the file, by normalized name
        self.convention = KERAS
        self.declared_convention: str | None = None     # the file's own `convention` line, if any
        self._block_defs: dict[str, blocks.Block] = {}
        try:
            tree = parse_tree(text)
            for item in tree.children:
                if item.data == "convention_line":
                    self.convention = get_convention(str(item.children[0]), pos_of(item.children[0]))
                    self.declared_convention = self.convention.name
                    continue
                name_tok = item.children[0]
                name = str(name_tok)
                if name in self.models or name in self.blocks or normalize(name) in self.layers:
                    raise SyntaxProblem(f"'{name}' is defined twice", pos_of(name_tok))
                if item.data == "model_def":
                    self.models[name] = item
                    continue
                if lookup(name) is not None:
                    raise SyntaxProblem(f"'{name}' is already a layer of the catalog", pos_of(name_tok),
                                        f"give your {'layer' if item.data == 'layer_def' else 'block'} "
                                        f"another name, e.g. my_{name}")
                if item.data == "block_def":
                    self.blocks[name] = item
                    self._block_defs[name] = blocks.Block.from_tree(item, text)
                else:
                    self.layers[normalize(name)] = declared.declare(item, text)
        except SymparamsError as e:
            raise e.attach(text, filename)

    def block(self, name: str) -> "blocks.Block | None":
        return self._block_defs.get(name)

    def layer(self, name: str) -> LayerSpec | None:
        """A layer declared in this file, else the catalog's."""
        return self.layers.get(normalize(name)) or lookup(name)

    def callable_names(self) -> list[str]:
        return catalog.names() + list(self.blocks) + [s.name for s in self.layers.values()]

    def model(self, name: str | None = None, convention: str | None = None) -> Model:
        if not self.models:
            raise SyntaxProblem("the file defines no model", hint="start one with: model name(H = 28):").attach(
                self.text, self.filename)
        if name is None:
            name = next(iter(self.models))
        if name not in self.models:
            raise UnknownName(f"the file has no model '{name}'",
                              hint=did_you_mean(name, self.models) or f"its models are {', '.join(self.models)}"
                              ).attach(self.text, self.filename)
        conv = get_convention(convention) if convention else self.convention
        try:
            return Builder(self, conv).build(self.models[name])
        except SymparamsError as e:
            raise e.attach(self.text, self.filename)


class Builder(Evaluator):
    """Runs one body -- a model's, a block call's or a repeat's: its graph nodes, names and current tensor.

    A child Builder (a block call or a repeat body) shares its parent's constraint list; a
    repeat body also shares its node names, so its rows read as part of the model.
    """

    def __init__(self, program: Program, convention, parent: "Builder | None" = None,
                 share_names: bool = False):
        self.program = program
        self.depth = parent.depth if parent else 0   # a block call or repeat body nests on
        self.convention = convention
        self.symbols: dict[str, sp.Symbol] = {}
        self.defaults: dict[str, sp.Expr] = {}
        self.scope: dict[str, object] = {}
        self.nodes: list[Node] = []
        self.constraints: list[Constraint] = parent.constraints if parent else []
        self.inputs: list[Tensor] = []
        self.input_pos: dict = {}
        self.outputs: list[Tensor] = []
        self.current: Tensor | None = None
        self.returned = None
        self.type_counts: dict[str, int] = parent.type_counts if share_names else {}
        self.row_names: set[str] = parent.row_names if share_names else set()
        # Instances made by this body's own lines: a repeat gives each iteration new ones, while
        # an instance made outside the repeat keeps one set of weights however often it runs.
        self.created: set[int] = set()
        self.made_elsewhere: set[Node] = set()   # this body's nodes applying instances made outside it
        self.kind = "model" if parent is None else "block"
        self.calling: tuple = parent.calling if parent else ()   # the blocks being called, innermost last

    def body(self, kind: str, scope: dict, current: Tensor | None = None, calling: str | None = None,
             row_names=()) -> "Builder":
        """A Builder for a body run under this one: a block call's (its own names, its own node
        names but for `row_names` it reserves) or a repeat's (this one's symbols and node names)."""
        child = Builder(self.program, self.convention, parent=self, share_names=kind == "repeat")
        child.kind = kind
        child.scope = scope
        child.current = current
        if kind == "repeat":
            child.symbols = self.symbols
        child.row_names |= set(row_names)
        if calling is not None:
            child.calling = self.calling + (calling,)
        return child

    # ------------------------------------------------------------ model and statements

    def build(self, tree: Tree) -> Model:
        name_tok, params, body = tree.children
        for p in (params.children if params else []):
            pname, default = p.children
            if str(pname) in self.symbols:
                raise SyntaxProblem(f"symbol '{pname}' is declared twice", pos_of(pname))
            if default is not None:
                value = self.eval(default)
                Dim.convert(value, f"the default of {pname}") if not isinstance(value, Word) else \
                    self.dim_operand(value)
                self.defaults[str(pname)] = value
            self.symbols[str(pname)] = symbol(str(pname))
        self.run_body(body)
        outputs = self.outputs or ([self.current] if self.current is not None else [])
        if not outputs:
            raise SyntaxProblem(f"model {name_tok} has no input", pos_of(name_tok),
                                "begin its body with a line like: input (28, 28, 1)", code="no_input")
        return Model(str(name_tok), self.convention, self.symbols, self.defaults,
                     Graph(self.inputs, self.nodes, outputs, self.input_pos), self.constraints, self.program.text,
                     self.program.filename)

    def run_body(self, body: Tree) -> None:
        self.depth += 1
        try:
            if self.depth > MAX_NESTING:
                raise too_deep(pos_of(body.children[0]) if body.children else None)
            self._run_statements(body)
        finally:
            self.depth -= 1

    def _run_statements(self, body: Tree) -> None:
        for stmt in body.children:
            if self.returned is not None:
                raise SyntaxProblem("this line comes after 'return' and would never run", pos_of(stmt))
            getattr(self, "stmt_" + stmt.data)(stmt)

    def stmt_where_stmt(self, stmt):
        for cond in stmt.children:
            relation = self.relation(cond)
            if relation is sp.false:
                raise ArgumentError("this condition can never hold", pos_of(cond))
            text = self.program.lines[cond.meta.line - 1][cond.meta.column - 1:cond.meta.end_column - 1]
            self.constraints.append(Constraint(relation, f"where {text}", pos_of(cond)))

    def stmt_convention_line(self, stmt):
        self.convention = get_convention(str(stmt.children[0]), pos_of(stmt.children[0]))

    def stmt_assign_stmt(self, stmt):
        name, expr = stmt.children
        key = str(name)
        if key in self.symbols:
            raise ArgumentError(f"'{key}' is a symbol of the model and cannot be assigned", pos_of(name))
        value = self.eval(expr)
        if hasattr(value, "binding") and value.binding is None:
            value.binding = key
        if isinstance(value, Tensor):
            self.current = value
        self.scope[key] = value

    def stmt_expr_stmt(self, stmt):
        expr = stmt.children[0]
        value = self.eval(expr)
        if isinstance(value, Word):
            value = self.instance(value, [], {}, pos_of(expr))
        if blocks.is_applicable(value):
            if self.current is None:
                raise ShapeError("this layer has no input: no tensor has been made yet", pos_of(expr),
                                 "begin with a line like: input (28, 28, 1)")
            value = self.apply(value, [self.current], pos_of(expr))
        if isinstance(value, Tensor):
            self.current = value
            return
        raise ArgumentError("this line computes a value but does nothing with it", pos_of(expr),
                            "assign it to a name, or write a layer")

    def stmt_output_stmt(self, stmt):
        for expr in stmt.children:
            value = self.eval(expr)
            if not isinstance(value, Tensor):
                raise ArgumentError("output takes tensors", pos_of(expr))
            self.outputs.append(value)

    def stmt_return_stmt(self, stmt):
        if self.kind != "block":
            raise SyntaxProblem(f"'return' belongs in a block, not a {self.kind}", pos_of(stmt))
        value = self.eval(stmt.children[0])
        if not isinstance(value, Tensor):
            raise ArgumentError("a block returns a tensor", pos_of(stmt.children[0]))
        self.returned = value

    def stmt_repeat_stmt(self, stmt):
        _, count_node, body = stmt.children
        count = blocks.repeat_count(self.eval(count_node), pos_of(count_node))
        if self.current is None:
            raise ShapeError("a repeat needs an input: no tensor has been made yet", pos_of(stmt))
        self.current = blocks.apply_repeat_lines(self, count, body, self.current, pos_of(stmt))

    # ------------------------------------------------------------ expressions

    def lookup(self, key, node):
        if key in self.scope:
            return self.scope[key]
        if key in self.symbols:
            return self.symbols[key]
        return Word(key, pos_of(node), Names(self.symbols, self.scope))

    def ev_input(self, node):
        if self.kind != "model":
            raise ArgumentError(f"'input' belongs in a model, not a {self.kind}; a block's inputs are "
                                "the tensors in its header")
        shape_node, dtype = node.children
        value = self.eval(shape_node)
        dims = value if isinstance(value, tuple) else (value,)
        shape = tuple(Dim.convert(self.dim_operand(d), "an input's size") for d in dims)
        name = f"input_{len(self.inputs) + 1}"
        tensor = Tensor(shape, name, str(dtype) if dtype else None)
        self.input_pos[id(tensor)] = pos_of(node)
        self.inputs.append(tensor)
        self.current = tensor
        return tensor

    def combine(self, node, a, b):
        if isinstance(a, Tensor) and isinstance(b, Tensor) and node.data in _TENSOR_OPERATORS:
            spec = lookup(_TENSOR_OPERATORS[node.data])
            return self.apply(self.instance_of(spec, {}, pos_of(node)), [a, b], pos_of(node))
        return None

    def ev_call(self, node):
        callee_node, arg_node = node.children
        args, kwargs = [], {}
        for a in (arg_node.children if arg_node else []):
            if isinstance(a, Tree) and a.data == "kwarg":
                key = str(a.children[0])
                if key in kwargs:
                    raise ArgumentError(f"argument '{key}' is given twice", pos_of(a))
                kwargs[key] = (self.eval(a.children[1]), pos_of(a))
            else:
                if kwargs:
                    raise ArgumentError("a positional argument follows a keyword argument", pos_of(a))
                args.append((self.eval(a), pos_of(a)))
        callee = self.eval(callee_node)
        pos = pos_of(node)
        if blocks.is_applicable(callee):
            if kwargs:
                raise ArgumentError("a configured layer is applied to tensors only", pos)
            return self.apply(callee, [self.tensor_arg(v, p) for v, p in args], pos)
        if isinstance(callee, Word) and callee.name in DIM_FUNCTIONS:
            return dim_function(callee.name, [self.dim_operand(v) for v, _ in args])
        if isinstance(callee, Word) and callee.name == "repeat":
            return blocks.make_repeat(self, args, kwargs, pos)
        if isinstance(callee, Word):
            return self.instance(callee, args, kwargs, pos)
        raise ArgumentError("only layers can be called", pos_of(callee_node))

    def tensor_arg(self, value, pos):
        if not isinstance(value, Tensor):
            raise ArgumentError("a layer is applied to tensors; this is not one", pos)
        return value

    # ------------------------------------------------------------ layers

    def instance(self, word: Word, args: list, kwargs: dict, pos: Pos | None):
        """`conv2d(32, 3)` configures a layer; leading tensor arguments (`flatten(m)`) apply it at once."""
        inputs = []
        while args and isinstance(args[0][0], Tensor):
            inputs.append(args.pop(0)[0])
        block = self.program.block(word.name)
        if block is not None:
            inst = blocks.BlockInstance(block, block.bind(self, args, kwargs, pos), pos, typed_name=block.name)
        else:
            inst = self.layer_instance(word, args, kwargs, pos)
        self.created.add(id(inst))
        blocks.configure(inst, kwargs)
        if inputs:
            return self.apply(inst, inputs, pos)
        return inst

    def layer_instance(self, word: Word, args: list, kwargs: dict, pos) -> LayerInstance:
        spec = self.program.layer(word.name)
        if spec is None:
            from .catalog.uncounted import SUGGESTION, reason
            why = reason(word.name)
            if why is not None:    # a framework class the catalog leaves out on purpose: say why
                raise UnknownName(f"'{word.name}' has no catalog entry: {why}", word.pos, SUGGESTION,
                                  code="uncounted", subject=word.name)
            raise UnknownName(f"unknown layer '{word.name}'", word.pos,
                              did_you_mean(word.name, self.program.callable_names()) or
                              "run `symparams layers` to list the catalog", code="unknown_layer", subject=word.name)
        options = {k: v for k, (v, _) in kwargs.items() if k not in _APPLICATION_KEYWORDS}
        try:
            positions = {**{i: p for i, (_, p) in enumerate(args)}, **{k: p for k, (_, p) in kwargs.items()}}
            config = spec.bind([v for v, _ in args], options, spec.takes_torch_order(word.name, len(args)),
                               positions)
        except SymparamsError as e:
            if e.pos is None:
                e.pos = pos
            raise
        inst = LayerInstance(spec, config, pos, typed_name=str(word.name))
        if "tied" in kwargs:
            inst.tied = blocks.tie_target(spec, kwargs["tied"])
        return inst

    def instance_of(self, spec: LayerSpec, config: dict, pos) -> LayerInstance:
        inst = LayerInstance(spec, spec.bind([], config), pos, typed_name=spec.name)
        self.created.add(id(inst))
        return inst

    def auto_name(self, inst) -> str:
        if inst.row_name:
            base = inst.row_name
        elif inst.binding:
            base = inst.binding
        else:
            stem = inst.typed_name.lower()
            n = self.type_counts.get(stem, 0) + 1
            self.type_counts[stem] = n
            base = f"{stem}_{n}"
        name, k = base, 2
        while name in self.row_names:
            name, k = f"{base}@{k}", k + 1
        self.row_names.add(name)
        return name

    def apply(self, inst, inputs: list, pos) -> Tensor:
        """Apply a layer, block or repeat to tensors: one new node, and its output tensor."""
        if isinstance(inst, LayerInstance):
            node, dtype = self.apply_layer(inst, inputs, pos)
        else:
            node, dtype = inst.apply(self, inputs, pos)
        if inst.owner is not None:
            blocks.reuse_weights(node, inst.owner)
        else:
            if not inst.trainable:
                blocks.freeze(node)
            inst.owner = node
        if id(inst) not in self.created:
            self.made_elsewhere.add(node)
        self.nodes.append(node)
        node.output = Tensor(node.shape, node.name, dtype, node=node)
        return node.output

    def record(self, conditions: list, pos) -> None:
        """Validity conditions a layer returned: one the numbers already decide is refused here;
        the others hold the model to them at every evaluation."""
        for relation, text in conditions:
            if relation is sp.true or relation is True:
                continue
            if relation is sp.false or relation is False:
                raise ShapeError(text, pos)
            if any(c.relation == relation for c in self.constraints):   # a `where` line says it already
                continue
            self.constraints.append(Constraint(relation, text, pos))

    def apply_layer(self, inst: LayerInstance, inputs: list, pos) -> tuple[Node, str | None]:
        spec = inst.spec
        if not spec.variadic and len(inputs) != spec.n_inputs:
            raise ArgumentError(f"{spec.name} takes {spec.n_inputs} input tensor"
                                f"{'s' if spec.n_inputs != 1 else ''}, found {len(inputs)}", pos)
        if spec.variadic and len(inputs) < 2:
            raise ArgumentError(f"{spec.name} takes two or more input tensors, found {len(inputs)}", pos)
        try:
            out = spec.apply([t.shape for t in inputs], inst.config, self.convention)
            conditions = list(out.conditions)
            tied = kernel = None
            if inst.tied is not None:
                tied, kernel, tie_conditions = blocks.tied_kernel(inst, inputs[0].shape)
                conditions += tie_conditions
            self.record(conditions, pos)
        except SymparamsError as e:
            if e.pos is None:
                e.pos = pos
            raise
        node = Node(self.auto_name(inst), self.convention.layer_type(spec), "layer", list(inputs), tuple(out.shape),
                    pos, spec=spec, config=inst.config, out=out, tied=tied, tied_kernel=kernel or sp.Integer(0))
        return node, inputs[0].dtype if spec.name == "flatten" else None


def parse(text: str, filename: str | None = None, model: str | None = None,
          convention: str | None = None) -> Model:
    """Derive a model's formulas from source text."""
    return Program(text, filename).model(model, convention)


def read(path) -> Program:
    """A .sp file, parsed: its models can then be derived under either convention without reading it again.
    A Hugging Face config.json (or a folder holding one) is written as a program first
    (symparams/importers/huggingface/), and so is a Keras model's .keras file or JSON (importers/keras_json.py)."""
    from pathlib import Path
    p = Path(path)
    if p.suffix == ".sp":     # a program: no importer to load (they cost every command 15 ms)
        return Program(read_source(p), str(path))
    from .importers import huggingface, keras_json
    if keras_json.is_keras(str(p)):
        config, filename = keras_json.read(str(p))
        return Program(keras_json.program(config, filename), filename)
    if huggingface.is_config_path(p):
        config, filename = huggingface.read_config(p)
        return Program(huggingface.program(config, filename), filename)
    problem = huggingface.model_id_problem(path)
    if problem:                # `Qwen/Qwen2-0.5B`: what to download, not "cannot read the file"
        raise problem
    return Program(read_source(p), str(path))


def load(path, model: str | None = None, convention: str | None = None) -> Model:
    """Derive a model's formulas from a .sp file (or a Hugging Face config.json, or a Keras model's file)."""
    return read(path).model(model, convention)
