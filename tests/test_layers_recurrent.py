"""simple_rnn, lstm, gru and the bidirectional wrapper against real PyTorch and Keras 3.

PyTorch RNNs carry two bias vectors, stack `num_layers`, run both ways with bidirectional=True
and project LSTM outputs with proj_size. Keras carries one bias vector (two for a GRU with
reset_after=True). In the language an RNN returns its last step unless return_sequences=true,
in both conventions: a PyTorch module's whole output is return_sequences=true.
"""
import keras
import pytest
from hypothesis import given, settings, strategies as st
from torch import nn

import symparams
from reference import keras_counts, symparams_counts, torch_counts, torch_macs
from symparams.errors import ArgumentError, ShapeError

TORCH_RNNS = {"simple_rnn": nn.RNN, "lstm": nn.LSTM, "gru": nn.GRU}
KERAS_RNNS = {"simple_rnn": keras.layers.SimpleRNN, "lstm": keras.layers.LSTM, "gru": keras.layers.GRU}


def model(T, F, line, convention):
    return symparams.parse(f"model m(T = {T}, F = {F}):\n    input (T, F)\n    {line}\n", convention=convention)


def counts(T, F, line, convention) -> dict:
    m = model(T, F, line, convention)
    return symparams_counts(m, None, m.rows[-1].name)


def flag(value: bool) -> str:
    return "true" if value else "false"


class LastStep(nn.Module):
    """What a PyTorch user writes for Keras' return_sequences=False: output[:, -1]."""

    def __init__(self, rnn):
        super().__init__()
        self.rnn = rnn

    def forward(self, x):
        return self.rnn(x)[0][:, -1]


# ---------------------------------------------------------------- PyTorch

TORCH_SETTINGS = [  # T, F, U, num_layers, bias, bidirectional
    (7, 5, 4, 1, True, False), (3, 2, 6, 2, True, True), (5, 8, 3, 3, False, False), (4, 1, 5, 2, False, True)]


@pytest.mark.parametrize("kind", ["simple_rnn", "lstm", "gru"])
@pytest.mark.parametrize("T, F, U, layers, bias, bidirectional", TORCH_SETTINGS)
def test_rnns_match_torch(kind, T, F, U, layers, bias, bidirectional):
    module = TORCH_RNNS[kind](F, U, num_layers=layers, bias=bias, batch_first=True, bidirectional=bidirectional)
    line = f"{kind}({U}, num_layers={layers}, bias={flag(bias)}, bidirectional={flag(bidirectional)}, " \
           "return_sequences=true)"
    assert counts(T, F, line, "torch") == torch_counts(module, (T, F))
    assert model(T, F, line, "torch").evaluate().macs == torch_macs(module, (T, F))


@pytest.mark.parametrize("T, F, U, P, layers, bidirectional", [
    (7, 5, 4, 2, 1, False), (3, 6, 8, 3, 2, True), (4, 2, 5, 1, 3, False), (6, 3, 3, 2, 2, True)])
def test_lstm_projection_matches_torch(T, F, U, P, layers, bidirectional):
    module = nn.LSTM(F, U, num_layers=layers, proj_size=P, batch_first=True, bidirectional=bidirectional)
    line = f"LSTM(input_size={F}, hidden_size={U}, proj_size={P}, num_layers={layers}, " \
           f"bidirectional={flag(bidirectional)}, batch_first=true, dropout=0.1, return_sequences=true)"
    assert counts(T, F, line, "torch") == torch_counts(module, (T, F))
    assert model(T, F, line, "torch").evaluate().macs == torch_macs(module, (T, F))


@pytest.mark.parametrize("kind", ["simple_rnn", "lstm", "gru"])
@pytest.mark.parametrize("T, F, U, bidirectional", [(7, 5, 4, False), (3, 2, 6, True), (9, 4, 2, True)])
def test_torch_last_step_is_the_default(kind, T, F, U, bidirectional):
    module = LastStep(TORCH_RNNS[kind](F, U, batch_first=True, bidirectional=bidirectional))
    line = f"{kind}({U}, bidirectional={flag(bidirectional)})"
    assert counts(T, F, line, "torch") == torch_counts(module, (T, F))


@pytest.mark.parametrize("kind", ["simple_rnn", "lstm", "gru"])
@pytest.mark.parametrize("T, F, U", [(7, 5, 4), (2, 3, 9), (4, 6, 1)])
def test_bidirectional_wrapper_under_torch_is_torchs_bidirectional_flag(kind, T, F, U):
    module = TORCH_RNNS[kind](F, U, batch_first=True, bidirectional=True)
    line = f"bidirectional({kind}({U}, return_sequences=true))"
    assert counts(T, F, line, "torch") == torch_counts(module, (T, F))
    assert model(T, F, line, "torch").evaluate().macs == torch_macs(module, (T, F))


@settings(max_examples=15, deadline=None)
@given(T=st.integers(1, 6), F=st.integers(1, 12), U=st.integers(2, 12), layers=st.integers(1, 3),
       bias=st.booleans(), bidirectional=st.booleans(), proj=st.integers(0, 1))
def test_lstm_formula_equals_torch_for_drawn_sizes(T, F, U, layers, bias, bidirectional, proj):
    P = proj * (U - 1)  # 0: no projection, else the largest allowed
    module = nn.LSTM(F, U, num_layers=layers, bias=bias, batch_first=True, bidirectional=bidirectional,
                     proj_size=P)
    line = f"lstm({U}, num_layers={layers}, bias={flag(bias)}, bidirectional={flag(bidirectional)}, " \
           f"proj_size={P}, return_sequences=true)"
    assert counts(T, F, line, "torch") == torch_counts(module, (T, F))


def test_the_closed_form_of_a_torch_lstm_stack():
    m = symparams.parse("convention torch\nmodel m(T = 5, F = 3, U = 4, L = 3):\n    input (T, F)\n"
                        "    lstm(U, num_layers=L, bidirectional=true)\n")
    F, U, L = (m.symbols[k] for k in ("F", "U", "L"))
    # per direction: 4U(F + U) + 8U for the first layer, 4U(2U + U) + 8U for each later one
    assert (m.params - 2 * (4 * U * (F + U) + 8 * U + (L - 1) * (4 * U * (3 * U) + 8 * U))).expand() == 0
    for L_value in (1, 2, 4):
        expected = torch_counts(nn.LSTM(3, 4, num_layers=L_value, batch_first=True, bidirectional=True), (5, 3))
        assert m.evaluate({"L": L_value}).params == expected["params"]


# ---------------------------------------------------------------- Keras

@pytest.mark.parametrize("kind", ["simple_rnn", "lstm", "gru"])
@pytest.mark.parametrize("T, F, U, sequences, bias", [(7, 5, 4, False, True), (3, 2, 6, True, True),
                                                       (5, 8, 3, True, False), (1, 1, 2, False, False)])
def test_rnns_match_keras(kind, T, F, U, sequences, bias):
    layer = KERAS_RNNS[kind](U, return_sequences=sequences, use_bias=bias)
    line = f"{kind}({U}, return_sequences={flag(sequences)}, use_bias={flag(bias)})"
    assert counts(T, F, line, "keras") == keras_counts(layer, (T, F))


@pytest.mark.parametrize("reset_after", [True, False])
@pytest.mark.parametrize("T, F, U", [(7, 5, 4), (3, 9, 2), (2, 1, 8)])
def test_keras_gru_reset_after_both_ways(reset_after, T, F, U):
    layer = keras.layers.GRU(U, reset_after=reset_after)
    assert counts(T, F, f"GRU({U}, reset_after={flag(reset_after)})", "keras") == keras_counts(layer, (T, F))


@pytest.mark.parametrize("kind", ["simple_rnn", "lstm", "gru"])
@pytest.mark.parametrize("T, F, U", [(6, 5, 4), (3, 2, 7), (4, 8, 3)])
def test_keras_num_layers_is_a_stack_of_keras_layers(kind, T, F, U):
    stack = keras.Sequential([KERAS_RNNS[kind](U, return_sequences=True), KERAS_RNNS[kind](U, return_sequences=True),
                              KERAS_RNNS[kind](U)])
    assert counts(T, F, f"{kind}({U}, num_layers=3)", "keras") == keras_counts(stack, (T, F))


@pytest.mark.parametrize("merge_mode", ["concat", "sum", "mul", "ave"])
@pytest.mark.parametrize("kind, T, F, U, sequences", [("lstm", 7, 5, 4, True), ("gru", 3, 2, 6, False),
                                                       ("simple_rnn", 5, 3, 3, True), ("lstm", 2, 9, 2, False)])
def test_keras_bidirectional_wrapper(merge_mode, kind, T, F, U, sequences):
    layer = keras.layers.Bidirectional(KERAS_RNNS[kind](U, return_sequences=sequences), merge_mode=merge_mode)
    line = f"bidirectional({kind}({U}, return_sequences={flag(sequences)}), merge_mode={merge_mode})"
    assert counts(T, F, line, "keras") == keras_counts(layer, (T, F))


def test_bidirectional_of_a_bound_layer_instance():
    m = symparams.parse("model m(T = 6, F = 3, U = 5):\n    input (T, F)\n    cell = gru(U, reset_after=false)\n"
                        "    bidirectional(cell, merge_mode=ave)\n")
    expected = keras_counts(keras.layers.Bidirectional(keras.layers.GRU(5, reset_after=False), merge_mode="ave"),
                            (6, 3))
    assert symparams_counts(m, None, m.rows[-1].name) == expected


# ---------------------------------------------------------------- mistakes

def test_bidirectional_wraps_only_recurrent_layers():
    with pytest.raises(ArgumentError, match="bidirectional wraps a recurrent layer"):
        model(4, 3, "bidirectional(dense(3))", "keras")


def test_projection_must_be_smaller_than_the_units():
    with pytest.raises(ArgumentError, match=r"proj_size \(4\) must be smaller than its units \(4\)"):
        model(4, 3, "lstm(4, proj_size=4)", "torch")


def test_rnn_needs_steps_and_features():
    with pytest.raises(ShapeError, match=r"lstm expects a rank-3 input \(with the batch\) laid out \(T, F\)"):
        symparams.parse("model m():\n    input (4, 5, 6)\n    lstm(3)\n")


def test_seed_bidirectional_lstm_over_bert_outputs():
    """A seed question's Keras summary: Bidirectional(LSTM(50, return_sequences=True, dropout=0.1,
    recurrent_dropout=0.1)) over BERT's (10, 768) outputs shows (None, 10, 100) and 327,600."""
    m = symparams.parse("model m(T = 10, d = 768):\n    input (T, d)\n"
                        "    bidirectional(lstm(50, return_sequences=true, dropout=0.1, recurrent_dropout=0.1))\n")
    row = m.evaluate().row(m.rows[0].name)
    assert (row["params"], row["output_shape"]) == (327600, (10, 100))
