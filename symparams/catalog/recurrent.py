"""Formula sheet: recurrent layers over (T, F) inputs: T steps of F features.

A cell with G gates (simple_rnn 1, gru 3, lstm 4) of U units reads the step's input (F) and
its own previous output (H: U, or P when an LSTM projects its output to proj_size P):

    weights  G*U*(F + H)  (+ P*U for the projection W_hr)
    biases   G*U per bias vector: Keras one, PyTorch two (b_ih and b_hh); a Keras GRU with
             reset_after=True (the default) two as well -- see conventions.py
    MACs     T * (G*U*(F + H) + P*U)

per direction and per layer: bidirectional doubles it (and the output is 2H wide); num_layers
stacks layers, the later ones reading the D*H features (D directions) of the one below.
In both conventions an RNN returns its last step unless return_sequences=true: a PyTorch
module's whole output is return_sequences=true, its output[:, -1] the default.

The cells (Keras SimpleRNNCell/LSTMCell/GRUCell, PyTorch RNNCell/LSTMCell/GRUCell) are one step,
(F,) -> (U,), with one layer's weights. Keras ConvLSTM*D's gates are convolutions: the input kernel
prod(k)*C*4F, the recurrent kernel prod(k)*F*4F, and 4F biases.
"""
import sympy as sp

from ..dims import product
from ..errors import ArgumentError
from .facts import not_known
from ..values import LayerInstance, Word
from .registry import Activation, Bool, Choice, Dim, Dims, Kind, LayerRef, Out, Padding, layer, lookup, spatial
from .shapes import check_size, join_channels, need_rank, split_channels, window_out


class _ProjSize(Kind):
    """PyTorch's proj_size: 0 (the default) means no projection."""
    describe = "0 or a positive whole-number size"

    def convert(self, value, where):
        return None if isinstance(value, sp.Integer) and value == 0 else Dim.convert(value, where)


# A recurrence keeps every step's gates and states for its backward pass, as its kernel lays them
# out (cuDNN's workspace, torch's fused CPU cell): not measured here.
_RECURRENT = not_known("a recurrence keeps every step's gates and states as its fused kernel lays them out, "
                       "which symparams has not measured")


def _weights(features, units, gates, proj):
    """Weights of one direction of one layer reading `features` inputs (its biases aside)."""
    return gates * units * (features + (proj or units)) + (proj * units if proj else 0)


def _rnn(x, name, units, gates, bias_vectors, use_bias, return_sequences, num_layers, bidirectional,
         input_size, proj=None):
    need_rank(x, 2, name, "laid out (T, F): steps, then features")
    steps, features = x
    conditions = check_size(input_size, features, f"{name}'s input_size")
    if proj is not None:
        conditions += _check_projection(proj, units)
    directions = 2 if bidirectional else 1
    width = directions * (proj or units)       # what each layer passes up, and the output's last axis
    first, later = _weights(features, units, gates, proj), _weights(width, units, gates, proj)
    weights = directions * (first + (num_layers - 1) * later)
    biases = directions * num_layers * gates * units * bias_vectors if use_bias else 0
    return Out(shape=(steps, width) if return_sequences else (width,), params=weights + biases, saved=_RECURRENT,
               macs=steps * weights, conditions=conditions)


def _check_projection(proj, units) -> list:
    gap = sp.sympify(units) - proj
    if gap.is_number and gap <= 0:
        raise ArgumentError(f"lstm's proj_size ({proj}) must be smaller than its units ({units})")
    if gap.is_number:
        return []
    return [(sp.Lt(proj, units), f"lstm's proj_size {proj} must be smaller than its units {units}: "
                                 f"needs {proj} < {units}")]


class _UnitsOrCell(Kind):
    """simple_rnn's first argument: its units, or (Keras's RNN(cell)) a cell run over the steps -- one of
    CELLS, a stacked_rnn_cells, or a tuple of cells (Keras stacks a list of cells)."""
    describe = "a positive whole-number size, or a recurrent cell (lstm_cell(8), ...) or a tuple of them"

    def convert(self, value, where):
        if isinstance(value, tuple):
            cells = _Cells().convert(value, where)
            spec = lookup("stacked_rnn_cells")
            return LayerInstance(spec, spec.bind([], {"cells": cells}), cells[0].pos, typed_name="stacked_rnn_cells")
        if isinstance(value, LayerInstance) or (isinstance(value, Word) and not value.quoted and lookup(value.name)):
            cell = LayerRef.convert(value, where)
            if cell.spec.name not in CELLS + ("stacked_rnn_cells",):
                raise ArgumentError(f"{where} must be {self.describe}, found a {cell.spec.name} layer",
                                    hint="Keras's RNN(cell) runs a cell: simple_rnn_cell, lstm_cell, gru_cell "
                                         "or stacked_rnn_cells")
            return cell
        return Dim.convert(value, where)


@layer("SimpleRNN", "RNN", "simple_rnn", "rnn")
def simple_rnn(x, units: _UnitsOrCell(), activation: Activation = "tanh", use_bias: Bool = True,
               return_sequences: Bool = False, num_layers: Dim = 1, bidirectional: Bool = False,
               input_size: Dim = None, *, c):
    """h_t = tanh(W x_t + R h_(t-1) + b), one gate: U*(F + U) weights, U biases per bias vector.

    Given a cell instead of units (Keras's RNN(cell), `rnn(lstm_cell(8))`, `rnn((lstm_cell(8), gru_cell(4)))`
    for StackedRNNCells), it is that cell run over the T steps: the cell's weights, T times its MACs."""
    if isinstance(units, LayerInstance):
        return _over_time(x, units, return_sequences, num_layers, bidirectional, input_size, c)
    return _rnn(x, "simple_rnn", units, 1, c.rnn_bias_vectors, use_bias, return_sequences, num_layers,
                bidirectional, input_size)


def _over_time(x, cell, return_sequences, num_layers, bidirectional, input_size, c):
    """Keras's RNN(cell): the cell applied at each of the T steps, its weights once."""
    need_rank(x, 2, "rnn", "laid out (T, F): steps, then features")
    if num_layers != 1:
        raise ArgumentError("rnn of a cell takes no num_layers: stack cells instead, "
                            "rnn((lstm_cell(8), lstm_cell(8)))")
    steps, features = x
    one = cell.spec.apply([(features,)], cell.config, c)
    directions = 2 if bidirectional else 1
    width = tuple(one.shape)[:-1] + (directions * one.shape[-1],)
    return Out(shape=(steps,) + width if return_sequences else width, params=directions * one.params,
               non_trainable=directions * one.non_trainable, macs=directions * steps * one.macs, saved=_RECURRENT,
               conditions=list(one.conditions) + check_size(input_size, features, "rnn's input_size"))


@layer("LSTM", "LSTM")
def lstm(x, units: Dim, activation: Activation = "tanh", recurrent_activation: Activation = "sigmoid",
         use_bias: Bool = True, return_sequences: Bool = False, num_layers: Dim = 1, bidirectional: Bool = False,
         proj_size: _ProjSize() = None, input_size: Dim = None, *, c):
    """Four gates (input, forget, cell, output): 4*U*(F + H) weights, 4*U biases per bias vector.

    proj_size P (PyTorch) projects h_t to H = P values with P*U more weights."""
    return _rnn(x, "lstm", units, 4, c.rnn_bias_vectors, use_bias, return_sequences, num_layers,
                bidirectional, input_size, proj=proj_size)


@layer("GRU", "GRU")
def gru(x, units: Dim, activation: Activation = "tanh", recurrent_activation: Activation = "sigmoid",
        use_bias: Bool = True, return_sequences: Bool = False, num_layers: Dim = 1, bidirectional: Bool = False,
        reset_after: Bool = None, input_size: Dim = None, *, c):
    """Three gates (update, reset, candidate): 3*U*(F + U) weights, 3*U biases per bias vector.

    reset_after (Keras' default, PyTorch's only way) applies the reset gate after the recurrent
    product, which needs a second bias vector."""
    reset_after = c.gru_reset_after if reset_after is None else reset_after
    vectors = max(c.rnn_bias_vectors, 2 if reset_after else 1)
    return _rnn(x, "gru", units, 3, vectors, use_bias, return_sequences, num_layers, bidirectional,
                input_size)


RECURRENT = ("simple_rnn", "lstm", "gru")
MergeMode = Choice("concat", "sum", "mul", "ave")


@layer("Bidirectional", "Bidirectional")
def bidirectional(x, layer: LayerRef, merge_mode: MergeMode = "concat", *, c):
    """An RNN and a copy reading the steps backwards: twice its weights and MACs.

    merge_mode concat joins the two outputs (the last axis doubles); sum, mul and ave combine
    them elementwise (shape unchanged)."""
    if layer.spec.name not in RECURRENT:
        raise ArgumentError(f"bidirectional wraps a recurrent layer ({', '.join(RECURRENT)}), "
                            f"found a {layer.spec.name} layer")
    if layer.config.get("bidirectional"):
        raise ArgumentError("bidirectional wraps a one-way RNN; this one already has bidirectional=true")
    one = layer.spec.apply([x], layer.config, c)
    shape = tuple(one.shape)
    if merge_mode == "concat":
        shape = shape[:-1] + (2 * shape[-1],)
    return Out(saved=_RECURRENT, shape=shape, params=2 * one.params, non_trainable=2 * one.non_trainable,
               buffers=2 * one.buffers, macs=2 * one.macs, conditions=one.conditions)


# ---------------------------------------------------------------- one step: the cells

def _cell(x, name, units, gates, bias_vectors, use_bias, input_size):
    """One step of a recurrent layer: (F,) -> (U,), the layer's weights for one direction and layer."""
    need_rank(x, 1, name, "(features: one step of one sequence)")
    weights = _weights(x[0], units, gates, None)
    return Out(shape=(units,), params=weights + (gates * units * bias_vectors if use_bias else 0), macs=weights,
               saved=_RECURRENT,
               conditions=check_size(input_size, x[0], f"{name}'s input_size"))


@layer("SimpleRNNCell", "RNNCell", "rnn_cell")
def simple_rnn_cell(x, units: Dim, activation: Activation = "tanh", use_bias: Bool = True, input_size: Dim = None,
                    *, c):
    """One step of simple_rnn: (F,) -> (U,); U*(F + U) weights, U biases per bias vector (PyTorch two)."""
    return _cell(x, "simple_rnn_cell", units, 1, c.rnn_bias_vectors, use_bias, input_size)


@layer("LSTMCell", "LSTMCell")
def lstm_cell(x, units: Dim, activation: Activation = "tanh", recurrent_activation: Activation = "sigmoid",
              use_bias: Bool = True, input_size: Dim = None, *, c):
    """One step of lstm: (F,) -> (U,) (h; c is the same size); 4*U*(F + U) weights, 4*U biases per bias vector."""
    return _cell(x, "lstm_cell", units, 4, c.rnn_bias_vectors, use_bias, input_size)


@layer("GRUCell", "GRUCell")
def gru_cell(x, units: Dim, activation: Activation = "tanh", recurrent_activation: Activation = "sigmoid",
             use_bias: Bool = True, reset_after: Bool = None, input_size: Dim = None, *, c):
    """One step of gru: (F,) -> (U,); 3*U*(F + U) weights, 3*U biases per bias vector (two with reset_after)."""
    reset_after = c.gru_reset_after if reset_after is None else reset_after
    return _cell(x, "gru_cell", units, 3, max(c.rnn_bias_vectors, 2 if reset_after else 1), use_bias, input_size)


CELLS = ("simple_rnn_cell", "lstm_cell", "gru_cell")


class _Cells(Kind):
    """StackedRNNCells' cells: a tuple of cell layers."""
    describe = "a tuple of recurrent cells"

    def convert(self, value, where):
        cells = tuple(LayerRef.convert(v, where) for v in (value if isinstance(value, tuple) else (value,)))
        for cell in cells:
            if cell.spec.name not in CELLS:
                raise ArgumentError(f"{where} must be cells ({', '.join(CELLS)}), found a {cell.spec.name} layer")
        return cells


@layer("StackedRNNCells", "StackedRNNCells")
def stacked_rnn_cells(x, cells: _Cells(), *, c):
    """Keras StackedRNNCells((cell, ...)): the cells one above the other in one step, each reading the
    output of the one below: the sum of their counts, the last one's output."""
    params, macs, shape, conditions = 0, 0, tuple(x), []
    for cell in cells:
        out = cell.spec.apply([shape], cell.config, c)
        params, macs, shape = params + out.params, macs + out.macs, tuple(out.shape)
        conditions += out.conditions
    return Out(shape=shape, params=params, macs=macs, conditions=conditions, saved=_RECURRENT)


# ---------------------------------------------------------------- convolutional LSTM (Keras)

def _conv_lstm(x, n, name, filters, kernel_size, strides, padding, dilation_rate, use_bias, return_sequences, c):
    need_rank(x, n + 2, name, "(T, then one input of a convolution per step)")
    steps, frame = x[0], tuple(x[1:])
    sizes, channels = split_channels(frame, n, name, c)
    if "causal" in spatial(padding, n, "padding"):
        raise ArgumentError(f"{name}: padding must be 'valid' or 'same'")
    k = spatial(kernel_size, n, "kernel size")
    out = tuple(window_out(L, ki, si, p, di) for L, ki, si, p, di in
                zip(sizes, k, spatial(strides, n, "strides"), spatial(padding, n, "padding"),
                    spatial(dilation_rate, n, "dilation")))
    taps = product(k)
    # The input kernel reads the frame; the recurrent kernel (stride 1, 'same') reads the state.
    weights = 4 * filters * taps * (channels + filters)
    frame_out = join_channels(out, filters, c)
    return Out(saved=_RECURRENT, shape=((steps,) + frame_out) if return_sequences else frame_out,
               params=weights + (4 * filters if use_bias else 0),
               macs=steps * product(out) * weights)


@layer("ConvLSTM1D", "ConvLSTM1D")
def conv_lstm1d(x, filters: Dim, kernel_size: Dims, strides: Dims = 1, padding: Padding = "valid",
                dilation_rate: Dims = 1, activation: Activation = "tanh", recurrent_activation: Activation = "sigmoid",
                use_bias: Bool = True, return_sequences: Bool = False, *, c):
    """Keras ConvLSTM1D: an LSTM whose four gates are 1-D convolutions over (T, ...) frames: 4*F*prod(k)*(C + F)
    weights + 4*F biases; the frame shrinks as a convolution's."""
    return _conv_lstm(x, 1, "conv_lstm1d", filters, kernel_size, strides, padding, dilation_rate, use_bias,
                      return_sequences, c)


@layer("ConvLSTM2D", "ConvLSTM2D")
def conv_lstm2d(x, filters: Dim, kernel_size: Dims, strides: Dims = 1, padding: Padding = "valid",
                dilation_rate: Dims = 1, activation: Activation = "tanh", recurrent_activation: Activation = "sigmoid",
                use_bias: Bool = True, return_sequences: Bool = False, *, c):
    """Keras ConvLSTM2D: an LSTM whose four gates are 2-D convolutions over (T, ...) frames: 4*F*prod(k)*(C + F)
    weights + 4*F biases; the frame shrinks as a convolution's."""
    return _conv_lstm(x, 2, "conv_lstm2d", filters, kernel_size, strides, padding, dilation_rate, use_bias,
                      return_sequences, c)


@layer("ConvLSTM3D", "ConvLSTM3D")
def conv_lstm3d(x, filters: Dim, kernel_size: Dims, strides: Dims = 1, padding: Padding = "valid",
                dilation_rate: Dims = 1, activation: Activation = "tanh", recurrent_activation: Activation = "sigmoid",
                use_bias: Bool = True, return_sequences: Bool = False, *, c):
    """Keras ConvLSTM3D: an LSTM whose four gates are 3-D convolutions over (T, ...) frames: 4*F*prod(k)*(C + F)
    weights + 4*F biases; the frame shrinks as a convolution's."""
    return _conv_lstm(x, 3, "conv_lstm3d", filters, kernel_size, strides, padding, dilation_rate, use_bias,
                      return_sequences, c)
