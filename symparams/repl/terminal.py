"""The REPL at a terminal: prompt_toolkit with completion, highlighting and a history file."""
from __future__ import annotations

import os
import re
from functools import lru_cache
from pathlib import Path

from prompt_toolkit import PromptSession, print_formatted_text
from prompt_toolkit.auto_suggest import AutoSuggestFromHistory
from prompt_toolkit.completion import Completer, Completion, PathCompleter
from prompt_toolkit.document import Document
from prompt_toolkit.formatted_text import FormattedText
from prompt_toolkit.history import FileHistory, InMemoryHistory
from prompt_toolkit.lexers import Lexer
from prompt_toolkit.styles import Style

from ..catalog import lookup, names
from ..formulas import QUANTITIES
from .piped import CONTINUATION, PROMPT
from .session import COMMANDS, Reply, Session

STYLE = Style.from_dict({"error": "ansired", "keyword": "ansiblue bold", "layer": "ansigreen",
                         "symbol": "ansimagenta", "number": "ansicyan", "string": "ansiyellow",
                         "comment": "ansibrightblack italic", "command": "ansiblue bold"})


def history_file() -> Path:
    """$XDG_DATA_HOME/symparams/history, else ~/.local/share/symparams/history."""
    base = os.environ.get("XDG_DATA_HOME") or os.path.join(os.path.expanduser("~"), ".local", "share")
    return Path(base) / "symparams" / "history"


def _history(path: Path | None):
    if path is None:
        return InMemoryHistory()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        return FileHistory(str(path))
    except OSError:    # a read-only home must not stop the REPL
        return InMemoryHistory()


def run_terminal(session: Session, input=None, output=None, write=None, history: Path | None = None) -> int:
    """The interactive loop. `input`/`output` are prompt_toolkit's (tests pass a pipe input);
    `write(reply)` shows an answer (by default printed, errors in red)."""
    prompt = PromptSession(history=_history(history), completer=ReplCompleter(session), lexer=DslLexer(session),
                           style=STYLE, input=input, output=output, complete_while_typing=False,
                           auto_suggest=AutoSuggestFromHistory(), bottom_toolbar=session.status)

    def show(reply: Reply) -> None:
        if reply.text:
            print_formatted_text(FormattedText([("" if reply.ok else "class:error", reply.text)]), style=STYLE,
                                 output=output)
    write = write or show
    while True:
        try:
            line = prompt.prompt(CONTINUATION if session.continuing else PROMPT, default=session.indent)
        except KeyboardInterrupt:      # Ctrl-C drops the line (and an unfinished block), not the session
            session.pending = []
            continue
        except EOFError:               # Ctrl-D
            if session.continuing:
                write(session.finish())
            return 0
        for reply in session.feed(line):
            write(reply)
            if reply.quit:
                return 0


# ---------------------------------------------------------------- highlighting

@lru_cache(maxsize=1)
def _tokens():
    """One regex from the grammar's own terminals (comments, strings, numbers, names), and its keywords."""
    from ..syntax import parser
    terminals = {t.name: t.pattern for t in parser().terminals}
    keywords = {p.value for p in terminals.values() if p.type == "str" and p.value.isalpha()} | {"repeat"}
    parts = [f"(?P<{kind}>{terminals[kind].to_regexp()})" for kind in ("COMMENT", "STRING", "NUMBER", "NAME")]
    return re.compile("|".join(parts)), keywords


def highlight(line: str, session: Session) -> list[tuple[str, str]]:
    """(style, text) fragments of one line: keywords, layer names, the model's symbols, numbers."""
    if line.lstrip().startswith(":"):
        head, space, rest = line.partition(" ")
        return [("class:command", head), ("", space + rest)]
    pattern, keywords = _tokens()
    symbols = set(session.source.header.symbols())
    defined = set(_defined_names(session))
    out, at = [], 0
    for m in pattern.finditer(line):
        kind, text = m.lastgroup, m.group()
        if kind == "NAME":
            style = ("class:keyword" if text in keywords else "class:symbol" if text in symbols
                     else "class:layer" if lookup(text) or text in defined else "")
        else:
            style = "class:" + kind.lower()
        out += [("", line[at:m.start()]), (style, text)]
        at = m.end()
    out.append(("", line[at:]))
    return [f for f in out if f[1]]


class DslLexer(Lexer):
    def __init__(self, session: Session):
        self.session = session

    def lex_document(self, document):
        return lambda i: highlight(document.lines[i], self.session)


# ---------------------------------------------------------------- completion

_WORD = re.compile(r"[A-Za-z_][A-Za-z_0-9]*\Z")


def suggestions(text: str, session: Session) -> tuple[str, list[str]]:
    """What may complete the text before the cursor: (the word being typed, candidates)."""
    symbols = session.source.header.symbols()
    if text.lstrip().startswith(":"):
        words = text.lstrip()[1:].split(" ")
        if len(words) == 1:
            return ":" + words[0], [":" + c for c in COMMANDS]
        options = {"help": list(COMMANDS) + names(), "layers": names(), "formula": list(QUANTITIES) + ["--latex"],
                   "convention": ["keras", "torch"], "set": [s + "=" for s in symbols], "unset": list(session.values)}
        return words[-1], options.get(words[0], [])
    found = _WORD.search(text)
    word = found.group() if found else ""
    before = text[:len(text) - len(word)]
    call = _open_call(before)
    spec = lookup(call) if call else None
    if spec is None:
        return word, names() + _defined_names(session) + symbols + _bound_names(session)
    keyword = re.search(r"([A-Za-z_][A-Za-z_0-9]*)\s*=\s*\Z", before)
    if keyword:      # a mode argument offers its choices (padding=same, activation=relu)
        kinds = {name: kind for name, kind, _ in spec.arguments}
        return word, list(getattr(kinds.get(keyword.group(1)), "options", ())) + symbols
    return word, [name + "=" for name, _, _ in spec.arguments] + symbols + _bound_names(session)


def _open_call(text: str) -> str | None:
    """The name before the innermost '(' still open in `text`, if any."""
    depth = 0
    for i in range(len(text) - 1, -1, -1):
        if text[i] == ")":
            depth += 1
        elif text[i] == "(":
            if depth == 0:
                m = re.search(r"([A-Za-z_][A-Za-z_0-9]*)\s*\Z", text[:i])
                return m.group(1) if m else None
            depth -= 1
    return None


def _defined_names(session: Session) -> list[str]:
    """The blocks and layers defined in the session (`block NAME(...)`, `layer NAME(...)`)."""
    found = (re.match(r"(?:block|layer)\s+([A-Za-z_][A-Za-z_0-9]*)", entry) for entry in session.source.prelude)
    return [m.group(1) for m in found if m]


def _bound_names(session: Session) -> list[str]:
    """Names bound by `x = ...` lines so far (tensors and layer instances)."""
    bound = []
    for entry in session.source.body:
        m = re.match(r"\s*([A-Za-z_][A-Za-z_0-9]*)\s*=[^=]", entry)
        if m and m.group(1) not in bound:
            bound.append(m.group(1))
    return bound


class ReplCompleter(Completer):
    def __init__(self, session: Session):
        self.session = session
        self.paths = PathCompleter(expanduser=True)

    def get_completions(self, document, complete_event):
        text = document.text_before_cursor
        command = re.match(r"\s*:(load|save)\s+", text)
        if command:
            path = text[command.end():]
            yield from self.paths.get_completions(Document(path, len(path)), complete_event)
            return
        word, candidates = suggestions(text, self.session)
        seen = set()
        for c in candidates:
            if c.startswith(word) and c != word and c not in seen:
                seen.add(c)
                yield Completion(c, start_position=-len(word))
