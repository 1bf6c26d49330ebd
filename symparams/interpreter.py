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
from .conventions import IGNORED_SUFFIXES, KERAS, LAYOUT_WORDS, get_convention, read_layout
from .dims import symbol
from .errors import ArgumentError, Pos, ShapeError, SymparamsError, SyntaxProblem, UnknownName, did_you_mean
from .expressions import DIM_FUNCTIONS, Evaluator, dim_function, pos_of
from .graph import Graph, Node
from .model import Constraint, Model
from .syntax import parse_tree, read_source
from .values import LayerInstance, Names, Tensor, Word, format_shape

_TENSOR_OPERATORS = {"add": "add", "sub": "subtract", "mul": "multiply"}
# Keyword arguments the interpreter handles for every layer and block, not the catalog.
_APPLICATION_KEYWORDS = ("name", "trainable", "tied")


class Program:
    """A parsed file: its models, blocks and declared layers by name, and its file-level convention."""

    def __init__(self, text: str, filename: str | None = None):
        self.text, self.filename = text, filename
        self.models: dict[str, Tree] = {}
        self.blocks: dict[str, Tree] = {}
        self.layers: dict[str, LayerSpec] = {}      # declared in the file, by normalized name
        self.convention = KERAS
        self.declared_convention: str | None = None     # the file's own `convention` line, if any
        self._block_defs: dict[str, blocks.Block] = {}
        self._lines: list[str] | None = None
        self._specs: dict[str, LayerSpec] = {}     # layer(): the entry each spelling names
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
                if catalog.is_layer_name(name):
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

    @property
    def lines(self) -> list[str]:
        """The text's lines (a `where` line's condition is quoted from them), split when first read."""
        if self._lines is None:
            self._lines = self.text.splitlines()
        return self._lines

    def grow(self, text: str) -> None:
        """The program's text with lines added to its model's body (the REPL: see Builder.extend)."""
        self.text, self._lines = text, None

    def block(self, name: str) -> "blocks.Block | None":
        return self._block_defs.get(name)

    def layer(self, name: str) -> LayerSpec | None:
        """A layer declared in this file, else the catalog's (remembered by spelling: a long model
        names a few layers thousands of times)."""
        spec = self._specs.get(name)
        if spec is None:
            spec = self.layers.get(normalize(name)) or lookup(name)
            if spec is not None:
                self._specs[name] = spec
        return spec

    def callable_names(self) -> list[str]:
        return catalog.names() + list(self.blocks) + [s.name for s in self.layers.values()]

    def model(self, name: str | None = None, convention: str | None = None) -> Model:
        builder, tree = self.builder(name, convention)
        try:
            return builder.build(tree)
        except SymparamsError as e:
            raise e.attach(self.text, self.filename)

    def builder(self, name: str | None = None, convention: str | None = None) -> tuple["Builder", Tree]:
        """The Builder that derives a model, and the model's tree (the REPL keeps the builder, to
        derive each new line onto what it built)."""
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
        builder = Builder(self, conv)
        builder.counting_given = convention is not None
        if self.declared_convention:      # the file's layout is its convention line's, whatever it is counted by
            builder.settle_layout(self.convention.channels_last, f"the `convention {self.declared_convention}` line")
        return builder, self.models[name]


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
        # The tensors' layout (conventions.py): settled by the file, else read as the counting convention's.
        self.root: Builder = parent.root if parent else self
        self.counting_given = parent.counting_given if parent else False
        self.layout_reason: str | None = parent.layout_reason if parent else None
        self.layout_unread: Tensor | None = None     # an image-like input whose shape does not say its layout
        self.layout_matters = False                  # a layer read the channel axis (of an unsettled or non-native layout)
        # A long model configures and applies one layer alike thousands of times: a call's bound
        # arguments (layer_instance) and an entry's Out (applied) are computed once per distinct call.
        # Keys hold id(spec) (a LayerSpec does not hash); each value keeps its spec alive beside it,
        # so no other entry can take that id while the key is here.
        self.bindings: dict = parent.bindings if parent else {}
        self.outs: dict = parent.outs if parent else {}

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
        self.name_tok = name_tok
        self.run_body(body)
        return self.finish()

    def extend(self, body: Tree, previous: Model) -> Model:
        """The model with more lines of its body run (the REPL's new line): `previous` is the model
        this builder made last, whose totals and checked sizes the new one goes on from. A line
        that fails leaves this builder part-way through it: derive again rather than extend it."""
        self.run_body(body)
        return self.finish(previous)

    def finish(self, previous: Model | None = None) -> Model:
        """The model of what has run: its lists copied, as the builder may run more lines (extend)."""
        name_tok = self.name_tok
        outputs = self.outputs or ([self.current] if self.current is not None else [])
        if not outputs:
            raise SyntaxProblem(f"model {name_tok} has no input", pos_of(name_tok),
                                "begin its body with a line like: input (28, 28, 1)", code="no_input")
        model = Model(str(name_tok), self.convention, self.symbols, self.defaults,
                      Graph(list(self.inputs), list(self.nodes), list(outputs), dict(self.input_pos)),
                      list(self.constraints), self.program.text, self.program.filename, previous)
        unread = self.layout_unread
        model.layout_reason = self.layout_reason or (
            f"the {self.convention.name} convention: the input {format_shape(unread.shape, batch=False)} does not "
            f"say (write `input {format_shape(unread.shape, batch=False)} channels_last` or `channels_first`)"
            if self.layout_matters and unread is not None else None)
        model.layout_settled = self.layout_reason is not None
        model.layout_matters = self.layout_matters
        return model

    def settle_layout(self, channels_last: bool, reason: str) -> None:
        """The file's layout: the counting convention's rules on tensors laid out as the file says."""
        self.convention = self.convention.laid_out(channels_last)
        self.layout_reason = reason

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
        line = get_convention(str(stmt.children[0]), pos_of(stmt.children[0]))
        if not self.counting_given:
            self.convention = line
        self.settle_layout(line.channels_last, f"the `convention {line.name}` line")

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
            given = getattr(value, "first_input", None)
            if given is not None:
                self.given_input(*given)
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

    def keras_input(self, args: list, kwargs: dict, pos) -> Tensor:
        """Keras's `Input(shape=(35,), dtype='int32', name=...)`: `input (35) int`."""
        values = dict(zip(("shape", "batch_size", "name", "dtype"), (v for v, _ in args)))
        values.update({k: v for k, (v, _) in kwargs.items()})
        unknown = set(values) - {"shape", "batch_size", "name", "dtype", "sparse", "batch_shape", "tensor", "ragged",
                                 "optional"}
        if unknown:
            raise ArgumentError(f"Input has no argument '{sorted(unknown)[0]}'", pos, "write `input (...)`")
        shape = values.get("shape")
        if shape is None and isinstance(values.get("batch_shape"), tuple):
            shape = values["batch_shape"][1:]
        if shape is None:
            raise ArgumentError("Input needs its shape: Input(shape=(28, 28, 1))", pos)
        dims = shape if isinstance(shape, tuple) else (shape,)
        dtype = values.get("dtype")
        word = dtype.name if isinstance(dtype, Word) else None
        integer = word is not None and word.startswith(("int", "uint"))
        return self.make_input(tuple(Dim.convert(self.dim_operand(d), "an input's size") for d in dims),
                               "int" if integer else None, pos)

    def given_input(self, shape: tuple, pos, dtype=None) -> None:
        """A first layer's input_shape=: the model's input, as `input (...)` would make it; on a later
        layer Keras ignores it, and so does symparams."""
        if self.current is None and self.kind == "model" and not self.inputs:
            self.make_input(shape, dtype, pos)
            return

    def ev_input(self, node):
        if self.kind != "model":
            raise ArgumentError(f"'input' belongs in a model, not a {self.kind}; a block's inputs are "
                                "the tensors in its header")
        shape_node, dtype = node.children
        value = self.eval(shape_node)
        dims = value if isinstance(value, tuple) else (value,)
        shape = tuple(Dim.convert(self.dim_operand(d), "an input's size") for d in dims)
        return self.make_input(shape, dtype, pos_of(node))

    def make_input(self, shape: tuple, dtype, pos) -> Tensor:
        name = f"input_{len(self.inputs) + 1}"
        layout = LAYOUT_WORDS.get(str(dtype)) if dtype else None
        if layout is not None:
            dtype = None
        tensor = Tensor(shape, name, str(dtype) if dtype else None)
        self.read_layout(tensor, layout)
        self.input_pos[id(tensor)] = pos
        self.inputs.append(tensor)
        self.current = tensor
        return tensor

    def read_layout(self, tensor: Tensor, word: bool | None) -> None:
        """An input says the file's layout by its word (`channels_last`), else by its shape, unless
        the file's convention line said it already or a layer has run."""
        shown = format_shape(tensor.shape, batch=False)
        if word is not None:
            if self.layout_reason is not None and self.convention.channels_last != word:
                raise ArgumentError(f"the input {shown} is laid out {'channels_last' if word else 'channels_first'}, "
                                    f"but the file is laid out {self.convention.layout} by {self.layout_reason}")
            self.settle_layout(word, f"the input {shown} {'channels_last' if word else 'channels_first'}")
            return
        if self.layout_reason is not None or self.layout_unread is not None or self.nodes or \
                len(tensor.shape) < 2 or tensor.dtype == "int":
            return      # the first image-like input says it, before any layer reads it
        values = tuple(self._default_value(d) for d in tensor.shape)
        said = read_layout(tensor.shape, values)
        if said is None:
            self.layout_unread = self.layout_unread or tensor
            return
        self.settle_layout(said, f"the input {shown}")

    def _default_value(self, d):
        """A size at the header's defaults, or None where a symbol has none."""
        try:
            v = sp.sympify(d).subs({self.symbols[k]: v for k, v in self.defaults.items() if k in self.symbols})
        except (TypeError, ValueError):
            return None
        return int(v) if getattr(v, "is_Integer", False) else None

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
                if key.endswith(IGNORED_SUFFIXES):    # l2(0.0015), HeNormal(seed=1), max_norm(3): change no count
                    kwargs[key] = (Word("ignored", pos_of(a), Names({}, {}), quoted=True), pos_of(a))
                    continue
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
        if isinstance(callee, Word) and callee.name == "Input" and self.kind == "model":
            return self.keras_input(args, kwargs, pos)
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
        first_input = self.first_input(word, kwargs, pos)
        block = self.program.block(word.name)
        if block is not None:
            inst = blocks.BlockInstance(block, block.bind(self, args, kwargs, pos), pos, typed_name=block.name)
        else:
            inst = self.layer_instance(word, args, kwargs, pos)
        self.created.add(id(inst))
        blocks.configure(inst, kwargs)
        inst.first_input = first_input
        if inputs:
            return self.apply(inst, inputs, pos)
        return inst

    def first_input(self, word: Word, kwargs: dict, pos) -> tuple | None:
        """Keras's `Dense(64, input_dim=784)`, `Conv2D(32, 3, input_shape=(28, 28, 1))` (or
        `batch_input_shape=(None, ...)`): the shape of the model's input, which the first layer's line
        makes (`input (...)`); taken out of the layer's own arguments."""
        spec = self.program.layer(word.name)
        keys = [k for k in ("input_shape", "batch_input_shape", "input_dim", "input_length")
                if k in kwargs and not (spec is not None and k in {a[0] for a in spec.arguments})]
        if not keys:
            return None
        if len(keys) > 1:
            raise ArgumentError(f"give one of {' and '.join(keys)}, not both", kwargs[keys[1]][1])
        key = keys[0]
        value, where = kwargs.pop(key)
        dims = value if isinstance(value, tuple) else (value,)
        if key == "batch_input_shape":
            if not dims or not (isinstance(dims[0], Word) and dims[0].name == "None"):
                raise ArgumentError("batch_input_shape starts with the batch size, None", where,
                                    "symparams' shapes leave the batch out: write input_shape=(...) or a line "
                                    "`input (...)`")
            dims = dims[1:]
        if key in ("input_dim", "input_length") and isinstance(value, tuple):
            raise ArgumentError(f"{key} is one size; input_shape takes a shape", where)
        shape = tuple(Dim.convert(self.dim_operand(d), f"{key}'s size") for d in dims)
        # Keras 2's Embedding(V, d, input_length=T): a first layer of token ids
        return shape, where, "int" if key == "input_length" and spec is not None and spec.name == "embedding" else None

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
        values, torch_order = [v for v, _ in args], spec.takes_torch_order(word.name, len(args))
        try:
            key = (id(spec), torch_order, _typed(values), _typed(options))
            found = self.bindings.get(key)
        except TypeError:       # an argument that cannot be a key
            key = found = None
        if found is not None:
            config = found[1]   # shared, as an instance applied twice shares its own: nothing changes a config
        else:
            try:
                positions = {**{i: p for i, (_, p) in enumerate(args)}, **{k: p for k, (_, p) in kwargs.items()}}
                config = spec.bind(values, options, torch_order, positions)
            except SymparamsError as e:
                if e.pos is None:
                    e.pos = pos
                raise
            if key is not None:
                self.bindings[key] = (spec, config)
        inst = LayerInstance(spec, config, pos, typed_name=str(word.name), key=key)
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

    def reads_channels(self, spec, inputs: list, config: dict, out) -> tuple[bool, bool]:
        """Whether a layer reads the channel axis (its result differs in the other layout), and whether
        the other layout's layer computes it on the transposed tensors: then a framework whose layers
        read the other layout runs it between transposes (verify, export)."""
        here = self.convention
        other = here.laid_out(not here.channels_last)

        def move(shape):
            return tuple(shape[-1:] + shape[:-1]) if here.channels_last else tuple(shape[1:] + shape[:1])

        def same(result, shape) -> bool:
            return len(result.shape) == len(shape) and all(
                sp.expand(a - b) == 0 for a, b in zip((*result.shape, result.params, result.non_trainable,
                                                       result.buffers), (*shape, out.params, out.non_trainable,
                                                                         out.buffers)))

        options = dict(config)
        axis, n = options.get("axis"), len(inputs[0].shape) if inputs else 0
        if (axis in (-1, n) if here.channels_last else axis == 1) and \
                any(a[0] == "axis" and a[2] is None for a in spec.arguments):
            options["axis"] = None      # the channel axis named in the file's layout (BatchNorm's axis=-1): its default

        def applied(shapes):
            try:
                return spec.apply(shapes, dict(options), other)
            except (SymparamsError, TypeError, ValueError):
                return None

        shapes = [tuple(t.shape) for t in inputs]
        result = applied(shapes)
        if result is not None and same(result, tuple(out.shape)):
            return False, False
        if any(len(s) < 2 for s in shapes):
            return True, False
        result = applied([move(s) for s in shapes])
        # an output with no channel axis left to move (a global pool's (C,)) is compared as it is
        expected = move(tuple(out.shape)) if len(out.shape) >= 2 else tuple(out.shape)
        return True, result is not None and same(result, expected)

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

    def applied(self, spec: LayerSpec, shapes: list, config: dict, call=None):
        """spec.apply, computed once per distinct call: a long model applies one layer to one shape
        thousands of times (`dense(d)` on (d,)), and an entry's Out depends on nothing but its
        arguments, shapes and convention. Nodes share it, as the applications of one instance
        already do: nothing downstream changes an Out. A call whose arguments hash by identity
        (a Word, a layer) is only found again for that same object; one that fails is not kept.
        `call` is the key of the call that bound `config` (layer_instance), where it has one."""
        try:
            key = (id(spec), self.convention, _typed(shapes), call or _typed(config))
            found = self.outs.get(key)
        except TypeError:       # an argument that cannot be a key
            return spec.apply(shapes, config, self.convention)
        if found is None:
            found = self.outs[key] = (spec, spec.apply(shapes, config, self.convention))
        return found[1]

    def apply_layer(self, inst: LayerInstance, inputs: list, pos) -> tuple[Node, str | None]:
        spec = inst.spec
        if not spec.variadic and len(inputs) != spec.n_inputs:
            raise ArgumentError(f"{spec.name} takes {spec.n_inputs} input tensor"
                                f"{'s' if spec.n_inputs != 1 else ''}, found {len(inputs)}", pos)
        if spec.variadic and len(inputs) < 2:
            raise ArgumentError(f"{spec.name} takes two or more input tensors, found {len(inputs)}", pos)
        try:
            out = self.applied(spec, [t.shape for t in inputs], inst.config, inst.key)
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
        unsettled = self.root.layout_reason is None and self.root.layout_unread is not None
        if spec.wants_convention and (unsettled or not self.convention.native):
            reads, moves = self.reads_channels(spec, inputs, inst.config, out)
            self.root.layout_matters |= reads
            node.transposed = moves and not self.convention.native
            node.layout_bound = reads and not moves and not self.convention.native and \
                all(len(t.shape) >= 2 for t in inputs)
        return node, inputs[0].dtype if spec.name == "flatten" else None


def _typed(value):
    """A value as a key that tells apart what Python's == equates (True, 1 and 1.0; sympy's 2 and
    2.0), down through tuples, lists and dicts."""
    kind = type(value)
    if isinstance(value, (tuple, list)):
        return kind, tuple(map(_typed, value))
    if isinstance(value, dict):
        return kind, tuple((k, _typed(v)) for k, v in value.items())
    return kind, value


def parse(text: str, filename: str | None = None, model: str | None = None,
          convention: str | None = None) -> Model:
    """Derive a model's formulas from source text."""
    return Program(text, filename).model(model, convention)


def read(path, fields: dict | None = None) -> Program:
    """A .sp file, parsed: its models can then be derived under either convention without reading it again.
    A Hugging Face config.json (or a folder holding one) is written as a program first
    (symparams/importers/huggingface/), with `fields` set in it, and so is a Keras model's .keras file or
    JSON (importers/keras_json.py)."""
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
        if fields:
            config = huggingface.with_fields(config, fields)
        return Program(huggingface.program(config, filename), filename)
    problem = huggingface.model_id_problem(path)
    if problem:                # `Qwen/Qwen2-0.5B`: what to download, not "cannot read the file"
        raise problem
    return Program(read_source(p), str(path))


def load(path, model: str | None = None, convention: str | None = None) -> Model:
    """Derive a model's formulas from a .sp file (or a Hugging Face config.json, or a Keras model's file)."""
    return read(path).model(model, convention)
