"""Decoder-only families: a Decoder description per family, written as a block for the layer and
the model's body (embeddings, the repeated layer, the final norm, the output layer)."""
from __future__ import annotations

import json
from dataclasses import dataclass, field, replace
from fractions import Fraction

from .parts import Fields, ImportProblem, Program, block_text, decimal, dropout_call, num_labels, span_lines

# ------------------------------------------------------------------------------ decoder pieces

@dataclass
class Attention:
    heads: str                  # symbol of the query heads
    kv_heads: str | None        # symbol of the key/value heads; None: as many as the query heads
    head_dim: str               # a symbol, or hidden_size / heads
    bias: str = "none"          # "none", "all", "qkv" (biases on q, k, v, not on the output), "out" (the reverse)
    qk_norm: str | None = None  # None, "head" (RMSNorm per head), "head_layernorm", "full" (RMSNorm over all heads)
    out_name: str = "o_proj"
    upcast: bool = False        # its eager softmax runs in fp32 and is cast back (Llama-likes; not GPT-2, BERT, T5)
    dropout: float = 0.0        # on the attention probabilities while training
    dropout_field: str = "attention_dropout"
    cache: str = "keys"         # what generation keeps: "keys" (every position), "window", "none" (an encoder's)
    window: str | None = None   # with cache "window": the window's size, in the program's symbols
    linears: str = "q_proj"     # how transformers names its projections (the catalog's ATTENTION_LINEARS)


def dropped(rate: float, name: str) -> tuple | None:
    """A dropout transformers applies while training (rate, the name it has there), or None at rate 0:
    a dropout of probability 0 keeps nothing."""
    return (rate, name) if rate else None


def apply_dropout(drop: tuple | None, expr: str) -> str:
    """expr, through the dropout `drop` where there is one."""
    return f"{dropout_call(*drop)}({expr})" if drop else expr


def head_dim_of(p: Program, hidden: str, heads: str, reads_field: bool = False) -> str:
    """Each head's width. Where the family's attention reads the config's head_dim (`reads_field`:
    the Llama-likes' getattr(config, "head_dim", ...)) and the config states one, or the family's
    config gives it a default of its own (Gemma's 256, Qwen3's 128), it is the symbol head_dim, even
    when it equals hidden_size / heads: transformers keeps the stated value when hidden_size changes.
    Else it is hidden_size / heads, as transformers derives it (GPT-2, BERT, Falcon, ...)."""
    f = p.fields
    if reads_field and f.get("head_dim") is not None:
        return f.sym("head_dim")
    if f.symbols[hidden] % f.symbols[heads]:
        raise ImportProblem(f"{f.family}: {hidden}={f.symbols[hidden]} is not a multiple of "
                            f"{heads}={f.symbols[heads]} (transformers refuses it too)",
                            hint=f"sizes where {heads} divides {hidden}" +
                                 (", or an explicit head_dim" if f.family not in ("gpt2", "gpt_neox") else ""))
    p.where(f"{hidden} % {heads} == 0")
    return f"{hidden} / {heads}"


def _facts(att: Attention) -> str:
    """The catalog attention's keywords stating what transformers' module does beyond its counts."""
    out = ""
    if att.cache == "window":
        out += ", cache=window, window=sliding_window"
    elif att.cache == "none":
        out += ", cache=none"
    if att.dropout:
        out += f", dropout={decimal(att.dropout)}"
    if att.upcast:
        out += ", upcast=true"
    if att.linears != "q_proj":
        out += f", linears={att.linears}"
    return out


def attention_call(p: Program, att: Attention, hidden: str, name: str, x: str = "h",
                   block: str = "self_attention") -> tuple[str, list, list]:
    """The attention applied to h, and the block arguments it needs: a catalog layer where one
    counts as the family's module does, else a block (named `block`) of projections around
    attention_product (sliding_attention_product over a window)."""
    if att.kv_heads not in (None, "1", att.heads):
        p.where(f"{att.heads} % {att.kv_heads} == 0")
    window, window_arg = (["sliding_window"], [att.window]) if att.cache == "window" else ([], [])
    if att.qk_norm is None and att.bias in ("none", "all"):
        options = f"use_bias={'true' if att.bias == 'all' else 'false'}{_facts(att)}, name={name}"
        if att.kv_heads is None:
            return (f"multihead_attention(num_heads, head_dim, {options})({x}, {x})",
                    ["num_heads", "head_dim", *window], [att.heads, att.head_dim, *window_arg])
        return (f"grouped_query_attention(head_dim, num_heads, num_kv_heads, {options})({x}, {x})",
                ["num_heads", "num_kv_heads", "head_dim", *window], [att.heads, att.kv_heads, att.head_dim, *window_arg])
    f = p.fields
    if att.dropout:     # attention_product states no dropout on its probabilities
        raise ImportProblem(f"{f.family}: {att.dropout_field}={json.dumps(f.get(att.dropout_field))} (a dropout on "
                            "the attention probabilities) is not supported with this attention's projections",
                            hint=f"supported: {att.dropout_field}=0")
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
    if att.cache == "window":
        product = f"{p.declare('sliding_attention_product')}(num_heads, num_kv_heads, head_dim, sliding_window)"
    elif att.cache == "none":
        product = f"{p.declare('encoder_attention_product')}(num_heads, num_kv_heads, head_dim)"
    else:
        product = f"{p.declare('attention_product')}(num_heads, num_kv_heads, head_dim)"
    lines += [f"a = {product}(q, k, v)", f"return dense(hidden_size, use_bias={out}, name={att.out_name})(a)"]
    params = ["hidden_size", "num_heads", "num_kv_heads", "head_dim", *window]
    p.blocks.append(block_text(block, params, lines))
    kv = att.kv_heads or att.heads
    return (f"{block}({', '.join(params)}, name={name})({x})", params, [hidden, att.heads, kv, att.head_dim, *window_arg])


@dataclass
class Mlp:
    kind: str                     # "gated", "plain", "moe"
    hidden: str                   # intermediate size (an expert's, for moe)
    activation: str = "silu"
    bias: bool = False
    names: tuple = ("mlp",)       # plain: (up, down) names; gated with a dropout: (gate, up, down)
    experts: str | None = None
    top_k: str | None = None
    shared: str | None = None     # qwen2_moe: the shared expert's intermediate size
    dropout: tuple | None = None  # (rate, name): a dropout on the hidden units, before the down projection
    linears: str = "gate_proj"    # gated: how transformers names its linear layers (the catalog's MLP_LINEARS)


def mlp_calls(p: Program, mlp: Mlp, hidden: str, x: str = "h") -> tuple[list, list, list]:
    """Lines computing m from x (h, the normed input, by default), and the block arguments they need."""
    bias = "true" if mlp.bias else "false"
    if mlp.kind == "gated" and mlp.dropout:     # the dropout sits inside: its three projections written out
        gate, up, down = mlp.names
        return ([f"g = dense(intermediate_size, use_bias={bias}, activation={mlp.activation}, name={gate})({x})",
                 f"u = dense(intermediate_size, use_bias={bias}, name={up})({x})",
                 f"m = {dropout_call(*mlp.dropout)}(g * u)",
                 f"m = dense(hidden_size, use_bias={bias}, name={down})(m)"],
                ["hidden_size", "intermediate_size"], [hidden, mlp.hidden])
    if mlp.kind == "gated":
        act = "" if mlp.activation == "silu" else f", activation={mlp.activation}"
        act += "" if mlp.linears == "gate_proj" else f", linears={mlp.linears}"
        return ([f"m = gated_mlp(intermediate_size, use_bias={bias}{act}, name={mlp.names[0]})({x})"],
                ["intermediate_size"], [mlp.hidden])
    if mlp.kind == "plain":
        up, down = mlp.names
        lines = [f"m = dense(intermediate_size, use_bias={bias}, activation={mlp.activation}, name={up})({x})"]
        if mlp.dropout:
            lines.append(f"m = {dropout_call(*mlp.dropout)}(m)")
        return (lines + [f"m = dense(hidden_size, use_bias={bias}, name={down})(m)"],
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
    rotary_per_kind: bool = False          # rotary buffers for each kind of attention the layers have (Gemma 3)
    sincos_positions: str | None = None    # GPT-J's table of positions x rotary_dim (a buffer)
    max_positions: str | None = None       # the symbol of the table the input's length is bounded by
    dense_layers: list | None = None       # which layers have dense_mlp instead of mlp (Qwen-MoE's mlp_only_layers)
    dense_mlp: Mlp | None = None
    scaled_embedding: bool = False         # gemma
    final_norm: str | None = "norm"
    block: str = "decoder_layer"
    head: str = "lm_head"
    head_bias: bool = False
    names: dict = field(default_factory=lambda: {"attn": "self_attn", "norm1": "input_layernorm",
                                                  "norm2": "post_attention_layernorm"})
    # the dropouts transformers applies while training, each (rate, name) or None: on the embeddings,
    # on the attention's output and the MLP's before their residual sums, on their sum (Falcon's
    # parallel layers)
    embed_dropout: tuple | None = None
    attn_dropout: tuple | None = None
    mlp_dropout: tuple | None = None
    sum_dropout: tuple | None = None

    def norm_call(self, name):
        return f"{self.norm}(name={name})" if "(" not in self.norm else self.norm.replace(")", f", name={name})")


def layer_block(p: Program, d: Decoder, att: Attention | None = None, block: str | None = None,
                attention_block: str = "self_attention") -> tuple[str, list]:
    """The repeated layer as a block (named `block`, d.block by default, its attention `att`,
    d.attention by default), and the arguments to call it with."""
    att, block = att or d.attention, block or d.block
    source = "x" if d.placement in ("post", "residual") else "h"   # the sub-layers read x itself: no norm before
    att_call, att_params, att_args = attention_call(p, att, d.hidden, d.names["attn"], source, attention_block)
    att_call = apply_dropout(d.attn_dropout, att_call)
    mlp_lines, mlp_params, mlp_args = mlp_calls(p, d.mlp, d.hidden, source)
    params, args = [], []
    for name, arg in zip(att_params + mlp_params, att_args + mlp_args):
        if name not in params:
            params.append(name)
            args.append(arg)
    norm = d.norm_call
    n1, n2 = d.names["norm1"], d.names["norm2"]
    m = apply_dropout(d.mlp_dropout, "m")
    both = apply_dropout(d.sum_dropout, f"a + {m}") if d.sum_dropout else f"a + {m}"
    if d.placement == "pre":
        lines = [f"h = {norm(n1)}(x)", f"x = x + {att_call}", f"h = {norm(n2)}(x)", *mlp_lines, f"return x + {m}"]
    elif d.placement == "parallel":
        lines = [f"h = {norm(n1)}(x)", f"a = {att_call}", f"h = {norm(n2)}(x)", *mlp_lines, f"return x + {both}"]
    elif d.placement == "shared":
        lines = [f"h = {norm(n1)}(x)", f"a = {att_call}", *mlp_lines, f"return x + {both}"]
    elif d.placement == "sandwich":
        lines = [f"h = {norm('input_layernorm')}(x)", f"x = x + {norm('post_attention_layernorm')}({att_call})",
                 f"h = {norm('pre_feedforward_layernorm')}(x)", *mlp_lines,
                 f"return x + {norm('post_feedforward_layernorm')}({m})"]
    elif d.placement == "post":
        lines = [f"x = x + {norm('post_attention_layernorm')}({att_call})", *mlp_lines,
                 f"return x + {norm('post_feedforward_layernorm')}({m})"]
    else:
        lines = [f"x = {norm(n1)}(x + {att_call})", *mlp_lines, f"return {norm(n2)}(x + {m})"]
    p.blocks.append(block_text(block, params, lines))
    return f"{block}({', '.join(args)})", params


# ------------------------------------------------------------------------------ sliding windows

_SLIDING, _FULL = "sliding_attention", "full_attention"


def layer_types(f: Fields, layers: str) -> tuple[list, str | None, int | None, str | None]:
    """Each layer's attention as transformers' cache keeps it ("full_attention" or
    "sliding_attention"), the window (an expression in the program's symbols; None where no layer
    slides), the period of the family's own rule where it has one (Gemma 2's 2, Gemma 3's
    sliding_window_pattern), and the field counting the full layers before the sliding ones where
    the family's rule says so (Qwen2's max_window_layers).

    transformers' DynamicCache keeps the last sliding_window - 1 positions of a layer its config's
    layer_types calls sliding; without layer_types, of every layer when the config's sliding_window
    is set (Mistral's default 4096), of none otherwise. Qwen's families set sliding_window only with
    use_sliding_window, and layer_types by their rule; Gemma 2 and 3 alternate by theirs."""
    family, count = f.family, f.symbols[layers]
    window = f.get("sliding_window")
    qwen = family in ("qwen2", "qwen3", "qwen2_moe", "qwen3_moe")
    if qwen and not f.flag("use_sliding_window"):
        window = None
    rule, period, first = None, None, None
    if family in ("qwen2", "qwen3", "qwen2_moe"):
        start = f.get("max_window_layers")
        if isinstance(start, bool) or not isinstance(start, int) or start < 0:
            raise ImportProblem(f"{family}: the config field 'max_window_layers' must be a whole number, "
                                f"found {json.dumps(start)}")
        if family == "qwen2_moe":       # the even layers below max_window_layers slide
            rule = [_SLIDING if window is not None and i % 2 == 0 and i < start else _FULL for i in range(count)]
            period = 2 if start >= count else None
        else:                           # the layers from max_window_layers on slide
            rule = [_SLIDING if window is not None and i >= start else _FULL for i in range(count)]
            first = "max_window_layers" if 0 < start < count else None
    elif family == "gemma2":
        rule, period = [_SLIDING if i % 2 == 0 else _FULL for i in range(count)], 2
    elif family == "gemma3_text":
        pattern = f.number("sliding_window_pattern")
        rule, period = [_SLIDING if (i + 1) % pattern else _FULL for i in range(count)], pattern
    types = f.config.get("layer_types")
    if types is None:
        types = rule or [_SLIDING if window is not None else _FULL] * count
    else:
        if not isinstance(types, list) or len(types) != count or any(t not in (_SLIDING, _FULL) for t in types):
            raise ImportProblem(f"{family}: layer_types={json.dumps(types)} is not supported",
                                hint=f"supported: a list of {count} (num_hidden_layers) kinds, each "
                                     f"\"{_FULL}\" or \"{_SLIDING}\"")
        if types != rule:
            period, first = None, None
    if _SLIDING not in types:
        return types, None, None, None
    if not window:
        raise ImportProblem(f"{family}: some layers slide (layer_types), but sliding_window is "
                            f"{json.dumps(window)}" + (" (use_sliding_window is false)" if qwen else ""),
                            hint="give the window's size: sliding_window")
    symbol = f.sym("sliding_window", window)
    if family == "gemma3_text" and f.get("use_bidirectional_attention"):
        symbol = f"{symbol} // 2 + 1"       # transformers' own rewrite of the window (exclusive bounds)
    return types, symbol, period, first


def _periodic(types: list, period: int) -> bool:
    return all(t == types[i % period] for i, t in enumerate(types))


def _runs(types: list) -> list:
    """[(kind, how many in a row)] in order."""
    runs = []
    for t in types:
        if runs and runs[-1][0] == t:
            runs[-1][1] += 1
        else:
            runs.append([t, 1])
    return runs


def _run_lines(types: list, calls: dict) -> list:
    return [f"x = {calls[t]}(x)" if n == 1 else f"x = repeat({n}, {calls[t]})(x)" for t, n in _runs(types)]


def stack_lines(p: Program, layers: str, types: list, calls: dict, period: int | None = None,
                first: str | None = None) -> list:
    """The lines running the layers in order, layer i's block call calls[types[i]]: one repeat where
    every layer is alike; a `repeat n:` over one period where the kinds repeat (its count in the
    layers symbol, the remainder layers after it); else a repeat per run, the last run's count the
    layers left (Qwen2's full-then-sliding: max_window_layers, then the others)."""
    total = len(types)
    if len(set(types)) == 1:
        return [f"x = repeat({layers}, {calls[types[0]]})(x)"]
    if not (period and period <= total and _periodic(types, period)):
        period = next((n for n in range(2, total // 2 + 1) if _periodic(types, n)), None)
    if period:
        rest = total % period
        p.where(f"{layers} % {period} == {rest}")
        count = f"{layers} / {period}" if rest == 0 else f"{layers} // {period}"
        return [f"repeat {count}:", *(f"    {line}" for line in _run_lines(types[:period], calls)),
                *_run_lines(types[total - rest:], calls)]
    runs = _runs(types)
    if first and len(runs) == 2:
        symbol = p.fields.sym(first)
        p.where(f"{symbol} < {layers}")
        return [f"x = repeat({symbol}, {calls[runs[0][0]]})(x)",
                f"x = repeat({layers} - {symbol}, {calls[runs[1][0]]})(x)"]
    lines = _run_lines(types[:total - runs[-1][1]], calls)
    before = total - runs[-1][1]
    p.where(f"{layers} > {before}")
    return lines + [f"x = repeat({layers} - {before}, {calls[runs[-1][0]]})(x)"]


def layer_stack(p: Program, d: Decoder) -> list:
    """The decoder's layers as lines of the model's body: one block where every layer is alike,
    else a block for each kind of layer — its attention (full, sliding) and its MLP (Qwen-MoE's
    dense layers among the sparse ones) — and the layers in their order."""
    attention, window, period, first = layer_types(p.fields, d.layers)
    if d.rotary_per_kind and len(set(attention)) > 1:
        head_dim = d.attention.head_dim
        d.rotary_dim = f"{len(set(attention))} * {head_dim if ' ' not in head_dim else f'({head_dim})'}"
    dense = d.dense_layers or [False] * len(attention)
    if any(dense):      # the family's rule for sliding layers no longer makes two runs
        first = None
    types = list(zip(attention, dense))
    calls = {}
    for kind in dict.fromkeys(sorted(set(types))):
        slides, is_dense = kind
        att = replace(d.attention, cache="window", window=window) if slides == _SLIDING else d.attention
        prefix = "sliding_" if len(set(attention)) > 1 and slides == _SLIDING else ""
        layer = replace(d, mlp=d.dense_mlp) if is_dense else d
        name = prefix + ("dense_" if is_dense and not all(dense) else "") + d.block
        calls[kind] = layer_block(p, layer, att, name, prefix + "self_attention")[0]
    return stack_lines(p, d.layers, types, calls, period, first)


def decoder_body(p: Program, d: Decoder, head: str) -> list:
    f = p.fields
    width = d.embed_width or d.hidden
    lines = ["input_ids = input (sequence_length) int", f"{d.embed} = embedding({d.vocab}, {width})",
             f"x = {d.embed}(input_ids)"]
    if d.embed_width:
        lines.append(f"x = dense({d.hidden}, use_bias=false, name=project_in)(x)")
    if d.positions:
        size, name = d.positions
        lines.append(f"x = x + position_embedding({size}, {d.hidden}, name={name})(input_ids)")
    if d.embed_dropout:
        lines.append(f"x = {dropout_call(*d.embed_dropout)}(x)")
    if d.embed_norm:
        lines.append(f"x = {d.norm_call(d.embed_norm)}(x)")
    if d.scaled_embedding:
        lines.append(f"x = {p.declare('embed_scale')}()(x)")
    stack = layer_stack(p, d)
    if d.rotary_dim:
        lines.append(f"x = {p.declare('rotary_tables')}({d.rotary_dim}, name=rotary_emb)(x)")
    if d.sincos_positions:
        lines.append(f"x = {p.declare('sincos_table')}({d.sincos_positions}, name=rotary_emb)(x)")
    lines += stack
    if d.final_norm:
        lines.append(f"x = {d.norm_call(d.final_norm)}(x)")
    if d.embed_width:
        lines.append(f"x = dense({width}, use_bias=false, name=project_out)(x)")
    if head == "lm":
        tied = f", tied={d.embed}" if f.flag("tie_word_embeddings") else ""
        bias = "true" if d.head_bias else "false"
        lines.append(f"logits = dense({d.vocab}, use_bias={bias}{tied}, name={d.head})(x)")
    else:
        lines += task_head(p, head)
    table = d.max_positions or (d.positions[0] if d.positions else None)
    f.sym("sequence_length", f.symbols[table] if table in f.symbols else sequence_default(f))
    return lines


# the families whose token classifier transformers names `classifier` (the others' is `score`)
_CLASSIFIER_NAMED = ("gpt2", "gpt_neox", "bloom", "falcon")


def task_head(p: Program, head: str) -> list:
    """A decoder's task head on the final hidden states x, as transformers' …ForSequenceClassification
    (a score per label at every position, without a bias; the last token's are the logits: transformers
    picks the last one that is not padding), …ForTokenClassification (a dropout, then a classifier
    with a bias at every position) and …ForQuestionAnswering (two logits per position, the span's
    start and end). Nothing for the bare model."""
    f = p.fields
    if head == "sequence":
        return [f"logits = dense({num_labels(f)}, use_bias=false, name=score)(x)",
                f"logits = {p.declare('last_token')}()(logits)"]
    if head == "token":
        # classifier_dropout, else the config's hidden_dropout, else 0.1
        given = next((name for name in ("classifier_dropout", "hidden_dropout") if f.get(name) is not None), None)
        rate = f.rate(given) if given else 0.1
        name = "classifier" if f.family in _CLASSIFIER_NAMED else "score"
        drop = [f"x = {dropout_call(rate, 'dropout')}(x)"] if rate else []
        return [*drop, f"logits = dense({num_labels(f)}, name={name})(x)"]
    if head == "qa":
        return ["logits = dense(2, name=qa_outputs)(x)", *span_lines(p)]
    return []


# The families whose rotary embedding reads partial_rotary_factor with the default rope type; the
# other families' default one rotates all of head_dim whatever the factor says. Every other rope type
# (linear, dynamic, yarn, longrope, llama3) goes through transformers' modeling_rope_utils, which reads it.
_PARTIAL_ROTARY = ("phi3", "gpt_neox", "phi")


def rotary_dim_of(f: Fields, head_dim: str, factor_fields=("partial_rotary_factor",)) -> str:
    """The size of the rotary buffers: head_dim, times the config's partial rotary factor where the
    family's rotary embedding reads it, rounded down as transformers' int() does."""
    rope = f.get("rope_parameters") or f.get("rope_scaling") or {}
    rope = rope if isinstance(rope, dict) else {}
    rope_type = rope.get("rope_type", rope.get("type", "default"))
    if f.family not in _PARTIAL_ROTARY and rope_type in (None, "default"):
        return head_dim
    factor = rope.get("partial_rotary_factor")
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


def sequence_default(f: Fields) -> int:
    """The input's length: the config's max_position_embeddings when it gives one."""
    value = f.get("max_position_embeddings")
    return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else 2048


def _llama_like(f: Fields, p: Program, *, bias="attention_bias", qk_norm=None, mlp="gated", kv=True,
                norm="rmsnorm", placement="pre") -> Decoder:
    vocab, hidden = f.sym("vocab_size"), f.sym("hidden_size")
    layers, heads = f.sym("num_hidden_layers"), f.sym("num_attention_heads")
    kv_heads = None
    if kv:      # left out (or null), transformers makes it num_attention_heads: the same symbol
        kv_heads = f.sym("num_key_value_heads") if f.get("num_key_value_heads") is not None else heads
    # GPT-NeoX's attention splits hidden_size by the heads whatever head_dim says
    head_dim = head_dim_of(p, hidden, heads, reads_field=f.family != "gpt_neox")
    if bias in ("none", "qkv", "all"):
        bias_kind = bias
    else:
        bias_kind = "all" if f.flag(bias) else "none"
    if mlp == "gated":
        act = f.activation("hidden_activation" if f.family in ("gemma2", "gemma3_text") else "hidden_act")
        mlp_spec = Mlp("gated", f.sym("intermediate_size"), act, bias=bool(f.get("mlp_bias")))
    elif mlp == "plain":
        mlp_spec = Mlp("plain", f.sym("intermediate_size"), f.activation("hidden_act"), bias=f.flag("use_bias"),
                       names=("c_fc", "c_proj"))
    else:
        mlp_spec = mlp(f)
    attention = Attention(heads, kv_heads, head_dim, bias_kind, qk_norm, upcast=True,
                          dropout=f.rate("attention_dropout"))
    return Decoder(vocab, hidden, layers, attention, mlp_spec, norm=norm, placement=placement,
                   rotary_dim=rotary_dim_of(f, head_dim))


def _dense_layers(f: Fields, layers: str) -> list:
    """Which of Qwen-MoE's layers are dense (a gated MLP of intermediate_size): transformers makes
    layer i sparse unless i is in mlp_only_layers or (i + 1) is no multiple of decoder_sparse_step."""
    only = f.get("mlp_only_layers") or []
    step = f.get("decoder_sparse_step")
    if not isinstance(only, list) or any(isinstance(i, bool) or not isinstance(i, int) for i in only):
        raise ImportProblem(f"{f.family}: mlp_only_layers={json.dumps(only)} must be a list of layer indices",
                            hint="the indices of the layers with a dense MLP, such as [0]")
    step = f.number("decoder_sparse_step", step)
    return [i in only or (i + 1) % step != 0 for i in range(f.symbols[layers])]


def _mixtral_moe(f):
    return Mlp("moe", f.sym("intermediate_size"), f.activation("hidden_act"), names=("mlp",),
               experts=f.sym("num_local_experts"), top_k=f.sym("num_experts_per_tok"))


def _qwen_moe(f: Fields, p: Program, shared: bool) -> Decoder:
    """Qwen2-MoE (routed experts, a shared expert and its gate; q, k, v biases with qkv_bias) and
    Qwen3-MoE (routed experts, per-head norms); layers in mlp_only_layers, or off decoder_sparse_step,
    have a dense gated MLP of intermediate_size instead."""
    def moe(f):
        f.activation("hidden_act")
        experts = f.sym("num_experts" if shared else "num_local_experts")
        return Mlp("moe", f.sym("moe_intermediate_size"), names=("mlp",), experts=experts,
                   top_k=f.sym("num_experts_per_tok"),
                   shared=f.sym("shared_expert_intermediate_size") if shared else None)
    if shared:
        d = _llama_like(f, p, bias="qkv" if f.flag("qkv_bias") else "none", mlp=moe)
    else:
        d = _llama_like(f, p, qk_norm="head", mlp=moe)
    d.dense_layers = _dense_layers(f, d.layers)
    if any(d.dense_layers):
        d.dense_mlp = Mlp("gated", f.sym("intermediate_size"), f.activation("hidden_act"))
    return d


def _neox_mlp(f):
    return Mlp("plain", f.sym("intermediate_size"), f.activation("hidden_act"), bias=True,
               names=("dense_h_to_4h", "dense_4h_to_h"))


def _gpt_neox(f: Fields, p: Program) -> Decoder:
    d = _llama_like(f, p, kv=False, mlp=_neox_mlp, norm="layernorm",
                    placement="parallel" if f.flag("use_parallel_residual") else "pre")
    # its rotary embedding reads a stated head_dim (its attention does not)
    rotated = f.sym("head_dim") if f.get("head_dim") is not None else d.attention.head_dim
    d.rotary_dim = rotary_dim_of(f, rotated, ("partial_rotary_factor", "rotary_pct"))
    d.attention.linears = "query_key_value"
    d.embed, d.final_norm, d.head, d.names["attn"] = "embed_in", "final_layer_norm", "embed_out", "attention"
    rate = f.rate("hidden_dropout")
    d.embed_dropout = dropped(rate, "emb_dropout")
    d.attn_dropout, d.mlp_dropout = dropped(rate, "post_attention_dropout"), dropped(rate, "post_mlp_dropout")
    return d


def _gpt2(f: Fields, p: Program) -> Decoder:
    if f.get("add_cross_attention"):
        raise ImportProblem("gpt2: add_cross_attention=true is not supported", hint="supported: false")
    vocab, positions, hidden = f.sym("vocab_size"), f.sym("n_positions"), f.sym("n_embd")
    layers, heads = f.sym("n_layer"), f.sym("n_head")
    inner = f.sym("n_inner") if f.get("n_inner") is not None else f"4 * {hidden}"
    p.where(f"{hidden} % {heads} == 0")
    attention = Attention(heads, None, f"{hidden} / {heads}", "all", dropout=f.rate("attn_pdrop"),
                          dropout_field="attn_pdrop", linears="c_attn")
    d = Decoder(vocab, hidden, layers, attention,
                Mlp("plain", inner, f.activation("activation_function"), bias=True, names=("c_fc", "c_proj")),
                norm="layernorm", embed="wte", positions=(positions, "wpe"), final_norm="ln_f")
    d.names = {"attn": "attn", "norm1": "ln_1", "norm2": "ln_2"}
    _resid_pdrop(f, d)
    return d


def _resid_pdrop(f: Fields, d: Decoder):
    """GPT-2's and GPT-J's dropouts: `drop` on the embeddings (embd_pdrop), `resid_dropout` on the
    attention's output and the MLP's `dropout` on its output (resid_pdrop)."""
    d.embed_dropout = dropped(f.rate("embd_pdrop"), "drop")
    rate = f.rate("resid_pdrop")
    d.attn_dropout, d.mlp_dropout = dropped(rate, "resid_dropout"), dropped(rate, "dropout")


def _fc_mlp(f):
    return Mlp("plain", f.sym("intermediate_size"), f.activation("hidden_act"), bias=True, names=("fc1", "fc2"))


def _phi(f: Fields, p: Program) -> Decoder:
    qk_norm = "head_layernorm" if f.flag("qk_layernorm") else None
    d = _llama_like(f, p, bias="all", qk_norm=qk_norm, mlp=_fc_mlp, norm="layernorm", placement="shared")
    d.attention.out_name, d.final_norm, d.head_bias = "dense", "final_layernorm", True
    d.attention.linears = "dense"
    d.embed_dropout = dropped(f.rate("embd_pdrop"), "embed_dropout")
    rate = f.rate("resid_pdrop")     # one module, resid_dropout, on both sub-layers' outputs
    d.attn_dropout, d.mlp_dropout = dropped(rate, "resid_dropout"), dropped(rate, "resid_dropout")
    return d


def _bloom(f: Fields, p: Program) -> Decoder:
    vocab, hidden = f.sym("vocab_size"), f.sym("hidden_size")
    layers, heads = f.sym("n_layer"), f.sym("n_head")
    attention = Attention(heads, None, head_dim_of(p, hidden, heads), "all", upcast=True,
                          dropout=f.rate("attention_dropout"), linears="query_key_value")
    d = Decoder(vocab, hidden, layers, attention,
                Mlp("plain", f"4 * {hidden}", "gelu", bias=True, names=("dense_h_to_4h", "dense_4h_to_h")),
                norm="layernorm", embed="word_embeddings", embed_norm="word_embeddings_layernorm", final_norm="ln_f")
    d.names["attn"] = "self_attention"
    rate = f.rate("hidden_dropout")      # dropout_add on both sub-layers' outputs, before their residual sums
    d.attn_dropout, d.mlp_dropout = dropped(rate, "hidden_dropout"), dropped(rate, "hidden_dropout")
    return d


def _gptj(f: Fields, p: Program) -> Decoder:
    vocab, positions, hidden = f.sym("vocab_size"), f.sym("n_positions"), f.sym("n_embd")
    layers, heads = f.sym("n_layer"), f.sym("n_head")
    inner = f.sym("n_inner") if f.get("n_inner") is not None else f"4 * {hidden}"
    rotary = f.sym("rotary_dim")
    attention = Attention(heads, None, head_dim_of(p, hidden, heads), "none", dropout=f.rate("attn_pdrop"),
                          dropout_field="attn_pdrop", linears="out_proj")
    d = Decoder(vocab, hidden, layers, attention,
                Mlp("plain", inner, f.activation("activation_function"), bias=True, names=("fc_in", "fc_out")),
                norm="layernorm", placement="shared", embed="wte", sincos_positions=f"{positions}, {rotary}",
                final_norm="ln_f", head_bias=True, max_positions=positions)
    d.names = {"attn": "attn", "norm1": "ln_1", "norm2": None}
    _resid_pdrop(f, d)
    return d


def _opt(f: Fields, p: Program) -> Decoder:
    vocab, hidden = f.sym("vocab_size"), f.sym("hidden_size")
    layers, heads = f.sym("num_hidden_layers"), f.sym("num_attention_heads")
    head_dim = head_dim_of(p, hidden, heads)
    # The embeddings' width: word_embed_proj_dim where the config states it (left out, transformers
    # makes it hidden_size). Where it differs, project_in and project_out map it to and from
    # hidden_size; where the config states it equal, there are none. Either holds only while the two
    # stay as they are (the `where`): a setting that makes them equal or unequal is refused.
    projected = None
    if f.get("word_embed_proj_dim") is not None:
        width = f.sym("word_embed_proj_dim")
        if f.symbols[width] != f.symbols[hidden]:
            projected = width
            p.where(f"{width} != {hidden}")
        else:
            p.where(f"{width} == {hidden}")
    positions = f.sym("max_position_embeddings")
    bias, before = f.flag("enable_bias"), f.flag("do_layer_norm_before")
    norm = "layernorm" if f.flag("layer_norm_elementwise_affine") else "layernorm(elementwise_affine=false)"
    # OPT's learned positions start at offset 2, so its table has two rows more.
    attention = Attention(heads, None, head_dim, "all" if bias else "none", upcast=True,
                          dropout=f.rate("attention_dropout"), linears="out_proj")
    d = Decoder(vocab, hidden, layers, attention,
                Mlp("plain", f.sym("ffn_dim"), f.activation("activation_function"), bias=bias, names=("fc1", "fc2")),
                norm=norm, placement="pre" if before else "residual",
                embed_width=projected,
                positions=(f"{positions} + 2", "embed_positions"),
                final_norm="final_layer_norm" if before and not f.get("_remove_final_layer_norm") else None)
    d.names = {"attn": "self_attn", "norm1": "self_attn_layer_norm", "norm2": "final_layer_norm"}
    rate = f.rate("dropout")      # on both sub-layers' outputs, before their residual sums
    d.attn_dropout, d.mlp_dropout = dropped(rate, "dropout"), dropped(rate, "dropout")
    return d


def _falcon(f: Fields, p: Program) -> Decoder:
    vocab, hidden = f.sym("vocab_size"), f.sym("hidden_size")
    layers, heads = f.sym("num_hidden_layers"), f.sym("num_attention_heads")
    head_dim = head_dim_of(p, hidden, heads)
    new = f.flag("new_decoder_architecture")
    if new:
        # left out (or null), transformers makes it num_attention_heads: the same symbol
        kv = f.sym("num_kv_heads") if f.get("num_kv_heads") is not None else heads
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
    attention_rate = f.rate("attention_dropout")
    attention = Attention(heads, kv, head_dim, "all" if bias else "none", out_name="dense", upcast=True,
                          dropout=attention_rate, linears="query_key_value")
    d = Decoder(vocab, hidden, layers, attention,
                Mlp("plain", ffn, f.activation("activation"), bias=bias, names=("dense_h_to_4h", "dense_4h_to_h")),
                norm="layernorm", placement=placement, embed="word_embeddings", final_norm="ln_f",
                rotary_dim=head_dim)    # transformers keeps the rotary buffers even with alibi
    d.names = {"attn": "self_attention", "norm1": names[0], "norm2": names[1]}
    # dropout_add: on the attention's output at attention_dropout and on the MLP's at hidden_dropout;
    # where the two run side by side, on their sum at hidden_dropout
    if placement == "pre":
        d.attn_dropout = dropped(attention_rate, "attention_dropout")
        d.mlp_dropout = dropped(f.rate("hidden_dropout"), "hidden_dropout")
    else:
        d.sum_dropout = dropped(f.rate("hidden_dropout"), "hidden_dropout")
    return d


def _gemma(d: Decoder) -> Decoder:
    d.scaled_embedding = True
    return d


# ------------------------------------------------------------------------------ DeepSeek

def deepseek(f: Fields, p: Program, head: str) -> list:
    """DeepSeek-V2/V3: multi-head latent attention, the first first_k_dense_replace layers dense,
    the others a mixture of routed experts beside always-active shared ones."""
    vocab, hidden = f.sym("vocab_size"), f.sym("hidden_size")
    layers, heads = f.sym("num_hidden_layers"), f.sym("num_attention_heads")
    bias = "true" if f.flag("attention_bias") else "false"
    kv_rank, nope = f.sym("kv_lora_rank"), f.sym("qk_nope_head_dim")
    rope, v_dim = f.sym("qk_rope_head_dim"), f.sym("v_head_dim")
    q_rank = f.sym("q_lora_rank") if f.get("q_lora_rank") is not None else None
    if f.rate("attention_dropout"):     # latent_attention_product states no dropout on its probabilities
        raise ImportProblem(f"{f.family}: attention_dropout={json.dumps(f.get('attention_dropout'))} is not "
                            "supported", hint="supported: attention_dropout=0")
    if layer_types(f, layers)[1] is not None:
        raise ImportProblem(f"{f.family}: sliding windows over the latent cache are not supported",
                            hint="supported: sliding_window null, every layer full_attention")
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
              "a = latent_attention_product(num_heads, qk_nope_head_dim + qk_rope_head_dim, v_head_dim, "
              "kv_lora_rank + qk_rope_head_dim)(q, kv)",
              f"return dense(hidden_size, use_bias={bias}, name=o_proj)(a)"]
    p.blocks.append(block_text("latent_attention", params, lines))
    attention = f"latent_attention({', '.join(params)}, name=self_attn)(h)"
    args = [hidden, heads] + ([q_rank] if q_rank else []) + [kv_rank, nope, rope, v_dim]
    act = f.activation("hidden_act")
    gated_act = "" if act == "silu" else f", activation={act}"
    mlp_bias = "true" if f.family == "deepseek_v2" and f.flag("mlp_bias") else "false"
    head_lines = ["h = rmsnorm(name=input_layernorm)(x)", f"x = x + {attention}",
                  "h = rmsnorm(name=post_attention_layernorm)(x)"]
    # transformers makes layer i a mixture of experts from first_k_dense_replace on; DeepSeek's own
    # code (and its configs) with n_routed_experts null has no experts at all
    routed = f.get("n_routed_experts") is not None
    dense_k = f.get("first_k_dense_replace") if routed else None
    every_dense = not routed or (dense_k and f.number("first_k_dense_replace") >= f.symbols[layers])
    # DeepSeek-V3's rotary tables are head_dim's where the config states one (transformers keeps it,
    # even where it is not qk_rope_head_dim); else qk_rope_head_dim's
    rotated = f.sym("head_dim") if f.family == "deepseek_v3" and f.config.get("head_dim") is not None else rope
    body = ["input_ids = input (sequence_length) int", f"embed_tokens = embedding({vocab}, {hidden})",
            "x = embed_tokens(input_ids)", f"x = {p.declare('rotary_tables')}({rotated}, name=rotary_emb)(x)"]
    if every_dense or dense_k:
        p.blocks.append(block_text("dense_layer", params + ["intermediate_size"], [
            *head_lines, f"return x + gated_mlp(intermediate_size, use_bias={mlp_bias}{gated_act}, name=mlp)(h)"]))
        dense_call = f"dense_layer({', '.join(args + [f.sym('intermediate_size')])})"
    if every_dense:
        body.append(f"x = repeat({layers}, {dense_call})(x)")
        if routed:      # more layers than first_k_dense_replace would make the others experts
            k = f.sym("first_k_dense_replace")
            p.where(f"{layers} <= {k}")
    else:
        experts, moe_inter = f.sym("n_routed_experts"), f.sym("moe_intermediate_size")
        top_k, shared = f.sym("num_experts_per_tok"), f.sym("n_shared_experts")
        moe_lines = [*head_lines, "m = moe(num_experts, moe_intermediate_size, top_k=top_k, name=mlp)(h)",
                     f"s = gated_mlp(moe_intermediate_size * n_shared_experts, use_bias={mlp_bias}{gated_act}, "
                     "name=shared_experts)(h)"]
        if f.family == "deepseek_v3":   # the router's per-expert correction of its scores, a buffer
            moe_lines.append(f"s = {p.declare('router_correction')}(num_experts, name=e_score_correction_bias)(s)")
        moe_lines.append("return x + m + s")
        p.blocks.append(block_text("moe_layer", params + ["num_experts", "moe_intermediate_size", "top_k",
                                                          "n_shared_experts"], moe_lines))
        moe_call = f"moe_layer({', '.join(args + [experts, moe_inter, top_k, shared])})"
        if dense_k:
            k = f.sym("first_k_dense_replace")
            p.where(f"{k} < {layers}")
            body += [f"x = repeat({k}, {dense_call})(x)", f"x = repeat({layers} - {k}, {moe_call})(x)"]
        else:
            body.append(f"x = repeat({layers}, {moe_call})(x)")
    body.append("x = rmsnorm(name=norm)(x)")
    if head == "lm":
        tied = ", tied=embed_tokens" if f.flag("tie_word_embeddings") else ""
        body.append(f"logits = dense({vocab}, use_bias=false{tied}, name=lm_head)(x)")
    else:
        body += task_head(p, head)
    f.sym("sequence_length", sequence_default(f))
    return body


def _gemma3(f: Fields, p: Program) -> Decoder:
    """Gemma 3 (text): Gemma 2's layer with per-head q and k norms, and rotary tables for each kind
    of attention its layers use (sliding, full)."""
    d = _gemma(_llama_like(f, p, qk_norm="head", placement="sandwich"))
    d.rotary_per_kind = True
    return d


def _phi3(f: Fields, p: Program) -> Decoder:
    d = _llama_like(f, p, bias="none")
    d.attention.linears, d.mlp.linears = "qkv_proj", "gate_up_proj"     # its fused modules
    rate = f.rate("resid_pdrop")
    d.attn_dropout, d.mlp_dropout = dropped(rate, "resid_attn_dropout"), dropped(rate, "resid_mlp_dropout")
    return d


def _starcoder2(f: Fields, p: Program) -> Decoder:
    d = _llama_like(f, p, bias="use_bias", mlp="plain", norm="layernorm")
    d.embed_dropout = dropped(f.rate("embedding_dropout"), "embedding_dropout")
    rate = f.rate("residual_dropout")
    d.attn_dropout, d.mlp_dropout = dropped(rate, "residual_dropout"), dropped(rate, "residual_dropout")
    return d


def _written(describe):
    """A family's template from the function describing its Decoder."""
    return lambda f, p, head: decoder_body(p, describe(f, p), head)


FAMILIES = {
    "llama": _written(lambda f, p: _llama_like(f, p)),
    "mistral": _written(lambda f, p: _llama_like(f, p, bias="none")),
    "mixtral": _written(lambda f, p: _llama_like(f, p, bias="none", mlp=_mixtral_moe)),
    "qwen2": _written(lambda f, p: _llama_like(f, p, bias="qkv")),
    "qwen3": _written(lambda f, p: _llama_like(f, p, qk_norm="head")),
    "qwen2_moe": _written(lambda f, p: _qwen_moe(f, p, shared=True)),
    "qwen3_moe": _written(lambda f, p: _qwen_moe(f, p, shared=False)),
    "phi3": _written(_phi3),
    "gemma": _written(lambda f, p: _gemma(_llama_like(f, p))),
    "gemma2": _written(lambda f, p: _gemma(_llama_like(f, p, placement="sandwich"))),
    "gemma3_text": _written(_gemma3),
    "olmo": _written(lambda f, p: _llama_like(f, p, norm="layernorm(elementwise_affine=false)")),
    "olmo2": _written(lambda f, p: _llama_like(f, p, qk_norm="full", placement="post")),
    "starcoder2": _written(_starcoder2),
    "gpt_neox": _written(_gpt_neox),
    "gpt2": _written(_gpt2),
    "phi": _written(_phi),
    "bloom": _written(_bloom),
    "gptj": _written(_gptj),
    "opt": _written(_opt),
    "falcon": _written(_falcon),
    "deepseek_v2": deepseek,
    "deepseek_v3": deepseek,
}
