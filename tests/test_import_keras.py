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


def test_a_name_a_keras_json_has_no_symbol_for_is_an_unknown_name(capsys):
    """`--set`, `--vary` or `--for` of a name a Keras model's JSON has no symbol for is an unknown
    name, as for any program: only a Hugging Face config.json is imported again with a field set."""
    from symparams.cli import main
    path = os.path.join(os.path.dirname(__file__), "..", "examples", "keras", "matcher.json")
    for args in (["formula", path, "--set", "bogus=3"], ["sweep", path, "--vary", "bogus=1:3"],
                 ["solve", path, "--for", "bogus", "--budget", "1e6"]):
        assert main(args) == 2, args
        err = capsys.readouterr().err
        assert "no symbol 'bogus'" in err and "neither a Hugging Face config" not in err, (args, err)


# ---------------------------------------------------------------- round trip: export, then import

# Every example and zoo model `symparams export --to keras` writes. The others it cannot: gpt2,
# megatron_gpt, zoo/bert's and zoo/gpt2's models use position_embedding (no core Keras layer); the
# Llamas and Mixtral declare rotary layers (no Keras module); lenet5, vgg16, vit_b16, convnext_tiny,
# efficientnet_b0 and swin_t are channels-first programs whose sizes the Keras layout breaks.
ROUND_TRIP = [("examples/bn_cnn.sp", None), ("examples/bn_cnn_torch.sp", None), ("examples/conv_stack.sp", None),
              ("examples/har_lstm.sp", None), ("examples/mnist_dense.sp", None), ("examples/se_cnn.sp", None),
              ("examples/se_cnn_torch.sp", None), ("examples/text_cnn.sp", None),
              ("examples/zoo/densenet121_keras.sp", None), ("examples/zoo/efficientnet_b0_keras.sp", None),
              ("examples/zoo/mobilenet_keras.sp", None), ("examples/zoo/mobilenet_v2.sp", None),
              ("examples/zoo/resnet.sp", "resnet18"), ("examples/zoo/resnet.sp", "resnet50"),
              ("examples/zoo/resnet50_keras.sp", None), ("examples/zoo/resnext50.sp", None)]


def _figures(model, values):
    ev = model.evaluate(values)
    return {"params": ev.params, "trainable": ev.trainable, "non_trainable": ev.params - ev.trainable,
            "macs": ev.macs, "output_shape": ev.shape(model.output_shape)}


def _formulas(model):
    return {"params": model.params, "trainable": model.trainable, "non_trainable": model.non_trainable,
            "macs": model.macs, "output_shape": tuple(model.output_shape)}


@pytest.mark.parametrize("file,name", ROUND_TRIP, ids=[f"{f.split('/')[-1]}-{n}" for f, n in ROUND_TRIP])
def test_an_exported_model_imports_back_with_its_formulas(file, name, tmp_path, capsys, monkeypatch):
    """Export, build the written file's `build()` in Keras (counts as the original, and so do its
    JSON's, imported), import that `build` back and compare the formulas — params, trainable,
    non-trainable, MACs and the output shape — as sympy expressions: each is the same expression
    as the original's (both in the canonical form every output prints), not merely equal where
    sampled. A repeat comes back a repeat, and the header holds the model's symbols with their
    defaults."""
    from pathlib import Path
    from symparams.cli import main
    monkeypatch.chdir(Path(__file__).resolve().parent.parent)
    original = symparams.load(file, model=name, convention="keras")
    exported = tmp_path / "exported.py"
    assert main(["export", file, "--to", "keras"] + (["--model", name] if name else [])) == 0
    exported.write_text(capsys.readouterr().out)
    namespace = {}
    exec(compile(exported.read_text(), str(exported), "exec"), namespace)
    counts = {k: v for k, v in _figures(original, {}).items() if k != "macs"}
    assert _keras_counts(namespace["model"]) == counts
    assert _imported_counts(keras_json.program(json.loads(namespace["model"].to_json()))) == counts   # its JSON too
    written = tmp_path / "imported.sp"
    assert main(["import", f"{exported}:build", "-o", str(written)]) == 0
    text = written.read_text()
    imported = symparams.load(str(written))
    assert imported.defaults == original.defaults
    if "repeat(" in Path(file).read_text():
        assert "repeat(" in text
    assert _formulas(imported) == _formulas(original)


def test_the_docs_round_trip_files_are_what_export_and_import_write(tmp_path, capsys, monkeypatch):
    """examples/keras/resnet50_keras.py and .sp, docs/import.md's round trip, are today's export and import."""
    from pathlib import Path
    from symparams.cli import main
    monkeypatch.chdir(Path(__file__).resolve().parent.parent)
    assert main(["export", "examples/zoo/resnet50_keras.sp", "--to", "keras"]) == 0
    assert capsys.readouterr().out == Path("examples/keras/resnet50_keras.py").read_text(), \
        "write it again: symparams export examples/zoo/resnet50_keras.sp --to keras > examples/keras/resnet50_keras.py"
    written = tmp_path / "resnet50_keras.sp"
    assert main(["import", "examples/keras/resnet50_keras.py:build", "-o", str(written)]) == 0
    assert written.read_text() == Path("examples/keras/resnet50_keras.sp").read_text(), \
        "write it again: symparams import examples/keras/resnet50_keras.py:build -o examples/keras/resnet50_keras.sp"


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


# ---------------------------------------------------------------- FILE.py:NAME, a Python function building the model

def _import_builder(path, name, capsys, *extra):
    from symparams.cli import main
    assert main(["import", f"{path}:{name}", *extra]) == 0
    return capsys.readouterr().out


def _at(model, values):
    """The imported program's figures at `values`, as _keras_counts gives them."""
    ev = model.evaluate(values)
    return {"params": ev.params, "trainable": ev.trainable, "non_trainable": ev.params - ev.trainable,
            "output_shape": ev.shape(model.output_shape)}


def test_a_builders_parameters_are_the_symbols_and_its_loop_a_repeat(capsys, monkeypatch):
    """examples/keras/residual_cnn.py's make_model, imported once, against Keras building it at other sizes."""
    import runpy
    from pathlib import Path
    monkeypatch.chdir(Path(__file__).resolve().parent.parent)
    text = _import_builder("examples/keras/residual_cnn.py", "make_model", capsys)
    assert "model residual_cnn(size = 32, width = 32, depth = 3, classes = 10):" in text
    assert "    inputs = input (size, size, 3)\n" in text          # 3 channels is no depth: depth + 1 moves none
    assert "block residual(width)(x):" in text and "repeat(depth, residual(width))" in text
    assert "conv2d(2*width, 3, strides=2, activation=relu)" in text
    program = symparams.parse(text, "residual_cnn.sp")
    make_model = runpy.run_path("examples/keras/residual_cnn.py")["make_model"]
    for values in ({}, {"size": 20, "width": 8, "depth": 1, "classes": 3}, {"size": 45, "width": 12, "depth": 5}):
        assert _at(program, values) == _keras_counts(make_model(**values)), values


BUILDERS = '''
import keras
from keras import layers


def mlp(x, d, hidden):
    y = layers.Dense(hidden, activation="gelu")(layers.LayerNormalization()(x))
    return layers.Add()([x, layers.Dense(d)(y)])


def heads(x, n):
    # two outputs: not a block, written inline
    return layers.Dense(n)(x), layers.Dense(n + 1)(x)


def square(H=28, W=28, classes=10):
    x = keras.Input((H, W, 1))
    y = layers.Conv2D(8, (3, 5), strides=2)(x)
    return keras.Model(x, layers.Dense(classes)(layers.Flatten()(y)), name="square")


def tokens(T=16, vocab=100, d=32, L=2, k=3):
    ids = keras.Input((T,), dtype="int32")
    x = layers.Embedding(vocab, d)(ids)
    for _ in range(L):
        x = mlp(x, d, 4 * d)
    for _ in range(L + 1):
        x = layers.Dense(d)(x)
    a, b = heads(layers.GlobalAveragePooling1D()(x), k)
    return keras.Model(ids, layers.Concatenate()([a, b]), name="tokens")


class Tagger(keras.Model):
    def __init__(self, T=12, units=24, tags=5):
        x = keras.Input((T, 8))
        y = layers.Bidirectional(layers.LSTM(units, return_sequences=True))(x)
        super().__init__(x, layers.Dense(tags)(y), name="tagger")


def through(x, layer, d):
    return layers.Dense(d)(layer(x))


def shared(n=6, d=8):
    # one layer applied at the top, then inside a block: the block is written inline
    x = keras.Input((n,))
    common = layers.Dense(n, name="common")
    y = through(common(x), common, d)
    return keras.Model(x, y, name="shared")


def shared_late(n=6, d=8):
    # its first use inside the block, its second at the top: no block binds it, the model is flat
    x = keras.Input((n,))
    common = layers.Dense(4, name="common")
    y = through(x, common, n)
    return keras.Model(x, layers.Dense(d)(common(y)), name="shared_late")


def residual_lines(T=10, d=16, L=3, classes=4):
    # loops of several layers, no block function: `repeat L:` over the lines
    x = inputs = keras.Input((T, d))
    for _ in range(L):
        y = layers.Dense(2 * d, activation="relu")(layers.LayerNormalization()(x))
        x = layers.Add()([x, layers.Dense(d)(y)])
    for _ in range(L - 1):
        x = layers.Dropout(0.1)(layers.Dense(d)(x))
    return keras.Model(inputs, layers.Dense(classes)(layers.GlobalAveragePooling1D()(x)), name="residual_lines")


def nested_loops(d=8, L=2, k=3):
    x = inputs = keras.Input((d,))
    for _ in range(L):
        for _ in range(k):
            x = mlp(x, d, d)
        x = layers.Dense(d)(x)
    return keras.Model(inputs, x, name="nested_loops")


def stack(n=12, d=16):
    return keras.Sequential([keras.Input((n,)), layers.Dense(d), layers.Dense(d // 2)], name="stack")


def towers(T=10, vocab=50, d=8):
    tower = keras.Sequential([layers.Embedding(vocab, d), layers.GlobalAveragePooling1D(), layers.Dense(d)],
                             name="tower")
    a, b = keras.Input((T,), dtype="int32"), keras.Input((T,), dtype="int32")
    return keras.Model([a, b], layers.Dot(1)([tower(a), tower(b)]), name="towers")


class Custom(keras.Model):
    def __init__(self, d=4):
        super().__init__()
        self.dense = layers.Dense(d)

    def call(self, x):
        return self.dense(x)


def clashing(input=8, dense=4):
    # parameters the language reads otherwise: spelled input_ and dense_
    x = keras.Input((input,))
    return keras.Model(x, keyed(x, dense), name="clashing")


def keyed(x, dense):
    return layers.Dense(dense)(x)


def fixed():
    x = keras.Input((64,))
    return keras.Model(x, layers.Dense(64)(layers.Dense(10)(x)), name="fixed")


built = fixed()
'''


@pytest.fixture()
def builders(tmp_path):
    path = tmp_path / "builders.py"
    path.write_text(BUILDERS)
    return str(path)


@pytest.mark.parametrize("name,values", [
    ("square", {"H": 20, "W": 33, "classes": 4}),
    ("tokens", {"T": 9, "vocab": 37, "d": 10, "L": 4, "k": 2}),
    ("Tagger", {"T": 7, "units": 5, "tags": 2}),
    ("shared", {"n": 3, "d": 5}),
    ("shared_late", {"n": 3, "d": 5}),
    ("residual_lines", {"T": 3, "d": 5, "L": 6, "classes": 2}),
    ("nested_loops", {"d": 3, "L": 4, "k": 2}),
    ("clashing", {"input": 3, "dense": 5}),
    ("stack", {"n": 5, "d": 6}),
    ("towers", {"T": 4, "vocab": 9, "d": 3})])
def test_a_builders_import_counts_as_keras_at_other_sizes(name, values, builders, capsys):
    import runpy
    program = symparams.parse(_import_builder(builders, name, capsys), "m.sp")
    build = runpy.run_path(builders)[name]
    assert _at(program, {}) == _keras_counts(build())
    from symparams.importers.keras_record import spelled
    assert _at(program, {spelled(k): v for k, v in values.items()}) == _keras_counts(build(**values))


def test_equal_sizes_are_told_apart_by_building_again(builders, capsys):
    """H = W = 28: the build with H = 29 moves the input's first size only."""
    assert "    inputs = input (H, W, 1)\n" in _import_builder(builders, "square", capsys)


def test_blocks_and_loops_that_cannot_be_written_as_such_are_inline(builders, capsys):
    text = _import_builder(builders, "tokens", capsys)
    assert "block mlp(d, hidden)(x):" in text and "repeat(L, mlp(d, 4*d))" in text
    assert "repeat(L + 1, dense(d))" in text
    assert "dense(k)(" in text and "dense(k + 1)(" in text and "block heads" not in text


def test_a_symbol_naming_a_parameter_sets_its_default(builders, capsys):
    import runpy
    text = _import_builder(builders, "square", capsys, "--symbol", "H=20")
    assert "model square(H = 20, W = 28, classes = 10):" in text
    assert _at(symparams.parse(text, "m.sp"), {}) == _keras_counts(runpy.run_path(builders)["square"](H=20))


def test_a_loop_of_several_layers_repeats_its_lines(builders, capsys):
    text = _import_builder(builders, "residual_lines", capsys)
    assert "    repeat L:\n" in text and "    repeat L - 1:\n" in text and "        inputs = add()(inputs, " in text
    text = _import_builder(builders, "nested_loops", capsys)
    assert "    repeat L:\n        mlp_out = repeat(k, mlp(d, d))(inputs)\n        inputs = dense(d)(mlp_out)\n" in text


@pytest.mark.parametrize("name", ["fixed", "built"])
def test_a_builder_without_parameters_or_a_built_model_takes_symbols_by_value(name, builders, capsys):
    text = _import_builder(builders, name, capsys, "--symbol", "d=64")
    assert "model fixed(d = 64):" in text and "input (d)" in text and "dense(d)" in text


@pytest.mark.parametrize("name,message", [("missing", "defines no function or class 'missing'"),
                                          ("BUILDERS_NOT", "defines no function")])
def test_a_builder_that_is_not_there_is_named(name, message, builders, capsys):
    from symparams.cli import main
    assert main(["import", f"{builders}:{name}"]) == 2
    assert message in capsys.readouterr().err


def test_a_failing_builder_says_so(tmp_path, capsys):
    from symparams.cli import main
    path = tmp_path / "bad.py"
    path.write_text("import keras\n\ndef build(d=4):\n    raise ValueError('no')\n\ndef other(d=4):\n    return d\n")
    assert main(["import", f"{path}:build"]) == 2
    assert "build() failed: ValueError: no" in capsys.readouterr().err
    assert main(["import", f"{path}:other"]) == 2
    assert "gives a Size, not a keras.Model" in capsys.readouterr().err


def test_a_subclassed_model_is_refused_with_the_way_out(builders, capsys):
    from symparams.cli import main
    assert main(["import", f"{builders}:Custom"]) == 2
    err = capsys.readouterr().err
    assert "gives a subclassed keras.Model (Custom, its own call())" in err and "keras.Model(inputs, outputs)" in err
