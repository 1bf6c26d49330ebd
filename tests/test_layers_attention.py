"""The transformer family (catalog/attention.py, catalog/prelude.sp) against PyTorch and Keras 3."""
import numpy as np
import pytest
import sympy as sp

import symparams


def derive(body: str, header: str = "", convention: str = "keras"):
    return symparams.parse(f"convention {convention}\nmodel m({header}):\n" + body).evaluate()


def n_params(module) -> int:
    return sum(p.numel() for p in module.parameters())


def keras_params(layer, *shapes):
    import keras
    inputs = [keras.Input(s) for s in shapes]
    out = layer(*inputs)
    model = keras.Model(inputs, out)
    return sum(int(np.prod(w.shape)) for w in model.weights), tuple(out.shape[1:])


def torch_macs(module, *inputs) -> int:
    from torch.utils.flop_counter import FlopCounterMode
    with FlopCounterMode(display=False) as counter:
        module(*inputs)
    return counter.get_total_flops() // 2


KERAS_MHA = [  # (T, S, dq, dv, dk, heads, key_dim, value_dim, use_bias, output_shape)
    (5, 5, 16, 16, 16, 4, 4, None, True, None),
    (7, 3, 12, 20, 9, 3, 8, 6, False, None),
    (4, 6, 10, 10, 14, 2, 5, 7, True, 11),
]


@pytest.mark.parametrize("T,S,dq,dv,dk,heads,key_dim,value_dim,use_bias,output_shape", KERAS_MHA)
def test_multihead_attention_matches_keras(T, S, dq, dv, dk, heads, key_dim, value_dim, use_bias, output_shape):
    import keras
    args = f"{heads}, {key_dim}" + (f", value_dim={value_dim}" if value_dim else "") + \
        f", use_bias={'true' if use_bias else 'false'}" + (f", output_shape={output_shape}" if output_shape else "")
    ev = derive(f"    q = input ({T}, {dq})\n    v = input ({S}, {dv})\n    k = input ({S}, {dk})\n"
                f"    y = multihead_attention({args})(q, v, k)\n")
    layer = keras.layers.MultiHeadAttention(heads, key_dim, value_dim=value_dim, use_bias=use_bias,
                                            output_shape=output_shape)
    import keras as K
    q, v, k = K.Input((T, dq)), K.Input((S, dv)), K.Input((S, dk))
    out = layer(q, v, k)
    expected = sum(int(np.prod(w.shape)) for w in layer.weights)
    assert (ev.params, ev.shape(ev.model.output_shape)) == (expected, tuple(out.shape[1:]))


@pytest.mark.parametrize("E,h,kdim,vdim,bias,add_bias_kv", [(16, 4, None, None, True, False),
                                                            (24, 3, 10, 7, True, True),
                                                            (32, 8, None, 12, False, False)])
def test_multihead_attention_matches_torch(E, h, kdim, vdim, bias, add_bias_kv):
    import torch
    from torch import nn
    T, S = 5, 6
    mha = nn.MultiheadAttention(E, h, bias=bias, kdim=kdim, vdim=vdim, add_bias_kv=add_bias_kv, batch_first=True)
    extra = "".join(f", {k}={v}" for k, v in (("kdim", kdim), ("vdim", vdim)) if v) + \
        f", bias={'true' if bias else 'false'}, add_bias_kv={'true' if add_bias_kv else 'false'}"
    ev = derive(f"    q = input ({T}, {E})\n    v = input ({S}, {vdim or E})\n    k = input ({S}, {kdim or E})\n"
                f"    y = MultiheadAttention(embed_dim={E}, num_heads={h}{extra})(q, v, k)\n", convention="torch")
    assert ev.params == n_params(mha)
    if not add_bias_kv:
        q, k, v = torch.zeros(1, T, E), torch.zeros(1, S, kdim or E), torch.zeros(1, S, vdim or E)
        assert ev.macs == torch_macs(lambda *a: mha(*a), q, k, v)
    assert ev.shape(ev.model.output_shape) == (T, E)


@pytest.mark.parametrize("head_dim,hq,hkv,d,use_bias", [(8, 4, 2, 32, True), (16, 8, 1, 64, False),
                                                        (4, 6, 3, 20, True)])
def test_grouped_query_attention_matches_keras(head_dim, hq, hkv, d, use_bias):
    import keras
    ev = derive(f"    x = input (7, {d})\n    y = grouped_query_attention({head_dim}, {hq}, {hkv}, "
                f"use_bias={'true' if use_bias else 'false'})(x, x)\n")
    layer = keras.layers.GroupQueryAttention(head_dim, hq, hkv, use_bias=use_bias)
    x = keras.Input((7, d))
    out = layer(x, x)
    assert ev.params == sum(int(np.prod(w.shape)) for w in layer.weights)
    assert ev.shape(ev.model.output_shape) == tuple(out.shape[1:])


@pytest.mark.parametrize("d,nhead,ff,bias", [(16, 4, None, True), (32, 8, 64, False), (512, 8, None, True)])
def test_transformer_encoder_and_decoder_layers_match_torch(d, nhead, ff, bias):
    import torch
    from torch import nn
    kw = {"dim_feedforward": ff} if ff else {}
    enc = nn.TransformerEncoderLayer(d, nhead, bias=bias, batch_first=True, **kw)
    dec = nn.TransformerDecoderLayer(d, nhead, bias=bias, batch_first=True, **kw)
    args = f"{d}, {nhead}" + (f", dim_feedforward={ff}" if ff else "") + f", bias={'true' if bias else 'false'}"
    ev = derive(f"    x = input (5, {d})\n    mem = input (3, {d})\n    y = TransformerEncoderLayer({args})(x)\n"
                f"    z = TransformerDecoderLayer({args})(y, mem)\n", convention="torch")
    assert ev.row("transformerencoderlayer_1")["params"] == n_params(enc)
    assert ev.row("transformerdecoderlayer_1")["params"] == n_params(dec)
    if d <= 32:
        x, mem = torch.zeros(1, 5, d), torch.zeros(1, 3, d)
        assert ev.row("transformerencoderlayer_1")["macs"] == torch_macs(enc.train(), x)
        assert ev.row("transformerdecoderlayer_1")["macs"] == torch_macs(dec.train(), x, mem)


@pytest.mark.parametrize("E,h", [(16, 4), (64, 8), (30, 5)])
def test_multihead_attention_spelled_as_torch_takes_torch_positional_order(E, h):
    from torch import nn
    torch_style = derive(f"    x = input (7, {E})\n    y = MultiheadAttention({E}, {h})(x, x)\n", convention="torch")
    keras_style = derive(f"    x = input (7, {E})\n    y = multihead_attention({h}, {E // h})(x, x)\n")
    assert torch_style.params == keras_style.params == n_params(nn.MultiheadAttention(E, h))


def test_transformer_layer_checks_its_width():
    with pytest.raises(symparams.SymparamsError, match="d_model"):
        derive("    x = input (5, 12)\n    TransformerEncoderLayer(16, 4)\n")


@pytest.mark.parametrize("T,d,t", [(1024, 768, 1024), (16, 8, 5), (512, 64, 512)])
def test_position_embedding_matches_torch_embedding(T, d, t):
    from torch import nn
    ev = derive(f"    tokens = input ({t}) int\n    p = position_embedding({T}, {d})(tokens)\n")
    assert ev.params == n_params(nn.Embedding(T, d)) and ev.shape(ev.model.output_shape) == (t, d)
    ev = derive(f"    x = input ({t}, {d})\n    p = position_embedding({T})(x)\n")   # Keras-hub's form
    assert ev.params == T * d and ev.shape(ev.model.output_shape) == (t, d)


def test_position_embedding_too_short_is_an_error():
    with pytest.raises(symparams.SymparamsError, match="has 10 positions"):
        derive("    tokens = input (20) int\n    position_embedding(10, 4)\n")


@pytest.mark.parametrize("d,hidden,bias", [(16, 40, False), (64, 172, True), (4096, 11008, False)])
def test_gated_mlp_matches_torch_swiglu(d, hidden, bias):
    from torch import nn
    mlp = nn.ModuleList([nn.Linear(d, hidden, bias=bias), nn.Linear(d, hidden, bias=bias),
                         nn.Linear(hidden, d, bias=bias)]).to("meta")
    ev = derive(f"    input (3, {d})\n    gated_mlp({hidden}, use_bias={'true' if bias else 'false'})\n")
    assert ev.params == n_params(mlp) and ev.shape(ev.model.output_shape) == (3, d)


@pytest.mark.parametrize("E,k,d,hidden", [(8, 2, 32, 48), (4, 1, 16, 24), (8, 2, 4096, 14336)])
def test_mixture_of_experts_total_and_active_match_torch(E, k, d, hidden):
    from torch import nn

    def expert():
        return nn.ModuleList([nn.Linear(d, hidden, bias=False), nn.Linear(d, hidden, bias=False),
                              nn.Linear(hidden, d, bias=False)])
    router = nn.Linear(d, E, bias=False).to("meta")
    experts = [expert().to("meta") for _ in range(E)]
    m = symparams.parse(f"model m():\n    input (5, {d})\n    moe({E}, {hidden}, top_k={k})\n")
    row = m.rows[0]
    ev = m.evaluate()
    assert ev.params == n_params(router) + sum(n_params(e) for e in experts)
    assert ev.number(row.active) == n_params(router) + sum(n_params(e) for e in experts[:k])


@pytest.mark.parametrize("H,W,C,p,d", [(224, 224, 3, 16, 768), (32, 48, 1, 8, 64), (30, 30, 3, 7, 16)])
def test_patch_embedding_matches_torch_conv_proj(H, W, C, p, d):
    import torch
    from torch import nn
    conv = nn.Conv2d(C, d, p, stride=p)
    grid = conv.to("meta")(torch.zeros(1, C, H, W, device="meta")).shape
    patches = grid[2] * grid[3]
    torch_ev = derive(f"    input ({C}, {H}, {W})\n    patch_embedding({p}, {d})\n", convention="torch")
    keras_ev = derive(f"    input ({H}, {W}, {C})\n    patch_embedding({p}, {d})\n")
    for ev in (torch_ev, keras_ev):
        assert ev.params == n_params(conv) and ev.shape(ev.model.output_shape) == (patches, d)


def test_prelude_layers_class_token_and_rotary():
    from torch import nn
    ev = derive("    input (196, 768)\n    class_token\n    rotary_embedding\n    first_token\n")
    cls = nn.Parameter(nn.init.zeros_(nn.Linear(1, 768).weight.T))   # torchvision's class_token: (1, 1, 768)
    assert ev.params == cls.numel() == 768
    assert [ev.shape(r.output_shape) for r in ev.model.rows] == [(197, 768), (197, 768), (768,)]
    with pytest.raises(symparams.SymparamsError, match="n % 2 == 0"):
        derive("    input (10, 7)\n    rotary_embedding\n")


def test_attention_is_symbolic_in_gpt2_style():
    m = symparams.parse("model m(T = 8, d = 64, h = 4):\n    x = input (T, d)\n"
                        "    y = multihead_attention(h, d / h)(x, x)\n")
    T, d = m.symbols["T"], m.symbols["d"]
    assert sp.expand(m.params - (4 * d * d + 4 * d)) == 0
    assert sp.expand(m.macs - (4 * T * d * d + 2 * T * T * d)) == 0
