from .common import add_model_arguments, load_model, parse_assignments


def add_arguments(p):
    add_model_arguments(p)


def run(args):
    model = load_model(args)
    model.evaluate(parse_assignments(args.set))
    print(f"{args.file}: model {model.name} is well-formed: {len(model.rows)} layers, "
          f"{len(model.constraints)} constraints")
    return 0
