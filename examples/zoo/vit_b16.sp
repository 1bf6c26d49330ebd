# ViT-B/16 (Dosovitskiy et al. 2021) as torchvision's vit_b_16 counts it.
# symparams summary examples/zoo/vit_b16.sp --expand
convention torch

block vit_layer(d, h, mlp)(x):
    a = layernorm(x)
    x = x + MultiheadAttention(embed_dim=d, num_heads=h, cache=none)(a, a)
    m = layernorm(x)
    m = linear(mlp, activation=gelu)(m)
    return x + linear(d)(m)

model vit_b16(H = 224, W = 224, C = 3, p = 16, d = 768, L = 12, h = 12, mlp = 3072, classes = 1000):
    where d % h == 0, H % p == 0, W % p == 0
    image = input (C, H, W)
    x = class_token(patch_embedding(p, d)(image))
    x = x + position_embedding((H // p) * (W // p) + 1)(x)
    repeat(L, vit_layer(d, h, mlp))
    layernorm
    first_token
    linear(classes)
