from ..render import counted
from .common import add_model_arguments, load_model, parse_assignments


def add_arguments(p):
    add_model_arguments(p)


def run(args):
    model = load_model(args)
    model.evaluate(parse_assignments(args.set))
    print(f"{args.file}: model {model.name} is well-formed: {counted(len(model.rows), 'layer')}, "
          f"{counted(len(model.constraints), 'constraint')}")
    return 0
