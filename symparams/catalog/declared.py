"""Layers declared in the language, by a shape rule and formulas:

    layer my_dense(units)(x: (*rows, n)) -> (*rows, units):
        params = n*units + units
        macs = rows*n*units

The header's arguments are sizes (with optional number defaults). Each input is matched
against its pattern: a name binds the size it meets (or, if already bound, must agree with
it), a number must match, and one `*name` takes any run of leading axes -- `name` is their
product in the formulas, and `*name` in the output pattern puts the axes back. The body sets
`params`, `non_trainable`, `buffers` and `macs` (each 0 unless given) and may state
`where` conditions. The result is an ordinary catalog LayerSpec, so a declared layer is used,
listed and checked exactly as the built-in ones are (catalog/prelude.sp declares some).

The body may also name the framework module the layer stands for, so `symparams verify` can
build it and compare (without one, verify reports the layer as not checkable):

        torch = Linear(n, units)            # torch.nn.Linear
        keras = Dense(units, use_bias=true)  # keras.layers.Dense

and state the facts the quantities beyond the counts read (catalog/facts.py), as a catalog entry
puts them on its Out:

        attention = attention(heads=h, kv_heads=g, key_dim=k, queries=t, keys=s, cache=window, window=w)
                                # (one line per attention: a decoder layer's self- and cross-attention)
        saved = t * n           # numbers kept for the backward pass, at the activations' dtype
        saved_per_batch = ...   # numbers kept once for the whole batch (a table of positions)
        parallel = elementwise  # how tensor parallelism splits it (facts.ROLES)
        active = ...            # parameters one example uses, where fewer than params (or not_known:
                                # a mixture of experts whose experts' weights symparams cannot tell)
"""
from __future__ import annotations

import inspect
from dataclasses import dataclass

import sympy as sp

from . import facts
from .registry import Dim, LayerSpec, Out
from ..dims import agree, describe_condition, product, symbol
from ..errors import ShapeError, SyntaxProblem, UnknownName, did_you_mean
from ..expressions import Evaluator, pos_of
from ..values import Word, format_shape

RESULTS = ("params", "non_trainable", "buffers", "macs")
MODULES = ("torch", "keras")      # `torch = Linear(n, units)`: the framework module verify builds
FACTS = ("attention", "saved", "saved_per_batch", "parallel", "active")
# attention(...)'s keywords: sizes, and the cache's kind (a word) and dropout (true/false)
ATTENTION_SIZES = ("heads", "kv_heads", "key_dim", "value_dim", "queries", "keys", "window", "latent")
ATTENTION_WORDS = ("cache", "dropout", "upcast")


class _Formulas(Evaluator):
    """Evaluates a declaration's expressions over the sizes bound so far."""

    def __init__(self, names: dict):
        self.names = names

    def lookup(self, key, node):
        if key in self.names:
            return self.names[key]
        return Word(key, pos_of(node), tuple(self.names))

    def dim_operand(self, value):
        if isinstance(value, Word) and not value.quoted:
            raise UnknownName(f"'{value.name}' is not bound in this layer", value.pos,
                              did_you_mean(value.name, self.names) or
                              "a formula may use the layer's arguments and the names of its input patterns")
        return super().dim_operand(value)

    def size(self, node):
        return self.dim_operand(self.eval(node))


@dataclass
class Declaration:
    name: str
    arguments: list      # (name, default value or inspect.Parameter.empty)
    inputs: list         # (tensor name, pattern items, pattern text)
    output: list         # pattern items
    formulas: dict       # result name -> syntax tree
    conditions: list     # (condition tree, text)
    modules: dict        # "torch"/"keras" -> syntax tree of a call naming the framework's module
    facts: dict          # FACTS -> syntax tree

    def module_call(self, framework: str, shapes: list, config: dict) -> tuple:
        """(class name, args, kwargs) of the framework module this layer names, its arguments
        evaluated with the names the input patterns bind for these input shapes."""
        names, stars = dict(config), {}
        for (tensor, items, text), shape in zip(self.inputs, shapes):
            match_pattern(self.name, tensor, items, text, tuple(shape), names, stars, [])
        ev = _Formulas(names)
        callee, arg_node = self.modules[framework].children
        args, kwargs = [], {}
        for a in (arg_node.children if arg_node else []):
            if getattr(a, "data", None) == "kwarg":
                kwargs[str(a.children[0])] = ev.eval(a.children[1])
            else:
                args.append(ev.eval(a))
        return str(callee.children[0]), args, kwargs

    def apply(self, *shapes, **config) -> Out:
        names = {k: v for k, v in config.items()}
        stars, conditions = {}, []
        for (tensor, items, text), shape in zip(self.inputs, shapes):
            match_pattern(self.name, tensor, items, text, tuple(shape), names, stars, conditions)
        ev = _Formulas(names)
        out_shape = []
        for item in self.output:
            if item.data == "star":
                key = str(item.children[0]) if item.children[0] is not None else None
                out_shape.extend(stars[key])
            else:
                out_shape.append(ev.size(item))
        for cond, text in self.conditions:
            relation = ev.relation(cond)
            if relation is sp.false:
                raise ShapeError(f"{self.name}: 'where {text}' does not hold for inputs "
                                 f"{', '.join(format_shape(s) for s in shapes)}")
            if relation is not sp.true:   # say it in the model's symbols, not the declaration's names
                left, op, right = cond.children
                conditions.append(
                    (relation, f"{self.name} needs {ev.size(left)} {op} {ev.size(right)} (where {text})"))
        results = {key: ev.size(tree) for key, tree in self.formulas.items() if not _not_known(tree)}
        if _not_known(self.formulas.get("macs")):
            results["macs_not_known"] = f"{self.name} states its MACs are not known"
        return Out(shape=tuple(out_shape), conditions=conditions, **results, **self._facts(ev))

    def _facts(self, ev) -> dict:
        out = {}
        for key, tree in self.facts.items():
            if key == "attention":
                out["attention"] = tuple(_attention_fact(call, ev) for call in tree)
            elif key == "saved" and _not_known(tree):
                out["saved"] = facts.not_known(f"{self.name} states it is not known")
            elif key in ("saved", "saved_per_batch"):
                out["saved"] = out.get("saved", ()) + (facts.Saved(ev.size(tree), per_example=key == "saved",
                                                                   what=f"stated by {self.name}"),)
            elif key == "parallel":
                out["parallel"] = facts.Parallel(str(tree.children[0]))
            elif key == "active" and _not_known(tree):
                out["active_not_known"] = f"{self.name} states it is not known"
            else:
                out["active"] = ev.size(tree)
        return out


def _attention_fact(call, ev) -> facts.Attention:
    """`attention(heads=..., ...)`, checked when declared, as a facts.Attention."""
    _, arguments = call.children
    given = {str(a.children[0]): a.children[1] for a in arguments.children}
    sizes = {k: ev.size(v) for k, v in given.items() if k in ATTENTION_SIZES}
    cache = str(given["cache"].children[0]) if "cache" in given else ("window" if "window" in given else
                                                                     "latent" if "latent" in given else "keys")
    return facts.Attention(sizes["heads"], sizes.get("kv_heads", sizes["heads"]), sizes["key_dim"],
                           sizes.get("value_dim", sizes["key_dim"]), sizes["queries"], sizes["keys"], cache=cache,
                           window=sizes.get("window"), latent=sizes.get("latent"),
                           dropout=_flag(given, "dropout"), upcast=_flag(given, "upcast"))


def _flag(given, key) -> bool:
    return key in given and given[key].data == "true"


def _check_attention(call, check) -> None:
    """An attention fact's call: only attention(...), keywords it knows, values of the right kind."""
    if getattr(call, "data", None) != "call" or call.children[0].data != "name" or \
            str(call.children[0].children[0]) != "attention":
        raise SyntaxProblem("attention = states the layer's attention: attention(heads=h, key_dim=k, queries=t, "
                            "keys=s, ...)", pos_of(call))
    arguments = call.children[1].children if call.children[1] else []
    given = {}
    for a in arguments:
        if getattr(a, "data", None) != "kwarg":
            raise SyntaxProblem("attention(...) takes keywords only: heads=, kv_heads=, key_dim=, value_dim=, "
                                "queries=, keys=, cache=, window=, latent=, dropout=, upcast=", pos_of(a))
        key, value = str(a.children[0]), a.children[1]
        if key not in ATTENTION_SIZES + ATTENTION_WORDS:
            raise SyntaxProblem(f"attention(...) has no keyword '{key}'", pos_of(a.children[0]),
                                did_you_mean(key, ATTENTION_SIZES + ATTENTION_WORDS))
        if key == "cache":
            word = str(value.children[0]) if getattr(value, "data", None) == "name" else None
            if word not in facts.CACHES:
                raise SyntaxProblem(f"cache= is one of {', '.join(facts.CACHES)}", pos_of(value),
                                    did_you_mean(word, facts.CACHES) if word else None)
        elif key in ("dropout", "upcast"):
            if getattr(value, "data", None) not in ("true", "false"):
                raise SyntaxProblem(f"{key}= is true or false", pos_of(value))
        else:
            check.size(value)
        given[key] = value
    for needed in ("heads", "key_dim", "queries", "keys"):
        if needed not in given:
            raise SyntaxProblem(f"attention(...) needs {needed}=", pos_of(call))
    cache = str(given["cache"].children[0]) if "cache" in given else None
    for kind, size in (("window", "window"), ("latent", "latent")):
        if cache == kind and size not in given:
            raise SyntaxProblem(f"cache={kind} needs {size}=", pos_of(call))

def match_pattern(owner: str, tensor: str, items, text: str, shape: tuple, names: dict, stars: dict,
                  conditions: list) -> None:
    """Match an input's shape against its pattern: a name binds the size it meets (into `names`) or,
    bound already, must agree with it; a number must match; `*name` takes a run of axes (kept in
    `stars`, their product bound to the name). Used by declared layers and by blocks' inputs."""
    fixed = [i for i in items if i.data != "star"]
    star_at = next((k for k, i in enumerate(items) if i.data == "star"), None)
    if (star_at is None and len(shape) != len(items)) or len(shape) < len(fixed):
        raise ShapeError(f"{owner} expects its input {tensor} as {text}, found {format_shape(shape)}")
    if star_at is None:
        sizes = list(shape)
    else:
        after = len(items) - star_at - 1
        lead = shape[star_at:len(shape) - after]
        key = items[star_at].children[0]
        stars.setdefault(str(key) if key is not None else None, lead)
        if key is not None:
            names[str(key)] = product(lead)
        sizes = list(shape[:star_at]) + list(shape[len(shape) - after:])
    for item, size in zip(fixed, sizes):
        key = str(item.children[0]) if item.data == "name" else None
        if key is not None and key not in names:
            names[key] = size
            continue
        expected = names[key] if key is not None else _Formulas(names).size(item)
        verdict = agree(expected, size)
        what = f"{owner}'s input {tensor} {format_shape(shape)} against {text}"
        if verdict is False:
            raise ShapeError(f"{what}: expected {expected}, found {size}")
        if verdict is not True:
            conditions.append((verdict, f"{what}: needs {describe_condition(verdict)}"))


def _not_known(tree) -> bool:
    """`macs = not_known`, `saved = not_known`: a layer that says what it does not know (the
    importers' general route, where a forward pass did not confirm a formula), so a figure needing
    it is refused, naming the layer, rather than counted as 0."""
    return getattr(tree, "data", None) == "name" and str(tree.children[0]) == "not_known"


def input_pattern(pattern, source: str, compute_in: str = "the output pattern or the formulas") -> tuple:
    """An input pattern's items and text, checked: names, numbers and at most one `*`."""
    items = _pattern_items(pattern)
    stars = [i for i in items if i.data == "star"]
    if len(stars) > 1:
        raise SyntaxProblem("a pattern holds at most one '*'", pos_of(stars[1]))
    for item in items:
        if item.data not in ("star", "name", "number"):
            raise SyntaxProblem("an input pattern holds names, numbers and one '*'", pos_of(item),
                                f"bind a name here and compute sizes from it in {compute_in}")
    return items, _text(source, pattern)


def declare(tree, source: str) -> LayerSpec:
    """A `layer` declaration's syntax tree as a LayerSpec; every mistake points into the file."""
    name_tok, params, *inputs, output, body = tree.children
    name = str(name_tok)
    taken: dict[str, object] = {}
    arguments = []
    for p in (params.children if params else []):
        pname, default = p.children
        if str(pname) in taken:
            raise SyntaxProblem(f"layer {name} names '{pname}' twice", pos_of(pname))
        taken[str(pname)] = symbol(str(pname))
        value = inspect.Parameter.empty
        if default is not None:
            value = Dim.convert(_Formulas({}).size(default), f"the default of {pname}")
        arguments.append((str(pname), value))
    decl_inputs = []
    for inp in inputs:
        tensor, pattern = inp.children
        items, text = input_pattern(pattern, source)
        for item in items:
            if item.data == "star":
                if item.children[0] is not None:
                    taken[str(item.children[0])] = symbol(str(item.children[0]))
            elif item.data == "name":
                taken.setdefault(str(item.children[0]), symbol(str(item.children[0])))
        decl_inputs.append((str(tensor), items, text))
    out_items = _pattern_items(output)
    check = _Formulas(dict(taken))
    for item in out_items:
        if item.data != "star":
            check.size(item)
            continue
        key = item.children[0]
        if not any(i.data == "star" and i.children[0] == key for _, items, _ in decl_inputs for i in items):
            raise SyntaxProblem(f"the output pattern's '*{key or ''}' matches nothing in the inputs", pos_of(item))
    formulas, conditions, modules, stated = {}, [], {}, {}
    for stmt in body.children:
        if stmt.data == "where_stmt":
            for cond in stmt.children:
                check.relation(cond)
                conditions.append((cond, _text(source, cond)))
        elif stmt.data == "assign_stmt" and str(stmt.children[0]) in RESULTS:
            key = str(stmt.children[0])
            if key in formulas:
                raise SyntaxProblem(f"{key} is given twice", pos_of(stmt.children[0]))
            if _not_known(stmt.children[1]) and key != "macs":
                raise SyntaxProblem(f"{key} = not_known: only macs and saved may be not known (counts never are)",
                                    pos_of(stmt.children[1]))
            if not _not_known(stmt.children[1]):
                check.size(stmt.children[1])
            formulas[key] = stmt.children[1]
        elif stmt.data == "assign_stmt" and str(stmt.children[0]) in FACTS:
            key, value = str(stmt.children[0]), stmt.children[1]
            if key in stated and key != "attention":
                raise SyntaxProblem(f"{key} is given twice", pos_of(stmt.children[0]))
            if key == "attention":      # one line per attention (a decoder layer's self- and cross-attention)
                _check_attention(value, check)
                stated.setdefault(key, []).append(value)
                continue
            elif key == "parallel":
                word = str(value.children[0]) if getattr(value, "data", None) == "name" else None
                if word not in facts.ROLES:
                    raise SyntaxProblem(f"parallel = is one of {', '.join(facts.ROLES)}", pos_of(value),
                                        did_you_mean(word, facts.ROLES) if word else None)
            elif not (key in ("saved", "active") and _not_known(value)):
                check.size(value)
            stated[key] = value
        elif stmt.data == "assign_stmt" and str(stmt.children[0]) in MODULES:
            call = stmt.children[1]
            if getattr(call, "data", None) != "call" or call.children[0].data != "name":
                raise SyntaxProblem(f"{stmt.children[0]} = names a module and its arguments, e.g. "
                                    f"{'torch = Linear(n, units)' if str(stmt.children[0]) == 'torch' else 'keras = Dense(units)'}",
                                    pos_of(call))
            modules[str(stmt.children[0])] = call
        elif stmt.data == "assign_stmt":
            key = str(stmt.children[0])
            raise SyntaxProblem(f"a layer's body sets {', '.join(RESULTS + MODULES + FACTS)}, not '{key}'",
                                pos_of(stmt.children[0]), did_you_mean(key, RESULTS + MODULES + FACTS))
        else:
            raise SyntaxProblem("a layer's body holds only formulas (params = ...) and where conditions",
                                pos_of(stmt))
    decl = Declaration(name, arguments, decl_inputs, out_items, formulas, conditions, modules, stated)

    def fn(*shapes, **config):
        return decl.apply(*shapes, **config)
    fn.__doc__ = _text(source, tree).strip()
    fn.declaration = decl     # verify builds the module it names
    return LayerSpec(name, name, name, fn, [(n, Dim, d) for n, d in arguments], False, len(decl_inputs), False)


def _pattern_items(pattern) -> list:
    return [i for i in pattern.children if i is not None]


def _text(source: str, node) -> str:
    return source[node.meta.start_pos:node.meta.end_pos]
