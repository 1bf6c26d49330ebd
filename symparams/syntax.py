"""Text to syntax tree: the lark grammar, indentation, and syntax errors in plain words."""
from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path

from lark import Lark, Token, Tree
from lark.grammar import Rule
from lark.tree import Meta
from lark.exceptions import UnexpectedCharacters, UnexpectedEOF, UnexpectedInput, UnexpectedToken
from lark.indenter import DedentError, Indenter
from lark import parse_tree_builder

from .bounds import MAX_FILE_BYTES, MAX_LINE, MAX_LINES
from .errors import Pos, SymparamsError, SyntaxProblem


class _Indenter(Indenter):
    NL_type = "_NL"
    OPEN_PAREN_types = ["LPAR"]
    CLOSE_PAREN_types = ["RPAR"]
    INDENT_type = "_INDENT"
    DEDENT_type = "_DEDENT"
    tab_len = 4


def read_source(path) -> str:
    """A model file's text: UTF-8 (a leading byte-order mark is dropped; UTF-16 with its byte-order
    mark is read too), any line endings.

    A file that cannot be read is one error naming it, and so is one larger than MAX_FILE_BYTES;
    bytes that are not UTF-8 are one error at the line and column of the first of them."""
    return decode(read_bytes(path), path).replace("\r\n", "\n").replace("\r", "\n")


def read_bytes(path, what: str = "the file", member: str | None = None) -> bytes:
    """A file's bytes (or, with `member`, a zip member's), its size checked against MAX_FILE_BYTES
    before anything is read or decompressed."""
    if member is not None:
        return _read_member(path, what, member)
    try:
        with open(path, "rb") as f:
            _check_size(os.fstat(f.fileno()).st_size, path, what)
            data = f.read(MAX_FILE_BYTES + 1)
        _check_size(len(data), path, what)
        return data
    except OSError as e:
        raise SymparamsError(f"cannot read {what}: {e.strerror or e}").attach(None, str(path)) from None


def _read_member(path, what: str, member: str) -> bytes:
    import zipfile      # only for a zip's member: a model file's first read does without it
    try:
        with zipfile.ZipFile(path) as archive:
            info = archive.getinfo(member)
            _check_size(info.file_size, path, f"{what} ({member}, decompressed)")
            with archive.open(info) as f:
                data = f.read(MAX_FILE_BYTES + 1)   # a member whose header lies is still cut at the bound
            _check_size(len(data), path, f"{what} ({member}, decompressed)")
            return data
    except OSError as e:
        raise SymparamsError(f"cannot read {what}: {e.strerror or e}").attach(None, str(path)) from None
    except (zipfile.BadZipFile, KeyError, RuntimeError, NotImplementedError, EOFError) as e:
        raise SymparamsError(f"cannot read {what}: the zip archive is damaged or uses a feature zipfile lacks ({e})",
                             hint="save the model again with model.save()").attach(None, str(path)) from None


def _check_size(size: int, path, what: str) -> None:
    if size > MAX_FILE_BYTES:
        raise SymparamsError(f"{what} has {size:,} bytes; symparams reads at most {MAX_FILE_BYTES:,} "
                             f"({MAX_FILE_BYTES // 2 ** 20} MB)",
                             hint="a model's description is far smaller: check that this is the right file "
                                  "(a config, not weights)").attach(None, str(path))


_BOMS = ((b"\xef\xbb\xbf", "utf-8-sig"), (b"\xff\xfe\x00\x00", "utf-32"), (b"\x00\x00\xfe\xff", "utf-32"),
         (b"\xff\xfe", "utf-16"), (b"\xfe\xff", "utf-16"))


def encoding_of(data: bytes) -> str:
    """UTF-8 unless a byte-order mark says UTF-16 or UTF-32, or the first characters are ASCII
    spelled with NUL bytes (UTF-16 or -32 without a mark, as json.detect_encoding reads them)."""
    for bom, name in _BOMS:
        if data.startswith(bom):
            return name
    if len(data) >= 4 and b"\x00" in data[:4]:
        import json
        return json.detect_encoding(data)
    return "utf-8"


def decode(data: bytes, path, encoding: str | None = None) -> str:
    """Text of `data` read from `path`; a byte that cannot be decoded is a SyntaxProblem at its line
    and column, naming the byte and the encoding."""
    encoding = encoding or encoding_of(data)
    try:
        return data.decode(encoding)
    except UnicodeDecodeError as e:
        before = data[:e.start].decode(encoding, errors="replace")
        line, column = before.count("\n") + 1, len(before) - before.rfind("\n")
        spelled = {"utf-8-sig": "UTF-8", "utf-8": "UTF-8"}.get(encoding, encoding.upper())
        raise SyntaxProblem(f"the file is not {spelled} text: byte 0x{data[e.start]:02x} cannot "
                            f"{'start a character' if e.reason == 'invalid start byte' else 'be read'} here",
                            Pos(line, column), "save the file as UTF-8").attach(
                                data.decode(encoding, errors="replace"), str(path)) from None


def read_json(path, what: str = "the file", member: str | None = None, problem=SyntaxProblem):
    """The JSON value of a file (or zip member): bounded (read_bytes), decoded (decode), parsed; bad
    JSON is one `problem` at its line and column, nesting too deep for the parser one too."""
    import json
    data = read_bytes(path, what, member)
    text = decode(data, path)
    shown = f"{path}:{member}" if member else str(path)
    try:
        return json.loads(text.removeprefix("\ufeff"))
    except json.JSONDecodeError as e:
        raise problem(f"not valid JSON: {e.msg}", Pos(e.lineno, e.colno)).attach(text, shown) from None
    except RecursionError:
        raise problem("the JSON nests too deeply to read (thousands of levels of [ or {)",
                      hint="a model's config nests a few dozen levels at most").attach(None, shown) from None


def check_lines(text: str) -> None:
    """Refuse text with more than MAX_LINES lines, or a line longer than MAX_LINE characters, before
    it is parsed (parsing a 10 MB line would take minutes)."""
    lines = text.count("\n")
    if lines > MAX_LINES:
        raise SyntaxProblem(f"the text has {lines:,} lines; symparams reads at most {MAX_LINES:,}",
                            Pos(MAX_LINES + 1, 1), "write repeated layers with `repeat n:` or repeat(n, block)")
    if len(text) > MAX_LINE:
        for number, line in enumerate(text.split("\n"), 1):
            if len(line) > MAX_LINE:
                raise _LongLine(f"line {number} has {len(line):,} characters; a line holds at most "
                                f"{MAX_LINE:,}", Pos(number, _indent(line), _indent(line) + 1),
                                "break the line inside brackets, or name intermediate values (x = ..., then use x)")


def _indent(line: str) -> int:
    return min(len(line) - len(line.lstrip(" \t")), 60) + 1


class _LongLine(SyntaxProblem):
    """A line past MAX_LINE: shown cut to its first characters, never printed whole."""

    def attach(self, source, filename):
        if source is not None and self.source is None:
            lines = source.split("\n", self.pos.line)[:self.pos.line]
            lines[-1] = lines[-1][:60] + " ..."
            source = "\n".join(lines)
        return super().attach(source, filename)


def grammar_text() -> str:
    """The grammar ships inside the wheel, beside this module; from a source checkout it is read
    from grammar/. (importlib.resources would cost a cold start its readers and zipfile.)"""
    here = Path(__file__).resolve().parent
    packaged = here / "grammar" / "symparams.lark"
    return (packaged if packaged.is_file() else here.parent / "grammar" / "symparams.lark").read_text()


class _Tree(Tree):
    """A syntax tree whose positions are kept as two references, resolved into lark's Meta when read.

    lark's propagate_positions computes every node's Meta as it reduces (two searches and up to a
    dozen attributes a reduction, a third of a long file's parse); this keeps what those
    computations start from -- the first and last symbol its rule matched, tokens or trees -- and
    does the same computation for the nodes whose position is asked for. `_span` is from the
    rule that made the node, `_container` from the outermost rule that returned it inlined
    (`?atom: "(" expr ")"` returns the expr, its container the parentheses), as lark's
    container_* attributes."""
    _span = _container = None

    @property
    def meta(self) -> Meta:
        if self._meta is None:
            self._meta = _resolved(self._span, self._container)
        return self._meta


def _resolved(span, container) -> Meta:
    """The Meta lark's propagate_positions gives a node its rule matched `span` (in a container)."""
    meta = Meta()
    if span is None:
        return meta
    meta.line, meta.column, meta.start_pos = _start(span[0])
    meta.end_line, meta.end_column, meta.end_pos = _end(span[1])
    meta.container_line, meta.container_column, meta.container_start_pos = _start(container[0])
    meta.container_end_line, meta.container_end_column, meta.container_end_pos = _end(container[1])
    meta.empty = False
    return meta


def lines_and_columns(tree) -> tuple | None:
    """(line, column, end line, end column) of a tree, as its Meta says them, without making the
    Meta (the interpreter asks this of every call it runs); None for a tree that spans nothing."""
    span = getattr(tree, "_span", None)
    if span is None:
        meta = tree.meta
        return None if meta.empty else (meta.line, meta.column, meta.end_line, meta.end_column)
    first, last = span      # _start and _end, inlined: this runs about five times a line
    while not isinstance(first, Token):
        first = first._container[0]
    while not isinstance(last, Token):
        last = last._container[1]
    return first.line, first.column, last.end_line, last.end_column


def _start(symbol) -> tuple:
    """Where a matched symbol begins in the text: a token's start, a tree's container's first token's."""
    while not isinstance(symbol, Token):
        symbol = symbol._container[0]
    return symbol.line, symbol.column, symbol.start_pos


def _end(symbol) -> tuple:
    while not isinstance(symbol, Token):
        symbol = symbol._container[1]
    return symbol.end_line, symbol.end_column, symbol.end_pos


def _keeping_spans(build):
    """A rule's tree builder (lark's, unchanged: the same trees), noting what its rule matched."""
    # a `?rule`: its one child is returned as it is (a lark without the class: every rule noted)
    passes_one_on = type(build) is getattr(parse_tree_builder, "ExpandSingleChild", None)

    def reduce(children):
        if passes_one_on and len(children) == 1:
            return children[0]           # nothing to note (a long file's most frequent reduction)
        tree = build(children)
        if children and type(tree) is _Tree:
            first, last = children[0], children[-1]
            if tree._span is None:       # made by this rule
                tree._span = tree._container = (first, last)
            else:                        # returned inlined: its container is this rule's symbols
                tree._container = (tree._container[0] if first is tree else first,
                                   tree._container[1] if last is tree else last)
        return tree
    return reduce


def _lark(**options) -> Lark:
    """The grammar's LALR parser building `_Tree`s. Its rules' callbacks are wrapped to keep spans;
    should a lark release store them elsewhere, lark's own propagate_positions is used instead."""
    fast = Lark(grammar_text(), parser="lalr", maybe_placeholders=True, cache=True, tree_class=_Tree, **options)
    callbacks = getattr(fast, "_callbacks", None)
    inner = getattr(getattr(getattr(fast, "parser", None), "parser", None), "parser", None)
    if not isinstance(callbacks, dict) or getattr(inner, "callbacks", None) is not callbacks:
        return Lark(grammar_text(), parser="lalr", maybe_placeholders=True, cache=True, propagate_positions=True,
                    **options)
    for rule, build in list(callbacks.items()):
        if isinstance(rule, Rule):
            callbacks[rule] = _keeping_spans(build)
    return fast


@lru_cache(maxsize=1)
def parser() -> Lark:
    return _lark(postlex=_Indenter())


@lru_cache(maxsize=256)
def is_name(word: str) -> bool:
    """Can `word` name a tensor, both bound (`word = ...`) and read (`input`, `true` and `model`
    cannot: the first two read as something else, the third starts a model)?"""
    try:
        return parse_tree(f"model m():\n    x = input (2)\n    {word} = dense(2)(x)\n").data is not None and \
            parse_expression(word).data == "name"
    except SyntaxProblem:
        return False


# What the grammar's terminals are, in the words a user would use.
_WORDS = {
    "NAME": "a name", "NUMBER": "a number", "STRING": "a string", "_NL": "end of line",
    "_INDENT": "an indented block", "_DEDENT": "end of the indented block", "COMPARE": "a comparison",
    "LPAR": "'('", "RPAR": "')'", "COMMA": "','", "COLON": "':'", "EQUAL": "'='", "PLUS": "'+'",
    "MINUS": "'-'", "STAR": "'*'", "SLASH": "'/'", "DOUBLESLASH": "'//'", "PERCENT": "'%'",
    "DOUBLESTAR": "'**'", "REPEAT": "'repeat'", "$END": "end of file",
}


def _literal(name: str) -> str | None:
    """The text of a terminal defined by a plain string in the grammar ('//', 'model')."""
    for t in parser().terminals:
        if t.name == name and t.pattern.type == "str":
            return f"'{t.pattern.value}'"
    return None


def _describe_expected(expected) -> str:
    words = []
    for t in sorted(set(expected)):
        words.append(_WORDS.get(t) or _literal(t) or t.lower())
    words = sorted(set(words))
    if len(words) > 5:
        operators = [w for w in words if w.startswith("'") and len(w) <= 4]
        keywords = [w for w in words if w.startswith("'") and w not in operators]
        words = [w for w in words if w not in keywords] + (["a keyword"] if keywords else [])
        others = [w for w in words if w not in operators]
        words = others + (["an operator"] if operators else [])
    return ", ".join(words[:-1]) + (" or " if len(words) > 1 else "") + words[-1] if words else "something else"


def _describe_token(token) -> str:
    if token.type == "_NL":
        return "end of line"
    if token.type in ("_INDENT",):
        return "an indented line"
    if token.type in ("_DEDENT",):
        return "end of the indented block"
    if token.type == "$END":
        return "end of file"
    return f"'{token}'"


@lru_cache(maxsize=1)
def _expression_parser() -> Lark:
    return _lark(start="expr")


def parse_expression(text: str) -> Tree:
    """One size expression on its own (an option's value, `4*d`), by the same grammar as files;
    a failure is a SyntaxProblem at its column on line 1."""
    if len(text) > MAX_LINE:
        raise SyntaxProblem(f"the expression has {len(text):,} characters; an expression holds at most {MAX_LINE:,}",
                            Pos(1, MAX_LINE + 1))
    try:
        return _expression_parser().parse(text)
    except UnexpectedInput as e:
        raise SyntaxProblem(f"cannot read the expression '{text.strip()}'",
                            Pos(1, getattr(e, "column", 1) or 1)) from None


def parse_tree(text: str) -> Tree:
    """Parse source text; every failure becomes a SyntaxProblem pointing at line and column."""
    if not text.endswith("\n"):
        text += "\n"
    check_lines(text)
    try:
        return parser().parse(text)
    except UnexpectedToken as e:
        tok = e.token
        unclosed = _unclosed_paren(text, getattr(tok, "start_pos", None))
        at_end = tok.type in ("_DEDENT", "$END")
        if unclosed is not None and (unclosed[0] < getattr(tok, "line", 0) or at_end):
            # Inside parentheses newlines are joined, so the real mistake is the '(' left open.
            raise SyntaxProblem("this '(' is not closed" + ("" if at_end else f" before line {tok.line}"),
                                Pos(*unclosed), "add the missing ')'") from None
        line, col = getattr(tok, "line", None), getattr(tok, "column", None)
        if tok.type in ("_NL", "_DEDENT", "_INDENT", "$END") or line is None:
            # Newline tokens start on the line they end; point just past the last real text.
            line, col = _end_of_previous_line(text, tok)
        hint = None
        if tok.type == "_INDENT":
            raise SyntaxProblem("unexpected indentation", Pos(tok.end_line or tok.line, 1, len(str(tok).expandtabs(4)) + 1),
                                "only a model, block or repeat line ending in ':' opens an indented block") from None
        elif "COLON" in e.expected and tok.type == "_NL":
            hint = "a 'model', 'block' or 'repeat' line ends with ':'"
        elif "RPAR" in e.expected and tok.type in ("_NL", "$END"):
            hint = "a '(' is not closed"
        elif tok.type == "COLON" and "LPAR" in e.expected and \
                text.splitlines()[tok.line - 1].lstrip().startswith(("model ", "block ")):
            head = text.splitlines()[tok.line - 1].strip()[:-1].strip()
            hint = f"a {head.split()[0]} takes its sizes in parentheses, even none: write `{head}():`"
        raise SyntaxProblem(f"expected {_describe_expected(e.expected)}, found {_describe_token(tok)}",
                            Pos(line, col, col + max(1, len(str(tok))) if tok.type not in ("_NL", "_INDENT", "_DEDENT", "$END") else None),
                            hint) from None
    except UnexpectedCharacters as e:
        ch = text[e.pos_in_stream] if e.pos_in_stream < len(text) else ""
        hint = "comments start with '#'" if ch in "/;" else None
        raise SyntaxProblem(f"unexpected character {ch!r}", Pos(e.line, e.column), hint) from None
    except UnexpectedEOF as e:
        lines = text.rstrip("\n").splitlines() or [""]
        raise SyntaxProblem(f"the text ended early; expected {_describe_expected(e.expected)}",
                            Pos(len(lines), len(lines[-1]) + 1), "a '(' may not be closed") from None
    except DedentError as e:
        raise SyntaxProblem(f"the indentation does not match any outer level ({e})") from None
    except UnexpectedInput as e:  # any other lark complaint, still with a position
        raise SyntaxProblem(str(e).splitlines()[0], Pos(getattr(e, "line", 1), getattr(e, "column", 1))) from None


def _unclosed_paren(text: str, end: int | None) -> tuple[int, int] | None:
    """(line, column) of the innermost '(' still open at offset `end`, ignoring comments and strings."""
    if end is None:
        return None
    stack, line, col, quote, comment = [], 1, 1, None, False
    for ch in text[:end]:
        if ch == "\n":
            line, col, comment = line + 1, 1, False
            continue
        if comment:
            pass
        elif quote:
            quote = None if ch == quote else quote
        elif ch in "\"'":
            quote = ch
        elif ch == "#":
            comment = True
        elif ch == "(":
            stack.append((line, col))
        elif ch == ")" and stack:
            stack.pop()
        col += 1
    return stack[-1] if stack else None


def _end_of_previous_line(text: str, tok) -> tuple[int, int]:
    pos = getattr(tok, "start_pos", None)
    if pos is None:
        lines = text.rstrip("\n").splitlines() or [""]
        return len(lines), len(lines[-1]) + 1
    before = text[:pos].rstrip(" \t")
    # Skip back over a trailing comment on that line.
    line = before.count("\n") + 1
    line_text = before.rsplit("\n", 1)[-1]
    if "#" in line_text:
        line_text = line_text.split("#", 1)[0].rstrip()
    return line, len(line_text) + 1
