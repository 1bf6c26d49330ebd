"""`symparams solve`: which size gives this count, or the largest size under a budget."""
from __future__ import annotations

import itertools
import json

from ..errors import ArgumentError
from .common import (accounting_settings, add_accounting_options, add_count_options, add_model_arguments, config_fields,
                     load_program, parse_number, reports_as)


def add_arguments(p):
    from ..formulas import QUANTITIES
    add_model_arguments(p, sets=False)
    p.add_argument("--for", dest="unknowns", nargs="+", required=True, metavar="SYMBOL",
                   help="the symbol to solve for (several when --relate ties the others to one)")
    goal = p.add_mutually_exclusive_group(required=True)
    goal.add_argument("--equals", metavar="N", help="the figure to reach exactly, e.g. 264710")
    goal.add_argument("--budget", metavar="N", help="an upper limit, e.g. 350M or 7e9")
    p.add_argument("--of", default="params", metavar="QUANTITY",
                   help="what the figure counts: " + ", ".join(q for q in QUANTITIES if q != "shape")
                        + " (default: params)")
    p.add_argument("--layer", help="one layer's figure instead of the whole model's")
    p.add_argument("--set", nargs="+", action="extend", default=[], metavar="NAME=VALUE",
                   help="fix other symbols; a comma list (L=12,24,48) solves once per value, as a table")
    p.add_argument("--relate", nargs="+", action="extend", default=[], metavar="NAME=EXPR",
                   help="tie a symbol to the unknown, e.g. --relate f=4*d")
    p.add_argument("--multiple-of", type=int, default=1, metavar="M", help="only multiples of M (budget)")
    direction = p.add_mutually_exclusive_group()
    direction.add_argument("--maximize", dest="direction", action="store_const", const="max",
                           help="the largest value within the budget (the default, but for a device count)")
    direction.add_argument("--minimize", dest="direction", action="store_const", const="min",
                           help="the smallest value within the budget (for a figure that falls as it grows; "
                                "the default for a device count given by name: --dp N, --tp t, --pp p, --ep e)")
    add_count_options(p)
    add_accounting_options(p)
    p.add_argument("--format", choices=["text", "json"], default="text")


def grid_assignments(items) -> tuple[dict, dict]:
    """['L=12,24', 'V=50257'] -> ({'V': 50257}, {'L': [12, 24]})."""
    fixed, grid = {}, {}
    for item in items:
        name, eq, value = item.partition("=")
        name = name.strip()
        if not eq or not name:
            raise ArgumentError(f"--set takes NAME=VALUE or NAME=V1,V2,..., found '{item}'")
        values = [parse_number(v, f"a value of {name}") for v in value.split(",")]
        (grid.__setitem__(name, values) if len(values) > 1 else fixed.__setitem__(name, values[0]))
    return fixed, grid


@reports_as("symparams solve")
def run(args):
    from .. import formulas, solve
    text, model, _ = load_program(args)
    pinned = config_fields(args, text, [n for n in args.unknowns if n not in model.symbols])
    if pinned:
        name = sorted(pinned)[0]
        from ..importers.huggingface import why_again
        raise ArgumentError(f"{why_again(text, [name])}, so no formula in it can be solved for",
                            hint=f"`symparams sweep {args.file} --vary {name}=A:B` imports the config again at each "
                                 f"value; `--set {name}=N` at one")
    of = formulas.check_quantity(args.of)
    if of == "shape":
        raise ArgumentError("solve works on counts; --of shape has no single figure to reach")
    target = parse_number(args.equals if args.equals is not None else args.budget,
                          "--equals" if args.equals is not None else "--budget")
    fixed, grid = grid_assignments(args.set)
    results = []
    for combo in itertools.product(*grid.values()):
        sets = dict(fixed, **dict(zip(grid, combo)))
        problem = solve.make_problem(model, args.unknowns, of, args.layer, sets, args.relate, args.dtype,
                                     args.per_batch, accounting_settings(args, model))
        if args.equals is not None:
            results.append((sets, solve.solve_equal(problem, target)))
        else:
            results.append((sets, solve.solve_budget(problem, target, args.direction, args.multiple_of)))
    if args.format == "json":
        print(json.dumps([_as_dict(sets, r, grid) for sets, r in results], indent=2))
    elif grid:
        print(_grid_table(results, grid, args))
    else:
        sets, r = results[0]
        print(_equality_text(r) if args.equals is not None else _budget_text(r))
    found = all((r.solutions if args.equals is not None else r.x is not None) for _, r in results)
    return 0 if found else 1


def _what(problem) -> str:
    from ..formulas import describe
    what = describe(problem.model, problem.of, problem.layer)
    return what.replace(" of ", f" ({problem.counted}) of ", 1) if problem.counted else what


def _others(problem, x) -> str:
    values = problem.values_at(x)
    shown = [f"{k}={v}" for k, v in values.items() if k != problem.unknown.name
             and any(s.name == k for s in problem.model.symbols.values())]
    return ", ".join(shown)


def _equality_text(r) -> str:
    p, u = r.problem, r.problem.unknown
    lines = []
    if len(r.solutions) == 1:
        lines.append(f"{u} = {r.solutions[0]}")
    elif r.span and r.span[1] is None:
        lines.append(f"every {u} from {r.span[0]} on gives it")
    elif r.span:
        lines.append(f"every {u} from {r.span[0]} to {r.span[1]} gives it "
                     f"({r.span[1] - r.span[0] + 1:,} solutions)")
    elif r.solutions:
        lines.append(f"{len(r.solutions)} solutions: " + ", ".join(f"{u} = {x}" for x in r.solutions))
    else:
        lines.append(f"no whole number {u} gives {_what(p)} = {r.target:,}")
    given = _others(p, r.solutions[0]) if r.solutions else ""
    lines.append(f"  {_what(p)} = {p.function} = {r.target:,}   ({r.method}; "
                 f"{'with ' + given if given else 'solved exactly'})")
    for x in r.solutions[:1]:
        lines.append(f"  check: at {u} = {x} the {p.of} is {p.value(x):,}")
    for below, above, root in r.between:
        near = ""
        if root is not None:   # sympy's exact root: a closed form for low degrees, else an indexed root
            exact = str(root)
            near = (f" {u} = {exact} ≈ {float(root):.6g}" if len(exact) < 60 and "CRootOf" not in exact
                    else f" ≈ {float(root):.6g}")
        lines.append(f"  the real solution{near} lies between {u} = {below} ({_safe(p, below)}) "
                     f"and {u} = {above} ({_safe(p, above)})")
    for x, why in r.rejected:
        lines.append(f"  {u} = {x} gives the figure but is not admissible: {why}")
    return "\n".join(lines)


def _safe(problem, x) -> str:
    from ..solve import _safe_value
    v = _safe_value(problem, x) if x >= 1 else None
    return "undefined" if v is None else f"{v:,}"


def _budget_text(r) -> str:
    p, u = r.problem, r.problem.unknown
    kind = "largest" if r.direction == "max" else "smallest"
    which = f"{kind} {u}" + (f", a multiple of {r.multiple_of}," if r.multiple_of > 1 else "")
    if r.x is None:
        if r.unbounded:
            return (f"no {kind} {u}: {_what(p)} stays within {r.limit:,} however large {u} grows"
                    if r.direction == "max" else f"no {u} keeps {_what(p)} within {r.limit:,}")
        lines = [f"no {u} keeps {_what(p)} within {r.limit:,}"]
        for x, why in r.skipped:
            lines.append(f"  {u} = {x} fits but is not admissible: {why}")
        return "\n".join(lines)
    share = float(r.headroom) / r.limit * 100 if r.limit else 0.0
    lines = [f"{u} = {r.x}",
             f"  the {which} with {_what(p)} <= {r.limit:,}" + (f" (at {_others(p, r.x)})" if _others(p, r.x) else ""),
             f"  {p.of} at {u} = {r.x}: {r.value:,}; headroom {r.headroom:,} ({share:.2f}% of the budget)"]
    if r.next_x is not None:
        nxt = "undefined" if r.next_value is None else f"{r.next_value:,}"
        lines.append(f"  the next admissible {u}, {r.next_x}, gives {nxt}")
    for x, why in r.skipped:
        lines.append(f"  {u} = {x} would fit but is excluded: {why}")
    return "\n".join(lines)


def _grid_table(results, grid, args) -> str:
    first = results[0][1].problem
    u, of = first.unknown.name, first.of
    header = list(grid) + [u, of] + (["headroom"] if args.budget is not None else [])
    rows = []
    for sets, r in results:
        cells = [str(sets[k]) for k in grid]
        if args.budget is not None:
            cells += ["none", "", ""] if r.x is None else [str(r.x), f"{r.value:,}", f"{r.headroom:,}"]
        else:
            xs = r.solutions
            cells += ["none" if not xs else ", ".join(map(str, xs)), f"{r.target:,}" if xs else ""]
        rows.append(cells)
    widths = [max(len(h), *(len(c[i]) for c in rows)) for i, h in enumerate(header)]
    out = ["  ".join(h.rjust(w) for h, w in zip(header, widths)), "  ".join("-" * w for w in widths)]
    out += ["  ".join(c.rjust(w) for c, w in zip(cells, widths)) for cells in rows]
    goal = f"<= {results[0][1].limit:,}" if args.budget is not None else f"= {results[0][1].target:,}"
    return f"{u} for {_what(first)} {goal}\n" + "\n".join(out)


def _as_dict(sets, r, grid) -> dict:
    out = {"given": sets, "unknown": r.problem.unknown.name, "of": r.problem.of, "layer": r.problem.layer,
           "function": str(r.problem.function)}
    if hasattr(r, "solutions"):
        out.update(equals=r.target, method=r.method, solutions=r.solutions,
                   rejected=[{"value": x, "why": why} for x, why in r.rejected],
                   span=list(r.span) if r.span else None)
    else:
        out.update(budget=r.limit, direction=r.direction, multiple_of=r.multiple_of, value=r.x,
                   total=r.value, headroom=r.headroom, next=r.next_x, next_total=r.next_value,
                   unbounded=r.unbounded)
    return out
