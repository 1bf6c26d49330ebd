"""`symparams import SOURCE`: a model described elsewhere, written as a symparams program."""
from __future__ import annotations


def add_arguments(p):
    p.add_argument("source", help="a Hugging Face config.json (or a folder holding one); a Keras model's .keras "
                                  "file or model.to_json() text; or FILE.py:NAME, NAME an nn.Module class or a "
                                  "function returning one, built with its parameters' defaults (those with an int "
                                  "default are the program's symbols)")
    p.add_argument("-o", "--output", metavar="OUT.sp", help="write the program there (default: print it)")
    p.add_argument("--input", action="append", default=[], metavar="SHAPE",
                   help="FILE.py:NAME only: an input's sizes without the batch, e.g. 3,224,224 (one per input)")
    p.add_argument("--dtype", choices=["float32", "int64"], default="float32",
                   help="FILE.py:NAME only: int64 for token inputs")
    p.add_argument("--symbol", action="append", default=[], metavar="NAME=VALUE",
                   help="Keras models and PyTorch modules: the sizes equal to VALUE (widths, units, filters, "
                        "depths, input sizes) become the symbol NAME, VALUE its default (repeatable); for FILE.py:NAME "
                        "with a parameter NAME, builds it with that value")


def run(args):
    from pathlib import Path
    from ..collector import loading
    from ..errors import ArgumentError, SymparamsError
    with loading():     # sympy, lark, the catalog: imported on running, not by the parser
        from ..interpreter import parse
        from ..importers import is_keras_source, keras_json
    file, _, name = args.source.rpartition(":")
    checked = False       # (a program its importer has already evaluated)
    symbols = _symbols(args.symbol, distinct=not (file.endswith(".py") and name))
    if symbols and not keras_json.is_keras(args.source) and not (file.endswith(".py") and name):
        raise ArgumentError("--symbol is for Keras models and PyTorch modules",
                            hint="a Hugging Face config's fields are symbols already")
    if keras_json.is_keras(args.source):
        config, filename = keras_json.read(args.source)
        text = keras_json.program(config, filename, symbols)
    elif file.endswith(".py") and name and is_keras_source(file):
        if args.input:
            raise ArgumentError("--input is for PyTorch modules", hint="a Keras model's inputs are its keras.Input")
        from ..importers import keras_python
        text, filename = keras_python.program(file, name, symbols), args.source
    elif file.endswith(".py") and name:
        text, filename = _torch_program(file, name, args.input, args.dtype == "int64", symbols), args.source
        checked = True      # torch_fx evaluated it, checking its counts against PyTorch's (_accounted, tree.checked)
    else:
        from ..importers import huggingface
        config, filename = huggingface.read_config(args.source)
        text = huggingface.program(config, filename)
    if not checked:
        parse(text, filename).evaluate()   # sizes that break the family's rules are refused before writing
    if not args.output:
        print(text, end="")
        return 0
    try:
        Path(args.output).write_text(text)
    except OSError as e:
        raise SymparamsError(f"cannot write the program: {e.strerror}").attach(None, args.output) from None
    return 0


def _symbols(given: list, distinct: bool = True) -> dict:
    """--symbol NAME=VALUE, each VALUE a positive whole number, each VALUE once if `distinct`."""
    from ..errors import ArgumentError
    from .common import parse_number
    symbols = {}
    for item in given:
        name, eq, value = item.partition("=")
        if not eq or not name:
            raise ArgumentError(f"--symbol takes NAME=VALUE, found {item!r}")
        number = parse_number(value, f"--symbol {name}'s value")
        if distinct and number in symbols.values():
            raise ArgumentError(f"--symbol {name}={value}: another symbol has that value",
                                hint="one symbol per value: the sizes equal to it become that symbol")
        symbols[name] = number
    return symbols


def _torch_program(file: str, name: str, inputs: list, ints: bool, symbols: dict) -> str:
    """Build NAME from FILE.py on the meta device (no memory for weights) and trace it."""
    from ..collector import loading
    from ..errors import ArgumentError, SymparamsError
    from ..importers import defined, torch_fx
    from .common import parse_number
    if not inputs:
        raise ArgumentError("a PyTorch module needs the shape of its input: --input 3,224,224 (batch left out)")
    shapes = [tuple(parse_number(size, "an --input size") for size in shape.split(",")) for shape in inputs]
    with loading():     # the user's file imports torch
        make = defined(file, name)
    try:
        return torch_fx.imported(make, shapes, ints, symbols, source=f"{file}:{name}")
    except SymparamsError as e:
        raise e.attach(None, file) from None
