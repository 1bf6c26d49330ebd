"""The command line: summary in three formats, check, layers, and a non-editable install."""
import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def cli(*args, env=None):
    return subprocess.run([sys.executable, "-m", "symparams", *args], capture_output=True, text=True, cwd=ROOT,
                          env=env)


def test_summary_text_shows_values_and_formulas():
    run = cli("summary", "examples/conv_stack.sp")
    assert run.returncode == 0, run.stderr
    out = run.stdout
    for figure in ("896", "18,496", "73,856", "1,290", "Total params: 94,538"):
        assert figure in out
    assert "(None, H - 2, W - 2, 32)" in out and "(None, 222, 222, 32)" in out


def test_summary_set_changes_the_values():
    run = cli("summary", "examples/conv_stack.sp", "--set", "H=512", "W=512")
    assert "(None, 506, 506, 10)" in run.stdout


def test_summary_json_format():
    run = cli("summary", "examples/bn_cnn_torch.sp", "--format", "json")
    data = json.loads(run.stdout)
    assert data["model"] == "bn_cnn_torch" and data["convention"] == "torch"
    assert data["values"] == {"S": 64, "classes": 10}
    bn = next(layer for layer in data["layers"] if layer["type"].startswith("BatchNorm"))
    assert bn["params"] == {"expr": "64", "value": 64}
    assert bn["buffers"]["value"] == 65
    conv = data["layers"][0]
    assert conv["output_shape"]["expr"] == ["32", "S", "S"] and conv["output_shape"]["value"] == [32, 64, 64]
    assert data["totals"]["params"]["value"] == 13108694
    assert set(data["totals"]) >= {"params", "trainable", "non_trainable", "buffers"}
    assert data["layers"][1]["inputs"] == [conv["name"]]


def test_summary_markdown_and_convention_flag():
    run = cli("summary", "examples/har_lstm.sp", "--format", "markdown", "--convention", "torch")
    assert "| lstm_1 (LSTM) |" in run.stdout and "18,432" in run.stdout


def test_check_and_layers():
    run = cli("check", "examples/text_cnn.sp")
    assert run.returncode == 0 and "6 layers" in run.stdout
    run = cli("layers", "Conv2d")
    assert "Conv2D / Conv2d" in run.stdout and "usage: conv2d(" in run.stdout
    assert cli("layers", "conv2dd").returncode == 2


def test_model_choice_in_a_file_with_several(tmp_path):
    f = tmp_path / "two.sp"
    f.write_text("model a(n = 3):\n    input (n)\n    dense(2)\n\nmodel b(n = 3):\n    input (n)\n    dense(5)\n")
    assert "Total params: 8" in cli("summary", str(f)).stdout
    assert "Total params: 20" in cli("summary", str(f), "--model", "b").stdout
    run = cli("summary", str(f), "--model", "c")
    assert run.returncode == 2 and "no model 'c'" in run.stderr


def test_bad_set_value_is_a_user_error():
    run = cli("summary", "examples/conv_stack.sp", "--set", "H=abc")
    assert run.returncode == 2 and "whole number" in run.stderr and "Traceback" not in run.stderr


def test_wheel_ships_the_grammar(tmp_path):
    """A non-editable install must find grammar/symparams.lark inside the package."""
    pytest.importorskip("hatchling")
    build = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-w",
                            str(tmp_path), str(ROOT)], capture_output=True, text=True)
    assert build.returncode == 0, build.stderr
    wheel = next(tmp_path.glob("symparams-*.whl"))
    assert "symparams/grammar/symparams.lark" in zipfile.ZipFile(wheel).namelist()
    site = tmp_path / "site"
    zipfile.ZipFile(wheel).extractall(site)
    env = dict(os.environ, PYTHONPATH=str(site))
    run = subprocess.run([sys.executable, "-c", "import symparams, sys; print(symparams.__file__); "
                          "print(symparams.load(sys.argv[1]).evaluate().params)", str(ROOT / "examples/mnist_dense.sp")],
                         capture_output=True, text=True, env=env, cwd=tmp_path)
    assert run.returncode == 0, run.stderr
    assert run.stdout.split()[0].startswith(str(site)) and run.stdout.split()[1] == "7850"


def test_version():
    run = cli("--version")
    assert run.returncode == 0 and run.stdout.startswith("symparams ")


@pytest.mark.parametrize("args", [("layers",), ("summary", "examples/zoo/gpt2.sp", "--format", "json")])
def test_a_closed_pipe_ends_quietly(args):
    """`symparams layers | head -1`: the reader leaves early; no internal error, no traceback."""
    proc = subprocess.Popen([sys.executable, "-m", "symparams", *args], cwd=ROOT, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE)
    proc.stdout.readline()
    proc.stdout.close()
    assert proc.wait() in (0, 141) and proc.stderr.read() == b""


def test_summary_memory_json_is_one_document():
    run = cli("summary", "examples/bn_cnn_torch.sp", "--memory", "--format", "json")
    memory = json.loads(run.stdout)["memory"]
    assert memory["rule"] == "torchsummary" and memory["params"]["mb"] == 50.01
    assert memory["forward_backward"]["mb"] == 4.0 and memory["total"]["bytes"] == 56646344


def test_counts_are_singular_for_one():
    run = cli("check", "examples/mnist_dense.sp")
    assert "3 layers, 0 constraints" in run.stdout
    run = cli("check", "examples/zoo/gpt2.sp")
    assert run.stdout.endswith("1 layer, 1 constraint\n")


def test_dtype_choices_are_the_same_everywhere():
    for command in ("summary", "formula"):
        run = cli(command, "examples/mnist_dense.sp", "--dtype", "float33")
        assert run.returncode == 2 and "choose from 'float64', 'float32'" in run.stderr
