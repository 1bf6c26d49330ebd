# Layers the catalog declares in the symparams language itself, exactly as users declare
# theirs (docs/blocks.md): a shape rule by pattern, and formulas. Loaded by prelude.py.

# ViT/BERT's [CLS] token: one learned vector put in front of the sequence.
layer class_token()(x: (*, t, n)) -> (*, t + 1, n):
    params = n

# Rotary position embedding (RoPE) rotates queries and keys by fixed angles: no weights.
layer rotary_embedding()(x: (*, t, n)) -> (*, t, n):
    where n % 2 == 0

# The first position's features, as BERT's pooler and ViT's head read the [CLS] token.
layer first_token()(x: (*, t, n)) -> (*, n):
    params = 0

# Keras-hub's TokenAndPositionEmbedding: token ids to vectors, plus a learned vector per position.
layer token_and_position_embedding(vocabulary_size, sequence_length, embedding_dim)(x: (*, t)) -> (*, t, embedding_dim):
    where t <= sequence_length
    params = (vocabulary_size + sequence_length) * embedding_dim

# A learned per-feature scale (CaiT's LayerScale, ConvNeXt's gamma): one weight per feature.
layer layer_scale()(x: (*rows, n)) -> (*rows, n):
    params = n
