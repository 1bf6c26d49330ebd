# examples/gpt2.sp — blocks, a symbolic repeat count, tied weights
block gpt_layer(d, h)(x):
    a = layernorm(x)
    x = x + multihead_attention(h, d / h)(a, a)
    m = layernorm(x)
    m = dense(4 * d, activation=gelu)(m)
    m = dense(d)(m)
    return x + m

model gpt2(V = 50257, T = 1024, d = 768, L = 12, h = 12):
    where d % h == 0
    tokens = input (T) int
    wte = embedding(V, d)
    x = wte(tokens) + position_embedding(T, d)(tokens)
    x = repeat(L, gpt_layer(d, h))(x)
    x = layernorm(x)
    logits = dense(V, use_bias=false, tied=wte)(x)
