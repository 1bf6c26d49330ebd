"""`:formula`, `:solve` and `:sweep` are the command line's own commands, run on the session's model.

Each takes exactly the options of `symparams formula|solve|sweep`: the command's add_arguments()
builds the parser and its run() does the work, on the session's program handed over in memory
(`args.program`; it is the text `:save` writes, so positions in errors map back to the typed
lines). The `:set` values go along as `--set`, except for symbols the options name themselves
(`--for d`, `--set L=12,24`).
"""
from __future__ import annotations

import argparse
import contextlib
import importlib
import io
import re

from ..errors import ArgumentError, SymparamsError
from .show import Rejected, explain

REPL_FILE = "<repl>"
# The session already says which file, model and convention: those options are hidden here.
_SESSION_OPTIONS = ("file", "model", "convention")


class _Parser(argparse.ArgumentParser):
    def error(self, message):
        raise ArgumentError(message, hint=f"type {self.prog} --help for its options")

    def exit(self, status=0, message=None):     # after --help
        raise _Done()


class _Done(Exception):
    pass


def available(name: str) -> bool:
    try:
        importlib.import_module(f"symparams.commands.{name}")
        return True
    except ModuleNotFoundError:
        return False


def run_command(name: str, args: list[str], source, values: dict) -> tuple[str, int]:
    """Run `symparams NAME FILE ARGS` on the session's text; its printed output and exit status."""
    if not available(name):
        raise SymparamsError(f":{name} needs `symparams {name}` (symparams/commands/{name}.py), "
                             "which this installation does not have")
    module = importlib.import_module(f"symparams.commands.{name}")
    parser = _Parser(prog=f":{name}")
    module.add_arguments(parser)
    for action in parser._actions:
        if action.dest in _SESSION_OPTIONS:
            action.help = argparse.SUPPRESS
    takes_sets = any("--set" in action.option_strings for action in parser._actions)
    given = " ".join(args)
    sets = [f"{k}={v}" for k, v in values.items() if not re.search(rf"\b{re.escape(k)}\b", given)]
    from ..interpreter import Program
    text, where = source.compose()
    out = io.StringIO()
    argv = [REPL_FILE, *args] + (["--set", *sets] if sets and takes_sets else [])
    try:
        options = parser.parse_args(argv)
        options.program = Program(text, REPL_FILE)
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(out):   # its notes too
            status = module.run(options) or 0
    except _Done:
        status = 0
    except SymparamsError as e:
        if e.source is not None:        # it points into the model's text: show the typed line
            raise Rejected(explain(e, where)) from None
        raise
    return out.getvalue().rstrip("\n"), status


def formula_arguments(args: list[str]) -> list[str]:
    """`:formula macs --latex` is short for `--of macs --format latex`; other options pass through."""
    out = []
    for i, arg in enumerate(args):
        if arg == "--latex":
            out += ["--format", "latex"]
        elif i == 0 and not arg.startswith("-"):
            out += ["--of", arg]
        else:
            out.append(arg)
    return out


def sweep_arguments(args: list[str]) -> list[str]:
    """`:sweep d=256:1024:256 L=12,24` is short for `--vary d=256:1024:256 --vary L=12,24`; a
    session shows an aligned table unless a --format is given."""
    out = []
    for i, arg in enumerate(args):
        if "=" in arg and not arg.startswith("-") and all("=" in a and not a.startswith("-") for a in args[:i]):
            out += ["--vary", arg]
        else:
            out.append(arg)
    return out if "--format" in out else out + ["--format", "table"]
