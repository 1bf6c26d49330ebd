# Layers the importers write (Hugging Face transformers' modules the catalog has no entry for),
# declared in the language as users declare theirs, with the facts the quantities read. Loaded by
# prelude.py after prelude.sp, so `symparams layers` lists them too.

# softmax(q k^T / sqrt(head_dim)) v for each of the heads, kv_heads key/value heads shared by
# groups of query heads: no weights, the projections around it hold them.
layer attention_product(heads, kv_heads, head_dim)(q: (*, t, a), k: (*, s, b), v: (*, s, b)) -> (*, t, a):
    where a == heads * head_dim, b == kv_heads * head_dim
    macs = heads * t * s * 2 * head_dim
    attention = attention(heads=heads, kv_heads=kv_heads, key_dim=head_dim, queries=t, keys=s, upcast=true)
    parallel = elementwise

# The same in an encoder (ViT's self-attention written as its projections): nothing is cached.
layer encoder_attention_product(heads, kv_heads, head_dim)(q: (*, t, a), k: (*, s, b), v: (*, s, b)) -> (*, t, a):
    where a == heads * head_dim, b == kv_heads * head_dim
    macs = heads * t * s * 2 * head_dim
    attention = attention(heads=heads, kv_heads=kv_heads, key_dim=head_dim, queries=t, keys=s, cache=none, upcast=true)
    parallel = elementwise

# The same over a sliding window: each query reads the last `window` positions, and a generating
# model caches window - 1 of them (transformers computes the whole product and masks it, so the
# MACs are attention_product's).
layer sliding_attention_product(heads, kv_heads, head_dim, window)(q: (*, t, a), k: (*, s, b), v: (*, s, b)) -> (*, t, a):
    where a == heads * head_dim, b == kv_heads * head_dim
    macs = heads * t * s * 2 * head_dim
    attention = attention(heads=heads, kv_heads=kv_heads, key_dim=head_dim, queries=t, keys=s, cache=window, window=window, upcast=true)
    parallel = elementwise

# Multi-head latent attention's product: per head, queries and keys of qk_head_dim features
# (the rotary part shared by all heads), values of v_head_dim; no weights. A generating model caches
# the `latent` numbers per position it rebuilds them from (kv_lora_rank + qk_rope_head_dim).
layer latent_attention_product(heads, qk_head_dim, v_head_dim, latent)(q: (*, t, a), kv: (*, s, b)) -> (*, t, heads * v_head_dim):
    where a == heads * qk_head_dim
    macs = heads * t * s * (qk_head_dim + v_head_dim)
    attention = attention(heads=heads, key_dim=qk_head_dim, value_dim=v_head_dim, queries=t, keys=s, cache=latent, latent=latent, upcast=true)
    parallel = elementwise

# RMSNorm over each head's head_dim features, one scale of head_dim shared by every head.
layer per_head_rmsnorm(head_dim)(x: (*rows, n)) -> (*rows, n):
    where n % head_dim == 0
    params = head_dim

# LayerNorm over each head's head_dim features, one scale and one shift of head_dim shared by every head.
layer per_head_layernorm(head_dim)(x: (*rows, n)) -> (*rows, n):
    where n % head_dim == 0
    params = 2 * head_dim

# The rotary angles, computed once per model for every layer's attention: inv_freq and
# original_inv_freq, rotary_dim / 2 numbers each (buffers; no weights), for each kind of
# attention where the layers have several (Gemma 3's sliding and full).
# For the backward pass the attention layers keep the cosine and sine tables they rotate by,
# t x rotary_dim numbers each, computed once for the whole batch and shared by every layer.
layer rotary_tables(rotary_dim)(x: (*, t, n)) -> (*, t, n):
    where rotary_dim % 2 == 0
    buffers = rotary_dim
    saved_per_batch = 2 * t * rotary_dim

# GPT-J's rotary angles: a sine and cosine table of positions x rotary_dim (a buffer; no weights).
layer sincos_table(positions, rotary_dim)(x: (*, t, n)) -> (*, t, n):
    where t <= positions
    buffers = positions * rotary_dim

# DeepSeek's kv_a_layernorm: RMSNorm over the kv_lora_rank latent features of the joint
# projection; the rotary key's features beside them go around it, to the attention.
layer latent_norm(kv_lora_rank)(x: (*rows, n)) -> (*rows, kv_lora_rank):
    where kv_lora_rank < n
    params = kv_lora_rank

# Scales the shared expert's output by sigmoid(x w), w one weight per feature of x.
layer shared_expert_gate()(y: (*rows, n), x: (*rows, n)) -> (*rows, n):
    params = n
    macs = rows * n
    saved = 2 * rows * n

# DeepSeek-V3's router adds a learned-offline correction per expert to its scores: a buffer.
layer router_correction(experts)(x: (*, t, n)) -> (*, t, n):
    buffers = experts

# Gemma multiplies the embeddings by sqrt(hidden_size), kept as a one-number buffer.
layer embed_scale()(x: (*, t, n)) -> (*, t, n):
    buffers = 1

# BERT-style embeddings keep position ids (and default token type ids) as buffers, one table
# of max_position_embeddings numbers each; no weights.
layer id_buffers(positions, tables)(x: (*, t, n)) -> (*, t, n):
    buffers = positions * tables

# Untied, the output layer has a bias of its own, and transformers still keeps the head's
# separate bias vector (one number per output) as a parameter, which its forward pass skips.
layer untied_bias()(x: (*rows, n)) -> (*rows, n):
    params = n

# T5's relative position table: one learned number per distance bucket and head, kept by the
# first layer of a stack and used by all of its layers.
layer relative_position_bias(buckets, heads)(x: (*, t, n)) -> (*, t, n):
    params = buckets * heads

# An embedding table of rows vectors as wide as x that the forward pass never reads (BART's
# `shared` when the embeddings are untied): its weights count, nothing else.
layer unread_table(rows)(x: (*, t, n)) -> (*, t, n):
    params = rows * n

# BART adds a fixed bias to the logits, one number per token, kept as a buffer.
layer final_logits_bias()(x: (*rows, n)) -> (*rows, n):
    buffers = n

# The last position's features: a decoder's sequence classifier scores every position and keeps the
# last token's logits (transformers' last one that is not padding).
layer last_token()(x: (*, t, n)) -> (*, n):
    params = 0

# A question-answering head's logits, two per position: the span's start's, or its end's.
layer span_logits()(x: (*, t, n)) -> (*, t):
    where n == 2
    params = 0

# A multiple-choice head's one score per choice, as a vector of the choices' scores.
layer choice_scores()(x: (*, c, n)) -> (*, c):
    where n == 1
    params = 0
