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
from .torch_sizes import Constructor, ImportProblem, Sizes


def _conv(m, dims, s):
    args = [s(m.out_channels), _size(m.kernel_size, s)]
    if _size(m.stride, s) != "1":
        args.append(f"strides={_size(m.stride, s)}")
    if isinstance(m.padding, str):
        args.append(f"padding={m.padding}")
    elif _size(m.padding, s) != "0":
        args.append(f"padding={_size(m.padding, s)}")
    if _size(m.dilation, s) != "1":
        args.append(f"dilation_rate={_size(m.dilation, s)}")
    if m.groups != 1:
        args.append(f"groups={s.exact(m.groups)}")
    if m.bias is None:
        args.append("use_bias=false")
    if m.padding_mode != "zeros":
        args.append(f"padding_mode={m.padding_mode}")
    return f"conv{dims}d({', '.join(args)})"


def _size(value, s) -> str:
    """An int, or a tuple whose entries agree, as one size; a tuple that differs as a tuple."""
    if isinstance(value, int):
        return s.exact(value)
    texts = [s.exact(v) for v in value]
    return texts[0] if len(set(texts)) == 1 else "(" + ", ".join(texts) + ")"


def _flags(**flags) -> str:
    """`, name=false` for each flag that is off (the catalog's defaults are all on)."""
    return "".join(f", {name}=false" for name, value in flags.items() if not value)


def _norm(m, name):
    return f"{name}({_flags(affine=m.affine, track_running_stats=m.track_running_stats)[2:]})"


def _layernorm(m):
    if len(m.normalized_shape) != 1:
        raise ImportProblem(f"LayerNorm over {len(m.normalized_shape)} axes {tuple(m.normalized_shape)} is not "
                            "supported", hint="a LayerNorm over the last axis, or declare a layer")
    return f"layernorm({_flags(elementwise_affine=m.elementwise_affine, use_bias=m.bias is not None)[2:]})"


def _rmsnorm(m):
    if len(m.normalized_shape) != 1:
        raise ImportProblem(f"RMSNorm over {len(m.normalized_shape)} axes {tuple(m.normalized_shape)} is not "
                            "supported", hint="an RMSNorm over the last axis, or declare a layer")
    return f"rmsnorm({_flags(elementwise_affine=m.elementwise_affine)[2:]})"


def _pool(m, name, s):
    args = [f"pool_size={_size(m.kernel_size, s)}"]
    if m.stride is not None and _size(m.stride, s) != _size(m.kernel_size, s):
        args.append(f"strides={_size(m.stride, s)}")
    if _size(m.padding, s) != "0":
        args.append(f"padding={_size(m.padding, s)}")
    if m.ceil_mode:
        args.append("ceil_mode=true")
    return f"{name}({', '.join(args)})"


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


def _cell(m, name, s):
    """One step of an RNN on (batch, features); an LSTMCell's (h, c) is read through `[0]`."""
    args = [s(m.hidden_size)]
    if name == "simple_rnn_cell" and m.nonlinearity != "tanh":
        args.append(f"activation={m.nonlinearity}")
    if not m.bias:
        args.append("use_bias=false")
    return f"{name}({', '.join(args)})"


def _attention(m, s):
    _batch_first(m)
    if not m._qkv_same_embed_dim:
        raise ImportProblem("MultiheadAttention with kdim or vdim other than embed_dim is not supported",
                            hint="declare a layer for it (docs/blocks.md)")
    flags = _flags(use_bias=m.in_proj_bias is not None)
    bias_kv = ", add_bias_kv=true" if m.bias_k is not None else ""
    return f"multihead_attention(num_heads={s(m.num_heads)}, embed_dim={s(m.embed_dim)}{flags}{bias_kv})"


def _encoder_layer(m, s):
    from torch import nn
    _batch_first(m)
    # torch turns activation="relu" into F.relu; a module (nn.GELU()) may be given instead
    f = activations.by_torch_module(m.activation) if isinstance(m.activation, nn.Module) else \
        _function_rows().get(m.activation)
    activation = None if f is None or f.identity else f.name
    if activation is None:
        raise ImportProblem(f"TransformerEncoderLayer with activation {m.activation} is not supported",
                            hint="relu or gelu, or declare a layer for it (docs/blocks.md)")
    args = [s(m.self_attn.embed_dim), s(m.self_attn.num_heads)]
    if m.linear1.out_features != 2048:
        args.append(f"dim_feedforward={s(m.linear1.out_features)}")
    if activation != "relu":
        args.append(f"activation={activation}")
    if m.norm_first:
        args.append("norm_first=true")
    if m.linear1.bias is None:
        args.append("use_bias=false")
    return f"transformer_encoder_layer({', '.join(args)})"


def _encoder(m, s):
    """Its layers are deep copies of one: a repeat of that layer, then its norm if any."""
    from torch import nn
    if not isinstance(m.layers[0], nn.TransformerEncoderLayer):
        raise ImportProblem(f"TransformerEncoder of {type(m.layers[0]).__name__} is not supported",
                            hint="a TransformerEncoder of nn.TransformerEncoderLayer")
    stack = f"repeat({s(m.num_layers)}, {_encoder_layer(m.layers[0], s)})"
    if m.norm is None:
        return stack
    if not isinstance(m.norm, nn.LayerNorm):
        raise ImportProblem(f"TransformerEncoder's norm {type(m.norm).__name__} is not supported",
                            hint="an nn.LayerNorm, or none")
    return [stack, _layernorm(m.norm)]


def _modules(s):
    """torch.nn module classes -> their catalog call, written from the instance's attributes (sizes by `s`)."""
    from torch import nn
    table = {
        nn.Linear: lambda m: f"dense({s(m.out_features)}{_flags(use_bias=m.bias is not None)})",
        nn.Conv1d: lambda m: _conv(m, 1, s), nn.Conv2d: lambda m: _conv(m, 2, s), nn.Conv3d: lambda m: _conv(m, 3, s),
        nn.BatchNorm1d: lambda m: _norm(m, "batchnorm1d"), nn.BatchNorm2d: lambda m: _norm(m, "batchnorm2d"),
        nn.BatchNorm3d: lambda m: _norm(m, "batchnorm3d"),
        nn.LayerNorm: _layernorm, nn.RMSNorm: _rmsnorm,
        nn.Embedding: lambda m: f"embedding({s(m.num_embeddings)}, {s(m.embedding_dim)})",
        nn.Dropout: lambda m: f"dropout(rate={m.p})",
        nn.MaxPool1d: lambda m: _pool(m, "maxpool1d", s), nn.MaxPool2d: lambda m: _pool(m, "maxpool2d", s),
        nn.AvgPool1d: lambda m: _pool(m, "avgpool1d", s), nn.AvgPool2d: lambda m: _pool(m, "avgpool2d", s),
        nn.AdaptiveAvgPool2d: lambda m: f"adaptive_avgpool2d({_size(m.output_size, s)})",
        nn.AdaptiveAvgPool1d: lambda m: f"adaptive_avgpool1d({_size(m.output_size, s)})",
        nn.Flatten: lambda m: "flatten()" if (m.start_dim, m.end_dim) == (1, -1) else
        f"flatten(start_dim={m.start_dim}, end_dim={m.end_dim})",
        nn.LeakyReLU: lambda m: f"leaky_relu(negative_slope={m.negative_slope})",
        nn.Softmax: lambda m: f"softmax(axis={m.dim})", nn.LogSoftmax: lambda m: f"log_softmax(axis={m.dim})",
        nn.GLU: lambda m: f"glu(axis={m.dim})",
        nn.LSTM: lambda m: _rnn(m, "lstm", s), nn.GRU: lambda m: _rnn(m, "gru", s),
        nn.RNN: lambda m: _rnn(m, "simple_rnn", s),
        nn.LSTMCell: lambda m: _cell(m, "lstm_cell", s), nn.GRUCell: lambda m: _cell(m, "gru_cell", s),
        nn.RNNCell: lambda m: _cell(m, "simple_rnn_cell", s),
        nn.MultiheadAttention: lambda m: _attention(m, s),
        nn.TransformerEncoderLayer: lambda m: _encoder_layer(m, s), nn.TransformerEncoder: lambda m: _encoder(m, s),
    }
    table[nn.Identity] = lambda m: "identity()"
    # torch.nn's modules computing an activation function (catalog/activations.py), at the options
    # its row names (nn.GELU(approximate="tanh") is gelu_tanh)
    for f in activations.FUNCTIONS:
        if f.torch and f.torch.startswith("nn.") and not f.identity:
            table.setdefault(getattr(nn, f.torch[len("nn."):]), lambda m: _function_call(activations.by_torch_module(m)))
    return table


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


class _Tracer:
    """torch.fx's Tracer, keeping the catalog's modules as leaves."""

    def __new__(cls, leaves):
        import torch.fx as fx

        class Tracer(fx.Tracer):
            def is_leaf_module(self, m, qualified_name):
                return leaves(m) is not None

        return Tracer()


class _Leaves:
    """The modules kept whole in the trace, each with its catalog call: torch.nn's (by class) and
    symparams' own glue (verify/torch_glue.py, copied into the code `symparams export` writes, so
    known by class name and shape; its forward branches on ranks, which fx cannot follow)."""

    def __init__(self, s):
        from torch import nn
        self.table = _modules(s)
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
                            lambda m: self.table[nn.LSTMCell](m.module)),
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
        if type(m) in self.table:
            return self.table[type(m)]
        activated = self._activated(m)
        if activated:
            return lambda m: f"{self.table[type(m[0])](m[0])[:-1]}, activation={activated})"
        found, write = self.glue.get(type(m).__name__, (None, None))
        return write if found and found(m) else None

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
        """Glue taking several tensors, all of them data (a merge; attention's query, value, key)."""
        return type(m) not in self.table and type(m).__name__ in ("Merge", "Attention", "GroupedQueryAttention")


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
    return program(module, input_shapes, int_inputs, name, source, symbols, constructor if values else None)


def program(module, input_shapes, int_inputs=False, name: str | None = None, source: str = "",
            symbols: dict | None = None, constructor: Constructor | None = None) -> str:
    """The program of `module` applied to inputs of these shapes (batch left out). The sizes it was
    built with as Sizes (by `constructor`) are formulas; `symbols` (name -> value) not among the
    constructor's parameters name the plain sizes of that value."""
    import torch
    sizes = Sizes(symbols or {}, constructor)
    leaves = _Leaves(sizes)
    try:
        graph = _Tracer(leaves).trace(module)
    except Exception as e:   # fx cannot follow data-dependent control flow, for one
        raise ImportProblem(f"torch.fx cannot trace {type(module).__name__}{_where(e)}: {type(e).__name__}: {e}",
                            hint="keep forward() free of Python branches on tensor values and ranks "
                                 "(x.sum() > 0, x.dim() == 2), or write that module in the language "
                                 "(docs/blocks.md)") from None
    nodes = list(graph.nodes)
    writer = _Writer(module, leaves, _functions(), nodes, sizes)
    inputs = [n for n in nodes if n.op == "placeholder"]
    if len(inputs) != len(input_shapes):
        raise ImportProblem(f"{type(module).__name__}.forward takes {len(inputs)} inputs, "
                            f"--input gave {len(input_shapes)}", hint="one --input SHAPE per input")
    names = [writer.var(node) for node in inputs]
    out = next(n for n in nodes if n.op == "output")
    result = out.args[0]
    kept = writer.kept = writer.needed(result) if isinstance(result, torch.fx.Node) else set(nodes)
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
    text += writer.blocks
    text.append(f"model {model}({', '.join(f'{k} = {v}' for k, v in sizes.header().items())}):")
    text += [f"    {line}" for line in lines]
    return "\n".join(text) + "\n"


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
    """Whether `module` (on the meta device) takes inputs of these shapes."""
    import torch
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
                return [a for a in n.args if hasattr(a, "op")]
            return [n.args[0]]
        return list(n.all_input_nodes)

    def needed(self, result) -> set:
        """The nodes the result is computed from."""
        seen, todo = set(), [result]
        while todo:
            n = todo.pop()
            if n not in seen:
                seen.add(n)
                todo += [x for x in self.data_inputs(n) if hasattr(x, "op")]
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
                out, n = nxt_out, n + 1
            args = ", ".join(self.var(x) for x in ins)
            path = owner.split("@")[0]
            count = self._count(n, path.rpartition(".")[0])
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
            self.names[out] = self.safe(re.sub(r"\W", "_", named))
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
        count = self._count(len(run), container)
        if count == "1":
            return None
        self.names[run[-1]] = self.safe(re.sub(r"\W", "_", container) or "layers")
        return f"{self.var(run[-1])} = repeat({count}, {text})({self.var(self.data_inputs(first)[0])})", len(run)

    def _count(self, n: int, container: str) -> str:
        """A repeat's count: as the parameters move the container's length, where the calls are all of it."""
        try:
            whole = len(self.root.get_submodule(container)) == n
        except TypeError:     # calls of one module class in a row, in no container
            whole = False
        what = f"the length of {container or type(self.root).__name__}"
        return self.sizes.found(n, lambda m: len(m.get_submodule(container)), what) if whole else self.sizes(n)

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
        saved = dict(self.names)
        params = [f"x{i}" if len(ins) > 1 else "x" for i in range(len(ins))]
        for node, param in zip(ins, params):
            self.names[node] = param
        # names local to the block, so that the same module class at another path reads the same
        taken = set(params)
        for node in members:
            prefix = owner.split("@")[0] + "."
            base = node.target[len(prefix):] if node.op == "call_module" else re.sub(r"_\d+$", "", node.name)
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
        used = self.sizes.in_text(body)      # the symbols the body uses are the block's parameters
        text = f"({', '.join(used)})({', '.join(params)}):\n" + "".join(f"    {line}\n" for line in body)
        if text not in self.block_names:
            cls = _snake(type(self._module(owner)).__name__)
            taken = set(self.block_names.values())
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
        if n.op == "call_function" and n.target is operator.getitem and args[1] == 0 and \
                args[0].op == "call_module" and type(self.root.get_submodule(args[0].target)).__name__ in _TUPLES:
            self.names[n] = self.var(args[0])      # the output of (output, state): the same tensor
            return []
        if n.op == "get_attr":
            self.positions[n] = self.root.get_parameter(n.target)
            return []
        if n.op == "call_function" and n.target in (operator.add, torch.add) and len(args) == 2 and \
                any(a in self.positions for a in args):
            x, p = args if args[1] in self.positions else args[::-1]
            weight = self.positions[p]
            if weight.dim() != 3 or weight.shape[0] != 1:
                raise ImportProblem(f"the parameter {p.target} {tuple(weight.shape)} added to a tensor has no "
                                    "catalog layer", hint="a (1, positions, width) parameter is a position_embedding")
            frozen = ", trainable=false" if not weight.requires_grad else ""
            name = re.sub(r"\W", "_", p.target)
            positions = self.sizes.position(self.sizes.found(
                weight.shape[1], lambda m: m.get_parameter(p.target).shape[1], f"the positions of {p.target}"))
            return [f"{name} = position_embedding({positions}{frozen})({self.var(x)})",
                    f"{target} = {self.var(x)} + {name}"]
        merge = {operator.add: "+", torch.add: "+", operator.sub: "-", torch.sub: "-",
                 operator.mul: "*", torch.mul: "*"}
        if n.op == "call_function" and n.target in merge and len(args) == 2 and not n.kwargs and \
                all(isinstance(a, torch.fx.Node) for a in args):
            return [f"{target} = {self.var(args[0])} {merge[n.target]} {self.var(args[1])}"]
        key = n.target if n.op in ("call_function", "call_method") else None
        if key in self.functions and len(args) == 1:
            return [f"{target} = {self.functions[key]}({self.var(args[0])})"]
        if key in (torch.flatten, "flatten"):
            start = args[1] if len(args) > 1 else n.kwargs.get("start_dim", 0)
            return [f"{target} = flatten(start_dim={start})({self.var(args[0])})"]
        if key == "mean" and len(args) == 2 and tuple(args[1]) in ((2, 3), (-2, -1)) and not n.kwargs.get("keepdim"):
            return [f"{target} = global_avgpool2d()({self.var(args[0])})"]
        what = getattr(n.target, "__name__", n.target)
        where = ", ".join(self._owner(n, d) for d in range(len(n.meta.get("nn_module_stack", {})))) or "forward"
        raise ImportProblem(f"the operation {what} ({n.op}) in {where} has no catalog layer",
                            hint="declare a layer for it (docs/blocks.md), or use a module the catalog has")
