def add_arguments(p):
    p.add_argument("name", nargs="?", help="one layer to describe")


def run(args):
    from ..catalog import specs, lookup
    from ..errors import UnknownName, did_you_mean
    from ..catalog import names
    chosen = specs()
    if args.name:
        spec = lookup(args.name)
        if spec is None:
            raise UnknownName(f"unknown layer '{args.name}'", hint=did_you_mean(args.name, names()))
        chosen = [spec]
    for spec in chosen:
        print(f"{spec.name:22} {spec.keras_name} / {spec.torch_name}")
        print(f"{'':22} {spec.usage()}")
        if spec.doc:
            print(f"{'':22} {spec.doc.splitlines()[0]}")
    return 0
