"""Evaluating closed forms over grids of sizes, fast and exactly.

Each quantity is compiled once with sympy.lambdify into NumPy code over whole arrays of sizes.
Counts are whole numbers, so the compiled code keeps to integer arithmetic: a formula is put over
one denominator (numerator // denominator, with any remainder flagged), floors and ceilings of
fractions become integer floor division, piecewise sizes become numpy.where. The arrays are int64
when a bound on every intermediate value over the grid shows int64 cannot overflow, and Python
integers (object arrays: exact, slower) otherwise -- so no figure is ever a wrapped or rounded
number.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

import sympy as sp

from . import formulas
from .errors import ArgumentError, SymparamsError, ValueProblem

INT64_MAX = 2 ** 63 - 1
MAX_GRID = 10_000_000   # configurations in one sweep: ten times the benchmark's million, well under memory

# Integer operations the compiled code calls; sympy keeps them as opaque functions.
FloorDiv = sp.Function("_FloorDiv")
Where = sp.Function("_Where")
Minimum = sp.Function("_Minimum")
Maximum = sp.Function("_Maximum")


def numpy_module():
    try:
        import numpy
    except ImportError:
        raise SymparamsError("symparams sweep needs NumPy, a dependency of symparams: pip install numpy") from None
    return numpy


# ---------------------------------------------------------------- parsing --vary

def parse_vary(text: str) -> tuple[str, list[int]]:
    """'d=256:4096:256' (both ends included) or 'L=12,24,48' -> (name, values)."""
    from .bounds import option_value
    name, eq, spec = text.partition("=")
    name = name.strip()
    if not eq or not name or not spec.strip():
        raise ArgumentError(f"--vary takes NAME=START:STOP[:STEP] or NAME=V1,V2,..., found '{text}'")
    if ":" in spec:
        parts = [option_value(p, f"a bound of {name}") for p in spec.split(":")]
        if len(parts) not in (2, 3):
            raise ArgumentError(f"--vary {name} takes START:STOP or START:STOP:STEP, found '{spec}'")
        start, stop, step = parts[0], parts[1], parts[2] if len(parts) == 3 else 1
        if step <= 0 or stop < start:
            raise ArgumentError(f"--vary {name}={spec} is empty: it needs START <= STOP and a positive STEP")
        check_grid_size((stop - start) // step + 1, f"--vary {name}={spec}")   # len(range) overflows past 2**63
        return name, list(range(start, stop + 1, step))
    return name, [option_value(v, f"a value of {name}") for v in spec.split(",")]


def check_grid_size(size: int, what: str) -> None:
    """Refuse a grid beyond MAX_GRID configurations before any of it is built."""
    if size > MAX_GRID:
        raise ArgumentError(f"{what} makes {size:,} configurations; a sweep evaluates at most {MAX_GRID:,}",
                            hint="take a larger STEP or a shorter range")


# ---------------------------------------------------------------- compiling to integer NumPy code

def integer_form(expr) -> sp.Expr:
    """The same value, computed with + - * ** and floor division only (no fractions, no floats)."""
    expr = sp.sympify(expr)
    if expr.is_Atom:
        return expr
    args = [integer_form(a) for a in expr.args] if not isinstance(expr, sp.Piecewise) else None
    if isinstance(expr, (sp.floor, sp.ceiling)):
        num, den = sp.fraction(sp.together(args[0]))
        num, den = sp.expand(num), sp.expand(den)
        if den == 1:
            return num
        return FloorDiv(num, den) if isinstance(expr, sp.floor) else -FloorDiv(-num, den)
    if isinstance(expr, sp.Piecewise):
        (value, cond), *rest = expr.args
        otherwise = integer_form(sp.Piecewise(*rest)) if rest else sp.Integer(0)
        if cond is sp.true:
            return _whole(integer_form(value))
        return Where(_condition(cond), _whole(integer_form(value)), otherwise)
    if isinstance(expr, (sp.Min, sp.Max)):
        fn = Minimum if isinstance(expr, sp.Min) else Maximum
        return _pairwise(fn, [_whole(a) for a in args])
    return expr.func(*args)


def _whole(expr) -> sp.Expr:
    num, den = sp.fraction(sp.together(expr))
    return sp.expand(num) if den == 1 else FloorDiv(sp.expand(num), sp.expand(den))


def _condition(cond):
    if isinstance(cond, sp.core.relational.Relational):
        return cond.func(integer_form(cond.lhs), integer_form(cond.rhs))
    return cond.func(*[_condition(a) for a in cond.args])


def _pairwise(fn, items):
    out = items[0]
    for item in items[1:]:
        out = fn(out, item)
    return out


def bound(expr, limits: dict):
    """An upper bound on |value| and every intermediate value of `expr` over the grid; None if unknown."""
    if expr.is_Integer:
        return abs(int(expr))
    if expr.is_Symbol:
        return limits.get(expr)
    if isinstance(expr, (sp.Add, sp.Mul, FloorDiv, Where, Minimum, Maximum, sp.Mod)) or \
            isinstance(expr, sp.core.relational.Relational) or isinstance(expr, (sp.And, sp.Or, sp.Not)):
        parts = [bound(a, limits) for a in expr.args]
        if any(p is None for p in parts):
            return None
        if isinstance(expr, sp.Add):
            return sum(parts)
        if isinstance(expr, sp.Mul):
            out = 1
            for p in parts:
                out *= p
            return out
        return max(parts)
    if isinstance(expr, sp.Pow) and expr.exp.is_Integer and expr.exp > 0:
        base = bound(expr.base, limits)
        return None if base is None else base ** int(expr.exp)
    return None


@dataclass
class Compiled:
    """One quantity as NumPy code: value = numerator // denominator over the grid."""
    name: str
    numerator: object
    denominator: object
    parts: tuple


def _namespace(np):
    # the module object, not the name "numpy": with the name lambdify runs `from numpy import *`
    # on every call (5 ms each against 0.8 ms)
    return {"_FloorDiv": lambda a, b: a // b, "_Where": np.where, "_Minimum": np.minimum, "_Maximum": np.maximum}


def compile_quantity(name, expr, symbols: list) -> Compiled:
    np = numpy_module()
    num, den = sp.fraction(sp.together(integer_form(expr)))
    num, den = sp.expand(num), sp.expand(den)
    modules = [_namespace(np), np]
    return Compiled(name, sp.lambdify(symbols, num, modules=modules), sp.lambdify(symbols, den, modules=modules),
                    (num, den))


# ---------------------------------------------------------------- the sweep

@dataclass
class Result:
    columns: dict          # name -> 1-D array (varied symbols first, then quantities)
    varied: list           # names of the varied symbols
    quantities: list
    dropped: int           # configurations a `where` rule excluded
    empty: int             # configurations where some layer's output has a size <= 0
    fractional: int        # configurations where a count came out fractional (dropped too)
    exact_dtype: str       # "int64" or "object"
    broken: dict = field(default_factory=dict)   # a `where` rule's text -> (configurations it excluded, a fix)
    size: int = 0          # configurations tried

    def rows(self):
        names = list(self.columns)
        for i in range(len(self.columns[names[0]])):
            yield {n: int(self.columns[n][i]) for n in names}

    def __len__(self):
        return len(next(iter(self.columns.values())))


def run(model, varied: dict, quantities: list, sets: dict | None = None, dtype: str = "float32",
        per_batch: bool = False, settings=None, zipped: bool = False) -> Result:
    """Every combination of the varied symbols' values (or, `zipped`, the i-th value of each
    together, as the rows of a paper's table of configurations); each quantity exactly, in columns."""
    np = numpy_module()
    if not varied:
        raise ArgumentError("give at least one --vary NAME=START:STOP[:STEP]")
    lengths = {name: len(v) for name, v in varied.items()}
    if zipped and len(set(lengths.values())) > 1:
        raise ArgumentError("--zip pairs the i-th values of each --vary, so they need as many values each; found "
                            + ", ".join(f"{n}: {k}" for n, k in lengths.items()))
    for q in quantities:
        if formulas.check_quantity(q) == "shape":
            raise ArgumentError("a sweep evaluates counts; --of shape is not one")
    if not zipped:
        check_grid_size(math.prod(len(v) for v in varied.values()), "the grid of --vary " + " by ".join(varied))
    sets = sets or {}
    fixed = model.assignments(sets, free=varied, batch=1)   # every symbol not varied: a value or a formula in them
    both = set(varied) & set(sets)
    if both:
        raise ArgumentError(f"{', '.join(sorted(both))} is both varied and set")
    names = list(varied)
    symbols = [model.symbol(n) for n in names]
    exprs = {q: sp.sympify(formulas.quantity(model, q, None, dtype, per_batch, settings)).xreplace(fixed) for q in quantities}
    for q, e in exprs.items():
        missing = e.free_symbols - set(symbols)
        if missing:
            raise ArgumentError(f"{', '.join(sorted(map(str, missing)))} has no value for the {q} sweep",
                                hint="give it with --set or --vary")
    compiled = [compile_quantity(q, e, symbols) for q, e in exprs.items()]
    limits = {s: max(abs(v) for v in varied[n]) for s, n in zip(symbols, names)}
    bounds = [bound(p, limits) for c in compiled for p in c.parts]
    safe = all(b is not None and b <= INT64_MAX for b in bounds)
    kind = np.int64 if safe else object

    axes = [np.array(varied[n], dtype=kind) for n in names]
    grid = [g.ravel() for g in np.meshgrid(*axes, indexing="ij")] if len(axes) > 1 and not zipped else axes
    size = len(grid[0])
    # A division by zero at some configurations (sizes like 256 / (T % h)) must drop them, not
    # warn or wrap: NumPy's integers give 0 there, Python's raise.
    with np.errstate(divide="ignore", invalid="ignore"):
        try:
            keep = np.ones(size, dtype=bool)
            broken = {}
            for c in model.constraints:
                relation = c.relation.xreplace(fixed)
                if relation is sp.true:
                    continue
                if relation is sp.false:
                    ok = np.zeros(size, dtype=bool)
                else:
                    ok = sp.lambdify(symbols, _condition(relation), modules=[_namespace(np), np])(*grid)
                    ok = np.broadcast_to(np.asarray(ok, dtype=bool), (size,))
                if not ok.all():
                    broken[c.text] = (int(size - ok.sum()), fix(relation, varied))
                keep &= ok
            dropped = int(size - keep.sum())
            valid = np.ones(size, dtype=bool)
            for dim in _sizes(model, fixed, symbols):
                fn = sp.lambdify(symbols, _whole(integer_form(dim)), modules=[_namespace(np), np])
                valid &= np.broadcast_to(np.asarray(fn(*grid)) > 0, (size,))
            empty = int((keep & ~valid).sum())
            keep &= valid

            values, whole = {}, np.ones(size, dtype=bool)
            for c in compiled:
                num = np.broadcast_to(np.asarray(c.numerator(*grid), dtype=kind), (size,))
                den = np.broadcast_to(np.asarray(c.denominator(*grid), dtype=kind), (size,))
                if c.parts[1] == 1:
                    values[c.name] = num
                else:
                    undefined = den == 0   # a Mod(x, y) that is 0 here: no figure, not a wrong one
                    den = np.where(undefined, 1, den)
                    whole &= ~undefined & (num % den == 0)
                    values[c.name] = num // den
        except ZeroDivisionError:
            raise ValueProblem("a figure divides by zero at some configurations of the grid",
                               hint="narrow the --vary ranges, or add a `where` rule that leaves them out") from None
    fractional = int((keep & ~whole).sum())
    keep &= whole
    columns = {n: g[keep] for n, g in zip(names, grid)}
    columns.update({q: v[keep] for q, v in values.items()})
    return Result(columns, names, list(quantities), dropped, empty, fractional, "int64" if safe else "object",
                  broken, size)


def fix(relation, varied: dict) -> str | None:
    """A --vary that keeps a divisibility rule (`where d % h == 0` at h=12): the varied symbol's
    range stepped by a multiple of the divisor, about as dense as the one given."""
    if not (isinstance(relation, sp.Eq) and relation.rhs == 0 and isinstance(relation.lhs, sp.Mod)):
        return None
    a, b = relation.lhs.args
    if not (a.is_Symbol and a.name in varied and b.is_Integer):
        return None
    values, b = sorted(varied[a.name]), int(b)
    step = values[1] - values[0] if len(values) > 1 else b
    step = b * max(1, -(-step // b))
    start = b * max(1, -(-values[0] // b))
    if start > values[-1]:
        return f"no {a.name} from {values[0]} to {values[-1]} is a multiple of {b}"
    return f"--vary {a.name}={start}:{values[-1]}:{step} keeps {a.name} a multiple of {b}"


def _sizes(model, fixed: dict, symbols: list) -> set:
    """Every distinct input and output size that depends on the varied symbols (each must stay
    positive), as Evaluation.check requires of one setting."""
    sizes = [sp.sympify(d) for t in model.inputs for d in t.shape] + [d for _, _, d in model.sizes_to_check]
    return {d for d in (d.xreplace(fixed) for d in sizes) if d.free_symbols & set(symbols)}


# ---------------------------------------------------------------- output

def to_csv(result: Result) -> str:
    names = list(result.columns)
    lines = [",".join(names)]
    cols = [result.columns[n].tolist() for n in names]
    lines += [",".join(str(v) for v in row) for row in zip(*cols)]
    return "\n".join(lines)


def to_table(result: Result) -> str:
    """Aligned columns with thousands separators, for a terminal (the REPL's :sweep)."""
    names = list(result.columns)
    cells = [names] + [[f"{v:,}" for v in row] for row in zip(*[result.columns[n].tolist() for n in names])]
    widths = [max(len(row[i]) for row in cells) for i in range(len(names))]
    return "\n".join("  ".join(c.rjust(w) for c, w in zip(row, widths)) for row in cells)


def to_markdown(result: Result) -> str:
    names = list(result.columns)
    lines = ["| " + " | ".join(names) + " |", "|" + "---:|" * len(names)]
    cols = [result.columns[n].tolist() for n in names]
    for row in zip(*cols):
        lines.append("| " + " | ".join(f"{v:,}" for v in row) + " |")
    return "\n".join(lines)


def to_json(result: Result) -> str:
    import json
    return json.dumps({"varied": result.varied, "quantities": result.quantities, "dropped_by_where": result.dropped,
                       "broken_rules": {rule: n for rule, (n, _) in result.broken.items()},
                       "rows": list(result.rows())}, indent=1)


def plot(result: Result, path: str, model_name: str) -> None:
    """Each quantity against the first varied symbol, one line per setting of the others."""
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        raise SymparamsError("--plot needs matplotlib, an optional extra: pip install 'symparams[plot]' "
                             "(or pip install matplotlib)") from None
    x_name, others = result.varied[0], result.varied[1:]
    fig, axes = plt.subplots(len(result.quantities), 1, figsize=(7, 3.2 * len(result.quantities)), squeeze=False)
    np = numpy_module()
    keys = sorted(set(zip(*[result.columns[o].tolist() for o in others]))) if others else [()]
    for ax, q in zip(axes[:, 0], result.quantities):
        for key in keys:
            mask = np.ones(len(result), dtype=bool)
            for o, v in zip(others, key):
                mask &= result.columns[o] == v
            xs = result.columns[x_name][mask].tolist()
            ys = [float(y) for y in result.columns[q][mask].tolist()]
            label = ", ".join(f"{o}={v}" for o, v in zip(others, key)) or None
            ax.plot(xs, ys, marker=".", label=label)
        ax.set_xlabel(x_name)
        ax.set_ylabel(q)
        if others:
            ax.legend()
    axes[0, 0].set_title(model_name)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)

