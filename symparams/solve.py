"""Solving a model's formulas for one symbol: equalities and budgets, exactly.

A problem is a quantity (params, MACs, memory, ...) of a model or layer as a function of one
unknown, the other symbols fixed at their defaults or given values, and possibly tied to the unknown
by relations the user wrote (`f = 4*d`). Where that function is a polynomial, sympy's exact real
roots give the candidates and evaluation verifies every integer answer; otherwise (floors,
piecewise sizes) an exact integer search brackets and bisects it, assuming the quantity moves
one way as the unknown grows -- and the answer is again checked by evaluation. No answer is a
rounded float: a solution is a whole number that, put back in, gives the figure exactly.
"""
from __future__ import annotations

from dataclasses import dataclass, field, replace

import sympy as sp

from . import formulas, quantities, units
from .bounds import at
from .errors import ArgumentError, Pos, SymparamsError, UnknownName, ValueProblem, did_you_mean

# The search gives up beyond this (about 9.2e18, int64's range): a size larger is not a size.
SEARCH_LIMIT = 2 ** 63
# How many candidates a constrained answer may step over before saying none was found.
MAX_STEPS = 100_000


# ---------------------------------------------------------------- relations in the project's grammar

def parse_relation(model, text: str, names: dict) -> tuple[sp.Symbol, sp.Expr]:
    """'f=4*d' -> (f, 4*d). The right side goes through the language's grammar and interpreter."""
    left, eq, right = text.partition("=")
    if not eq or not left.strip() or not right.strip():
        raise ArgumentError(f"--relate takes NAME=EXPRESSION, like f=4*d; found '{text}'")
    name = left.strip()
    if name not in names:
        raise UnknownName(f"'{name}' is not a symbol of model {model.name}",
                          hint=did_you_mean(name, names) or f"its symbols are {', '.join(names)}")
    value = read_expression(text, names, "--relate", offset=text.index("=") + 1)
    if isinstance(value, float):
        raise ArgumentError(f"the relation {text} gives a fractional number").attach(text, "--relate")
    return names[name], sp.sympify(value)


def read_expression(text: str, names: dict, where: str, offset: int = 0):
    """text[offset:] as an expression in `names`' symbols, read by the language's grammar and
    evaluator (never eval); errors point into `text`, reported as `where`'s."""
    from .expressions import SymbolEvaluator
    from .syntax import parse_expression
    try:
        tree = parse_expression(text[offset:])
    except SymparamsError as e:
        raise ArgumentError(e.message, Pos(1, offset + e.pos.column)).attach(text, where) from None
    evaluator = SymbolEvaluator(dict(names))
    try:
        return evaluator.dim_operand(evaluator.eval(tree))
    except SymparamsError as e:
        if e.pos is not None:
            e.pos = Pos(1, offset + e.pos.column, None if e.pos.end_column is None else offset + e.pos.end_column)
        raise e.attach(text, where)


# ---------------------------------------------------------------- the problem

@dataclass
class Problem:
    """A quantity as a function of one unknown symbol, everything else fixed or related to it."""
    model: object
    of: str
    layer: str | None
    unknown: sp.Symbol
    function: sp.Expr                 # the quantity in the unknown alone
    assignments: dict                 # every other symbol -> its value or expression in the unknown
    counted: str | None = None        # the dtype and rule the figure is counted by ("bfloat16")
    notes: list = field(default_factory=list)
    figure: object = None             # the quantities.Figure, whose conditions a candidate must meet
    device_count: bool = False        # the unknown is a device count (--dp N, ...): a budget asks its smallest

    def value(self, x: int) -> int:
        v = at(self.function, {self.unknown: sp.Integer(x)}, self.of)
        if not v.is_Integer:
            raise ValueProblem(f"{self.of} is {v}, not a whole number, at {self.unknown} = {x}")
        return int(v)

    def values_at(self, x: int) -> dict:
        """Every symbol's value when the unknown is x (related symbols computed)."""
        out = {self.unknown.name: x}
        for sym, expr in self.assignments.items():
            v = at(expr, {self.unknown: sp.Integer(x)}, sym.name)
            out[sym.name] = v
        return out

    def trouble(self, x: int) -> str | None:
        """Why x is not an admissible answer (a `where` or shape rule fails), or None."""
        if x < 1:
            return f"{self.unknown} must be positive"
        values = self.values_at(x)
        for name, v in values.items():
            if not (sp.sympify(v).is_Integer and v > 0):
                return f"{name} = {v} is not a positive whole number"
        batch = self.model.batch.name
        model_values = {k: int(v) for k, v in values.items() if k != batch and k in self.model.symbols}
        try:
            self.model.evaluate(model_values)
        except ValueProblem as e:
            return e.message
        if self.figure is not None and self.figure.conditions:
            symbols = {sym: sp.sympify(values[sym.name]) for sym in self.assignments}
            symbols[self.unknown] = sp.Integer(x)
            try:
                self.figure.check(symbols)
            except ValueProblem as e:
                return e.message
        try:                  # a figure undefined or fractional there is no answer either, and says why
            self.value(x)
        except SymparamsError as e:
            return e.message
        return None


def make_problem(model, unknowns: list[str], of: str = "params", layer: str | None = None,
                 sets: dict | None = None, relations: list[str] = (), dtype: str | None = None,
                 per_batch: bool = False, settings=None) -> Problem:
    """Set up: which symbol is free, what the others are (defaults, --set, relations)."""
    names = {**model.symbols, model.batch.name: model.batch}
    opts = settings or quantities.Options()
    # A device count given by name (--dp N, --tp t, --pp p, --ep e) is an unknown too: the figure per
    # device, at the largest device's whole number of bytes (a count that does not divide a size
    # leaves one device the ceiling of its share).
    counts = {v.name: v for k, o in quantities.OPTIONS.items() if o.kind == "devices"
              for v in [sp.sympify(getattr(opts, k))] if isinstance(v, sp.Symbol) and v.name not in names}
    sets = dict(sets or {})
    for key in sets:
        model.symbol(key)
    for u in unknowns:
        if u in counts:
            names[u] = counts[u]
            continue
        if u not in names and of == "training_memory":
            raise UnknownName(f"model {model.name} has no symbol '{u}' to solve for",
                              hint=f"a device count is solved for by its name: give it to --dp, --tp, --pp or "
                                   f"--ep too, e.g. --dp {u} --zero 3")
        model.symbol(u, " to solve for")
        if u in sets:
            raise ArgumentError(f"{u} is both given (--set) and solved for (--for)")
    related = dict(parse_relation(model, text, names) for text in relations)
    for sym in related:
        if sym.name in sets:
            raise ArgumentError(f"{sym} is both given (--set) and related (--relate)")
    free = [u for u in unknowns if names[u] not in related]
    if len(free) != 1:
        if not free:
            raise ArgumentError("every symbol given to --for is tied by --relate: one must stay free")
        raise ArgumentError(f"{len(free)} unknowns ({', '.join(free)}) but one equation",
                            hint=f"tie them with --relate, e.g. --relate {free[1]}=4*{free[0]}, "
                                 f"or fix all but one with --set")
    unknown = names[free[0]]
    # Every other symbol: given, related, or its default (which may itself depend on the unknown);
    # one with none stays free, caught below if the quantity needs it.
    assignments = model.assignments(sets, free=[unknown.name] if unknown.name not in counts else [],
                                    related=related, batch=1)

    if dtype is not None:
        opts = replace(opts, dtype=units.check_dtype(dtype))
    fig = quantities.figure(model, of, layer, opts, per_batch)
    counted = ", ".join(c for c in (fig.dtype, fig.rule) if c) or None
    fig.check(assignments)      # a condition no value of the unknown can meet (12 heads over --tp 5)
    function = sp.sympify(fig.total).xreplace(assignments)
    if unknown.name in counts:
        function = sp.ceiling(function)
    missing = function.free_symbols - {unknown}
    if missing:
        names_missing = ", ".join(sorted(str(s) for s in missing))
        raise ArgumentError(f"{names_missing} {'has' if len(missing) == 1 else 'have'} no value",
                            hint=f"give {'it' if len(missing) == 1 else 'them'} with --set, or tie "
                                 f"{'it' if len(missing) == 1 else 'them'} to {unknown} with --relate")
    if unknown not in function.free_symbols:
        raise ArgumentError(f"{formulas.describe(model, of, layer)} does not depend on {unknown}")
    return Problem(model, of, layer, unknown, function, assignments, counted, figure=fig,
                   device_count=unknown.name in counts)


# ---------------------------------------------------------------- exact roots and integer search

def _polynomial(problem: Problem, target: int) -> sp.Poly | None:
    f = sp.expand(problem.function - target)
    if not f.is_polynomial(problem.unknown):
        return None
    return sp.Poly(f, problem.unknown)


def _positive_real_roots(poly: sp.Poly) -> list:
    return [r for r in sp.real_roots(poly) if r.is_positive]


def _first_true(pred, lo: int, hi: int) -> int:
    """Smallest x in [lo, hi] with pred(x), given pred is false then true (hi is true)."""
    while lo < hi:
        mid = (lo + hi) // 2
        if pred(mid):
            hi = mid
        else:
            lo = mid + 1
    return lo


def _grows(problem: Problem) -> bool:
    """Whether the quantity rises with the unknown (compared at 1 and a large value where both are defined)."""
    low = None
    for x in range(1, 65):
        try:
            low = (x, problem.value(x))
            break
        except (SymparamsError, TypeError):
            continue
    if low is None:
        return True
    for k in range(40, 6, -3):
        try:
            return problem.value(2 ** k) >= low[1]
        except (SymparamsError, TypeError):
            continue
    return True


def _safe_value(problem: Problem, x: int):
    try:
        return problem.value(x)
    except SymparamsError:
        return None


def _search_first(problem: Problem, pred) -> int | None:
    """Smallest positive x with pred(value(x)), pred monotone false -> true; None if never below the limit."""
    def holds(x):
        v = _safe_value(problem, x)
        return v is not None and pred(v)
    if holds(1):
        return 1
    hi = 2
    while not holds(hi):
        hi *= 2
        if hi > SEARCH_LIMIT:
            return None
    return _first_true(holds, hi // 2, hi)


# ---------------------------------------------------------------- equality

@dataclass
class Solutions:
    problem: Problem
    target: int
    method: str                      # "polynomial roots" or "integer search"
    solutions: list                  # admissible whole-number answers
    rejected: list                   # (x, why) whole numbers that give the figure but break a rule
    between: list                    # (below, above, exact root or None): consecutive whole numbers a
                                     # non-integer solution falls between
    span: tuple | None = None        # (first, last) when every integer of a range solves it


def solve_equal(problem: Problem, target: int) -> Solutions:
    poly = _polynomial(problem, target)
    integers, non_integer = [], []
    if poly is not None:
        method = "polynomial roots"
        for r in _positive_real_roots(poly):
            if r.is_Integer:
                integers.append(int(r))
            else:
                below = int(sp.floor(r))
                non_integer.append((below, below + 1, r))
        span = None
    else:
        method = "integer search"
        grows = _grows(problem)
        first = _search_first(problem, (lambda v: v >= target) if grows else (lambda v: v <= target))
        span = None
        if first is not None and _safe_value(problem, first) == target:
            past = _search_first(problem, (lambda v: v > target) if grows else (lambda v: v < target))
            last = (past - 1) if past is not None else None
            span = (first, last)
            integers = list(range(first, min(last, first + 20) + 1)) if last is not None else [first]
        elif first is not None:
            non_integer.append((first - 1, first, None))
    solutions, rejected = [], []
    for x in integers:
        if problem.value(x) != target:   # verification by evaluation; a root must give the figure exactly
            continue
        why = problem.trouble(x)
        (rejected.append((x, why)) if why else solutions.append(x))
    return Solutions(problem, target, method, solutions, rejected, non_integer,
                     span if span and span[0] != span[1] else None)


# ---------------------------------------------------------------- budget

@dataclass
class BudgetAnswer:
    problem: Problem
    limit: int
    direction: str                   # "max" or "min"
    multiple_of: int
    x: int | None
    value: int | None
    next_x: int | None = None        # the next candidate past the answer, which breaks the budget
    next_value: int | None = None
    skipped: list = field(default_factory=list)   # (x, why) candidates within budget a rule excluded
    unbounded: bool = False

    @property
    def headroom(self):
        return None if self.value is None else self.limit - self.value


def _boundary(problem: Problem, limit: int, direction: str) -> tuple[int | None, bool]:
    """(largest | smallest) positive integer with value <= limit, before `where` rules; unbounded flag."""
    fits = lambda x: (v := _safe_value(problem, x)) is not None and v <= limit  # noqa: E731
    poly = _polynomial(problem, limit)
    if poly is not None:
        roots = _positive_real_roots(poly)
        lead = poly.LC()
        if direction == "max":
            if lead < 0 or poly.degree() == 0:
                return None, fits(2 ** 62)
            # The largest integer where the polynomial is <= 0 is the floor of a root; check each.
            for r in sorted(roots, reverse=True):
                x = int(sp.floor(r))
                while x >= 1 and not fits(x):   # verification by evaluation, never trusting a float
                    x -= 1
                while fits(x + 1):
                    x += 1
                if x >= 1 and fits(x):
                    return x, False
            return None, False
        candidates = [1] + [int(sp.ceiling(r)) for r in sorted(roots)]
        for x in candidates:
            if fits(x):
                while x > 1 and fits(x - 1):
                    x -= 1
                return x, False
        return None, False
    grows = _grows(problem)
    if direction == "max":
        if not grows:
            return None, True
        first_over = _search_first(problem, lambda v: v > limit)
        if first_over is None:
            return None, True
        return (first_over - 1 if first_over > 1 else None), False
    if grows:
        return (1 if fits(1) else None), False
    return _search_first(problem, lambda v: v <= limit), False


def default_direction(problem: Problem) -> str:
    """What a budget asks of the unknown when neither --maximize nor --minimize says: the smallest
    device count (a figure per device falls as the devices grow; the largest would be unbounded), else
    the largest size."""
    return "min" if problem.device_count else "max"


def solve_budget(problem: Problem, limit: int, direction: str | None = None, multiple_of: int = 1) -> BudgetAnswer:
    """Largest (or smallest) whole unknown, a multiple of `multiple_of`, whose quantity is <= limit and
    which every `where` rule and shape admits; `direction` None: default_direction."""
    direction = direction or default_direction(problem)
    if multiple_of < 1:
        raise ArgumentError(f"--multiple-of must be positive, found {multiple_of}")
    edge, unbounded = _boundary(problem, limit, direction)
    answer = BudgetAnswer(problem, limit, direction, multiple_of, None, None, unbounded=unbounded)
    if edge is None:
        return answer
    step = -multiple_of if direction == "max" else multiple_of
    x = edge - edge % multiple_of if direction == "max" else -(-edge // multiple_of) * multiple_of
    for _ in range(MAX_STEPS):
        if x < 1:
            return answer
        v = _safe_value(problem, x)
        why = problem.trouble(x)
        if v is not None and v <= limit:
            if why is None:
                answer.x, answer.value = x, v
                break
            if len(answer.skipped) < 3:
                answer.skipped.append((x, why))
        elif why is None:   # an admissible size over the budget: walked past all that fits
            return answer
        x += step
    else:
        raise ValueProblem(f"no admissible {problem.unknown} within {MAX_STEPS:,} steps of {edge}")
    # The next admissible candidate the other way: it breaks the budget, which is why it is not the answer.
    y = answer.x - step
    for _ in range(1000):
        if y < 1:
            break
        if problem.trouble(y) is None:
            answer.next_x, answer.next_value = y, _safe_value(problem, y)
            break
        y -= step
    return answer
