"""The doors input comes in by (issue 22): importers that check every field they read, bounded reads
and lines, and figures that are a number or a reason -- each bad input a positioned exit 2, fast."""
from __future__ import annotations

import json
import zipfile

import pytest

from symparams import cli
from symparams.bounds import MAX_FILE_BYTES, MAX_LINE

GPT2 = "examples/gpt2.sp"


def run(capsys, *argv):
    code = cli.main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def refused(capsys, *argv, says: str):
    """Exit 2 with the message; how fast is benchmarks/pathological.py's to say, not a test's."""
    code, out, err = run(capsys, *argv)
    assert code == 2, (out, err)
    assert says in err, err
    assert "internal error" not in err and "Traceback" not in err
    return err


@pytest.mark.parametrize("config,says", [
    ({"model_type": "llama", "architectures": [["LlamaForCausalLM"]]}, "architectures[0]: expected a string, found a list"),
    ({"model_type": "llama", "hidden_act": ["silu"]}, "hidden_act: expected a string, found a list"),
    ({"model_type": "gemma3_text", "layer_types": [["full_attention"]]}, "layer_types[0]: expected a string"),
    ({"model_type": ["llama"]}, "model_type: expected a string, found a list"),
    ({"model_type": "t5", "feed_forward_proj": {"a": 1}}, "feed_forward_proj: expected a string, found an object"),
    ({"foo": 1}, "neither a Hugging Face config"),
])
def test_hugging_face_fields_are_checked(capsys, tmp_path, config, says):
    path = tmp_path / "config.json"
    path.write_text(json.dumps(config))
    err = refused(capsys, "summary", path, says=says)
    assert err.startswith(f"{path}: import error")


@pytest.mark.parametrize("data,says", [
    (b'{"model_type": "llama", "x": "\xff"}', "1:31: syntax error: the file is not UTF-8 text: byte 0xff"),
    (b'{"model_type": "gpt2",\n "n_layer": 2,, }', "2:15: import error: not valid JSON"),
    (b"[" * 100_000, "nests too deeply"),
])
def test_config_bytes_are_decoded_and_positioned(capsys, tmp_path, data, says):
    path = tmp_path / "config.json"
    path.write_bytes(data)
    refused(capsys, "summary", path, says=says)


def test_a_python_file_that_is_not_utf8_is_positioned(capsys, tmp_path):
    path = tmp_path / "bad.py"
    path.write_bytes(b'import torch\nx = "\xff"\n')
    refused(capsys, "import", f"{path}:M", says=":2:6: syntax error: the file is not UTF-8 text")


def test_utf16_config_is_read(capsys, tmp_path):
    path = tmp_path / "config.json"
    path.write_text(json.dumps({"model_type": "gpt2", "n_layer": 1}), encoding="utf-16")
    code, out, err = run(capsys, "summary", path)
    assert code == 0, err
    assert "n_layer=1" in out


KERAS_IN = {"class_name": "InputLayer", "name": "in", "config": {"batch_shape": [None, 4], "name": "in"}}


def functional(*layers, outputs=(("d", 0, 0),)):
    return {"class_name": "Functional", "config": {"name": "m", "layers": [KERAS_IN, *layers],
                                                   "input_layers": [["in", 0, 0]], "output_layers": list(outputs)}}


def dense(name="d", config=None, history=("in", 0, 0)):
    return {"class_name": "Dense", "name": name, "config": {"units": 3} if config is None else config,
            "inbound_nodes": [{"args": [{"class_name": "__keras_tensor__", "config": {"keras_history": history}}]}]}


@pytest.mark.parametrize("config,says", [
    ({"class_name": "Sequential", "config": []}, "config: expected an object, found a list"),
    ({"class_name": "Functional", "config": {"layers": [], "input_layers": [], "output_layers": [["nope", 0, 0]]}},
     "config.input_layers: the model names no input"),
    (functional(dense(), outputs=[["nope", 0, 0]]), "config.output_layers: no layer is named \"nope\""),
    (functional(dense(), outputs=[[]]), "config.output_layers[0]: expected a [layer name, node index, tensor index]"),
    (functional(dense(config="x")), "config.layers[1].config: expected an object, found a string"),
    (functional(dense(name=["d"])), "config.layers[1].name: expected the layer's name, found a list"),
    (functional(dense(history=5)), "keras_history: expected a [layer name, node index, tensor index] list"),
    (functional(dense(), outputs=[["d", 3, 0]]), "layer 'd' has no call 3"),
])
def test_keras_json_structure_is_checked(capsys, tmp_path, config, says):
    path = tmp_path / "model.json"
    path.write_text(json.dumps(config))
    err = refused(capsys, "summary", path, says=says)
    assert err.startswith(f"{path}: import error"), err


def test_keras_zip_member_is_bounded_before_it_is_read(capsys, tmp_path):
    path = tmp_path / "big.keras"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("config.json", b" " * (MAX_FILE_BYTES + 1))
    refused(capsys, "summary", path, says=f"symparams reads at most {MAX_FILE_BYTES:,}")


def test_keras_zip_not_utf8_is_positioned(capsys, tmp_path):
    path = tmp_path / "bad.keras"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("config.json", b'{"class_name": "\xff"}')
    refused(capsys, "summary", path, says="not UTF-8 text")


def test_big_config_is_refused_before_it_is_parsed(capsys, tmp_path):
    path = tmp_path / "config.json"
    with open(path, "wb") as f:
        f.write(b'{"model_type": "llama", "x": [' + b"1," * (MAX_FILE_BYTES // 2) + b"1]}")
    refused(capsys, "summary", path, says="symparams reads at most")


def test_a_long_line_is_refused_before_it_is_parsed(capsys, tmp_path):
    path = tmp_path / "long.sp"
    path.write_text("model m():\n    input (8)\n    dense(" + "1+" * 5_000_000 + "1)\n")
    err = refused(capsys, "summary", path, says=f"line 3 has 10,000,012 characters; a line holds at most {MAX_LINE:,}")
    assert len(err) < 1000          # the line is shown cut, never whole
    path.write_text("model m():\n    input (8)\n    dense(3, name='" + "a" * 4_000_000 + "')\n")
    refused(capsys, "summary", path, says="a line holds at most")


def test_memory_of_a_symbol_without_value_says_which(capsys, tmp_path):
    path = tmp_path / "r.sp"
    path.write_text("model r(H):\n    input (H)\n    dense(3)\n")
    code, out, err = run(capsys, "summary", path)
    assert code == 0 and "Total MACs: ? (H has no value)" in out
    refused(capsys, "summary", path, "--memory", says="depends on H, which has no value")
    refused(capsys, "formula", path, "--of", "memory", says="depends on H, which has no value")
    code, out, err = run(capsys, "summary", path, "--format", "json")
    assert json.loads(out)["totals"]["macs"]["why"].startswith("depends on H")


def test_memory_in_the_repl_keeps_the_session(tmp_path):
    from symparams.repl.session import Session
    path = tmp_path / "r.sp"
    path.write_text("model r(H):\n    input (H)\n    dense(3)\n")
    session = Session()
    replies = [r for line in (f":load {path}", ":summary --memory", ":formula memory", ":set H=4",
                              ":formula memory") for r in session.feed(line)]
    assert not any(r.quit for r in replies)
    assert "depends on H, which has no value" in replies[1].text + replies[2].text
    assert "Estimated Total Size" in replies[-1].text or "Total" in replies[-1].text


def test_zero3_over_seven_devices_pads_the_partition(capsys):
    code, out, err = run(capsys, "formula", GPT2, "--of", "training_memory", "--dp", "7", "--zero", "3")
    assert code == 0, err
    assert "?" not in out
    # DeepSpeed pads a partition to a whole number per device: ceiling(124,439,808 / 7) numbers
    assert "16*ceiling(d*(12*L*d + 13*L + T + V + 2)/7)" in out
    assert f"= {16 * -(-124_439_808 // 7):,} bytes" in out


def test_heads_that_do_not_split_are_refused_with_the_reason(capsys):
    says = "12 attention heads (layer multihead_attention_1) do not split over 5 tensor-parallel devices"
    refused(capsys, "formula", GPT2, "--of", "kv_cache", "--tp", "5", says=says)
    refused(capsys, "formula", GPT2, "--of", "activations", "--tp", "5", says=says)
    refused(capsys, "solve", GPT2, "--of", "kv_cache", "--tp", "5", "--for", "T", "--budget", "1e9", says=says)
    refused(capsys, "formula", GPT2, "--of", "training_memory", "--pp", "5",
            says="the 12 repetitions of repeat_1 do not split evenly over 5 pipeline stages")


def test_solve_under_zero3_gives_a_figure_for_the_next_candidate(capsys):
    code, out, err = run(capsys, "solve", GPT2, "--of", "training_memory", "--dp", "7", "--zero", "3",
                         "--for", "L", "--budget", "80e9")
    assert code == 0, err
    assert "undefined" not in out and "L = 4932" in out
