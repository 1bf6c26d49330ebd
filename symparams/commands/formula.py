"""`symparams formula`: one closed form of a model or layer, for a paper or a script."""
from .common import (accounting_settings, add_accounting_options, add_count_options, add_model_arguments, load_model,
                     parse_assignments, reports_as)


def add_arguments(p):
    from ..formulas import QUANTITIES
    add_model_arguments(p)
    p.add_argument("--of", default="params", metavar="QUANTITY",
                   help="what to give the formula of: " + ", ".join(QUANTITIES) + " (default: params)")
    p.add_argument("--layer", help="one layer (by its name in the summary) instead of the whole model")
    how = p.add_mutually_exclusive_group()
    how.add_argument("--expand", action="store_const", const="expand", dest="how", help="multiply out")
    how.add_argument("--factor", action="store_const", const="factor", dest="how", help="factor")
    how.add_argument("--collect", metavar="SYMBOL", help="collect the powers of one symbol")
    add_count_options(p)
    add_accounting_options(p)
    p.add_argument("--scientific", action="store_true", help="numbers in LaTeX as 1.24 \\times 10^{8}")
    p.add_argument("--format", choices=["text", "latex", "markdown", "json"], default="text")


@reports_as("symparams formula")
def run(args):
    from .. import formulas
    model = load_model(args)
    of = formulas.check_quantity(args.of)
    how = "collect" if args.collect else args.how
    values = formulas.evaluation_values(model, parse_assignments(args.set))
    if of == "memory" and args.layer is None and args.format == "text":
        print(_memory_breakdown(model, args, how, values))
        return 0
    expr = formulas.quantity(model, of, args.layer, args.dtype, args.per_batch, accounting_settings(args, model))
    expr = formulas.rearrange(expr, how, model, args.collect)
    res = formulas.result(model, expr, of, args.layer, values)
    if args.format == "text":
        print(formulas.as_text(model, res))
    elif args.format == "latex":
        print(formulas.as_latex(model, res, args.scientific))
    elif args.format == "markdown":
        print(formulas.as_markdown(model, res, args.scientific))
    else:
        print(formulas.as_json(model, res))
    return 0


def _memory_breakdown(model, args, how, values) -> str:
    """torchsummary's four lines, each as a closed form in bytes and its MB at the given values."""
    import sympy as sp
    from .. import formulas, memory
    est = memory.estimate(model, args.dtype)
    at = ", ".join(f"{k}={v}" for k, v in values.items())
    lines = [f"memory of model {model.name}, torchsummary's estimate with {memory.dtype_bytes(args.dtype)}-byte "
             f"numbers and a batch of {est.batch} (bytes; MB = 1024**2 bytes), at {at}:"]
    for label, expr in est.parts():
        expr = formulas.rearrange(sp.expand(expr), how, model, args.collect)
        value = expr.xreplace(values)
        lines.append(f"  {label}: {memory.megabytes(value)}   = {expr} bytes")
    return "\n".join(lines)

