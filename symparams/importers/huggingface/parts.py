"""The pieces every Hugging Face template uses: the config's fields, the program being written,
and the layers a program may declare where the catalog has none that counts as transformers does."""
from __future__ import annotations

import json
from dataclasses import dataclass, field

from ...errors import SymparamsError
from .tables import ALIASES

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
# original_inv_freq, rotary_dim / 2 numbers each (buffers; no weights), for each kind of
# attention where the layers have several (Gemma 3's sliding and full).
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
""",
    "per_head_layernorm": """\
# LayerNorm over each head's head_dim features, one scale and one shift of head_dim shared by every head.
layer per_head_layernorm(head_dim)(x: (*rows, n)) -> (*rows, n):
    where n % head_dim == 0
    params = 2 * head_dim
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


def block_text(name, params, lines) -> str:
    return f"block {name}({', '.join(params)})(x):\n" + "".join(f"    {line}\n" for line in lines)
