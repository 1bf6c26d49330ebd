# Gpt2 from examples/torch/gpt2_exported.py:Gpt2, imported by `symparams import`
# (torch.fx): counted as PyTorch builds it, its constructor's size parameters as symbols.
convention torch

block gpt_layer(d, h)(x):
    layernorm_1 = layernorm()(x)
    multihead_attention_1 = multihead_attention(num_heads=h, embed_dim=d)(layernorm_1, layernorm_1)
    add_out = x + multihead_attention_1
    layernorm_2 = layernorm()(add_out)
    dense_1 = dense(4*d, activation=gelu)(layernorm_2)
    dense_2 = dense(d)(dense_1)
    return add_out + dense_2

model gpt2(V = 50257, T = 1024, d = 768, L = 12, h = 12):
    input_1 = input (T) int
    wte = embedding(V, d)
    wte_out = wte(input_1)
    position_embedding_1 = position_embedding(T, d)(input_1)
    add_out = wte_out + position_embedding_1
    repeat_1 = repeat(L, gpt_layer(d, h))(add_out)
    layernorm_1 = layernorm()(repeat_1)
    dense_1 = dense(V, use_bias=false, tied=wte)(layernorm_1)
