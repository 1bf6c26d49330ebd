"""What sizing a large model takes beyond its parameter count, read off the graph's layer facts.

Every figure is a walk over the graph (symparams/graph.py) that reads what each layer states
about itself (catalog/facts.py: the attention it computes, what it keeps for backward, how tensor
parallelism splits it, the parameters one example uses). No layer is known here by its name, so
a layer declared in the language gets its figures from the facts it states.

Per example (one sequence) unless `batch` is given:

* active -- parameters one token uses (a mixture of experts: its router and top_k experts).
* training_flops -- one training step: forward (2 FLOPs a multiply-accumulate), backward at twice
  the forward, and the forward that recomputation repeats: `full` the repeated blocks' (each
  repetition keeps only its input), `selective` the attention scores and weighted sums
  (Korthikanti et al. 2022). approximations(): 6N and PaLM's 6N + 12LHQT beside it.
* kv_cache -- bytes a generating model keeps: each attention's cached positions times its
  numbers per position (catalog/facts.py Attention.cached_numbers).
* activations -- bytes kept for the backward pass, by a rule (facts.RULES): what transformers'
  modules really keep under an attention implementation, or Korthikanti et al.'s accounting.
* training_memory -- bytes per device of weights, gradients and optimizer states under data
  parallelism and ZeRO, tensor, pipeline and expert parallelism, what ZeRO-Offload moves to the
  host apart; and the activations when asked. 8-bit Adam's state per tensor (adam8bit_states,
  weight_tensors: the parameter tensors read off the facts).
* stage_flops -- a training step's FLOPs on each pipeline stage.
"""
from __future__ import annotations

from dataclasses import dataclass

import sympy as sp

from . import units
from .catalog import facts
from .dims import product, total
from .errors import ArgumentError, did_you_mean


def choice(value, choices, what):
    if value not in choices:
        raise ArgumentError(f"unknown {what} '{value}'", hint=did_you_mean(value, choices) or
                            "choose one of " + ", ".join(choices))
    return value


def devices(n, what):
    n = sp.sympify(n)
    if n.is_number and not (n.is_Integer and n > 0):
        raise ArgumentError(f"the number of {what} devices must be a positive whole number, found {n}")
    return n


# ---------------------------------------------------------------- reading the graph

def nodes_of(source) -> list:
    """The graph nodes a quantity sums over: a model's top level, or one row's (or node's) own."""
    if hasattr(source, "graph"):
        return source.graph.nodes
    return [getattr(source, "node", source)]


def _count(node):
    """A repeat's count (its children are the body, derived once); None for any other node."""
    return node.count if node.kind == "repeat" else None


def leaves(nodes, times=sp.Integer(1)):
    """(layer node, how often it runs per example): a repeat's body multiplied by its count."""
    for node in nodes:
        if node.children:
            count = _count(node)
            yield from leaves(node.children, times * (1 if count is None else count))
        else:
            yield node, times


def _weight_leaves(nodes, times=sp.Integer(1)):
    """(layer node, how many sets of its weights exist): as leaves, but a node a repeat's body
    reuses from outside it has its weights once, however often the body runs."""
    for node in nodes:
        count = _count(node)
        for child in node.children:
            once = node.body is not None and child in node.body.once
            inner = times if once or count is None else times * count
            yield from _weight_leaves([child], inner) if child.children else [(child, inner)]
        if not node.children:
            yield node, times


def _outermost_repeats(nodes):
    """The repeats that no other repeat contains (those full recomputation checkpoints)."""
    for node in nodes:
        if _count(node) is not None:
            yield node
        else:
            yield from _outermost_repeats(node.children)


def _outside_repeats(nodes):
    for node in nodes:
        if _count(node) is not None:
            continue
        if node.children:
            yield from _outside_repeats(node.children)
        else:
            yield node


_ABSENT = object()


def place_in_repeat(nodes, target, place=None):
    """Where a node sits: "body" for a repeat's body node (each repetition), "within" deeper inside
    a repeat, None outside every repeat (_ABSENT if it is not among `nodes`)."""
    for node in nodes:
        if node is target:
            return place
        inner = "body" if _count(node) is not None else ("within" if place else None)
        found = place_in_repeat(node.children, target, inner)
        if found is not _ABSENT:
            return found
    return _ABSENT


def attentions(node) -> tuple:
    return node.out.attention if node.out is not None else ()


# ---------------------------------------------------------------- active parameters

def active(source):
    """Parameters one token uses; the parameter count where no mixture of experts is involved."""
    return total(sp.sympify(n.active) for n in nodes_of(source))


# ---------------------------------------------------------------- tensor parallelism

def tensor_parallel_roles(nodes) -> dict:
    """node -> how Megatron-LM's tensor parallelism splits it (Shoeybi et al. 2019), resolved from
    each layer's stated role (facts.ROLES) in its place:

    * "column": a linear layer whose input every device holds whole: its output features split;
    * "row": a linear layer whose input arrives split: its input features split, the partial
      outputs summed (all-reduce), so its output is whole again;
    * "split": an elementwise layer on a split tensor, which stays split;
    * "attention", "mlp", "moe", "embedding": split inside; any other layer is replicated.

    A block's or repeat's inputs arrive whole, and its output leaves whole.
    """
    roles = {}

    def scope(nodes):
        split = set()
        for node in nodes:
            if node.children:
                scope(node.children)
                continue
            role = node.out.parallel.role
            source = node.inputs[0].node if node.inputs else None
            if role == "linear":
                roles[node] = "row" if source in split else "column"
                if source not in split:
                    split.add(node)
            elif role == "elementwise" and source in split:
                roles[node] = "split"
                split.add(node)
            elif role in ("attention", "mlp", "moe", "embedding"):
                roles[node] = role
    scope(nodes)
    return roles


def _split(role) -> bool:
    return role not in ("replicated", "split", None)


def _device_macs(nodes, tp=1):
    """The forward's multiply-accumulates on one of `tp` tensor-parallel devices: a split layer does
    1/tp of its products, all but those it keeps whole (a router's)."""
    tp = devices(tp, "tensor-parallel")
    if tp == 1:
        return sp.Add(*[sp.sympify(n.macs) for n in nodes])
    roles = tensor_parallel_roles(nodes)
    out = sp.Integer(0)
    for node, times in leaves(nodes):
        role, macs = roles.get(node, "replicated"), sp.sympify(node.macs)
        if role == "split" or _split(role):
            whole = node.out.parallel.whole_macs
            macs = (macs - whole) / tp + whole
        out += times * macs
    return out


def held_per_device(model, tp=1, pp=1, trainable: bool = False, ep=1) -> tuple[sp.Expr, sp.Expr]:
    """(parameters one device holds outside the experts, its experts' parameters) under `tp`-way
    tensor, `pp`-way pipeline and `ep`-way expert parallelism: split layers hold 1/tp of their
    weights but what they keep whole; a mixture of experts (role "moe") holds ceiling(experts/ep)
    of its experts, on the device holding the most (each 1/tp under tensor parallelism too), and
    its router whole -- the router being the
    weights its whole (unsplit) products read, one multiply-accumulate per weight and token. The
    repeated layers are spread evenly over the pipeline's stages; the layers outside repeats
    (embeddings, the final norm, the head) are counted on the stage, which bounds every stage."""
    tp, pp = devices(tp, "tensor-parallel"), devices(pp, "pipeline")
    ep = devices(ep, "expert-parallel")
    roles = tensor_parallel_roles(nodes_of(model))

    def held(node):
        count = sp.sympify(node.trainable if trainable else node.params)
        role = roles.get(node, "replicated")
        if not _split(role) or count == 0:
            return count, sp.Integer(0)
        whole = node.out.parallel.whole_params if role != "column" else 0
        if role != "moe":
            return (count - whole) / tp + whole, sp.Integer(0)
        router, macs = sp.sympify(whole), sp.sympify(node.out.parallel.whole_macs)
        tokens = product(node.input_shapes[0][:-1]) if node.inputs else 0
        if macs != 0 and tokens != 0:
            router = sp.cancel(macs / tokens)
        experts = node.config.get("num_experts")
        if ep == 1 or experts is None:
            return router, (count - whole) / (tp * ep) + (whole - router) / ep
        # the device holding the most experts: ceiling(experts/ep) of them (ep should divide them)
        share = sp.ceiling(sp.sympify(experts) / ep) / sp.sympify(experts)
        return router, share * ((count - whole) / tp + (whole - router))

    def summed(pairs):
        dense = sp.Add(*[times * held(r)[0] for r, times in pairs])
        experts = sp.Add(*[times * held(r)[1] for r, times in pairs])
        return dense, experts
    rep_dense, rep_experts = summed([(r, times) for rep in _outermost_repeats(nodes_of(model))
                                     for r, times in _weight_leaves([rep])])
    out_dense, out_experts = summed([(r, 1) for r in _outside_repeats(nodes_of(model))])
    return sp.expand(rep_dense / pp + out_dense), sp.expand(rep_experts / pp + out_experts)


def parameters_per_device(model, tp=1, pp=1, trainable: bool = False, ep=1):
    """Parameters one device holds under `tp`-way tensor, `pp`-way pipeline and `ep`-way expert
    parallelism (held_per_device: the layers outside the experts and the experts, summed)."""
    return sp.expand(sum(held_per_device(model, tp, pp, trainable, ep)))


def split_conditions(source, tp=1, pp=1) -> list:
    """What `tp`-way tensor and `pp`-way pipeline parallelism need of the model, as Megatron-LM
    asserts it: each attention's heads (and its key/value heads, unless fewer than tp, which are
    then replicated) divide over the tensor-parallel devices, and each outermost repeat's count
    over the pipeline stages. [(relation, words(values) -> the refusal)]."""
    tp, pp = devices(tp, "tensor-parallel"), devices(pp, "pipeline")
    out, seen = [], set()
    nodes = nodes_of(source)
    if tp != 1:
        for node, _ in leaves(nodes):
            for a in attentions(node):
                for heads, what in ((a.heads, "attention heads"), (a.kv_heads, "key/value heads")):
                    heads = sp.sympify(heads)
                    if (heads, what) in seen or (what != "attention heads" and heads == sp.sympify(a.heads)):
                        continue
                    seen.add((heads, what))
                    fits = sp.Eq(sp.Mod(heads, tp), 0)
                    if what != "attention heads":      # fewer key/value heads than devices: each replicated
                        fits = sp.Or(fits, sp.Eq(sp.Mod(tp, heads), 0))
                    out.append((fits, lambda v, heads=heads, what=what, node=node:
                                f"{heads.xreplace(v)} {what} (layer {node.name}) do not split over "
                                f"{tp.xreplace(v)} tensor-parallel devices: --tp must divide them"))
    if pp != 1:
        for rep in _outermost_repeats(nodes):
            count = sp.sympify(_count(rep))
            out.append((sp.Eq(sp.Mod(count, pp), 0), lambda v, count=count, rep=rep:
                        f"the {count.xreplace(v)} repetitions of {rep.name} do not split evenly over "
                        f"{pp.xreplace(v)} pipeline stages: --pp must divide them"))
    return out


# ---------------------------------------------------------------- FLOPs

RECOMPUTE = ("none", "selective", "full")


def recomputed_macs(source, recompute: str = "full", tp=1):
    """Multiply-accumulates the backward pass repeats (on one of `tp` tensor-parallel devices): the
    repeated blocks' whole forward (`full`) or their attention scores and weighted sums
    (`selective`)."""
    nodes = nodes_of(source)
    if choice(recompute, RECOMPUTE, "recomputation") == "full":
        return _device_macs(list(_outermost_repeats(nodes)), tp)
    if recompute == "selective":
        tp = devices(tp, "tensor-parallel")
        return sp.Add(*[times * a.score_macs / tp for node, times in leaves(nodes) for a in attentions(node)])
    return sp.Integer(0)


def training_flops(source, recompute: str = "none", batch=1, tp=1):
    """FLOPs of one training step: forward + backward (2x) + the recomputed forward; per device
    under `tp`-way tensor parallelism."""
    macs = _device_macs(nodes_of(source), tp)
    return sp.expand(batch * 2 * (3 * macs + recomputed_macs(source, recompute, tp)))


def _in_order(nodes):
    """The leaves outside repeats and the outermost repeats, in the order the model runs them."""
    for node in nodes:
        if _count(node) is not None:
            yield node
        elif node.children:
            yield from _in_order(node.children)
        else:
            yield node


def stage_flops(model, pp, recompute: str = "none", batch=1, tp=1) -> dict:
    """FLOPs of one training step on each of `pp` pipeline stages (as training_flops counts them): the
    repeated layers split evenly over the stages, the layers before the first repeat (the embeddings)
    on the first stage, those after the last (the final norm, the head) on the last, as Megatron-LM and
    torch.distributed.pipelining place them. {"first", "middle" (each stage between), "last",
    "largest"}; with one stage, every layer on it."""
    pp = devices(pp, "pipeline")
    order = list(_in_order(nodes_of(model)))
    repeats = [i for i, n in enumerate(order) if _count(n) is not None]
    if not repeats:
        raise ArgumentError(f"model {model.name} has no repeated layers to split over {pp} pipeline stages",
                            hint="--pp spreads a repeat's repetitions evenly over the stages")

    def flops(nodes, full):
        macs = _device_macs(nodes, tp)
        again = macs if recompute == "full" and full else (
            recomputed_macs(nodes, "selective", tp) if recompute == "selective" and nodes else 0)
        return sp.expand(batch * 2 * (3 * macs + again))
    choice(recompute, RECOMPUTE, "recomputation")
    blocks = flops([order[i] for i in repeats], True) / pp
    before = flops(order[:repeats[0]], False)
    after = flops(order[repeats[-1] + 1:] + [n for i, n in enumerate(order[repeats[0]:repeats[-1] + 1],
                                                                     repeats[0]) if i not in repeats], False)
    if pp == 1:
        whole = sp.expand(before + blocks + after)
        return {"first": whole, "middle": whole, "last": whole, "largest": whole}
    first, last = sp.expand(before + blocks), sp.expand(blocks + after)
    return {"first": first, "middle": sp.expand(blocks), "last": last, "largest": sp.Max(first, last)}


def approximations(model, batch=1) -> dict:
    """The published shortcuts for the same step: 6N per token (Kaplan et al. 2020) and PaLM's
    6N + 12LHQT per token (Chowdhery et al. 2022, appendix B), N the parameters a token uses, each
    attention's H*Q its heads times their key width and T its key positions."""
    tokens = tokens_per_example(model)
    n = active(model)
    lhqt = sp.Add(*[times * a.lhq * a.keys for node, times in leaves(nodes_of(model)) for a in attentions(node)])
    return {"6N": sp.expand(batch * 6 * n * tokens), "6N + 12LHQT": sp.expand(batch * (6 * n + 12 * lhqt) * tokens)}


def tokens_per_example(model):
    """Tokens in one example: the positions of the first integer (token id) input, else of the first
    input's positions (all but its feature axis)."""
    ids = [t for t in model.inputs if getattr(t, "dtype", None) == "int"]
    shape = (ids or model.inputs)[0].shape
    return product(shape if ids else shape[:-1])


# ---------------------------------------------------------------- KV cache

def cached_attentions(source) -> list:
    """(layer node, how often it runs, its Attention) for every attention in the graph. A layer
    whose MACs are not known may compute an attention no fact states: refused, never a 0."""
    found = []
    for node, times in leaves(nodes_of(source)):
        if node.out is not None and node.out.macs_not_known:
            node.macs                        # raises, naming the layer and why
        found += [(node, times, a) for a in attentions(node)]
    return found


def kv_cache(source, dtype: str = "bfloat16", batch=1, tp=1):
    """Bytes of cached keys and values for one example (or `batch`) at its key positions, on one of
    `tp` tensor-parallel devices: every attention's cached numbers (facts.Attention)."""
    tp = devices(tp, "tensor-parallel")
    numbers = sp.Add(*[times * a.cached_numbers(tp) for _, times, a in cached_attentions(source)])
    return sp.expand(batch * numbers * units.dtype_bytes(dtype))


# ---------------------------------------------------------------- activations saved for backward

@dataclass(frozen=True)
class Keeping:
    """How activations are counted: the rule (facts.RULES), transformers' attention implementation,
    recomputation, the activations' dtype, tensor and sequence parallelism."""
    rule: str = "transformers"
    attention: str = "sdpa"
    recompute: str = "none"
    dtype: str = "bfloat16"
    tp: object = 1
    sequence_parallel: bool = False

    def size(self, dtype: str):
        """Bytes a number of a saved tensor (facts.SAVED_DTYPES, or a dtype's name)."""
        data = units.dtype_bytes(self.dtype)
        if dtype == "activations":
            return data
        if dtype == "cast":
            return 0 if data == 4 else data
        if dtype == "mask":
            return 1 if self.rule == "korthikanti" else data
        return units.dtype_bytes(dtype)


# A tensor kept once for the whole batch is counted per example as 1/_BATCH of it, _BATCH being
# replaced by the batch at the end (so a batch of B keeps it once, not B times).
_BATCH = sp.Dummy("batch", positive=True, integer=True)


def saved_facts(node, keeping: Keeping) -> list:
    """What a layer node keeps for backward under the rule: its stated Saved tensors and its
    attentions'; a layer that states nothing keeps its inputs if it has products."""
    stated = node.out.saved
    if stated is None:     # an attention's own facts say it all; any other layer with products keeps its inputs
        products = sp.sympify(node.macs) != 0 and not attentions(node)
        stated = (facts.Saved(tensor="input", what="inputs of its products"),) if products else ()
    items = [s for s in stated if s.rule in (None, keeping.rule)]
    for s in items:
        if s.dtype == "not known":
            line = f" (line {node.pos.line})" if node.pos is not None else ""
            raise ArgumentError(f"layer {node.name}{line}: what a {node.type} keeps for its backward pass is not "
                                f"known: {s.what}",
                                hint="write it as its parts (attention, dense, norms, dropout), whose "
                                     "activations are known, or leave --of activations out")
    for a in attentions(node):
        items += a.saved(keeping.rule, keeping.attention)
    if keeping.recompute == "selective":
        items = [s for s in items if s.recompute != "selective"]
    return items


class _Walk:
    """Sums the bytes a graph keeps for backward, each tensor once (autograd keeps one storage
    however many layers save it): tensors are told apart by the graph's Tensor objects; a block's
    inputs are the tensors passed to it, and a repeat's first input is, from its second repetition
    on, the previous repetition's output."""

    def __init__(self, nodes, keeping: Keeping):
        self.keeping = keeping
        self.tp = devices(keeping.tp, "tensor-parallel")
        self.roles = tensor_parallel_roles(nodes)
        self.split = {n for n, role in self.roles.items() if role in ("column", "split")}

    def share(self, split: bool):
        """The part of a tensor one device keeps: split ones 1/tp, whole ones 1/tp only under
        sequence parallelism (Korthikanti et al. section 4.2.2)."""
        return 1 / self.tp if split or self.keeping.sequence_parallel else 1

    def tensor_split(self, tensor) -> bool:
        return tensor.node in self.split

    def scope(self, nodes, alias: dict) -> tuple[dict, sp.Expr]:
        """(bytes by the identity of a tensor from outside the scope or made in it, other bytes)."""
        keyed, rest = {}, sp.Integer(0)
        for node in nodes:
            if node.children:
                inner_keyed, inner_rest = self.body(node, alias)
                rest += inner_rest
                for key, b in inner_keyed.items():
                    keyed.setdefault(key, b)
                continue
            for item in saved_facts(node, self.keeping):
                size = self.keeping.size(item.dtype)
                copy = item.dtype == "float32" and self.keeping.size("activations") != 4
                if item.tensor == "input" and not copy:
                    for t in _distinct(node.inputs):
                        keyed.setdefault(alias.get(id(t), id(t)), size * product(t.shape) * self.share(
                            self.tensor_split(t)))
                elif item.tensor == "output" and not copy:
                    keyed.setdefault(id(node.output), size * product(node.shape) * self.share(node in self.split))
                else:
                    elements = item.elements
                    if item.tensor == "input":
                        elements = sp.Add(*[product(t.shape) for t in _distinct(node.inputs)])
                    elif item.tensor == "output":
                        elements = product(node.shape)
                    once = 1 if item.per_example else 1 / _BATCH
                    rest += once * size * elements * self.share(self._own_split(node, item))
        return keyed, rest

    def _own_split(self, node, item) -> bool:
        if item.like == "split":
            return _split(self.roles.get(node)) or self.roles.get(node) == "split" or \
                any(self.tensor_split(t) for t in node.inputs)
        if item.like == "whole":
            return False
        if item.like == "output":
            return node in self.split
        return bool(node.inputs) and self.tensor_split(node.inputs[0])

    def body(self, node, alias) -> tuple[dict, sp.Expr]:
        """A block's or repeat's bytes, keyed by the identities of the tensors outside it."""
        inner_alias = dict(alias)
        if node.kind == "block":
            for own, outer in zip(node.body.inputs, node.inputs):
                inner_alias[id(own)] = alias.get(id(outer), id(outer))
        output = id(node.body.output)
        inner_alias.setdefault(output, id(node.output))
        keyed, rest = self.scope(node.children, inner_alias)
        count = _count(node)
        if count is None:
            return keyed, rest
        first = alias.get(id(node.inputs[0]), id(node.inputs[0])) if node.inputs else None
        outer_ids = {alias.get(id(t), id(t)) for t in node.inputs} | {id(node.output)}
        out_keyed, rest = {}, count * rest
        for key, b in keyed.items():
            if key == first:        # the first repetition's input; later ones read the previous output
                out_keyed[key] = b
                if id(node.output) not in keyed:
                    rest += (count - 1) * b
            elif key == id(node.output):   # every repetition's output; the last one's leaves the repeat
                out_keyed[key] = b
                rest += (count - 1) * b
            elif key in outer_ids:  # another tensor from outside (an encoder's memory): the same each time
                out_keyed[key] = b
            else:
                rest += count * b
        return out_keyed, rest


def _distinct(tensors) -> list:
    """Each tensor once: self-attention's (a, a) reads one tensor."""
    seen, out = set(), []
    for t in tensors:
        if id(t) not in seen:
            seen.add(id(t))
            out.append(t)
    return out


def activations(source, keeping: Keeping = Keeping(), batch=1):
    """Bytes kept for the backward pass of one example (or `batch`) on one of `tp` tensor-parallel
    devices. With `full` recomputation a repeat keeps each repetition's input alone (the transient
    of the one repetition being recomputed is not counted)."""
    choice(keeping.recompute, RECOMPUTE, "recomputation")
    choice(keeping.rule, facts.RULES, "activations rule")
    choice(keeping.attention, facts.ATTENTION_IMPLEMENTATIONS, "attention implementation")
    nodes = nodes_of(source)
    walk = _Walk(nodes, keeping)
    if keeping.recompute == "full":
        size = keeping.size("activations")
        kept = sp.Add(*[_count(r) * product(r.input_shapes[0]) * size * walk.share(False)
                        for r in _outermost_repeats(nodes)])
        keyed, rest = walk.scope(list(_outside_repeats(nodes)), {})
        return sp.expand(batch * (kept + sp.Add(*keyed.values()) + rest)).xreplace({_BATCH: batch})
    keyed, rest = walk.scope(nodes, {})
    return sp.expand(batch * (sp.Add(*keyed.values()) + rest)).xreplace({_BATCH: batch})


# ---------------------------------------------------------------- training memory per device

OPTIMIZERS = ("adam", "adamw", "sgd", "sgd_momentum", "adam8bit")
# Optimizer state numbers per parameter, and the dtype they are kept at (None: the policy's
# optimizer-state dtype): Adam's two moments, momentum's one. 8-bit Adam's are counted per tensor
# (adam8bit_states); its row here is the two one-byte moments alone.
_STATES = {"adam": (2, None), "adamw": (2, None), "sgd": (0, None), "sgd_momentum": (1, None),
           "adam8bit": (2, "uint8")}

# bitsandbytes' 8-bit Adam (optim.Adam8bit, AdamW8bit, PagedAdamW8bit; Dettmers et al. 2022), as its
# Optimizer8bit.init_state allocates it (tests/test_quantized.py reads the state after a step on the
# CPU): a tensor of n >= min_8bit_size (4096) numbers keeps its two moments as uint8 (state1, state2)
# and a float32 absmax per block of 256 of each (absmax1, absmax2); a smaller one keeps both moments in
# float32. The two 256-number float32 quantization maps (qmap1, qmap2) are one pair per optimizer.
ADAM8BIT_MIN_SIZE = 4096
ADAM8BIT_BLOCK = 256
ADAM8BIT_QMAPS = 2 * 256 * 4


def adam8bit_tensor(n):
    """Bytes of 8-bit Adam's state for one tensor of n numbers (its share of the qmaps left out)."""
    n = sp.sympify(n)
    return sp.Piecewise((2 * n + 2 * 4 * sp.ceiling(n / ADAM8BIT_BLOCK), n >= ADAM8BIT_MIN_SIZE), (8 * n, True))


def adam8bit_states(tensors) -> sp.Expr:
    """8-bit Adam's state for [(n numbers, how many such tensors)]: each tensor's, and the optimizer's
    qmaps where any tensor is large enough to be kept in 8 bits."""
    tensors = [(sp.sympify(n), sp.sympify(t)) for n, t in tensors if sp.sympify(n) != 0]
    if not tensors:
        return sp.Integer(0)
    any8 = sp.Or(*[n >= ADAM8BIT_MIN_SIZE for n, _ in tensors])
    return sp.Add(*[t * adam8bit_tensor(n) for n, t in tensors]) + sp.Piecewise((ADAM8BIT_QMAPS, any8), (0, True))


def weight_tensors(model, trainable: bool = True) -> list:
    """[(numbers, how many such tensors)]: the parameter tensors of the model as torch holds them, read
    off the layers' facts: a linear layer's kernel and bias (its weights kept whole under tensor
    parallelism); a composite layer's stated linear layers (facts.Linear: kernel and bias each, the ones
    kept as one parameter -- a mixture's experts -- one tensor per parameter) and the rest of its weights
    as one tensor; any other layer's weights one tensor, or two of its features' size (a norm's
    gamma and beta)."""
    out = []
    for node, times in _weight_leaves(nodes_of(model)):
        if not node.makes_weights or node.out is None:
            continue
        params = sp.sympify(node.trainable if trainable else node.params)
        if params == 0:
            continue
        role = node.out.parallel.role
        if role == "linear":
            bias = sp.sympify(node.out.parallel.whole_params)
            out += [(params - bias, times), (bias, times)]
        elif node.out.linears:
            fused = {}
            for f in node.out.linears:
                if f.parameter is not None:
                    fused[f.parameter] = fused.get(f.parameter, 0) + f.params
                else:
                    out += [(f.kernel, times * f.times), (f.out_features if f.bias else 0, times * f.times)]
            out += [(n, times) for n in fused.values()]
            out.append((params - sp.Add(*[f.params for f in node.out.linears]), times))
        else:
            features = node.shape[-1] if node.shape else None
            if features is not None and sp.expand(params - 2 * features) == 0:
                out.append((features, 2 * times))
            else:
                out.append((params, times))
    return [(sp.expand(n), t) for n, t in out if sp.expand(n) != 0]


# What ZeRO-Offload and ZeRO-Infinity move to the host (CPU memory or NVMe), by --offload: the
# optimizer states with the fp32 master copy, and the gradients the host's optimizer step reads
# (Ren et al. 2021, ZeRO-Offload, section 4: fp16 parameters, forward and backward stay on the
# device; gradients, fp32 parameters and the moments go to the CPU); `params` moves the weights too
# (Rajbhandari et al. 2021, ZeRO-Infinity's parameter offload).
OFFLOAD = ("none", "optimizer", "params")


@dataclass
class TrainingMemory:
    """Bytes per device, each part a closed form; what --offload moved sits on the device's host
    (the host_* parts), outside the device's total."""
    weights: sp.Expr
    gradients: sp.Expr
    optimizer: sp.Expr
    activations: sp.Expr
    host_weights: sp.Expr = sp.Integer(0)
    host_gradients: sp.Expr = sp.Integer(0)
    host_optimizer: sp.Expr = sp.Integer(0)
    offload: str = "none"

    @property
    def total(self):
        """The device's bytes."""
        return sp.expand(self.weights + self.gradients + self.optimizer + self.activations)

    @property
    def host(self):
        """The bytes the device's host keeps for it."""
        return sp.expand(self.host_weights + self.host_gradients + self.host_optimizer)

    def parts(self) -> list[tuple[str, sp.Expr]]:
        device = [("weights", self.weights), ("gradients", self.gradients), ("optimizer states", self.optimizer),
                  ("activations", self.activations)]
        if self.offload == "none":
            return device
        moved = {"optimizer": ("gradients", "optimizer states"),
                 "params": ("weights", "gradients", "optimizer states")}[self.offload]
        host = [("weights on the host", self.host_weights), ("gradients on the host", self.host_gradients),
                ("optimizer states on the host", self.host_optimizer)]
        return [(n, e) for n, e in device if n not in moved] + \
            [(n, e) for n, e in host if n.removesuffix(" on the host") in moved]


def training_memory_parts(model, optimizer: str = "adam", precision: str = "mixed", dp=1, zero: int = 0,
                          with_activations: bool = False, keeping: Keeping | None = None, batch=1, pp=1,
                          ep=1, offload: str = "none") -> TrainingMemory:
    """Weights, gradients and optimizer states on one of `dp` data-parallel devices: ZeRO stage 1
    partitions the optimizer states over them, 2 the gradients too, 3 the weights too; within a
    tensor-, pipeline- and expert-parallel group, the parameters one device holds (held_per_device).
    Expert parallelism takes its `ep` devices from the data-parallel ones (as DeepSpeed-MoE and
    Megatron-Core do): each expert is data-parallel over dp/ep devices, over which ZeRO partitions
    the experts' share. `offload` moves the optimizer states and gradients (`optimizer`), and the
    weights too (`params`), to the host: the device's total leaves them out, the host_* parts hold
    them. With activations, `batch` examples per device at the precision's activations dtype; with
    pipeline parallelism, the first stage's under a 1F1B schedule, which keeps pp micro-batches of
    its layers in flight -- as many layers' activations as the whole model's (Korthikanti et al.
    section 4.2.3); under expert parallelism, a device's experts see as many token-expert pairs as
    without it when the router balances them."""
    choice(optimizer, OPTIMIZERS, "optimizer")
    choice(offload, OFFLOAD, "offload")
    policy = units.precision(precision)
    if zero not in (0, 1, 2, 3):
        raise ArgumentError(f"--zero takes a stage 0, 1, 2 or 3, found {zero}")
    dp, ep = devices(dp, "data-parallel"), devices(ep, "expert-parallel")
    if zero and dp.is_number and ep.is_number and dp % ep:
        raise ArgumentError(f"--ep {ep} takes its devices from the {dp} data-parallel ones: it must divide --dp",
                            hint="each expert is data-parallel over dp/ep devices, over which ZeRO partitions it")
    keeping = keeping or Keeping()
    tp = keeping.tp
    numbers, state_dtype = _STATES[optimizer]
    per_state = units.dtype_bytes(state_dtype or policy.optimizer_states)
    master = units.dtype_bytes(policy.master_weights) if policy.master_weights else 0
    params = held_per_device(model, tp, pp, ep=ep)
    trainable = held_per_device(model, tp, pp, trainable=True, ep=ep)
    replicas = (dp, dp / ep)       # the devices each share is data-parallel over: the rest, the experts

    def partitioned(per_param, counts, stage):
        # ZeRO's partition of n numbers over r devices: ceiling(n/r) each where r is a number, as
        # DeepSpeed pads a partitioned buffer to a multiple of the devices (docs/llm.md)
        return sp.Add(*[per_param * (n if zero < stage or r == 1 else sp.ceiling(n / r) if r.is_number else n / r)
                        for n, r in zip(counts, replicas)])
    weights = partitioned(units.dtype_bytes(policy.weights), params, 3)
    grads = partitioned(units.dtype_bytes(policy.gradients), trainable, 2)
    states = partitioned(master + numbers * per_state, trainable, 1)
    if optimizer == "adam8bit":
        if zero or any(sp.sympify(n) != 1 for n in (tp, pp, ep)):
            raise ArgumentError("--optimizer adam8bit is counted on whole tensors, one data-parallel replica "
                                "each: --zero, --tp, --pp and --ep are not modelled with it",
                                hint="bitsandbytes' 8-bit Adam keeps a float32 absmax per 256 numbers of each "
                                     "tensor; partitioning splits its blocks differently")
        states = sp.Add(*[master * n for n in trainable]) + adam8bit_states(weight_tensors(model))
    acts = sp.Integer(0)
    if with_activations:
        acts = activations(model, Keeping(keeping.rule, keeping.attention, keeping.recompute, policy.activations, tp,
                                          keeping.sequence_parallel), batch)
    weights, grads, states = (e if e.has(sp.ceiling) else sp.expand(e) for e in (weights, grads, states))
    zero_ = sp.Integer(0)
    if offload == "none":
        return TrainingMemory(weights, grads, states, acts)
    if offload == "optimizer":
        return TrainingMemory(weights, zero_, zero_, acts, zero_, grads, states, offload)
    return TrainingMemory(zero_, zero_, zero_, acts, weights, grads, states, offload)
