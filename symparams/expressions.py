"""Size arithmetic from the syntax tree: the part of the language that models, blocks and
declared layers share.

The grammar builds the sympy expressions here; user text never reaches eval or sympify.
`Evaluator` knows numbers, names, `+ - * / // % **` and `ceil floor min max`; the
interpreter's Builder extends it with tensors and layers.
"""
from __future__ import annotations

import sympy as sp
from lark import Token, Tree

from .bounds import MAX_NESTING, check_constant, check_power, number_value, too_deep
from .errors import ArgumentError, Pos, SymparamsError, UnknownName, did_you_mean
from .syntax import lines_and_columns
from .values import LayerInstance, Tensor, Word

DIM_FUNCTIONS = {"ceil": sp.ceiling, "floor": sp.floor, "min": sp.Min, "max": sp.Max}


def dim_function(name: str, values: list):
    """ceil(x), floor(x), min(a, b, ...), max(a, b, ...) of sizes."""
    if name in ("ceil", "floor") and len(values) != 1:
        raise ArgumentError(f"{name} takes one size, found {len(values)}")
    if not values:
        raise ArgumentError(f"{name} takes one or more sizes, found none")
    return DIM_FUNCTIONS[name](*values)
RELATIONS = {"==": sp.Eq, "!=": sp.Ne, "<": sp.Lt, "<=": sp.Le, ">": sp.Gt, ">=": sp.Ge}
_FLIPPED = {"==": "==", "!=": "!=", "<": ">", "<=": ">=", ">": "<", ">=": "<="}


def pos_of(node) -> Pos | None:
    if isinstance(node, Token):
        return Pos(node.line, node.column, node.end_column)
    if not isinstance(node, Tree):
        return None
    where = lines_and_columns(node)
    if where is None:
        return None
    line, column, end_line, end_column = where
    return Pos(line, column, end_column if end_line == line else None)


class Evaluator:
    """Evaluates expressions over sizes; `lookup` says what a name means where it is written."""

    def lookup(self, key: str, node):
        raise NotImplementedError

    depth = 0   # how deep the evaluation is nested, bodies included (bounds.MAX_NESTING)

    def eval(self, node):
        self.depth += 1
        try:
            if self.depth > MAX_NESTING:
                raise too_deep(None)   # the node's position is given below
            return getattr(self, "ev_" + node.data)(node)
        except SymparamsError as e:
            if e.pos is None:
                e.pos = pos_of(node)
            raise
        finally:
            self.depth -= 1

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
        return self.lookup(str(node.children[0]), node)

    def ev_input(self, node):
        raise ArgumentError("'input' belongs in a model's body")

    def dim_operand(self, value):
        """Check that a value can take part in size arithmetic."""
        if isinstance(value, Word) and not value.quoted:
            raise UnknownName(f"'{value.name}' is not a symbol here", value.pos,
                              did_you_mean(value.name, value.candidates) or
                              "declare it in the model's header, e.g. model m(" + value.name + " = 8):",
                              code="not_a_symbol", subject=value.name)
        if isinstance(value, bool) or not isinstance(value, (sp.Expr, float)):
            kind = {Tensor: "a tensor", LayerInstance: "a layer", Word: "a string"}.get(type(value), "a layer")
            raise ArgumentError(f"expected a size, found {kind}")
        return value

    def combine(self, node, a, b):
        """Hook for operators between non-sizes (tensor merges); None means 'not mine'."""
        return None

    def _arith(self, node, op):
        a, b = (self.eval(c) for c in node.children)
        merged = self.combine(node, a, b)
        if merged is not None:
            return merged
        a, b = self.dim_operand(a), self.dim_operand(b)
        if node.data in ("div", "floordiv", "mod") and b == 0:
            raise ArgumentError("division by zero")
        if node.data == "pow":
            check_power(a, b)
        if isinstance(a, float) or isinstance(b, float):
            if not all(isinstance(v, float) or v.is_number for v in (a, b)):
                raise ArgumentError("a real number cannot take part in size arithmetic with symbols",
                                    hint="sizes are whole numbers; write a fraction as a division, e.g. L / 2")
            if node.data in ("floordiv", "mod"):
                raise ArgumentError("// and % take whole numbers")
            return check_constant(float(op(a, b)))
        return check_constant(op(a, b))

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
        name = str(callee_node.children[0]) if callee_node.data == "name" else None
        if name not in DIM_FUNCTIONS:
            raise ArgumentError("only ceil, floor, min and max can be called here", pos_of(callee_node))
        args = [a for a in (arg_node.children if arg_node else [])]
        if any(getattr(a, "data", None) == "kwarg" for a in args):
            raise ArgumentError(f"{name} takes no keyword arguments", pos_of(node))
        return dim_function(name, [self.dim_operand(self.eval(a)) for a in args])

    def relation(self, cond):
        """`a <= b` of a where-condition, as a sympy relational (or true / false when decided)."""
        left, op, right = cond.children
        a, b = self.dim_operand(self.eval(left)), self.dim_operand(self.eval(right))
        make = RELATIONS[str(op)]
        if isinstance(a, float) or isinstance(b, float) or (a.is_number and b.is_number):
            return make(a, b)
        # sympy's own decision asks its assumptions system, some milliseconds for each new
        # constant; a monotone polynomial (either way round) is decided from its least value.
        op = str(op)
        for flipped in (False, True):   # b - a only when a - b is not such a polynomial
            diff, rel = (b - a, _FLIPPED[op]) if flipped else (a - b, op)
            least = _least(diff)
            if least is None:
                least = _least(sp.expand(diff))
            if least is not None:
                break
        else:
            return make(a, b)
        verdict = {">=": True if least >= 0 else None, ">": True if least > 0 else None,
                   "<=": False if least > 0 else None, "<": False if least >= 0 else None,
                   "==": False if least > 0 else None, "!=": True if least > 0 else None}[rel]
        return make(a, b, evaluate=False) if verdict is None else sp.true if verdict else sp.false


def _least(diff) -> int | None:
    """The least value of a polynomial in the (positive integer) symbols whose non-constant terms
    all have positive whole coefficients -- it grows in every symbol, so the least is with every
    symbol at 1: the sum of its coefficients. None for any other expression."""
    least = 0
    for term, coeff in diff.as_coefficients_dict().items():
        if not (coeff.is_Integer and (term == 1 or coeff > 0)):
            return None
        for factor in sp.Mul.make_args(term):
            base, exp = factor.as_base_exp()
            if not (base.is_Symbol or base == 1) or not (exp.is_Integer and exp > 0):
                return None
        least += int(coeff)
    return least


class SymbolEvaluator(Evaluator):
    """Sizes over a given set of symbols alone: an expression a command takes (solve's --relate)."""

    def __init__(self, symbols: dict):
        self.symbols = symbols

    def lookup(self, key, node):
        if key in self.symbols:
            return self.symbols[key]
        return Word(key, pos_of(node), tuple(self.symbols))
