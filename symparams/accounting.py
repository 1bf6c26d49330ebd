"""What sizing a large model takes beyond its parameter count, in closed form from its rows.

Every quantity is per example (one sequence) unless `batch` is given (the model's batch symbol
for --per-batch), an exact sympy expression in the model's symbols:

* active -- parameters one token uses: a mixture of experts counts its router and top_k experts.
* training_flops -- one training step: the forward (2 FLOPs per multiply-accumulate), the
  backward at twice the forward (a gradient for the input and one for the weight of every
  matrix product), and the forward that recomputation repeats: `full` the repeated blocks'
  (each repetition keeps only its input), `selective` the attention scores and the weighted
  sum (Korthikanti et al. 2022). Megatron-LM's Eq. 3 (Narayanan et al. 2021) is this count
  for GPT with `full`. The approximations 6N and PaLM's 6N + 12LHQT are given beside it.
* kv_cache -- bytes of keys and values a generating model keeps: every attention layer's
  kv_heads * (key_dim + value_dim) per cached position.
* activations -- bytes saved for the backward pass, by what each layer type keeps (below);
  Korthikanti et al.'s 34sbh + 5as^2b per GPT layer at 16 bits.
* training_memory -- bytes per device of weights, gradients and optimizer states under data
  parallelism and ZeRO (Rajbhandari et al. 2020), tensor parallelism as Megatron-LM splits
  layers, and pipeline stages; and the activations when asked.

All access to the graph (symparams/graph.py) is in the few functions right below, so the rest
reads layers by kind and size.
"""
from __future__ import annotations

from dataclasses import dataclass

import sympy as sp

from .dims import product, total
from .errors import ArgumentError, did_you_mean
from .memory import dtype_bytes


# ---------------------------------------------------------------- reading the graph

def _nodes(source) -> list:
    """The graph nodes a quantity sums over: a model's top level, or one row's (or node's) own."""
    if hasattr(source, "graph"):
        return source.graph.nodes
    return [getattr(source, "node", source)]


def _kind(node) -> str | None:
    """The catalog entry's name (`dense`, `multihead_attention`); None for a block call or repeat."""
    return node.spec.name if node.kind == "layer" and node.spec is not None else None


def _config(node) -> dict:
    return node.config


def _name(node) -> str:
    return node.name


def _input_shapes(node) -> list:
    return node.input_shapes


def _first_producer(node):
    """The node whose output is the node's first input (None for a model's or a body's input)."""
    return node.inputs[0].node if node.inputs else None


def _distinct_input_shapes(node) -> list:
    """The input shapes, each tensor once: self-attention's (a, a) reads one tensor."""
    seen, out = set(), []
    for tensor in node.inputs:
        if id(tensor) not in seen:
            seen.add(id(tensor))
            out.append(tensor.shape)
    return out


def _output_shape(node) -> tuple:
    return node.shape


def _children(node) -> list:
    return node.children


def _repeat_count(node):
    """A repeat's count (its children are the body, derived once); None for any other node."""
    return node.count if node.kind == "repeat" else None


def _made_once(node, child) -> bool:
    """A repeat's body node whose instance was made outside the body: its weights exist once."""
    return node.body is not None and child in node.body.once


def _macs(node):
    return sp.sympify(node.macs)


def _weights(node, trainable: bool = False):
    return sp.sympify(node.trainable if trainable else node.params)


def _active(node):
    """Parameters one example uses: a mixture of experts counts the experts it routes to."""
    return sp.sympify(node.active)


def _leaves(nodes, times=sp.Integer(1)):
    """(layer node, how often it runs per example): the layers inside blocks and repeats, a repeat's
    body multiplied by its count."""
    for node in nodes:
        if _children(node):
            count = _repeat_count(node)
            yield from _leaves(_children(node), times * (1 if count is None else count))
        else:
            yield node, times


def _weight_leaves(nodes, times=sp.Integer(1)):
    """(layer node, how many sets of its weights exist): as _leaves, but a node a repeat's body
    reuses from outside it has its weights once, however often the body runs."""
    for node in nodes:
        count = _repeat_count(node)
        for child in _children(node):
            inner = times if _made_once(node, child) or count is None else times * count
            yield from _weight_leaves([child], inner) if _children(child) else [(child, inner)]
        if not _children(node):
            yield node, times


def _outermost_repeats(nodes):
    """The repeats that no other repeat contains (those full recomputation checkpoints)."""
    for node in nodes:
        if _repeat_count(node) is not None:
            yield node
        else:
            yield from _outermost_repeats(_children(node))


_ABSENT = object()


def _place_in_repeat(nodes, target, place=None):
    """Where a node sits: "body" for a repeat's body node (each repetition), "within" deeper inside a
    repeat, None outside every repeat (_ABSENT if it is not among `nodes`)."""
    for node in nodes:
        if node is target:
            return place
        inner = "body" if _repeat_count(node) is not None else ("within" if place else None)
        found = _place_in_repeat(_children(node), target, inner)
        if found is not _ABSENT:
            return found
    return _ABSENT


def _layers_outside_repeats(nodes):
    for node in nodes:
        if _repeat_count(node) is not None:
            continue
        if _children(node):
            yield from _layers_outside_repeats(_children(node))
        else:
            yield node


# ---------------------------------------------------------------- attention layers' own sizes

@dataclass
class Attention:
    """One attention: T queries over S keys, `heads` query heads sharing `kv_heads` key/value heads."""
    heads: sp.Expr
    kv_heads: sp.Expr
    key_dim: sp.Expr
    value_dim: sp.Expr
    queries: sp.Expr      # T: query positions per example
    keys: sp.Expr         # S: key/value positions per example (what a cache holds)
    dropout: bool         # dropout on the attention probabilities (Keras/torch `dropout=`)

    @property
    def score_macs(self):
        """Multiply-accumulates of the scores Q K^T and the weighted sum of the values."""
        return self.heads * self.queries * self.keys * (self.key_dim + self.value_dim)


def attentions(node) -> list[Attention]:
    """The attentions a layer node computes, from its catalog arguments and input shapes."""
    kind, cfg, shapes = _kind(node), _config(node), _input_shapes(node)
    positions = [product(s[:-1]) for s in shapes]
    if kind == "multihead_attention":
        heads = cfg["num_heads"]
        key_dim = cfg["embed_dim"] / heads if cfg.get("embed_dim") is not None else cfg["key_dim"]
        value_dim = key_dim if cfg.get("embed_dim") is not None else (cfg.get("value_dim") or key_dim)
        return [Attention(heads, heads, key_dim, value_dim, positions[0], positions[1], _dropped(cfg))]
    if kind == "grouped_query_attention":
        head = cfg["head_dim"]
        return [Attention(cfg["num_query_heads"], cfg["num_key_value_heads"], head, head, positions[0],
                          positions[1], _dropped(cfg))]
    if kind in ("transformer_encoder_layer", "transformer_decoder_layer"):
        h, d = cfg["nhead"], cfg["d_model"]
        out = [Attention(h, h, d / h, d / h, positions[0], positions[0], False)]
        if kind == "transformer_decoder_layer":
            out.append(Attention(h, h, d / h, d / h, positions[0], positions[1], False))
        return out
    return []


def _dropped(cfg) -> bool:
    return bool(cfg.get("dropout") or 0)


# ---------------------------------------------------------------- active parameters

def active(model_or_row):
    """Parameters one token uses; the parameter count where no mixture of experts is involved."""
    return total(_active(r) for r in _nodes(model_or_row))


# ---------------------------------------------------------------- FLOPs

RECOMPUTE = ("none", "selective", "full")


def check_recompute(recompute: str) -> str:
    return _choice(recompute, RECOMPUTE, "recomputation")


def recomputed_macs(model_or_row, recompute: str = "full", tp=1):
    """Multiply-accumulates the backward pass repeats (on one of `tp` tensor-parallel devices): the
    repeated blocks' whole forward (`full`) or their attention scores and weighted sums
    (`selective`)."""
    nodes = _nodes(model_or_row)
    if check_recompute(recompute) == "full":
        return _device_macs([r for r in _outermost_repeats(nodes)], tp)
    if recompute == "selective":
        tp = _devices(tp, "tensor-parallel")
        return sp.Add(*[times * a.score_macs / tp for node, times in _leaves(nodes) for a in attentions(node)])
    return sp.Integer(0)


def _device_macs(nodes, tp=1):
    """The forward's multiply-accumulates on one of `tp` tensor-parallel devices: a split layer
    (tensor_parallel_roles) does 1/tp of its products, a mixture's router all of its own."""
    tp = _devices(tp, "tensor-parallel")
    if tp == 1:
        return sp.Add(*[_macs(n) for n in nodes])
    roles = tensor_parallel_roles(nodes)
    total = sp.Integer(0)
    for node, times in _leaves(nodes):
        role, macs = roles.get(node, "replicated"), _macs(node)
        if role == "moe":
            router = product(_input_shapes(node)[0]) * _config(node)["num_experts"]
            macs = (macs - router) / tp + router
        elif role not in ("replicated", "split"):
            macs = macs / tp
        total += times * macs
    return total


def training_flops(model_or_row, recompute: str = "none", batch=1, tp=1):
    """FLOPs of one training step: forward + backward (2x) + the recomputed forward; per device
    under `tp`-way tensor parallelism."""
    macs = _device_macs(_nodes(model_or_row), tp)
    return sp.expand(batch * 2 * (3 * macs + recomputed_macs(model_or_row, recompute, tp)))


def approximations(model, batch=1) -> dict:
    """The published shortcuts for the same step: 6N per token (Kaplan et al. 2020) and PaLM's
    6N + 12LHQT per token (Chowdhery et al. 2022, appendix B), N the parameters a token uses
    (every one without a mixture of experts), each attention's L*H*Q read from the rows and T its
    key positions."""
    tokens = tokens_per_example(model)
    N = active(model)
    lhqt = sp.Add(*[times * a.heads * a.key_dim * a.keys for node, times in _leaves(_nodes(model))
                    for a in attentions(node)])
    return {"6N": sp.expand(batch * 6 * N * tokens), "6N + 12LHQT": sp.expand(batch * (6 * N + 12 * lhqt) * tokens)}


def tokens_per_example(model):
    """Tokens in one example: the positions of the first integer (token id) input, else of the first
    input's positions (all but its feature axis)."""
    ids = [t for t in model.inputs if getattr(t, "dtype", None) == "int"]
    shape = (ids or model.inputs)[0].shape
    return product(shape if ids else shape[:-1])


# ---------------------------------------------------------------- KV cache

def kv_cache(model_or_row, dtype: str = "bfloat16", batch=1, tp=1):
    """Bytes of cached keys and values for one example at its key positions: per attention layer
    keys * kv_heads * (key_dim + value_dim) numbers (2*T*kv_heads*head_dim when key and value heads
    are alike). Tensor parallelism gives each device kv_heads/tp of them, and at least one: a
    key/value head is copied where devices outnumber them (as vLLM and Megatron-LM do)."""
    tp = _devices(tp, "tensor-parallel")

    def heads(a):
        return a.kv_heads if tp == 1 else sp.Max(a.kv_heads / tp, 1)
    numbers = sp.Add(*[times * a.keys * heads(a) * (a.key_dim + a.value_dim)
                       for node, times in _leaves(_nodes(model_or_row)) for a in attentions(node)])
    return sp.expand(batch * numbers * dtype_bytes(dtype))


# ---------------------------------------------------------------- activations saved for backward

_ACTIVATIONS = {"relu", "gelu", "sigmoid", "tanh", "selu", "silu", "relu6", "softplus", "mish", "hard_swish",
                "hard_sigmoid", "softsign", "elu", "leaky_relu", "prelu", "glu", "activation"}
_NORMS = {"layernorm", "rmsnorm", "groupnorm", "batchnorm", "batchnorm1d", "batchnorm2d", "batchnorm3d",
          "instancenorm", "instancenorm1d", "instancenorm2d", "instancenorm3d"}
_DROPOUTS = {"dropout", "spatial_dropout1d", "spatial_dropout2d", "spatial_dropout3d", "alpha_dropout",
             "gaussian_dropout"}
MASK_BYTES = 1     # a dropout mask: one byte per element (torch keeps a bool tensor)


def _saved(node, size: int, recompute: str, role: str = "replicated") -> tuple:
    """Bytes one layer keeps for its backward pass, per example, at `size` bytes a number, as
    (replicated, split): what every tensor-parallel device keeps whole, and what `role` (from
    `tensor_parallel_roles`) divides among them.

    The inputs of its matrix products, the input of an activation function or a norm, softmax's
    output, a dropout's mask (1 byte) -- Korthikanti et al.'s accounting. Elementwise additions,
    reshapes and embeddings' lookups keep nothing that counts (an embedding keeps integer ids).
    """
    kind, cfg = _kind(node), _config(node)
    inputs = sp.Add(*[product(s) for s in _distinct_input_shapes(node)])
    out = product(_output_shape(node))
    zero = sp.Integer(0)
    if kind == "dense":
        pre_activation = size * out if cfg.get("activation") not in (None, "linear", "identity") else zero
        if role == "row":          # its input arrives split, its output is summed whole
            return zero, size * inputs + pre_activation
        return size * inputs, pre_activation
    if kind in _ACTIVATIONS or kind in _NORMS or kind in ("softmax", "log_softmax") or kind in _DROPOUTS:
        kept = MASK_BYTES * inputs if kind in _DROPOUTS else size * (out if "softmax" in kind else inputs)
        return (zero, kept) if role == "split" else (kept, zero)
    if kind in ("multihead_attention", "grouped_query_attention"):
        (a,) = attentions(node)
        projected = a.queries * a.heads * a.key_dim + a.keys * a.kv_heads * (a.key_dim + a.value_dim) + \
            a.queries * a.heads * a.value_dim        # Q, K, V and the heads' output (the last projection's input)
        scores = a.heads * a.queries * a.keys        # softmax's output
        split = size * projected
        if recompute == "none":
            split += size * scores + (scores * (MASK_BYTES + size) if a.dropout else 0)
        return size * inputs, split
    tokens = product(_input_shapes(node)[0][:-1]) if _input_shapes(node) else zero
    if kind == "gated_mlp":           # gate's pre-activation, its activation, up, their product
        return size * inputs, size * 4 * tokens * cfg["hidden"]
    if kind == "mixture_of_experts":  # the router's probabilities, and each chosen expert's own
        n, hidden, k = _input_shapes(node)[0][-1], cfg["hidden"], cfg["top_k"]
        per_expert = n + (4 if cfg.get("gated", True) else 2) * hidden
        return size * (inputs + tokens * cfg["num_experts"]), size * k * tokens * per_expert
    if _macs(node) != 0:          # any other layer with products (convolutions, recurrences): its inputs
        return size * inputs, zero
    return zero, zero


def activations(model_or_row, dtype: str = "bfloat16", recompute: str = "none", batch=1, tp=1,
                sequence_parallel: bool = False):
    """Bytes saved for the backward pass of one example (or `batch`) on one of `tp` tensor-parallel
    devices: each layer's `_saved`, a repeat's body times its count; with `full` recomputation a
    repeat keeps each repetition's input alone (the transient of the one repetition being
    recomputed is not counted). Sequence parallelism splits the replicated part too (Korthikanti
    et al. section 4.2.2)."""
    size = dtype_bytes(dtype)
    nodes = _nodes(model_or_row)
    check_recompute(recompute)
    tp = _devices(tp, "tensor-parallel")
    whole = 1 / tp if sequence_parallel else 1
    roles = tensor_parallel_roles(nodes)

    def kept(node, how):
        replicated, split = _saved(node, size, how, roles.get(node, "replicated"))
        return replicated * whole + split / tp
    if recompute == "full":
        total = sp.Add(*[_repeat_count(r) * product(_input_shapes(r)[0]) * size * whole
                         for r in _outermost_repeats(nodes)])
        total += sp.Add(*[kept(r, "none") for r in _layers_outside_repeats(nodes)])
    else:
        total = sp.Add(*[times * kept(r, recompute) for r, times in _leaves(nodes)])
    return sp.expand(batch * total)


# ---------------------------------------------------------------- tensor and pipeline parallelism

_ELEMENTWISE = _ACTIVATIONS | _DROPOUTS


def tensor_parallel_roles(nodes) -> dict:
    """node -> how Megatron-LM's tensor parallelism splits a layer (Shoeybi et al. 2019):

    * "column": a dense layer whose input every device holds whole: its output features split;
    * "row": a dense layer whose input arrives split (the one after a "column"): its input
      features split, the partial outputs summed (all-reduce), so its output is whole again;
    * "split": an activation or dropout on a split tensor, which stays split;
    * "attention" (heads split, the output projection by rows), "mlp" (gated_mlp: gate and up by
      columns, down by rows), "moe" (each expert so, the router whole), "embedding" (the
      vocabulary split); every other layer ("replicated") works on whole tensors on every device.

    A block's or repeat's inputs arrive whole, and its output leaves whole.
    """
    roles = {}

    def scope(nodes):
        split = set()
        for node in nodes:
            if _children(node):
                scope(_children(node))
                continue
            kind, source = _kind(node), _first_producer(node)
            if kind == "dense":
                roles[node] = "row" if source in split else "column"
                if source not in split:
                    split.add(node)
            elif kind in _ELEMENTWISE and source in split:
                roles[node] = "split"
                split.add(node)
            elif kind in ("multihead_attention", "grouped_query_attention"):
                roles[node] = "attention"
            elif kind == "gated_mlp":
                roles[node] = "mlp"
            elif kind == "mixture_of_experts":
                roles[node] = "moe"
            elif kind == "embedding":
                roles[node] = "embedding"
    scope(nodes)
    return roles


def _whole_part(node, role) -> sp.Expr:
    """The parameters of a split layer that every device still holds whole: the bias added after
    the all-reduce (row-parallel dense, attention's output projection, the MLP's down projection)
    and a mixture's router."""
    cfg = _config(node)
    biased = bool(cfg.get("use_bias"))
    if role == "row":
        return cfg["units"] if biased else sp.Integer(0)
    if role == "attention":
        return _output_shape(node)[-1] if biased else sp.Integer(0)
    if role == "mlp":
        return _input_shapes(node)[0][-1] if biased else sp.Integer(0)
    if role == "moe":
        n, experts = _input_shapes(node)[0][-1], cfg["num_experts"]
        return n * experts + (experts * n if biased else 0)
    return sp.Integer(0)


def _devices(n, what):
    n = sp.sympify(n)
    if n.is_number and not (n.is_Integer and n > 0):
        raise ArgumentError(f"the number of {what} devices must be a positive whole number, found {n}")
    return n


def parameters_per_device(model, tp=1, pp=1, trainable: bool = False):
    """Parameters one device holds under `tp`-way tensor and `pp`-way pipeline parallelism: split
    layers (tensor_parallel_roles) hold 1/tp of their weights, and the repeated layers are spread
    evenly over the pipeline's stages. The layers outside repeats (embeddings, the final norm, the
    head) are counted on the stage, which bounds every stage (the first holds the embeddings, the
    last the head)."""
    tp, pp = _devices(tp, "tensor-parallel"), _devices(pp, "pipeline")
    roles = tensor_parallel_roles(_nodes(model))

    def held(node):
        count = _weights(node, trainable)
        role = roles.get(node, "replicated")
        if role in ("replicated", "split") or count == 0:
            return count
        whole = _whole_part(node, role)
        return (count - whole) / tp + whole
    repeated = sp.Add(*[times * held(r) for rep in _outermost_repeats(_nodes(model))
                        for r, times in _weight_leaves([rep])])
    outside = sp.Add(*[held(r) for r in _layers_outside_repeats(_nodes(model))])
    return sp.expand(repeated / pp + outside)


# ---------------------------------------------------------------- training memory per device

OPTIMIZERS = ("adam", "adamw", "sgd", "sgd_momentum", "adam8bit")
PRECISIONS = ("fp32", "bf16", "mixed")
# Bytes per parameter of (weights, gradients) by precision; `mixed` keeps 16-bit weights and
# gradients and an fp32 master copy among the optimizer states (ZeRO's K = 12 with Adam).
_WEIGHTS_GRADS = {"fp32": (4, 4), "bf16": (2, 2), "mixed": (2, 2)}
_MASTER = {"fp32": 0, "bf16": 0, "mixed": 4}
# Optimizer state bytes per parameter at a number size: Adam's two moments, momentum's one,
# 8-bit Adam's two one-byte moments (bitsandbytes; its small per-block scales are left out).
_STATES = {"adam": lambda s: 2 * s, "adamw": lambda s: 2 * s, "sgd": lambda s: 0, "sgd_momentum": lambda s: s,
           "adam8bit": lambda s: 2}


def _choice(value, choices, what):
    if value not in choices:
        raise ArgumentError(f"unknown {what} '{value}'", hint=did_you_mean(value, choices) or
                            "choose one of " + ", ".join(choices))
    return value


@dataclass
class TrainingMemory:
    """Bytes per device, each part a closed form."""
    weights: sp.Expr
    gradients: sp.Expr
    optimizer: sp.Expr
    activations: sp.Expr

    @property
    def total(self):
        return sp.expand(self.weights + self.gradients + self.optimizer + self.activations)

    def parts(self) -> list[tuple[str, sp.Expr]]:
        return [("weights", self.weights), ("gradients", self.gradients), ("optimizer states", self.optimizer),
                ("activations", self.activations)]


def training_memory_parts(model, optimizer: str = "adam", precision: str = "mixed", dp=1, zero: int = 0,
                          with_activations: bool = False, recompute: str = "none", batch=1, tp=1, pp=1,
                          sequence_parallel: bool = False) -> TrainingMemory:
    """Weights, gradients and optimizer states on one of `dp` data-parallel devices: ZeRO stage 1
    partitions the optimizer states over them, 2 the gradients too, 3 the weights too; within a
    tensor- and pipeline-parallel group, the parameters one device holds (parameters_per_device).
    With activations, `batch` examples per device at the precision's number size (4 bytes for
    fp32, else 2); with pipeline parallelism, the first stage's under a 1F1B schedule, which keeps
    pp micro-batches of its layers in flight -- as many layers' activations as the whole model's
    (Korthikanti et al. section 4.2.3)."""
    _choice(optimizer, OPTIMIZERS, "optimizer")
    _choice(precision, PRECISIONS, "precision")
    if zero not in (0, 1, 2, 3):
        raise ArgumentError(f"--zero takes a stage 0, 1, 2 or 3, found {zero}")
    dp = _devices(dp, "data-parallel")
    w, g = _WEIGHTS_GRADS[precision]
    k = _MASTER[precision] + _STATES[optimizer](4 if precision in ("fp32", "mixed") else 2)
    params, trainable = parameters_per_device(model, tp, pp), parameters_per_device(model, tp, pp, trainable=True)
    weights, grads, states = w * params, g * trainable, k * trainable
    if zero >= 1:
        states = states / dp
    if zero >= 2:
        grads = grads / dp
    if zero >= 3:
        weights = weights / dp
    acts = sp.Integer(0)
    if with_activations:
        acts = activations(model, "float32" if precision == "fp32" else "bfloat16", recompute, batch, tp,
                           sequence_parallel)
    return TrainingMemory(sp.expand(weights), sp.expand(grads), sp.expand(states), acts)


def training_memory(model, **options):
    return training_memory_parts(model, **options).total


# ---------------------------------------------------------------- the options, together

@dataclass
class Settings:
    """The accounting choices a command passes along (its --recompute, --optimizer, ... options)."""
    recompute: str = "none"
    optimizer: str = "adam"
    precision: str = "mixed"
    dp: object = 1
    zero: int = 0
    with_activations: bool = False
    tp: object = 1
    pp: object = 1
    sequence_parallel: bool = False


QUANTITIES = {
    "active": "parameters one token uses (a mixture of experts counts top_k experts)",
    "training_flops": "FLOPs of a training step per example: forward, backward (2x), --recompute's forward",
    "kv_cache": "bytes of the keys and values cached for generation, per example, at --dtype",
    "activations": "bytes saved for the backward pass per example, at --dtype, with --recompute",
    "training_memory": "bytes per device of weights, gradients, optimizer states (--optimizer, --precision, "
                       "--dp, --zero; + activations with --with-activations)",
}


def quantity(model, of: str, layer=None, dtype: str = "float32", per_batch: bool = False,
             settings: Settings | None = None):
    """One of QUANTITIES for the model or one layer (node)."""
    s = settings or Settings()
    source = model.row(layer).node if layer else model
    batch = model.batch if per_batch else 1
    # A layer inside a repeat is checkpointed with it: fully recomputed, and only a repetition's
    # own input kept.
    place = _place_in_repeat(_nodes(model), source) if layer and s.recompute == "full" else None
    if of == "active":
        return sp.expand(active(source))
    if of == "training_flops":
        if place:
            return sp.expand(batch * 2 * 4 * _macs(source))
        return training_flops(source, s.recompute, batch, s.tp)
    if of == "kv_cache":
        return kv_cache(source, dtype, batch, s.tp)
    if of == "activations":
        if place:
            kept = product(_input_shapes(source)[0]) * dtype_bytes(dtype) if place == "body" else 0
            return sp.expand(batch * kept)
        return activations(source, dtype, s.recompute, batch, s.tp, s.sequence_parallel)
    if layer:
        raise ArgumentError("training_memory is a whole model's figure; leave out --layer")
    return memory_parts(model, s, batch).total


def memory_parts(model, settings: Settings, batch=1) -> TrainingMemory:
    """training_memory_parts with a command's settings."""
    s = settings
    return training_memory_parts(model, optimizer=s.optimizer, precision=s.precision, dp=s.dp, zero=s.zero,
                                 with_activations=s.with_activations, recompute=s.recompute, batch=batch, tp=s.tp,
                                 pp=s.pp, sequence_parallel=s.sequence_parallel)
