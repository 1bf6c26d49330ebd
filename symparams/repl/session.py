"""The REPL's logic without a terminal: feed it lines, get back the text to show.

A Session holds the model's source (see source.py) and the values set with `:set`. Every
line either changes the source, and the model is the new text's (a line added to the body is
derived onto the last model: live.py), or is a `:command`. Whatever fails is reported with a caret under the line just typed and changes
nothing.
"""
from __future__ import annotations

import contextlib
import io
import re
import shlex
import textwrap
from dataclasses import dataclass, replace
from pathlib import Path

from .. import render
from ..catalog import lookup, names
from ..bounds import option_value
from ..conventions import get_convention
from ..errors import ArgumentError, Pos, SymparamsError, UnknownName, did_you_mean
from ..interpreter import parse
from ..syntax import read_source
from .delegate import REPL_FILE, formula_arguments, run_command, sweep_arguments
from .live import Derivations
from .show import Rejected, describe_changes, explain_typed, totals_text
from .source import Header, Source

IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z_0-9]*\Z")
PASTE = "<paste>"
MODEL_LINE = re.compile(r"model\s+[A-Za-z_][A-Za-z_0-9]*\s*[(:]")   # a header, not `model = Conv2D(...)`

# name -> (arguments, what it does); `:help` prints these and the completer offers them.
COMMANDS = {
    "load": ("FILE [MODEL]", "replace the session by a model read from a .sp file"),
    "save": ("FILE", "write the session's model as a .sp file"),
    "source": ("", "show the model's text as it would be saved"),
    "summary": ("[OPTIONS]", "the Keras-style table at the current values; the options of `symparams summary` "
                "(--columns, --depth, --memory, --format)"),
    "formula": ("[WHAT] [--latex] [OPTIONS]", "a closed form: params (the default), macs, memory, ...; "
                "the options of `symparams formula`"),
    "symbols": ("[NAME=DEFAULT ...]", "list the symbols, or declare some (a NAME alone has no default)"),
    "set": ("NAME=VALUE ...", "evaluate at these values (the model's text keeps its defaults)"),
    "unset": ("[NAME ...]", "back to the defaults for these symbols (for all, without names)"),
    "solve": ("OPTIONS", "solve for a size under a budget: the options of `symparams solve`"),
    "sweep": ("[NAME=RANGE ...] [OPTIONS]", "tabulate over ranges of sizes (d=256:1024:256, L=12,24): "
              "the options of `symparams sweep`"),
    "convention": ("[keras|torch]", "count as Keras or PyTorch does"),
    "layers": ("[LAYER]", "the layer catalog with each layer's arguments"),
    "undo": ("", "drop the last change to the model's text (saying so when it is a :load)"),
    "redo": ("", "bring back what :undo dropped"),
    "help": ("[COMMAND|LAYER]", "this list, or help on one command or layer"),
    "quit": ("", "leave (Ctrl-D too)"),
}


@dataclass
class Reply:
    text: str = ""
    ok: bool = True
    quit: bool = False


def opens_block(line: str) -> bool:
    """A line ending in ':' (block, layer, repeat) continues on the next lines; a model header does not."""
    code = line.split("#", 1)[0].rstrip()
    return code.endswith(":") and not code.lstrip().startswith("model ")


EMPTY = ((), None)      # no '(' open, outside any string


def scan(state: tuple, line: str, number: int) -> tuple:
    """The parentheses open after one more line: (the '('s still open as (line, column), an open
    quote), read as the grammar's own check reads them (syntax._unclosed_paren): strings and
    comments skipped."""
    stack, quote = list(state[0]), state[1]
    for column, ch in enumerate(line, 1):
        if quote:
            quote = None if ch == quote else quote
        elif ch in "\"'":
            quote = ch
        elif ch == "#":
            break
        elif ch == "(":
            stack.append((number, column))
        elif ch == ")" and stack:
            stack.pop()
    return tuple(stack), quote


def paren_states(lines: list[str], states: list | None = None) -> list:
    """The state after each line (`states`, if given, covers the first lines already: it is extended)."""
    states = [] if states is None else states
    for number in range(len(states), len(lines)):
        states.append(scan(states[-1] if states else EMPTY, lines[number], number + 1))
    return states


def open_paren(lines: list[str], states: list | None = None) -> tuple[int, int] | None:
    """(line, column) of the innermost '(' the lines leave open, or None: inside parentheses the
    next line goes on with the same statement."""
    states = paren_states(lines, states)
    return states[-1][0][-1] if states and states[-1][0] else None


def statements(lines: list[str], states: list | None = None) -> list[list[str]]:
    """The lines grouped into statements: a statement goes on over the lines its parentheses span."""
    states = paren_states(lines, states)
    out: list[list[str]] = []
    for number, line in enumerate(lines):
        if number and states[number - 1][0]:
            out[-1].append(line)
        else:
            out.append([line])
    return out


def statement_opens_block(lines: list[str]) -> bool:
    """A statement (one line, or several joined by parentheses) ending in ':' that is no model header."""
    return opens_block(lines[-1]) and not lines[0].lstrip().startswith("model ")


def leading(line: str) -> str:
    return line[:len(line) - len(line.lstrip())]


class Session:
    def __init__(self, convention: str | None = None):
        self.source = Source(convention=get_convention(convention).name if convention else None)
        self.undo_stack: list[tuple[Source, str]] = []   # earlier sources, and what changed them
        self.redo_stack: list[tuple[Source, str]] = []   # sources :undo left, and what had made them
        self.values: dict[str, int] = {}                  # :set values, by symbol name
        self.model = None
        self.evaluation = None
        self.derivations = Derivations()                  # the last good derivation, kept to derive onto
        self.pending: list[str] = []                      # an unfinished multi-line entry
        self._scanned: tuple[list, list] = ([], [])       # pending lines read for parentheses, their states
        self.failures = 0
        self.typed = ""                                   # the line being handled, for carets

    # ------------------------------------------------------------ input

    def states(self) -> list:
        """The parentheses after each pending line, read once each however long the entry grows."""
        lines, states = self._scanned
        if lines != self.pending[:len(lines)]:      # the entry was ended or dropped (Ctrl-C)
            lines, states = [], []
        paren_states(self.pending, states)
        self._scanned = (list(self.pending), states)
        return states

    @property
    def continuing(self) -> bool:
        return bool(self.pending)

    @property
    def indent(self) -> str:
        """What the next line of an unfinished entry starts with, as IPython indents it: the last
        statement's indentation, four spaces more after one that opens a block, and inside an open
        parenthesis four spaces more than the line that opened it."""
        if not self.pending:
            return ""
        unclosed = open_paren(self.pending, self.states())
        if unclosed:
            return leading(self.pending[unclosed[0] - 1]) + "    "
        last = statements(self.pending, self.states())[-1]
        return leading(last[0]) + ("    " if statement_opens_block(last) else "")

    def feed(self, line: str) -> list[Reply]:
        """One line of input. A multi-line entry answers when it ends (blank line, or a line back at
        its first line's indentation, which is then handled in turn); a line leaving a '(' open goes
        on over the next lines until it closes. Text holding several lines (a paste) is `paste`d."""
        line = line.rstrip("\r\n")
        if "\n" in line or "\r" in line:
            return self.paste(line)
        if self.pending and open_paren(self.pending, self.states()):
            if not line.strip() or line.lstrip().startswith(":"):
                # a blank line or a command ends the entry, its '(' still open: refused, saying so
                replies = [self.finish()]
                return replies + (self.feed(line) if line.strip() else [])
            self.pending.append(line)
            if open_paren(self.pending, self.states()) or \
                    statement_opens_block(statements(self.pending, self.states())[0]):
                return []
            return [self.finish()]      # `dense(\n  10)`: the statement is whole
        if self.pending:
            indent = len(self.pending[0]) - len(self.pending[0].lstrip())
            if line.strip() and len(line) - len(line.lstrip()) > indent:
                self.pending.append(line)
                return []
            if len(statements(self.pending, self.states())) == 1:  # a header with no body: neither it nor this line is taken
                header, self.pending = " ".join(part.strip() for part in self.pending), []
                return [self.count(Reply(f"`{header}` opens a block: its body goes on the lines after it, "
                                         f"indented (the terminal indents them for you); `{line.strip()}` "
                                         "was not taken either", ok=False))] if line.strip() else \
                    [self.count(Reply(f"`{header}` opens a block, but no indented body followed: "
                                      "nothing was changed", ok=False))]
            replies = [self.finish()]
            return replies + (self.feed(line) if line.strip() else [])
        if not line.lstrip().startswith(":") and (opens_block(line) or open_paren([line])):
            self.pending = [line]
            return []
        return [self.count(self.handle(line))]

    def paste(self, text: str) -> list[Reply]:
        """Several lines at once (a terminal's bracketed paste). A whole model file -- a `model` line
        among them -- replaces the session as `:load` does, all of it or, if it does not derive,
        none of it; other lines are taken one by one, as if typed."""
        text = text.replace("\r\n", "\n").replace("\r", "\n")
        lines = textwrap.dedent(text).split("\n")
        if self.pending or sum(1 for line in lines if line.strip()) < 2 or \
                not any(MODEL_LINE.match(line) for line in lines):
            replies = []
            for line in lines:
                replies += self.feed(line)
            return replies
        self.typed = next(line for line in lines if line.strip())
        try:
            source = Source.from_text("\n".join(lines), PASTE)
        except SymparamsError as e:
            return [self.count(Reply("the paste was not taken: nothing was changed\n" + str(e), ok=False))]
        try:
            return [self.count(self.adopt(source, f"pasted model {source.header.name}", _other_models(lines,
                                                                                                    source)))]
        except Rejected as r:
            return [self.count(Reply(f"the paste was not taken: nothing was changed\n{r}", ok=False))]

    def finish(self) -> Reply:
        """End the pending multi-line entry (at a blank line or the end of input)."""
        entry, self.pending = "\n".join(self.pending), []
        return self.count(self.enter(entry))

    def count(self, reply: Reply) -> Reply:
        self.failures += not reply.ok
        return reply

    def handle(self, line: str) -> Reply:
        text = line.strip()
        if not text or text.startswith("#"):
            return Reply()
        if not text.startswith(":"):
            return self.calculate(text) or self.enter(line)
        self.typed = text
        try:
            return self.command(text)
        except Rejected as r:
            return Reply(str(r), ok=False)
        except SymparamsError as e:
            return Reply(explain_typed(e, text), ok=False)

    # ------------------------------------------------------------ the model's text

    def enter(self, entry: str) -> Reply:
        """A DSL entry: a model header, a block or layer definition, a convention line, or a body line."""
        entry = textwrap.dedent(entry).strip("\n")
        first = self.typed = entry.split("\n", 1)[0]
        words = first.split("(", 1)[0].split()
        head = statements(entry.split("\n"))
        # what :undo names: the first statement, on one line however many it was typed over
        said = re.sub(r"\(\s+", "(", " ".join(part.strip() for part in head[0]))
        try:
            if MODEL_LINE.match(first) and len(head) == 1:     # a header, maybe over several lines
                return self.change(replace(self.source, header=Header.parse(said)), said, show_symbols=True)
            if words[:1] == ["convention"] and len(words) == 2 and "\n" not in entry:
                return self.cmd_convention(words[1:])
            if words[:1] in (["block"], ["layer"]) and len(words) == 2:
                self.change(replace(self.source, prelude=self.source.prelude + (entry,)), said)
                return Reply(f"{words[0]} {words[1]} defined: use it as {words[1]}(...)(x)")
            return self.change(self.source.with_body(entry), said)
        except Rejected as r:
            return Reply(str(r), ok=False)
        except SymparamsError as e:
            return Reply(explain_typed(e, first), ok=False)

    def change(self, source: Source, what: str, show_symbols: bool = False) -> Reply:
        """Adopt a new source if its model derives and evaluates; otherwise raise Rejected."""
        old = self.model
        model, ev = self.derivations.derive(source, self.values)
        self.undo_stack.append((self.source, what))
        self.redo_stack.clear()
        self.source, self.model, self.evaluation = source, model, ev
        if model is None:
            return Reply("ok (no input yet: the model starts at a line like `input (28, 28, 1)`)"
                         if source.body else self.symbols_text())
        lines = [self.symbols_text()] if show_symbols else []
        lines += describe_changes(old, model, ev)
        return Reply("\n".join(lines) or "ok")      # e.g. a layer bound to a name, not applied yet

    # ------------------------------------------------------------ commands

    def command(self, text: str) -> Reply:
        try:
            words = shlex.split(text[1:])
        except ValueError as e:
            raise ArgumentError(f"cannot read this command: {e}") from None
        if not words:
            return self.cmd_help([])
        name, args = words[0], words[1:]
        matches = [c for c in COMMANDS if c.startswith(name)]
        if name in ("q", "exit"):
            matches = ["quit"]
        if name not in COMMANDS and len(matches) > 1:
            raise ArgumentError(f"':{name}' could be " + " or ".join(":" + m for m in matches), self.at(name))
        if name not in COMMANDS and not matches:
            raise UnknownName(f"unknown command ':{name}'", self.at(name),
                              did_you_mean(name, COMMANDS) or "type :help for the list")
        return getattr(self, "cmd_" + (name if name in COMMANDS else matches[0]))(args)

    def cmd_quit(self, args):
        return Reply(quit=True)

    def cmd_help(self, args):
        if not args:
            return Reply(help_text())
        topic = args[0].lstrip(":")
        if topic in COMMANDS:
            arguments, what = COMMANDS[topic]
            return Reply(f":{topic} {arguments}\n  {what}")
        if lookup(topic) is None:
            raise UnknownName(f"no command or layer '{topic}'", subject=topic,
                              hint=did_you_mean(topic, list(COMMANDS) + names()) or "type :help or :layers")
        return self.cmd_layers(args[:1])

    def cmd_layers(self, args):
        """The catalog as `symparams layers` prints it."""
        from argparse import Namespace
        from ..commands import layers
        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            layers.run(Namespace(name=args[0] if args else None))
        return Reply(out.getvalue().rstrip("\n"))

    def cmd_undo(self, args):
        if not self.undo_stack:
            return Reply("nothing to undo")
        source, what = self.undo_stack[-1]
        self.model, self.evaluation = self.derivations.derive(source, self.values)    # may refuse: then nothing is undone
        self.redo_stack.append((self.source, what))
        self.source = source
        self.undo_stack.pop()
        text = f"undid: {what}"
        if what.startswith((":load ", "pasted model ")):   # the whole file goes: say what the session is back to
            text += (f" -- back to the session before it (model {source.header.name}, "
                     f"{render.counted(len(self.model.rows) if self.model else 0, 'layer')}); :redo loads it again")
        return Reply(text + (f"\n{totals_text(self.model, self.evaluation)}" if self.model else ""))

    def cmd_redo(self, args):
        if not self.redo_stack:
            return Reply("nothing to redo")
        source, what = self.redo_stack[-1]
        self.model, self.evaluation = self.derivations.derive(source, self.values)
        self.undo_stack.append((self.source, what))
        self.source = source
        self.redo_stack.pop()
        return Reply(f"redid: {what}" + (f"\n{totals_text(self.model, self.evaluation)}" if self.model else ""))

    def cmd_source(self, args):
        return Reply(self.source.text().rstrip("\n"))

    def cmd_save(self, args):
        if len(args) != 1:
            raise ArgumentError("usage: :save FILE")
        text = self.source.text()
        try:
            Path(args[0]).write_text(text)
        except OSError as e:
            raise SymparamsError(f"cannot write {args[0]}: {e.strerror}") from None
        note = "; the :set values are not saved (the file keeps the defaults)" if self.values else ""
        return Reply(f"saved model {self.source.header.name} to {args[0]} ({text.count(chr(10))} lines){note}")

    def cmd_load(self, args):
        if len(args) not in (1, 2):
            raise ArgumentError("usage: :load FILE [MODEL]")
        try:
            text = read_source(args[0])
            source = Source.from_text(text, args[0], args[1] if len(args) > 1 else None)
        except SymparamsError as e:
            raise Rejected(str(e)) from None     # it points into the file, which str(e) quotes
        return self.adopt(source, f":load {args[0]}")

    def adopt(self, source: Source, what: str, note: str = "") -> Reply:
        """A whole model read at once (`:load FILE`, a pasted file) becomes the session."""
        self.change(source, what)
        said = f"loaded model {source.header.name} from {what[len(':load '):]}" if what.startswith(":load ") \
            else what
        lines = [f"{said}: {render.counted(len(self.model.rows) if self.model else 0, 'layer')}{note}",
                 self.symbols_text()]
        if self.model:
            lines.append(totals_text(self.model, self.evaluation))
        return Reply("\n".join(lines))

    def calculate(self, text: str) -> Reply | None:
        """A size expression alone (`12*W`): its value at the current values; None for a model line."""
        from .calculate import calculate, expression
        model = self.model or self.symbols_model()
        symbols = model.symbols if model else {}
        tree = expression(text, symbols)
        if tree is None:
            return None
        self.typed = text
        try:
            return Reply(calculate(tree, text, symbols, self.evaluation.values if self.model else
                                   (model.evaluate({k: v for k, v in self.values.items() if k in symbols}).values
                                    if model else {})))
        except SymparamsError as e:
            return Reply(explain_typed(e, text), ok=False)

    def symbols_model(self):
        """Before the first input: a throwaway model of the header alone, for its symbols and values."""
        if not self.source.header.params:
            return None
        try:
            return parse(self.source.with_body("input (1)").text(), REPL_FILE)
        except SymparamsError:
            return None

    def cmd_summary(self, args):
        if args:
            return self.delegate("summary", args)
        model, ev = self.need_model()
        return Reply(render.text_table(model, ev))

    def cmd_formula(self, args):
        return self.delegate("formula", formula_arguments(args))

    def cmd_symbols(self, args):
        if not args:
            return Reply(self.symbols_text())
        header = self.source.header
        for name, default in split_assignments(args, ":symbols"):
            header = header.declare(name, default)
        return self.change(replace(self.source, header=header), ":symbols " + " ".join(args), show_symbols=True)

    def cmd_set(self, args):
        if not args:
            raise ArgumentError("usage: :set NAME=VALUE ...", hint="e.g. :set d=512 L=24")
        known = self.model.symbols if self.model else self.source.header.symbols()
        values = dict(self.values)
        for name, text in split_assignments(args, ":set"):
            if text is None:
                raise ArgumentError(f":set needs a value for '{name}'", hint=f"e.g. :set {name}=512", subject=name)
            if name not in known:
                raise UnknownName(f"the model has no symbol '{name}'", self.at(name),
                                  hint=(did_you_mean(name, known) or "") +
                                  f" A new symbol is declared with :symbols {name}={text}".lstrip())
            values[name] = option_value(text, f"the value of {name}")
        return self.revalue(values)

    def cmd_unset(self, args):
        values = {} if not args else {k: v for k, v in self.values.items() if k not in args}
        for name in args:
            if name not in self.values:
                raise ArgumentError(f"'{name}' has no value set", self.at(name), hint="values set: " + (
                    ", ".join(self.values) or "none"))
        return self.revalue(values)

    def revalue(self, values: dict) -> Reply:
        model, ev = self.derivations.derive(self.source, values)
        self.values, self.model, self.evaluation = values, model, ev
        return Reply(self.symbols_text() + (f"\n{totals_text(model, ev)}" if model else ""))

    def cmd_convention(self, args):
        if not args:
            return Reply(f"convention: {self.source.convention or 'keras'}")
        if len(args) != 1:
            raise ArgumentError("usage: :convention keras|torch")
        name = get_convention(args[0], self.at(args[0])).name
        self.change(replace(self.source, convention=None if name == "keras" else name), f":convention {name}")
        return Reply(f"convention {name}" + (f"\n{totals_text(self.model, self.evaluation)}" if self.model else ""))

    def cmd_solve(self, args):
        return self.delegate("solve", args)

    def cmd_sweep(self, args):
        return self.delegate("sweep", sweep_arguments(args))

    def delegate(self, name, args):
        self.need_model()
        text, status = run_command(name, args, self.source, self.values)
        return Reply(text, ok=status == 0)

    # ------------------------------------------------------------ helpers

    def at(self, word: str) -> Pos | None:
        """Where a word stands in the line just typed, for the caret under a command's argument."""
        column = self.typed.find(word)
        return Pos(1, column + 1, column + 1 + len(word)) if column >= 0 else None

    def need_model(self):
        if self.model is None:
            raise SymparamsError("the model has no input yet", hint="begin with a line like: input (28, 28, 1)")
        return self.model, self.evaluation

    def status(self) -> str:
        """One line for the terminal's toolbar: the model, its convention, its total and the values."""
        convention = self.source.convention or "keras"
        if self.model is None:
            return f"model {self.source.header.name} ({convention}): no input yet   :help for help"
        ev = self.evaluation
        params = render.number(ev.params) if ev.params is not None else render.formula(self.model.params)
        values = " ".join(f"{k}={v}" for k, v in ev.values.items())
        return f"model {self.model.name} ({convention}): {params} params   {values}"

    def symbols_text(self) -> str:
        header = self.source.header
        if not header.params:
            return f"model {header.name}: no symbols yet (declare some with :symbols d=768 L=12)"
        parts = []
        for name, default in header.params:
            text = name if default is None else f"{name} = {default}"
            if name in self.values:
                text += f" (set to {self.values[name]})"
            elif default is None:
                text += " (no value)"
            parts.append(text)
        return f"model {header.name}: " + ", ".join(parts)


# ---------------------------------------------------------------- reading commands

def split_assignments(words: list[str], command: str) -> list[tuple[str, str | None]]:
    """`d=768 L=12 h` -> [('d', '768'), ('L', '12'), ('h', None)]; commas between them are allowed."""
    out = []
    for word in " ".join(words).replace(",", " ").split():
        name, eq, value = word.partition("=")
        if not IDENTIFIER.match(name) or (eq and not value):
            raise ArgumentError(f"{command} takes NAME=VALUE items, found '{word}'", hint="e.g. d=768 L=12",
                                subject=word)
        out.append((name, value if eq else None))
    return out


def _other_models(lines: list[str], source: Source) -> str:
    """A pasted file's models besides the one taken, named (the first is taken, as :load does)."""
    others = [m.group(1) for line in lines if MODEL_LINE.match(line) and (m := re.match(r"model\s+(\w+)", line))
              and m.group(1) != source.header.name]
    return f" (its other models, {', '.join(others)}, were not taken: :load a file to pick one)" if others else ""


HELP_HEAD = "Type model lines (`input (28, 28, 1)`, `conv2d(32, 3)`, ...), a size to compute (`12*W`), or these commands:"
HELP_FOOT = ("A line ending in ':' (block, layer, repeat) continues until a blank line, and so does a line "
             "leaving a '(' open until it closes; a pasted model file is taken whole. :help LAYER describes a layer.")


def help_text(width: int | None = None) -> str:
    """`:help`, laid out by rich to the terminal's width: each command's text wraps under itself."""
    from rich.console import Console, Group
    from rich.table import Table
    from rich.text import Text
    grid = Table.grid(padding=(0, 2))
    grid.add_column(no_wrap=True)
    grid.add_column(overflow="fold")
    for name, (arguments, what) in COMMANDS.items():
        grid.add_row(Text(f"  :{name} {arguments}".rstrip()), Text(what))
    out = io.StringIO()
    console = Console(file=out, width=width or render.terminal_width(), color_system=None, highlight=False,
                      soft_wrap=False)
    console.print(Group(Text(HELP_HEAD), grid, Text(HELP_FOOT)))
    return "\n".join(line.rstrip() for line in out.getvalue().rstrip("\n").splitlines())
