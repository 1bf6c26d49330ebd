"""Blocks, repeats, shared, tied and frozen weights -- checked against PyTorch and Keras."""
import time
from pathlib import Path

import numpy as np
import pytest
import sympy as sp
from hypothesis import given, settings
from hypothesis import strategies as st

import symparams
from symparams.errors import ArgumentError, ShapeError, SyntaxProblem
from symparams.render import text_table

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
GPT2 = (EXAMPLES / "gpt2.sp").read_text()


def torch_gpt2_block(d, h):
    """GPT-2's block as torch modules: ln_1, attention (c_attn + c_proj), ln_2, mlp (c_fc, c_proj)."""
    from torch import nn
    return nn.ModuleList([nn.LayerNorm(d), nn.MultiheadAttention(d, h), nn.LayerNorm(d),
                          nn.Linear(d, 4 * d), nn.Linear(4 * d, d)]).to("meta")


def torch_gpt2(V, T, d, L, h):
    from torch import nn
    wte = nn.Embedding(V, d, device="meta")
    head = nn.Linear(d, V, bias=False, device="meta")
    head.weight = wte.weight          # tied, as GPT-2's lm_head (after moving: .to() would untie them)
    return nn.ModuleList([wte, nn.Embedding(T, d, device="meta"), *[torch_gpt2_block(d, h) for _ in range(L)],
                          nn.LayerNorm(d, device="meta"), head])


def n_params(module) -> int:
    return sum(p.numel() for p in module.parameters())   # parameters() counts a shared tensor once


def test_gpt2_as_written_gives_the_published_count():
    m = symparams.load(EXAMPLES / "gpt2.sp")
    ev = m.evaluate()
    assert ev.params == ev.trainable == 124_439_808
    assert m.row("dense_1").note == "tied to wte" and ev.row("dense_1")["params"] == 0


def test_gpt2_closed_form_and_megatron():
    m = symparams.load(EXAMPLES / "gpt2.sp")
    V, T, d, L, h = (m.symbols[k] for k in "VTdLh")
    assert sp.expand(m.params - (L * (12 * d**2 + 13 * d) + d * (T + V) + 2 * d)) == 0
    # Megatron-LM's count (Narayanan et al. 2021) with l layers, hidden h, sequence s: no final LayerNorm.
    megatron = 12 * L * d**2 * (1 + sp.Rational(13, 12) / d + (V + T) / (12 * L * d))
    assert sp.simplify(m.params - megatron - 2 * d) == 0


@pytest.mark.parametrize("d,h", [(64, 4), (96, 8), (768, 12)])
def test_gpt2_block_matches_torch(d, h):
    m = symparams.load(EXAMPLES / "gpt2.sp")
    row = m.evaluate({"d": d, "h": h}).row("gpt_layer_1")
    assert row["params"] == n_params(torch_gpt2_block(d, h))
    assert row["output_shape"] == (1024, d)


@pytest.mark.parametrize("V,T,d,L,h", [(100, 16, 32, 2, 4), (257, 8, 48, 3, 6), (1000, 64, 64, 5, 8)])
def test_gpt2_whole_model_matches_torch_with_tied_head(V, T, d, L, h):
    ev = symparams.load(EXAMPLES / "gpt2.sp").evaluate(dict(V=V, T=T, d=d, L=L, h=h))
    assert ev.params == n_params(torch_gpt2(V, T, d, L, h))


def _derive(text):
    start = time.perf_counter()
    m = symparams.parse(text)
    return m, time.perf_counter() - start


def test_symbolic_repeat_is_never_unrolled():
    small, _ = _derive(GPT2)
    huge, _ = _derive(GPT2.replace("L = 12", "L = 1_000_000_000"))
    count = lambda m: sum(1 for r in m.rows for _ in r.walk())
    assert count(small) == count(huge) == 14
    assert huge.evaluate().params == 1_000_000_000 * 7_087_872 + 768 * (1024 + 50257) + 2 * 768
    # A concrete count with a shape-keeping body is multiplied too, not unrolled.
    concrete, _ = _derive(GPT2.replace("repeat(L,", "repeat(1_000_000_000,"))
    assert count(concrete) == 14 and concrete.evaluate().params == huge.evaluate().params


def test_derivation_time_does_not_depend_on_the_count():
    texts = [GPT2, GPT2.replace("L = 12", "L = 10**9").replace("L = 10**9", "L = 1000000000")]
    best = [min(_derive(t)[1] for _ in range(5)) for t in texts]
    assert best[1] < 3 * best[0] + 0.01


def test_shape_changing_body_under_symbolic_repeat_names_both_shapes():
    text = """
model m(n = 4, L = 3):
    input (n)
    repeat(L, dense(2 * n))
"""
    with pytest.raises(ShapeError) as e:
        symparams.parse(text, "widen.sp")
    message = str(e.value)
    assert "(None, n)" in message and "(None, 2*n)" in message and "symbolic" in message
    assert "widen.sp:4:5" in message


def test_concrete_repeat_may_change_shape_and_matches_torch():
    from torch import nn
    text = """
block widen(k)(x):
    return dense(2 * k)(x)

model m(n = 3):
    input (n)
    repeat 4:
        dense(8)
        relu
    repeat(3, dense(5))
"""
    m = symparams.parse(text)
    assert m.output_shape == (5,)
    torch_model = nn.Sequential(nn.Linear(3, 8), *[nn.Linear(8, 8) for _ in range(3)],
                                nn.Linear(8, 5), nn.Linear(5, 5), nn.Linear(5, 5))
    assert m.evaluate().params == n_params(torch_model)


def test_repeat_lines_form_multiplies_a_shape_keeping_body():
    text = """
model m(d = 16, L = 6):
    input (10, d)
    repeat L:
        dense(d, activation=relu)
        layernorm
"""
    m = symparams.parse(text)
    d, L = m.symbols["d"], m.symbols["L"]
    assert sp.expand(m.params - L * (d * d + d + 2 * d)) == 0
    assert sp.expand(m.macs - L * 10 * d * d) == 0
    assert [r.name for r in m.rows[0].children] == ["dense_1", "layernorm_1"]


def test_instance_bound_outside_a_repeat_keeps_one_set_of_weights():
    """ALBERT-style sharing: one block instance repeated L times has its weights once, its MACs L times."""
    shared = GPT2.replace("x = repeat(L, gpt_layer(d, h))(x)", "layer = gpt_layer(d, h)\n    x = repeat(L, layer)(x)")
    m, fresh = symparams.parse(shared), symparams.parse(GPT2)
    d, L = m.symbols["d"], m.symbols["L"]
    assert sp.expand(fresh.params - m.params - (L - 1) * (12 * d**2 + 13 * d)) == 0
    assert sp.expand(fresh.macs - m.macs) == 0


def test_layer_instance_applied_twice_is_counted_once():
    from torch import nn
    text = """
model siamese(n = 12):
    a = input (n)
    b = input (n)
    enc = dense(7)
    x = enc(a)
    y = enc(b)
    z = concat(x, y)
"""
    m = symparams.parse(text)
    assert m.row("enc@2").note == "shares weights with enc"
    enc = nn.Linear(12, 7)
    assert m.evaluate().params == n_params(nn.ModuleList([enc, enc]))


def test_block_call_twice_on_one_instance_shares_its_weights():
    text = """
block mlp(k)(x):
    x = dense(k, activation=relu)(x)
    return dense(k)(x)

model m(n = 5):
    x = input (n)
    f = mlp(n)
    y = f(f(x))
"""
    m = symparams.parse(text)
    assert m.evaluate().params == 2 * (5 * 5 + 5)
    second = m.rows[1]
    assert second.note == "shares weights with f" and all(c.params == 0 for c in second.children)


def test_tied_embedding_head_matches_torch_and_rejects_a_mismatch():
    bad = GPT2.replace("x = layernorm(x)", "x = dense(2 * d)(x)")
    with pytest.raises(ShapeError) as e:
        symparams.parse(bad, "gpt2.sp")
    assert "tied=wte" in str(e.value) and "2*d" in str(e.value) and "gpt2.sp:17" in str(e.value)


def test_tied_needs_an_embedding_or_dense():
    text = """
model m(n = 4):
    x = input (n)
    c = dropout(0.1)
    y = dense(4, tied=c)(x)
"""
    with pytest.raises(ArgumentError) as e:
        symparams.parse(text)
    assert "tied=" in str(e.value)


def test_frozen_layer_and_block_match_keras():
    import keras
    text = """
block head(k)(x):
    x = dense(k, activation=relu)(x)
    return dense(3)(x)

model m(n = 6):
    input (n)
    dense(10, trainable=false)
    head(4, trainable=false)
    dense(2)
"""
    ev = symparams.parse(text).evaluate()
    inp = keras.Input((6,))
    layers = [keras.layers.Dense(10), keras.layers.Dense(4), keras.layers.Dense(3), keras.layers.Dense(2)]
    x = inp
    for lay in layers:
        x = lay(x)
    for lay in layers[:3]:
        lay.trainable = False
    km = keras.Model(inp, x)
    trainable = sum(int(np.prod(w.shape)) for w in km.trainable_weights)
    frozen = sum(int(np.prod(w.shape)) for w in km.non_trainable_weights)
    assert (ev.trainable, ev.non_trainable) == (trainable, frozen)


def test_block_arguments_defaults_and_errors():
    text = """
block ffn(d, hidden = 4 * d)(x):
    x = dense(hidden, activation=gelu)(x)
    return dense(d)(x)

model m(d = 8):
    input (3, d)
    ffn(d)
    ffn(d, hidden=2 * d)
"""
    m = symparams.parse(text)
    d = m.symbols["d"]
    assert sp.expand(m.rows[0].params - (8 * d * d + 5 * d)) == 0
    assert sp.expand(m.rows[1].params - (4 * d * d + 3 * d)) == 0
    with pytest.raises(ArgumentError, match="needs its 'd' argument"):
        symparams.parse(text.replace("    ffn(d)\n", "    ffn()\n"))
    with pytest.raises(ArgumentError, match="did you mean 'hidden'"):
        symparams.parse(text.replace("hidden=2", "hiden=2"))
    with pytest.raises(SyntaxProblem, match="'return' belongs in a block"):
        symparams.parse("model m(n = 2):\n    x = input (n)\n    return x\n")
    with pytest.raises(SyntaxProblem, match="already a layer of the catalog"):
        symparams.parse("block dense(n)(x):\n    return x\nmodel m(n = 2):\n    input (n)\n")


def test_block_row_and_its_formula_on_its_own():
    m = symparams.load(EXAMPLES / "gpt2.sp")
    block = m.row("gpt_layer_1")
    d = m.symbols["d"]
    assert block.type == "gpt_layer" and sp.expand(block.params - (12 * d**2 + 13 * d)) == 0
    assert sp.expand(block.params - sum((c.params for c in block.children), sp.Integer(0))) == 0
    shown = text_table(m, m.evaluate(), expand=True)
    assert "\n    multihead_attention_1 (MultiHeadAttention)" in shown
    assert "multihead_attention_1" not in text_table(m, m.evaluate())


def test_summary_expand_flag(capsys):
    from symparams.cli import main
    assert main(["summary", str(EXAMPLES / "gpt2.sp"), "--expand"]) == 0
    out = capsys.readouterr().out
    assert "  gpt_layer_1 (gpt_layer)" in out and "Total params: 124,439,808" in out


def test_docs_examples_run():
    import re
    docs = (Path(__file__).resolve().parent.parent / "docs" / "blocks.md").read_text()
    examples = re.findall(r"```sp\n(.*?)```", docs, re.S)
    assert len(examples) == 8
    for text in examples:
        assert symparams.parse(text).evaluate().params > 0


def test_symbolic_repeat_records_the_condition_under_which_the_shape_is_kept():
    m = symparams.parse("model m(d = 8, k = 8, L = 4):\n    input (3, d)\n    repeat(L, dense(k))\n")
    assert any("k" in c.text and "d" in c.text for c in m.constraints)
    assert m.evaluate().params == 4 * (8 * 8 + 8)
    with pytest.raises(symparams.SymparamsError, match="does not hold"):
        m.evaluate({"k": 9})


def test_a_block_calling_itself_is_an_error():
    text = "block loop(d)(x):\n    return loop(d)(x)\nmodel m(d = 2):\n    input (d)\n    loop(d)\n"
    with pytest.raises(ArgumentError, match="calls itself"):
        symparams.parse(text)


def test_frozen_repeat_and_repeat_count_errors():
    text = "model m(d = 4, L = 3):\n    input (d)\n    repeat(L, dense(d), trainable=false)\n    dense(2)\n"
    ev = symparams.parse(text).evaluate()
    assert (ev.non_trainable, ev.trainable) == (3 * 20, 10)
    with pytest.raises(ArgumentError, match="at least 1"):
        symparams.parse("model m(d = 4):\n    input (d)\n    repeat 0:\n        dense(d)\n")
    with pytest.raises(ArgumentError, match="count and a layer"):
        symparams.parse("model m(d = 4):\n    input (d)\n    repeat(dense(d))\n")


@settings(max_examples=15, deadline=None)
@given(L=st.integers(1, 4), d=st.integers(1, 24), k=st.integers(1, 40), T=st.integers(1, 6))
def test_symbolic_repeat_equals_the_unrolled_torch_network(L, d, k, T):
    from torch import nn
    text = """
block ffn(d, k)(x):
    y = dense(k, activation=relu)(layernorm(x))
    return x + dense(d)(y)

model m(T = 2, d = 8, k = 16, L = 3):
    input (T, d)
    repeat(L, ffn(d, k))
"""
    ev = symparams.parse(text).evaluate({"T": T, "d": d, "k": k, "L": L})
    unrolled = nn.ModuleList([nn.ModuleList([nn.LayerNorm(d), nn.Linear(d, k), nn.Linear(k, d)]) for _ in range(L)])
    assert ev.params == n_params(unrolled.to("meta"))
    assert ev.macs == L * T * 2 * d * k


def test_a_path_reaches_a_row_inside_a_block_whose_name_repeats_outside():
    m = symparams.load(EXAMPLES / "gpt2.sp")
    d = m.symbols["d"]
    assert m.row("layernorm_1").params == 2 * d                       # the final one, outside
    inner = m.row("repeat_1/gpt_layer_1/multihead_attention_1")
    assert sp.expand(inner.params - 4 * d * (d + 1)) == 0
    assert m.row("gpt_layer_1/layernorm_1").params == 2 * d
    with pytest.raises(symparams.SymparamsError) as info:
        m.row("gpt_layer_1/layernorm_9")
    assert "'layernorm_1'" in (info.value.hint or "")


# ---------------------------------------------------------------- a block reading its input's sizes

def keras_se_cnn(S, C, r):
    import keras
    from keras import layers
    x = inp = keras.Input((S, S, C))
    for channels in (C, 2 * C):
        x = layers.Conv2D(channels, 3, strides=1 if channels == C else 2, padding="same")(x)
        s = layers.GlobalAveragePooling2D()(x)
        s = layers.Dense(channels // r, activation="relu")(s)
        s = layers.Dense(channels, activation="sigmoid")(s)
        x = layers.Multiply()([x, s])
    return keras.Model(inp, x)


@pytest.mark.parametrize("S, C, r", [(32, 64, 8), (9, 24, 4), (16, 48, 16)])
def test_squeeze_and_excitation_reads_its_channels_as_keras_builds_it(S, C, r):
    m = symparams.load(EXAMPLES / "se_cnn.sp")
    ev = m.evaluate({"S": S, "C": C, "r": r})
    model = keras_se_cnn(S, C, r)
    assert ev.params == model.count_params()
    assert ev.shape(m.output_shape) == tuple(model.output.shape[1:])


@pytest.mark.parametrize("S, C, r", [(32, 64, 8), (7, 12, 3)])
def test_squeeze_and_excitation_channels_first_matches_torch(S, C, r):
    import torch
    from torch import nn
    from torch.utils.flop_counter import FlopCounterMode

    class SE(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv = nn.Conv2d(C, C, 3, padding=1)
            self.fc1, self.fc2 = nn.Conv2d(C, C // r, 1), nn.Conv2d(C // r, C, 1)

        def forward(self, x):
            x = self.conv(x)
            s = x.mean((2, 3), keepdim=True)
            return x * torch.sigmoid(self.fc2(torch.relu(self.fc1(s))))

    net = SE()
    with FlopCounterMode(display=False) as counter:
        y = net(torch.zeros(1, C, S, S))
    m = symparams.load(EXAMPLES / "se_cnn_torch.sp")
    ev = m.evaluate({"S": S, "C": C, "r": r})
    assert ev.params == sum(p.numel() for p in net.parameters())
    assert ev.shape(m.output_shape) == tuple(y.shape[1:])
    assert ev.macs == counter.get_total_flops() // 2


def test_a_block_pattern_binds_sizes_and_checks_them():
    text = ("block proj(d)(x: (*rows, n), y: (*, n)):\n    return dense(d)(x) + dense(d)(y)\n"
            "model m(T = 5, k = 8, j = 8):\n    a = input (T, k)\n    b = input (3, T, j)\n    proj(4)(a, b)\n")
    m = symparams.parse(text)
    assert m.evaluate().params == 2 * (8 * 4 + 4)
    with pytest.raises(symparams.SymparamsError, match="needs k = j"):
        m.evaluate({"j": 9})
    agreed = symparams.parse("block b(C)(x: (H, C)):\n    return dense(C)(x)\nmodel m(n = 6):\n    input (3, n)\n    b(6)\n")
    assert agreed.evaluate().params == 6 * 6 + 6
    with pytest.raises(ShapeError, match="expected 5, found 6"):
        symparams.parse("block b(C)(x: (H, C)):\n    return dense(C)(x)\nmodel m():\n    input (3, 6)\n    b(5)\n")


def test_a_block_pattern_of_another_rank_is_a_positioned_shape_error():
    text = "block se(r)(x: (H, W, C)):\n    return dense(C // r)(x)\nmodel m():\n    input (4, 5)\n    se(2)\n"
    with pytest.raises(ShapeError) as caught:
        symparams.parse(text, filename="se.sp")
    assert str(caught.value).startswith("se.sp:5:5: shape error: block se expects its input x as (H, W, C), "
                                        "found (None, 4, 5)")


def test_a_block_pattern_may_not_rename_a_tensor():
    with pytest.raises(SyntaxProblem, match="'x' names a tensor and one of its sizes"):
        symparams.parse("block b()(x: (x, C)):\n    return x\nmodel m():\n    input (3, 6)\n    b\n")


# ---------------------------------------------------------------- repeats passing other tensors to every repetition

SEQ2SEQ = """
block decoder_layer(d, h)(x, memory):
    a = layernorm(x)
    x = x + multihead_attention(h, d / h)(a, a)
    a = layernorm(x)
    x = x + multihead_attention(h, d / h)(a, memory)
    return x + dense(d)(dense(4 * d, activation=gelu)(layernorm(x)))

model seq2seq(T = 16, S = 20, d = 64, h = 4, L = 6):
    x = input (T, d)
    memory = input (S, d)
    y = repeat(L, decoder_layer(d, h))(x, memory)
    z = repeat(2, transformer_decoder_layer(d, h, 128))(y, memory)
"""


@pytest.mark.parametrize("L, d, h", [(1, 16, 2), (6, 64, 4), (30, 24, 3)])
def test_repeat_passes_the_memory_to_every_decoder_layer_as_torch_does(L, d, h):
    import torch
    from torch import nn
    from torch.utils.flop_counter import FlopCounterMode
    m = symparams.parse(SEQ2SEQ, convention="torch")
    ev = m.evaluate({"L": L, "d": d, "h": h})
    ours = nn.ModuleList([nn.ModuleList([nn.LayerNorm(d), nn.MultiheadAttention(d, h), nn.LayerNorm(d),
                                         nn.MultiheadAttention(d, h), nn.LayerNorm(d), nn.Linear(d, 4 * d),
                                         nn.Linear(4 * d, d)]) for _ in range(L)])
    theirs = nn.TransformerDecoder(nn.TransformerDecoderLayer(d, h, 128, batch_first=True), 2)
    assert ev.params == n_params(ours) + n_params(theirs)
    assert ev.shape(m.output_shape) == (16, d)
    with FlopCounterMode(display=False) as counter:
        theirs.train()(torch.zeros(1, 16, d), torch.zeros(1, 20, d))
    assert ev.row("repeat_2")["macs"] == counter.get_total_flops() // 2


def test_a_repeat_given_too_few_tensors_points_to_both_forms():
    text = "block dec(d)(x, m):\n    return x + dense(d)(m)\nmodel q(d = 4, L = 3):\n    x = input (5, d)\n    repeat(L, dec(d))\n"
    with pytest.raises(ArgumentError) as caught:
        symparams.parse(text)
    message = str(caught.value)
    assert "dec takes 2 (x, m)" in message and "repeat(L, dec(...))(x, m)" in message and "repeat L:" in message


def test_a_repeat_passing_memory_keeps_the_first_tensors_shape():
    text = ("block grow(d)(x, m):\n    return concat(x, dense(d)(m), axis=1)\n"
            "model q(d = 4, L = 3):\n    x = input (5, d)\n    mem = input (5, d)\n    y = repeat(L, grow(d))(x, mem)\n")
    with pytest.raises(ShapeError, match="keeps the shape"):
        symparams.parse(text)
    unrolled = symparams.parse(text.replace("repeat(L,", "repeat(3,"))
    assert unrolled.evaluate().shape(unrolled.output_shape) == (20, 4)
    assert unrolled.evaluate().params == 3 * (4 * 4 + 4)


def test_a_nested_repeat_passes_the_memory_through_both_levels():
    text = ("block dec(d)(x, m):\n    return x + dense(d)(m)\nmodel q(d = 4, L = 3):\n    x = input (5, d)\n"
            "    mem = input (5, d)\n    y = repeat(2, repeat(L, dec(d)))(x, mem)\n")
    assert symparams.parse(text).evaluate({"L": 7}).params == 2 * 7 * (4 * 4 + 4)


def test_repeated_lines_read_the_names_the_previous_repetition_bound():
    """`repeat 3:` over `x = grow(d)(x, mem)` unrolls (the shape grows): each repetition reads the
    last one's x, as torch's loop `for _ in range(3): x = grow(x, mem)` does."""
    import torch
    text = ("block grow(d)(x, m):\n    return concat(x, dense(d)(m), axis=1)\nmodel q(d = 4):\n    x = input (5, d)\n"
            "    mem = input (5, d)\n    repeat 3:\n        x = grow(d)(x, mem)\n")
    m = symparams.parse(text, convention="torch")
    x, mem = torch.zeros(2, 5, 4), torch.zeros(2, 5, 4)
    for _ in range(3):
        x = torch.cat((x, torch.nn.Linear(4, 4)(mem)), dim=1)
    assert m.evaluate().shape(m.output_shape) == tuple(x.shape[1:]) == (20, 4)


def test_a_block_pattern_holds_names_numbers_and_one_star():
    with pytest.raises(SyntaxProblem, match="holds names, numbers and one") as caught:
        symparams.parse("block b(d)(x: (H + 1, W)):\n    return x\nmodel m():\n    input (3, 4)\n    b(2)\n")
    assert "in the block's body" in caught.value.hint
