"""Memory in closed form: parameter bytes by dtype, Keras's readable sizes, torchsummary's estimate.

Two familiar figures are reproduced exactly:

* Keras 3's summary prints "Total params: 7,850 (30.66 KB)": the weights' bytes, divided by 1024
  until below 1024, with two decimals.
* torchsummary (sksq96/pytorch-summary) prints an estimate in MB (1024**2 bytes), assuming 4 bytes
  a number: the input, a forward/backward pass of 2 x (every layer's output elements) -- the 2 is
  for gradients -- and the parameters. It runs with batch_size=-1 and takes abs() of the
  products, so its printed numbers are those of a batch of one. Here they are closed forms in a
  batch symbol B (`B` unless the model already uses that name).

Known differences from torchsummary itself, both where torchsummary is wrong: it counts only
modules' `weight` and `bias` (an LSTM shows 0 parameters), and for several inputs it multiplies
all their sizes together; here parameters are all of them and inputs add up.
"""
from __future__ import annotations

from dataclasses import dataclass

import sympy as sp

from .dims import product
from .errors import ArgumentError, did_you_mean

DTYPE_BYTES = {"float64": 8, "float32": 4, "bfloat16": 2, "float16": 2, "int8": 1}
MB = 1024 ** 2


def dtype_bytes(dtype: str) -> int:
    try:
        return DTYPE_BYTES[dtype]
    except KeyError:
        raise ArgumentError(f"unknown dtype '{dtype}'", hint=did_you_mean(dtype, DTYPE_BYTES) or
                            "choose one of " + ", ".join(DTYPE_BYTES)) from None


def readable_size(nbytes) -> str:
    """Keras's spelling of a byte count: '30.66 KB' (powers of 1024, two decimals)."""
    size = float(nbytes)
    for unit in ("B", "KB", "MB", "GB", "TB"):
        if size / 1024 < 1:
            return f"{size:.2f} {unit}"
        size /= 1024
    return f"{size:.2f} PB"


@dataclass
class Estimate:
    """torchsummary's memory estimate, in bytes, as closed forms in the model's symbols and `batch`."""
    batch: sp.Symbol
    input: sp.Expr
    forward_backward: sp.Expr
    params: sp.Expr

    @property
    def total(self) -> sp.Expr:
        return self.input + self.forward_backward + self.params

    def parts(self) -> list[tuple[str, sp.Expr]]:
        """(torchsummary's label, bytes) in the order it prints them."""
        return [("Input size (MB)", self.input), ("Forward/backward pass size (MB)", self.forward_backward),
                ("Params size (MB)", self.params), ("Estimated Total Size (MB)", self.total)]


def output_elements(row) -> sp.Expr:
    """Elements of one example's output of a row."""
    return product(row.output_shape)


def activation_elements(rows) -> sp.Expr:
    """Every layer's output elements for one example, as torchsummary's hooks see them: a block's
    or repeat's layers each count (a repeat's body times its count), the block itself not."""
    total = sp.Integer(0)
    for r in rows:
        if r.children:
            total += (r.repeat_count if r.repeat_count is not None else 1) * activation_elements(r.children)
        else:
            total += output_elements(r)
    return total


def estimate(model, dtype: str = "float32") -> Estimate:
    """torchsummary's estimate with `dtype`'s bytes a number (torchsummary assumes float32)."""
    size = dtype_bytes(dtype)
    B = model.batch
    inputs = sp.Add(*[product(t.shape) for t in model.inputs])
    outputs = activation_elements(model.rows)
    return Estimate(B, B * inputs * size, 2 * B * outputs * size, model.params * size)


def megabytes(nbytes) -> str:
    """torchsummary's '%0.2f' of a byte count in MB."""
    return "%0.2f" % (float(sp.Rational(nbytes)) / MB)


def estimate_values(model, ev, dtype: str = "float32", batch: int = 1) -> list[tuple[str, sp.Expr, int]]:
    """(torchsummary's label, bytes as a closed form, bytes) at the evaluation's values and a batch size."""
    est = estimate(model, dtype)
    values = dict(ev.values)
    values[est.batch] = sp.Integer(batch)
    return [(label, expr, int(sp.sympify(expr).xreplace(values))) for label, expr in est.parts()]


def estimate_text(model, ev, dtype: str = "float32", batch: int = 1) -> str:
    """The four lines torchsummary prints, at the evaluation's values and a batch size."""
    return "\n".join(f"{label}: {megabytes(value)}" for label, _, value in estimate_values(model, ev, dtype, batch))


def estimate_json(model, ev, dtype: str = "float32", batch: int = 1) -> dict:
    """The estimate for `summary --memory --format json`: each part in bytes, formula and value."""
    from .table import formula
    keys = ("input", "forward_backward", "params", "total")
    parts = {key: {"expr": formula(expr), "bytes": value, "mb": float(megabytes(value))}
             for key, (_, expr, value) in zip(keys, estimate_values(model, ev, dtype, batch))}
    return {"rule": "torchsummary", "dtype": dtype, "batch": batch, **parts}
