"""`symparams verify FILE`: build the model in PyTorch and/or Keras and compare every layer's
counts and output shape with the formulas. Exit 0 all agree, 1 any differ, 2 a user's mistake."""
from __future__ import annotations

import random

from .common import add_model_arguments, parse_assignments


def add_arguments(p):
    add_model_arguments(p)
    p.add_argument("--framework", choices=["torch", "keras", "both"],
                   help="which framework to check against (default: both; with --convention, the one that "
                        "counts that way)")
    p.add_argument("--samples", type=int, default=2, metavar="N",
                   help="random size settings to check after the given values (default: 2)")
    p.add_argument("--seed", type=int, default=0, help="seed of the random size settings (default: 0)")


def frameworks(args, program) -> tuple[list, bool]:
    """The frameworks to check, and whether the user named them (then each must fit the model).

    By default both, unless the file declares its convention (`convention torch`): a file written
    for one framework's layout is checked against that framework."""
    if args.framework:
        return (["torch", "keras"] if args.framework == "both" else [args.framework]), True
    if args.convention:
        return [args.convention], True
    declared = program.declared_convention
    if declared:
        print(f"checking {declared} only: the file declares `convention {declared}` "
              f"(--framework both checks the other as well)\n")
        return [declared], False
    return ["torch", "keras"], False


def run(args):
    from ..errors import ArgumentError, SymparamsError
    from ..interpreter import read
    from ..verify import FRAMEWORKS, network_module, version
    from ..verify.compare import check, render, verdict
    from ..verify.sizes import base_values, draw

    if args.samples < 0:
        raise ArgumentError(f"--samples must be 0 or more, found {args.samples}")
    program = read(args.file)
    chosen, explicit = frameworks(args, program)
    overrides = parse_assignments(args.set)
    models, refused = {}, []
    for fw in chosen:
        try:
            model = program.model(args.model, FRAMEWORKS[fw])
        except SymparamsError as e:
            model = e
        if not isinstance(model, SymparamsError):
            model.values(overrides)           # an unknown --set name is the user's mistake either way
            try:
                model.evaluate(overrides)
            except SymparamsError as e:
                model = e
        if isinstance(model, SymparamsError):
            if explicit:
                raise model
            # Written for one layout only (e.g. (H, W, C) images read channels first).
            print(f"skipping {fw}: the model does not fit the {FRAMEWORKS[fw]} convention at these values\n"
                  f"  {str(model).splitlines()[0]}\n")
            refused.append(model)
            continue
        try:
            network_module(fw)
        except SymparamsError as e:
            raise e.attach(None, args.file)
        models[fw] = model
    if not models:
        raise refused[0]
    first = next(iter(models.values()))
    base = base_values(first, overrides)
    settings = [base] + draw(list(models.values()), base, args.samples, random.Random(args.seed))
    failed = False
    for i, values in enumerate(settings):
        for fw, model in models.items():
            result = check(model, fw, values)
            failed |= not result.ok
            where = ", ".join(f"{k}={v}" for k, v in result.values.items())
            label = f"{model.name} at {where} — {version(fw)}, {FRAMEWORKS[fw]} convention"
            if i == 0 or not result.ok:
                print(render(result, ("" if i == 0 else f"random sample {i}: ") + label))
                print(verdict(result) + "\n")
            else:
                print(f"random sample {i}: {label}: {verdict(result)}")
    return 1 if failed else 0
