# Llama 2 7B (Touvron et al. 2023) as Hugging Face's LlamaForCausalLM counts it: RMSNorm
# (a scale only), attention without biases, rotary positions (no weights), a SwiGLU MLP,
# and an output layer of its own (not tied).
# symparams summary examples/zoo/llama2_7b.sp --set L=80 d=8192 h=64 ff=28672
block llama_layer(d, h, ff)(x):
    a = rotary_embedding(rmsnorm(x))
    x = x + multihead_attention(h, d / h, use_bias=false)(a, a)
    return x + gated_mlp(ff)(rmsnorm(x))

model llama2_7b(V = 32000, T = 4096, d = 4096, L = 32, h = 32, ff = 11008):
    where d % h == 0
    tokens = input (T) int
    x = embedding(V, d)(tokens)
    x = repeat(L, llama_layer(d, h, ff))(x)
    x = rmsnorm(x)
    logits = dense(V, use_bias=false)(x)
