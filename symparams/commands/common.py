"""Options shared by the subcommands that read a model file."""
from __future__ import annotations

import functools

from ..errors import ArgumentError, SymparamsError
# Imported with the command, not when it runs: cli.main imports the command with the cyclic
# collector paused, and the interpreter and the catalog are most of what a model-reading command
# imports past sympy (1% of a cold summary's instructions; docs/performance.md, "Cold command").
from ..interpreter import read


def add_model_arguments(parser, sets: bool = True) -> None:
    parser.add_argument("file", help="a .sp model file, a Hugging Face config.json (or its folder), or a Keras .keras file or JSON")
    parser.add_argument("--model", help="which model of the file (default: the first)")
    parser.add_argument("--convention", choices=["keras", "torch"],
                        help="count as Keras or PyTorch does (default: the file's, else keras)")
    if sets:
        parser.add_argument("--set", nargs="+", action="extend", default=[], metavar="NAME=VALUE",
                            help="symbol values, e.g. --set H=512 W=512 (default: the model's defaults)")


def add_count_options(parser) -> None:
    """--per-batch and --dtype, for the commands that compute MACs, FLOPs and bytes."""
    from ..units import DTYPES, dtype_name
    parser.add_argument("--per-batch", action="store_true",
                        help="MACs and FLOPs for a batch of B examples instead of one")
    parser.add_argument("--dtype", type=dtype_name, choices=DTYPES, default=None,
                        help="the size of a number for param_bytes, memory, kv_cache and activations "
                             "(default: the quantity's own, named in the output: float32 for param_bytes "
                             "and memory, bfloat16 for kv_cache and activations; also fp32, bf16, fp16, fp8)")


def add_accounting_options(parser) -> None:
    """The quantities' options (symparams/quantities/registry.py OPTIONS) as flags, for the commands that compute them."""
    from ..quantities import OPTIONS
    from ..units import DTYPES, dtype_name
    group = parser.add_argument_group("training and inference accounting (docs/llm.md)")
    for option in OPTIONS.values():
        if option.name == "dtype":
            continue      # add_count_options
        flag = "--" + option.name.replace("_", "-")
        if option.kind == "flag":
            group.add_argument(flag, action="store_true", help=option.help)
        elif option.kind == "devices":
            group.add_argument(flag, default="1", metavar="N", help=option.help)
        elif option.kind == "stage":
            group.add_argument(flag, type=int, choices=option.choices, default=0, help=option.help)
        elif option.kind == "number":
            group.add_argument(flag, default=None, metavar="N", help=option.help)
        elif option.kind == "names":
            group.add_argument(flag, default=None, metavar="NAME,...", help=option.help)
        elif option.choices is DTYPES:
            group.add_argument(flag, type=dtype_name, choices=option.choices, default=None, metavar="DTYPE",
                               help=option.help)
        else:
            group.add_argument(flag, choices=option.choices, default=None, help=option.help)


def accounting_settings(args, model):
    """The options as symparams.quantities.Options; a device count may name a symbol."""
    from ..dims import symbol
    from ..quantities import OPTIONS, Options

    def devices(option):
        text = getattr(args, option).strip()
        if text.isidentifier():
            return model.symbols.get(text) or symbol(text)
        n = parse_number(text, f"--{option}")
        if n < 1:
            raise ArgumentError(f"--{option} must be 1 or more, found {n}")
        return n
    given = {}
    for name, option in OPTIONS.items():
        value = getattr(args, name, None)
        if option.kind == "devices":
            value = devices(name)
        elif option.kind == "number" and value is not None:
            value = parse_number(value, f"--{name.replace('_', '-')}")
        if value is not None:
            given[name] = value
    return Options(**given)


def reports_as(command: str):
    """Decorates a command's run(args): an error that points into no file is a mistake in the request
    (an option's value), so it is reported as the command's, e.g. `symparams solve: ...`."""
    def decorate(run):
        @functools.wraps(run)
        def run_reporting(args):
            try:
                return run(args)
            except SymparamsError as e:
                raise e.attach(None, command)
        return run_reporting
    return decorate


def parse_number(text: str, what: str) -> int:
    from ..bounds import option_value
    return option_value(text, what)


def parse_assignments(items) -> dict:
    """['H=512', 'W=512'] -> {'H': 512, 'W': 512}."""
    out = {}
    for item in items:
        name, eq, value = item.partition("=")
        if not eq or not name.strip():
            raise ArgumentError(f"--set takes NAME=VALUE, found '{item}'")
        out[name.strip()] = parse_number(value, f"the value of {name.strip()}")
    return out


def load_model(args):
    """The model the options name: from the file, or from a program already in memory (the REPL's).
    A --set of a config.json's field its program has no symbol for (one it writes as the config's
    number, or one no formula names) imports the config again with the field set there."""
    return load_program(args)[1]


def load_program(args) -> tuple:
    """(the program's text, or None for one in memory; the model the options name; the config's
    fields it was imported again at, {} where it was not): as `load_model`."""
    import sys
    program = getattr(args, "program", None) or read(args.file)
    model = program.model(args.model, args.convention)
    # (only a name the program lacks is read here: solve's --set takes lists, L=12,24,48)
    unknown = [item for item in getattr(args, "set", None) or []
               if item.partition("=")[0].strip() not in model.symbols and "," not in item]
    given, numbers = parse_assignments(unknown), {}
    if getattr(args, "program", None) is None and given:
        from ..importers.huggingface import config_numbers, is_config_path, why_again
        numbers = config_numbers(program.text, given, args.file) if is_config_path(args.file) else {}
        if numbers:
            settings = ", ".join(f"{k}={v}" for k, v in numbers.items())
            again = read(args.file, numbers)
            # (a field transformers ignores here, Mamba's expand beside a stated intermediate_size)
            same = "; transformers builds the same model there" if again.text == program.text else ""
            print(f"note: {why_again(program.text, list(numbers))}: imported again at {settings}{same}",
                  file=sys.stderr)
            model = again.model(args.model, args.convention)
            args.set = [item for item in args.set if item.partition("=")[0].strip() not in numbers]
    return (None if getattr(args, "program", None) else program.text), model, numbers


def config_fields(args, text: str | None, names) -> set:
    """Of `names` (a --vary's, a --for's), fields of a config.json its program (`text`, the general
    route's) has no symbol for, which an import again sets (`reimportable`); none where the file is
    no config.json."""
    from ..importers.huggingface import is_config_path, reimportable
    if text is None or not is_config_path(args.file) or not names:
        return set()
    return set(names) & set(reimportable(text, args.file))
