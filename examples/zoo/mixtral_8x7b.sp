# Mixtral 8x7B (Jiang et al. 2024): Llama-style layers whose MLP is a mixture of 8 SwiGLU
# experts, 2 active per token, and grouped-query attention (32 query heads, 8 key/value heads).
# The table's params count every expert; the moe rows note the weights a token uses.
block mixtral_layer(d, hq, hkv, ff, E, k)(x):
    a = rotary_embedding(rmsnorm(x))
    x = x + grouped_query_attention(d / hq, hq, hkv, use_bias=false)(a, a)
    return x + moe(E, ff, top_k=k)(rmsnorm(x))

model mixtral_8x7b(V = 32000, T = 4096, d = 4096, L = 32, hq = 32, hkv = 8, ff = 14336, E = 8, k = 2):
    where d % hq == 0, hq % hkv == 0
    tokens = input (T) int
    x = embedding(V, d)(tokens)
    x = repeat(L, mixtral_layer(d, hq, hkv, ff, E, k))(x)
    x = rmsnorm(x)
    logits = dense(V, use_bias=false)(x)
