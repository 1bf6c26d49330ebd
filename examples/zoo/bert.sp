# BERT (Devlin et al. 2019), uncased, with the pooler, as Hugging Face's BertModel counts it.
# symparams summary examples/zoo/bert.sp --model bert_large
block bert_layer(d, h, ff)(x):
    a = multihead_attention(h, d / h, cache=none)(x, x)
    x = layernorm(x + a)
    m = dense(ff, activation=gelu)(x)
    m = dense(d)(m)
    return layernorm(x + m)

block bert(V, P, S, d, L, h, ff)(tokens, segments):
    x = embedding(V, d)(tokens) + position_embedding(P, d)(tokens) + embedding(S, d)(segments)
    x = layernorm(x)
    x = repeat(L, bert_layer(d, h, ff))(x)
    cls = first_token(x)
    return dense(d, activation=tanh, name=pooler)(cls)

model bert_base(V = 30522, T = 512, P = 512, S = 2, d = 768, L = 12, h = 12):
    where d % h == 0, T <= P
    tokens = input (T) int
    segments = input (T) int
    pooled = bert(V, P, S, d, L, h, 4 * d)(tokens, segments)

model bert_large(V = 30522, T = 512, P = 512, S = 2, d = 1024, L = 24, h = 16):
    where d % h == 0, T <= P
    tokens = input (T) int
    segments = input (T) int
    pooled = bert(V, P, S, d, L, h, 4 * d)(tokens, segments)
