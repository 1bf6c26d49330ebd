"""The REPL's state: the model's source text, kept as the entries typed so far.

The session never edits a Model in place. It keeps the text a user would have written in a
file (a convention, block definitions, a header, the body's lines); the model is that text's
(derived onto the last one where a line only adds to the body: live.py), so a line that fails
leaves nothing behind and `:undo` is just dropping the last entry.
"""
from __future__ import annotations

import textwrap
from dataclasses import dataclass, field, replace

from ..errors import SyntaxProblem, UnknownName, did_you_mean
from ..interpreter import Program
from ..syntax import parse_tree

BODY_INDENT = "    "


@dataclass(frozen=True)
class Header:
    """`model name(symbol = default, ...)`: the defaults are kept as the text the user wrote."""
    name: str = "repl"
    params: tuple = ()          # (symbol, default text or None), in order

    def text(self) -> str:
        params = ", ".join(n if d is None else f"{n} = {d}" for n, d in self.params)
        return f"model {self.name}({params}):"

    def symbols(self) -> list[str]:
        return [n for n, _ in self.params]

    def declare(self, name: str, default: str | None) -> "Header":
        """Add a symbol, or give an existing one a new default, keeping the order."""
        if name in self.symbols():
            return replace(self, params=tuple((n, default if n == name else d) for n, d in self.params))
        return replace(self, params=self.params + ((name, default),))

    @classmethod
    def parse(cls, line: str) -> "Header":
        """Read a typed `model m(d = 768, L = 12):` line (checked by the real grammar)."""
        line = line.strip()
        # The grammar wants a body; one throwaway line lets it check the header alone.
        tree = parse_tree(line + "\n" + BODY_INDENT + "input (1)\n")
        item = tree.children[0]
        if item.data != "model_def" or item.meta.line != 1:
            raise SyntaxProblem("expected a model header like: model m(d = 768):")
        name, params, _ = item.children
        out = []
        for p in (params.children if params else []):
            pname, default = p.children
            out.append((str(pname), None if default is None else line[default.meta.start_pos:default.meta.end_pos]))
        return cls(str(name), tuple(out))


@dataclass(frozen=True)
class Source:
    convention: str | None = None      # a `convention torch` line before everything, if any
    prelude: tuple = ()                # block and layer definitions, each one entry of one or more lines
    header: Header = field(default_factory=Header)
    body: tuple = ()                   # the model's lines, each entry unindented as typed

    def compose(self) -> tuple[str, dict]:
        """The file text, and for each of its lines the text the user typed and its added indent.
        Made once per Source; a Source made by `with_body` from a composed one adds its lines to
        that one's (a session's every line would otherwise compose all the lines before it)."""
        composed = self.__dict__.get("_composed")
        if composed is None:
            lines: list[str] = []
            where: dict[int, tuple[str, int]] = {}
            if self.convention:
                _put(lines, where, f"convention {self.convention}", "")
            for entry in self.prelude:
                _put(lines, where, entry, "")
            _put(lines, where, self.header.text(), "")
            for entry in self.body:
                _put(lines, where, entry, BODY_INDENT)
            composed = ("\n".join(lines) + "\n", where)
            object.__setattr__(self, "_composed", composed)
        return composed

    def text(self) -> str:
        return self.compose()[0]

    def with_body(self, *entries: str) -> "Source":
        grown = replace(self, body=self.body + entries)
        composed = self.__dict__.get("_composed")
        if composed is not None:
            text, where = composed
            lines: list[str] = []
            more = dict(where)
            for entry in entries:
                _put(lines, more, entry, BODY_INDENT, len(where))
            object.__setattr__(grown, "_composed", (text + "".join(line + "\n" for line in lines), more))
        return grown

    @classmethod
    def from_text(cls, text: str, filename: str | None = None, model: str | None = None) -> "Source":
        """Split a file into entries: its block and layer definitions, and one per statement of its model
        (comments between them are dropped, and so are the file's other models)."""
        program = Program(text, filename)       # checks the whole file first
        if not program.models:
            raise SyntaxProblem("the file defines no model", hint="start one with: model name(H = 28):").attach(
                text, filename)
        name = model or next(iter(program.models))
        if name not in program.models:
            raise UnknownName(f"the file has no model '{name}'",
                              hint=did_you_mean(name, program.models) or f"its models are {', '.join(program.models)}")
        tree = program.models[name]
        _, params, body = tree.children
        params_text = tuple((str(p.children[0]),
                             None if p.children[1] is None else
                             text[p.children[1].meta.start_pos:p.children[1].meta.end_pos])
                            for p in (params.children if params else []))
        items = parse_tree(text).children
        convention = program.convention.name if any(i.data == "convention_line" for i in items) else None
        definitions = tuple(_entry(text, i) for i in items if i.data not in ("convention_line", "model_def"))
        return cls(convention, definitions, Header(name, params_text), tuple(_entry(text, s) for s in body.children))


def _put(lines: list, where: dict, entry: str, indent: str, before: int = 0) -> None:
    """An entry's lines, indented, onto the composed text's (`before` lines precede `lines`)."""
    for part in entry.split("\n"):
        lines.append(indent + part if part.strip() else "")
        where[before + len(lines)] = (part, len(indent))


def _entry(text: str, node) -> str:
    """The whole lines a statement spans, dedented. Its meta runs on over the newline that ends it, which
    takes in the blank and comment lines after it (the grammar's _NL): those are not the statement's."""
    spanned = text[node.meta.start_pos:node.meta.end_pos].split("\n")
    while spanned and (not spanned[-1].strip() or spanned[-1].lstrip().startswith("#")):
        spanned.pop()
    lines = text.splitlines()[node.meta.line - 1:node.meta.line - 1 + len(spanned)]
    return textwrap.dedent("\n".join(lines)).strip("\n")

