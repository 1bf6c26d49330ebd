# examples/megatron_gpt.sp — GPT as Megatron-LM trains it (Shoeybi et al. 2019; Narayanan et al. 2021),
# in the papers' symbols: h hidden size, a heads, l layers, s sequence length, V vocabulary.
# Dropout after the attention probabilities, the attention output and the MLP output, as the
# activation-memory accounting of Korthikanti et al. 2022 assumes. Sizes are Table 1's 1.7B model.
block gpt_layer(h, a)(x):
    n = layernorm(x)
    x = x + dropout(0.1)(multihead_attention(a, h / a, dropout=0.1)(n, n))
    m = layernorm(x)
    m = dense(4 * h, activation=gelu)(m)
    return x + dropout(0.1)(dense(h)(m))

model megatron_gpt(V = 51200, s = 2048, h = 2304, l = 24, a = 24):
    where h % a == 0
    tokens = input (s) int
    wte = embedding(V, h)
    x = wte(tokens) + position_embedding(s, h)(tokens)
    x = repeat(l, gpt_layer(h, a))(x)
    x = layernorm(x)
    logits = dense(V, use_bias=false, tied=wte)(x)
