"""Keras forms the importers and the language read (issue 19): a nested model's call as the output,
MultiHeadAttention's output_shape as a tuple, inputs with a free (None) axis, RNN(cell) and
StackedRNNCells, ReLU(6.0) and multiply([a, b]), and None / True / False where Keras takes them.
Each model is built by Keras and compared exactly: params, trainable, non-trainable, output shape."""
from __future__ import annotations

import json
import os

import pytest

os.environ.setdefault("KERAS_BACKEND", "torch")
keras = pytest.importorskip("keras")
from keras import layers  # noqa: E402

import symparams  # noqa: E402
from symparams.importers import keras_json, keras_python  # noqa: E402


def _keras_counts(model):
    def size(weights):
        return sum(int(w.numpy().size) for w in weights)
    return {"params": model.count_params(), "trainable": size(model.trainable_weights),
            "non_trainable": size(model.non_trainable_weights), "output_shape": tuple(model.output_shape[1:])}


def _counts(text, values=None):
    model = symparams.parse(text, "model.sp")
    ev = model.evaluate(values or {})
    return {"params": ev.params, "trainable": ev.trainable, "non_trainable": ev.params - ev.trainable,
            "output_shape": ev.shape(model.output_shape)}


def _imported(model):
    return keras_json.program(json.loads(model.to_json()))


def _seq(*stack, shape=(12, 6)):
    x = keras.Input(shape)
    y = x
    for layer in stack:
        y = layer(y)
    return keras.Model(x, y)


# ---------------------------------------------------------------- models Keras builds

def nested_functional_output():
    """keras.Model(x, base(x)), as a wrapped keras.applications model is."""
    i = keras.Input((8,))
    base = keras.Model(i, layers.Dense(4)(layers.Dense(6)(i)), name="base")
    x = keras.Input((8,))
    return keras.Model(x, base(x), name="wrapped")


def nested_functional_twice():
    i = keras.Input((8,))
    base = keras.Model(i, layers.Dense(8, activation="relu")(i), name="base")
    x = keras.Input((8,))
    return keras.Model(x, base(base(x)), name="twice")


def wrapped_mobilenet():
    base = keras.applications.MobileNetV2(input_shape=(32, 32, 3), include_top=False, weights=None, alpha=0.35)
    x = keras.Input((32, 32, 3))
    return keras.Model(x, base(x))


def mha_int_tuple():
    x = keras.Input((5, 8))
    return keras.Model(x, layers.MultiHeadAttention(2, 4, output_shape=(6,))(x, x))


def mha_two_axes():
    x = keras.Input((5, 8))
    return keras.Model(x, layers.MultiHeadAttention(2, 4, value_dim=3, output_shape=(2, 3))(x, x))


def mha_int():
    x = keras.Input((5, 8))
    return keras.Model(x, layers.MultiHeadAttention(3, 4, output_shape=7)(x, x))


def rnn_cells():
    return _seq(layers.RNN(layers.LSTMCell(8), return_sequences=True), layers.RNN(layers.GRUCell(5),
                return_sequences=True), layers.RNN(layers.SimpleRNNCell(3)))


def rnn_gru_no_reset_after():
    return _seq(layers.RNN(layers.GRUCell(5, reset_after=False, use_bias=True)))


def rnn_stacked():
    cells = [layers.LSTMCell(8), layers.GRUCell(6), layers.SimpleRNNCell(4)]
    return _seq(layers.RNN(layers.StackedRNNCells(cells), return_sequences=True))


def rnn_list_of_cells():
    return _seq(layers.RNN([layers.GRUCell(6), layers.LSTMCell(3, use_bias=False)]))


def bidirectional_rnn_cell():
    return _seq(layers.Bidirectional(layers.RNN(layers.LSTMCell(7))))


def relu6_and_multiply():
    x = keras.Input((10,))
    a = layers.Dense(6)(x)
    b = layers.ReLU(6.0)(a)
    return keras.Model(x, layers.multiply([a, b]))


def group_norm_instance():
    return _seq(layers.Conv2D(6, 3), layers.GroupNormalization(groups=-1), shape=(8, 8, 3))


MODELS = [nested_functional_output, nested_functional_twice, wrapped_mobilenet, mha_int_tuple, mha_two_axes,
          mha_int, rnn_cells, rnn_gru_no_reset_after, rnn_stacked, rnn_list_of_cells, bidirectional_rnn_cell,
          relu6_and_multiply, group_norm_instance]


@pytest.mark.parametrize("build", MODELS, ids=lambda f: f.__name__)
def test_the_json_of_a_keras_model_imports_exactly(build):
    model = build()
    assert _counts(_imported(model)) == _keras_counts(model)


def test_a_nested_models_call_as_the_output_is_its_block():
    text = _imported(nested_functional_output())
    assert "block base()(x):" in text and "base_out = base(name=base)(inputs)" in text


def test_mha_output_shape_reads_as_keras_means_it():
    assert "output_shape=(2, 3)" in _imported(mha_two_axes())
    assert _counts("model m():\n    x = input (5, 8)\n    multihead_attention(2, 4, output_shape=6)(x, x)\n") == \
        _counts("model m():\n    x = input (5, 8)\n    multihead_attention(2, 4, output_shape=(6,))(x, x)\n")


# ---------------------------------------------------------------- a free time axis

def test_an_input_with_a_free_axis_is_a_symbol_named_after_it():
    x = keras.Input((None, 8), name="frames")
    model = keras.Model(x, layers.LSTM(4, return_sequences=True)(layers.Dense(6)(x)))
    text = _imported(model)
    assert "model functional" in text and "(frames_len):" in text and "frames = input (frames_len, 8)" in text
    parsed = symparams.parse(text, "model.sp")
    assert str(parsed.output_shape) == "(frames_len, 4)"
    for T in (3, 11):
        x = keras.Input((T, 8))
        fixed = keras.Model(x, layers.LSTM(4, return_sequences=True)(layers.Dense(6)(x)))
        assert _counts(text, {"frames_len": T}) == _keras_counts(fixed)


def test_free_axes_of_an_image_are_two_symbols():
    model = _seq(layers.Conv2D(4, 3), layers.GlobalAveragePooling2D(), shape=(None, None, 3))
    text = _imported(model)
    assert "inputs = input (inputs_len1, inputs_len2, 3)" in text
    assert _counts(text, {"inputs_len1": 9, "inputs_len2": 7}) == _keras_counts(model)


def test_a_python_builder_with_a_free_axis(tmp_path, monkeypatch):
    path = tmp_path / "free.py"
    path.write_text("import keras\n\ndef build(d=8, units=4):\n    x = keras.Input((None, d))\n"
                    "    return keras.Model(x, keras.layers.GRU(units)(x))\n")
    text = keras_python.program(str(path), "build")
    assert "(d = 8, units = 4, inputs_len):" in text and "inputs = input (inputs_len, d)" in text
    model = keras.Model(i := keras.Input((None, 8)), layers.GRU(4)(i))
    assert _counts(text, {"inputs_len": 5}) == _keras_counts(model)


# ---------------------------------------------------------------- the language

def _one(line, shape="(12, 6)", values=None):
    return _counts(f"model m():\n    x = input {shape}\n    {line}\n", values)


@pytest.mark.parametrize("line, build", [
    ("rnn(lstm_cell(8), return_sequences=true)", lambda: _seq(layers.RNN(layers.LSTMCell(8), return_sequences=True))),
    ("RNN(GRUCell(5))", lambda: _seq(layers.RNN(layers.GRUCell(5)))),
    ("RNN(cell=SimpleRNNCell(3))", lambda: _seq(layers.RNN(layers.SimpleRNNCell(3)))),
    ("rnn((lstm_cell(8), gru_cell(6)), return_sequences=True)",
     lambda: _seq(layers.RNN([layers.LSTMCell(8), layers.GRUCell(6)], return_sequences=True))),
    ("rnn(stacked_rnn_cells((gru_cell(4, reset_after=False), simple_rnn_cell(3))))",
     lambda: _seq(layers.RNN(layers.StackedRNNCells([layers.GRUCell(4, reset_after=False),
                                                      layers.SimpleRNNCell(3)])))),
    ("ReLU(6.0)", lambda: _seq(layers.ReLU(6.0))),
    ("lstm(8, return_sequences=True, use_bias=False)", lambda: _seq(layers.LSTM(8, return_sequences=True,
                                                                                use_bias=False))),
    ("maxpool2d(3, strides=none)", lambda: _seq(layers.MaxPooling2D(3, strides=None), shape=(12, 12, 2))),
    ("MaxPooling2D(3, strides=None, padding=same)",
     lambda: _seq(layers.MaxPooling2D(3, strides=None, padding="same"), shape=(13, 13, 2))),
    ("groupnorm(groups=-1)", lambda: _seq(layers.GroupNormalization(groups=-1), shape=(4, 4, 6))),
    ("GroupNormalization(-1, axis=None)", lambda: _seq(layers.GroupNormalization(-1), shape=(4, 4, 6))),
    ("normalization(axis=None)", lambda: _seq(layers.Normalization(axis=None))),
    ("normalization(axis=none)", lambda: _seq(layers.Normalization(axis=None), shape=(3, 4, 5))),
    ("stft_spectrogram(frame_length=16, fft_length=None)",
     lambda: _seq(layers.STFTSpectrogram(frame_length=16, fft_length=None), shape=(64, 1))),
])
def test_the_language_reads_keras_spellings(line, build):
    model = build()
    shape = "(" + ", ".join(str(d) for d in model.input_shape[1:]) + ")"
    assert _one(line, shape) == _keras_counts(model)


def test_torch_adaptive_pool_keeps_a_none_axis():
    torch = pytest.importorskip("torch")
    for size, shape in (("(None, 4)", (3, 9, 8)), ("(2, none)", (3, 9, 8)), ("(None, None)", (3, 5, 7))):
        text = f"convention torch\nmodel m():\n    x = input {shape}\n    adaptive_avgpool2d({size})\n"
        module = torch.nn.AdaptiveAvgPool2d(eval(size.replace("none", "None")))
        expected = tuple(module(torch.zeros((1,) + shape)).shape[1:])
        assert _counts(text)["output_shape"] == expected


@pytest.mark.parametrize("line, message", [
    ("rnn(dense(8))", "simple_rnn's units must be a positive whole-number size, or a recurrent cell"),
    ("rnn(lstm_cell(8), num_layers=2)", "rnn of a cell takes no num_layers"),
    ("lstm(8, return_sequences=Maybe)", "'Maybe' is not a symbol, tensor or layer here"),
    ("dense(none)", "'none' is not a symbol, tensor or layer here"),
    ("groupnorm(groups=-2)", "groupnorm's groups must be"),
    ("ReLU(6.0, 0.1, 0.0, 1)", "relu takes at most"),
    ("relu(dense)", "relu's max_value must be a number"),
    ("adaptive_avgpool2d(none)", "hint: none keeps the input's size on one axis"),
    ("multihead_attention(2, 4, output_shape=(2, 0))(x, x)", "output_shape must be a positive whole-number size"),
])
def test_wrong_spellings_are_still_errors_in_words(line, message, tmp_path, capsys):
    from symparams.cli import main
    path = tmp_path / "m.sp"
    shape = "(8, 8, 6)" if "adaptive" in line else "(12, 6)"
    path.write_text(f"model m():\n    x = input {shape}\n    {line}\n")
    assert main(["summary", str(path)]) == 2
    err = capsys.readouterr().err
    assert f"{path}:3:" in err and message in err and "Traceback" not in err


def test_relu6_and_multiply_in_a_python_builder(tmp_path):
    path = tmp_path / "gated.py"
    path.write_text("import keras\n\ndef build(d=8, units=6):\n    x = keras.Input((d,))\n"
                    "    a = keras.layers.Dense(units)(x)\n    b = keras.layers.ReLU(6.0)(a)\n"
                    "    return keras.Model(x, keras.layers.multiply([a, b]))\n")
    text = keras_python.program(str(path), "build")
    assert "multiply()(dense_out, relu_out)" in text
    for d, units in ((8, 6), (5, 3)):
        x = keras.Input((d,))
        a = layers.Dense(units)(x)
        model = keras.Model(x, layers.multiply([a, layers.ReLU(6.0)(a)]))
        assert _counts(text, {"d": d, "units": units}) == _keras_counts(model)
