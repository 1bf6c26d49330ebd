"""Syntax tree to Model: runs a model's lines, applying catalog layers to symbolic tensors.

Values are sympy expressions (sizes), Tensors, LayerInstances, Words (bare names that are not
symbols), booleans, reals and tuples. What an operator means depends on its operands: `+` adds
sizes, or merges two tensors through the catalog's `add` layer.
"""
from __future__ import annotations

from fractions import Fraction

import sympy as sp
from lark import Token, Tree

from . import catalog
from .catalog.registry import Dim, LayerSpec, lookup
from .conventions import KERAS, get_convention
from .dims import recorded_conditions, symbol
from .errors import ArgumentError, Pos, ShapeError, SymparamsError, SyntaxProblem, UnknownName, did_you_mean
from .model import Constraint, Model, Row
from .syntax import parse_tree
from .values import LayerInstance, Tensor, Word

_SUFFIXES = {"K": 10**3, "M": 10**6, "B": 10**9, "G": 10**9, "T": 10**12}
_DIM_FUNCTIONS = {"ceil": sp.ceiling, "floor": sp.floor, "min": sp.Min, "max": sp.Max}
_TENSOR_OPERATORS = {"add": "add", "sub": "subtract", "mul": "multiply"}


def pos_of(node) -> Pos | None:
    if isinstance(node, Token):
        return Pos(node.line, node.column, node.end_column)
    meta = getattr(node, "meta", None)
    if meta is None or getattr(meta, "empty", True):
        return None
    end = meta.end_column if meta.end_line == meta.line else None
    return Pos(meta.line, meta.column, end)


def number_value(text: str):
    """Exact value of a NUMBER token: an integer wherever the text denotes one (7e9, 1.5K)."""
    scale = 1
    if text[-1] in _SUFFIXES:
        scale, text = _SUFFIXES[text[-1]], text[:-1]
    value = Fraction(text.replace("_", "")) * scale
    if value.denominator == 1:
        return sp.Integer(value.numerator)
    return float(value)


class Program:
    """A parsed file: its models and blocks by name, and its file-level convention."""

    def __init__(self, text: str, filename: str | None = None):
        self.text, self.filename = text, filename
        self.models: dict[str, Tree] = {}
        self.blocks: dict[str, Tree] = {}
        self.convention = KERAS
        try:
            tree = parse_tree(text)
            for item in tree.children:
                if item.data == "convention_line":
                    self.convention = get_convention(str(item.children[0]), pos_of(item.children[0]))
                else:
                    name = str(item.children[0])
                    table = self.models if item.data == "model_def" else self.blocks
                    if name in self.models or name in self.blocks:
                        raise SyntaxProblem(f"'{name}' is defined twice", pos_of(item.children[0]))
                    table[name] = item
        except SymparamsError as e:
            raise e.attach(text, filename)

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


class Builder:
    """Runs one model's body. Rows, symbols and the current tensor live here."""

    def __init__(self, program: Program, convention):
        self.program = program
        self.convention = convention
        self.symbols: dict[str, sp.Symbol] = {}
        self.defaults: dict[str, sp.Expr] = {}
        self.scope: dict[str, object] = {}
        self.rows: list[Row] = []
        self.constraints: list[Constraint] = []
        self.inputs: list[Tensor] = []
        self.outputs: list[Tensor] = []
        self.current: Tensor | None = None
        self.type_counts: dict[str, int] = {}
        self.row_names: set[str] = set()

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
                                "begin its body with a line like: input (28, 28, 1)")
        return Model(str(name_tok), self.convention, self.symbols, self.defaults, self.rows, self.inputs,
                     outputs, self.constraints, self.program.text, self.program.filename)

    def run_body(self, body: Tree) -> None:
        for stmt in body.children:
            getattr(self, "stmt_" + stmt.data)(stmt)

    def stmt_where_stmt(self, stmt):
        for cond in stmt.children:
            left, op, right = cond.children
            a, b = self.dim_operand(self.eval(left)), self.dim_operand(self.eval(right))
            relation = {"==": sp.Eq, "!=": sp.Ne, "<": sp.Lt, "<=": sp.Le, ">": sp.Gt, ">=": sp.Ge}[str(op)](a, b)
            if relation is sp.false:
                raise ArgumentError("this condition can never hold", pos_of(cond))
            text = self.program.text.splitlines()[cond.meta.line - 1][cond.meta.column - 1:cond.meta.end_column - 1]
            self.constraints.append(Constraint(relation, f"where {text}", pos_of(cond)))

    def stmt_convention_line(self, stmt):
        self.convention = get_convention(str(stmt.children[0]), pos_of(stmt.children[0]))

    def stmt_assign_stmt(self, stmt):
        name, expr = stmt.children
        key = str(name)
        if key in self.symbols:
            raise ArgumentError(f"'{key}' is a symbol of the model and cannot be assigned", pos_of(name))
        value = self.eval(expr)
        if isinstance(value, LayerInstance) and value.binding is None:
            value.binding = key
        if isinstance(value, Tensor):
            self.current = value
        self.scope[key] = value

    def stmt_expr_stmt(self, stmt):
        expr = stmt.children[0]
        value = self.eval(expr)
        if isinstance(value, Word):
            value = self.instance(value, [], {}, pos_of(expr))
        if isinstance(value, LayerInstance):
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
        raise SyntaxProblem("'return' belongs in a block, not a model", pos_of(stmt))

    def stmt_repeat_stmt(self, stmt):
        raise SyntaxProblem("'repeat' is not supported yet", pos_of(stmt))

    # ------------------------------------------------------------ expressions

    def eval(self, node):
        try:
            return getattr(self, "ev_" + node.data)(node)
        except SymparamsError as e:
            if e.pos is None:
                e.pos = pos_of(node)
            raise

    def ev_number(self, node):
        return number_value(str(node.children[0]))

    def ev_string(self, node):
        return Word(str(node.children[0])[1:-1], pos_of(node), quoted=True)

    def ev_true(self, node):
        return True

    def ev_false(self, node):
        return False

    def ev_tuple(self, node):
        return tuple(self.eval(c) for c in node.children if c is not None)

    def ev_name(self, node):
        key = str(node.children[0])
        if key in self.scope:
            return self.scope[key]
        if key in self.symbols:
            return self.symbols[key]
        return Word(key, pos_of(node), tuple(list(self.symbols) + list(self.scope)))

    def ev_input(self, node):
        shape_node, dtype = node.children
        value = self.eval(shape_node)
        dims = value if isinstance(value, tuple) else (value,)
        shape = tuple(Dim.convert(self.dim_operand(d), "an input's size") for d in dims)
        name = f"input_{len(self.inputs) + 1}"
        tensor = Tensor(shape, name, str(dtype) if dtype else None)
        self.inputs.append(tensor)
        self.current = tensor
        return tensor

    def dim_operand(self, value):
        """Check that a value can take part in size arithmetic."""
        if isinstance(value, Word) and not value.quoted:
            raise UnknownName(f"'{value.name}' is not a symbol of this model", value.pos,
                              did_you_mean(value.name, value.candidates) or
                              "declare it in the model's header, e.g. model m(" + value.name + " = 8):")
        if isinstance(value, bool) or not isinstance(value, (sp.Expr, float)):
            kind = {Tensor: "a tensor", LayerInstance: "a layer", Word: "a string"}.get(type(value), repr(value))
            raise ArgumentError(f"expected a size, found {kind}")
        return value

    def _arith(self, node, op):
        a, b = (self.eval(c) for c in node.children)
        if isinstance(a, Tensor) and isinstance(b, Tensor) and node.data in _TENSOR_OPERATORS:
            spec = lookup(_TENSOR_OPERATORS[node.data])
            return self.apply(self.instance_of(spec, {}, pos_of(node)), [a, b], pos_of(node))
        a, b = self.dim_operand(a), self.dim_operand(b)
        if isinstance(a, float) or isinstance(b, float):
            if node.data in ("floordiv", "mod"):
                raise ArgumentError("// and % take whole numbers")
            return float(op(a, b))
        return op(a, b)

    def ev_add(self, node):
        return self._arith(node, lambda a, b: a + b)

    def ev_sub(self, node):
        return self._arith(node, lambda a, b: a - b)

    def ev_mul(self, node):
        return self._arith(node, lambda a, b: a * b)

    def ev_div(self, node):
        return self._arith(node, lambda a, b: a / b)

    def ev_floordiv(self, node):
        return self._arith(node, lambda a, b: sp.floor(a / b))

    def ev_mod(self, node):
        return self._arith(node, sp.Mod)

    def ev_pow(self, node):
        return self._arith(node, lambda a, b: a ** b)

    def ev_neg(self, node):
        return -self.dim_operand(self.eval(node.children[0]))

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
        if isinstance(callee, LayerInstance):
            if kwargs:
                raise ArgumentError("a configured layer is applied to tensors only", pos)
            return self.apply(callee, [self.tensor_arg(v, p) for v, p in args], pos)
        if isinstance(callee, Word) and callee.name in _DIM_FUNCTIONS:
            fn = _DIM_FUNCTIONS[callee.name]
            return fn(*[self.dim_operand(v) for v, _ in args])
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
        spec = lookup(word.name)
        if spec is None:
            raise UnknownName(f"unknown layer '{word.name}'", word.pos,
                              did_you_mean(word.name, catalog.names() + list(self.program.blocks)) or
                              "run `symparams layers` to list the catalog")
        inputs = []
        while args and isinstance(args[0][0], Tensor):
            inputs.append(args.pop(0)[0])
        options = {k: v for k, (v, _) in kwargs.items() if k not in ("name", "trainable")}
        try:
            config = spec.bind([v for v, _ in args], options)
        except SymparamsError as e:
            if e.pos is None:
                e.pos = self._arg_pos(e, args, kwargs, pos)
            raise
        inst = LayerInstance(spec, config, pos, typed_name=str(word.name))
        if "name" in kwargs:
            value = kwargs["name"][0]
            inst.row_name = value.name if isinstance(value, Word) else str(value)
        if "trainable" in kwargs:
            inst.trainable = catalog.registry.Bool.convert(kwargs["trainable"][0], "trainable")
        if inputs:
            return self.apply(inst, inputs, pos)
        return inst

    @staticmethod
    def _arg_pos(error, args, kwargs, pos):
        for key, (_, p) in kwargs.items():
            if f"'{key}'" in error.message or f"'s {key}" in error.message:
                return p
        return pos

    def instance_of(self, spec: LayerSpec, config: dict, pos) -> LayerInstance:
        return LayerInstance(spec, spec.bind([], config), pos, typed_name=spec.name)

    def auto_name(self, inst: LayerInstance) -> str:
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
        return name

    def apply(self, inst: LayerInstance, inputs: list, pos) -> Tensor:
        spec = inst.spec
        if not spec.variadic and len(inputs) != spec.n_inputs:
            raise ArgumentError(f"{spec.name} takes {spec.n_inputs} input tensor"
                                f"{'s' if spec.n_inputs != 1 else ''}, found {len(inputs)}", pos)
        if spec.variadic and len(inputs) < 2:
            raise ArgumentError(f"{spec.name} merges two or more tensors, found {len(inputs)}", pos)
        conditions = []
        token = recorded_conditions.set(conditions)
        try:
            out = spec.apply([t.shape for t in inputs], inst.config, self.convention)
        except SymparamsError as e:
            if e.pos is None:
                e.pos = pos
            raise
        finally:
            recorded_conditions.reset(token)
        for relation, text in conditions:
            self.constraints.append(Constraint(relation, text, pos))
        params, non_trainable, note = sp.sympify(out.params), sp.sympify(out.non_trainable), ""
        if inst.owner is not None:
            params = non_trainable = sp.Integer(0)
            note = f"shares weights with {inst.owner.name}"
        elif not inst.trainable:
            non_trainable = params
            note = "frozen"
        name = self.auto_name(inst)
        self.row_names.add(name)
        row = Row(name, self.convention.layer_type(spec), [t.source for t in inputs], tuple(out.shape), params,
                  non_trainable, sp.sympify(out.buffers) if inst.owner is None else sp.Integer(0),
                  sp.sympify(out.macs), pos, note, spec=spec, config=inst.config,
                  input_shapes=[t.shape for t in inputs])
        if inst.owner is None:
            inst.owner = row
        self.rows.append(row)
        return Tensor(tuple(out.shape), name, inputs[0].dtype if spec.name == "flatten" else None)


def parse(text: str, filename: str | None = None, model: str | None = None,
          convention: str | None = None) -> Model:
    """Derive a model's formulas from source text."""
    return Program(text, filename).model(model, convention)


def load(path, model: str | None = None, convention: str | None = None) -> Model:
    """Derive a model's formulas from a .sp file."""
    from pathlib import Path
    p = Path(path)
    try:
        text = p.read_text()
    except OSError as e:
        raise SymparamsError(f"cannot read the file: {e.strerror}").attach("", str(path)) from None
    return parse(text, str(path), model, convention)
