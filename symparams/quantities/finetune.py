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

Quantized base weights (--weights-dtype nf4 / int8 / fp8 / int4; inference_memory's weights too):
what transformers' quantizers convert -- every linear layer but the model's output layer
(get_keys_to_not_convert keeps lm_head), the rows' and those a composite layer states, their biases
unconverted -- stored per tensor as the library does (quantized_tensor: bitsandbytes' NF4 with its
absmax per --group-size block, code and, with --double-quant, the nested state; LLM.int8's SCB;
FineGrainedFP8's weight_scale_inv), so a composite layer's q, k, v and o projections are rounded up
to whole blocks each. int4 is counted as plain packed 4-bit numbers.
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


# How the libraries store a quantized linear layer's kernel (in x out numbers), per tensor, checked
# against the libraries' own tensors in tests/test_quantized.py:
#
# * nf4 -- bitsandbytes' Linear4bit (transformers' BitsAndBytesConfig(load_in_4bit=True,
#   bnb_4bit_quant_type="nf4")): Params4bit packs the n numbers two a byte (ceil(n/2) uint8); its
#   quant_state keeps a float32 absmax per block of `blocksize` numbers of the flattened tensor (64 by
#   default; 32 to 4096, a power of two), and the NF4 code (16 float32) of its own. With double
#   quantization (bnb_4bit_use_double_quant) the absmax is quantized too: one uint8 a block, their
#   float32 mean (offset), a float32 absmax per 256 of them (state2.absmax) and a 256-number float32
#   code (state2.code).
# * int8 -- LLM.int8 (Linear8bitLt, has_fp16_weights=False; load_in_8bit): the kernel as int8 (n
#   bytes) and its float32 scale per output row (SCB).
# * float8_e4m3fn -- transformers' FineGrainedFP8 (FP8Linear): the kernel as float8 (n bytes) and a
#   float32 weight_scale_inv per block of 128 x 128 (weight_block_size; --group-size b: b x b).
# * int4 and any other dtype below 16 bits: plain packed numbers, no scales (no library's format).
#
# Which layers: as transformers' quantizers decide (get_keys_to_not_convert): every linear layer but
# the model's output layer (lm_head, the last module) and tied ones; the biases, embeddings and norms
# stay at the unquantized dtype.
BNB_BLOCKSIZES = tuple(2 ** k for k in range(5, 13))     # bitsandbytes: "invalid blocksize" otherwise
NESTED_BLOCK = 256                                       # double quantization's blocks of absmax
FP8_BLOCK = 128                                          # FineGrainedFP8Config.weight_block_size (128, 128)


def _check_format(weights_dtype: str, group_size, double_quant: bool):
    if group_size is not None:
        if weights_dtype == "nf4" and group_size not in BNB_BLOCKSIZES:
            raise ArgumentError(f"--group-size {group_size}: bitsandbytes' 4-bit blocksize is a power of two from "
                                "32 to 4096", hint="64 is its default")
        if weights_dtype not in ("nf4", "float8_e4m3fn"):
            what = ("LLM.int8 keeps one scale per output row (SCB), not per group" if weights_dtype == "int8"
                    else f"{weights_dtype} weights are not quantized" if units.dtype_bits(weights_dtype) >= 16
                    else f"{weights_dtype} weights are counted as plain packed numbers, without scales")
            raise ArgumentError(f"--group-size: {what}",
                                hint="--group-size sets NF4's block size (bitsandbytes' blocksize) and FP8's "
                                     "block edge (weight_block_size)")
    if double_quant and weights_dtype != "nf4":
        raise ArgumentError("--double-quant quantizes NF4's absmax (bitsandbytes' bnb_4bit_use_double_quant)",
                            hint="give --weights-dtype nf4")


def quantized_tensor(weights_dtype: str, in_features, out_features, group_size=None, double_quant=False) -> dict:
    """Bytes one quantized kernel of in x out numbers takes as its library stores it, by part."""
    n = in_features * out_features
    f32 = units.dtype_bytes("float32")
    if weights_dtype == "nf4":
        block = group_size or NF4_BLOCK
        blocks = sp.ceiling(n / block)
        out = {"packed": units.storage_bytes(n, "nf4"), "code": 16 * f32}
        if double_quant:
            out["absmax"] = blocks * units.dtype_bytes("uint8")
            out["double"] = f32 + sp.ceiling(blocks / NESTED_BLOCK) * f32 + 256 * f32
        else:
            out["absmax"] = blocks * f32
        return out
    if weights_dtype == "int8":
        return {"packed": n * units.dtype_bytes("int8"), "scales": out_features * f32}
    if weights_dtype == "float8_e4m3fn":
        b = group_size or FP8_BLOCK
        return {"packed": n * units.dtype_bytes(weights_dtype),
                "scales": sp.ceiling(out_features / b) * sp.ceiling(in_features / b) * f32}
    return {"packed": units.storage_bytes(n, weights_dtype)}


def _part_names(label, weights_dtype, group_size, double_quant) -> dict:
    if weights_dtype == "nf4":
        block = group_size or NF4_BLOCK
        return {"packed": f"{label} at nf4",
                "absmax": f"absmax (uint8 per {block})" if double_quant else f"absmax (float32 per {block})",
                "double": f"double quantization (float32 offset, absmax per {NESTED_BLOCK} blocks, 256-number "
                          "code, per tensor)",
                "code": "NF4 code (16 float32 per tensor)"}
    if weights_dtype == "int8":
        return {"packed": f"{label} at int8", "scales": "SCB (float32 per output row)"}
    if weights_dtype == "float8_e4m3fn":
        b = group_size or FP8_BLOCK
        return {"packed": f"{label} at {weights_dtype}", "scales": f"weight_scale_inv (float32 per {b}x{b} block)"}
    return {"packed": f"{label} at {weights_dtype}"}


def base_weights(model, weights_dtype: str, other_dtype: str, group_size=None, double_quant=False,
                 label="frozen weights") -> list:
    """(part, bytes) of the base weights: at a dtype of 16 bits or more every weight at it; below, the
    linear layers transformers' quantizers convert stored as their library does (quantized_tensor,
    per tensor), every other weight at `other_dtype` (the output layer, biases, embeddings, norms)."""
    _check_format(weights_dtype, group_size, double_quant)
    if units.dtype_bits(weights_dtype) >= 16:
        return [(label, units.storage_bytes(accounting.parameters_per_device(model), weights_dtype))]
    names = _part_names(label, weights_dtype, group_size, double_quant)
    sums = {key: sp.Integer(0) for key in names}
    skipped = _output_layers(model)
    rest = sp.Integer(0)

    def quantize(in_features, out_features, bias, times):
        nonlocal rest
        for key, b in quantized_tensor(weights_dtype, in_features, out_features, group_size, double_quant).items():
            sums[key] += times * b
        rest += times * bias

    for node, times in _leaves(model):
        params = sp.sympify(node.params)
        if _unstated(node):
            raise ArgumentError(f"--weights-dtype {weights_dtype}: layer {_describe(node)} computes linear "
                                "products inside one catalog layer that does not state them, so the tensors "
                                "the library quantizes there (each stored on its own) are not known",
                                hint="write its linear layers as dense rows, or count a 16-bit --weights-dtype")
        if _composite(node):
            kept = [f for f in node.out.linears if f.parameter is not None]
            if kept:
                raise ArgumentError(f"--weights-dtype {weights_dtype}: layer {_describe(node)} keeps "
                                    f"{', '.join(f.name for f in kept)} as parameters ({kept[-1].parameter}), "
                                    "which transformers' quantizers do not convert as linear layers; "
                                    "symparams has not checked what they do with them",
                                    hint="count a 16-bit --weights-dtype")
            for fact in node.out.linears:
                target = Target(node, times, fact)
                quantize(target.in_features, target.out_features, target.bias, target.times)
            rest += times * (params - sp.Add(*[f.params for f in node.out.linears]))
        elif _is_linear(node) and node not in skipped and node.tied is None:
            n_in, n_out, _, bias = linear_sizes(node)
            quantize(n_in, n_out, bias, times)
        else:
            rest += times * params
    order = ("packed", "absmax", "scales", "code", "double")
    parts = [(names[key], sums[key]) for key in order if key in names and (key != "double" or double_quant)]
    parts.append((f"{label} at {other_dtype}", units.dtype_bytes(other_dtype) * rest))
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
    parts = base_weights(model, o.weights_dtype or policy.weights, policy.weights, o.group_size, o.double_quant)
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
    if o.optimizer == "adam8bit":           # bitsandbytes: per tensor, A (r x in) and B (out x r); its step an int
        tensors = [(o.lora_rank * n, c.times) for c in adapted(model, o.lora_targets)
                   for n in (c.in_features, c.out_features)]
        states = accounting.adam8bit_states(tensors)
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
