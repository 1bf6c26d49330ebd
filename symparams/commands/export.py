"""`symparams export FILE --to torch|keras`: print the network the verify builder makes, as source
a user can train from (the same constructor calls verify checks)."""
from __future__ import annotations

from .common import add_model_arguments, parse_assignments


def add_arguments(p):
    add_model_arguments(p)
    p.add_argument("--to", choices=["torch", "keras"],
                   help="PyTorch nn.Module or Keras functional model (default: --convention's framework, "
                        "else torch)")


def run(args):
    from ..errors import ArgumentError, SymparamsError
    from ..interpreter import load
    from ..verify import FRAMEWORKS, network_module
    from ..verify.make import NoCounterpart
    from ..verify.plan import EXPORT_LIMIT, make_plan
    from ..verify.torch_source import class_name

    to = args.to or args.convention or "torch"
    if args.convention and args.convention != FRAMEWORKS[to]:
        raise ArgumentError(f"export --to {to} writes the {FRAMEWORKS[to]} convention's network (its layout and "
                            f"counts), not the {args.convention} convention's")
    model = load(args.file, model=args.model, convention=FRAMEWORKS[to])
    values = parse_assignments(args.set)
    try:
        network = network_module(to)
    except SymparamsError as e:
        raise e.attach(None, args.file)
    try:
        # Blocks as classes (torch) or functions (keras), repeats as loops, where the weights allow.
        once = make_plan(model, values, unroll_limit=1)
        text = network.structured_source(once, class_name(model.name)) if to == "torch" else \
            network.structured_source(once)
        if text is None:
            plan = make_plan(model, values, unroll_limit=EXPORT_LIMIT)
            for group in plan.groups():
                if group.multiplier > 1:
                    raise ArgumentError(f"{group.row.name} repeats its body {group.multiplier} times at these "
                                        f"sizes; export writes at most {EXPORT_LIMIT} copies", group.row.pos)
            text = network.source(plan, class_name(model.name)) if to == "torch" else network.source(plan)
    except NoCounterpart as e:
        raise ArgumentError(f"cannot export to {to}: {e}") from None
    print(text, end="")
    return 0
