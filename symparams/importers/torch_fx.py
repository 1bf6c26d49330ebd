"""A PyTorch nn.Module as a symparams program, by tracing it with torch.fx.

The modules the catalog has (Linear, Conv2d, BatchNorm2d, ...) stay leaves of the trace; every
other module is traced through, and the nodes it produced (its `nn_module_stack`) become a call
of a block named after its class. Calls of the same block one after another, each feeding the
next, become `repeat(n, block())` (identical leaves too); a module instance called twice is one
shared instance. Sizes are formulas where the module was built with its constructor's parameters
as Sizes (`imported`, and torch_sizes.py for the numbers PyTorch keeps plain), else the instance's
numbers. Whatever the catalog cannot express is an error naming the module and the operation.
"""
from __future__ import annotations

import operator
import re

from ..catalog import activations
from ..catalog.registry import lookup
from . import size_parameters
from ..sized import language
from .torch_sizes import Constructor, ImportProblem, Sizes


def _flags(**flags) -> str:
    """`, name=false` for each flag that is off (the catalog's defaults are all on)."""
    return "".join(f", {name}=false" for name, value in flags.items() if not value)


def _snake(name: str) -> str:
    """BiLSTMTagger -> bi_lstm_tagger."""
    return re.sub(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])", "_", name).lower()


def _batch_first(m):
    if not getattr(m, "batch_first", getattr(getattr(m, "self_attn", None), "batch_first", False)):
        raise ImportProblem(f"{type(m).__name__} with batch_first=False reads (steps, batch, features)",
                            hint="build it with batch_first=True: --input gives the sizes after the batch")


def _rnn(m, name, s, sequences=True):
    _batch_first(m)
    args = [s(m.hidden_size)] + (["return_sequences=true"] if sequences else [])
    if name == "simple_rnn" and m.nonlinearity != "tanh":
        args.append(f"activation={m.nonlinearity}")
    if m.num_layers != 1:
        args.append(f"num_layers={s(m.num_layers)}")
    if m.bidirectional:
        args.append("bidirectional=true")
    if not m.bias:
        args.append("use_bias=false")
    if getattr(m, "proj_size", 0):
        args.append(f"proj_size={s.exact(m.proj_size)}")
    return f"{name}({', '.join(args)})"


def _attention(m, s):
    _batch_first(m)
    if not m._qkv_same_embed_dim:
        raise ImportProblem("MultiheadAttention with kdim or vdim other than embed_dim is not supported",
                            hint="declare a layer for it (docs/blocks.md)")
    flags = _flags(use_bias=m.in_proj_bias is not None)
    bias_kv = ", add_bias_kv=true" if m.bias_k is not None else ""
    return f"multihead_attention(num_heads={s(m.num_heads)}, embed_dim={s(m.embed_dim)}{flags}{bias_kv})"


def _encoder(m, leaves, shapes):
    """Its layers are deep copies of one: a repeat of that layer, then its norm if any (both keep the shape)."""
    from torch import nn
    if not isinstance(m.layers[0], nn.TransformerEncoderLayer):
        raise ImportProblem(f"TransformerEncoder of {type(m.layers[0]).__name__} is not supported",
                            hint="a TransformerEncoder of nn.TransformerEncoderLayer")
    stack = f"repeat({leaves.s(m.num_layers)}, {leaves.write(m.layers[0], shapes)})"
    return stack if m.norm is None else [stack, leaves.write(m.norm, shapes)]


# A transformer layer keeps its sizes in its parts.
_TRANSFORMER_LAYER = {
    "d_model": lambda m: m.self_attn.embed_dim, "nhead": lambda m: m.self_attn.num_heads,
    "dim_feedforward": lambda m: m.linear1.out_features, "dropout": lambda m: m.dropout.p,
    "batch_first": lambda m: m.self_attn.batch_first, "bias": lambda m: m.linear1.bias is not None,
}


def _of_first_encoder_layer(name):
    return lambda m: _TRANSFORMER_LAYER.get(name, lambda layer: getattr(layer, name))(m.encoder.layers[0])


def _custom(part, name):
    """A Transformer's encoder or decoder if it is not torch's own (given as custom_encoder=), else None."""
    return None if type(part).__name__ == name else part


# The one table of torch.nn classes whose catalog call is not simply their constructor's keywords read
# back from the instance (`_Leaves.write` writes every other class the catalog has, by its signature):
# a dict gives the readers of the keywords an instance keeps under another name or in its parts; a
# function (module, leaves, input shapes) writes the whole call, where the program needs more than the
# keywords (an RNN's output sequence, batch_first refused, a TransformerEncoder as a repeat of its layer).
_SPECIAL = {
    "LSTM": lambda m, w, shapes: _rnn(m, "lstm", w.s), "GRU": lambda m, w, shapes: _rnn(m, "gru", w.s),
    "RNN": lambda m, w, shapes: _rnn(m, "simple_rnn", w.s),
    "MultiheadAttention": lambda m, w, shapes: _attention(m, w.s),
    "TransformerEncoder": _encoder,
    "TransformerEncoderLayer": _TRANSFORMER_LAYER, "TransformerDecoderLayer": _TRANSFORMER_LAYER,
    "Transformer": {name: _of_first_encoder_layer(name) for name in
                    ("dim_feedforward", "dropout", "activation", "norm_first", "bias")} |
                   {"num_encoder_layers": lambda m: m.encoder.num_layers,
                    "num_decoder_layers": lambda m: m.decoder.num_layers,
                    "custom_encoder": lambda m: _custom(m.encoder, "TransformerEncoder"),
                    "custom_decoder": lambda m: _custom(m.decoder, "TransformerDecoder")},
    "TransformerDecoder": {"decoder_layer": lambda m: m.layers[0]},
    "PairwiseDistance": {"p": lambda m: m.norm},
}

# The catalog's per-axis arguments: a tuple of equal entries is written once (kernel (3, 3) as 3).
_PER_AXIS = ("kernel_size", "pool_size", "strides", "padding", "dilation_rate", "output_padding", "output_size")
_MISSING = object()


def _torch_class(m) -> str | None:
    """The name of the torch.nn class a module is, if the catalog has it: its own class, or the nearest
    torch.nn class it derives from where it keeps that class's forward (`class Conv(nn.Conv2d)` adding
    an initialisation); a subclass with a forward of its own is traced through."""
    from torch import nn
    for cls in type(m).__mro__:
        if cls.__module__.startswith("torch.nn.") and getattr(nn, cls.__name__, None) is cls:
            found = cls.__name__ if lookup(cls.__name__) is not None else None
            return found if found and type(m).forward is cls.forward else None
    return None


def _plain(value):
    """A value compared with a default: a tuple of equal entries as one, a Size as its int."""
    if isinstance(value, (tuple, list)) and value and all(v == value[0] for v in value):
        return value[0]
    return value


def _other(value) -> str | None:
    """A size one larger than the module's (each of a tuple's): what an argument restating the input is
    refused with. None where the value is no size."""
    items = value if isinstance(value, (tuple, list)) else (value,)
    if not items or not all(isinstance(v, int) and not isinstance(v, bool) for v in items):
        return None
    texts = [str(int(v) + 1) for v in items]
    if not isinstance(value, (tuple, list)):
        return texts[0]
    return "(" + ", ".join(texts) + ("," if len(texts) == 1 else "") + ")"


def _symbolic(value) -> bool:
    from ..sized import Size
    items = value if isinstance(value, (tuple, list)) else (value,)
    return any(isinstance(v, Size) and v.formula.free_symbols for v in items)


def _function_call(f) -> str:
    """An activation function alone: the catalog's layer of its name (`relu()`), or `activation(gelu_new)`."""
    spec = lookup(f.name)
    return f"{f.name}()" if spec is not None and spec.name == f.name else f"activation({f.name})"


def _function_rows() -> dict:
    """torch functions and tensor methods of one tensor (torch.relu, F.relu, "relu" for x.relu()) -> the
    activation function's row (catalog/activations.py's `functions`)."""
    import torch
    import torch.nn.functional as F
    rows = {}
    for f in activations.FUNCTIONS:
        for name in f.functions:
            for fn in (getattr(torch, name, None), getattr(F, name, None), name):
                if fn is not None:
                    rows.setdefault(fn, f)
    return rows


def _functions() -> dict:
    """torch functions and tensor methods of one tensor -> the catalog's call of that function."""
    return {fn: _function_call(f) for fn, f in _function_rows().items()}


# Modules that return (output, state) or (output, weights): `[0]` is the output.
_TUPLES = ("LSTM", "GRU", "RNN", "MultiheadAttention", "LSTMCell")


def _output_or_indices(m, i) -> bool:
    """Whether item i of what module m returns is its output: the first of (output, state), or either of
    a pool's (output, indices), which have one shape (MaxUnpool takes the indices)."""
    if i == 0 and type(m).__name__ in _TUPLES:
        return True
    return i in (0, 1) and getattr(m, "return_indices", False) is True and _torch_class(m) is not None


class _Tracer:
    """torch.fx's Tracer, keeping the catalog's modules as leaves, each node recording the user's lines
    that made it (for errors that name the line)."""

    def __new__(cls, leaves):
        import os
        import sys
        import traceback
        import torch
        import torch.fx as fx
        # fx's own record_stack_traces symbolizes through torch._inductor and filters with a list of files
        # whose making imports torch.export (0.3 s of CPU and more, beyond all of the writing here);
        # the user's frames are all `_Ops.at` reads
        skip = (os.path.dirname(torch.__file__), os.path.dirname(os.path.dirname(__file__)))

        class Tracer(fx.Tracer):
            def is_leaf_module(self, m, qualified_name):
                return leaves(m) is not None

            def create_node(self, *args, **kwargs):
                node = super().create_node(*args, **kwargs)
                frames, frame = [], sys._getframe(1)
                while frame is not None:
                    if not frame.f_code.co_filename.startswith(skip):
                        frames.append(traceback.FrameSummary(frame.f_code.co_filename, frame.f_lineno,
                                                             frame.f_code.co_name))
                    frame = frame.f_back
                frames.reverse()
                first = next((i for i, f in enumerate(frames) if f.name == "forward"), len(frames))
                if frames[first:]:
                    summary = traceback.StackSummary.from_list(frames[first:])
                    node.stack_trace = "".join(summary.format()).strip()
                return node

        return Tracer()


class _Leaves:
    """The modules kept whole in the trace, each with its catalog call: torch.nn's (by class) and
    symparams' own glue (verify/torch_glue.py, copied into the code `symparams export` writes, so
    known by class name and shape; its forward branches on ranks, which fx cannot follow)."""

    def __init__(self, s):
        from torch import nn
        self.s = s
        self.inputs = {}        # id(module) -> its inputs' (shape after the batch, token ids?), once traced
        self.checked = {}       # (a call, its inputs) -> its counts as formulas, or why it does not read
        rnns = {nn.LSTM: "lstm", nn.GRU: "gru", nn.RNN: "simple_rnn"}
        merges = ("add", "subtract", "multiply", "average", "maximum", "minimum", "concatenate")

        def positions(m):
            table = m.embedding
            return f"position_embedding({s.position(s(table.num_embeddings))}, {s(table.embedding_dim)})"

        def merge(m):
            return f"concatenate(axis={m.dim})" if m.op == "concatenate" else f"{m.op}()"

        def gated_mlp(m):
            options = "" if m.gate.bias is None else ", use_bias=true"
            f = activations.by_torch_module(m.activation)
            act = "none" if f.identity else f.name          # export's nn.Identity for activation=none
            return f"gated_mlp({s(m.hidden)}{options}{'' if act == 'silu' else f', activation={act}'})"

        def grouped(m):
            from ..sized import formula_of, sized
            heads = m.num_query_heads     # the heads' width over them: d/h, exactly as the formulas divide
            head_dim = sized(m.width // heads, formula_of(m.width) / formula_of(heads))
            flags = _flags(use_bias=m.q_proj.bias is not None)
            return f"grouped_query_attention({s(head_dim)}, {s(heads)}, {s(m.num_key_value_heads)}{flags})"

        def experts(m):
            first = m.experts[0]
            bias = (first.gate if m.gated else first[0]).bias is not None
            options = f", top_k={s(m.top_k)}" + _flags(gated=m.gated) + (", use_bias=true" if bias else "")
            return f"mixture_of_experts({s(m.num_experts)}, {s(m.hidden)}{options})"

        # class name -> (is it the glue, by its parts?, its catalog call)
        self.glue = {
            "PositionEmbedding": (lambda m: _only_child(m, "embedding", nn.Embedding), positions),
            "RecurrentOutput": (lambda m: type(_only_child(m, "rnn", nn.RNNBase)) in rnns,
                                lambda m: _rnn(m.rnn, rnns[type(m.rnn)], s, m.return_sequences)),
            "Attention": (lambda m: _only_child(m, "attention", nn.MultiheadAttention),
                          lambda m: _attention(m.attention, s)),
            "Merge": (lambda m: getattr(m, "op", None) in merges and _bare(m), merge),
            "Permute": (lambda m: isinstance(getattr(m, "dims", None), tuple) and _bare(m),
                        lambda m: f"permute({tuple(map(int, m.dims))})"),
            "FirstOutput": (lambda m: _only_child(m, "module", nn.LSTMCell),
                            lambda m: self.write(m.module)),
            "FirstToken": (_bare, lambda m: "first_token()"),
            "RotaryEmbedding": (_bare, lambda m: "rotary_embedding()"),
            "ClassToken": (lambda m: _one_vector(m, "token"), lambda m: "class_token()"),
            "LayerScale": (lambda m: _one_vector(m, "gamma"), lambda m: "layer_scale()"),
            "GatedMLP": (lambda m: [n for n, _ in m.named_children()] == ["gate", "up", "down", "activation"] and
                         activations.by_torch_module(m.activation) is not None, gated_mlp),
            "GroupedQueryAttention": (lambda m: [n for n, _ in m.named_children()] == ["q_proj", "k_proj", "v_proj",
                                                                                     "o_proj"], grouped),
            "MixtureOfExperts": (lambda m: [n for n, _ in m.named_children()] == ["router", "experts"], experts),
        }
        # the glue computing an activation function torch.nn has no module for (exp, transformers' GELUs)
        for f in activations.FUNCTIONS:
            if f.torch and not f.torch.startswith("nn."):
                self.glue[f.torch] = (_bare, lambda m, f=f: _function_call(f))

    def __call__(self, m):
        """The catalog call's writer for this module, or None where it is traced through."""
        if _torch_class(m) is not None:
            return self.write
        activated = self._activated(m)
        if activated:
            return lambda m: f"{self.write(m[0], self.inputs.get(id(m)))[:-1]}, activation={activated})"
        found, write = self.glue.get(type(m).__name__, (None, None))
        return write if found and found(m) else None

    def write(self, m, shapes=None):
        """A torch.nn module as the catalog layer of its class: `_SPECIAL`'s row, or its constructor's
        keywords read back from the instance as the catalog's arguments (those without a default
        positional), each left out at its default; and, where the module's inputs are known, those the
        call counts the same without (an input's size restated: in_channels, num_features, a pool's
        stride equal to its window) — formulas compared, so that a stride `s` equal to the window `k` at
        the defaults stays."""
        import inspect
        import torch
        from ..conventions import IGNORED_SUFFIXES, KEYWORD_ALIASES, REFUSED
        name = _torch_class(m)
        shapes = self.inputs.get(id(m)) if shapes is None else shapes
        row = _SPECIAL.get(name, {})
        if callable(row):
            return row(m, self, shapes)
        spec = lookup(name)
        f = activations.by_torch_module(m)
        if f is not None and not f.identity and f.name != spec.name:     # nn.GELU(approximate="tanh"): gelu_tanh
            return _function_call(f)
        known = {a[0]: a for a in spec.arguments}
        used = set(self.s.used)
        positional, keywords, optional = {}, {}, {}     # optional: a written keyword that may restate -> another value
        signature = list(inspect.signature(getattr(torch.nn, name).__init__).parameters.values())[1:]
        for p in sorted(signature, key=lambda p: p.name not in REFUSED):     # a custom part first: it is refused
            k = p.name
            if p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD) or k.startswith("_") or k in ("device", "dtype"):
                continue
            target = k if k in known else KEYWORD_ALIASES.get(k, k)
            try:
                value = row[k](m) if k in row else getattr(m, k, _MISSING)
            except (AttributeError, IndexError, TypeError):       # a part not where torch puts it
                value = _MISSING
            if k == "batch_first":
                if value is not True:
                    raise ImportProblem(f"{name} with batch_first=False reads (steps, batch, features)",
                                        hint="build it with batch_first=True: --input gives the sizes after the batch")
                continue
            if target is None or k in spec.ignored or k.endswith(IGNORED_SUFFIXES):
                continue        # changes no count
            derived = isinstance(p.default, bool) and (value is None or isinstance(value, torch.Tensor))
            if derived:         # a flag the instance keeps as its tensor: bias=False, bias None
                value = value is not None
            if k in REFUSED and k not in known:
                if value not in (None, False, p.default):
                    shown = f"{type(value).__name__}(…)" if isinstance(value, torch.nn.Module) else repr(value)
                    raise ImportProblem(f"{name} with {k}={shown} is not supported", hint=REFUSED[k])
                continue
            if value is _MISSING or isinstance(value, torch.Tensor):
                raise ImportProblem(f"symparams cannot read {name}'s {k} back from the module",
                                    hint="please report it: importers/torch_fx.py's _SPECIAL lacks its row")
            if value is None or (target not in known and value == p.default):
                continue        # torch's None: what the catalog's default does (a pool's stride: its window)
            if target not in known:
                raise ImportProblem(f"{name} with {k}={value!r} is not supported: the catalog's {spec.name} has no "
                                    f"{k}", hint="declare a layer for it (docs/blocks.md)")
            default = known[target][2]
            if not _symbolic(value) and p.default is not inspect.Parameter.empty and \
                    (_plain(value) == _plain(p.default) or _plain(value) == _plain(default)):
                continue
            text = self._text(value, known[target][1], target, shapes)
            if default is inspect.Parameter.empty and not spec.variadic:
                positional[target] = text
            else:
                keywords[target] = text
                if default is None or derived or default is inspect.Parameter.empty:
                    optional[target] = _other(value)
        args = [positional[a] for a in known if a in positional]
        order = [KEYWORD_ALIASES.get(p.name, p.name) if p.name not in known else p.name for p in signature]
        keywords = dict(sorted(keywords.items(), key=lambda kv: order.index(kv[0]) if kv[0] in order else len(order)))

        def call(kw):
            return f"{spec.name}({', '.join(args + [f'{k}={v}' for k, v in kw.items()])})"
        written = call(keywords)
        if shapes and all(shape for shape, _ in shapes):
            counts = self._counts(written, shapes)
            if isinstance(counts, Exception):
                raise ImportProblem(f"{name} written as `{written}` does not read: {counts}",
                                    hint="this is symparams' mistake: please report it with the module")
            for k in [k for k in keywords if k in optional]:
                fewer = self._counts(call({key: v for key, v in keywords.items() if key != k}), shapes)
                # the same formulas; or the same numbers, where the entry refuses any other value (it
                # restates the input's size: features=d of an input whose axis is d)
                if fewer == counts or (not isinstance(fewer, Exception) and fewer[1] == counts[1] and
                                       optional[k] is not None and
                                       isinstance(self._counts(call({**keywords, k: optional[k]}), shapes), Exception)):
                    keywords.pop(k)
            written = call(keywords)
        self.s.used.clear()
        self.s.used |= used | set(self.s.in_text([written]))
        return written

    def _text(self, value, kind, target, shapes) -> str:
        """One argument's value as the language writes it."""
        from torch import nn
        from ..catalog.registry import Dim
        if isinstance(value, bool):
            return "true" if value else "false"
        if isinstance(value, nn.Module):
            f = activations.by_torch_module(value)
            if target == "activation" and f is not None:
                return f.name
            if _torch_class(value) is None:
                raise ImportProblem(f"{type(value).__name__} given as {target} is not a module the catalog has",
                                    hint="a torch.nn module, or write the model in the language (docs/blocks.md)")
            spec = lookup(type(value).__name__)
            text = self.write(value, None if not shapes else shapes if spec.variadic else shapes[:spec.n_inputs])
            if not isinstance(text, str):
                raise ImportProblem(f"{type(value).__name__} given as {target} is more than one layer",
                                    hint="write the model in the language (docs/blocks.md)")
            return text
        if callable(value):
            f = _function_rows().get(value)
            if f is None:
                raise ImportProblem(f"the activation {getattr(value, '__name__', value)} given as {target} is not "
                                    "one symparams knows", hint=f"one of {', '.join(activations.NAMES)}")
            return f.name
        if isinstance(value, int):          # a Size too
            return self.s(value) if kind is Dim and target != "groups" else self.s.exact(value)
        if isinstance(value, float):
            if value != value or value in (float("inf"), float("-inf")):
                raise ImportProblem(f"{target}={value} has no value in the language", hint="a finite number")
            return repr(value)
        if isinstance(value, str):
            return value if re.fullmatch(r"[A-Za-z_]\w*", value) else f'"{value}"'
        if isinstance(value, (tuple, list)):
            texts = ["none" if v is None else self._text(v, None, target, shapes) for v in value]
            if target in _PER_AXIS and len(set(texts)) == 1:
                return texts[0]
            return "(" + ", ".join(texts) + ("," if len(texts) == 1 else "") + ")"
        raise ImportProblem(f"{target}={value!r} has no value in the language",
                            hint="please report it with the module")

    def _counts(self, call, shapes):
        """The call's params, non-trainable, buffers, MACs and output shape as formulas, applied to inputs
        of these shapes, its symbols at their defaults; or the error it does not read with."""
        key = (call, tuple(shapes))
        if key not in self.checked:
            from ..errors import SymparamsError
            from ..interpreter import parse
            names = self.s.in_text([call])
            lines = ["convention torch", f"model check({', '.join(f'{n} = {self.s.symbols[n]}' for n in names)}):"]
            for i, (shape, ints) in enumerate(shapes):
                lines.append(f"    x{i} = input ({', '.join(map(str, shape))}){' int' if ints else ''}")
            lines.append(f"    y = {call}({', '.join(f'x{i}' for i in range(len(shapes)))})")
            try:
                model = parse("\n".join(lines) + "\n", "check.sp")
                formulas = [model.params, model.non_trainable, model.buffers, model.macs, *model.output_shape]
                numbers = model.evaluate()
                self.checked[key] = (formulas, [numbers.params, numbers.non_trainable, numbers.buffers, numbers.macs,
                                                numbers.shape(model.output_shape)])
            except SymparamsError as e:
                self.checked[key] = e
        return self.checked[key]

    def _activated(self, m):
        """nn.Sequential(a Linear or convolution, an activation function): the layer's activation=
        (export writes a layer's activation so), or None."""
        from torch import nn
        layers = (nn.Linear, nn.Conv1d, nn.Conv2d, nn.Conv3d)
        if type(m) is not nn.Sequential or len(m) != 2 or type(m[0]) not in layers:
            return None
        f, write = activations.by_torch_module(m[1]), self(m[1])
        if f is None or f.identity or write is None:
            return None
        if "dim" in dict(f.torch_options):      # over the last axis: dense's features, a convolution's width
            return f.name if type(m[0]) is nn.Linear else None
        # as the function alone is written: leaky_relu(negative_slope=0.2) keeps its own row
        return f.name if write(m[1]) in (f"{f.name}()", f"activation({f.name})") else None

    def many_inputs(self, m) -> bool:
        """A layer taking several tensors, all of them data: a catalog entry of several inputs (Bilinear,
        Transformer's source and target), glue (a merge; attention's query, value, key)."""
        name = _torch_class(m)
        if name is not None:
            spec = lookup(name)
            return name != "MultiheadAttention" and (spec.variadic or spec.n_inputs > 1)
        return type(m).__name__ in ("Merge", "Attention", "GroupedQueryAttention")


def _only_child(m, attribute, cls):
    child = getattr(m, attribute, None)
    return child if isinstance(child, cls) and len(list(m.children())) == 1 else None


def _one_vector(m, name) -> bool:
    """Glue holding one learned vector of its width (ClassToken's token, LayerScale's gamma) and no module."""
    return not list(m.children()) and [n for n, _ in m.named_parameters()] == [name]


def _bare(m) -> bool:
    return not list(m.children()) and not list(m.parameters())


def imported(make, input_shapes, int_inputs=False, symbols: dict | None = None, name: str | None = None,
             source: str = "") -> str:
    """The program of the module `make(...)` builds: its int-defaulted keyword parameters (set by those
    `symbols` naming them) are the program's symbols; the other `symbols` name sizes by value."""
    from .dynamo_free import without_dynamo
    with without_dynamo():      # every build and forward on meta below: see there
        return _imported(make, input_shapes, int_inputs, symbols, name, source)


def _imported(make, input_shapes, int_inputs, symbols, name, source) -> str:
    from torch import nn
    symbols = symbols or {}
    values = {key: symbols.get(key, default) for key, default in size_parameters(make).items()}
    constructor, called = Constructor(make, values), getattr(make, "__name__", "the module")
    try:
        module = constructor.build()
    except Exception as e:     # the user's constructor failed: say so, not as our bug
        raise ImportProblem(f"{called}() failed: {type(e).__name__}: {e}",
                            hint=f"{called} is built with its parameters' defaults (and --symbol NAME=VALUE for "
                                 "those it names): give the others defaults") from None
    if not isinstance(module, nn.Module):
        raise ImportProblem(f"{called}() gives a {type(module).__name__}, not an nn.Module",
                            hint="a class deriving from nn.Module, or a function returning one")
    try:
        return program(module, input_shapes, int_inputs, name, source, symbols, constructor if values else None)
    except Untraceable as e:          # the module tree, measured by running forward(), instead
        try:
            return _from_tree(make, values, input_shapes, int_inputs, symbols, name, source, e)
        except ImportProblem as tree:
            raise ImportProblem(f"{e.message}; nor could its module tree be read: {tree.message}",
                                hint=tree.hint or e.hint) from None


def program(module, input_shapes, int_inputs=False, name: str | None = None, source: str = "",
            symbols: dict | None = None, constructor: Constructor | None = None) -> str:
    """The program of `module` applied to inputs of these shapes (batch left out). The sizes it was
    built with as Sizes (by `constructor`) are formulas; `symbols` (name -> value) not among the
    constructor's parameters name the plain sizes of that value."""
    import torch
    sizes = Sizes(symbols or {}, constructor)
    leaves = _Leaves(sizes)
    tracer = _Tracer(leaves)
    tracer.proxy_buffer_attributes = True      # a buffer sliced by a size (mask[:, :, :T, :T]) is traced too
    try:
        graph = tracer.trace(module)
    except Exception as e:   # fx cannot follow data-dependent control flow, for one
        raise _untraceable(module, e) from None
    nodes = list(graph.nodes)
    inputs = [n for n in nodes if n.op == "placeholder"]
    if len(inputs) != len(input_shapes):
        raise ImportProblem(f"{type(module).__name__}.forward takes {len(inputs)} inputs, "
                            f"--input gave {len(input_shapes)}", hint="one --input SHAPE per input")
    _shapes(module, graph, input_shapes, int_inputs)
    writer = _Writer(module, leaves, _functions(), nodes, sizes)
    for n in nodes:     # each module's inputs as it ran: its call leaves out what restates them
        if n.op == "call_module":
            metas = [x.meta.get("tensor_meta") for x in writer.data_inputs(n)]
            if all(hasattr(meta, "shape") for meta in metas):
                leaves.inputs.setdefault(id(module.get_submodule(n.target)), [
                    (tuple(meta.shape[1:]), not meta.dtype.is_floating_point) for meta in metas])
    names = [writer.var(node) for node in inputs]
    writer.carrier, writer.carrier_node = names[0], inputs[0]
    out = next(n for n in nodes if n.op == "output")
    result = out.args[0]
    kept = writer.kept = writer.needed(result) if isinstance(result, torch.fx.Node) else set(nodes)
    # every parameter read is counted, masks' buffers too; not a constant forward() made (fx's _tensor_constant0)
    counted = {name for name, _ in module.named_parameters()} | {name for name, _ in module.named_buffers()}
    kept |= {n for n in nodes if n.op == "get_attr" and n.target in counted}
    body = [n for n in nodes if n.op not in ("placeholder", "output") and n in kept]
    lines = writer.region(body, depth=0)
    if not isinstance(result, torch.fx.Node):
        raise ImportProblem(f"{type(module).__name__}.forward returns {type(result).__name__}, not one tensor",
                            hint="return a single tensor")
    if lines[-1].split(" = ")[0] != writer.var(result):
        lines.append(f"output = identity()({writer.var(result)})")
    shapes = sizes.inputs(input_shapes, lambda m, grown: _runs(m, grown, int_inputs))     # after the layers: see there
    lines = [f"{var} = input ({', '.join(shape)}){' int' if int_inputs else ''}"
             for var, shape in zip(names, shapes)] + lines
    unused = [s for s in sizes.legacy if s not in sizes.used]
    if unused:
        value = sizes.legacy[unused[0]]
        named = [p for p, v in sizes.parameters.items() if v == value]
        raise ImportProblem(f"--symbol {unused[0]}={value}: no size in the module has that value",
                            hint=f"{named[0]} = {value} is a symbol already, as a parameter of the constructor" if named
                            else "a width (features, channels, hidden size), a depth or an input size")
    model = name or _snake(type(module).__name__)
    how = ("its constructor's size parameters as symbols" if sizes.parameters else "at this instance's sizes") + \
        (", those --symbol named as symbols." if sizes.legacy else ".")
    text = [f"# {type(module).__name__}{f' from {source}' if source else ''}, imported by `symparams import`",
            f"# (torch.fx): counted as PyTorch builds it, {how}", "convention torch", ""]
    text += writer.ops.layers + writer.blocks
    text.append(f"model {model}({', '.join(f'{k} = {v}' for k, v in sizes.header().items())}):")
    text += [f"    {line}" for line in lines]
    text = "\n".join(text) + "\n"
    _accounted(module, writer, nodes, text)
    return text


class Untraceable(ImportProblem):
    """torch.fx stopped: `reason` says where and why, for the module tree's header."""
    reason = ""


def _untraceable(module, e) -> ImportProblem:
    """Why torch.fx stopped, honestly: a branch on a tensor's value is one cause among others."""
    name, where, message = type(module).__name__, _where(e), f"{type(e).__name__}: {e}"
    inner = _torch_module_at(e)
    if inner is not None:       # torch's own code stopped it, not the user's
        where += f", inside torch.nn.{type(inner).__name__}.forward"
    if "control flow" in str(e) or "iteration" in str(e) or "bool" in str(e):
        hint = ("forward() branches or loops on a tensor's value (x.sum() > 0), which a trace cannot follow: "
                "branch on sizes and flags instead, or write that module in the language (docs/blocks.md)")
    elif "co_varnames" in str(e) or "**kwargs" in str(e) or "varargs" in str(e):
        hint = ("torch.fx's symbolic_trace cannot patch a forward() of this form (such as **kwargs or a "
                "decorated forward, as transformers' models have); for a Hugging Face model import its "
                "config.json instead (`symparams import config.json`)")
    else:
        hint = ("torch.fx runs forward() on stand-in tensors and stopped at the line shown; code that needs "
                "real values there cannot be traced: write that module in the language (docs/blocks.md)")
    problem = Untraceable(f"torch.fx cannot trace {name}{where}: {message}", hint=hint)
    first = (message.splitlines()[0] if message else "").split(". ")[0].rstrip(".")
    problem.reason = f"{first[:160]}{'…' if len(first) > 160 else ''}{where.replace(' in ', ', in ', 1)}"
    return problem


def _shapes(module, graph, input_shapes, ints):
    """Each node's shape as the module runs at these sizes, batch 1, on its device: `tensor_meta` as fx's
    ShapeProp records it, by a plain Interpreter (ShapeProp imports torch's symbolic shapes for fake
    tensors, and prints a traceback of a node that fails, which is the user's input mistake here)."""
    import torch
    from torch.fx.node import map_aggregate
    from torch.fx.passes.shape_prop import _extract_tensor_metadata

    class Shapes(torch.fx.Interpreter):
        def run_node(self, n):
            self.current = n
            result = super().run_node(n)
            if any(isinstance(t, torch.Tensor) for t in torch.utils._pytree.tree_leaves(result)):
                n.meta["tensor_meta"] = map_aggregate(
                    result, lambda t: _extract_tensor_metadata(t) if isinstance(t, torch.Tensor) else t)
            return result

    device = next((p.device for p in module.parameters()), torch.device("meta"))
    inputs = [torch.zeros((1,) + tuple(shape), dtype=torch.long if ints else torch.float32, device=device)
              for shape in input_shapes]
    training, run = module.training, Shapes(torch.fx.GraphModule(module.eval(), graph))
    run.current = None
    run.extra_traceback = False     # the failing node is named by its user's line below, not by fx's dump
    try:
        with torch.no_grad():
            run.run(*inputs)
    except Exception as e:
        where = (_Ops.at(run.current) if run.current is not None else "") or _where(e)
        raise ImportProblem(f"{type(module).__name__} does not run on inputs of shapes "
                            f"{', '.join(str(tuple(s)) for s in input_shapes)}{where}: {type(e).__name__}: {e}",
                            hint="--input gives each input's sizes after the batch; --dtype int64 for token ids") \
            from None
    finally:
        module.train(training)


def _accounted(module, writer, nodes, text):
    """Never a part of the model: every parameter and buffer PyTorch counts is in the program, and its
    totals are PyTorch's; else the import is refused, naming what is left out and where forward() used it."""
    from ..interpreter import parse
    from ..errors import SymparamsError
    tensors = list(module.named_parameters()) + list(module.named_buffers())
    missing = [(name, t) for name, t in tensors if id(t) not in writer.covered]
    if missing:
        where = {}
        for name, _ in missing:
            path = name.rpartition(".")[0]
            where.setdefault(path, None)
        said = []
        for path in list(where)[:3]:
            count = sum(t.numel() for name, t in missing if name.rpartition(".")[0] == path)
            node = next((n for n in nodes if n.op == "call_module" and n.target == path), None) or \
                next((n for n in nodes if n.op == "get_attr" and n.target.rpartition(".")[0] == path), None) or \
                next((n for n in nodes if any(p.split("@")[0] == path for p in n.meta.get("nn_module_stack", {}))),
                     None)
            tensor_names = [name for name, _ in missing if name.rpartition(".")[0] == path]
            what = f"{path or type(module).__name__} ({', '.join(tensor_names[:2])}{', …' if len(tensor_names) > 2 else ''}: " \
                   f"{count:,} numbers)"
            if node is None:
                said.append(f"{what}, which forward() never calls")
            else:
                said.append(f"{what}, called{writer.ops.at(node) or ' in forward()'}, whose result reaches the output "
                            "through nothing symparams follows")
        total = sum(t.numel() for _, t in missing)
        raise ImportProblem(f"the program would leave out {total:,} of the {sum(t.numel() for _, t in tensors):,} "
                            f"numbers PyTorch counts: {'; '.join(said)}",
                            hint="symparams writes a model whole or not at all: feed that module's result into the "
                                 "output, or write the model in the language (docs/blocks.md)")
    try:
        ev = parse(text, "imported.sp").evaluate()
    except SymparamsError as e:
        raise ImportProblem(f"the program written for {type(module).__name__} does not read back: {e}",
                            hint="this is symparams' mistake: please report it with the module") from None
    want = {"params": sum(t.numel() for _, t in module.named_parameters()),
            "trainable": sum(t.numel() for _, t in module.named_parameters() if t.requires_grad),
            "buffers": sum(t.numel() for _, t in module.named_buffers())}
    got = {"params": ev.params, "trainable": ev.trainable, "buffers": ev.buffers}
    if got != want:
        differ = ", ".join(f"{k} {got[k]:,} where PyTorch counts {want[k]:,}" for k in want if got[k] != want[k])
        raise ImportProblem(f"the program written for {type(module).__name__} counts {differ}",
                            hint="symparams writes a model whole or not at all: write it in the language "
                                 "(docs/blocks.md), or report the module")


def _torch_module_at(error):
    """The innermost torch.nn module whose forward the error passed through, or None."""
    from torch import nn
    tb, found = error.__traceback__, None
    while tb is not None:
        owner = tb.tb_frame.f_locals.get("self")
        if isinstance(owner, nn.Module) and type(owner).__module__.startswith("torch.nn.") and \
                tb.tb_frame.f_code.co_name == "forward":
            found = owner
        tb = tb.tb_next
    return found


def _where(error) -> str:
    """` in Module.forward (file:line: the line)`: the user's code the trace stopped in, if any."""
    import os
    import torch
    skip = (os.path.dirname(torch.__file__), os.path.dirname(os.path.dirname(__file__)))
    tb, found = error.__traceback__, None
    while tb is not None:
        code = tb.tb_frame.f_code
        if not code.co_filename.startswith(skip):
            found = tb
        tb = tb.tb_next
    if found is None:
        return ""
    import linecache
    frame, line = found.tb_frame, found.tb_lineno
    owner = frame.f_locals.get("self")
    where = f"{type(owner).__name__}.{frame.f_code.co_name}" if owner is not None else frame.f_code.co_name
    text = linecache.getline(frame.f_code.co_filename, line).strip()
    return f" in {where} ({os.path.basename(frame.f_code.co_filename)}:{line}{': ' + text if text else ''})"


def _runs(module, shapes, ints) -> bool:
    """Whether `module` (on the meta device) takes inputs of these shapes. A lazy module (LazyLinear) runs as
    a copy: the first input it is given would fix its sizes for the next."""
    import copy
    import torch
    from torch.nn.modules.lazy import LazyModuleMixin
    if any(isinstance(m, LazyModuleMixin) for m in module.modules()):
        module = copy.deepcopy(module)
    with torch.no_grad():
        module.eval()(*[torch.zeros((1,) + tuple(shape), dtype=torch.long if ints else torch.float32, device="meta")
                        for shape in shapes])
    return True


class _Writer:
    def __init__(self, root, leaves, functions, nodes, sizes):
        self.root, self.leaves, self.functions, self.sizes = root, leaves, functions, sizes
        # the submodules some node says were called more than once
        self.shared = {path.split("@")[0] for n in nodes for path in n.meta.get("nn_module_stack", {})
                       if "@" in path}
        calls = [n.target for n in nodes if n.op == "call_module"]
        self.multi_called = {target for target in calls if calls.count(target) > 1}    # leaves called again
        self.names: dict = {}
        self.blocks: list[str] = []
        self.block_names: dict[str, str] = {}     # a block's body text -> its name
        self.instances: dict[str, str] = {}       # a leaf module's path -> its bound name, once shared
        self.tied = self._tied()                  # a leaf's path -> the leaf whose weight it reuses
        self.multi_called |= set(self.tied.values())    # bound, so that `tied=` can name it
        self.positions: dict = {}                 # get_attr nodes of the root's own parameters
        self.kept: set = set(nodes)               # the nodes the result needs (masks are not)
        self.covered: set = set()                 # ids of the parameters and buffers the program counts
        self.carrier, self.carrier_node = None, None    # the scope's first input: what a parameter follows
        self.ops = _Ops(self)

    def _tied(self) -> dict:
        """`head.weight = tok.weight`: the later module's weight is the earlier one's."""
        first, tied = {}, {}
        for path, m in self.root.named_modules(remove_duplicate=False):
            if self.leaves(m) is None:
                continue
            for p in m.parameters(recurse=False):
                if id(p) in first and first[id(p)] != path:
                    tied[path] = first[id(p)]
                first.setdefault(id(p), path)
        return tied

    def data_inputs(self, n) -> list:
        """The tensors a node computes from: a module's data (query, key, value for attention), never its
        masks, which cost no weights."""
        if n.op == "call_module":
            module = self.root.get_submodule(n.target)
            if type(module).__name__ == "MultiheadAttention":
                q, k, v = (list(n.args) + [n.kwargs.get("key"), n.kwargs.get("value")])[:3]
                return [q, v] if k is v else [q, v, k]       # the catalog takes (query, value, key)
            if self.leaves.many_inputs(module):
                xs = [a for a in n.args if hasattr(a, "op")]
                spec = lookup(_torch_class(module) or "")
                return xs if spec is None or spec.variadic else xs[:spec.n_inputs]    # a Transformer's masks: no data
            return [n.args[0]]
        plan = self.ops.plan(n) if n.op in ("call_function", "call_method") else None
        if plan is not None:
            return [x for x in plan.inputs if x is not None]
        return list(n.all_input_nodes)

    def _state_inputs(self, n) -> list:
        """The initial state an RNN is given (`lstm(x, (h, c))`): computed by the model, though no data."""
        import torch
        if n.op != "call_module" or type(self.root.get_submodule(n.target)).__name__ not in \
                ("LSTM", "GRU", "RNN", "LSTMCell", "GRUCell", "RNNCell"):
            return []
        found = []
        torch.fx.node.map_arg((n.args[1:], n.kwargs), lambda a: found.append(a))
        return found

    def needed(self, result) -> set:
        """The nodes the result is computed from."""
        seen, todo = set(), [result]
        while todo:
            n = todo.pop()
            if n not in seen:
                seen.add(n)
                todo += [x for x in self.data_inputs(n) + self._state_inputs(n) if hasattr(x, "op")]
        return seen

    def in_use(self, node) -> bool:
        return node.op == "output" or node in self.kept

    def var(self, node) -> str:
        if node not in self.names:
            name = re.sub(r"\W", "_", node.name)
            self.names[node] = self.safe(f"layer{name}" if re.match(r"_\d", name) else name)
        return self.names[node]

    def safe(self, name: str) -> str:
        """A tensor's name that hides no layer: not a catalog name, nor a bound instance's."""
        from ..catalog import lookup
        reserved = {re.sub(r"\W", "_", path) for path in self.shared | set(self.multi_called)}
        return f"{name}_out" if lookup(name) is not None or name in reserved or name in self.sizes.symbols else name

    # -------------------------------------------------------------- regions of nodes

    @staticmethod
    def _owner(node, depth):
        """The module call that made this node, at this depth, or None: its path, with `@n` for
        the module's n-th call after the first."""
        stack = [path for path in node.meta.get("nn_module_stack", {})]
        return stack[depth] if len(stack) > depth else None

    def _module(self, owner):
        return self.root.get_submodule(owner.split("@")[0])

    def region(self, nodes, depth, scope=None) -> list[str]:
        """Lines for these nodes, grouping those that one submodule made into a call of its block."""
        lines, i = [], 0
        groups = []
        while i < len(nodes):
            owner = self._owner(nodes[i], depth)
            j = i + 1
            while j < len(nodes) and owner is not None and self._owner(nodes[j], depth) == owner:
                j += 1
            groups.append((owner, nodes[i:j]))
            i = j
        k = 0
        while k < len(groups):
            owner, members = groups[k]
            leaf = owner is not None and self.leaves(self._module(owner)) is not None
            if owner is None or leaf or owner == scope:
                run = self._leaf_run(groups, k) if leaf else None
                if run:
                    lines.append(run[0])
                    k += run[1]
                    continue
                lines += [line for n in members for line in self.node(n)]
                k += 1
                continue
            block, ins, out = self.block(owner, members, depth + 1)
            n = 1      # identical calls in a chain fold into a repeat
            while k + n < len(groups):
                nxt_owner, nxt = groups[k + n]
                if nxt_owner is None or self.leaves(self._module(nxt_owner)) is not None or \
                        owner.split("@")[0] in self.shared:
                    break
                nxt_block, nxt_ins, nxt_out = self.block(nxt_owner, nxt, depth + 1)
                if nxt_block != block or len(nxt_ins) != 1 or nxt_ins[0] is not out or len(ins) != 1:
                    break
                if any(user not in nxt and self.in_use(user) for user in out.users):
                    break          # the output before the next call is read elsewhere too (a U-Net's skip)
                out, n = nxt_out, n + 1
            args = ", ".join(self.var(x) for x in ins)
            path = owner.split("@")[0]
            count = self._count(n, path.rpartition(".")[0], path)
            call = block if count == "1" else f"repeat({count}, {block})"
            if path in self.shared:      # a submodule called more than once: one instance, its weights once
                bound = re.sub(r"\W", "_", path)
                if path not in self.instances:
                    lines.append(f"{bound} = {call}")
                    self.instances[path] = bound
                call = bound
            named = path if n == 1 else path.rsplit(".", 1)[0]
            if scope and named.startswith(scope.split("@")[0] + "."):     # inside a block: its own name
                named = named[len(scope.split("@")[0]) + 1:]
            named = re.sub(r"\W", "_", named)
            self.names[out] = self.safe(f"{type(self._module(owner)).__name__.lower()}_{named}"
                                        if named[:1].isdigit() else named)
            lines.append(f"{self.var(out)} = {call}({args})")
            k += n
        return lines

    def _leaf_run(self, groups, k):
        """Identical leaves called one after another, each on the last's output, in one container (a
        ModuleList of TransformerEncoderLayers): their repeat's line and how many groups it takes."""
        def call(group):
            owner, members = group
            node = members[0]
            if len(members) != 1 or node.op != "call_module" or node.target in self.multi_called | set(self.tied):
                return None, None
            module = self.root.get_submodule(node.target)
            text = self.leaves(module)(module)
            frozen = any(not p.requires_grad for p in module.parameters())
            return node, None if frozen or not isinstance(text, str) else text
        first, text = call(groups[k])
        if text is None or len(self.data_inputs(first)) != 1:
            return None
        container, run = first.target.rpartition(".")[0], [first]
        while k + len(run) < len(groups) and groups[k + len(run)][0] is not None:
            node, nxt = call(groups[k + len(run)])
            if nxt != text or node.target.rpartition(".")[0] != container or self.data_inputs(node) != [run[-1]] or \
                    any(user is not node and self.in_use(user) for user in run[-1].users):
                break
            run.append(node)
        count = self._count(len(run), container, first.target)
        if count == "1":
            return None
        for node in run:
            module = self.root.get_submodule(node.target)
            self.covered |= {id(t) for t in list(module.parameters()) + list(module.buffers())}
        self.names[run[-1]] = self.safe(re.sub(r"\W", "_", container) or "layers")
        return f"{self.var(run[-1])} = repeat({count}, {text})({self.var(self.data_inputs(first)[0])})", len(run)

    def _count(self, n: int, container: str, first: str = "") -> str:
        """A repeat's count: as the parameters move the container's length, where the calls are all of it,
        or all of it from the first call on (`[Block(c, 2c)] + [Block(2c, 2c) for _ in range(n - 1)]`) —
        and only where the module built with the parameter grown has identical modules there."""
        start = first.rpartition(".")[2]
        start = int(start) if start.isdigit() else 0
        try:
            whole = len(self.root.get_submodule(container)) == start + n
        except TypeError:     # calls of one module class in a row, in no container
            whole = False
        if not whole:
            return self.sizes(n)
        what = f"the length of {container or type(self.root).__name__}" + (f" from {start} on" if start else "")
        count = self.sizes.found(n, lambda m: len(m.get_submodule(container)) - start, what)
        if count != str(n) and not self._alike(container, start):
            return self.sizes(n)
        return count

    def _alike(self, container: str, start: int) -> bool:
        """Whether the modules of `container` from `start` on are alike (class and weight shapes) in every
        rebuild with one parameter changed: else a count that moves with it is no repeat of one block."""
        for rebuilt in self.sizes.built.values():
            if isinstance(rebuilt, Exception):
                continue
            try:
                members = list(rebuilt.get_submodule(container))[start:]
            except Exception:
                continue
            kinds = {(type(m), tuple((k, tuple(p.shape)) for k, p in m.state_dict().items())) for m in members}
            if len(kinds) > 1:
                return False
        return True

    def block(self, owner, members, depth):
        """The block a submodule's nodes make (defined once per distinct body), its inputs and output."""
        inside = set(members)
        ins = []
        for node in members:
            for arg in self.data_inputs(node):
                if arg not in inside and arg not in ins:
                    ins.append(arg)
        outs = [n for n in members if any(user not in inside and self.in_use(user) for user in n.users)]
        if len(outs) != 1:
            raise ImportProblem(f"module {owner} gives {len(outs)} results to the rest of the network",
                                hint="a block returns one tensor")
        saved, carrier = dict(self.names), (self.carrier, self.carrier_node)
        params = [f"x{i}" if len(ins) > 1 else "x" for i in range(len(ins))]
        self.carrier, self.carrier_node = (params[0], ins[0]) if ins else (None, None)
        for node, param in zip(ins, params):
            self.names[node] = param
        # names local to the block, so that the same module class at another path reads the same
        taken = set(params)
        for node in members:
            prefix = owner.split("@")[0] + "."
            base = node.target[len(prefix):] if node.op in ("call_module", "get_attr") and \
                node.target.startswith(prefix) else re.sub(r"_\d+$", "", node.name)
            base = re.sub(r"\W", "_", base) or "y"
            base = self.safe(f"layer_{base}" if base[0].isdigit() else base)
            name, i = base, 1
            while name in taken:
                name, i = f"{base}_{i}", i + 1
            taken.add(name)
            self.names[node] = name
        body = self.region(members, depth, scope=owner)
        body[-1] = "return " + body[-1].split(" = ", 1)[1]
        self.names = saved
        self.carrier, self.carrier_node = carrier
        used = self.sizes.in_text(body)      # the symbols the body uses are the block's parameters
        text = f"({', '.join(used)})({', '.join(params)}):\n" + "".join(f"    {line}\n" for line in body)
        if text not in self.block_names:
            cls = _snake(type(self._module(owner)).__name__)
            cls = f"{cls}_block" if lookup(cls) is not None else cls      # the catalog's names are its layers'
            taken = set(self.block_names.values()) | set(self.ops.declared.values())
            name, i = cls, 2
            while name in taken:
                name, i = f"{cls}_{i}", i + 1
            self.block_names[text] = name
            self.blocks.append(f"block {name}{text}")
        return f"{self.block_names[text]}({', '.join(used)})", ins, outs[0]

    # -------------------------------------------------------------- one node

    def node(self, n) -> list[str]:
        import torch
        target = self.var(n)
        args = [a for a in n.args]
        if n.op == "call_module":
            module = self.root.get_submodule(n.target)
            call = self.leaves(module)(module)
            self.covered |= {id(t) for t in list(module.parameters()) + list(module.buffers())}
            *before, call = call if isinstance(call, list) else [call]      # a stack, then its final norm
            inputs = ", ".join(self.var(x) for x in self.data_inputs(n))
            options = []
            if any(p.requires_grad is False for p in module.parameters()):
                options.append("trainable=false")
            if n.target in self.tied:
                options.append(f"tied={re.sub(r'[^0-9A-Za-z_]', '_', self.tied[n.target])}")
            if options:
                call = call[:-1] + (", " if not call.endswith("()") else "") + ", ".join(options) + ")"
            lines = []
            for i, step in enumerate(before):
                lines.append(f"{target}_{i} = {step}({inputs})")
                inputs = f"{target}_{i}"
            if n.target in self.instances:          # called again: its weights are shared
                return lines + [f"{target} = {self.instances[n.target]}({inputs})"]
            if n.target in self.multi_called:
                bound = re.sub(r"\W", "_", n.target)
                self.instances[n.target] = bound
                return lines + [f"{bound} = {call}", f"{target} = {bound}({inputs})"]
            return lines + [f"{target} = {call}({inputs})"]
        if n.op == "call_function" and n.target is operator.getitem and args[0].op == "call_module" and \
                _output_or_indices(self.root.get_submodule(args[0].target), args[1]):
            self.names[n] = self.var(args[0])      # the output of (output, state): the same tensor
            return []
        if n.op == "get_attr" and n in self.ops.absorbed:
            self.covered.add(id(getattr(self.root.get_submodule(n.target.rpartition(".")[0]), n.target.rpartition(".")[2])))
            return []
        if n.op == "get_attr":
            try:
                weight = self.root.get_parameter(n.target)
            except AttributeError:
                weight = None
            adds = [u for u in n.users if u.op == "call_function" and u.target in (operator.add, torch.add)]
            if weight is not None and weight.dim() == 3 and weight.shape[0] == 1 and n.users and \
                    len(adds) == len(n.users) and not (n.meta.get("nn_module_stack") and self.carrier is None):
                self.positions[n] = weight     # a (1, positions, width) table added: a position_embedding
                self.covered.add(id(weight))
                return []
            lines = self.ops.write(n)
            if lines is None:
                raise ImportProblem(f"the tensor {n.target} read in forward() has no catalog layer{self.ops.at(n)}",
                                    hint="a parameter or buffer of a module the catalog has")
            return lines
        if n.op == "call_function" and n.target in (operator.add, torch.add) and len(args) == 2 and \
                any(a in self.positions for a in args):
            x, p = args if args[1] in self.positions else args[::-1]
            weight = self.positions[p]
            if weight.dim() != 3 or weight.shape[0] != 1:
                raise ImportProblem(f"the parameter {p.target} {tuple(weight.shape)} added to a tensor has no "
                                    "catalog layer", hint="a (1, positions, width) parameter is a position_embedding")
            frozen = ", trainable=false" if not weight.requires_grad else ""
            name = re.sub(r"\W", "_", p.target)
            positions = self.sizes.position(language(self.sizes.axis(
                weight, 1, lambda m: m.get_parameter(p.target).shape[1], f"the positions of {p.target}")))
            return [f"{name} = position_embedding({positions}{frozen})({self.var(x)})",
                    f"{target} = {self.var(x)} + {name}"]
        merge = {operator.add: "+", torch.add: "+", operator.sub: "-", torch.sub: "-",
                 operator.mul: "*", torch.mul: "*"}
        if n.op == "call_function" and n.target in merge and len(args) == 2 and not n.kwargs and \
                all(self.ops.tensor(a) for a in args):
            return [f"{target} = {self.var(args[0])} {merge[n.target]} {self.var(args[1])}"]
        key = n.target if n.op in ("call_function", "call_method") else None
        if key in self.functions and len(args) == 1:
            return [f"{target} = {self.functions[key]}({self.var(args[0])})"]
        if key in (torch.flatten, "flatten") and (args[2] if len(args) > 2 else n.kwargs.get("end_dim", -1)) == -1 \
                and (args[1] if len(args) > 1 else n.kwargs.get("start_dim", 0)) != 0:
            start = args[1] if len(args) > 1 else n.kwargs.get("start_dim", 0)
            return [f"{target} = flatten(start_dim={start})({self.var(args[0])})"]
        lines = self.ops.write(n)
        if lines is not None:
            return lines
        raise ImportProblem(f"{self.ops.doing(n)} has no catalog layer{self.ops.at(n)}",
                            hint="declare a layer for it (docs/blocks.md), or use a module the catalog has")


# ------------------------------------------------------------------ forward()'s own operations

_LETTERS = "abcdefghijklmnopqrstuvwxyz"
# Operations that change no shape and cost no MACs as FlopCounterMode counts them: the tensor goes on.
_SAME = ("contiguous", "float", "half", "bfloat16", "double", "to", "type", "type_as", "clone", "detach",
         "masked_fill", "masked_fill_", "dropout", "alpha_dropout", "feature_alpha_dropout", "dropout1d", "dropout2d",
         "dropout3d", "sqrt", "rsqrt", "neg", "abs", "square", "clamp", "clip", "exp", "log", "pow", "requires_grad_")
_REDUCTIONS = ("mean", "sum", "amax", "amin", "max", "min", "std", "var", "logsumexp", "prod", "norm")


class _Plan:
    """How one operation of forward() is written: `same` (its tensor goes on under a new name), a
    catalog `call`, a `layer` the program declares (its shape rule from the sizes it reads), or
    nothing (`size` for numbers and the states of an RNN), with the tensors it reads."""

    def __init__(self, how, inputs=(), call=None, out=None, macs=0, kind=""):
        self.how, self.inputs, self.call, self.out, self.macs, self.kind = how, list(inputs), call, out, macs, kind


class _Ops:
    """forward()'s tensor operations that are no module — views, transposes, reductions, slices, cat,
    matmul, attention products, positions, parameters and buffers read directly — written as layers
    the program declares: each a shape rule over the axes of the tensors it reads (the sizes a view is
    given, `x.size(1)`, are those axes), with the MACs FlopCounterMode counts for it."""

    def __init__(self, writer):
        import sympy as sp
        self.w, self.sp = writer, sp
        self.values, self.plans = {}, {}
        self.axes = {}                        # a sympy symbol -> (tensor node, axis)
        self.batch = sp.Symbol("_batch")
        self.layers, self.declared = [], {}   # declarations in order; a declaration's text -> its name
        self.absorbed = set()                 # parameters read by a catalog layer written for them (F.layer_norm)

    # ---------------------------------------------------------------- where and what

    @staticmethod
    def at(n) -> str:
        """` at file.py:12: the line`: the user's line that made this node (fx's stack trace)."""
        import os
        import torch
        trace = getattr(n, "stack_trace", None) or ""
        skip = (os.path.dirname(torch.__file__), os.path.dirname(os.path.dirname(__file__)))
        frames = re.findall(r'File "([^"]+)", line (\d+), in \w+\n\s+(.*)', trace)
        frames = [f for f in frames if not f[0].startswith(skip)]
        if not frames:
            return ""
        file, line, code = frames[-1]
        return f" at {os.path.basename(file)}:{line}: {code.strip()}"

    def doing(self, n) -> str:
        import operator as op
        where = ", ".join(self.w._owner(n, d) for d in range(len(n.meta.get("nn_module_stack", {})))) or "forward"
        if n.op == "call_function" and n.target is getattr:
            return f"reading .{n.args[1]} of a tensor in {where}"
        what = getattr(n.target, "__name__", n.target)
        if n.target is op.getitem:
            what = "indexing"
        return f"the operation {what} ({n.op}) in {where}"

    # ---------------------------------------------------------------- tensors and numbers

    def shape(self, n):
        """A tensor node's shape (batch first) as the module ran at the defaults, or None."""
        from torch.fx.passes.shape_prop import TensorMetadata
        meta = n.meta.get("tensor_meta") if hasattr(n, "meta") else None
        return tuple(meta.shape) if isinstance(meta, TensorMetadata) else None

    def tensor(self, a) -> bool:
        return hasattr(a, "op") and self.shape(a) is not None

    def axes_of(self, n) -> list:
        """A tensor's axes as symbols: the batch, then one per axis of an example."""
        out = [self.batch]
        for i in range(1, len(self.shape(n))):
            s = self.sp.Symbol(f"_ax{id(n)}_{i}")
            self.axes[s] = (n, i)
            out.append(s)
        return out

    def value(self, a):
        """A number of forward() (an int, a Size, `x.size(1)`, their arithmetic) as a formula over the model's
        symbols and tensors' axes; a tuple or list as a list; None for anything else."""
        from ..sized import Size
        sp = self.sp
        if isinstance(a, bool) or a is None:
            return None
        if isinstance(a, Size):
            self.w.sizes.used |= {s.name for s in a.formula.free_symbols}
            return a.formula
        if isinstance(a, int):
            from ..dims import symbol
            name = self.w.sizes._legacy(a)
            return sp.Integer(a) if name == str(a) else symbol(name)
        if isinstance(a, (tuple, list)):
            values = [self.value(x) for x in a]
            return None if any(v is None for v in values) else values
        if not hasattr(a, "op"):
            return None
        if a not in self.values:
            self.values[a] = self._value(a)
        return self.values[a]

    def _value(self, n):
        import operator as op
        sp = self.sp
        args = list(n.args)
        if n.op == "call_function" and n.target is getattr and args[1] == "shape" and self.tensor(args[0]):
            return self.axes_of(args[0])
        if n.op == "call_method" and n.target == "size" and self.tensor(args[0]):
            axes = self.axes_of(args[0])
            dim = args[1] if len(args) > 1 else n.kwargs.get("dim")
            return axes if dim is None else axes[dim]
        if n.op == "call_method" and n.target in ("dim", "ndimension") and self.tensor(args[0]):
            return sp.Integer(len(self.shape(args[0])))
        if n.op == "call_function" and n.target is op.getitem:
            base = self.value(args[0])
            if isinstance(base, list) and isinstance(args[1], (int, slice)):
                return base[args[1]]
            return None
        arithmetic = {op.add: lambda a, b: a + b, op.sub: lambda a, b: a - b, op.mul: lambda a, b: a * b,
                      op.floordiv: lambda a, b: sp.floor(a / b), op.truediv: lambda a, b: a / b,
                      op.mod: lambda a, b: sp.Mod(a, b)}
        if n.op == "call_function" and n.target in arithmetic and len(args) == 2:
            a, b = self.value(args[0]), self.value(args[1])
            if isinstance(a, sp.Expr) and isinstance(b, sp.Expr):
                return arithmetic[n.target](a, b)
        if n.op == "call_function" and n.target is op.neg:
            a = self.value(args[0])
            return -a if isinstance(a, sp.Expr) else None
        return None

    # ---------------------------------------------------------------- plans

    def plan(self, n):
        if n not in self.plans:
            self.plans[n] = self._plan(n)
        return self.plans[n]

    def _plan(self, n):
        import operator as op
        import torch
        import torch.nn.functional as F
        if n.op not in ("call_function", "call_method"):
            return None
        if self.value(n) is not None:
            return _Plan("size")
        if self._state(n):      # (h, c) of an RNN: read by another RNN as its start, never written
            return _Plan("size", [self._rnn(n)])
        key, args, kw = n.target, list(n.args), dict(n.kwargs)
        name = key if isinstance(key, str) else getattr(key, "__name__", "")
        if not self.tensor(n):
            # a tuple of tensors (chunk, split) is read by its items; an RNN's (h, c) by nobody
            if name in ("chunk", "split", "unbind", "tensor_split"):
                return _Plan("size")
            return None
        first = args[0] if args else None
        # merges of two tensors are the writer's (+ - *); one tensor and a number: the tensor goes on
        binary = (op.add, op.sub, op.mul, op.truediv, op.floordiv, op.pow, torch.add, torch.sub, torch.mul,
                  torch.div, torch.pow, "add", "sub", "mul", "div", "pow", "masked_fill", torch.masked_fill,
                  torch.where)
        tensors = [a for a in args if self.tensor(a)]
        if key in binary and key is not torch.where:
            if len(tensors) == 1 and self.shape(tensors[0]) == self.shape(n):
                return _Plan("same", [tensors[0]])
            if key in ("masked_fill", torch.masked_fill) and self.shape(first) == self.shape(n):
                return _Plan("same", [first])
            if len(tensors) == 2 and key in (op.truediv, torch.div, "div", op.pow, torch.pow, "pow"):
                return self._broadcast(n, tensors, name or "divide")
            return None
        if key is torch.where and len(args) == 3:
            data = [a for a in args[1:] if self.tensor(a) and self.shape(a) == self.shape(n)]
            return _Plan("same", data[:1]) if data else None
        if name in _SAME and first is not None and self.tensor(first) and self.shape(first) == self.shape(n):
            return _Plan("same", [first])
        if key is op.getitem and self.tensor(first):
            return self._index(n, first, args[1])
        if key is op.getitem:       # an item of chunk or split
            return self._piece(n, first, args[1])
        if name in ("view", "reshape") and self.tensor(first):
            sizes = args[1:] if len(args) > 2 or not isinstance(args[1] if len(args) > 1 else None, (tuple, list)) \
                else args[1]
            if "shape" in kw:
                sizes = kw["shape"]
            return self._reshape(n, first, sizes)
        if name in ("flatten",):
            start = args[1] if len(args) > 1 else kw.get("start_dim", 0)
            end = args[2] if len(args) > 2 else kw.get("end_dim", -1)
            return self._flatten(n, first, start, end)
        if name in ("permute", "transpose", "swapaxes", "movedim", "unsqueeze", "squeeze", "t", "expand",
                    "expand_as", "repeat"):
            return self._rearrange(n, name, first, args[1:], kw)
        if key in (torch.cat, torch.concat, torch.concatenate, torch.stack):
            return self._join(n, name, list(args[0]), args[1] if len(args) > 1 else kw.get("dim", 0))
        if key in (op.matmul, torch.matmul, torch.bmm, "matmul", "bmm", "__matmul__"):
            return self._matmul(n, first, args[1])
        if name == "mean" and self.tensor(first) and len(self.shape(first)) == 4:
            dim = args[1] if len(args) > 1 else kw.get("dim")
            keep = args[2] if len(args) > 2 else kw.get("keepdim", False)
            if isinstance(dim, (tuple, list)) and {d % 4 for d in dim} == {2, 3} and not keep:
                return _Plan("call", [first], call="global_avgpool2d()")
        if name in _REDUCTIONS and self.tensor(first):
            dim = args[1] if len(args) > 1 else kw.get("dim")
            keep = args[2] if len(args) > 2 else kw.get("keepdim", False)
            plan = self._reduce(n, name, first, dim, keep)
            return plan
        if key in (F.softmax, torch.softmax, "softmax", F.log_softmax, torch.log_softmax, "log_softmax"):
            dim = args[1] if len(args) > 1 else kw.get("dim")
            which = "log_softmax" if "log" in name else "softmax"
            return _Plan("call", [first], call=f"{which}(axis={dim})") if isinstance(dim, int) else None
        if key is F.layer_norm:
            return self._layer_norm(first, args, kw)
        if key is F.scaled_dot_product_attention:
            return self._attention(n, args[:3] if len(args) >= 3 else [args[0], kw.get("key"), kw.get("value")])
        if key is torch.arange:
            return self._arange(n, args, kw)
        if key in (F.interpolate, F.pad, F.adaptive_avg_pool1d, F.adaptive_avg_pool2d, F.adaptive_max_pool1d,
                   F.adaptive_max_pool2d, F.avg_pool2d, F.max_pool2d, F.layer_norm, F.group_norm):
            return self._spatial(n, name, first)
        return None

    def _rnn(self, n):
        while n.op != "call_module":
            n = n.args[0]
        return n

    def _layer_norm(self, x, args, kw):
        """F.layer_norm(x, (d,), self.weight, self.bias): nn.LayerNorm written by hand, its weights the module's."""
        shape = self.value(args[1] if len(args) > 1 else kw.get("normalized_shape"))
        weight = args[2] if len(args) > 2 else kw.get("weight")
        bias = args[3] if len(args) > 3 else kw.get("bias")
        tensors = [t for t in (weight, bias) if t is not None]
        if not isinstance(shape, list) or len(shape) != 1 or not self.tensor(x) or \
                any(getattr(t, "op", None) != "get_attr" for t in tensors):
            return None
        self.absorbed |= set(tensors)
        flags = _flags(elementwise_affine=weight is not None, use_bias=bias is not None or weight is None)[2:]
        return _Plan("call", [x], call=f"layernorm({flags})")

    def _state(self, n) -> bool:
        """An RNN's state (h, c), an item of it, or the tuple it came in."""
        import operator as op
        if not hasattr(n, "op"):
            return False
        if n.op == "call_function" and n.target is op.getitem:
            base = n.args[0]
            if base.op == "call_module" and type(self.w.root.get_submodule(base.target)).__name__ in _TUPLES:
                return n.args[1] != 0
            return self._state(base)
        return False

    def _same_rule(self, n, inputs, kind, macs=0):
        """A layer whose output is the node's shape, each axis the input axis of its size where one is."""
        out = self._out_like(n, inputs)
        return None if out is None else _Plan("layer", inputs, out=out, macs=macs, kind=kind)

    def _out_like(self, n, inputs):
        """The node's axes (at the defaults), each as the first input axis of that size found from the end."""
        shape = self.shape(n)
        out = []
        for i in range(1, len(shape)):
            found = None
            for x in inputs:
                s = self.shape(x)
                j = len(s) - (len(shape) - i)
                if 1 <= j < len(s) and s[j] == shape[i]:
                    found = self.axes_of(x)[j]
                    break
            if found is None:
                if shape[i] != 1:
                    return None
                found = self.sp.Integer(1)
            out.append(found)
        return out

    def _broadcast(self, n, tensors, kind):
        return self._same_rule(n, tensors, kind)

    def _index(self, n, x, index):
        """x[:, 0], x[..., :T], x[:, None]: kept, dropped, cut and new axes; the batch must stay whole."""
        sp = self.sp
        index = list(index) if isinstance(index, tuple) else [index]
        axes = self.axes_of(x)
        if Ellipsis in index:
            k = index.index(Ellipsis)
            fill = len(axes) - (len([i for i in index if i is not None]) - 1)
            index = index[:k] + [slice(None)] * fill + index[k + 1:]
        index += [slice(None)] * (len(axes) - len([i for i in index if i is not None]))
        out, j = [], 0
        for item in index:
            if item is None:
                out.append(sp.Integer(1))
                continue
            axis = axes[j]
            j += 1
            if isinstance(item, slice):
                if item == slice(None):
                    out.append(axis)
                    continue
                start, stop, step = (self.value(v) if v is not None else None for v in (item.start, item.stop, item.step))
                if (item.start is not None and start is None) or (item.stop is not None and stop is None) or \
                        (item.step is not None and step is None) or axis is self.batch:
                    return None
                start = start if start is not None else sp.Integer(0)
                if stop is None:
                    length = axis - start if start >= 0 else -start
                elif stop.is_number and stop < 0:
                    length = axis + stop - start
                else:
                    length = sp.Min(stop, axis) - start if stop.free_symbols - {axis} or stop.is_number else stop - start
                out.append(length if step is None else sp.ceiling(length / step))
            elif isinstance(item, int) and axis is not self.batch:
                continue
            else:
                return None
        if not out or out[0] is not self.batch:
            return None
        return self._checked(n, [x], out[1:], "index")

    def _piece(self, n, whole, i):
        """One piece of x.chunk(k, dim) or x.split(size, dim)."""
        if not hasattr(whole, "op") or not isinstance(i, int):
            return None
        name = whole.target if isinstance(whole.target, str) else getattr(whole.target, "__name__", "")
        args, kw = list(whole.args), dict(whole.kwargs)
        x = args[0]
        if name not in ("chunk", "split") or not self.tensor(x):
            return None
        dim = args[2] if len(args) > 2 else kw.get("dim", 0)
        axes = self.axes_of(x)
        dim = dim % len(axes)
        if dim == 0:
            return None
        pieces = self.value(args[1] if len(args) > 1 else kw.get("chunks", kw.get("split_size_or_sections")))
        if not isinstance(pieces, self.sp.Expr):
            return None
        size = axes[dim] / pieces if name == "chunk" else pieces
        out = axes[1:dim] + [size] + axes[dim + 1:]
        return self._checked(n, [x], out, "piece")

    def _reshape(self, n, x, sizes):
        sp = self.sp
        sizes = self.value(list(sizes) if isinstance(sizes, (tuple, list)) else [sizes])
        if sizes is None or not sizes or sizes[0] is not self.batch:
            return None
        axes = self.axes_of(x)
        whole = sp.Mul(*axes[1:])
        known = sp.Mul(*[s for s in sizes[1:] if s != -1])
        out = [sp.cancel(whole / known) if s == -1 else s for s in sizes[1:]]
        return self._checked(n, [x], out, "view")

    def _flatten(self, n, x, start, end):
        axes = self.axes_of(x)
        start, end = start % len(axes), end % len(axes)
        if start == 0:
            return None
        out = axes[1:start] + [self.sp.Mul(*axes[start:end + 1])] + axes[end + 1:]
        return self._checked(n, [x], out, "flatten")

    def _rearrange(self, n, name, x, args, kw):
        sp = self.sp
        axes = self.axes_of(x)
        rank = len(axes)
        if name in ("permute",):
            dims = list(args[0]) if len(args) == 1 and isinstance(args[0], (tuple, list)) else list(args or kw.get("dims"))
            dims = [d % rank for d in dims]
            if dims[0] != 0:
                return None
            out = [axes[d] for d in dims]
        elif name in ("transpose", "swapaxes", "movedim"):
            a, b = [d % rank for d in (list(args) + [kw.get("dim0"), kw.get("dim1")])[:2]]
            if 0 in (a, b):
                return None
            out = list(axes)
            if name == "movedim":
                out.insert(b, out.pop(a))
            else:
                out[a], out[b] = out[b], out[a]
        elif name == "t":
            out = [axes[0]] + axes[1:][::-1]
        elif name == "unsqueeze":
            d = (args[0] if args else kw["dim"]) % (rank + 1)
            if d == 0:
                return None
            out = axes[:d] + [sp.Integer(1)] + axes[d:]
        elif name == "squeeze":
            shape = self.shape(x)
            d = args[0] if args else kw.get("dim")
            drop = [i for i in range(1, rank) if shape[i] == 1] if d is None else [d % rank]
            if 0 in drop:
                return None
            out = [a for i, a in enumerate(axes) if i not in drop]
        elif name == "expand_as":
            return self._same_rule(n, [x, args[0]], "expand")
        else:   # expand, repeat
            sizes = self.value(list(args[0]) if len(args) == 1 and isinstance(args[0], (tuple, list)) else list(args))
            if sizes is None or len(sizes) != rank:
                return None
            if name == "repeat":
                if sizes[0] != 1:
                    return None
                out = [axes[0]] + [a * s for a, s in zip(axes[1:], sizes[1:])]
            else:
                if sizes[0] not in (self.batch, -1) and not (sizes[0] == 1 and self.shape(x)[0] == 1):
                    return None
                out = [self.batch] + [a if s == -1 else s for a, s in zip(axes[1:], sizes[1:])]
                if sizes[0] == 1 and self.shape(n)[0] != 1:
                    return None
        if out[0] is not self.batch:
            return None
        return self._checked(n, [x], out[1:], name)

    def _join(self, n, name, xs, dim):
        if not xs or not all(self.tensor(x) for x in xs):
            return None
        rank = len(self.shape(xs[0]))
        axes = [self.axes_of(x) for x in xs]
        if name == "stack":
            d = dim % (rank + 1)
            if d == 0:
                return None
            out = axes[0][1:d] + [self.sp.Integer(len(xs))] + axes[0][d:]
        else:
            d = dim % rank
            if d == 0:
                return None
            out = axes[0][1:d] + [self.sp.Add(*[a[d] for a in axes])] + axes[0][d + 1:]
        return self._checked(n, list(dict.fromkeys(xs)), out, "stack" if name == "stack" else "cat")

    def _matmul(self, n, a, b):
        """(..., t, k) @ (..., k, s): t*k*s MACs per matrix, as FlopCounterMode counts (FLOPs / 2)."""
        if not (self.tensor(a) and self.tensor(b)) or len(self.shape(a)) < 3 or len(self.shape(b)) < 2:
            return None
        ax, bx = self.axes_of(a), self.axes_of(b)
        if len(self.shape(b)) != len(self.shape(a)):
            return None
        out = ax[1:-1] + [bx[-1]]
        return self._checked(n, list(dict.fromkeys([a, b])), out, "matmul", macs=self.sp.Mul(*out) * ax[-1])

    def _reduce(self, n, name, x, dim, keep):
        axes = self.axes_of(x)
        if dim is None:
            return None
        dims = {d % len(axes) for d in (dim if isinstance(dim, (tuple, list)) else [dim])}
        if 0 in dims:
            return None
        out = [self.sp.Integer(1) if i in dims else a for i, a in enumerate(axes) if keep or i not in dims]
        if len(out) < 2:
            return None
        return self._checked(n, [x], out[1:], name)

    def _attention(self, n, qkv):
        """F.scaled_dot_product_attention(q, k, v): (..., t, d) against (..., s, d) and (..., s, e); its
        masks cost nothing. MACs t*s*(d + e) per head, as FlopCounterMode counts."""
        q, k, v = qkv
        if not all(self.tensor(x) for x in (q, k, v)):
            return None
        qa, ka, va = self.axes_of(q), self.axes_of(k), self.axes_of(v)
        out = qa[1:-1] + [va[-1]]
        macs = self.sp.Mul(*qa[1:-1]) * ka[-2] * (qa[-1] + va[-1])
        return self._checked(n, list(dict.fromkeys([q, k, v])), out, "attention", macs=macs)

    def _arange(self, n, args, kw):
        """torch.arange(T): T positions, read as a tensor of T ids (the batch broadcasts)."""
        values = [self.value(a) for a in args]
        if not args or any(v is None for v in values) or len(values) > 2:
            return None
        length = values[-1] - (values[0] if len(values) == 2 else 0)
        reads = self._reads([length])
        if not reads:
            reads = [self.w.carrier_node] if self.w.carrier_node is not None else []
        if not reads:
            return None
        return _Plan("layer", reads, out=[length], kind="positions")

    def _spatial(self, n, name, x):
        """F.interpolate, F.pad, F.layer_norm, adaptive and plain pools: sized as they ran at the defaults,
        each axis the input's where it kept its size."""
        if not self.tensor(x):
            return None
        if name in ("layer_norm", "group_norm") and any(self.tensor(a) for a in list(n.args)[2:]):
            return None     # with weights of its own: write an nn.LayerNorm
        return self._same_rule(n, [x], name.replace("adaptive_", ""))

    def _reads(self, exprs) -> list:
        """The tensors whose axes these formulas read, in order."""
        found = []
        for e in exprs:
            for s in sorted(getattr(e, "free_symbols", ()), key=str):
                if s in self.axes and self.axes[s][0] not in found:
                    found.append(self.axes[s][0])
        return found

    def _checked(self, n, inputs, out, kind, macs=0):
        """A layer's plan, if its shape at the defaults is the one the module ran with."""
        sp = self.sp
        shape = self.shape(n)
        if len(out) != len(shape) - 1:
            return None
        inputs = list(inputs) + [x for x in self._reads(list(out) + [macs]) if x not in inputs]
        from ..dims import symbol
        values = {s: sp.Integer(self.shape(node)[i]) for s, (node, i) in self.axes.items()}
        values.update({self.sp.Symbol(k): sp.Integer(v) for k, v in self.w.sizes.symbols.items()})
        values.update({symbol(k): sp.Integer(v) for k, v in self.w.sizes.symbols.items()})
        for e, v in zip(out, shape[1:]):
            e = sp.sympify(e)
            # every key a symbol: one pass (subs would substitute the whole table one by one)
            if e.has(self.batch) or e.xreplace(values) != v:
                return None
        return _Plan("layer", inputs, out=list(out), macs=macs, kind=kind)

    # ---------------------------------------------------------------- writing

    def write(self, n):
        """The lines of one operation, or None where it has no layer."""
        if n.op == "get_attr":
            return self.tensor_of(n)
        plan = self.plan(n)
        if plan is None:
            return None
        w = self.w
        if plan.how == "size":
            return []
        if plan.how == "same":
            w.names[n] = w.var(plan.inputs[0])
            return []
        if plan.how == "call":
            return [f"{w.var(n)} = {plan.call}({', '.join(w.var(x) for x in plan.inputs)})"]
        call = self.declare(plan.kind, plan.inputs, plan.out, macs=plan.macs)
        return [f"{w.var(n)} = {call}({', '.join(w.var(x) for x in plan.inputs)})"]

    def tensor_of(self, n):
        """A parameter or buffer read in forward(): a tensor of its shape, its numbers counted (a leading 1
        of a (1, ...) parameter is its batch axis)."""
        w = self.w
        shape = self.shape(n)
        if shape is None or w.carrier is None:
            return None
        try:
            tensor, kind = w.root.get_parameter(n.target), "params"
        except AttributeError:
            try:
                tensor, kind = w.root.get_buffer(n.target), "buffers"
            except AttributeError:      # a constant forward() made: no weight, no layer
                return None

        def measure(i):
            def read(m):
                try:
                    return m.get_parameter(n.target).shape[i]
                except AttributeError:
                    return m.get_buffer(n.target).shape[i]
            return read
        dims = [w.sizes.axis(tensor, i, measure(i), f"axis {i} of {n.target}") for i in range(len(shape))]
        out = dims[1:] if len(dims) >= 2 and shape[0] == 1 else dims
        count = self.sp.Mul(*dims)
        frozen = kind == "params" and not tensor.requires_grad
        call = self.declare("parameter" if kind == "params" else "buffer", [None], out,
                            **{"non_trainable" if frozen else kind: count})
        w.covered.add(id(tensor))
        return [f"{w.var(n)} = {call}({w.carrier})"]

    def declare(self, kind, inputs, out, macs=0, params=0, buffers=0, non_trainable=0) -> str:
        """A layer of this shape rule, declared once per distinct text: its call (`view_2(h)`)."""
        from ..dims import symbol
        from ..sized import language
        sp = self.sp
        rename, patterns = {}, []
        for k, x in enumerate(inputs):
            if x is None:                       # any tensor: the scope's first, which it only follows
                patterns.append(f"{_LETTERS[k]}: (*)")
                continue
            names = []
            for i, s in enumerate(self.axes_of(x)[1:], start=1):
                rename[s] = symbol(f"{_LETTERS[k]}{i}")
                names.append(f"{_LETTERS[k]}{i}")
            patterns.append(f"{_LETTERS[k]}: ({', '.join(names)}{',' if len(names) == 1 else ''})")

        def text(e):
            e = sp.sympify(e).xreplace(rename)
            left = [s for s in e.free_symbols if s.name.startswith("_ax")]
            if left:
                raise ImportProblem("an operation reads the size of a tensor it is not given")
            return language(e)
        shape = [text(e) for e in out]
        body = [f"    {what} = {text(e)}" for what, e in (("params", params), ("non_trainable", non_trainable),
                                                          ("buffers", buffers), ("macs", macs)) if e != 0]
        used = set()
        for e in list(out) + [params, buffers, macs, non_trainable]:
            used |= {s.name for s in sp.sympify(e).xreplace(rename).free_symbols}
        args = [s for s in self.w.sizes.symbols if s in used]
        head = f"({', '.join(args)})({', '.join(patterns)}) -> ({', '.join(shape)}{',' if len(shape) == 1 else ''}):\n"
        declaration = head + "\n".join(body or ["    params = 0"]) + "\n"
        if declaration not in self.declared:
            taken = set(self.declared.values())
            kind = f"{kind}_op"       # fx names tensors after operations (view, transpose): never after a layer
            name, i = kind, 2
            while name in taken or lookup(name) is not None or name in self.w.sizes.symbols:
                name, i = f"{kind}_{i}", i + 1
            self.declared[declaration] = name
            self.layers.append(f"layer {name}{declaration}")
        return f"{self.declared[declaration]}({', '.join(args)})"


# ------------------------------------------------------------------------------ where fx cannot trace

def _from_tree(make, values: dict, input_shapes, ints: bool, symbols: dict, name, source: str,
               why: Untraceable) -> str:
    """The module tree (module_tree.py) of what `make(...)` builds, where torch.fx cannot trace it: the
    constructor's int parameters as sizes recorded into each weight's shape, a forward pass on meta
    (else on the CPU) measured by hooks. Its formulas are checked at a second setting of the
    parameters (every one doubled, else one or two more) against PyTorch rebuilding the module there;
    where they do not hold, the program is this instance's numbers, saying why."""
    import torch
    from . import module_tree as tree
    constructor = Constructor(make, values)
    legacy = [k for k in (symbols or {}) if k not in values]
    if legacy:
        raise ImportProblem(f"{why.message}; --symbol {legacy[0]} names no parameter of the constructor, which the "
                            "module tree cannot place", hint="name a size by a parameter of the constructor")
    cls = None

    def build(at: dict, symbolic: bool, device: str = "meta"):
        shapes = tree._Shapes()
        if symbolic:
            tree.Field.seen, tree.Field.divisions, tree.Field.floored = {}, {}, frozenset()
            shapes.fields = dict(at)
        kwargs = {constructor.parameters[k]: tree.Field(v, tree._symbol(k)) if symbolic else v for k, v in at.items()}
        with torch.device(device), shapes.watching():
            module = make(**kwargs)
        return module.eval(), shapes

    def examples(shapes, device="meta"):
        return [torch.zeros((1, *shape), dtype=torch.long if ints else torch.float32, device=device)
                for shape in shapes]

    module, _ = build(values, False)
    cls = type(module).__name__
    names = _forward_names(module, len(input_shapes))
    model_name = name or _snake(cls)
    first = f"# {cls}{f' from {source}' if source else ''}, imported by `symparams import`"

    def write(symbolic: bool, macs: bool = True, note: str | None = None) -> tuple:
        module, shapes = build(values, symbolic)
        inputs = dict(zip(names, examples(input_shapes)))
        read = tree.read(module, shapes, inputs, twin=lambda: build(values, False, "cpu")[0])
        cpu = read.device == "cpu"
        made = _CpuConstructor(make, values) if cpu else constructor
        sizes = Sizes({}, made if symbolic and values else None)
        written = {}

        def axes(k):
            def of(used):
                if "all" not in written:
                    sizes.used = set(used)
                    written["all"] = sizes.inputs(input_shapes, lambda m, grown: _tree_runs(m, grown, ints))
                return written["all"][k]
            return of

        def count(paths, n):
            if not symbolic or not values:
                return str(n)
            container = paths[0].rpartition(".")[0]
            before = len(list(module.get_submodule(container).children())) if container else n
            try:
                formula = sizes.found_formula(n, lambda m: n + len(list(m.get_submodule(container).children())) - before,
                                              f"the length of {container or cls}")
            except Exception:
                return str(n)
            return language(formula)

        leaves = _Leaves(Sizes({}, made if symbolic and values else None))

        def catalog(m, shapes):
            writer = leaves(m)
            if writer is None:
                return None
            return leaves.write(m, shapes) if writer == leaves.write else writer(m)

        how = "on the CPU (its forward needs values)" if cpu else "on the meta device"
        header = [first, f"# from the module tree: torch.fx could not trace {cls} ({why.reason}).",
                  "# Counted as PyTorch builds it, " + ("its constructor's size parameters as symbols"
                                                        if symbolic and values else "at this instance's sizes") +
                  f"; shapes and MACs measured by running forward() {how}."]
        if note:
            header.append(f"# {note}")
        text = tree.program(read, values if symbolic else {}, shapes,
                            name=model_name, header=header, symbolic=symbolic, macs=macs, count=count, catalog=catalog,
                            inputs=[(n, shape, axes(k), ints) for k, (n, shape) in enumerate(zip(names, input_shapes))])
        tree.checked(text, module, read.run.output)
        return text, read.device

    text, device = write(True)
    if not values:
        return text
    doubt, macs_doubt = _second_setting(text, make, constructor, values, input_shapes, ints, examples, device)
    if doubt is None and macs_doubt is not None:
        text, _ = write(True, macs=False, note=f"Its layers' MACs are not stated: the formulas did not hold ({macs_doubt}).")
        doubt, _ = _second_setting(text, make, constructor, values, input_shapes, ints, examples, device)
    if doubt is None:
        return text
    text, _ = write(False, note=f"Its formulas are this instance's numbers: in the parameters' names they did not hold "
                                f"({doubt}).")
    return text


class _CpuConstructor(Constructor):
    """Rebuilds on the CPU: for a module whose forward needs values (a branch on a tensor's)."""
    device = "cpu"


def _tree_runs(module, shapes, ints) -> bool:
    import torch
    device = next((t.device for t in list(module.parameters()) + list(module.buffers())), torch.device("meta"))
    with torch.no_grad():
        module.eval()(*[torch.zeros((1,) + tuple(shape), dtype=torch.long if ints else torch.float32, device=device)
                        for shape in shapes])
    return True


def _forward_names(module, n: int) -> list:
    """forward()'s first n parameters' names, as the program's inputs."""
    import inspect
    from . import spelled
    kinds = (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)
    try:
        found = [p for p, v in inspect.signature(module.forward).parameters.items() if v.kind in kinds]
    except (TypeError, ValueError):
        found = []
    names = []
    for k in range(n):
        given = found[k] if k < len(found) and re.fullmatch(r"[A-Za-z_]\w*", found[k]) else f"input_{k + 1}"
        names.append(spelled(given) if given not in names else f"{given}_{k + 1}")
    return names


def _second_setting(text, make, constructor, values, input_shapes, ints, examples, device) -> tuple:
    """Why the program's counts or output shape differ from PyTorch's at a second setting of the
    parameters (every one doubled, else one more, else two more), and why its MACs do; (None, None) where
    they hold. A setting at which the module does not build or run is passed over."""
    import torch
    import sympy as sp
    from . import module_tree as tree
    from ..interpreter import parse
    model = parse(text, "imported.sp")
    written = [line for line in text.splitlines() if re.match(r"\s+\w+ = input \(", line)]
    axes = [[a.strip() for a in re.search(r"input \((.*)\)", line).group(1).split(",")] for line in written]
    tried = None
    for other in ({k: 2 * v for k, v in values.items()}, {k: v + 1 for k, v in values.items()},
                  {k: v + 2 for k, v in values.items()}):
        at = {k: v for k, v in other.items() if k in model.defaults}
        symbols = {k: tree._symbol(k) for k in values}
        try:
            shapes = [tuple(int(sp.sympify(a, locals=symbols).subs({symbols[k]: v for k, v in other.items()}))
                            for a in axes_k) for axes_k in axes]
            with torch.device(device):
                module = constructor.make(**{constructor.parameters[k]: v for k, v in other.items()}).eval()
            ran = tree.measure(module, [], dict(enumerate(examples(shapes, device))), device, keywords=False)
        except Exception as e:
            tried = tried or f"rebuilding at {', '.join(f'{k}={v}' for k, v in other.items())} failed ({type(e).__name__})"
            continue
        return tree.compare(text, at, module, ran.output, ran.total)
    return tried, None
