"""The REPL's last good derivation, kept: a line added to the model's body is derived onto it.

Deriving the whole text again after every line made a session quadratic (the sum of all its
prefixes). A `Derivations` keeps the Builder that made the current model; a source that only adds
one entry to the body of the source derived last is parsed alone and run on that builder (its
totals and size checks go on from the last model's), so each line costs what it says; :set and
:unset evaluate the same model again. Anything else -- a header, a block, a convention, :load,
:undo -- derives the whole text, and so does a line that fails: its error is the whole text's,
word for word, and a builder a line left part-way through is dropped.
"""
from __future__ import annotations

from ..errors import SymparamsError, SyntaxProblem
from ..interpreter import Program, parse
from ..syntax import parse_tree
from .delegate import REPL_FILE
from .show import Rejected, explain
from .source import BODY_INDENT, Source


class Derivations:
    def __init__(self):
        self.source: Source | None = None      # the source derived last, with success
        self.values: dict | None = None        # the :set values it was evaluated at
        self.model = self.evaluation = None
        self.builder = None                    # the Builder that made self.model, ready for more lines
        self.whole = 0                         # derivations of the whole text (tests count them)
        self.lines = 0                         # lines derived onto the last model

    def derive(self, source: Source, values: dict):
        """The source's Model and its Evaluation at `values`, or (None, None) before the first input;
        a source that does not derive raises Rejected, the error shown under the typed line."""
        if source == self.source and self.model is not None:       # :set, :unset: the same model
            try:
                evaluation = self._evaluate(self.model, values)
            except SymparamsError as e:
                raise Rejected(explain(e, source.compose()[1])) from None
            return self._keep(source, values, self.builder, self.model, evaluation)
        if self._extends(source, values):
            try:
                body = self._parsed(source)
            except SymparamsError:           # a syntax error: the whole text says it, the builder is untouched
                return self._whole(source, values)
            try:
                return self._extend(source, values, body)
            except (SymparamsError, RecursionError):
                self.builder = None          # part-way through the line: the whole text says what failed
        return self._whole(source, values)

    def _extends(self, source: Source, values: dict) -> bool:
        last = self.source
        return (self.builder is not None and last is not None and values == self.values and
                len(source.body) == len(last.body) + 1 and source.body[:-1] == last.body and
                (source.convention, source.prelude, source.header) == (last.convention, last.prelude, last.header)
                # a line ending in a backslash goes on onto the next: the new line is not alone
                and not last.body[-1].rstrip().endswith("\\"))

    @staticmethod
    def _parsed(source: Source):
        """The body of the source's last entry alone, parsed on the lines it has in the whole text
        (a throwaway header, then blank lines), so every position is the whole text's."""
        where = source.compose()[1]
        entry = source.body[-1]
        first = len(where) - entry.count("\n")       # the composed line the entry begins on
        lines = [BODY_INDENT + part if part.strip() else "" for part in entry.split("\n")]
        return parse_tree("model _():" + "\n" * (first - 1) + "\n".join(lines) + "\n").children[0].children[2]

    def _extend(self, source: Source, values: dict, body):
        self.builder.program.grow(source.compose()[0])
        model = self.builder.extend(body, self.model)
        evaluation = self._evaluate(model, values, self.evaluation)
        self.lines += 1
        return self._keep(source, values, self.builder, model, evaluation)

    def _whole(self, source: Source, values: dict):
        text, where = source.compose()
        self.whole += 1
        try:
            if not source.body:
                # Nothing to derive yet; a throwaway input line still checks the header and blocks.
                parse(source.with_body("input (1)").text(), REPL_FILE)
                return self._keep(source, values, None, None, None)
            builder, tree = Program(text, REPL_FILE).builder()
            try:
                model = builder.build(tree)
            except SyntaxProblem as e:
                if e.code == "no_input":     # lines before the first `input` are fine
                    return self._keep(source, values, None, None, None)
                raise
            return self._keep(source, values, builder, model, self._evaluate(model, values))
        except SymparamsError as e:
            raise Rejected(explain(e, where)) from None
        except RecursionError:   # beyond what bounds.MAX_NESTING foresees: refuse the line, keep the session
            raise Rejected("error: the model nests too deeply to derive") from None

    @staticmethod
    def _evaluate(model, values: dict, since=None):
        return model.evaluate({k: v for k, v in values.items() if k in model.symbols}, since)

    def _keep(self, source, values, builder, model, evaluation):
        self.source, self.values, self.builder = source, dict(values), builder
        self.model, self.evaluation = model, evaluation
        return model, evaluation
