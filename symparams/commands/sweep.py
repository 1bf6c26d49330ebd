"""`symparams sweep`: a model's figures over ranges of its sizes, as CSV, JSON, Markdown, a table or a plot."""
import sys

from ..render import counted
from ..errors import ArgumentError, SymparamsError
from .common import (accounting_settings, add_accounting_options, add_count_options, add_model_arguments,
                     config_fields, load_program, parse_assignments, reports_as)


def add_arguments(p):
    from ..formulas import QUANTITIES
    add_model_arguments(p)
    p.add_argument("--vary", action="append", required=True, metavar="NAME=RANGE",
                   help="d=256:4096:256 (both ends included) or L=12,24,48; several make a grid")
    p.add_argument("--of", default="params", metavar="QUANTITIES",
                   help="comma-separated: " + ", ".join(q for q in QUANTITIES if q != "shape") + " (default: params)")
    add_count_options(p)
    add_accounting_options(p)
    p.add_argument("--zip", action="store_true",
                   help="vary the symbols together, row by row (the i-th value of each), instead of over a grid")
    p.add_argument("--format", choices=["csv", "json", "markdown", "table"], default="csv")
    p.add_argument("--plot", metavar="FILE.png", help="also draw each figure against the first varied symbol")


# Imports of a config.json one sweep may make, each a few seconds: past this, a smaller range is asked for
MAX_IMPORTS = 64


@reports_as("symparams sweep")
def run(args):
    from .. import sweep
    text, model, numbers = load_program(args)
    varied = dict(sweep.parse_vary(v) for v in args.vary)
    quantities = [q.strip() for q in args.of.split(",") if q.strip()]
    again = config_fields(args, text, [n for n in varied if n not in model.symbols])
    if again:
        result = _imported_again(args, text, varied, again, quantities, numbers)
    else:
        result = sweep.run(model, varied, quantities, parse_assignments(args.set), args.dtype, args.per_batch,
                           accounting_settings(args, model), args.zip)
    show = {"csv": sweep.to_csv, "json": sweep.to_json, "markdown": sweep.to_markdown, "table": sweep.to_table}
    print(show[args.format](result))
    for rule, (n, fix) in result.broken.items():
        print(f"note: `{rule}` leaves out {n:,} of {counted(result.size, 'configuration')}"
              + (f"; {fix}" if fix else ""), file=sys.stderr)
    if result.empty:
        print(f"note: {result.empty:,} configurations leave an input or a layer a size <= 0 and are left out",
              file=sys.stderr)
    if result.fractional:
        print(f"note: {result.fractional:,} configurations give a fractional count and are left out",
              file=sys.stderr)
    if args.plot:
        sweep.plot(result, args.plot, model.name)
        print(f"wrote {args.plot}", file=sys.stderr)
    return 0


def _imported_again(args, text: str, varied: dict, again: set, quantities: list, numbers: dict):
    """The sweep where it varies fields of a config.json that its program writes as the config's
    numbers (ERNIE 4.5's num_hidden_layers) or names in no formula: the config imported again at
    each of their values, as `--set` does, and the rest of the sweep over each of those programs."""
    import itertools

    from .. import sweep
    from ..importers.huggingface import why_again
    from ..interpreter import read
    sweep.check_zip(varied, args.zip)
    names = [n for n in varied if n in again]
    both = set(names) & set(numbers)
    if both:
        raise ArgumentError(f"{', '.join(sorted(both))} is both varied and set")
    for name in names:
        low = [v for v in varied[name] if v < 1]
        if low:
            raise ArgumentError(f"--vary {name} must be 1 or more, found {low[0]}")
    settings = list(zip(*(varied[n] for n in names))) if args.zip else \
        list(itertools.product(*(varied[n] for n in names)))
    why = why_again(text, names)
    if len(settings) > MAX_IMPORTS:
        raise ArgumentError(f"{why}, so each of its {len(settings):,} values is a new import; a sweep makes at "
                            f"most {MAX_IMPORTS}", hint="give fewer values of it")
    print(f"note: {why}: imported again at each of {counted(len(settings), 'value')}", file=sys.stderr)
    parts = []
    for k, values in enumerate(settings):
        fields = dict(zip(names, values))
        try:
            model = read(args.file, {**numbers, **fields}).model(args.model, args.convention)
        except SymparamsError as e:     # (which value the config could not be imported at)
            e.message = f"at {', '.join(f'{n}={v}' for n, v in fields.items())}: {e.message}"
            raise
        rest = {n: ([v[k]] if args.zip else v) for n, v in varied.items() if n not in again}
        parts.append((fields, sweep.run(model, rest, quantities, parse_assignments(args.set), args.dtype,
                                        args.per_batch, accounting_settings(args, model), args.zip)))
    return sweep.joined(parts, list(varied), quantities)
