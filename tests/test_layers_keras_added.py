"""keras.layers' remaining countable classes against real Keras 3 (torch backend): trainable and
non-trainable weights and output shapes, exactly. Keras counts no MACs."""
import keras
import numpy as np
import pytest

import symparams
from multi_input import keras_counts, ours, without
from reference import keras_counts as keras_one, weight_size
from single_layer import against_keras, call, symparams_layer, without_macs

L = keras.layers


def keras_ours(line, shapes, dtypes=None):
    return without(ours(line, shapes, "keras", dtypes), "macs")


# ---------------------------------------------------------------- two or three inputs

@pytest.mark.parametrize("shapes, axes, normalize", [
    ([(5,), (5,)], 1, False), ([(3, 4), (6, 4)], 2, False), ([(3, 4), (3, 6)], 1, True),
    ([(2, 3, 4), (5, 4)], (3, 2), False),
])
def test_dot_matches_keras(shapes, axes, normalize):
    assert keras_ours(call("Dot", axes, normalize=normalize), shapes) == \
        keras_counts(L.Dot(axes, normalize=normalize), shapes)


@pytest.mark.parametrize("cls, shapes, kwargs", [
    ("Attention", [(4, 6), (5, 6)], {}), ("Attention", [(4, 6), (5, 3), (5, 6)], {"use_scale": True}),
    ("Attention", [(2, 8), (7, 8)], {"score_mode": "concat", "use_scale": True}),
    ("AdditiveAttention", [(4, 6), (5, 6)], {}), ("AdditiveAttention", [(3, 5), (2, 7), (2, 5)], {}),
    ("AdditiveAttention", [(4, 6), (4, 6)], {"use_scale": False}),
])
def test_keras_attention_layers_match(cls, shapes, kwargs):
    assert keras_ours(call(cls, **kwargs), shapes) == keras_counts(getattr(L, cls)(**kwargs), shapes)


def test_attention_is_not_multihead_attention():
    model = symparams.parse("model m():\n    q = input (4, 6)\n    attention(q, q)\n")
    assert model.rows[-1].type == "Attention" and model.evaluate().params == 0


# ---------------------------------------------------------------- normalisation

@pytest.mark.parametrize("shape, kwargs", [((5, 6, 3), {}), ((5, 6, 3), {"axis": (1, 2)}), ((7,), {}),
                                           ((5, 6, 3), {"mean": 2.0, "variance": 3.0}), ((4, 6), {"axis": -2})])
def test_normalization_matches_keras(shape, kwargs):
    ours_, theirs = against_keras("Normalization", shape, **kwargs)
    assert ours_ == theirs


@pytest.mark.parametrize("shape, kwargs", [((4, 6), {}), ((3, 4, 5), {"axis": (2, 3)}), ((4, 6), {"scale": False}),
                                           ((2, 9), {"center": False})])
def test_layer_normalization_with_rms_scaling_matches_keras(shape, kwargs):
    ours_, theirs = against_keras("LayerNormalization", shape, rms_scaling=True, **kwargs)
    assert ours_ == theirs


# ---------------------------------------------------------------- recurrent cells and ConvLSTM

@pytest.mark.parametrize("cls, F, U, kwargs", [
    ("SimpleRNNCell", 3, 5, {}), ("SimpleRNNCell", 7, 2, {"use_bias": False}), ("SimpleRNNCell", 1, 4, {}),
    ("LSTMCell", 3, 5, {}), ("LSTMCell", 6, 1, {"use_bias": False}), ("LSTMCell", 2, 9, {}),
    ("GRUCell", 3, 5, {}), ("GRUCell", 8, 3, {"reset_after": False}), ("GRUCell", 1, 6, {"use_bias": False}),
])
def test_keras_cells_match_their_rnn(cls, F, U, kwargs):
    """A Keras cell runs inside layers.RNN, which adds no weights: one step (F,) -> (U,)."""
    theirs = keras_one(L.RNN(getattr(L, cls)(U, **kwargs)), (4, F))
    assert without_macs(symparams_layer(call(cls, U, **kwargs), (F,), "keras")) == theirs


@pytest.mark.parametrize("F, units", [(3, (5, 4)), (6, (2,)), (2, (3, 3, 7))])
def test_stacked_rnn_cells_match_keras(F, units):
    cells = "(" + ", ".join(f"lstm_cell({u})" for u in units) + ",)"
    theirs = keras_one(L.RNN(L.StackedRNNCells([L.LSTMCell(u) for u in units])), (4, F))
    assert without_macs(symparams_layer(f"StackedRNNCells({cells})", (F,), "keras")) == theirs


@pytest.mark.parametrize("n, shape, args, kwargs", [
    (1, (4, 8, 3), (5, 3), {"padding": "same", "return_sequences": True}), (1, (3, 9, 2), (4, 2), {"strides": 2}),
    (1, (2, 10, 3), (2, 3), {"dilation_rate": 2, "use_bias": False}),
    (2, (4, 8, 8, 3), (5, 3), {}), (2, (3, 9, 7, 2), (4, (3, 2)), {"strides": 2, "return_sequences": True}),
    (2, (2, 6, 6, 1), (2, 3), {"padding": "same"}),
    (3, (4, 6, 6, 6, 3), (2, 2), {"strides": 2}), (3, (2, 5, 5, 5, 2), (3, 3), {"padding": "same"}),
    (3, (3, 4, 5, 6, 1), (1, (1, 2, 3)), {"return_sequences": True}),
])
def test_conv_lstm_matches_keras(n, shape, args, kwargs):
    ours_, theirs = against_keras(f"ConvLSTM{n}D", shape, *args, **kwargs)
    assert ours_ == theirs


@pytest.mark.parametrize("shape", [(4, 8, 8, 3), (2, 6, 5, 4)])
def test_conv_lstm_channels_first_matches_keras(shape):
    ours_, theirs = against_keras("ConvLSTM2D", (shape[0], shape[3], shape[1], shape[2]), 3, 3, channels_first=True)
    assert ours_ == theirs


# ---------------------------------------------------------------- wrappers and embeddings

@pytest.mark.parametrize("inner, keras_inner, shape, dtype", [
    ("Dense(5)", lambda: L.Dense(5), (4, 6), ""), ("Conv2D(4, 3)", lambda: L.Conv2D(4, 3), (8, 8, 3), ""),
    ("Conv2DTranspose(4, 3)", lambda: L.Conv2DTranspose(4, 3), (5, 5, 3), ""),
    ("Conv1D(6, 2, use_bias=false)", lambda: L.Conv1D(6, 2, use_bias=False), (7, 2), ""),
    ("Embedding(20, 6)", lambda: L.Embedding(20, 6), (4,), "int"),
])
def test_spectral_normalization_matches_keras(inner, keras_inner, shape, dtype):
    assert keras_ours(f"SpectralNormalization({inner})", [shape], [dtype]) == \
        keras_counts(L.SpectralNormalization(keras_inner()), [shape], [dtype])


@pytest.mark.parametrize("shape, args, kwargs", [((4,), (20, 6), {}), ((3, 5), (11, 4), {"tie_weights": False}),
                                                 ((7,), (100, 3), {"mask_zero": True})])
def test_reversible_embedding_matches_keras(shape, args, kwargs):
    assert keras_ours(call("ReversibleEmbedding", *args, **kwargs), [shape], ["int"]) == \
        keras_counts(L.ReversibleEmbedding(*args, **kwargs), [shape], ["int"])


# ---------------------------------------------------------------- preprocessing

@pytest.mark.parametrize("cls, shape, args, kwargs", [
    ("Rescaling", (5, 6, 3), (1 / 255,), {}), ("Rescaling", (4,), (2.0,), {"offset": -1.0}),
    ("Rescaling", (3, 7), (0.5,), {}),
    ("Resizing", (5, 6, 3), (7, 9), {}), ("Resizing", (8, 8, 1), (4, 2), {"interpolation": "nearest"}),
    ("Resizing", (5, 9, 2), (3, 3), {"crop_to_aspect_ratio": True}),
    ("CenterCrop", (5, 6, 3), (3, 4), {}), ("CenterCrop", (5, 6, 3), (8, 9), {}), ("CenterCrop", (9, 9, 1), (9, 2), {}),
    ("RandomCrop", (5, 6, 3), (3, 4), {}), ("RandomCrop", (8, 8, 2), (8, 1), {"seed": 1}),
    ("RandomCrop", (7, 5, 4), (2, 2), {}),
])
def test_image_preprocessing_matches_keras(cls, shape, args, kwargs):
    ours_, theirs = against_keras(cls, shape, *args, **kwargs)
    assert ours_ == theirs


@pytest.mark.parametrize("cls, shape", [("Resizing", (3, 5, 6)), ("CenterCrop", (2, 8, 8)), ("RandomCrop", (1, 6, 9))])
def test_image_preprocessing_channels_first_matches_keras(cls, shape):
    ours_, theirs = against_keras(cls, shape, 4, 3, channels_first=True)
    assert ours_ == theirs


@pytest.mark.parametrize("shape, tokens, mode", [((4,), 10, "multi_hot"), ((4,), 10, "one_hot"), ((1,), 7, "one_hot"),
                                                 ((3, 4), 10, "count"), ((3, 4), 5, "one_hot")])
def test_category_encoding_matches_keras(shape, tokens, mode):
    assert keras_ours(call("CategoryEncoding", tokens, output_mode=mode), [shape], ["int"]) == \
        keras_counts(L.CategoryEncoding(tokens, output_mode=mode), [shape], ["int"])


@pytest.mark.parametrize("shape, kwargs", [((4,), {"bin_boundaries": (0.0, 1.0)}), ((3, 5), {"num_bins": 4}),
                                           ((4,), {"bin_boundaries": (0.0, 1.0, 2.0), "output_mode": "one_hot"}),
                                           ((6,), {"num_bins": 3, "output_mode": "multi_hot"})])
def test_discretization_matches_keras(shape, kwargs):
    keras_kwargs = {k: list(v) if isinstance(v, tuple) else v for k, v in kwargs.items()}
    assert keras_ours(call("Discretization", **kwargs), [shape]) == keras_counts(L.Discretization(**keras_kwargs),
                                                                                 [shape])


@pytest.mark.parametrize("T, kwargs", [(16000, {}), (4000, {"fft_length": 512, "sequence_stride": 128,
                                                            "num_mel_bins": 40}),
                                       (3001, {"fft_length": 256, "sequence_stride": 100, "sequence_length": 128}),
                                       (1000, {"fft_length": 255, "sequence_stride": 64})])
def test_mel_spectrogram_matches_keras(T, kwargs):
    ours_, theirs = against_keras("MelSpectrogram", (T,), **kwargs)
    assert ours_ == theirs


AUGMENTATION_ARGS = {"MaxNumBoundingBoxes": (5,), "RandomBrightness": (0.2,), "RandomColorDegeneration": (0.2,),
                     "RandomContrast": (0.2,), "RandomHue": (0.2,), "RandomPosterization": (4,),
                     "RandomRotation": (0.2,), "RandomSaturation": (0.2,), "RandomSharpness": (0.2,),
                     "RandomTranslation": (0.1, 0.2), "RandomZoom": (0.2,)}


def keras_eager(layer, shape) -> dict:
    """Counts and the output shape of a real call on zeros (Equalization refuses symbolic inputs)."""
    y = layer(np.zeros((2,) + shape, "float32"))
    trainable = sum(weight_size(w) for w in layer.trainable_weights)
    non_trainable = sum(weight_size(w) for w in layer.non_trainable_weights)
    return {"params": trainable + non_trainable, "trainable": trainable, "non_trainable": non_trainable,
            "buffers": 0, "output_shape": tuple(y.shape[1:])}


@pytest.mark.parametrize("cls", sorted(symparams.catalog.preprocessing.AUGMENTATIONS))
@pytest.mark.parametrize("shape", [(8, 8, 3), (6, 10, 3), (9, 7, 1)])
def test_augmentation_layers_keep_the_shape_and_learn_nothing(cls, shape):
    if cls in ("RandomColorJitter", "RandomHue", "RandomSaturation", "RandomColorDegeneration", "AugMix",
               "RandAugment") and shape[-1] != 3:
        pytest.skip("colour augmentations need three channels")
    args = AUGMENTATION_ARGS.get(cls, ())
    ours_ = without_macs(symparams_layer(call(cls, *args), shape, "keras"))
    assert ours_ == keras_eager(getattr(L, cls)(*args), shape)


def test_augmentation_arguments_follow_the_keras_constructor():
    import inspect
    for cls in symparams.catalog.preprocessing.AUGMENTATIONS:
        spec = symparams.catalog.lookup(cls)
        wanted = [p.name for p in inspect.signature(getattr(L, cls).__init__).parameters.values()
                  if p.name not in ("self", "kwargs", "data_format", "seed")]
        assert [a[0] for a in spec.arguments if a[0] != "seed"] == wanted, cls


# ---------------------------------------------------------------- data_format against the convention

def test_data_format_must_be_the_conventions():
    with pytest.raises(symparams.errors.ArgumentError, match="channels first, but the keras convention") as caught:
        symparams.parse("model m():\n    input (8, 8, 3)\n    Conv2D(4, 3, data_format=\"channels_first\")\n")
    assert "convention torch" in caught.value.hint
    # the layout is the file's (an input of (8, 8, 3) reads channels-last under either convention)
    for convention in ("keras", "torch"):
        for layout, shape in (("channels_last", "(8, 8, 3)"), ("channels_first", "(3, 8, 8)")):
            symparams.parse(f"model m():\n    input {shape}\n    Conv2D(4, 3, data_format={layout})\n",
                            convention=convention)


# ---------------------------------------------------------------- einsum dense

@pytest.mark.parametrize("shape, equation, output_shape, bias_axes", [
    ((6,), "ab,bc->ac", 4, None), ((6,), "ab,bc->ac", 4, "c"), ((5, 6), "abc,cd->abd", (5, 3), "d"),
    ((5, 6), "...b,bc->...c", 7, "c"), ((5, 6), "abc,cde->abde", (5, 2, 4), "de"),
    ((4, 3, 6), "ab...,bc->ac...", 7, "c"), ((4, 3, 6), "ab...,bc->ac...", 2, None),
])
def test_einsum_dense_matches_keras(shape, equation, output_shape, bias_axes):
    keras_output = output_shape if isinstance(output_shape, int) else list(output_shape)
    line = call("EinsumDense", equation, output_shape, bias_axes=bias_axes) if bias_axes else \
        call("EinsumDense", equation, output_shape)
    assert keras_ours(line, [shape]) == \
        keras_counts(L.EinsumDense(equation, keras_output, bias_axes=bias_axes), [shape])


def test_einsum_dense_refuses_an_equation_keras_refuses():
    with pytest.raises(symparams.errors.ArgumentError, match="einsum equation"):
        symparams.parse('model m():\n    input (6)\n    EinsumDense("ab->b", 4)\n')


@pytest.mark.parametrize("shape, kwargs", [
    ((1000, 1), {}), ((1000, 1), {"mode": "real", "frame_length": 64, "frame_step": 16, "fft_length": 128}),
    ((1000, 1), {"mode": "stft", "frame_length": 64, "frame_step": 16, "padding": "same"}),
    ((999, 1), {"mode": "magnitude", "frame_length": 50, "frame_step": 20, "fft_length": 64, "expand_dims": True}),
    ((1000, 2), {"mode": "psd"}), ((500, 3), {"mode": "imag", "frame_length": 31, "expand_dims": True}),
])
def test_stft_spectrogram_matches_keras(shape, kwargs):
    ours_, theirs = against_keras("STFTSpectrogram", shape, **kwargs)
    assert ours_ == theirs
