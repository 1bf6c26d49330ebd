# Swin-T (Liu et al. 2021) as torchvision's swin_t builds it: a 4x4 patch embedding, then stages of
# Swin blocks on channels-last maps (LayerNorm, window attention, LayerNorm, a 4x MLP, each added
# to its input), a patch merging between stages. Shifting the windows moves no weight, so a
# block's counts are the same shifted or not.
# symparams summary examples/zoo/swin_t.sp --expand
convention torch

# torchvision's ShiftedWindowAttention: qkv and proj linears, a learned bias per head for every
# relative offset in a w x w window ((2w - 1)**2 of them), and the offsets' index as a buffer.
# The map is padded to whole windows; MACs are the linears over it and, per window, q k^T and
# the attention times v (2 * w**2 * C per position).
layer window_attention(heads, w)(x: (H, W, C)) -> (H, W, C):
    params = 4*C*C + 4*C + (2*w - 1)**2 * heads
    buffers = w**4
    macs = w*((H + w - 1) // w) * w*((W + w - 1) // w) * (4*C*C + 2*w*w*C)
    attention = attention(heads=heads, key_dim=C / heads, queries=w*((H + w - 1) // w) * w*((W + w - 1) // w), keys=w*w, cache=none)

# PatchMerging's gather: each 2x2 neighbourhood (odd sizes padded) side by side on the channels.
layer patch_gather()(x: (H, W, C)) -> ((H + 1) // 2, (W + 1) // 2, 4*C):
    params = 0

block swin_block(heads, w)(x: (H, W, C)):
    x = x + window_attention(heads, w)(layernorm(x))
    return x + linear(C)(linear(4 * C, activation=gelu)(layernorm(x)))

block patch_merging()(x: (H, W, C)):
    x = layernorm(patch_gather(x))
    return linear(2 * C, use_bias=false)(x)

model swin_t(H = 224, W = 224, classes = 1000, d = 96, w = 7, n1 = 2, n2 = 2, n3 = 6, n4 = 2):
    input (3, H, W)
    conv2d(d, 4, strides=4)
    permute((2, 3, 1))
    layernorm
    repeat(n1, swin_block(3, w))
    patch_merging
    repeat(n2, swin_block(6, w))
    patch_merging
    repeat(n3, swin_block(12, w))
    patch_merging
    repeat(n4, swin_block(24, w))
    layernorm
    permute((3, 1, 2))
    adaptive_avgpool2d(1)
    flatten
    linear(classes)
