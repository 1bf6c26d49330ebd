"""Fine-tuning: LoRA adapters' parameters, and the memory of training them on a frozen (possibly
quantized) base (docs/finetune.md).

Read off the graph and the layers' facts, never a layer's kind by its name:

* a layer LoRA adapts is a linear one (its tensor-parallel role is "linear", facts.Parallel): its
  input's last axis `in`, its weights' columns `out` (its kernel, the weights less those it keeps
  whole -- its bias -- over `in`); peft adds A (r x in) and B (out x r): r*(in + out) parameters;
* --lora-targets names layers as peft's `target_modules` (a list) does: a module whose path ends
  in the name, i.e. a row's own name inside its blocks; an adapter exists as often as the layer's
  weights do (a repeat's count; an instance applied again shares its module, so its adapter);
* a catalog layer that computes several linear products inside (its role "attention", "mlp" or
  "moe": grouped_query_attention, gated_mlp, ...) states them (`linears`, facts.Linear: name, in,
  out, bias, how many), named as transformers names its modules, so a target names them as it
  names a row: `q_proj` adapts an imported Llama's grouped_query_attention's q_proj. A linear kept
  as a parameter (transformers 5's experts, 3-D tensors; a mixture's router) is no module peft's
  target_modules can adapt, nor one bitsandbytes quantizes as a linear layer: both are refused,
  naming it and why; so is a composite layer that states no linears.

Quantized base weights (--weights-dtype nf4 / int4): what transformers' bitsandbytes integration
converts -- every linear layer but the model's output layer (get_keys_to_not_convert keeps
lm_head), the rows' and those a composite layer states, their biases unconverted -- is packed two
a byte per tensor; NF4 also keeps one float32 absmax per block of --group-size (default 64)
numbers of each tensor (bitsandbytes' quant_state.absmax, without double quantization), so a
composite layer's q, k, v and o projections are rounded up to whole blocks each. int4 is counted
as plain packed 4-bit numbers.
"""
from __future__ import annotations

import sympy as sp

from .. import accounting, units
from ..errors import ArgumentError
from .registry import Figure, quantity

COMPOSITE_ROLES = ("attention", "mlp", "moe")
NF4_BLOCK = 64        # bitsandbytes' default blocksize for 4-bit weights (Params4bit, quantize_4bit)


def _leaves(model):
    """(layer node, how many sets of its weights exist) for every layer making its own weights."""
    return [(n, t) for n, t in accounting._weight_leaves(accounting.nodes_of(model)) if n.makes_weights]


class Target:
    """One linear layer LoRA may adapt: a linear row (`fact` None) or one a composite layer states
    (`fact`, a facts.Linear); `times` how often its weights exist."""

    def __init__(self, node, times, fact=None):
        self.node, self.fact = node, fact
        if fact is None:
            self.name = node.name
            self.in_features, self.out_features, self.kernel, self.bias = linear_sizes(node)
            self.times = times
        else:
            self.name = fact.name
            self.in_features, self.out_features, self.kernel = fact.in_features, fact.out_features, fact.kernel
            self.bias = fact.out_features if fact.bias else sp.Integer(0)
            self.times = times * fact.times

    @property
    def key(self):
        return id(self.node), self.fact

    @property
    def module(self) -> bool:
        """An nn.Linear (or Conv1D) module: peft adapts it, bitsandbytes quantizes it."""
        return self.fact is None or self.fact.parameter is None


def _role(node):
    return node.out.parallel.role if node.out is not None else None


def _is_linear(node) -> bool:
    return _role(node) == "linear"


def _composite(node) -> bool:
    return _role(node) in COMPOSITE_ROLES and sp.sympify(node.out.params) != 0


def _unstated(node) -> bool:
    """A composite layer that does not state its linear layers."""
    return _composite(node) and not node.out.linears


def linear_sizes(node) -> tuple:
    """(in, out, kernel, bias) of a linear layer, from its facts: the input's last axis, the
    weights it keeps whole under tensor parallelism (its bias), the rest its kernel."""
    n = node.input_shapes[0][-1]
    bias = sp.sympify(node.out.parallel.whole_params)
    kernel = sp.sympify(node.out.params) - bias
    return n, sp.simplify(kernel / n), kernel, bias


def _describe(node) -> str:
    return f"{node.name} ({node.spec.name if node.spec is not None else node.type})"


def targets_of(model) -> list:
    """Every linear layer of the model as a Target: its linear rows, and the linear layers its
    composite layers state."""
    out = []
    for node, times in _leaves(model):
        if _is_linear(node):
            out.append(Target(node, times))
        elif _composite(node):
            out += [Target(node, times, fact) for fact in node.out.linears]
    return out


def adapted(model, targets) -> list:
    """The Targets --lora-targets names (peft's target_modules: a module whose path ends in the name)."""
    if not targets:
        raise ArgumentError("--lora-targets names the layers LoRA adapts", hint="e.g. --lora-targets q_proj,v_proj")
    candidates = targets_of(model)
    linear_names = list(dict.fromkeys(c.name for c in candidates if c.module))
    unstated = [n for n, _ in _leaves(model) if _unstated(n)]
    others = {n.name: n for n in (x for top in accounting.nodes_of(model) for x in top.walk())}
    out, seen = [], set()
    for target in targets:
        found = [c for c in candidates if c.name == target]
        kept = [c for c in found if not c.module]
        if kept:
            c = kept[0]
            raise ArgumentError(f"--lora-targets {target}: {target} of {_describe(c.node)} is no linear module: "
                                f"{c.fact.parameter}, which peft's target_modules cannot adapt",
                                hint="peft's target_parameters adapts such parameters (not counted here); "
                                     "the linear modules are: " + ", ".join(linear_names))
        if found:
            out += [c for c in found if c.key not in seen]
            seen.update(c.key for c in found)
            continue
        if target in others:
            node = others[target]
            what = "a block" if node.children else f"a {node.spec.name if node.spec is not None else node.type}"
            raise ArgumentError(f"--lora-targets {target}: {target} is {what}, not a linear layer",
                                hint="LoRA adapts linear layers here; name them: " + ", ".join(linear_names))
        inside = ""
        if unstated:
            names = ", ".join(dict.fromkeys(_describe(n) for n in unstated))
            verb = "computes" if len(set(unstated)) == 1 else "compute"
            inside = (f"; {names} {verb} linear projections inside one catalog layer that does not state them, "
                      f"so a layer inside cannot be adapted by name")
        raise ArgumentError(f"--lora-targets {target} names no layer of model {model.name}{inside}",
                            hint="the linear layers there are: " + (", ".join(linear_names) or "none"))
    return out


def lora_params(model, rank, targets):
    """r*(in + out) for every adapted linear layer, times how often its weights exist."""
    return sp.expand(sp.Add(*[c.times * rank * (c.in_features + c.out_features) for c in adapted(model, targets)]))


def adapter_tensors(model, targets):
    """How many parameter tensors the adapters are (A and B per adapted layer)."""
    return sp.expand(sp.Add(*[2 * c.times for c in adapted(model, targets)]))


def _need_rank(o):
    if o.lora_rank is None:
        raise ArgumentError("lora_params needs the adapters' rank", hint="give --lora-rank R (e.g. 16)")


@quantity("lora_params", "parameters", "LoRA adapters' parameters: r*(in + out) per linear layer --lora-targets "
                                       "names (peft's target_modules), at --lora-rank r",
          options=("lora_rank", "lora_targets"), whole_model=True, per_example=False)
def _lora_params(source, model, o, batch):
    _need_rank(o)
    return lora_params(model, o.lora_rank, o.lora_targets)


# ---------------------------------------------------------------- the frozen base

def _output_layers(model) -> set:
    outputs = {id(t) for t in model.outputs}
    return {n for n, _ in _leaves(model) if id(n.output) in outputs}


def base_weights(model, weights_dtype: str, other_dtype: str, group_size=None) -> list:
    """(part, bytes) of the frozen base: at a byte-sized --weights-dtype every weight at it; at a
    4-bit one (nf4, int4) the linear layers' kernels packed per tensor (and NF4's absmax per block),
    every other weight at `other_dtype` (the output layer, biases, embeddings, norms)."""
    bits = units.dtype_bits(weights_dtype)
    params = accounting.parameters_per_device(model)
    if bits >= 8:
        return [("frozen weights", units.storage_bytes(params, weights_dtype))]
    if group_size is not None and weights_dtype != "nf4":
        raise ArgumentError(f"--group-size: {weights_dtype} weights are counted as plain packed numbers, without "
                            "per-group scales", hint="--group-size sets NF4's block size (bitsandbytes' blocksize)")
    block = group_size or NF4_BLOCK
    skipped = _output_layers(model)
    packed, absmax, rest = sp.Integer(0), sp.Integer(0), sp.Integer(0)
    def quantize(kernel, bias, times):
        nonlocal packed, absmax, rest
        packed += times * units.storage_bytes(kernel, weights_dtype)
        if weights_dtype == "nf4":
            absmax += times * sp.ceiling(kernel / block) * units.dtype_bytes("float32")
        rest += times * bias

    for node, times in _leaves(model):
        params = sp.sympify(node.params)
        if _unstated(node):
            raise ArgumentError(f"--weights-dtype {weights_dtype}: layer {_describe(node)} computes linear "
                                "products inside one catalog layer that does not state them, so the tensors "
                                "bitsandbytes quantizes there (each packed and blocked on its own) are not known",
                                hint="write its linear layers as dense rows, or count a byte-sized --weights-dtype")
        if _composite(node):
            kept = [f for f in node.out.linears if f.parameter is not None]
            if kept:
                raise ArgumentError(f"--weights-dtype {weights_dtype}: layer {_describe(node)} keeps "
                                    f"{', '.join(f.name for f in kept)} as parameters ({kept[-1].parameter}), "
                                    "which transformers' bitsandbytes integration does not convert as linear "
                                    "layers; symparams has not checked what it does with them",
                                    hint="count a byte-sized --weights-dtype")
            for fact in node.out.linears:
                target = Target(node, times, fact)
                quantize(target.kernel, target.bias, target.times)
            rest += times * (params - sp.Add(*[f.params for f in node.out.linears]))
        elif _is_linear(node) and node not in skipped and node.tied is None:
            _, _, kernel, bias = linear_sizes(node)
            quantize(kernel, bias, times)
        else:
            rest += times * params
    parts = [(f"frozen weights at {weights_dtype}", packed)]
    if weights_dtype == "nf4":
        parts.append((f"absmax (float32 per {block})", absmax))
    parts.append((f"frozen weights at {other_dtype}", units.dtype_bytes(other_dtype) * rest))
    return parts


def lora_memory(model, o, batch, keeping) -> Figure:
    """training_memory with --lora-rank: the frozen base, the adapters (at the precision's master dtype
    where it has one, as peft keeps them, else its weights'), their gradients at the same dtype, the
    optimizer's states (and torch's float32 `step` per adapter tensor for Adam)."""
    if o.tp != 1 or o.pp != 1:
        raise ArgumentError("training_memory with --lora-rank counts one data-parallel device: --tp and --pp are "
                            "not modelled for LoRA")
    policy = units.precision(o.precision)
    dp = accounting.devices(o.dp, "data-parallel")
    numbers, state_dtype = accounting._STATES[o.optimizer]
    adapters = lora_params(model, o.lora_rank, o.lora_targets)
    parts = base_weights(model, o.weights_dtype or policy.weights, policy.weights, o.group_size)
    if o.zero >= 3:
        parts = [(name, b / dp) for name, b in parts]
    # peft keeps the adapters at float32 under a 16-bit base (get_peft_model's autocast_adapter_dtype),
    # so mixed precision's master copy is the adapters themselves; a gradient has its parameter's dtype
    adapter_dtype = policy.master_weights or policy.weights
    weights = units.dtype_bytes(adapter_dtype) * adapters
    grads = units.dtype_bytes(adapter_dtype) * adapters
    states = numbers * units.dtype_bytes(state_dtype or policy.optimizer_states) * adapters
    if o.optimizer in ("adam", "adamw"):   # torch.optim.Adam(W) keeps `step`, a float32 scalar per tensor
        states += 4 * adapter_tensors(model, o.lora_targets)
    if o.zero >= 1:
        states = states / dp
    if o.zero >= 2:
        grads = grads / dp
    if o.zero >= 3:
        weights = weights / dp
    parts += [(f"adapters at {adapter_dtype}", weights), ("adapter gradients", grads), ("optimizer states", states)]
    if o.with_activations:
        parts.append(("activations", accounting.activations(model, accounting.Keeping(
            keeping.rule, keeping.attention, keeping.recompute, policy.activations, 1, keeping.sequence_parallel),
            batch)))
    parts = [(name, sp.expand(b)) for name, b in parts]
    return Figure(sp.Add(*[b for _, b in parts]), parts, dtype=f"{o.precision} precision")
