"""Units: how big a number is, in bits, and which size each part of training keeps it at.

A floor module: it imports nothing of symparams but errors.py, so any module may use it.

A dtype is its size in bits, so a bit is as ordinary as a byte (as pint treats units): int4 is 4
bits, half a byte, and `dtype_bytes("int4")` is the exact Rational 1/2. Sizes are as PyTorch
stores them (`torch.float8_e4m3fn.itemsize`, `torch.finfo(...).bits`; a bool takes a byte); the
4-bit formats are packed two a byte, as bitsandbytes keeps NF4 weights in a uint8 tensor.

A precision policy (`Precision`) says which dtype each part of training keeps, as Keras's
DTypePolicy ("mixed_bfloat16": float32 variables, bfloat16 compute) and PyTorch's automatic mixed
precision do: the named policies reproduce symparams/accounting.py's bytes per parameter.
"""
from __future__ import annotations

from dataclasses import dataclass, fields

import sympy as sp

from .errors import ArgumentError, did_you_mean

# Bits per number by canonical name, in the order --help lists them: floats widest first, then
# integers, the 4-bit formats, bool.
BITS = {
    "float64": 64, "float32": 32, "bfloat16": 16, "float16": 16,
    "float8_e4m3fn": 8,     # 4 exponent bits, 3 of mantissa, no infinities (OCP FP8 E4M3)
    "float8_e5m2": 8,       # 5 exponent bits, 2 of mantissa
    "int64": 64, "int32": 32,   # token ids and indices
    "int8": 8, "uint8": 8,
    "int4": 4,              # two a byte
    "nf4": 4,               # bitsandbytes' NormalFloat-4, two a byte
    "bool": 8,              # a byte each, as torch stores a bool tensor
}
DTYPES = tuple(BITS)
# Other names for the same dtypes, as torch (`torch.half`, `torch.float`) and common usage spell them.
ALIASES = {"fp64": "float64", "double": "float64", "fp32": "float32", "float": "float32", "bf16": "bfloat16",
           "fp16": "float16", "half": "float16", "fp8": "float8_e4m3fn"}


def dtype_name(name: str) -> str:
    """The canonical name of a dtype or its alias ('fp16' -> 'float16'); any other text unchanged.

    Used as argparse's `type=` before `choices=DTYPES`, so --dtype takes the aliases too and
    argparse refuses the rest with its own message."""
    return ALIASES.get(name, name)


def check_dtype(name: str) -> str:
    """The canonical name of a dtype (aliases accepted), or an ArgumentError with a hint."""
    canonical = dtype_name(name)
    if canonical not in BITS:
        names = list(DTYPES) + list(ALIASES)
        raise ArgumentError(f"unknown dtype '{name}'", hint=did_you_mean(name, names) or
                            "choose one of " + ", ".join(DTYPES))
    return canonical


def dtype_bits(name: str) -> int:
    """Bits per number: 4 for int4 and nf4, 16 for bfloat16."""
    return BITS[check_dtype(name)]


def dtype_bytes(name: str) -> sp.Rational:
    """Bytes per number, exact: 1/2 for int4 and nf4, 2 for bfloat16 (a sympy Integer)."""
    return sp.Rational(dtype_bits(name), 8)


DTYPE_BYTES = {name: dtype_bytes(name) for name in DTYPES}


def storage_bytes(count, name: str):
    """Bytes that `count` numbers of a dtype take in storage: count x bytes, rounded up to whole
    bytes for a dtype smaller than a byte -- packed storage keeps int4 and nf4 two a byte, so an
    odd count's last half byte still takes a whole one (5 int4 numbers are 3 bytes, as a torch
    uint8 tensor of ceil(5/2) elements). `count` is one packed stream: a closed form stays
    `ceiling(n/2)` until its symbols have values. NF4's per-block scales are not counted
    (bitsandbytes keeps one absmax per 64 weights), as accounting leaves out 8-bit Adam's."""
    bits = dtype_bits(name)
    total = sp.sympify(count) * sp.Rational(bits, 8)
    return total if bits % 8 == 0 else sp.ceiling(total)


# ---------------------------------------------------------------- precision policies

@dataclass(frozen=True)
class Precision:
    """Which dtype each part of training keeps (canonical names; aliases are resolved).

    `master_weights` is the full-precision copy of the weights that mixed precision updates (None
    where the weights themselves are updated); `optimizer_states` is the dtype of each of the
    optimizer's states (Adam keeps two per parameter, momentum one)."""
    weights: str
    activations: str
    gradients: str
    optimizer_states: str
    master_weights: str | None
    kv_cache: str

    def __post_init__(self):
        for f in fields(self):
            value = getattr(self, f.name)
            if not (f.name == "master_weights" and value is None):
                object.__setattr__(self, f.name, check_dtype(str(value)))

    def bytes(self, part: str) -> sp.Rational:
        """Bytes per number of one part ('weights', 'master_weights', ...): 0 for no master copy."""
        dtype = getattr(self, part)
        return sp.Integer(0) if dtype is None else dtype_bytes(dtype)


POLICIES = {
    "fp32": Precision(weights="float32", activations="float32", gradients="float32", optimizer_states="float32",
                      master_weights=None, kv_cache="float32"),
    "bf16": Precision(weights="bfloat16", activations="bfloat16", gradients="bfloat16",
                      optimizer_states="bfloat16", master_weights=None, kv_cache="bfloat16"),
    # 16-bit weights, gradients and activations; an fp32 master copy and fp32 optimizer states
    # (with Adam ZeRO's K = 12: 4 master + 4 + 4 moments; 2 + 2 + 12 = 16 bytes a parameter).
    "mixed": Precision(weights="bfloat16", activations="bfloat16", gradients="bfloat16",
                       optimizer_states="float32", master_weights="float32", kv_cache="bfloat16"),
}


def precision(name: str) -> Precision:
    """A named policy: 'fp32', 'bf16' or 'mixed'."""
    try:
        return POLICIES[name]
    except KeyError:
        raise ArgumentError(f"unknown precision '{name}'", hint=did_you_mean(name, POLICIES) or
                            "choose one of " + ", ".join(POLICIES)) from None
