"""Evaluating closed forms over grids of sizes, fast and exactly.

Each quantity, `where` rule and size that must stay positive is compiled once into integer NumPy
code (grid_code.py) and evaluated over a broadcast grid, each varied symbol on its own axis. The
arrays are int64 when a bound on every intermediate value over the grid shows int64 cannot
overflow, and Python integers (object arrays: exact, slower) otherwise -- so no figure is ever a
wrapped or rounded number. A configuration a rule excludes, where a size is not positive, or
where a count comes out fractional is left out and counted.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

import sympy as sp

from . import formulas, grid_code
from .errors import ArgumentError, SymparamsError, ValueProblem

INT64_MAX = 2 ** 63 - 1
MAX_GRID = 10_000_000   # configurations in one sweep: ten times the benchmark's million, well under memory


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


def check_zip(varied: dict, zipped: bool) -> None:
    lengths = {name: len(v) for name, v in varied.items()}
    if zipped and len(set(lengths.values())) > 1:
        raise ArgumentError("--zip pairs the i-th values of each --vary, so they need as many values each; found "
                            + ", ".join(f"{n}: {k}" for n, k in lengths.items()))


def check_grid_size(size: int, what: str) -> None:
    """Refuse a grid beyond MAX_GRID configurations before any of it is built."""
    if size > MAX_GRID:
        raise ArgumentError(f"{what} makes {size:,} configurations; a sweep evaluates at most {MAX_GRID:,}",
                            hint="take a larger STEP or a shorter range")


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
    together, as the rows of a paper's table of configurations); each quantity exactly, in columns.
    No varied symbol: the one configuration `sets` gives."""
    np = numpy_module()
    check_zip(varied, zipped)
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
    compiled = {q: grid_code.compile_value(e, symbols) for q, e in exprs.items()}
    rules = [(c.text, c.relation.xreplace(fixed)) for c in model.constraints]
    rules = [(text, r, None if r in (sp.true, sp.false) else grid_code.compile_condition(r, symbols))
             for text, r in rules if r is not sp.true]
    sizes = [grid_code.compile_value(d, symbols) for d in _sizes(model, fixed, symbols)]
    limits = [max(abs(v) for v in varied[n]) for n in names]
    # a rule lambdify compiles (a fraction with a size below it) gives booleans through floats, as it always has
    codes = [code for pair in [*compiled.values(), *sizes] for code in pair] + \
        [c for _, _, c in rules if c and c.fallback is None]
    bounds = [code.bound(limits) for code in codes]
    safe = all(b is not None and b <= INT64_MAX for b in bounds)
    kind = np.int64 if safe else object

    # Each varied symbol on its own axis (zipped: all on one), so a figure or rule is computed
    # over the axes it depends on, and broadcast to the grid only at the end.
    if zipped:
        arrays = [np.array(varied[n], dtype=kind) for n in names]
    else:
        arrays = [np.array(varied[n], dtype=kind).reshape([-1 if i == j else 1 for j in range(len(names))])
                  for i, n in enumerate(names)]
    shape = np.broadcast_shapes(*(a.shape for a in arrays))
    size = math.prod(shape)

    def count(mask) -> int:   # True entries of a mask over the grid, counted on its own axes
        mask = np.asarray(mask, dtype=bool)
        return int(mask.sum()) * (size // mask.size)

    # A division by zero at some configurations (sizes like 256 / (T % h)) must drop them, not
    # warn or wrap: NumPy's integers give 0 there, Python's raise.
    with np.errstate(divide="ignore", invalid="ignore"):
        try:
            keep, broken = True, {}
            for text, relation, code in rules:
                ok = False if code is None else code.evaluate(arrays, np)
                kept = count(ok)
                if kept < size:
                    broken[text] = (size - kept, fix(relation, varied))
                keep = keep & np.asarray(ok, dtype=bool)
            dropped = size - count(keep)
            valid = True
            for num, den in sizes:
                valid = valid & (np.asarray(num.evaluate(arrays, np), dtype=kind) // den.evaluate(arrays, np) > 0)
            empty = count(keep & ~np.asarray(valid, dtype=bool))
            keep = keep & valid

            figures, whole = {}, True
            for q, (num, den) in compiled.items():
                top = np.asarray(num.evaluate(arrays, np), dtype=kind)
                bottom = den.evaluate(arrays, np)
                if isinstance(bottom, int) and bottom == 1:
                    figures[q] = top
                else:
                    bottom = np.asarray(bottom, dtype=kind)
                    undefined = bottom == 0   # a Mod(x, y) that is 0 here: no figure, not a wrong one
                    bottom = np.where(undefined, 1, bottom)
                    whole = whole & ~undefined & (top % bottom == 0)
                    figures[q] = top // bottom
        except ZeroDivisionError:
            raise ValueProblem("a figure divides by zero at some configurations of the grid",
                               hint="narrow the --vary ranges, or add a `where` rule that leaves them out") from None
    fractional = count(keep & ~np.asarray(whole, dtype=bool))
    keep = keep & whole
    mask = None if count(keep) == size else np.broadcast_to(keep, shape)

    def column(values):
        # the grid's rows in the order of numpy.meshgrid(indexing="ij"), written once: the kept
        # rows picked from the broadcast view, or (every row kept) the view laid out flat
        grid = np.broadcast_to(np.asarray(values, dtype=kind), shape)
        return grid.reshape(-1) if mask is None else grid[mask]

    columns = {n: column(a) for n, a in zip(names, arrays)}
    columns.update({q: column(v) for q, v in figures.items()})
    return Result(columns, names, list(quantities), dropped, empty, fractional, "int64" if safe else "object",
                  broken, size)


def joined(parts: list, varied: list, quantities: list) -> Result:
    """One sweep of several (`parts`: ({symbol: value}, Result)), each made at fixed values of
    symbols its model does not vary (a config.json imported again at each value of a field its
    program writes as a number): those values as columns too, in `varied`'s order, the parts' rows
    one after another."""
    np = numpy_module()
    exact = "object" if any(r.exact_dtype == "object" for _, r in parts) else "int64"
    kind = object if exact == "object" else np.int64
    columns = {}
    for name in [*varied, *quantities]:
        columns[name] = np.concatenate([np.asarray(r.columns[name], dtype=kind) if name in r.columns
                                        else np.full(len(r), fixed[name], dtype=kind) for fixed, r in parts])
    broken: dict = {}
    for _, r in parts:
        for rule, (n, hint) in r.broken.items():
            broken[rule] = (broken.get(rule, (0, None))[0] + n, hint)
    return Result(columns, list(varied), list(quantities), sum(r.dropped for _, r in parts),
                  sum(r.empty for _, r in parts), sum(r.fractional for _, r in parts), exact, broken,
                  sum(r.size for _, r in parts))


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

