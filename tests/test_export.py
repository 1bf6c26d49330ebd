"""`symparams export`: the printed source, run in a fresh namespace, is a network whose parameter
count is the formula's (our own generated code, executed to check it)."""
from pathlib import Path

import pytest

import symparams
from symparams.cli import main

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"

CASES = [
    ("bn_cnn_torch.sp", ["S=16"]), ("har_lstm.sp", []), ("text_cnn.sp", ["V=500"]),
    ("gpt2.sp", ["V=300", "T=16", "d=32", "h=4", "L=12"]),    # all 12 layers written out, the matrix tied
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


@pytest.mark.parametrize("file, sets", [("bn_cnn.sp", ["S=16"]), ("har_lstm.sp", []), ("conv_stack.sp", ["H=32", "W=32"])])
def test_exported_keras_model_has_the_formula_count(capsys, file, sets):
    import keras
    source = exported(capsys, EXAMPLES / file, "--to", "keras", *(["--set", *sets] if sets else []))
    namespace = {}
    with keras.device("meta"):
        exec(compile(source, f"<export of {file}>", "exec"), namespace)
    assert namespace["model"].count_params() == formula_params(file, sets, "keras")


def test_export_of_a_layer_without_counterpart_is_a_clear_error(capsys):
    assert main(["export", str(EXAMPLES / "gpt2.sp"), "--to", "keras"]) == 2
    err = capsys.readouterr().err
    assert "cannot export to keras" in err and "position_embedding" in err
