"""A model as the page reads it: one JSON document, derived once per file version and options.

It holds what `summary` shows (rows, output shapes, params and MACs with their formulas, totals),
the large-model quantities the model has (symparams/quantities/), the symbols with their
defaults, and every rule a setting must meet (the `where` rules and divisibility conditions,
every size a whole number >= 1). Each formula appears once in `formulas`, with its text (as the
CLI prints it), its LaTeX (as `formula --format latex` prints it), its MathML (for the browser to
typeset) and its tree (compile.py), which the page evaluates at each slider move.
"""
from __future__ import annotations

import re
from collections import Counter
from dataclasses import fields

import sympy as sp

from .. import quantities as registry
from ..errors import ArgumentError, SymparamsError
from ..printing import canonical, latex, printed
from ..table import _shortest_path, layout_note, not_known, shown_rows
from ..values import format_shape
from .compile import NotCompilable, tree

# A formula longer than this is not typeset (the page shows its text, folded): a closed form of
# hundreds of terms is read by copying it, not by looking.
TYPESET_CHARS = 1500

# The large-model figures the page lists where a model has them (a nonzero figure that derives).
LLM = ("active", "training_flops", "kv_cache", "activations", "training_memory", "inference_memory",
       "prefill_flops", "decode_flops")
# Figures the plot and the solve panel offer besides those.
COUNTS = ("params", "trainable", "non_trainable", "macs", "flops", "param_bytes")

_MATHML_TAG = re.compile(r"</?([a-z]+)[^>]*>")
_MATHML_TAGS = {"mrow", "mi", "mn", "mo", "msub", "msup", "msubsup", "mfrac", "msqrt", "mroot", "mtext",
                "mspace", "mover", "munder", "mtable", "mtr", "mtd", "mstyle", "mpadded"}


def mathml(expr) -> str | None:
    """sympy's presentation MathML of a closed form (MathML Core: every browser typesets it), or
    None where it is too long or holds a tag outside the small set the page accepts."""
    from sympy.printing.mathml import mathml as printer
    text = printer(expr, printer="presentation").replace("<mo>-</mo>", "<mo>&#x2212;</mo>")
    if any(m.group(1) not in _MATHML_TAGS for m in _MATHML_TAG.finditer(text)):
        return None
    return text


class Formulas:
    """Every distinct closed form of a document, once: its index is what rows and totals name."""

    def __init__(self):
        self.items: list = []
        self._index: dict = {}

    def add(self, expr) -> int:
        expr = sp.sympify(expr)
        if expr in self._index:
            return self._index[expr]
        shown = canonical(expr)
        text = printed(expr)
        item = {"text": text, "latex": latex(shown), "mathml": None}
        if not expr.is_number and len(text) <= TYPESET_CHARS:
            try:
                item["mathml"] = mathml(shown)
            except Exception:      # a printer gap: the text still shows
                item["mathml"] = None
        try:
            item["tree"] = tree(expr)
        except NotCompilable as e:
            item["tree"], item["why"] = None, str(e)
        self._index[expr] = len(self.items)
        self.items.append(item)
        return self._index[expr]


def condition_tree(relation):
    try:
        return tree(relation)
    except NotCompilable:
        return None


def base(model, program=None) -> dict:
    """The part of the document that does not depend on the quantities' options."""
    f = Formulas()
    doc = {"model": model.name, "convention": model.convention.name, "layout": layout_note(model),
           "models": list(program.models) if program is not None else [model.name],
           "file": model.filename}
    doc["symbols"] = _symbols(model, f)
    doc["constraints"] = [{"text": c.text, "cond": condition_tree(c.relation), "line": c.pos.line if c.pos else None,
                           "symbols": [s for s in model.symbols if model.symbols[s] in c.relation.free_symbols]}
                          for c in model.constraints]
    doc["checks"] = _checks(model, f)
    doc["rows"] = _rows(model, f)
    doc["totals"] = _totals(model, f)
    doc["formulas"] = f       # filled on; turned into a list by `finish`
    return doc


def _symbols(model, f: Formulas) -> list:
    out = []
    defaults = {}
    try:
        defaults = {s.name: v for s, v in model.assignments().items() if getattr(v, "is_Integer", False)}
    except SymparamsError:
        pass
    steps = _divisors(model)
    lows = _lower_bounds(model)
    for name, sym in model.symbols.items():
        default = model.defaults.get(name)
        entry = {"name": name,
                 "default": None if default is None else f.add(default),
                 "follows": None if default is None or sp.sympify(default).is_number else printed(default),
                 "step": [f.add(d) for d in steps.get(name, [])],
                 "min": lows.get(name, 1)}
        at = defaults.get(name)
        entry["max"] = max(4 * int(at), entry["min"] + 63) if at is not None else max(1024, entry["min"] + 63)
        out.append(entry)
    return out


def _divisors(model) -> dict:
    """name -> the sizes a `where NAME % k == 0` rule (or a layer's divisibility condition) makes it
    a multiple of: the slider steps by them."""
    out: dict = {}
    for c in model.constraints:
        r = c.relation
        if isinstance(r, sp.Eq) and r.rhs == 0 and isinstance(r.lhs, sp.Mod) and r.lhs.args[0].is_Symbol:
            out.setdefault(r.lhs.args[0].name, []).append(r.lhs.args[1])
    return out


def _lower_bounds(model) -> dict:
    """name -> the least value a `where NAME >= k` (or `> k`) rule allows."""
    out: dict = {}
    for c in model.constraints:
        r = c.relation
        if isinstance(r, (sp.GreaterThan, sp.StrictGreaterThan)) and r.lhs.is_Symbol and r.rhs.is_Integer:
            low = int(r.rhs) + (1 if isinstance(r, sp.StrictGreaterThan) else 0)
            out[r.lhs.name] = max(out.get(r.lhs.name, 1), low)
        elif isinstance(r, (sp.LessThan, sp.StrictLessThan)) and r.rhs.is_Symbol and r.lhs.is_Integer:
            low = int(r.lhs) + (1 if isinstance(r, sp.StrictLessThan) else 0)
            out[r.rhs.name] = max(out.get(r.rhs.name, 1), low)
    return out


def _checks(model, f: Formulas) -> list:
    """Every size an evaluation requires to be a whole number >= 1 (Evaluation.check), with the
    words the CLI refuses it in."""
    out = []
    for tensor in model.inputs:
        for axis, d in enumerate(tensor.shape):
            if not (sp.sympify(d).is_Integer and d > 0):
                out.append({"f": f.add(d), "what": f"input {format_shape(tensor.shape)}", "axis": axis + 1,
                            "dim": str(d), "input": True})
    for node, axis, d in model.sizes_to_check:
        out.append({"f": f.add(d), "what": f"layer {node.name}", "axis": axis + 1, "dim": str(d),
                    "shape": format_shape(node.shape), "input": False})
    return out


def _rows(model, f: Formulas) -> list:
    """Every row to the deepest level, with its label as `summary` shows it at depth 0 (the top rows)
    and with `--expand` (every row)."""
    every = list(shown_rows(model.rows, None))
    top_times = Counter(r.name for level, _, r in every if level == 0)
    all_times = Counter(r.name for _, _, r in every)
    arithmetic = _arithmetic(model)
    out = []
    for level, path, r in every:
        out.append({"depth": level, "path": path, "type": r.type, "note": r.note,
                    "label": f"{_shortest_path(path, all_times)} ({r.type})",
                    "top_label": f"{_shortest_path(path, top_times)} ({r.type})" if level == 0 else None,
                    "shape": [f.add(d) for d in r.output_shape], "shape_text": format_shape(r.output_shape),
                    "params": f.add(r.params), "trainable": f.add(r.trainable),
                    "macs": f.add(r.macs) if not_known(r) is None else None,     # (a layer's `macs = not_known`)
                    "non_trainable": f.add(r.non_trainable), "arithmetic": arithmetic(r)})
    return out


def _arithmetic(model):
    """The sum `summary` writes beneath a count of literal sizes (`36*(3*3*24 + 1)`), at the defaults."""
    from ..table import arithmetic
    try:
        ev = model.evaluate()
    except SymparamsError:
        return lambda r: None

    def of(r):
        if not sp.sympify(r.params).is_number:
            return None
        try:
            return arithmetic(r, ev)
        except SymparamsError:
            return None
    return of


def _totals(model, f: Formulas) -> list:
    """The totals as table.build lists them."""
    totals = [("params", "Total params", model.params), ("trainable", "Trainable params", model.trainable),
              ("non_trainable", "Non-trainable params", model.non_trainable)]
    if model.convention.norm_stats_as_buffers or model.buffers != 0:
        totals.append(("buffers", "Buffers (not parameters)", model.buffers))
    # a figure a layer says is not known (`macs = not_known`, `active = not_known`) is no total here
    if not_known(model, "active") is None and sp.expand(model.active - model.params) != 0:
        totals.append(("active", "Active params (one token)", model.active))
    if not_known(model) is None:
        totals.append(("macs", "Total MACs", model.macs))
    return [{"key": k, "label": label, "f": f.add(expr), "size": k in ("params", "trainable", "non_trainable")}
            for k, label, expr in totals]


# ---------------------------------------------------------------- the quantities and their options

def options_from(given: dict | None) -> registry.Options:
    """The page's option values (JSON) as Options, each checked as the CLI checks its flag."""
    known = {fl.name for fl in fields(registry.Options)}
    out = {}
    for name, value in (given or {}).items():
        if name not in known:
            raise ArgumentError(f"unknown option '{name}'")
        option = registry.OPTIONS[name]
        if value in (None, ""):
            continue
        if option.kind in ("devices", "stage", "number"):
            try:
                value = int(value)
            except (TypeError, ValueError):
                raise ArgumentError(f"--{name.replace('_', '-')} must be a whole number, found '{value}'") from None
            if option.kind == "devices" and value < 1:
                raise ArgumentError(f"--{name.replace('_', '-')} must be 1 or more, found {value}")
        elif option.kind == "flag":
            value = bool(value)
        else:
            value = str(value)
        out[name] = value
    return registry.Options(**out)


def option_controls() -> list:
    """The options as the page's controls: the CLI's flags, from the registry."""
    out = []
    for o in registry.OPTIONS.values():
        default = getattr(registry.Options(), o.name)
        out.append({"name": o.name, "flag": "--" + o.name.replace("_", "-"), "help": o.help, "kind": o.kind,
                    "choices": [str(c) for c in o.choices] if o.choices is not None else None,
                    "default": default if isinstance(default, (int, str, bool)) or default is None else str(default)})
    return out


def quantities(model, f: Formulas, opts: registry.Options) -> tuple[list, list]:
    """(the large-model figures the model has, every figure the plot and solve panel offer)."""
    shown, offered = [], []
    params = sp.expand(model.params)
    for name in COUNTS + LLM:
        q = registry.QUANTITIES.get(name)
        if q is None:
            continue
        try:
            fig = registry.figure(model, name, None, opts)
        except SymparamsError:
            continue
        except Exception:       # a figure a model of this kind does not have
            continue
        total = sp.sympify(fig.total)
        if name in LLM and (total == 0 or (name == "active" and sp.expand(total - params) == 0)):
            continue
        entry = {"name": name, "unit": q.unit, "help": q.help, "f": f.add(total), "dtype": fig.dtype,
                 "rule": fig.rule, "options": list(q.options),
                 "parts": [{"name": n, "f": f.add(e)} for n, e in fig.parts],
                 "conditions": [{"text": _words(words), "cond": condition_tree(rel)} for rel, words in fig.conditions]}
        offered.append(entry)
        if name in LLM:
            shown.append(entry)
    return shown, offered


def _words(words) -> str:
    try:
        return words({})
    except Exception:
        return "a parallel split the model does not allow"


def finish(doc: dict) -> dict:
    out = dict(doc)
    out["formulas"] = list(doc["formulas"].items)
    return out
