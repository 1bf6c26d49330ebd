"""One error family for every mistake a user can make, each able to point at its source."""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Pos:
    """Where something stands in the user's text (1-based line and column)."""
    line: int
    column: int
    end_column: int | None = None


class SymparamsError(Exception):
    """A mistake in the user's model or request. The CLI prints it and exits 2.

    Callers decide by its fields, never by its words: `kind` (the class's), `pos`, `hint`, and
    where it helps a `code` naming the situation ("no_input", "not_a_symbol") and the `subject`
    it concerns (the name that is not a symbol)."""

    kind = "error"

    def __init__(self, message: str, pos: Pos | None = None, hint: str | None = None, *,
                 code: str | None = None, subject: str | None = None):
        super().__init__(message)
        self.message = message
        self.pos = pos
        self.hint = hint
        self.code = code
        self.subject = subject
        self.source: str | None = None
        self.filename: str | None = None

    def attach(self, source: str, filename: str | None) -> "SymparamsError":
        """Remember the text the error points into, unless an inner caller already did."""
        if self.source is None:
            self.source, self.filename = source, filename
        return self

    def __str__(self) -> str:
        # A mistake in the command rather than in a file has no place to point at.
        where = self.filename or ("<input>" if self.source is not None else "symparams")
        head = f"{where}:{self.pos.line}:{self.pos.column}: " if self.pos else f"{where}: "
        lines = [f"{head}{self.kind}: {self.message}"]
        if self.pos and self.source is not None:
            src_lines = self.source.splitlines()
            if 0 < self.pos.line <= len(src_lines):
                text = src_lines[self.pos.line - 1]
                width = max(1, (self.pos.end_column or self.pos.column + 1) - self.pos.column)
                lines.append("    " + text)
                lines.append("    " + " " * (self.pos.column - 1) + "^" * width)
        if self.hint:
            lines.append(f"hint: {self.hint}")
        return "\n".join(lines)


class SyntaxProblem(SymparamsError):
    kind = "syntax error"


class UnknownName(SymparamsError):
    kind = "unknown name"


class ShapeError(SymparamsError):
    kind = "shape error"


class ValueProblem(SymparamsError):
    kind = "value error"


class ArgumentError(SymparamsError):
    kind = "argument error"


def did_you_mean(name: str, candidates) -> str | None:
    import difflib     # here, not at the top: every command imports this module, few make a mistake
    close = difflib.get_close_matches(name, list(candidates), n=3, cutoff=0.6)
    if not close:
        lowered = {c.lower(): c for c in candidates}
        if name.lower() in lowered:
            close = [lowered[name.lower()]]
    if not close:
        return None
    return "did you mean " + " or ".join(f"'{c}'" for c in close) + "?"
