"""Units (issue 18): dtypes in bits against torch's own, 4-bit storage against a packed tensor,
precision policies against the accounting's bytes per parameter, and --dtype through the CLI."""
import json
from pathlib import Path

import pytest
import sympy as sp
import torch

import symparams
from symparams import accounting, memory, printing, units
from symparams.cli import main
from symparams.errors import ArgumentError

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
MNIST = str(EXAMPLES / "mnist_dense.sp")

# Every dtype torch has, by our canonical name (torch has no nf4, and its int4 is a placeholder
# whose itemsize is 1; both are checked against packed storage below).
TORCH = {"float64": torch.float64, "float32": torch.float32, "bfloat16": torch.bfloat16, "float16": torch.float16,
         "float8_e4m3fn": torch.float8_e4m3fn, "float8_e5m2": torch.float8_e5m2, "int64": torch.int64,
         "int32": torch.int32, "int8": torch.int8, "uint8": torch.uint8, "bool": torch.bool}


def test_every_dtype_is_listed_once_and_in_the_order_help_shows():
    assert units.DTYPES[:2] == ("float64", "float32")
    assert len(set(units.DTYPES)) == len(units.DTYPES)
    assert set(units.DTYPES) == set(TORCH) | {"int4", "nf4"}
    assert set(units.ALIASES.values()) <= set(units.DTYPES) and not set(units.ALIASES) & set(units.DTYPES)


@pytest.mark.parametrize("name", sorted(TORCH))
def test_bits_are_torchs(name):
    dtype = TORCH[name]
    assert units.dtype_bits(name) == 8 * dtype.itemsize == 8 * torch.zeros(3, dtype=dtype).element_size()
    if dtype.is_floating_point:
        assert units.dtype_bits(name) == torch.finfo(dtype).bits
    elif dtype != torch.bool:
        assert units.dtype_bits(name) == torch.iinfo(dtype).bits
    assert units.dtype_bytes(name) == sp.Rational(dtype.itemsize) and units.dtype_bytes(name).is_Integer


@pytest.mark.parametrize("alias, dtype", [("fp8", torch.float8_e4m3fn), ("half", torch.half), ("fp16", torch.half),
                                          ("bf16", torch.bfloat16), ("float", torch.float), ("fp32", torch.float32),
                                          ("double", torch.double), ("fp64", torch.float64)])
def test_aliases_name_torchs_dtypes(alias, dtype):
    name = units.check_dtype(alias)
    assert TORCH[name] == dtype
    assert units.dtype_bits(alias) == torch.finfo(dtype).bits


def test_a_four_bit_number_is_half_a_byte():
    ml_dtypes = pytest.importorskip("ml_dtypes")
    assert units.dtype_bits("int4") == ml_dtypes.iinfo(ml_dtypes.int4).bits == 4
    assert units.dtype_bytes("int4") == units.dtype_bytes("nf4") == sp.Rational(1, 2)
    assert units.DTYPE_BYTES["nf4"] == sp.Rational(1, 2)


def pack_two_a_byte(values: torch.Tensor) -> torch.Tensor:
    """4-bit codes (0..15) packed two a byte into a uint8 tensor, low nibble first, as bitsandbytes
    stores NF4 weights; an odd count's last byte holds one code."""
    padded = torch.cat([values, values.new_zeros(values.numel() % 2)])
    return (padded[0::2] | (padded[1::2] << 4)).to(torch.uint8)


@pytest.mark.parametrize("name", ["int4", "nf4"])
@pytest.mark.parametrize("n", [1, 2, 5, 784, 7850, 8635])
def test_four_bit_storage_is_a_packed_uint8_tensor(name, n):
    codes = torch.randint(0, 16, (n,), generator=torch.Generator().manual_seed(n))
    packed = pack_two_a_byte(codes)
    unpacked = torch.stack([packed & 15, packed >> 4], dim=1).flatten()[:n]
    assert torch.equal(unpacked.long(), codes)                       # it is the storage, not a guess
    assert packed.dtype == torch.uint8 and packed.numel() == -(-n // 2)
    assert units.storage_bytes(n, name) == packed.numel() * packed.element_size()


def test_storage_rounds_up_only_below_a_byte():
    n = sp.Symbol("n", integer=True, positive=True)
    assert units.storage_bytes(n, "bfloat16") == 2 * n                # whole-byte dtypes: the formula as before
    assert units.storage_bytes(n, "int4") == sp.ceiling(n / 2)
    assert units.storage_bytes(2 * n, "nf4") == n                     # sympy knows an even count needs no rounding
    assert units.storage_bytes(7, "int4") == 4 and units.storage_bytes(7, "fp8") == 7


def test_estimate_is_unchanged_for_whole_byte_dtypes():
    model = symparams.load(MNIST)
    est = memory.estimate(model, "float32")
    assert est.params == 4 * model.params and not est.total.has(sp.ceiling)
    assert memory.estimate(model, "fp16").params == 2 * model.params


@pytest.mark.parametrize("name", ["fp32", "bf16", "mixed"])
@pytest.mark.parametrize("optimizer, states", [("adam", 2), ("adamw", 2), ("sgd", 0), ("sgd_momentum", 1)])
def test_policies_reproduce_the_accountings_bytes_per_parameter(name, optimizer, states):
    model = symparams.load(EXAMPLES / "gpt2.sp")
    policy = units.precision(name)
    parts = accounting.training_memory_parts(model, optimizer=optimizer, precision=name, with_activations=True)
    n = model.params
    assert sp.simplify(parts.weights - policy.bytes("weights") * n) == 0
    assert sp.simplify(parts.gradients - policy.bytes("gradients") * model.trainable) == 0
    per_parameter = policy.bytes("master_weights") + states * policy.bytes("optimizer_states")
    assert sp.simplify(parts.optimizer - per_parameter * model.trainable) == 0
    assert parts.activations == accounting.activations(model, accounting.Keeping(dtype=policy.activations))


def test_mixed_precision_with_adam_is_2_2_12():
    mixed = units.precision("mixed")
    weights, grads = mixed.bytes("weights"), mixed.bytes("gradients")
    states = mixed.bytes("master_weights") + 2 * mixed.bytes("optimizer_states")
    assert (weights, grads, states) == (2, 2, 12)
    assert units.precision("fp32").master_weights is None and units.precision("fp32").bytes("master_weights") == 0
    assert units.precision("bf16").optimizer_states == "bfloat16"


def test_a_policy_is_frozen_and_names_canonical_dtypes():
    policy = units.Precision("bf16", "bf16", "bf16", "fp32", "fp32", "fp8")
    assert policy.weights == "bfloat16" and policy.kv_cache == "float8_e4m3fn"
    with pytest.raises(Exception):
        policy.weights = "float32"
    with pytest.raises(ArgumentError, match="unknown dtype 'bfloat61'"):
        units.Precision("bfloat61", "bf16", "bf16", "fp32", None, "bf16")


def test_unknown_names_are_refused_with_a_hint():
    with pytest.raises(ArgumentError) as e:
        units.check_dtype("bfloat61")
    assert "'bfloat16'" in e.value.hint
    with pytest.raises(ArgumentError) as e:
        units.dtype_bytes("quux")
    assert e.value.hint == "choose one of " + ", ".join(units.DTYPES)
    with pytest.raises(ArgumentError) as e:
        units.dtype_bytes("flaot32")
    assert "'float32'" in e.value.hint
    with pytest.raises(ArgumentError, match="unknown precision 'mix'") as e:
        units.precision("mix")
    assert "'mixed'" in e.value.hint
    with pytest.raises(ArgumentError) as e:
        units.precision("int4")
    assert e.value.hint == "choose one of fp32, bf16, mixed"


def test_printing_forms():
    assert printing.readable_size(31400) == "30.66 KB"
    assert printing.two_decimals(sp.Rational(10 ** 20 + 1, 3)) == "33333333333333333333.67"
    assert printing.megabytes(10 ** 6, "torchinfo") == "1.00"


def summary(capsys, *args):
    assert main(["summary", MNIST, *args]) == 0
    return capsys.readouterr().out


def test_summary_at_int4_rounds_an_odd_count_up(capsys):
    # 11 classes: 8,635 weights, 4,317.5 bytes at 4 bits, stored in 4,318; the dense layer's 11
    # outputs take 6 bytes.
    out = summary(capsys, "--dtype", "int4", "--set", "classes=11", "--columns", "output_shape,params,memory")
    dense = next(line for line in out.splitlines() if line.startswith("dense_1"))
    assert dense.split()[-2:] == ["6.00", "B"]
    assert "flatten_1" in out and "392.00 B" in out
    data = json.loads(summary(capsys, "--dtype", "int4", "--set", "classes=11", "--memory", "--format", "json"))
    params = data["memory"]["params"]
    assert data["memory"]["dtype"] == "int4"
    assert params == {"expr": "ceiling(classes*(H*W + 1)/2)", "bytes": 4318, "mb": 0.0}
    assert data["memory"]["input"]["bytes"] == 392
    parts = data["memory"]
    assert parts["total"]["bytes"] == sum(parts[k]["bytes"] for k in ("input", "forward_backward", "params"))


@pytest.mark.parametrize("dtype, canonical, params", [("nf4", "nf4", 3925), ("fp8", "float8_e4m3fn", 7850),
                                                      ("bf16", "bfloat16", 15700), ("float32", "float32", 31400)])
def test_summary_takes_every_name(capsys, dtype, canonical, params):
    data = json.loads(summary(capsys, "--dtype", dtype, "--memory", "--format", "json"))
    assert data["memory"]["dtype"] == canonical and data["memory"]["params"]["bytes"] == params


@pytest.mark.parametrize("command", ["summary", "formula"])
def test_dtype_choices_are_the_units(command, capsys):
    with pytest.raises(SystemExit) as e:
        main([command, MNIST, "--dtype", "int3"])
    assert e.value.code == 2
    err = capsys.readouterr().err
    assert "invalid choice: 'int3'" in err and all(f"'{name}'" in err for name in units.DTYPES)
