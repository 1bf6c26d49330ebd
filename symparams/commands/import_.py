"""`symparams import SOURCE`: a model described elsewhere, written as a symparams program."""
from __future__ import annotations


def add_arguments(p):
    p.add_argument("source", help="a Hugging Face config.json, or a folder holding one")
    p.add_argument("-o", "--output", metavar="OUT.sp", help="write the program there (default: print it)")


def run(args):
    from pathlib import Path
    from ..errors import SymparamsError
    from ..importers import huggingface
    from ..interpreter import parse
    config, filename = huggingface.read_config(args.source)
    text = huggingface.program(config, filename)
    parse(text, filename).evaluate()   # sizes that break the family's rules are refused before writing
    if not args.output:
        print(text, end="")
        return 0
    try:
        Path(args.output).write_text(text)
    except OSError as e:
        raise SymparamsError(f"cannot write the program: {e.strerror}").attach(None, args.output) from None
    return 0
