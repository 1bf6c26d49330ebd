"""Encoder and encoder-decoder families: BERT-likes, ViT, T5 and BART, each writing its model's body."""
from __future__ import annotations

import json

from .decoders import Attention, Decoder, Mlp, apply_dropout, dropped, head_dim_of, layer_block
from .parts import ACTIVATIONS, Fields, ImportProblem, Program, decimal, dropout_call, num_labels, span_lines

# ------------------------------------------------------------------------------ encoders

def _encoder_layer(f: Fields, p: Program, hidden, heads, inner, act, *, bias="all", placement="residual", names=None,
                   mlp_names=("intermediate", "output"), upcast=False, dropouts=(0.0, None, None, None),
                   linears="query") -> str:
    """The repeated encoder layer as a block (BERT's post-norm unless placement says otherwise); its call.
    Its self-attention caches nothing: an encoder reads its whole input at once. `dropouts`: the
    attention probabilities' rate, then (rate, name) or None on the attention's output, on the
    MLP's hidden units, on the MLP's output."""
    probabilities, on_attention, on_hidden, on_mlp = dropouts
    attention = Attention(heads, None, head_dim_of(p, hidden, heads), bias, upcast=upcast, dropout=probabilities,
                          dropout_field="attention_probs_dropout_prob", cache="none", linears=linears)
    d = Decoder("", hidden, "", attention, Mlp("plain", inner, act, bias=True, names=mlp_names, dropout=on_hidden),
                norm="layernorm", placement=placement, block="encoder_layer", attn_dropout=on_attention,
                mlp_dropout=on_mlp)
    d.names = names or {"attn": "attention", "norm1": "attention_layernorm", "norm2": "output_layernorm"}
    return layer_block(p, d)[0]


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
    # The embeddings' width: ALBERT's embedding_size, always projected to hidden_size; ELECTRA's
    # embedding_size (its config's default 128) projected where it differs from hidden_size, and
    # where it is equal not. Either holds only while the two stay as they are (the `where`).
    width = hidden
    if family in ("albert", "electra"):
        width = f.sym("embedding_size")
        if family == "electra":
            equal = f.symbols[width] == f.symbols[hidden]
            p.where(f"{width} {'==' if equal else '!='} {hidden}")
            width = hidden if equal else width
    # a multiple-choice head reads num_choices sequences per example, each through the whole model
    tokens = "(num_choices, sequence_length)" if head == "choice" else "(sequence_length)"
    lines = [f"input_ids = input {tokens} int"]
    if types:
        lines.append(f"token_type_ids = input {tokens} int")
    # DistilBERT's sinusoidal_pos_embds only fills the same (trainable) table with sines
    lines.append(f"word_embeddings = embedding({vocab}, {width})")
    if head == "choice":    # several sequences per example: the positions read off their embeddings
        lines += ["x = word_embeddings(input_ids)",
                  f"x = x + position_embedding({positions}, {width}, name=position_embeddings)(x)"]
    else:
        lines.append(f"x = word_embeddings(input_ids) + position_embedding({positions}, {width}, "
                     "name=position_embeddings)(input_ids)")
    if types:
        lines[-1] += f" + embedding({types}, {width}, name=token_type_embeddings)(token_type_ids)"
    lines.append("x = layernorm(name=embeddings_layernorm)(x)")
    # the dropouts: on the embeddings, the attention probabilities, the attention's output (not
    # DistilBERT's) and the MLP's output (not ALBERT's, whose layer defines one it never applies)
    if family == "distilbert":
        hidden_rate, probabilities = f.rate("dropout"), f.rate("attention_dropout")
    else:
        hidden_rate, probabilities = f.rate("hidden_dropout_prob"), f.rate("attention_probs_dropout_prob")
    if hidden_rate:
        lines.append(f"x = {dropout_call(hidden_rate, 'embeddings_dropout')}(x)")
    lines.append(f"x = {p.declare('id_buffers')}({positions}, {2 if types else 1}, name=embeddings_ids)(x)")
    on_attention = None if family == "distilbert" else \
        dropped(hidden_rate, "output_dropout" if family == "albert" else "attention_output_dropout")
    on_mlp = None if family == "albert" else dropped(hidden_rate, "ffn_dropout" if family == "distilbert" else
                                                     "output_dropout")
    if width != hidden:
        name = "embedding_hidden_mapping_in" if family == "albert" else "embeddings_project"
        lines.append(f"x = dense({hidden}, name={name})(x)")
    names = {"attn": "attention", "norm1": "sa_layer_norm", "norm2": "output_layer_norm"} \
        if family == "distilbert" else None
    mlp_names = ("lin1", "lin2") if family == "distilbert" else ("intermediate", "output")
    call = _encoder_layer(f, p, hidden, heads, inner, act, names=names, mlp_names=mlp_names,
                          linears="q_lin" if family == "distilbert" else "query",
                          dropouts=(probabilities, on_attention, None, on_mlp))
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
    elif head in ("sequence", "token", "qa", "choice"):
        lines += _encoder_task_head(f, p, head, hidden, hidden_rate)
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
    if head == "choice":
        f.sym("num_choices", 4)
    return lines


def _encoder_task_head(f: Fields, p: Program, head: str, hidden: str, hidden_rate: float) -> list:
    """A BERT-like's task head on the last hidden states x, as transformers builds each family's.

    Sequence classification and multiple choice read the first token: through BERT's and ALBERT's
    pooler (a tanh dense layer, on the bare model too), RoBERTa's and ELECTRA's classifier.dense
    (tanh; ELECTRA's gelu), DistilBERT's pre_classifier (relu), ELECTRA's multiple-choice
    sequence_summary (gelu); then a dropout and the classifier (num_labels outputs, or one score per
    choice). Token classification is a dropout and a classifier at every position; question
    answering a qa_outputs layer of num_labels (2) logits per position, the span's start and end."""
    family = f.family
    # the heads' dropout: classifier_dropout, else the hidden states' (ALBERT's classifier_dropout_prob;
    # DistilBERT's seq_classif_dropout, or its dropout for tokens, qa_dropout for answers)
    if family == "distilbert":
        rate = f.rate({"token": "dropout", "qa": "qa_dropout"}.get(head, "seq_classif_dropout"))
    elif family == "albert":
        rate = f.rate("classifier_dropout_prob")
    elif family == "roberta" and head == "choice":
        rate = hidden_rate
    elif family == "electra" and head == "choice":     # its sequence_summary's last_dropout
        rate = f.rate("summary_last_dropout")
    else:
        rate = f.rate("classifier_dropout") if f.get("classifier_dropout") is not None else hidden_rate

    def dropout(t):
        return [f"{t} = {dropout_call(rate, 'dropout')}({t})"] if rate else []
    outputs = "1" if head == "choice" else num_labels(f)
    if head == "token":
        return [*dropout("x"), f"logits = dense({outputs}, name=classifier)(x)"]
    if head == "qa":
        return [*(dropout("x") if family == "distilbert" else []),
                f"logits = dense({outputs}, name=qa_outputs)(x)", *span_lines(p)]
    pooled = "first_token(x)"
    if family in ("bert", "albert") or (family == "roberta" and head == "choice"):
        lines = [f"h = dense({hidden}, activation=tanh, name=pooler)({pooled})", *dropout("h")]
        name = "classifier"
    elif family == "distilbert":
        lines = [f"h = dense({hidden}, activation=relu, name=pre_classifier)({pooled})", *dropout("h")]
        name = "classifier"
    elif family == "electra" and head == "choice":     # its sequence_summary, then the classifier
        lines = [f"h = dense({hidden}, activation=gelu, name=sequence_summary)({pooled})", *dropout("h")]
        name = "classifier"
    else:       # RoBERTa's and ELECTRA's classification head: a dropout before each of its two layers
        act = "gelu" if family == "electra" else "tanh"
        lines = [f"h = {pooled}", *dropout("h"), f"h = dense({hidden}, activation={act}, name=dense)(h)",
                 *dropout("h")]
        name = "out_proj"
    lines.append(f"logits = dense({outputs}, name={name})(h)")
    if head == "choice":
        lines.append(f"logits = {p.declare('choice_scores')}()(logits)")
    return lines


def _vit(f: Fields, p: Program, head: str) -> list:
    hidden, layers = f.sym("hidden_size"), f.sym("num_hidden_layers")
    heads, inner = f.sym("num_attention_heads"), f.sym("intermediate_size")
    image, patch, channels = f.sym("image_size"), f.sym("patch_size"), f.sym("num_channels")
    # the dropouts: on the embeddings, the attention probabilities, and the layer's one module
    # `dropout` on the attention's output and on the MLP's
    rate = f.rate("hidden_dropout_prob")
    call = _encoder_layer(f, p, hidden, heads, inner, f.activation("hidden_act"),
                          bias="all" if f.flag("qkv_bias") else "out", placement="pre",
                          names={"attn": "attention", "norm1": "layernorm_before", "norm2": "layernorm_after"},
                          mlp_names=("fc1", "fc2"), upcast=True,
                          dropouts=(f.rate("attention_probs_dropout_prob"), dropped(rate, "dropout"), None,
                                    dropped(rate, "dropout")))
    lines = [f"pixel_values = input ({channels}, {image}, {image})",
             f"x = patch_embedding({patch}, {hidden}, name=patch_embeddings)(pixel_values)",
             "x = class_token(name=cls_token)(x)",
             f"x = x + position_embedding(({image} // {patch}) * ({image} // {patch}) + 1, {hidden}, "
             "name=position_embeddings)(x)"]
    if rate:
        lines.append(f"x = {dropout_call(rate, 'embeddings_dropout')}(x)")
    lines += [f"x = repeat({layers}, {call})(x)", "x = layernorm(name=layernorm)(x)"]
    if head == "classifier":
        labels = num_labels(f)
        lines.append(f"logits = dense({labels}, name=classifier)(first_token(x))")
    else:
        size = f.sym("pooler_output_size") if f.get("pooler_output_size") is not None else hidden
        lines.append(f"pooled = dense({size}, activation={f.activation('pooler_act')}, name=pooler)(first_token(x))")
    return lines


# ------------------------------------------------------------------------------ encoder-decoders

def _cross_lines(attention: str, mlp_lines: list, norm: str | None, drops: tuple = (None, None, None)) -> list:
    """An encoder-decoder's decoder layer as lines of a `repeat n:` on y, so that its cross-attention
    can read the encoder's output x (a repeat carries one tensor; these lines see the model's):
    its self-attention caches every decoder position, its cross-attention every encoder position.
    norm None: T5's RMSNorm before each sub-layer; else that norm after each residual sum (BART).
    drops: the dropouts ((rate, name) or None) on the self-attention's, the cross-attention's and
    the MLP's outputs."""
    on_self, on_cross, on_mlp = (lambda expr, drop=drop: apply_dropout(drop, expr) for drop in drops)
    if norm is None:
        return ["h = rmsnorm(y)", f"y = y + {on_self(f'{attention}(h, h)')}", "h = rmsnorm(y)",
                f"y = y + {on_cross(f'{attention}(h, x)')}", "h = rmsnorm(y)", *mlp_lines, f"y = y + {on_mlp('m')}"]
    return [f"y = {norm}(y + {on_self(f'{attention}(y, y)')})", f"y = {norm}(y + {on_cross(f'{attention}(y, x)')})",
            *mlp_lines, f"y = {norm}(y + {on_mlp('m')})"]


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
    # dropout_rate: on each stack's embeddings and its output (one module, the stack's `dropout`), the
    # attention probabilities, each sub-layer's output, and the MLP's hidden units
    rate = f.rate("dropout_rate")
    inner = dropped(rate, "dropout")
    mlp = Mlp("gated" if gated else "plain", d_ff, ACTIVATIONS[act_name],
              names=("wi_0", "wi_1", "wo") if gated and inner else ("DenseReluDense",) if gated else ("wi", "wo"),
              dropout=inner)
    attention = Attention(heads, None, d_kv, "none", dropout=rate, dropout_field="dropout_rate", cache="none",
                          linears="q")
    layer = Decoder("", d, "", attention, mlp, block="encoder_layer", attn_dropout=dropped(rate, "attention_dropout"),
                    mlp_dropout=dropped(rate, "ff_dropout"))
    layer.names = {"attn": "self_attention", "norm1": "attention_layer_norm", "norm2": "ff_layer_norm"}
    call, _ = layer_block(p, layer)
    # the relative position table of each stack's first layer, which every layer of the stack uses
    p.declare("relative_position_bias")
    if gated and inner:
        mlp_lines = [f"g = dense({d_ff}, use_bias=false, activation={mlp.activation})(h)",
                     f"m = {dropout_call(*inner)}(g * dense({d_ff}, use_bias=false)(h))",
                     f"m = dense({d}, use_bias=false)(m)"]
    elif gated:
        mlp_lines = [f"m = gated_mlp({d_ff}, activation={mlp.activation}, linears=wi_0)(h)"]
    else:
        mlp_lines = [f"m = dense({d_ff}, use_bias=false, activation={mlp.activation})(h)",
                     *([f"m = {dropout_call(*inner)}(m)"] if inner else []),
                     f"m = dense({d}, use_bias=false)(m)"]
    attention = f"multihead_attention({heads}, {d_kv}, use_bias=false{f', dropout={decimal(rate)}' if rate else ''}, linears=q)"

    def stack_dropout(stack, t):
        return [f"{t} = {dropout_call(rate, stack + '_dropout')}({t})"] if rate else []
    lines = ["input_ids = input (sequence_length) int", "decoder_input_ids = input (target_length) int",
             f"shared = embedding({vocab}, {d})",
             "x = shared(input_ids)",
             f"x = relative_position_bias({buckets}, {heads}, name=encoder_relative_attention_bias)(x)",
             *stack_dropout("encoder", "x"),
             f"x = repeat({layers}, {call})(x)",
             "x = rmsnorm(name=encoder_final_layer_norm)(x)",
             *stack_dropout("encoder", "x"),
             "y = shared(decoder_input_ids)",
             f"y = relative_position_bias({buckets}, {heads}, name=decoder_relative_attention_bias)(y)",
             *stack_dropout("decoder", "y"),
             f"repeat {decoder_layers}:",
             *[f"    {line}" for line in _cross_lines(attention, mlp_lines, None,
                                                      (dropped(rate, "attention_dropout"),
                                                       dropped(rate, "cross_attention_dropout"),
                                                       dropped(rate, "ff_dropout")))],
             "y = rmsnorm(name=decoder_final_layer_norm)(y)",
             *stack_dropout("decoder", "y")]
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
    # dropout on each stack's embeddings and each sub-layer's output, attention_dropout on the
    # attention probabilities, activation_dropout on the MLP's hidden units (none a module of its own)
    rate, probabilities = f.rate("dropout"), f.rate("attention_dropout")
    on_output, on_hidden = dropped(rate, "dropout"), dropped(f.rate("activation_dropout"), "activation_dropout")
    call = _encoder_layer(f, p, d, enc_heads, enc_ff, act, mlp_names=("fc1", "fc2"), linears="out_proj",
                          names={"attn": "self_attn", "norm1": "self_attn_layer_norm", "norm2": "final_layer_norm"},
                          dropouts=(probabilities, on_output, on_hidden, on_output))
    dec_dim = head_dim_of(p, d, dec_heads)
    attention = f"multihead_attention({dec_heads}, {dec_dim}{f', dropout={decimal(probabilities)}' if probabilities else ''}, linears=out_proj)"
    mlp_lines = [f"m = dense({dec_ff}, activation={act})(y)",
                 *([f"m = {dropout_call(*on_hidden)}(m)"] if on_hidden else []), f"m = dense({d})(m)"]
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
              *([f"x = {dropout_call(rate, 'encoder_dropout')}(x)"] if rate else []),
              f"x = repeat({enc_layers}, {call})(x)",
              f"y = {dec}(decoder_input_ids) + position_embedding({positions} + 2, {d}, "
              "name=decoder_embed_positions)(decoder_input_ids)",
              "y = layernorm(name=decoder_layernorm_embedding)(y)",
              *([f"y = {dropout_call(rate, 'decoder_dropout')}(y)"] if rate else []),
              f"repeat {dec_layers}:",
              *[f"    {line}" for line in _cross_lines(attention, mlp_lines, "layernorm",
                                                       (on_output, on_output, on_output))]]
    if head == "lm":
        tie = ", tied=shared" if tied else ""
        lines.append(f"logits = {p.declare('final_logits_bias')}()(dense({vocab}, use_bias=false{tie}, name=lm_head)(y))")
    f.sym("sequence_length", f.symbols[positions])
    f.sym("target_length", f.symbols[positions])
    return lines


FAMILIES = {
    **{family: _bert_like for family in ("bert", "roberta", "distilbert", "electra", "albert")},
    "vit": _vit,
    "t5": _t5,
    "bart": _bart,
}
