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
    from ..errors import ArgumentError
    from ..interpreter import load
    from ..verify import FRAMEWORKS, keras_source, torch_source
    RESERVED = {"torch": torch_source.RESERVED, "keras": keras_source.RESERVED}
    from ..verify.codegen import symbolic_names_clash
    from ..verify.make import NoCounterpart
    from ..verify.plan import EXPORT_LIMIT, make_plan

    to = args.to or args.convention or "torch"
    if args.convention and args.convention != FRAMEWORKS[to]:
        raise ArgumentError(f"export --to {to} writes the {FRAMEWORKS[to]} convention's network (its layout and "
                            f"counts), not the {args.convention} convention's")
    model = load(args.file, model=args.model, convention=FRAMEWORKS[to])
    values = parse_assignments(args.set)
    # The writers import no framework: source is printed where neither torch nor Keras is installed.
    # Sizes are written as formulas of the model's symbols, the written model's parameters.
    symbolic = not symbolic_names_clash(model, RESERVED[to])
    if to == "torch":
        name = torch_source.class_name(model.name)
        structured, flat = (lambda p: torch_source.structured_source(p, name)), \
            (lambda p: torch_source.flat_source(p, name))
    else:
        structured, flat = keras_source.structured_source, keras_source.flat_source
    try:
        # Blocks as classes (torch) or functions (keras), repeats as loops, where the weights allow.
        text = structured(make_plan(model, values, unroll_limit=1, symbolic=symbolic))
        if text is None:
            plan = make_plan(model, values, unroll_limit=EXPORT_LIMIT, symbolic=symbolic)
            for group in plan.groups():
                if group.multiplier > 1:
                    raise ArgumentError(f"{group.row.name} repeats its body {group.multiplier} times at these "
                                        f"sizes; export writes at most {EXPORT_LIMIT} copies", group.row.pos)
            text = flat(plan)
    except NoCounterpart as e:
        raise ArgumentError(f"cannot export to {to}: {e}") from None
    print(text, end="")
    return 0
