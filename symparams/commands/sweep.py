"""`symparams sweep`: a model's figures over ranges of its sizes, as CSV, JSON, Markdown, a table or a plot."""
import sys

from ..render import counted
from .common import (accounting_settings, add_accounting_options, add_count_options, add_model_arguments, load_model,
                     parse_assignments, reports_as)


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


@reports_as("symparams sweep")
def run(args):
    from .. import sweep
    model = load_model(args)
    varied = dict(sweep.parse_vary(v) for v in args.vary)
    quantities = [q.strip() for q in args.of.split(",") if q.strip()]
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
