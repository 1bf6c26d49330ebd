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
            from ..catalog.uncounted import SUGGESTION, reason
            why = reason(args.name)
            if why is not None:
                raise UnknownName(f"'{args.name}' is not in the catalog: {why}", hint=SUGGESTION)
            raise UnknownName(f"unknown layer '{args.name}'", hint=did_you_mean(args.name, names()))
        chosen = [spec]
    for spec in chosen:
        print(f"{spec.name:22} {spec.keras_name} / {spec.torch_name}")
        print(f"{'':22} {spec.usage()}")
        # The listing gives each entry's formula (its doc's first paragraph); one named layer its whole doc,
        # each paragraph of prose on one line (where the source wraps it is no part of it) and a declared
        # layer's declaration as written.
        if args.name:
            text = "\n\n".join(p if any(line[:1].isspace() for line in p.splitlines()) else p.replace("\n", " ")
                                 for p in spec.doc.split("\n\n"))
        else:
            text = spec.doc.split("\n\n")[0].replace("\n", " ")
        for line in text.splitlines():
            print(f"{'':22} {line}".rstrip())
    return 0
