"""A PyTorch nn.Module as a symparams program, by tracing it with torch.fx.

The modules the catalog has (Linear, Conv2d, BatchNorm2d, ...) stay leaves of the trace; every
other module is traced through, and the nodes it produced (its `nn_module_stack`) become a call
of a block named after its class. Calls of the same block one after another, each feeding the
next, become `repeat(n, block())`; a module instance called twice is one shared instance. Sizes
are the module's numbers: the program describes this instance. Whatever the catalog cannot
express is an error naming the module and the operation.
"""
from __future__ import annotations

import operator
import re

from ..errors import SymparamsError


class ImportProblem(SymparamsError):
    kind = "import error"


def _conv(m, dims):
    args = [str(m.out_channels), _size(m.kernel_size)]
    if _size(m.stride) != "1":
        args.append(f"strides={_size(m.stride)}")
    if isinstance(m.padding, str):
        args.append(f"padding={m.padding}")
    elif _size(m.padding) != "0":
        args.append(f"padding={_size(m.padding)}")
    if _size(m.dilation) != "1":
        args.append(f"dilation_rate={_size(m.dilation)}")
    if m.groups != 1:
        args.append(f"groups={m.groups}")
    if m.bias is None:
        args.append("use_bias=false")
    if m.padding_mode != "zeros":
        args.append(f"padding_mode={m.padding_mode}")
    return f"conv{dims}d({', '.join(args)})"


def _size(value) -> str:
    """An int, or a tuple whose entries agree, as one number; a tuple that differs as a tuple."""
    if isinstance(value, int):
        return str(value)
    values = tuple(value)
    return str(values[0]) if len(set(values)) == 1 else "(" + ", ".join(map(str, values)) + ")"


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


def _pool(m, name):
    args = [f"pool_size={_size(m.kernel_size)}"]
    if m.stride is not None and _size(m.stride) != _size(m.kernel_size):
        args.append(f"strides={_size(m.stride)}")
    if _size(m.padding) != "0":
        args.append(f"padding={_size(m.padding)}")
    if m.ceil_mode:
        args.append("ceil_mode=true")
    return f"{name}({', '.join(args)})"


def _modules():
    """torch.nn module classes -> their catalog call, written from the instance's attributes."""
    from torch import nn
    table = {
        nn.Linear: lambda m: f"dense({m.out_features}{_flags(use_bias=m.bias is not None)})",
        nn.Conv1d: lambda m: _conv(m, 1), nn.Conv2d: lambda m: _conv(m, 2), nn.Conv3d: lambda m: _conv(m, 3),
        nn.BatchNorm1d: lambda m: _norm(m, "batchnorm1d"), nn.BatchNorm2d: lambda m: _norm(m, "batchnorm2d"),
        nn.BatchNorm3d: lambda m: _norm(m, "batchnorm3d"),
        nn.LayerNorm: _layernorm,
        nn.Embedding: lambda m: f"embedding({m.num_embeddings}, {m.embedding_dim})",
        nn.Dropout: lambda m: f"dropout(rate={m.p})",
        nn.MaxPool1d: lambda m: _pool(m, "maxpool1d"), nn.MaxPool2d: lambda m: _pool(m, "maxpool2d"),
        nn.AvgPool1d: lambda m: _pool(m, "avgpool1d"), nn.AvgPool2d: lambda m: _pool(m, "avgpool2d"),
        nn.AdaptiveAvgPool2d: lambda m: f"adaptive_avgpool2d({_size(m.output_size)})",
        nn.AdaptiveAvgPool1d: lambda m: f"adaptive_avgpool1d({_size(m.output_size)})",
        nn.Flatten: lambda m: "flatten()" if (m.start_dim, m.end_dim) == (1, -1) else
        f"flatten(start_dim={m.start_dim}, end_dim={m.end_dim})",
        nn.LeakyReLU: lambda m: f"leaky_relu(negative_slope={m.negative_slope})",
        nn.Softmax: lambda m: f"softmax(axis={m.dim})",
    }
    for cls, name in ((nn.ReLU, "relu"), (nn.GELU, "gelu"), (nn.SiLU, "silu"), (nn.Tanh, "tanh"),
                      (nn.Sigmoid, "sigmoid"), (nn.ReLU6, "relu6"), (nn.ELU, "elu"), (nn.Identity, "identity"),
                      (nn.Mish, "mish"), (nn.Hardswish, "hard_swish")):
        table[cls] = lambda m, name=name: f"{name}()"
    return table


def _functions():
    """torch functions and tensor methods of one tensor -> the catalog's elementwise layer."""
    import torch
    import torch.nn.functional as F
    table = {}
    for name in ("relu", "gelu", "silu", "tanh", "sigmoid"):
        for fn in (getattr(torch, name, None), getattr(F, name, None)):
            if fn is not None:
                table[fn] = name
        table[name] = name      # the tensor method x.relu()
    return table


class _Tracer:
    """torch.fx's Tracer, keeping the catalog's modules as leaves."""

    def __new__(cls, leaves):
        import torch.fx as fx

        class Tracer(fx.Tracer):
            def is_leaf_module(self, m, qualified_name):
                return type(m) in leaves

        return Tracer()


def program(module, input_shapes, int_inputs=False, name: str | None = None, source: str = "") -> str:
    """The program of `module` applied to inputs of these shapes (batch left out)."""
    import torch
    leaves = _modules()
    try:
        graph = _Tracer(leaves).trace(module)
    except Exception as e:   # fx cannot follow data-dependent control flow, for one
        raise ImportProblem(f"torch.fx cannot trace {type(module).__name__}: {type(e).__name__}: {e}",
                            hint="keep forward() free of Python branches on tensor values") from None
    nodes = list(graph.nodes)
    writer = _Writer(module, leaves, _functions(), nodes)
    inputs = [n for n in nodes if n.op == "placeholder"]
    if len(inputs) != len(input_shapes):
        raise ImportProblem(f"{type(module).__name__}.forward takes {len(inputs)} inputs, "
                            f"--input gave {len(input_shapes)}", hint="one --input SHAPE per input")
    lines = []
    for node, shape in zip(inputs, input_shapes):
        lines.append(f"{writer.var(node)} = input ({', '.join(map(str, shape))}){' int' if int_inputs else ''}")
    body = [n for n in nodes if n.op not in ("placeholder", "output")]
    lines += writer.region(body, depth=0)
    out = next(n for n in nodes if n.op == "output")
    result = out.args[0]
    if not isinstance(result, torch.fx.Node):
        raise ImportProblem(f"{type(module).__name__}.forward returns {type(result).__name__}, not one tensor",
                            hint="return a single tensor")
    if lines[-1].split(" = ")[0] != writer.var(result):
        lines.append(f"output = identity()({writer.var(result)})")
    model = name or re.sub(r"(?<!^)(?=[A-Z])", "_", type(module).__name__).lower()
    text = [f"# {type(module).__name__}{f' from {source}' if source else ''}, imported by `symparams import`",
            "# (torch.fx): counted as PyTorch builds it, at this instance's sizes.", "convention torch", ""]
    text += writer.blocks
    text.append(f"model {model}():")
    text += [f"    {line}" for line in lines]
    return "\n".join(text) + "\n"


class _Writer:
    def __init__(self, root, leaves, functions, nodes):
        self.root, self.leaves, self.functions = root, leaves, functions
        # the submodules some node says were called more than once
        self.shared = {path.split("@")[0] for n in nodes for path in n.meta.get("nn_module_stack", {})
                       if "@" in path}
        calls = [n.target for n in nodes if n.op == "call_module"]
        self.multi_called = {target for target in calls if calls.count(target) > 1}    # leaves called again
        self.names: dict = {}
        self.blocks: list[str] = []
        self.block_names: dict[str, str] = {}     # a block's body text -> its name
        self.instances: dict[str, str] = {}       # a leaf module's path -> its bound name, once shared

    def var(self, node) -> str:
        if node not in self.names:
            name = re.sub(r"\W", "_", node.name)
            self.names[node] = self.safe(f"layer{name}" if re.match(r"_\d", name) else name)
        return self.names[node]

    def safe(self, name: str) -> str:
        """A tensor's name that hides no layer: not a catalog name, nor a bound instance's."""
        from ..catalog import lookup
        reserved = {re.sub(r"\W", "_", path) for path in self.shared | set(self.multi_called)}
        return f"{name}_out" if lookup(name) is not None or name in reserved else name

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
            leaf = owner is not None and type(self._module(owner)) in self.leaves
            if owner is None or leaf or owner == scope:
                lines += [line for n in members for line in self.node(n)]
                k += 1
                continue
            block, ins, out = self.block(owner, members, depth + 1)
            n = 1      # identical calls in a chain fold into a repeat
            while k + n < len(groups):
                nxt_owner, nxt = groups[k + n]
                if nxt_owner is None or type(self._module(nxt_owner)) in self.leaves or \
                        owner.split("@")[0] in self.shared:
                    break
                nxt_block, nxt_ins, nxt_out = self.block(nxt_owner, nxt, depth + 1)
                if nxt_block != block or len(nxt_ins) != 1 or nxt_ins[0] is not out or len(ins) != 1:
                    break
                out, n = nxt_out, n + 1
            args = ", ".join(self.var(x) for x in ins)
            call = f"{block}()" if n == 1 else f"repeat({n}, {block}())"
            path = owner.split("@")[0]
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

    def block(self, owner, members, depth):
        """The block a submodule's nodes make (defined once per distinct body), its inputs and output."""
        inside = set(members)
        ins = []
        for node in members:
            for arg in node.all_input_nodes:
                if arg not in inside and arg not in ins:
                    ins.append(arg)
        outs = [n for n in members if any(user not in inside for user in n.users)]
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
        text = f"({', '.join(params)}):\n" + "".join(f"    {line}\n" for line in body)
        if text not in self.block_names:
            cls = re.sub(r"(?<!^)(?=[A-Z])", "_", type(self._module(owner)).__name__).lower()
            taken = set(self.block_names.values())
            name, i = cls, 2
            while name in taken:
                name, i = f"{cls}_{i}", i + 1
            self.block_names[text] = name
            self.blocks.append(f"block {name}(){text}")
        return self.block_names[text], ins, outs[0]

    # -------------------------------------------------------------- one node

    def node(self, n) -> list[str]:
        import torch
        target = self.var(n)
        args = [a for a in n.args]
        if n.op == "call_module":
            module = self.root.get_submodule(n.target)
            call = self.leaves[type(module)](module)
            if any(p.requires_grad is False for p in module.parameters(recurse=False)):
                call = call[:-1] + (", " if not call.endswith("()") else "") + "trainable=false)"
            if n.target in self.instances:          # called again: its weights are shared
                return [f"{target} = {self.instances[n.target]}({self.var(args[0])})"]
            if n.target in self.multi_called:
                bound = re.sub(r"\W", "_", n.target)
                self.instances[n.target] = bound
                return [f"{bound} = {call}", f"{target} = {bound}({self.var(args[0])})"]
            return [f"{target} = {call}({self.var(args[0])})"]
        if n.op == "call_function" and n.target in (operator.add, torch.add) and len(args) == 2:
            return [f"{target} = {self.var(args[0])} + {self.var(args[1])}"]
        key = n.target if n.op in ("call_function", "call_method") else None
        if key in self.functions and len(args) == 1:
            return [f"{target} = {self.functions[key]}()({self.var(args[0])})"]
        if key in (torch.flatten, "flatten"):
            start = args[1] if len(args) > 1 else n.kwargs.get("start_dim", 0)
            return [f"{target} = flatten(start_dim={start})({self.var(args[0])})"]
        if key == "mean" and len(args) == 2 and tuple(args[1]) in ((2, 3), (-2, -1)) and not n.kwargs.get("keepdim"):
            return [f"{target} = global_avgpool2d()({self.var(args[0])})"]
        what = getattr(n.target, "__name__", n.target)
        where = ", ".join(self._owner(n, d) for d in range(len(n.meta.get("nn_module_stack", {})))) or "forward"
        raise ImportProblem(f"the operation {what} ({n.op}) in {where} has no catalog layer",
                            hint="declare a layer for it (docs/blocks.md), or use a module the catalog has")
