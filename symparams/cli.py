"""The `symparams` command. Each subcommand lives in symparams/commands/, imported on use."""
from __future__ import annotations

import argparse
import importlib
import os
import sys

from .collector import fewer_collections, loading
from .errors import SymparamsError

# name -> one-line help; the module symparams.commands.<name> holds add_arguments() and run().
COMMANDS = {
    "summary": "the Keras-style table: shapes and parameter counts, as formulas and numbers",
    "check": "parse and shape-check a model only",
    "formula": "one closed form (params, MACs, memory, shape) of a model or layer, as text, LaTeX or JSON",
    "solve": "solve for a size: the one giving a figure exactly, or the largest under a budget",
    "sweep": "evaluate figures over ranges of sizes, or row by row (CSV, JSON, Markdown, a table; --plot draws them)",
    "verify": "build the model in PyTorch / Keras and check every formula against them",
    "export": "print the model as a PyTorch nn.Module (or Keras model) at given sizes",
    "repl": "build or load a model line by line and watch its shapes, counts and formulas",
    "layers": "list the layer catalog with each layer's formula",
    "import": "write a Hugging Face config.json, a PyTorch module or a Keras model as a symparams program",
    "serve": "a local page for a model: sliders for its symbols, the live table, typeset formulas, solve and plot",
}

# Commands whose name is a Python keyword live in a module named with a trailing underscore.
MODULES = {"import": "import_"}


class _Parser(argparse.ArgumentParser):
    def error(self, message):  # a usage mistake is a user's mistake: exit 2 with the usage
        self.print_usage(sys.stderr)
        sys.stderr.write(f"symparams: error: {message}\n")
        raise SystemExit(2)


def build_parser(argv=None) -> argparse.ArgumentParser:
    """The parser for `argv`: every command is listed, but only the one `argv` names gets its
    arguments, so only its module is imported (each command's imports cost a cold start; issue 23).
    Without argv, every command's arguments, as the whole command line has them."""
    wanted = COMMANDS if argv is None else {_command_named(argv)}
    parser = _Parser(prog="symparams", description="Exact closed-form parameter counts, shapes and costs "
                                                   "of neural networks described with symbolic dimensions.")
    parser.add_argument("--version", action=_Version, nargs=0, help="show program's version number and exit")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    sub.required = True
    for name, help_text in COMMANDS.items():
        p = sub.add_parser(name, help=help_text, description=help_text)
        p.set_defaults(_module=name)
        if name in wanted:
            _module(name).add_arguments(p)
    return parser


def _command_named(argv) -> str | None:
    """The subcommand argv names: its first word that is not an option (the top level takes only
    -h and --version, neither with a value), or None."""
    return next((word for word in argv if not word.startswith("-")), None)


class _Version(argparse.Action):
    """--version, looked up only when asked for: importlib.metadata would cost every command 10 ms."""

    def __call__(self, parser, namespace, values, option_string=None):
        print(f"symparams {_version()}")
        parser.exit()


def _version() -> str:
    """The installed distribution's version, else the package's own (a source checkout on PYTHONPATH)."""
    from importlib.metadata import PackageNotFoundError, version
    try:
        return version("symparams")
    except PackageNotFoundError:
        from . import __version__
        return __version__


def _quiet_closed_pipe() -> int:
    """`symparams layers | head`: the reader left. Send what is still buffered nowhere, so that
    the interpreter's last flush does not complain, and exit as a process killed by SIGPIPE does."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
    return 141


def _module(name):
    return importlib.import_module(f"symparams.commands.{MODULES.get(name, name)}")


def run() -> None:
    """The `symparams` command: main(), then the process ends without tearing down its heap. A
    10,000-layer file leaves about a million objects whose teardown costs a third of a second
    (docs/performance.md, "Long input"); everything the command writes is flushed first."""
    code = main()
    try:
        sys.stdout.flush()
    except BrokenPipeError:
        code = _quiet_closed_pipe()
    sys.stderr.flush()
    os._exit(code)


def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    with loading():     # building the parser imports the command and what it stands on (sympy: most of a cold start)
        args = build_parser(argv).parse_args(argv)
    fewer_collections()
    try:
        return _module(args._module).run(args) or 0
    except SymparamsError as e:
        print(str(e), file=sys.stderr)
        return 2
    except BrokenPipeError:
        return _quiet_closed_pipe()
    except KeyboardInterrupt:
        return 130
    except RecursionError:
        print("symparams: error: the model nests too deeply to derive", file=sys.stderr)
        return 2
    except Exception as e:  # a bug of ours, not the user's: say so in one line
        if os.environ.get("SYMPARAMS_DEBUG"):
            raise
        print(f"symparams: internal error: {type(e).__name__}: {e}\n"
              "please report it; set SYMPARAMS_DEBUG=1 to see the traceback", file=sys.stderr)
        return 1
