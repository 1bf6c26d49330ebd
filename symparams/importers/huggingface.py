"""A Hugging Face config.json as a symparams program.

One template per family writes the network as `transformers` builds it from the config: a block
for the repeated layer, the config's own field names as symbols (their values as defaults), the
head the config's `architectures` names. Where the catalog has no layer that counts as the
family's module does (Qwen2's biases on q, k, v but not o; Qwen3's per-head norms), the program
declares one, so the reader sees every weight. A field the template cannot express is an error
naming it: a program that counted differently from the real model would be worse than none.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path

from ..errors import SymparamsError

# HF's activation names (transformers.activations.ACT2FN) -> the catalog's. None has weights, so
# the variant (tanh approximation or not) changes no count; an unknown name is refused all the same,
# since transformers would refuse it too.
ACTIVATIONS = {
    "silu": "silu", "swish": "silu", "gelu": "gelu", "gelu_new": "gelu", "gelu_fast": "gelu",
    "gelu_pytorch_tanh": "gelu", "gelu_python": "gelu", "gelu_accurate": "gelu", "quick_gelu": "gelu",
    "relu": "relu", "relu6": "relu6", "tanh": "tanh", "sigmoid": "sigmoid", "mish": "mish",
}


class ImportProblem(SymparamsError):
    kind = "import error"


# ------------------------------------------------------------------------------ reading the config

def read_config(path) -> tuple[dict, str]:
    """The config of a config.json, or of a folder holding one, and the file's path."""
    p = Path(path)
    if p.is_dir():
        p = p / "config.json"
    try:
        text = p.read_text()
    except OSError as e:
        raise ImportProblem(f"cannot read the config: {e.strerror}").attach(None, str(p)) from None
    try:
        config = json.loads(text)
    except json.JSONDecodeError as e:
        raise ImportProblem(f"not valid JSON: {e.msg} (line {e.lineno}, column {e.colno})").attach(None, str(p)) \
            from None
    if not isinstance(config, dict):
        raise ImportProblem("a config.json holds one JSON object").attach(None, str(p))
    return config, str(p)


def is_config_path(path) -> bool:
    p = Path(path)
    return p.suffix == ".json" or (p.is_dir() and (p / "config.json").is_file())


class Fields:
    """The config's values, the family's defaults (transformers' own) for the fields it leaves out,
    and the symbols the program declares, in the order the template asks for them. A field may be
    spelled as transformers' attribute_map allows (gpt2's hidden_size is n_embd): the symbol is
    named as the config spells it."""

    def __init__(self, config: dict, defaults: dict, family: str):
        self.config, self.defaults, self.family = config, defaults, family
        self.symbols: dict[str, int] = {}

    def spelled(self, name) -> str:
        for spelling in (name, *ALIASES.get(self.family, {}).get(name, ())):
            if spelling in self.config:
                return spelling
        return name

    def get(self, name):
        spelling = self.spelled(name)
        return self.config[spelling] if spelling in self.config else self.defaults.get(name)

    def number(self, name, value=None) -> int:
        value = self.get(name) if value is None else value
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ImportProblem(f"{self.family}: the config field '{name}' must be a positive whole number, "
                                f"found {json.dumps(value)}")
        return value

    def sym(self, name, value=None) -> str:
        """`name` as a symbol of the program, defaulting to the config's value."""
        spelling = self.spelled(name)
        self.symbols[spelling] = self.number(spelling, value)
        return spelling

    def flag(self, name) -> bool:
        value = self.get(name)
        if not isinstance(value, bool):
            raise ImportProblem(f"{self.family}: the config field '{name}' must be true or false, "
                                f"found {json.dumps(value)}")
        return value

    def activation(self, name) -> str:
        value = self.get(name)
        if value not in ACTIVATIONS:
            raise ImportProblem(f"{self.family}: the activation {name}={json.dumps(value)} is not supported",
                                hint="supported: " + ", ".join(sorted(ACTIVATIONS)))
        return ACTIVATIONS[value]


# ------------------------------------------------------------------------------ declared layers

# Every declared layer the templates may use; a program carries only those it calls.
DECLARED = {
    "rotary_tables": """\
# The rotary angles, computed once per model for every layer's attention: inv_freq and
# original_inv_freq, rotary_dim / 2 numbers each (buffers; no weights).
layer rotary_tables(rotary_dim)(x: (*, t, n)) -> (*, t, n):
    where rotary_dim % 2 == 0
    buffers = rotary_dim
""",
    "sincos_table": """\
# GPT-J's rotary angles: a sine and cosine table of positions x rotary_dim (a buffer; no weights).
layer sincos_table(positions, rotary_dim)(x: (*, t, n)) -> (*, t, n):
    where t <= positions
    buffers = positions * rotary_dim
""",
    "id_buffers": """\
# BERT-style embeddings keep position ids (and default token type ids) as buffers, one table
# of max_position_embeddings numbers each; no weights.
layer id_buffers(positions, tables)(x: (*, t, n)) -> (*, t, n):
    buffers = positions * tables
""",
    "untied_bias": """\
# Untied, the output layer has a bias of its own, and transformers still keeps the head's
# separate bias vector (one number per output) as a parameter, which its forward pass skips.
layer untied_bias()(x: (*rows, n)) -> (*rows, n):
    params = n
""",
    "relative_position_bias": """\
# T5's relative position table: one learned number per distance bucket and head, kept by the
# first layer of a stack and used by all of its layers.
layer relative_position_bias(buckets, heads)(x: (*, t, n)) -> (*, t, n):
    params = buckets * heads
""",
    "unread_table": """\
# An embedding table of rows vectors as wide as x that the forward pass never reads (BART's
# `shared` when the embeddings are untied): its weights count, nothing else.
layer unread_table(rows)(x: (*, t, n)) -> (*, t, n):
    params = rows * n
""",
    "latent_norm": """\
# DeepSeek's kv_a_layernorm: RMSNorm over the kv_lora_rank latent features of the joint
# projection; the rotary key's features beside them go around it, to the attention.
layer latent_norm(kv_lora_rank)(x: (*rows, n)) -> (*rows, kv_lora_rank):
    where kv_lora_rank < n
    params = kv_lora_rank
    macs = rows * kv_lora_rank
""",
    "latent_attention_product": """\
# Multi-head latent attention's product: per head, queries and keys of qk_head_dim features
# (the rotary part shared by all heads), values of v_head_dim; no weights.
layer latent_attention_product(heads, qk_head_dim, v_head_dim)(q: (*, t, a), kv: (*, s, b)) -> (*, t, heads * v_head_dim):
    where a == heads * qk_head_dim
    macs = heads * t * s * (qk_head_dim + v_head_dim)
""",
    "router_correction": """\
# DeepSeek-V3's router adds a learned-offline correction per expert to its scores: a buffer.
layer router_correction(experts)(x: (*, t, n)) -> (*, t, n):
    buffers = experts
""",
    "final_logits_bias": """\
# BART adds a fixed bias to the logits, one number per token, kept as a buffer.
layer final_logits_bias()(x: (*rows, n)) -> (*rows, n):
    buffers = n
""",
    "embed_scale": """\
# Gemma multiplies the embeddings by sqrt(hidden_size), kept as a one-number buffer.
layer embed_scale()(x: (*, t, n)) -> (*, t, n):
    buffers = 1
""",
    "attention_product": """\
# softmax(q k^T / sqrt(head_dim)) v for each of the heads, kv_heads key/value heads shared by
# groups of query heads: no weights, the projections around it hold them.
layer attention_product(heads, kv_heads, head_dim)(q: (*, t, a), k: (*, s, b), v: (*, s, b)) -> (*, t, a):
    where a == heads * head_dim, b == kv_heads * head_dim
    macs = heads * t * s * 2 * head_dim
""",
    "per_head_rmsnorm": """\
# RMSNorm over each head's head_dim features, one scale of head_dim shared by every head.
layer per_head_rmsnorm(head_dim)(x: (*rows, n)) -> (*rows, n):
    where n % head_dim == 0
    params = head_dim
    macs = rows * n
""",
    "per_head_layernorm": """\
# LayerNorm over each head's head_dim features, one scale and one shift of head_dim shared by every head.
layer per_head_layernorm(head_dim)(x: (*rows, n)) -> (*rows, n):
    where n % head_dim == 0
    params = 2 * head_dim
    macs = rows * n
""",
    "shared_expert_gate": """\
# Scales the shared expert's output by sigmoid(x w), w one weight per feature of x.
layer shared_expert_gate()(y: (*rows, n), x: (*rows, n)) -> (*rows, n):
    params = n
    macs = rows * n
""",
}


@dataclass
class Program:
    """The text being written: declared layers used, blocks, the model."""
    fields: Fields
    layers: list = field(default_factory=list)
    blocks: list = field(default_factory=list)
    conditions: list = field(default_factory=list)

    def declare(self, name: str) -> str:
        if name not in self.layers:
            self.layers.append(name)
        return name

    def where(self, condition: str):
        if condition not in self.conditions:
            self.conditions.append(condition)


def _block(name, params, lines) -> str:
    return f"block {name}({', '.join(params)})(x):\n" + "".join(f"    {line}\n" for line in lines)


# ------------------------------------------------------------------------------ decoder pieces

@dataclass
class Attention:
    heads: str                  # symbol of the query heads
    kv_heads: str | None        # symbol of the key/value heads; None: as many as the query heads
    head_dim: str               # a symbol, or hidden_size / heads
    bias: str = "none"          # "none", "all", "qkv" (biases on q, k, v, not on the output), "out" (the reverse)
    qk_norm: str | None = None  # None, "head" (RMSNorm per head), "head_layernorm", "full" (RMSNorm over all heads)
    out_name: str = "o_proj"


def _head_dim(p: Program, hidden: str, heads: str) -> str:
    """head_dim: the config's when it is not hidden_size / heads, else that quotient."""
    f = p.fields
    given = f.get("head_dim")
    if given is not None and f.number("head_dim") * f.symbols[heads] != f.symbols[hidden]:
        return f.sym("head_dim")
    if f.symbols[hidden] % f.symbols[heads]:
        raise ImportProblem(f"{f.family}: {hidden}={f.symbols[hidden]} is not a multiple of "
                            f"{heads}={f.symbols[heads]} (transformers refuses it too)",
                            hint=f"sizes where {heads} divides {hidden}" +
                                 (", or an explicit head_dim" if f.family not in ("gpt2", "gpt_neox") else ""))
    p.where(f"{hidden} % {heads} == 0")
    return f"{hidden} / {heads}"


def _attention_call(p: Program, att: Attention, hidden: str, name: str, x: str = "h") -> tuple[str, list, list]:
    """The attention applied to h, and the block arguments it needs: a catalog layer where one
    counts as the family's module does, else a block of projections around attention_product."""
    if att.kv_heads not in (None, "1"):
        p.where(f"{att.heads} % {att.kv_heads} == 0")
    if att.qk_norm is None and att.bias in ("none", "all"):
        bias = "true" if att.bias == "all" else "false"
        if att.kv_heads is None:
            return (f"multihead_attention(num_heads, head_dim, use_bias={bias}, name={name})({x}, {x})",
                    ["num_heads", "head_dim"], [att.heads, att.head_dim])
        return (f"grouped_query_attention(head_dim, num_heads, num_kv_heads, use_bias={bias}, name={name})({x}, {x})",
                ["num_heads", "num_kv_heads", "head_dim"], [att.heads, att.kv_heads, att.head_dim])
    p.declare("attention_product")
    qkv, out = {"qkv": ("true", "false"), "out": ("false", "true"), "all": ("true", "true"),
                "none": ("false", "false")}[att.bias]
    lines = [f"q = dense(num_heads * head_dim, use_bias={qkv}, name=q_proj)(x)",
             f"k = dense(num_kv_heads * head_dim, use_bias={qkv}, name=k_proj)(x)",
             f"v = dense(num_kv_heads * head_dim, use_bias={qkv}, name=v_proj)(x)"]
    if att.qk_norm == "head":
        p.declare("per_head_rmsnorm")
        lines += ["q = per_head_rmsnorm(head_dim, name=q_norm)(q)", "k = per_head_rmsnorm(head_dim, name=k_norm)(k)"]
    elif att.qk_norm == "head_layernorm":
        p.declare("per_head_layernorm")
        lines += ["q = per_head_layernorm(head_dim, name=q_layernorm)(q)",
                  "k = per_head_layernorm(head_dim, name=k_layernorm)(k)"]
    elif att.qk_norm == "full":
        lines += ["q = rmsnorm(name=q_norm)(q)", "k = rmsnorm(name=k_norm)(k)"]
    lines += ["a = attention_product(num_heads, num_kv_heads, head_dim)(q, k, v)",
              f"return dense(hidden_size, use_bias={out}, name={att.out_name})(a)"]
    p.blocks.append(_block("self_attention", ["hidden_size", "num_heads", "num_kv_heads", "head_dim"], lines))
    kv = att.kv_heads or att.heads
    return (f"self_attention(hidden_size, num_heads, num_kv_heads, head_dim, name={name})({x})",
            ["hidden_size", "num_heads", "num_kv_heads", "head_dim"], [hidden, att.heads, kv, att.head_dim])


@dataclass
class Mlp:
    kind: str                     # "gated", "plain", "moe"
    hidden: str                   # intermediate size (an expert's, for moe)
    activation: str = "silu"
    bias: bool = False
    names: tuple = ("mlp",)       # plain: (up, down) names
    experts: str | None = None
    top_k: str | None = None
    shared: str | None = None     # qwen2_moe: the shared expert's intermediate size


def _mlp_lines(p: Program, mlp: Mlp, hidden: str, x: str = "h") -> tuple[list, list, list]:
    """Lines computing m from x (h, the normed input, by default), and the block arguments they need."""
    bias = "true" if mlp.bias else "false"
    if mlp.kind == "gated":
        act = "" if mlp.activation == "silu" else f", activation={mlp.activation}"
        return ([f"m = gated_mlp(intermediate_size, use_bias={bias}{act}, name={mlp.names[0]})({x})"],
                ["intermediate_size"], [mlp.hidden])
    if mlp.kind == "plain":
        up, down = mlp.names
        return ([f"m = dense(intermediate_size, use_bias={bias}, activation={mlp.activation}, name={up})({x})",
                 f"m = dense(hidden_size, use_bias={bias}, name={down})(m)"],
                ["hidden_size", "intermediate_size"], [hidden, mlp.hidden])
    lines = [f"m = moe(num_experts, intermediate_size, top_k=top_k, name={mlp.names[0]})({x})"]
    params, args = ["num_experts", "intermediate_size", "top_k"], [mlp.experts, mlp.hidden, mlp.top_k]
    if mlp.shared:
        p.declare("shared_expert_gate")
        lines += [f"s = gated_mlp(shared_intermediate_size, name=shared_expert)({x})",
                  f"m = m + shared_expert_gate(name=shared_expert_gate)(s, {x})"]
        params.append("shared_intermediate_size")
        args.append(mlp.shared)
    return lines, params, args


@dataclass
class Decoder:
    """A decoder-only transformer as the Llama-like families build it."""
    vocab: str
    hidden: str
    layers: str
    attention: Attention
    mlp: Mlp
    norm: str = "rmsnorm"                  # the call, without its name
    # "pre"; "parallel" (attention and MLP read the input, each through its norm: GPT-NeoX);
    # "shared" (both read it through one norm: GPT-J, Phi, Falcon-7B); "sandwich" (a norm before
    # and after each sub-layer: Gemma 2); "post" (norms on the sub-layers' outputs: OLMo 2);
    # "residual" (norms after each residual sum: OPT-350M)
    placement: str = "pre"
    embed: str = "embed_tokens"
    embed_width: str | None = None         # the embedding's width where it is not hidden (OPT's projection)
    embed_norm: str | None = None          # a norm on the embeddings (BLOOM)
    positions: tuple | None = None         # a learned position table: (its size, its name)
    rotary_dim: str | None = None          # an expression: rotary buffers' size, or None (no rotary)
    sincos_positions: str | None = None    # GPT-J's table of positions x rotary_dim (a buffer)
    scaled_embedding: bool = False         # gemma
    final_norm: str | None = "norm"
    block: str = "decoder_layer"
    head: str = "lm_head"
    head_bias: bool = False
    names: dict = field(default_factory=lambda: {"attn": "self_attn", "norm1": "input_layernorm",
                                                  "norm2": "post_attention_layernorm"})

    def norm_call(self, name):
        return f"{self.norm}(name={name})" if "(" not in self.norm else self.norm.replace(")", f", name={name})")


def _layer_block(p: Program, d: Decoder) -> tuple[str, list]:
    """The repeated layer as a block, and the arguments to call it with."""
    source = "x" if d.placement in ("post", "residual") else "h"   # the sub-layers read x itself: no norm before
    att_call, att_params, att_args = _attention_call(p, d.attention, d.hidden, d.names["attn"], source)
    mlp_lines, mlp_params, mlp_args = _mlp_lines(p, d.mlp, d.hidden, source)
    params, args = [], []
    for name, arg in zip(att_params + mlp_params, att_args + mlp_args):
        if name not in params:
            params.append(name)
            args.append(arg)
    norm = d.norm_call
    n1, n2 = d.names["norm1"], d.names["norm2"]
    if d.placement == "pre":
        lines = [f"h = {norm(n1)}(x)", f"x = x + {att_call}", f"h = {norm(n2)}(x)", *mlp_lines, "return x + m"]
    elif d.placement == "parallel":
        lines = [f"h = {norm(n1)}(x)", f"a = {att_call}", f"h = {norm(n2)}(x)", *mlp_lines, "return x + a + m"]
    elif d.placement == "shared":
        lines = [f"h = {norm(n1)}(x)", f"a = {att_call}", *mlp_lines, "return x + a + m"]
    elif d.placement == "sandwich":
        lines = [f"h = {norm('input_layernorm')}(x)", f"x = x + {norm('post_attention_layernorm')}({att_call})",
                 f"h = {norm('pre_feedforward_layernorm')}(x)", *mlp_lines,
                 f"return x + {norm('post_feedforward_layernorm')}(m)"]
    elif d.placement == "post":
        lines = [f"x = x + {norm('post_attention_layernorm')}({att_call})", *mlp_lines,
                 f"return x + {norm('post_feedforward_layernorm')}(m)"]
    else:
        lines = [f"x = {norm(n1)}(x + {att_call})", *mlp_lines, f"return {norm(n2)}(x + m)"]
    p.blocks.append(_block(d.block, params, lines))
    return f"{d.block}({', '.join(args)})", params


def _decoder_body(p: Program, d: Decoder, head: str) -> list:
    f = p.fields
    width = d.embed_width or d.hidden
    lines = ["input_ids = input (sequence_length) int", f"{d.embed} = embedding({d.vocab}, {width})",
             f"x = {d.embed}(input_ids)"]
    if d.embed_width:
        lines.append(f"x = dense({d.hidden}, use_bias=false, name=project_in)(x)")
    if d.positions:
        size, name = d.positions
        lines.append(f"x = x + position_embedding({size}, {d.hidden}, name={name})(input_ids)")
    if d.embed_norm:
        lines.append(f"x = {d.norm_call(d.embed_norm)}(x)")
    if d.scaled_embedding:
        lines.append(f"x = {p.declare('embed_scale')}()(x)")
    if d.rotary_dim:
        lines.append(f"x = {p.declare('rotary_tables')}({d.rotary_dim}, name=rotary_emb)(x)")
    if d.sincos_positions:
        lines.append(f"x = {p.declare('sincos_table')}({d.sincos_positions}, name=rotary_emb)(x)")
    call, _ = _layer_block(p, d)
    lines.append(f"x = repeat({d.layers}, {call})(x)")
    if d.final_norm:
        lines.append(f"x = {d.norm_call(d.final_norm)}(x)")
    if d.embed_width:
        lines.append(f"x = dense({width}, use_bias=false, name=project_out)(x)")
    if head == "lm":
        tied = f", tied={d.embed}" if f.flag("tie_word_embeddings") else ""
        bias = "true" if d.head_bias else "false"
        lines.append(f"logits = dense({d.vocab}, use_bias={bias}{tied}, name={d.head})(x)")
    table = d.positions[0] if d.positions else None
    f.sym("sequence_length", f.symbols[table] if table in f.symbols else _sequence_default(f))
    return lines


def _rotary_dim(f: Fields, head_dim: str, factor_fields=("partial_rotary_factor",)) -> str:
    """The size of the rotary buffers: head_dim times the config's partial rotary factor, rounded
    down as transformers' int() does."""
    rope = f.get("rope_parameters") or {}
    factor = rope.get("partial_rotary_factor") if isinstance(rope, dict) else None
    for name in factor_fields:
        if factor is None and f.get(name) is not None:
            factor = f.get(name)
    if factor is None or factor == 1:
        return head_dim
    if isinstance(factor, bool) or not isinstance(factor, (int, float)) or not 0 < factor <= 1:
        raise ImportProblem(f"{f.family}: partial_rotary_factor must be a number in (0, 1], found {json.dumps(factor)}",
                            hint="the fraction of each head's features rotated, such as 0.25")
    q = Fraction(factor).limit_denominator(1000)
    term = head_dim if " " not in head_dim else f"({head_dim})"
    return f"{term} * {q.numerator} // {q.denominator}" if q.numerator != 1 else f"{term} // {q.denominator}"


# ------------------------------------------------------------------------------ the families

_LLAMA_LIKE = dict(vocab_size=32000, hidden_size=4096, intermediate_size=11008, num_hidden_layers=32,
                   num_attention_heads=32, num_key_value_heads=None, head_dim=None, hidden_act="silu",
                   tie_word_embeddings=False, attention_bias=False, mlp_bias=False)

DEFAULTS = {
    "llama": _LLAMA_LIKE,
    "mistral": {**_LLAMA_LIKE, "intermediate_size": 14336, "num_key_value_heads": 8},
    "mixtral": {**_LLAMA_LIKE, "intermediate_size": 14336, "num_key_value_heads": 8, "num_local_experts": 8,
                "num_experts_per_tok": 2},
    "qwen2": {**_LLAMA_LIKE, "vocab_size": 151936, "intermediate_size": 22016, "num_key_value_heads": 32},
    "qwen3": {**_LLAMA_LIKE, "vocab_size": 151936, "intermediate_size": 22016, "num_key_value_heads": 32,
              "head_dim": 128},
    "qwen2_moe": {**_LLAMA_LIKE, "vocab_size": 151936, "hidden_size": 2048, "intermediate_size": 5632,
                  "num_hidden_layers": 24, "num_attention_heads": 16, "num_key_value_heads": 16,
                  "decoder_sparse_step": 1, "moe_intermediate_size": 1408, "shared_expert_intermediate_size": 5632,
                  "num_experts_per_tok": 4, "num_experts": 60, "mlp_only_layers": None, "qkv_bias": True},
    "qwen3_moe": {**_LLAMA_LIKE, "vocab_size": 151936, "hidden_size": 2048, "intermediate_size": 6144,
                  "num_hidden_layers": 24, "num_attention_heads": 32, "num_key_value_heads": 4,
                  "decoder_sparse_step": 1, "moe_intermediate_size": 768, "num_experts_per_tok": 8,
                  "num_local_experts": 128, "mlp_only_layers": None, "head_dim": None},
    "phi3": {**_LLAMA_LIKE, "vocab_size": 32064, "hidden_size": 3072, "intermediate_size": 8192},
    "gemma": {**_LLAMA_LIKE, "vocab_size": 256000, "hidden_size": 3072, "intermediate_size": 24576,
              "num_hidden_layers": 28, "num_attention_heads": 16, "num_key_value_heads": 16, "head_dim": 256,
              "hidden_act": "gelu_pytorch_tanh", "tie_word_embeddings": True},
    "gemma2": {**_LLAMA_LIKE, "vocab_size": 256000, "hidden_size": 2304, "intermediate_size": 9216,
               "num_hidden_layers": 26, "num_attention_heads": 8, "num_key_value_heads": 4, "head_dim": 256,
               "hidden_activation": "gelu_pytorch_tanh", "tie_word_embeddings": True},
    "olmo": {**_LLAMA_LIKE, "vocab_size": 50304},
    "olmo2": {**_LLAMA_LIKE, "vocab_size": 50304},
    "starcoder2": {**_LLAMA_LIKE, "vocab_size": 49152, "hidden_size": 3072, "intermediate_size": 12288,
                   "num_hidden_layers": 30, "num_attention_heads": 24, "num_key_value_heads": 2,
                   "hidden_act": "gelu_pytorch_tanh", "use_bias": True, "tie_word_embeddings": True},
    "gpt_neox": {"vocab_size": 50432, "hidden_size": 6144, "num_hidden_layers": 44, "num_attention_heads": 64,
                 "intermediate_size": 24576, "hidden_act": "gelu", "tie_word_embeddings": False,
                 "use_parallel_residual": True, "attention_bias": True, "partial_rotary_factor": 0.25},
    "gpt2": {"vocab_size": 50257, "n_positions": 1024, "n_embd": 768, "n_layer": 12, "n_head": 12, "n_inner": None,
             "activation_function": "gelu_new", "add_cross_attention": False, "tie_word_embeddings": True},
    "phi": {**_LLAMA_LIKE, "vocab_size": 51200, "hidden_size": 2048, "intermediate_size": 8192,
            "num_hidden_layers": 24, "hidden_act": "gelu_new", "qk_layernorm": False, "partial_rotary_factor": 0.5},
    "bloom": {"vocab_size": 250880, "hidden_size": 64, "n_layer": 2, "n_head": 8, "tie_word_embeddings": True},
    "gptj": {"vocab_size": 50400, "n_positions": 2048, "n_embd": 4096, "n_layer": 28, "n_head": 16, "rotary_dim": 64,
             "n_inner": None, "activation_function": "gelu_new", "tie_word_embeddings": False},
    "opt": {"vocab_size": 50272, "hidden_size": 768, "num_hidden_layers": 12, "ffn_dim": 3072,
            "max_position_embeddings": 2048, "do_layer_norm_before": True, "_remove_final_layer_norm": False,
            "word_embed_proj_dim": None, "num_attention_heads": 12, "activation_function": "relu",
            "enable_bias": True, "layer_norm_elementwise_affine": True, "tie_word_embeddings": True},
    "bert": {"vocab_size": 30522, "hidden_size": 768, "num_hidden_layers": 12, "num_attention_heads": 12,
             "intermediate_size": 3072, "hidden_act": "gelu", "max_position_embeddings": 512, "type_vocab_size": 2,
             "tie_word_embeddings": True},
    "roberta": {"vocab_size": 50265, "hidden_size": 768, "num_hidden_layers": 12, "num_attention_heads": 12,
                "intermediate_size": 3072, "hidden_act": "gelu", "max_position_embeddings": 512,
                "type_vocab_size": 2, "tie_word_embeddings": True},
    "distilbert": {"vocab_size": 30522, "max_position_embeddings": 512, "sinusoidal_pos_embds": False, "n_layers": 6,
                   "n_heads": 12, "dim": 768, "hidden_dim": 3072, "activation": "gelu", "tie_word_embeddings": True},
    "electra": {"vocab_size": 30522, "embedding_size": 128, "hidden_size": 256, "num_hidden_layers": 12,
                "num_attention_heads": 4, "intermediate_size": 1024, "hidden_act": "gelu",
                "max_position_embeddings": 512, "type_vocab_size": 2, "tie_word_embeddings": True},
    "albert": {"vocab_size": 30000, "embedding_size": 128, "hidden_size": 4096, "num_hidden_layers": 12,
               "num_hidden_groups": 1, "num_attention_heads": 64, "intermediate_size": 16384, "inner_group_num": 1,
               "hidden_act": "gelu_new", "max_position_embeddings": 512, "type_vocab_size": 2,
               "tie_word_embeddings": True},
    "vit": {"hidden_size": 768, "num_hidden_layers": 12, "num_attention_heads": 12, "intermediate_size": 3072,
            "hidden_act": "gelu", "qkv_bias": True, "image_size": 224, "patch_size": 16, "num_channels": 3,
            "pooler_output_size": None, "pooler_act": "tanh"},
    "deepseek_v2": {"vocab_size": 102400, "hidden_size": 4096, "intermediate_size": 11008, "num_hidden_layers": 32,
                    "num_attention_heads": 32, "hidden_act": "silu", "max_position_embeddings": 2048,
                    "tie_word_embeddings": False, "attention_bias": False, "mlp_bias": False,
                    "first_k_dense_replace": 0, "kv_lora_rank": 512, "q_lora_rank": 1536, "n_routed_experts": 64,
                    "n_shared_experts": 2, "qk_nope_head_dim": 128, "qk_rope_head_dim": 64, "v_head_dim": 128,
                    "num_experts_per_tok": None, "moe_intermediate_size": 1407},
    "deepseek_v3": {"vocab_size": 129280, "hidden_size": 7168, "intermediate_size": 18432, "moe_intermediate_size": 2048,
                    "num_hidden_layers": 61, "num_attention_heads": 128, "n_shared_experts": 1, "n_routed_experts": 256,
                    "kv_lora_rank": 512, "q_lora_rank": 1536, "qk_rope_head_dim": 64, "v_head_dim": 128,
                    "qk_nope_head_dim": 128, "num_experts_per_tok": 8, "first_k_dense_replace": 3,
                    "hidden_act": "silu", "max_position_embeddings": 4096, "tie_word_embeddings": False,
                    "attention_bias": False},
    "t5": {"vocab_size": 32128, "d_model": 512, "d_kv": 64, "d_ff": 2048, "num_layers": 6, "num_decoder_layers": None,
           "num_heads": 8, "relative_attention_num_buckets": 32, "feed_forward_proj": "relu",
           "tie_word_embeddings": True},
    "bart": {"vocab_size": 50265, "max_position_embeddings": 1024, "encoder_layers": 12, "encoder_ffn_dim": 4096,
             "encoder_attention_heads": 16, "decoder_layers": 12, "decoder_ffn_dim": 4096,
             "decoder_attention_heads": 16, "activation_function": "gelu", "d_model": 1024,
             "tie_word_embeddings": True},
    "falcon": {"vocab_size": 65024, "hidden_size": 4544, "num_hidden_layers": 32, "num_attention_heads": 71,
               "num_ln_in_parallel_attn": None, "num_kv_heads": None, "alibi": False,
               "new_decoder_architecture": False, "multi_query": True, "parallel_attn": True, "bias": False,
               "ffn_hidden_size": None, "activation": "gelu", "tie_word_embeddings": True},
}

# Other spellings transformers accepts for a field (its configs' attribute_map, and names older
# versions wrote: Qwen3-MoE's config.json files say num_experts, transformers 5 num_local_experts).
ALIASES = {
    "gpt2": {"n_embd": ("hidden_size",), "n_positions": ("max_position_embeddings",),
             "n_head": ("num_attention_heads",), "n_layer": ("num_hidden_layers",)},
    "gptj": {"n_embd": ("hidden_size",), "n_positions": ("max_position_embeddings",),
             "n_head": ("num_attention_heads",), "n_layer": ("num_hidden_layers",)},
    "bloom": {"hidden_size": ("n_embed",), "n_layer": ("num_hidden_layers",), "n_head": ("num_attention_heads",)},
    "distilbert": {"dim": ("hidden_size",), "n_heads": ("num_attention_heads",), "n_layers": ("num_hidden_layers",)},
    "t5": {"d_model": ("hidden_size",), "num_heads": ("num_attention_heads",), "num_layers": ("num_hidden_layers",),
           "d_kv": ("head_dim",)},
    "bart": {"d_model": ("hidden_size",), "encoder_attention_heads": ("num_attention_heads",),
             "encoder_layers": ("num_hidden_layers",)},
    "mixtral": {"num_local_experts": ("num_experts",)},
    "deepseek_v2": {"n_routed_experts": ("num_experts",)},
    "deepseek_v3": {"n_routed_experts": ("num_local_experts",)},
    "qwen3_moe": {"num_local_experts": ("num_experts",)},
}

# The architectures each family can import: the causal LM (its output layer tied or not) and the
# bare model; for encoders the masked LM, the bare model (with its pooler where it has one) and
# ViT's classifier.
_PREFIX = {"llama": "Llama", "mistral": "Mistral", "mixtral": "Mixtral", "qwen2": "Qwen2", "qwen3": "Qwen3",
           "qwen2_moe": "Qwen2Moe", "qwen3_moe": "Qwen3Moe", "phi3": "Phi3", "gemma": "Gemma", "gemma2": "Gemma2",
           "olmo": "Olmo", "olmo2": "Olmo2", "starcoder2": "Starcoder2", "gpt_neox": "GPTNeoX", "phi": "Phi",
           "bloom": "Bloom", "gptj": "GPTJ", "opt": "OPT", "falcon": "Falcon"}
HEADS = {family: {f"{prefix}ForCausalLM": "lm", f"{prefix}Model": "model"} for family, prefix in _PREFIX.items()}
HEADS.update({
    "gpt2": {"GPT2LMHeadModel": "lm", "GPT2Model": "model"},
    "bert": {"BertForMaskedLM": "lm", "BertModel": "model"},
    "roberta": {"RobertaForMaskedLM": "lm", "RobertaModel": "model"},
    "distilbert": {"DistilBertForMaskedLM": "lm", "DistilBertModel": "model"},
    "electra": {"ElectraForMaskedLM": "lm", "ElectraModel": "model"},
    "albert": {"AlbertForMaskedLM": "lm", "AlbertModel": "model"},
    "vit": {"ViTForImageClassification": "classifier", "ViTModel": "model"},
    "t5": {"T5ForConditionalGeneration": "lm", "T5Model": "model"},
    "deepseek_v2": {"DeepseekV2ForCausalLM": "lm", "DeepseekV2Model": "model"},
    "deepseek_v3": {"DeepseekV3ForCausalLM": "lm", "DeepseekV3Model": "model"},
    "bart": {"BartForConditionalGeneration": "lm", "BartModel": "model"},
})


def _llama_like(f: Fields, p: Program, *, bias="attention_bias", qk_norm=None, mlp="gated", kv=True,
                norm="rmsnorm", placement="pre") -> Decoder:
    vocab, hidden = f.sym("vocab_size"), f.sym("hidden_size")
    layers, heads = f.sym("num_hidden_layers"), f.sym("num_attention_heads")
    kv_heads = None
    if kv:
        given = f.get("num_key_value_heads")
        kv_heads = f.sym("num_key_value_heads", f.symbols[heads] if given is None else given)
    head_dim = _head_dim(p, hidden, heads)
    if bias in ("none", "qkv", "all"):
        bias_kind = bias
    else:
        bias_kind = "all" if f.flag(bias) else "none"
    if mlp == "gated":
        act = f.activation("hidden_activation" if f.family == "gemma2" else "hidden_act")
        mlp_spec = Mlp("gated", f.sym("intermediate_size"), act, bias=bool(f.get("mlp_bias")))
    elif mlp == "plain":
        mlp_spec = Mlp("plain", f.sym("intermediate_size"), f.activation("hidden_act"), bias=f.flag("use_bias"),
                       names=("c_fc", "c_proj"))
    else:
        mlp_spec = mlp(f)
    return Decoder(vocab, hidden, layers, Attention(heads, kv_heads, head_dim, bias_kind, qk_norm), mlp_spec,
                   norm=norm, placement=placement, rotary_dim=_rotary_dim(f, head_dim))


def _uniform_moe(f: Fields):
    """Qwen's MoE families may make some layers dense (mlp_only_layers, decoder_sparse_step); the
    template writes one repeated layer, so it takes only configs where every layer is sparse."""
    if f.get("mlp_only_layers") not in (None, []):
        raise ImportProblem(f"{f.family}: mlp_only_layers={json.dumps(f.get('mlp_only_layers'))} (dense layers "
                            "among the sparse ones) is not supported", hint="supported: mlp_only_layers=[]")
    if f.get("decoder_sparse_step") != 1:
        raise ImportProblem(f"{f.family}: decoder_sparse_step={json.dumps(f.get('decoder_sparse_step'))} is not "
                            "supported (only every layer sparse)", hint="supported: decoder_sparse_step=1")


def _mixtral_moe(f):
    return Mlp("moe", f.sym("intermediate_size"), f.activation("hidden_act"), names=("mlp",),
               experts=f.sym("num_local_experts"), top_k=f.sym("num_experts_per_tok"))


def _qwen_moe(shared):
    def make(f):
        _uniform_moe(f)
        f.activation("hidden_act")
        experts = f.sym("num_experts" if shared else "num_local_experts")
        return Mlp("moe", f.sym("moe_intermediate_size"), names=("mlp",), experts=experts,
                   top_k=f.sym("num_experts_per_tok"),
                   shared=f.sym("shared_expert_intermediate_size") if shared else None)
    return make


def _neox_mlp(f):
    return Mlp("plain", f.sym("intermediate_size"), f.activation("hidden_act"), bias=True,
               names=("dense_h_to_4h", "dense_4h_to_h"))


def _gpt_neox(f: Fields, p: Program) -> Decoder:
    d = _llama_like(f, p, kv=False, mlp=_neox_mlp, norm="layernorm",
                    placement="parallel" if f.flag("use_parallel_residual") else "pre")
    d.rotary_dim = _rotary_dim(f, d.attention.head_dim, ("partial_rotary_factor", "rotary_pct"))
    d.embed, d.final_norm, d.head, d.names["attn"] = "embed_in", "final_layer_norm", "embed_out", "attention"
    return d


def _gpt2(f: Fields, p: Program) -> Decoder:
    if f.get("add_cross_attention"):
        raise ImportProblem("gpt2: add_cross_attention=true is not supported", hint="supported: false")
    vocab, positions, hidden = f.sym("vocab_size"), f.sym("n_positions"), f.sym("n_embd")
    layers, heads = f.sym("n_layer"), f.sym("n_head")
    inner = f.sym("n_inner") if f.get("n_inner") is not None else f"4 * {hidden}"
    p.where(f"{hidden} % {heads} == 0")
    d = Decoder(vocab, hidden, layers, Attention(heads, None, f"{hidden} / {heads}", "all"),
                Mlp("plain", inner, f.activation("activation_function"), bias=True, names=("c_fc", "c_proj")),
                norm="layernorm", embed="wte", positions=(positions, "wpe"), final_norm="ln_f")
    d.names = {"attn": "attn", "norm1": "ln_1", "norm2": "ln_2"}
    return d


def _fc_mlp(f):
    return Mlp("plain", f.sym("intermediate_size"), f.activation("hidden_act"), bias=True, names=("fc1", "fc2"))


def _phi(f: Fields, p: Program) -> Decoder:
    qk_norm = "head_layernorm" if f.flag("qk_layernorm") else None
    d = _llama_like(f, p, bias="all", qk_norm=qk_norm, mlp=_fc_mlp, norm="layernorm", placement="shared")
    d.attention.out_name, d.final_norm, d.head_bias = "dense", "final_layernorm", True
    return d


def _bloom(f: Fields, p: Program) -> Decoder:
    vocab, hidden = f.sym("vocab_size"), f.sym("hidden_size")
    layers, heads = f.sym("n_layer"), f.sym("n_head")
    d = Decoder(vocab, hidden, layers, Attention(heads, None, _head_dim(p, hidden, heads), "all"),
                Mlp("plain", f"4 * {hidden}", "gelu", bias=True, names=("dense_h_to_4h", "dense_4h_to_h")),
                norm="layernorm", embed="word_embeddings", embed_norm="word_embeddings_layernorm", final_norm="ln_f")
    d.names["attn"] = "self_attention"
    return d


def _gptj(f: Fields, p: Program) -> Decoder:
    vocab, positions, hidden = f.sym("vocab_size"), f.sym("n_positions"), f.sym("n_embd")
    layers, heads = f.sym("n_layer"), f.sym("n_head")
    inner = f.sym("n_inner") if f.get("n_inner") is not None else f"4 * {hidden}"
    rotary = f.sym("rotary_dim")
    d = Decoder(vocab, hidden, layers, Attention(heads, None, _head_dim(p, hidden, heads), "none"),
                Mlp("plain", inner, f.activation("activation_function"), bias=True, names=("fc_in", "fc_out")),
                norm="layernorm", placement="shared", embed="wte", sincos_positions=f"{positions}, {rotary}",
                final_norm="ln_f", head_bias=True)
    d.names = {"attn": "attn", "norm1": "ln_1", "norm2": None}
    return d


def _opt(f: Fields, p: Program) -> Decoder:
    vocab, hidden = f.sym("vocab_size"), f.sym("hidden_size")
    layers, heads = f.sym("num_hidden_layers"), f.sym("num_attention_heads")
    head_dim = _head_dim(p, hidden, heads)
    projected = f.get("word_embed_proj_dim") not in (None, f.symbols[hidden])
    positions = f.sym("max_position_embeddings")
    bias, before = f.flag("enable_bias"), f.flag("do_layer_norm_before")
    norm = "layernorm" if f.flag("layer_norm_elementwise_affine") else "layernorm(elementwise_affine=false)"
    # OPT's learned positions start at offset 2, so its table has two rows more.
    d = Decoder(vocab, hidden, layers, Attention(heads, None, head_dim, "all" if bias else "none"),
                Mlp("plain", f.sym("ffn_dim"), f.activation("activation_function"), bias=bias, names=("fc1", "fc2")),
                norm=norm, placement="pre" if before else "residual",
                embed_width=f.sym("word_embed_proj_dim") if projected else None,
                positions=(f"{positions} + 2", "embed_positions"),
                final_norm="final_layer_norm" if before and not f.get("_remove_final_layer_norm") else None)
    d.names = {"attn": "self_attn", "norm1": "self_attn_layer_norm", "norm2": "final_layer_norm"}
    return d


def _falcon(f: Fields, p: Program) -> Decoder:
    vocab, hidden = f.sym("vocab_size"), f.sym("hidden_size")
    layers, heads = f.sym("num_hidden_layers"), f.sym("num_attention_heads")
    head_dim = _head_dim(p, hidden, heads)
    new = f.flag("new_decoder_architecture")
    if new:
        given = f.get("num_kv_heads")
        kv = f.sym("num_kv_heads", f.symbols[heads] if given is None else given)
    else:
        kv = "1" if f.flag("multi_query") else None
    ffn = f.sym("ffn_hidden_size") if f.get("ffn_hidden_size") is not None else f"4 * {hidden}"
    norms = f.get("num_ln_in_parallel_attn") or (2 if new else 1)
    if not f.flag("parallel_attn"):
        placement, names = "pre", ("input_layernorm", "post_attention_layernorm")
    elif norms == 2:
        placement, names = "parallel", ("ln_attn", "ln_mlp")
    else:
        placement, names = "shared", ("input_layernorm", None)
    bias = f.flag("bias")
    d = Decoder(vocab, hidden, layers, Attention(heads, kv, head_dim, "all" if bias else "none", out_name="dense"),
                Mlp("plain", ffn, f.activation("activation"), bias=bias, names=("dense_h_to_4h", "dense_4h_to_h")),
                norm="layernorm", placement=placement, embed="word_embeddings", final_norm="ln_f",
                rotary_dim=head_dim)    # transformers keeps the rotary buffers even with alibi
    d.names = {"attn": "self_attention", "norm1": names[0], "norm2": names[1]}
    return d


# ------------------------------------------------------------------------------ encoders

def _encoder_layer(f: Fields, p: Program, hidden, heads, inner, act, *, bias="all", placement="residual", names=None,
                   mlp_names=("intermediate", "output")) -> str:
    """The repeated encoder layer as a block (BERT's post-norm unless placement says otherwise); its call."""
    d = Decoder("", hidden, "", Attention(heads, None, _head_dim(p, hidden, heads), bias),
                Mlp("plain", inner, act, bias=True, names=mlp_names), norm="layernorm", placement=placement,
                block="encoder_layer")
    d.names = names or {"attn": "attention", "norm1": "attention_layernorm", "norm2": "output_layernorm"}
    return _layer_block(p, d)[0]


# Where each BERT-like family keeps its fields and modules: (layers, heads, hidden, intermediate, activation).
_BERT_FIELDS = {
    "distilbert": ("n_layers", "n_heads", "dim", "hidden_dim", "activation"),
}


def _bert_like(f: Fields, p: Program, head: str) -> list:
    family = f.family
    layers_f, heads_f, hidden_f, inner_f, act_f = _BERT_FIELDS.get(
        family, ("num_hidden_layers", "num_attention_heads", "hidden_size", "intermediate_size", "hidden_act"))
    vocab, hidden = f.sym("vocab_size"), f.sym(hidden_f)
    layers, heads = f.sym(layers_f), f.sym(heads_f)
    inner, act = f.sym(inner_f), f.activation(act_f)
    positions = f.sym("max_position_embeddings")
    types = f.sym("type_vocab_size") if family != "distilbert" else None
    # ELECTRA projects narrower embeddings up when they differ; ALBERT always has the projection.
    width = hidden
    if family == "albert" or (family == "electra" and f.number("embedding_size") != f.symbols[hidden]):
        width = f.sym("embedding_size")
    lines = ["input_ids = input (sequence_length) int"]
    if types:
        lines.append("token_type_ids = input (sequence_length) int")
    # DistilBERT's sinusoidal_pos_embds only fills the same (trainable) table with sines
    lines += [f"word_embeddings = embedding({vocab}, {width})",
              f"x = word_embeddings(input_ids) + position_embedding({positions}, {width}, "
              "name=position_embeddings)(input_ids)"]
    if types:
        lines[-1] += f" + embedding({types}, {width}, name=token_type_embeddings)(token_type_ids)"
    lines += ["x = layernorm(name=embeddings_layernorm)(x)",
              f"x = {p.declare('id_buffers')}({positions}, {2 if types else 1}, name=embeddings_ids)(x)"]
    if width != hidden:
        name = "embedding_hidden_mapping_in" if family == "albert" else "embeddings_project"
        lines.append(f"x = dense({hidden}, name={name})(x)")
    names = {"attn": "attention", "norm1": "sa_layer_norm", "norm2": "output_layer_norm"} \
        if family == "distilbert" else None
    mlp_names = ("lin1", "lin2") if family == "distilbert" else ("intermediate", "output")
    call = _encoder_layer(f, p, hidden, heads, inner, act, names=names, mlp_names=mlp_names)
    if family == "albert":     # ALBERT's layers share one set of weights (one layer group)
        if f.get("num_hidden_groups") != 1 or f.get("inner_group_num") != 1:
            raise ImportProblem(f"albert: num_hidden_groups={json.dumps(f.get('num_hidden_groups'))}, "
                                f"inner_group_num={json.dumps(f.get('inner_group_num'))} is not supported",
                                hint="supported: one group of one layer, shared by every layer "
                                     "(num_hidden_groups=1, inner_group_num=1)")
        lines += [f"shared_layer = {call}", f"x = repeat({layers}, shared_layer)(x)"]
    else:
        lines.append(f"x = repeat({layers}, {call})(x)")
    if head == "model" and family in ("bert", "roberta", "albert"):
        lines.append(f"pooled = dense({hidden}, activation=tanh, name=pooler)(first_token(x))")
    elif head == "lm":
        # the prediction head: a dense layer and a norm (to the embedding width for ELECTRA and
        # ALBERT), then the output layer, tied to the word embeddings, with a bias of its own
        act_lm = "gelu" if family == "electra" else act
        lines += [f"x = dense({width}, activation={act_lm}, name=transform)(x)",
                  "x = layernorm(name=transform_layernorm)(x)"]
        if f.flag("tie_word_embeddings"):
            lines.append(f"logits = dense({vocab}, tied=word_embeddings, name=decoder)(x)")
        elif family in ("bert", "roberta", "albert"):
            lines.append(f"logits = {p.declare('untied_bias')}(name=bias)(dense({vocab}, name=decoder)(x))")
        else:
            lines.append(f"logits = dense({vocab}, name=decoder)(x)")
    f.sym("sequence_length", f.symbols[positions])
    return lines


def _vit(f: Fields, p: Program, head: str) -> list:
    hidden, layers = f.sym("hidden_size"), f.sym("num_hidden_layers")
    heads, inner = f.sym("num_attention_heads"), f.sym("intermediate_size")
    image, patch, channels = f.sym("image_size"), f.sym("patch_size"), f.sym("num_channels")
    call = _encoder_layer(f, p, hidden, heads, inner, f.activation("hidden_act"),
                          bias="all" if f.flag("qkv_bias") else "out", placement="pre",
                          names={"attn": "attention", "norm1": "layernorm_before", "norm2": "layernorm_after"},
                          mlp_names=("fc1", "fc2"))
    lines = [f"pixel_values = input ({channels}, {image}, {image})",
             f"x = patch_embedding({patch}, {hidden}, name=patch_embeddings)(pixel_values)",
             "x = class_token(name=cls_token)(x)",
             f"x = x + position_embedding(({image} // {patch}) * ({image} // {patch}) + 1, {hidden}, "
             "name=position_embeddings)(x)",
             f"x = repeat({layers}, {call})(x)",
             "x = layernorm(name=layernorm)(x)"]
    if head == "classifier":
        labels = f.sym("num_labels", _num_labels(f))
        lines.append(f"logits = dense({labels}, name=classifier)(first_token(x))")
    else:
        size = f.sym("pooler_output_size") if f.get("pooler_output_size") is not None else hidden
        lines.append(f"pooled = dense({size}, activation={f.activation('pooler_act')}, name=pooler)(first_token(x))")
    return lines


def _num_labels(f: Fields) -> int:
    """The classifier's outputs: as many as id2label names, else num_labels (transformers' default 2)."""
    labels = f.config.get("id2label")
    return len(labels) if isinstance(labels, dict) and labels else f.config.get("num_labels", 2)


# ------------------------------------------------------------------------------ encoder-decoders

def _cross_lines(attention: str, mlp_lines: list, norm: str | None) -> list:
    """An encoder-decoder's decoder layer as lines of a `repeat n:` on y, so that its cross-attention
    can read the encoder's output x (a repeat carries one tensor; these lines see the model's).
    norm None: T5's RMSNorm before each sub-layer; else that norm after each residual sum (BART)."""
    if norm is None:
        return ["h = rmsnorm(y)", f"y = y + {attention}(h, h)", "h = rmsnorm(y)", f"y = y + {attention}(h, x)",
                "h = rmsnorm(y)", *mlp_lines, "y = y + m"]
    return [f"y = {norm}(y + {attention}(y, y))", f"y = {norm}(y + {attention}(y, x))", *mlp_lines,
            f"y = {norm}(y + m)"]


def _t5(f: Fields, p: Program, head: str) -> list:
    vocab, d = f.sym("vocab_size"), f.sym("d_model")
    layers, heads, d_kv, d_ff = f.sym("num_layers"), f.sym("num_heads"), f.sym("d_kv"), f.sym("d_ff")
    decoder_layers = f.sym("num_decoder_layers") if f.get("num_decoder_layers") is not None else layers
    buckets = f.sym("relative_attention_num_buckets")
    proj = f.get("feed_forward_proj")
    gated = isinstance(proj, str) and proj.startswith("gated-")
    act_name = proj[len("gated-"):] if gated else proj
    if act_name not in ACTIVATIONS:
        raise ImportProblem(f"t5: feed_forward_proj={json.dumps(proj)} is not supported",
                            hint="supported: an activation or gated-ACTIVATION, ACTIVATION one of "
                                 + ", ".join(sorted(ACTIVATIONS)))
    mlp = Mlp("gated" if gated else "plain", d_ff, ACTIVATIONS[act_name],
              names=("DenseReluDense",) if gated else ("wi", "wo"))
    layer = Decoder("", d, "", Attention(heads, None, d_kv, "none"), mlp, block="encoder_layer")
    layer.names = {"attn": "self_attention", "norm1": "attention_layer_norm", "norm2": "ff_layer_norm"}
    call, _ = _layer_block(p, layer)
    # the relative position table of each stack's first layer, which every layer of the stack uses
    p.declare("relative_position_bias")
    if gated:
        mlp_lines = [f"m = gated_mlp({d_ff}, activation={mlp.activation})(h)"]
    else:
        mlp_lines = [f"m = dense({d_ff}, use_bias=false, activation={mlp.activation})(h)",
                     f"m = dense({d}, use_bias=false)(m)"]
    attention = f"multihead_attention({heads}, {d_kv}, use_bias=false)"
    lines = ["input_ids = input (sequence_length) int", "decoder_input_ids = input (target_length) int",
             f"shared = embedding({vocab}, {d})",
             "x = shared(input_ids)",
             f"x = relative_position_bias({buckets}, {heads}, name=encoder_relative_attention_bias)(x)",
             f"x = repeat({layers}, {call})(x)",
             "x = rmsnorm(name=encoder_final_layer_norm)(x)",
             "y = shared(decoder_input_ids)",
             f"y = relative_position_bias({buckets}, {heads}, name=decoder_relative_attention_bias)(y)",
             f"repeat {decoder_layers}:",
             *[f"    {line}" for line in _cross_lines(attention, mlp_lines, None)],
             "y = rmsnorm(name=decoder_final_layer_norm)(y)"]
    if head == "lm":
        tied = ", tied=shared" if f.flag("tie_word_embeddings") else ""
        lines.append(f"logits = dense({vocab}, use_bias=false{tied}, name=lm_head)(y)")
    f.sym("sequence_length", 512)
    f.sym("target_length", 512)
    return lines


def _bart(f: Fields, p: Program, head: str) -> list:
    vocab, d, positions = f.sym("vocab_size"), f.sym("d_model"), f.sym("max_position_embeddings")
    enc_layers, enc_heads, enc_ff = f.sym("encoder_layers"), f.sym("encoder_attention_heads"), f.sym("encoder_ffn_dim")
    dec_layers, dec_heads, dec_ff = f.sym("decoder_layers"), f.sym("decoder_attention_heads"), f.sym("decoder_ffn_dim")
    act = f.activation("activation_function")
    call = _encoder_layer(f, p, d, enc_heads, enc_ff, act, mlp_names=("fc1", "fc2"),
                          names={"attn": "self_attn", "norm1": "self_attn_layer_norm", "norm2": "final_layer_norm"})
    dec_dim = _head_dim(p, d, dec_heads)
    attention = f"multihead_attention({dec_heads}, {dec_dim})"
    mlp_lines = [f"m = dense({dec_ff}, activation={act})(y)", f"m = dense({d})(m)"]
    tied = f.flag("tie_word_embeddings")
    lines = ["input_ids = input (sequence_length) int", "decoder_input_ids = input (target_length) int"]
    if tied:
        lines.append(f"shared = embedding({vocab}, {d})")
        enc, dec = "shared", "shared"
    else:      # untied, each stack has its own table, and `shared` stays as a third that none reads
        lines += [f"encoder_embed_tokens = embedding({vocab}, {d})", f"decoder_embed_tokens = embedding({vocab}, {d})"]
        enc, dec = "encoder_embed_tokens", "decoder_embed_tokens"
    # BART's learned positions start at offset 2, so each table has two rows more.
    lines.append(f"x = {enc}(input_ids) + position_embedding({positions} + 2, {d}, "
                 "name=encoder_embed_positions)(input_ids)")
    if not tied:
        lines.append(f"x = {p.declare('unread_table')}({vocab}, name=shared)(x)")
    lines += ["x = layernorm(name=encoder_layernorm_embedding)(x)",
              f"x = repeat({enc_layers}, {call})(x)",
              f"y = {dec}(decoder_input_ids) + position_embedding({positions} + 2, {d}, "
              "name=decoder_embed_positions)(decoder_input_ids)",
              "y = layernorm(name=decoder_layernorm_embedding)(y)",
              f"repeat {dec_layers}:",
              *[f"    {line}" for line in _cross_lines(attention, mlp_lines, "layernorm")]]
    if head == "lm":
        tie = ", tied=shared" if tied else ""
        lines.append(f"logits = {p.declare('final_logits_bias')}()(dense({vocab}, use_bias=false{tie}, name=lm_head)(y))")
    f.sym("sequence_length", f.symbols[positions])
    f.sym("target_length", f.symbols[positions])
    return lines


# ------------------------------------------------------------------------------ DeepSeek

def _deepseek(f: Fields, p: Program, head: str) -> list:
    """DeepSeek-V2/V3: multi-head latent attention, the first first_k_dense_replace layers dense,
    the others a mixture of routed experts beside always-active shared ones."""
    vocab, hidden = f.sym("vocab_size"), f.sym("hidden_size")
    layers, heads = f.sym("num_hidden_layers"), f.sym("num_attention_heads")
    bias = "true" if f.flag("attention_bias") else "false"
    kv_rank, nope = f.sym("kv_lora_rank"), f.sym("qk_nope_head_dim")
    rope, v_dim = f.sym("qk_rope_head_dim"), f.sym("v_head_dim")
    q_rank = f.sym("q_lora_rank") if f.get("q_lora_rank") is not None else None
    p.declare("latent_norm")
    p.declare("latent_attention_product")
    params = ["hidden_size", "num_heads"] + (["q_lora_rank"] if q_rank else []) + \
        ["kv_lora_rank", "qk_nope_head_dim", "qk_rope_head_dim", "v_head_dim"]
    if q_rank:      # queries through a low-rank bottleneck and its norm
        lines = [f"q = dense(q_lora_rank, use_bias={bias}, name=q_a_proj)(x)", "q = rmsnorm(name=q_a_layernorm)(q)",
                 "q = dense(num_heads * (qk_nope_head_dim + qk_rope_head_dim), use_bias=false, name=q_b_proj)(q)"]
    else:
        lines = ["q = dense(num_heads * (qk_nope_head_dim + qk_rope_head_dim), use_bias=false, name=q_proj)(x)"]
    lines += [f"kv = dense(kv_lora_rank + qk_rope_head_dim, use_bias={bias}, name=kv_a_proj_with_mqa)(x)",
              "kv = latent_norm(kv_lora_rank, name=kv_a_layernorm)(kv)",
              "kv = dense(num_heads * (qk_nope_head_dim + v_head_dim), use_bias=false, name=kv_b_proj)(kv)",
              "a = latent_attention_product(num_heads, qk_nope_head_dim + qk_rope_head_dim, v_head_dim)(q, kv)",
              f"return dense(hidden_size, use_bias={bias}, name=o_proj)(a)"]
    p.blocks.append(_block("latent_attention", params, lines))
    attention = f"latent_attention({', '.join(params)}, name=self_attn)(h)"
    args = [hidden, heads] + ([q_rank] if q_rank else []) + [kv_rank, nope, rope, v_dim]
    act = f.activation("hidden_act")
    gated_act = "" if act == "silu" else f", activation={act}"
    mlp_bias = "true" if f.family == "deepseek_v2" and f.flag("mlp_bias") else "false"
    head_lines = ["h = rmsnorm(name=input_layernorm)(x)", f"x = x + {attention}",
                  "h = rmsnorm(name=post_attention_layernorm)(x)"]
    dense_params, moe_params = params + ["intermediate_size"], params + ["num_experts", "moe_intermediate_size",
                                                                          "top_k", "n_shared_experts"]
    experts, moe_inter = f.sym("n_routed_experts"), f.sym("moe_intermediate_size")
    top_k, shared = f.sym("num_experts_per_tok"), f.sym("n_shared_experts")
    moe_lines = [*head_lines, "m = moe(num_experts, moe_intermediate_size, top_k=top_k, name=mlp)(h)",
                 f"s = gated_mlp(moe_intermediate_size * n_shared_experts, use_bias={mlp_bias}{gated_act}, "
                 "name=shared_experts)(h)"]
    if f.family == "deepseek_v3":   # the router's per-expert correction of its scores, a buffer
        moe_lines.append(f"s = {p.declare('router_correction')}(num_experts, name=e_score_correction_bias)(s)")
    moe_lines.append("return x + m + s")
    p.blocks.append(_block("moe_layer", moe_params, moe_lines))
    moe_call = f"moe_layer({', '.join(args + [experts, moe_inter, top_k, shared])})"
    dense_k = f.get("first_k_dense_replace")
    body = ["input_ids = input (sequence_length) int", f"embed_tokens = embedding({vocab}, {hidden})",
            "x = embed_tokens(input_ids)", f"x = {p.declare('rotary_tables')}({rope}, name=rotary_emb)(x)"]
    if dense_k:
        p.blocks.append(_block("dense_layer", dense_params, [
            *head_lines, f"return x + gated_mlp(intermediate_size, use_bias={mlp_bias}{gated_act}, name=mlp)(h)"]))
        k = f.sym("first_k_dense_replace")
        inter = f.sym("intermediate_size")
        if f.symbols[k] >= f.symbols[layers]:
            raise ImportProblem(f"{f.family}: first_k_dense_replace={f.symbols[k]} makes every layer dense",
                                hint="supported: fewer dense layers than num_hidden_layers")
        p.where(f"{k} < {layers}")
        body += [f"x = repeat({k}, dense_layer({', '.join(args + [inter])}))(x)",
                 f"x = repeat({layers} - {k}, {moe_call})(x)"]
    else:
        body.append(f"x = repeat({layers}, {moe_call})(x)")
    body.append("x = rmsnorm(name=norm)(x)")
    if head == "lm":
        tied = ", tied=embed_tokens" if f.flag("tie_word_embeddings") else ""
        body.append(f"logits = dense({vocab}, use_bias=false{tied}, name=lm_head)(x)")
    f.sym("sequence_length", _sequence_default(f))
    return body


# The families whose template writes the whole model body (the others describe a Decoder).
OWN_BODY = {"bert", "roberta", "distilbert", "electra", "albert", "vit", "t5", "bart", "deepseek_v2", "deepseek_v3"}

FAMILIES = {
    "llama": lambda f, p: _llama_like(f, p),
    "mistral": lambda f, p: _llama_like(f, p, bias="none"),
    "mixtral": lambda f, p: _llama_like(f, p, bias="none", mlp=_mixtral_moe),
    "qwen2": lambda f, p: _llama_like(f, p, bias="qkv"),
    "qwen3": lambda f, p: _llama_like(f, p, qk_norm="head"),
    "qwen2_moe": lambda f, p: _llama_like(f, p, bias="qkv" if f.flag("qkv_bias") else "none",
                                          mlp=_qwen_moe(shared=True)),
    "qwen3_moe": lambda f, p: _llama_like(f, p, qk_norm="head", mlp=_qwen_moe(shared=False)),
    "phi3": lambda f, p: _llama_like(f, p, bias="none"),
    "gemma": lambda f, p: _gemma(_llama_like(f, p)),
    "gemma2": lambda f, p: _gemma(_llama_like(f, p, placement="sandwich")),
    "olmo": lambda f, p: _llama_like(f, p, norm="layernorm(elementwise_affine=false)"),
    "olmo2": lambda f, p: _llama_like(f, p, qk_norm="full", placement="post"),
    "starcoder2": lambda f, p: _llama_like(f, p, bias="use_bias", mlp="plain", norm="layernorm"),
    "gpt_neox": _gpt_neox,
    "gpt2": _gpt2,
    "phi": _phi,
    "bloom": _bloom,
    "gptj": _gptj,
    "opt": _opt,
    "falcon": _falcon,
    **{family: _bert_like for family in ("bert", "roberta", "distilbert", "electra", "albert")},
    "vit": _vit,
    "t5": _t5,
    "bart": _bart,
    "deepseek_v2": _deepseek,
    "deepseek_v3": _deepseek,
}


def _gemma(d: Decoder) -> Decoder:
    d.scaled_embedding = True
    return d


# ------------------------------------------------------------------------------ the program

def _model_name(config: dict, family: str, source: str) -> str:
    """The model's name: the config's _name_or_path, else its folder's (unless a hub snapshot's
    hash), else the model_type."""
    folder = Path(source).parent.name
    name = config.get("_name_or_path") or (folder if not re.fullmatch(r"[0-9a-f]{40}|\.*", folder) else family)
    name = re.sub(r"[^0-9a-zA-Z_]+", "_", Path(str(name)).name).strip("_").lower() or family
    return name if not name[0].isdigit() else f"{family}_{name}"


def _head(config: dict, family: str) -> tuple[str, str]:
    """'lm', 'model' or 'classifier', and the architecture's name, from `architectures` (the
    family's first if none)."""
    kinds = HEADS[family]
    archs = config.get("architectures") or [next(iter(kinds))]
    supported = ", ".join(kinds)
    if not isinstance(archs, list) or len(archs) != 1:
        raise ImportProblem(f"{family}: architectures={json.dumps(archs)} must name one architecture",
                            hint=f"supported: {supported}")
    if archs[0] not in kinds:
        raise ImportProblem(f"{family}: the architecture {archs[0]} is not supported", hint=f"supported: {supported}")
    return kinds[archs[0]], archs[0]


def program(config: dict, source: str = "config.json") -> str:
    """The symparams program of a Hugging Face config, as text."""
    try:
        return _program(config, source)
    except SymparamsError as e:
        raise e.attach(None, source)


def _program(config: dict, source: str) -> str:
    family = config.get("model_type")
    if family not in FAMILIES:
        raise ImportProblem(f"the model_type {json.dumps(family)} is not supported",
                            hint="supported: " + ", ".join(sorted(FAMILIES)))
    head, arch = _head(config, family)
    f = Fields(config, DEFAULTS[family], family)
    p = Program(f)
    make = FAMILIES[family]
    body = make(f, p, head) if family in OWN_BODY else _decoder_body(p, make(f, p), head)
    tied = " (output layer tied to the embedding)" if head == "lm" and f.flag("tie_word_embeddings") else ""
    out = [f"# {arch}{tied}, model_type {family}, imported from {source}",
           "# by `symparams import`: counted as Hugging Face transformers builds it from this config.",
           "convention torch", ""]
    for name in p.layers:
        out += [DECLARED[name]]
    for block in p.blocks:
        out += [block]
    args = ", ".join(f"{name} = {value}" for name, value in f.symbols.items())
    out.append(f"model {_model_name(config, family, source)}({args}):")
    if p.conditions:
        out.append("    where " + ", ".join(p.conditions))
    out += [f"    {line}" for line in body]
    return "\n".join(out) + "\n"


def _sequence_default(f: Fields) -> int:
    """The input's length: the config's max_position_embeddings when it gives one."""
    value = f.get("max_position_embeddings")
    return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else 2048
