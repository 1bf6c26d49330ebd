"""`symparams export`: the printed source, run in a fresh namespace, is a network whose parameter
count is the formula's (our own generated code, executed to check it)."""
from pathlib import Path

import pytest

import symparams
from symparams.cli import main
from reference import weight_size

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"

CASES = [
    ("bn_cnn_torch.sp", ["S=16"]), ("har_lstm.sp", []), ("text_cnn.sp", ["V=500"]),
    ("gpt2.sp", ["V=300", "T=16", "d=32", "h=4", "L=12"]),    # a list of 12 block modules, the matrix tied
    ("zoo/resnet.sp", ["H=64", "W=64"]),                       # blocks as classes, stages as module lists
]


def exported(capsys, *argv) -> str:
    assert main(["export", *map(str, argv)]) == 0
    return capsys.readouterr().out


def formula_params(file, sets, convention):
    model = symparams.load(EXAMPLES / file, convention=convention)
    return model.evaluate({k: int(v) for k, v in (s.split("=") for s in sets)}).params


@pytest.mark.parametrize("file, sets", CASES)
def test_exported_torch_module_has_the_formula_count(capsys, file, sets):
    import torch
    source = exported(capsys, EXAMPLES / file, "--to", "torch", *(["--set", *sets] if sets else []))
    namespace = {}
    exec(compile(source, f"<export of {file}>", "exec"), namespace)
    (network_class,) = [v for v in namespace.values() if isinstance(v, type) and "written by" in (v.__doc__ or "")]
    with torch.device("meta"):
        network = network_class()
    assert sum(p.numel() for p in network.parameters()) == formula_params(file, sets, "torch")


def test_exported_gpt2_keeps_its_structure_and_runs(capsys):
    """A block is an nn.Module class, the repeat an nn.ModuleList looped in forward; at the
    published sizes the module has GPT-2's 124,439,808 parameters and maps tokens to logits."""
    import torch
    source = exported(capsys, EXAMPLES / "gpt2.sp", "--to", "torch")
    assert len(source.splitlines()) < 120
    assert "class GptLayer(nn.Module):" in source
    assert "def __init__(self, V=50257, T=1024, d=768, L=12, h=12):" in source
    assert "nn.ModuleList([GptLayer(d, h) for _ in range(L)])" in source and "nn.Linear(d, 4*d)" in source
    assert "for layer in self.repeat_1:" in source and "add_1 = x + multihead_attention_1" in source
    namespace = {}
    exec(compile(source, "<export of gpt2.sp>", "exec"), namespace)
    with torch.device("meta"):
        network = namespace["Gpt2"]()
        logits = network(torch.zeros(2, 1024, dtype=torch.long))
    assert sum(p.numel() for p in network.parameters()) == 124_439_808
    assert tuple(logits.shape) == (2, 1024, 50257)
    # The sizes are the constructor's: built at other ones, it has the formula's count there.
    other = {"V": 1000, "T": 64, "d": 96, "L": 3, "h": 4}
    with torch.device("meta"):
        network = namespace["Gpt2"](**other)
    assert sum(p.numel() for p in network.parameters()) == symparams.load(EXAMPLES / "gpt2.sp").evaluate(other).params


@pytest.mark.parametrize("file, sets", [("bn_cnn.sp", ["S=16"]), ("har_lstm.sp", []), ("conv_stack.sp", ["H=32", "W=32"]),
                                        ("zoo/resnet50_keras.sp", ["H=64", "W=64"])])
def test_exported_keras_model_has_the_formula_count(capsys, file, sets):
    import keras
    source = exported(capsys, EXAMPLES / file, "--to", "keras", *(["--set", *sets] if sets else []))
    namespace = {}
    with keras.device("meta"):
        exec(compile(source, f"<export of {file}>", "exec"), namespace)
    assert namespace["model"].count_params() == formula_params(file, sets, "keras")


def test_exported_keras_resnet50_writes_blocks_as_functions(capsys):
    """keras.applications' style: a function per block body, a loop per repeat; the functional
    model has ResNet50's 25,636,712 parameters."""
    import keras
    source = exported(capsys, EXAMPLES / "zoo" / "resnet50_keras.sp", "--to", "keras")
    assert "def bottleneck(x):" in source and "for _ in range(n3 - 1):" in source
    namespace = {}
    with keras.device("meta"):
        exec(compile(source, "<export of resnet50_keras.sp>", "exec"), namespace)
    assert namespace["model"].count_params() == 25_636_712


def test_export_of_a_layer_without_counterpart_is_a_clear_error(capsys):
    assert main(["export", str(EXAMPLES / "gpt2.sp"), "--to", "keras"]) == 2
    err = capsys.readouterr().err
    assert "cannot export to keras" in err and "position_embedding" in err


GRAPH = """
block mlp(d)(x):
    h = dense(2 * d, activation=relu)(x)
    return dense(d)(h)

model graph(d = 4):
    a = input (3, d)
    b = input (3, d)
    blk = mlp(d)
    s = add(blk(a), blk(b))
    c = concatenate(s, a)
    frozen = dense(d, trainable=false)(c)
    repeat(2, blk)
"""


@pytest.mark.parametrize("to", ["torch", "keras"])
def test_exported_graph_shares_layers_and_keeps_frozen_ones_frozen(tmp_path, capsys, to):
    import keras
    import torch
    path = tmp_path / "graph.sp"
    path.write_text(GRAPH)
    source = exported(capsys, path, "--to", to, "--set", "d=6")
    model = symparams.load(path, convention=to)
    expected = model.evaluate({"d": 6})
    namespace = {}
    if to == "torch":
        exec(compile(source, "<export>", "exec"), namespace)
        with torch.device("meta"):
            network = namespace["Graph"]()
        frozen = sum(p.numel() for p in network.parameters() if not p.requires_grad)
        total = sum(p.numel() for p in network.parameters())
        y = network(torch.zeros(2, 3, 6, device="meta"), torch.zeros(2, 3, 6, device="meta"))
        assert tuple(y.shape[1:]) == expected.shape(model.output_shape)   # concatenated on channels
    else:
        with keras.device("meta"):
            exec(compile(source, "<export>", "exec"), namespace)
        network = namespace["model"]
        frozen = sum(weight_size(w) for w in network.non_trainable_weights)
        total = network.count_params()
    assert (total, frozen) == (expected.params, expected.non_trainable)


@pytest.mark.parametrize("file, to", [("gpt2.sp", "torch"), ("bn_cnn_torch.sp", "torch"), ("bn_cnn.sp", "keras"),
                                      ("zoo/resnet50_keras.sp", "keras")])
def test_export_prints_source_without_the_framework_installed(file, to):
    """On a plain install neither torch nor Keras can be imported; export still writes the source
    (keyword arguments equal to a default are then kept), and it is the same network."""
    import ast
    import subprocess
    import sys
    blocked = ("import sys\nfor name in ('torch', 'keras'):\n    sys.modules[name] = None\n"
               "from symparams.cli import main\nraise SystemExit(main(sys.argv[1:]))\n")
    done = subprocess.run([sys.executable, "-c", blocked, "export", str(EXAMPLES / file), "--to", to],
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    ast.parse(done.stdout)
    with_framework = subprocess.run([sys.executable, "-m", "symparams", "export", str(EXAMPLES / file), "--to", to],
                                    capture_output=True, text=True).stdout
    shape = lambda text: [line.split("(")[0] for line in text.splitlines()]   # the same lines, calls aside
    assert shape(done.stdout) == shape(with_framework)


DECODER = """
block decoder_layer(d, h)(x, memory):
    a = layernorm(x)
    x = x + multihead_attention(h, d / h)(a, a)
    a = layernorm(x)
    x = x + multihead_attention(h, d / h)(a, memory)
    return x + dense(d)(dense(4 * d, activation=gelu)(layernorm(x)))

model decoder(T = 6, S = 9, d = 16, h = 4, L = 3):
    x = input (T, d)
    memory = input (S, d)
    y = repeat(L, decoder_layer(d, h))(x, memory)
"""


@pytest.mark.parametrize("to", ["torch", "keras"])
def test_a_repeat_passing_a_decoders_memory_exports_as_a_loop(tmp_path, capsys, to):
    """repeat(L, block)(x, memory): a list of modules (a loop of function calls) fed x in turn and the
    memory at every step; the network runs and has the formula's count."""
    import keras
    import torch
    path = tmp_path / "decoder.sp"
    path.write_text(DECODER)
    source = exported(capsys, path, "--to", to, "--set", "L=5")
    expected = symparams.load(path, convention=to).evaluate({"L": 5}).params
    namespace = {}
    if to == "torch":
        assert "nn.ModuleList([DecoderLayer(d, h) for _ in range(L)])" in source
        assert "repeat_1 = layer(repeat_1, input_2)" in source
        exec(compile(source, "<export>", "exec"), namespace)
        with torch.device("meta"):
            network = namespace["Decoder"]()
            y = network(torch.zeros(2, 6, 16), torch.zeros(2, 9, 16))
        assert sum(p.numel() for p in network.parameters()) == expected and tuple(y.shape) == (2, 6, 16)
    else:
        assert "for _ in range(L):" in source and "repeat_1 = decoder_layer(repeat_1, input_2, d, h)" in source
        with keras.device("meta"):
            exec(compile(source, "<export>", "exec"), namespace)
        assert namespace["model"].count_params() == expected


@pytest.mark.parametrize("to", ["torch", "keras"])
def test_exported_broadcasting_merges_run(tmp_path, capsys, to):
    """(T, d) * (d) and (T, d) + (1, d): torch's own `*` would align the batch axis with T, so
    tensors of different ranks go through the Merge glue; Keras' merge layers broadcast themselves."""
    import keras
    import torch
    path = tmp_path / "scale.sp"
    path.write_text("model scale(T = 5, d = 6):\n    x = input (T, d)\n    g = input (d)\n    b = input (1, d)\n"
                    "    y = dense(d)(x * g + b)\n")
    source = exported(capsys, path, "--to", to)
    namespace = {}
    if to == "torch":
        assert "Merge('multiply')" in source
        exec(compile(source, "<export>", "exec"), namespace)
        y = namespace["Scale"]()(torch.ones(2, 5, 6), torch.full((2, 6), 2.0), torch.ones(2, 1, 6))
        assert tuple(y.shape) == (2, 5, 6)
    else:
        with keras.device("meta"):
            exec(compile(source, "<export>", "exec"), namespace)
        assert tuple(namespace["model"].output.shape) == (None, 5, 6)


def test_a_block_tensor_named_as_a_symbol_is_renamed_in_keras(tmp_path, capsys):
    """A Keras block function takes its tensors and the symbols its sizes use: a tensor `d` beside the
    symbol `d` is written `d_`, and build() at other sizes has the formula's count there."""
    import keras
    path = tmp_path / "clash.sp"
    path.write_text("block blk(u)(d):\n    h = dense(u)(d)\n    return dense(u)(h)\n\n"
                    "model m(d = 8, L = 2):\n    h2 = input (d)\n    x = blk(d)(h2)\n    x = repeat(L, blk(d))(x)\n")
    source = exported(capsys, path, "--to", "keras")
    assert "def blk(d_, d):" in source
    namespace = {}
    with keras.device("meta"):
        exec(compile(source, "<export>", "exec"), namespace)
        built = namespace["build"](d=5, L=3)
    assert built.count_params() == symparams.load(path, convention="keras").evaluate({"d": 5, "L": 3}).params
