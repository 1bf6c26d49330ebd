# GPT-2 (Radford et al. 2019), as Hugging Face's GPT2LMHeadModel counts it: the output
# layer reuses the token embedding (tied), so it adds no parameters.
# symparams summary examples/zoo/gpt2.sp --model gpt2_xl
block gpt_layer(d, h)(x):
    a = layernorm(x)
    x = x + multihead_attention(h, d / h)(a, a)
    m = layernorm(x)
    m = dense(4 * d, activation=gelu)(m)
    m = dense(d)(m)
    return x + m

block gpt(V, T, d, L, h)(tokens):
    wte = embedding(V, d)
    x = wte(tokens) + position_embedding(T, d)(tokens)
    x = repeat(L, gpt_layer(d, h))(x)
    x = layernorm(x)
    return dense(V, use_bias=false, tied=wte)(x)

model gpt2_small(V = 50257, T = 1024, d = 768, L = 12, h = 12):
    where d % h == 0
    tokens = input (T) int
    logits = gpt(V, T, d, L, h)(tokens)

model gpt2_medium(V = 50257, T = 1024, d = 1024, L = 24, h = 16):
    where d % h == 0
    tokens = input (T) int
    logits = gpt(V, T, d, L, h)(tokens)

model gpt2_large(V = 50257, T = 1024, d = 1280, L = 36, h = 20):
    where d % h == 0
    tokens = input (T) int
    logits = gpt(V, T, d, L, h)(tokens)

model gpt2_xl(V = 50257, T = 1024, d = 1600, L = 48, h = 25):
    where d % h == 0
    tokens = input (T) int
    logits = gpt(V, T, d, L, h)(tokens)
