# Llama 2 70B (Touvron et al. 2023) as Hugging Face's LlamaForCausalLM counts it: Llama 2 7B's
# layers with grouped-query attention (64 query heads sharing 8 key/value heads), which is what
# its KV cache holds. symparams formula examples/zoo/llama2_70b.sp --of kv_cache --dtype bfloat16
block llama_layer(d, hq, hkv, ff)(x):
    a = rotary_embedding(rmsnorm(x))
    x = x + grouped_query_attention(d / hq, hq, hkv, use_bias=false)(a, a)
    return x + gated_mlp(ff)(rmsnorm(x))

model llama2_70b(V = 32000, T = 4096, d = 8192, L = 80, hq = 64, hkv = 8, ff = 28672):
    where d % hq == 0, hq % hkv == 0
    tokens = input (T) int
    x = embedding(V, d)(tokens)
    x = repeat(L, llama_layer(d, hq, hkv, ff))(x)
    x = rmsnorm(x)
    logits = dense(V, use_bias=false)(x)
