"""`symparams import MODEL.keras` / `model.to_json()`: Keras 3 models read from their JSON config
(nothing executed), each compared exactly with the model Keras builds: params, trainable,
non-trainable and the output shape."""
from __future__ import annotations

import json
import os

import pytest

os.environ.setdefault("KERAS_BACKEND", "torch")
keras = pytest.importorskip("keras")
from keras import layers  # noqa: E402

import symparams  # noqa: E402
from symparams.errors import SymparamsError  # noqa: E402
from symparams.importers import keras_json  # noqa: E402


def _keras_counts(model):
    def size(weights):
        return sum(int(w.numpy().size) for w in weights)
    return {"params": model.count_params(), "trainable": size(model.trainable_weights),
            "non_trainable": size(model.non_trainable_weights), "output_shape": tuple(model.output_shape[1:])}


def _imported_counts(text):
    model = symparams.parse(text, "model.sp")
    ev = model.evaluate()
    return {"params": ev.params, "trainable": ev.trainable, "non_trainable": ev.params - ev.trainable,
            "output_shape": ev.shape(model.output_shape)}


def _both_ways(model, tmp_path):
    """The program from model.to_json() and from the saved .keras file (the same text)."""
    path = tmp_path / "model.keras"
    model.save(path)
    from_file = keras_json.program(*keras_json.read(str(path)))
    from_json = keras_json.program(json.loads(model.to_json()))
    assert from_file.split("\n", 2)[2] == from_json.split("\n", 2)[2]
    return from_json


def cnn():
    return keras.Sequential([
        keras.Input((28, 28, 1)), layers.Conv2D(16, 3, padding="same", use_bias=False), layers.BatchNormalization(),
        layers.ReLU(), layers.MaxPooling2D(), layers.Conv2D(32, 3, strides=2, activation="relu"),
        layers.BatchNormalization(), layers.Flatten(), layers.Dropout(0.3), layers.Dense(10, activation="softmax")])


def shared_and_frozen():
    """A functional model: one encoder applied to two inputs, and a frozen branch."""
    a, b = keras.Input((12,), name="left"), keras.Input((12,), name="right")
    encoder = layers.Dense(7, activation="relu", name="encoder")
    frozen = layers.Dense(5, name="frozen_branch", trainable=False)
    merged = layers.Concatenate()([encoder(a), encoder(b), frozen(a)])
    return keras.Model([a, b], layers.Dense(1, name="score")(merged), name="siamese")


def nested():
    """A Sequential nested twice in a functional model (one instance), and a frozen nested block."""
    block = keras.Sequential([layers.Dense(16, activation="relu"), layers.LayerNormalization()], name="mlp_block")
    frozen = keras.Sequential([layers.Dense(8), layers.BatchNormalization()], name="frozen_block")
    frozen.trainable = False
    x = keras.Input((16,))
    y = block(block(x))
    return keras.Model(x, layers.Dense(3)(frozen(y)), name="nested")


def tagger():
    x = keras.Input((20,), dtype="int32")
    y = layers.Embedding(500, 32)(x)
    y = layers.Bidirectional(layers.LSTM(24, return_sequences=True))(y)
    y = layers.GRU(16, return_sequences=True)(y)
    return keras.Model(x, layers.Dense(9, activation="softmax")(y), name="tagger")


def attention():
    x = keras.Input((10, 32))
    y = layers.MultiHeadAttention(4, 8)(x, x)
    y = layers.LayerNormalization()(layers.Add()([x, y]))
    return keras.Model(x, layers.GlobalAveragePooling1D()(y))


CASES = {"cnn": cnn, "shared_and_frozen": shared_and_frozen, "nested": nested, "tagger": tagger,
         "attention": attention,
         "mobilenet_v2": lambda: keras.applications.MobileNetV2(weights=None, input_shape=(96, 96, 3)),
         "resnet50": lambda: keras.applications.ResNet50(weights=None),
         "densenet121": lambda: keras.applications.DenseNet121(weights=None, input_shape=(64, 64, 3))}


@pytest.mark.parametrize("name", CASES)
def test_imported_model_counts_as_keras(name, tmp_path):
    model = CASES[name]()
    assert _imported_counts(_both_ways(model, tmp_path)) == _keras_counts(model)


def test_a_shared_layer_is_one_instance_applied_twice(tmp_path):
    text = _both_ways(shared_and_frozen(), tmp_path)
    assert "    encoder = dense(7, activation=relu)\n" in text
    assert "encoder(left)" in text and "encoder(right)" in text
    assert "trainable=false" in text


def test_a_nested_model_is_a_block(tmp_path):
    text = _both_ways(nested(), tmp_path)
    assert "block mlp_block()(x):" in text and "block frozen_block()(x):" in text
    assert "mlp_block_shared = mlp_block(name=mlp_block)" in text
    assert "frozen_block(name=frozen_block, trainable=false)" in text


def test_a_symbol_replaces_the_sizes_with_its_value():
    model = keras.Sequential([keras.Input((64,)), layers.Dense(64, activation="relu"), layers.Dense(10)],
                             name="mlp")
    text = keras_json.program(json.loads(model.to_json()), symbols={"d": 64})
    assert "model mlp(d = 64):" in text and "    input (d)\n" in text and "dense(d, activation=relu)" in text
    parsed = symparams.parse(text, "m.sp")
    assert parsed.evaluate().params == model.count_params()
    assert parsed.evaluate({"d": 32}).params == 32 * 32 + 32 + 33 * 10


def test_a_symbol_no_size_has_is_refused():
    model = keras.Sequential([keras.Input((8,)), layers.Dense(4)])
    with pytest.raises(SymparamsError, match="--symbol d=5: no size"):
        keras_json.program(json.loads(model.to_json()), symbols={"d": 5})


def test_an_unsupported_layer_class_is_named():
    model = keras.Sequential([keras.Input((8,)), layers.Lambda(lambda x: x * 2)])
    with pytest.raises(SymparamsError, match="Keras layer class Lambda") as e:
        keras_json.program(json.loads(model.to_json()))
    assert "declare a layer" in e.value.hint


def test_a_file_that_is_no_keras_model_is_refused(tmp_path):
    path = tmp_path / "m.json"
    path.write_text('{"class_name": "Dense"}')
    with pytest.raises(SymparamsError, match="not a Keras model"):
        keras_json.read(str(path))


def test_the_command_reads_a_keras_file_with_symbols(tmp_path, capsys):
    from symparams.cli import main
    model = keras.Sequential([keras.Input((28, 28, 1)), layers.Conv2D(32, 3, activation="relu"), layers.Flatten(),
                              layers.Dense(10, activation="softmax")], name="small_cnn")
    model.save(tmp_path / "small.keras")
    out = tmp_path / "small.sp"
    assert main(["import", str(tmp_path / "small.keras"), "--symbol", "S=28", "--symbol", "classes=10",
                 "-o", str(out)]) == 0
    text = out.read_text()
    assert "model small_cnn(S = 28, classes = 10):" in text and "input (S, S, 1)" in text
    assert symparams.parse(text).evaluate().params == model.count_params()
    assert main(["import", str(tmp_path / "small.keras"), "--symbol", "S"]) == 2
    assert "NAME=VALUE" in capsys.readouterr().err


# ---------------------------------------------------------------- round trip: export, then import

# Every example and zoo model `symparams export --to keras` writes; the others cannot be exported:
# gpt2, megatron_gpt, zoo/bert and zoo/gpt2 use position_embedding, the Llamas and Mixtral declared
# rotary layers (no Keras class), and lenet5, vgg16, vit_b16 are channels-first programs.
ROUND_TRIP = [("examples/bn_cnn.sp", None), ("examples/bn_cnn_torch.sp", None), ("examples/conv_stack.sp", None),
              ("examples/har_lstm.sp", None), ("examples/mnist_dense.sp", None), ("examples/text_cnn.sp", None),
              ("examples/zoo/mobilenet_v2.sp", None), ("examples/zoo/resnet.sp", "resnet18"),
              ("examples/zoo/resnet.sp", "resnet50"), ("examples/zoo/resnet50_keras.sp", None)]


@pytest.mark.parametrize("file,name", ROUND_TRIP, ids=[f"{f.split('/')[-1]}-{n}" for f, n in ROUND_TRIP])
def test_an_exported_model_imports_back_with_its_counts(file, name, capsys, monkeypatch):
    from pathlib import Path
    from symparams.cli import main
    monkeypatch.chdir(Path(__file__).resolve().parent.parent)
    assert main(["export", file, "--to", "keras"] + (["--model", name] if name else [])) == 0
    namespace = {}
    exec(compile(capsys.readouterr().out, "exported.py", "exec"), namespace)
    model = namespace["model"]
    original = symparams.load(file, model=name, convention="keras")
    ev = original.evaluate()
    expected = {"params": ev.params, "trainable": ev.trainable, "non_trainable": ev.params - ev.trainable,
                "output_shape": ev.shape(original.output_shape)}
    assert _keras_counts(model) == expected
    assert _imported_counts(keras_json.program(json.loads(model.to_json()))) == expected


# ---------------------------------------------------------------- docs/import.md's example

def matcher():
    """examples/keras/matcher.json: a two-tower matcher, one tower shared by two inputs, a frozen prior."""
    query = keras.Input((20,), dtype="int32", name="query")
    document = keras.Input((20,), dtype="int32", name="document")
    features = keras.Input((16,), name="features")
    tower = keras.Sequential([layers.Embedding(5000, 64, name="embed"), layers.GlobalAveragePooling1D(name="pool"),
                              layers.Dense(64, activation="relu", name="project")], name="tower")
    prior = layers.Dense(64, name="prior", trainable=False)(features)
    merged = layers.Concatenate(name="merged")([tower(query), tower(document), prior])
    score = layers.Dense(1, activation="sigmoid", name="score")(merged)
    return keras.Model([query, document, features], score, name="matcher")


def test_the_docs_example_is_what_keras_writes_and_imports(tmp_path, monkeypatch):
    from pathlib import Path
    from symparams.cli import main
    monkeypatch.chdir(Path(__file__).resolve().parent.parent)
    model = matcher()
    symbols = {"vocab_size": 5000, "d": 64, "T": 20}
    text = keras_json.program(*keras_json.read("examples/keras/matcher.json"), symbols=symbols)
    assert text.split("\n", 1)[1] == keras_json.program(json.loads(model.to_json()), symbols=symbols).split("\n", 1)[1]
    assert _imported_counts(text) == _keras_counts(model)
    written = tmp_path / "matcher.sp"
    assert main(["import", "examples/keras/matcher.json", "--symbol", "vocab_size=5000", "--symbol", "d=64",
                 "--symbol", "T=20", "-o", str(written)]) == 0
    assert written.read_text() == Path("examples/keras/matcher.sp").read_text()
