"""The seed's Stack Overflow questions (../shared/seeds/), asked as their askers wrote them: pasted Keras
lines give Keras's numbers, each literal row shows its sum, and the layout stays the file's under the
other convention, checked against PyTorch itself."""
from __future__ import annotations


import pytest

import symparams
from symparams.errors import SymparamsError
from seed_models import CNN, MNIST_CNN, run  # noqa: E402  (tests/ is on sys.path under pytest)

SEED = '''
model mnist_dense(img_rows = 28, img_cols = 28, nb_classes = 10):
    Flatten(input_shape=(1, img_rows, img_cols))
    Dense(nb_classes)
    Activation('softmax')

model predictive():
    Dense(514, input_dim=514, W_regularizer=WeightRegularizer(l1=0.000001,l2=0.000001), init='normal')
    Dense(257, W_regularizer=WeightRegularizer(l1=0.000001,l2=0.000001), init='normal')

model conv_stack(num_classes = 10):
    Conv2D(32, (3, 3), activation='relu', input_shape=(224, 224, 3))
    Conv2D(64, (3, 3), activation='relu')
    Conv2D(128, (3, 3), activation='relu')
    Dense(num_classes, activation='softmax')

''' + CNN + '''
''' + MNIST_CNN + '''
model har(timesteps = 100, input_dim = 6, n_classes = 6):
    LSTM(64, return_sequences=True, recurrent_regularizer=l2(0.0015), input_shape=(timesteps, input_dim))
    Dropout(0.5)
    LSTM(64, recurrent_regularizer=l2(0.0015), input_shape=(timesteps,input_dim))
    Dense(64, activation='relu')
    Dense(64, activation='relu')
    Dense(n_classes, activation='softmax')

model bn(IMG_SIZE = 64):
    inputs = Input(shape = (64, 64, 1))
    model = Conv2D(filters=32, kernel_size=(3, 3), padding='SAME', activation='relu', input_shape=(IMG_SIZE, IMG_SIZE, 1))(inputs)
    model = BatchNormalization(momentum=0.15, axis=-1)(model)
    model = Flatten()(model)
    dense = Dense(100, activation = "relu")(model)
    head_root = Dense(10, activation = 'softmax')(dense)
'''

SEED_NUMBERS = {           # each asker's model.summary(): the rows' Param #, and the total
    "mnist_dense": ([0, 7850, 0], 7850),
    "predictive": ([264710, 132355], 397065),
    "conv_stack": ([896, 18496, 73856, 1290], 94538),
    "CNN": ([4094700, 48032, 0, 0, 0, 2499], 4145231),
    "mnist_cnn": ([240, 7812, 0, 2654336, 1290], 2663678),
    "har": ([18176, 0, 33024, 4160, 4160, 390], 59910),
    "bn": ([320, 128, 0, 13107300, 1010], 13108758),
}


@pytest.fixture(scope="module")
def seed(tmp_path_factory):
    path = tmp_path_factory.mktemp("seed") / "seed.sp"
    path.write_text(SEED)
    return path


@pytest.mark.parametrize("name", SEED_NUMBERS)
def test_every_seed_model_pasted_as_written_gives_the_seed_numbers(seed, name):
    model = symparams.load(seed, model=name)
    ev = model.evaluate()
    rows, total = SEED_NUMBERS[name]
    assert [ev.row(r.name)["params"] for r in model.rows] == rows
    assert ev.params == total


def test_each_literal_row_shows_its_sum(seed):
    code, out = run("summary", seed, "--model", "mnist_cnn")
    assert code == 0
    lines = out.splitlines()
    conv = lines.index(next(line for line in lines if line.startswith("conv2d_2")))
    assert "7,812" in lines[conv] and lines[conv + 1].rstrip().endswith("24*36*3*3 + 36")
    code, out = run("summary", seed, "--model", "har")
    assert "4*64*(64 + 64) + 4*64" in out                       # the second LSTM: 33,024
    code, out = run("summary", seed, "--model", "bn")
    assert "4*32" in out                                        # BatchNormalization's 128: four vectors of 32


def test_symbolic_formulas_keep_the_flatten_size_factored():
    m = symparams.parse("model m(H = 32, W = 32, f2 = 16, hidden = 64):\n    input (H, W, 3)\n    conv2d(8, 3)\n"
                        "    conv2d(f2, 3)\n    flatten\n    dense(hidden)\n")
    from symparams.printing import printed
    assert printed(m.rows[-1].params) == "hidden*(f2*(H - 4)*(W - 4) + 1)"


def test_a_model_line_without_parentheses_gets_a_hint(tmp_path):
    path = tmp_path / "m.sp"
    path.write_text("model mnist_cnn:\n    input (28, 28, 1)\n    dense(3)\n")
    code, out = run("summary", path)
    assert code == 2 and "write `model mnist_cnn():`" in out


def test_input_shape_on_a_later_layer_is_ignored_as_keras_does():
    m = symparams.parse("model m():\n    Dense(8, input_dim=4)\n    Dense(2, input_shape=(99,))\n")
    assert m.evaluate().params == 4 * 8 + 8 + 8 * 2 + 2
    with pytest.raises(SymparamsError, match="batch_input_shape starts with the batch size"):
        symparams.parse("model m():\n    Dense(8, batch_input_shape=(4, 5))\n")


# ---------------------------------------------------------------- the layout is the file's

def test_channels_last_file_under_torch_counts_what_pytorch_counts(seed):
    """The seed's BatchNorm net as the Keras user wrote it, counted the PyTorch way: PyTorch's
    numbers for the same network on the transposed input, the tensors still (S, S, 32)."""
    import torch
    from torch import nn
    model = symparams.load(seed, model="bn", convention="torch")
    ev = model.evaluate()
    assert ev.row("conv2d_1")["params"] == 320 and ev.row("conv2d_1")["output_shape"] == (64, 64, 32)
    assert (ev.params, ev.non_trainable, ev.buffers) == (13108694, 0, 65)
    reference = nn.Sequential(nn.Conv2d(1, 32, 3, padding=1), nn.ReLU(), nn.BatchNorm2d(32), nn.Flatten(),
                              nn.Linear(131072, 100), nn.ReLU(), nn.Linear(100, 10))
    assert ev.params == sum(p.numel() for p in reference.parameters())
    assert ev.buffers == sum(b.numel() for b in reference.buffers())
    assert reference(torch.zeros(1, 1, 64, 64)).shape == (1, 10)


def test_verify_and_export_follow_the_files_layout(seed, tmp_path):
    code, out = run("verify", seed, "--model", "bn", "--convention", "torch", "--samples", "0")
    assert code == 0 and "✓ all 5 checked layers agree" in out and "(None, 64, 64, 32)" in out
    code, source = run("export", seed, "--model", "bn", "--to", "torch", "--convention", "torch")
    assert code == 0 and "ChannelsLast(nn.Sequential(nn.Conv2d(1, 32" in source
    import torch
    namespace: dict = {}
    exec(compile(source, "exported.py", "exec"), namespace)
    net = next(v for k, v in namespace.items() if isinstance(v, type) and k not in ("ChannelsLast",)
               and issubclass(v, torch.nn.Module))()
    assert sum(p.numel() for p in net.parameters()) == 13108694
    assert net(torch.zeros(2, 64, 64, 1)).shape == (2, 10)       # channels-last in, as the file says


def test_channels_first_file_under_keras_is_checked_through_permutes():
    code, out = run("verify", "examples/bn_cnn_torch.sp", "--framework", "keras", "--samples", "0")
    assert code == 0 and "13,108,758 (formula) = 13,108,758 (keras)" in out and "(None, 32, 64, 64)" in out


@pytest.mark.parametrize("shape, layout", [("(S, S, 1)", "channels-last"), ("(H, W, C)", "channels-last"),
                                           ("(3, S, S)", "channels-first"), ("(C, H, W)", "channels-first")])
@pytest.mark.parametrize("convention", ["keras", "torch"])
def test_the_input_says_the_layout_whatever_the_convention(shape, layout, convention):
    m = symparams.parse(f"model m(S = 32, H = 32, W = 32, C = 3):\n    input {shape}\n    conv2d(8, 3)\n",
                        convention=convention)
    assert m.convention.layout == layout and m.convention.name == convention


def test_an_ambiguous_input_follows_the_convention_and_says_so():
    text = "model m(S = 8):\n    input (S, S, S)\n    conv2d(4, 3)\n"
    torch_model = symparams.parse(text, convention="torch")
    assert torch_model.convention.layout == "channels-first"
    from symparams.table import layout_note
    assert "does not say" in layout_note(torch_model) and "channels_last" in layout_note(torch_model)
    said = symparams.parse(text.replace("(S, S, S)", "(S, S, S) channels_last"), convention="torch")
    assert said.convention.layout == "channels-last" and layout_note(said) is not None
    assert said.evaluate().row("conv2d_1")["output_shape"] == (6, 6, 4)


def test_a_sequence_model_says_nothing_of_layout():
    m = symparams.parse("model m(T = 100, F = 6):\n    input (T, F)\n    lstm(8)\n", convention="torch")
    from symparams.table import layout_note
    assert layout_note(m) is None
