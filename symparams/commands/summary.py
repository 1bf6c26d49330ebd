from .. import render
from .common import add_model_arguments, load_model, parse_assignments


def add_arguments(p):
    add_model_arguments(p)
    p.add_argument("--format", choices=["text", "json", "markdown", "latex"], default="text")
    p.add_argument("--memory", action="store_true",
                   help="add torchsummary's memory estimate (MB) for a batch of --batch (default 1)")
    p.add_argument("--memory-rule", choices=["torchsummary", "torchinfo"], default="torchsummary",
                   help="whose estimate --memory prints (docs/memory.md says how they differ)")
    p.add_argument("--batch", type=int, default=1, help="the batch size for --memory")
    from ..units import DTYPES, dtype_name
    p.add_argument("--dtype", type=dtype_name, choices=DTYPES, default="float32",
                   help="the size of a number for --memory and the memory column (default float32; "
                        "also fp32, bf16, fp16, fp8)")
    p.add_argument("--expand", action="store_true", help="show the layers inside blocks and repeats, indented "
                   "(every level; --depth N for N levels)")
    p.add_argument("--depth", type=int, default=0, metavar="N",
                   help="show N levels of the layers inside blocks and repeats (default 0: the model's own rows)")
    from ..table import COLUMNS, DEFAULT_COLUMNS
    p.add_argument("--columns", metavar="NAMES", default=",".join(DEFAULT_COLUMNS),
                   help=f"comma-separated, as torchinfo's col_names: {', '.join(COLUMNS)} "
                        f"(default {','.join(DEFAULT_COLUMNS)}; formula adds each value's formula beneath it)")


def run(args):
    import sys
    from ..errors import ArgumentError
    from ..table import parse_columns
    if args.batch < 1:
        raise ArgumentError(f"--batch must be 1 or more, found {args.batch}")
    if args.depth < 0:
        raise ArgumentError(f"--depth must be 0 or more, found {args.depth}")
    columns = parse_columns(args.columns)
    model = load_model(args)
    ev = model.evaluate(parse_assignments(args.set))
    if args.format == "json":  # one JSON document, the memory estimate inside it
        import json
        from ..memory import estimate_json
        data = render.to_json(model, ev)
        if args.memory:
            data["memory"] = estimate_json(model, ev, args.dtype, args.batch, args.memory_rule)
        print(json.dumps(data, indent=2))
        return 0
    options = dict(expand=args.expand, depth=args.depth, columns=columns, dtype=args.dtype, batch=args.batch)
    if args.format == "text":
        options["color"] = sys.stdout.isatty()
    show = {"text": render.text_table, "markdown": render.markdown_table, "latex": render.latex_table}[args.format]
    print(show(model, ev, **options))
    if args.memory:
        from ..memory import estimate_text
        print(estimate_text(model, ev, args.dtype, args.batch, args.memory_rule))
    return 0
