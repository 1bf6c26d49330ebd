"""Formula sheet: recurrent layers over (T, F) inputs.

A cell with G gates of U units sees the input (F) and its own state (U):
G * (U*F + U*U) weights plus G*U biases per bias vector. Keras keeps one bias vector
(two for GRU with reset_after), PyTorch two (b_ih, b_hh) -- see conventions.py.
"""
from .registry import Bool, Dim, Out, layer
from .shapes import need_rank


def _rnn(x, units, gates, bias_vectors, use_bias, return_sequences, name):
    need_rank(x, 2, name, "laid out (T, F)")
    steps, features = x
    weights = gates * (units * features + units * units)
    params = weights + (gates * units * bias_vectors if use_bias else 0)
    shape = (steps, units) if return_sequences else (units,)
    return Out(shape=shape, params=params, macs=steps * weights)


@layer("SimpleRNN", "RNN", "simple_rnn", "rnn")
def simple_rnn(x, units: Dim, use_bias: Bool = True, return_sequences: Bool = False, *, c):
    """h_t = tanh(W x_t + U h_{t-1} + b): one gate."""
    return _rnn(x, units, 1, c.rnn_bias_vectors, use_bias, return_sequences, "simple_rnn")


@layer("LSTM", "LSTM")
def lstm(x, units: Dim, use_bias: Bool = True, return_sequences: Bool = False, *, c):
    """Four gates (input, forget, cell, output)."""
    return _rnn(x, units, 4, c.rnn_bias_vectors, use_bias, return_sequences, "lstm")


@layer("GRU", "GRU")
def gru(x, units: Dim, use_bias: Bool = True, return_sequences: Bool = False, reset_after: Bool = None, *, c):
    """Three gates (update, reset, candidate); reset_after keeps a second bias vector."""
    reset_after = c.gru_reset_after if reset_after is None else reset_after
    vectors = max(c.rnn_bias_vectors, 2 if reset_after else 1)
    return _rnn(x, units, 3, vectors, use_bias, return_sequences, "gru")
