from .common import add_model_arguments, load_model, parse_assignments


def add_arguments(p):
    add_model_arguments(p)
    p.add_argument("--format", choices=["text", "json", "markdown"], default="text")
    p.add_argument("--expand", action="store_true", help="show the layers inside blocks and repeats, indented")


def run(args):
    from .. import render
    model = load_model(args)
    ev = model.evaluate(parse_assignments(args.set))
    show = {"text": render.text_table, "json": render.json_text, "markdown": render.markdown_table}[args.format]
    print(show(model, ev, expand=True) if args.expand and args.format == "text" else show(model, ev))
    return 0
