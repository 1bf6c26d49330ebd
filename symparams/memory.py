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

* torchinfo (TylerYep/torchinfo 1.8, ModelStatistics) prints the same four lines by another
  rule (`--memory-rule torchinfo`): MB are 10**6 bytes, and its forward/backward pass is
  2 x the outputs of the leaf layers *that have parameters* only (an activation or a pooling
  layer adds nothing). Input and parameter bytes are as above. It counts a layer's whole output,
  so where a module returns more than one tensor (an LSTM's state) torchinfo's figure is larger.
"""
from __future__ import annotations

from dataclasses import dataclass

import sympy as sp

from .bounds import at
from .dims import product
from .errors import ArgumentError, did_you_mean

DTYPE_BYTES = {"float64": 8, "float32": 4, "bfloat16": 2, "float16": 2, "int8": 1}
MB = 1024 ** 2
RULES = {"torchsummary": MB, "torchinfo": 10 ** 6}     # each rule's megabyte


def dtype_bytes(dtype: str) -> int:
    try:
        return DTYPE_BYTES[dtype]
    except KeyError:
        raise ArgumentError(f"unknown dtype '{dtype}'", hint=did_you_mean(dtype, DTYPE_BYTES) or
                            "choose one of " + ", ".join(DTYPE_BYTES)) from None


def readable_size(nbytes) -> str:
    """Keras's spelling of a byte count: '30.66 KB' (powers of 1024, two decimals)."""
    size = sp.Rational(nbytes)   # exact: a count beyond a float's range is still spelled
    for unit in ("B", "KB", "MB", "GB", "TB"):
        if size / 1024 < 1:
            return f"{_two_decimals(size)} {unit}"
        size /= 1024
    return f"{_two_decimals(size)} PB"


def _two_decimals(value) -> str:
    """'%.2f' of an exact number: through a float while a float holds it exactly enough, else by
    integer arithmetic (rounding half up), which never overflows."""
    if abs(value) < 10 ** 15:
        return f"{float(value):.2f}"
    cents = int(sp.floor(value * 100 + sp.Rational(1, 2)))
    return f"{cents // 100}.{cents % 100:02d}"


@dataclass
class Estimate:
    """A memory estimate (torchsummary's or torchinfo's rule), in bytes, as closed forms in the
    model's symbols and `batch`."""
    batch: sp.Symbol
    input: sp.Expr
    forward_backward: sp.Expr
    params: sp.Expr
    rule: str = "torchsummary"

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


def weighted_outputs(rows) -> sp.Expr:
    """torchinfo's forward-pass elements: the outputs of the leaf layers that have parameters."""
    total = sp.Integer(0)
    for r in rows:
        if r.children:
            total += (r.repeat_count if r.repeat_count is not None else 1) * weighted_outputs(r.children)
        elif r.params != 0:
            total += output_elements(r)
    return total


def check_rule(rule: str) -> str:
    if rule not in RULES:
        raise ArgumentError(f"unknown memory rule '{rule}'", hint=did_you_mean(rule, RULES) or
                            "choose " + " or ".join(RULES))
    return rule


def estimate(model, dtype: str = "float32", rule: str = "torchsummary") -> Estimate:
    """torchsummary's (or torchinfo's) estimate with `dtype`'s bytes a number (both assume float32)."""
    size = dtype_bytes(dtype)
    B = model.batch
    inputs = sp.Add(*[product(t.shape) for t in model.inputs])
    outputs = activation_elements(model.rows) if check_rule(rule) == "torchsummary" else weighted_outputs(model.rows)
    return Estimate(B, B * inputs * size, 2 * B * outputs * size, model.params * size, rule)


def megabytes(nbytes, rule: str = "torchsummary") -> str:
    """The rule's '%0.2f' of a byte count in its MB (1024**2 bytes for torchsummary, 10**6 for torchinfo)."""
    return _two_decimals(sp.Rational(nbytes) / RULES[rule])


def estimate_values(model, ev, dtype: str = "float32", batch: int = 1,
                    rule: str = "torchsummary") -> list[tuple[str, sp.Expr, int]]:
    """(the rule's label, bytes as a closed form, bytes) at the evaluation's values and a batch size."""
    est = estimate(model, dtype, rule)
    values = dict(ev.values)
    values[est.batch] = sp.Integer(batch)
    return [(label, expr, int(at(expr, values, label))) for label, expr in est.parts()]


def estimate_text(model, ev, dtype: str = "float32", batch: int = 1, rule: str = "torchsummary") -> str:
    """The four lines torchsummary (or torchinfo) prints, at the evaluation's values and a batch size."""
    return "\n".join(f"{label}: {megabytes(value, rule)}"
                     for label, _, value in estimate_values(model, ev, dtype, batch, rule))


def estimate_json(model, ev, dtype: str = "float32", batch: int = 1, rule: str = "torchsummary") -> dict:
    """The estimate for `summary --memory --format json`: each part in bytes, formula and value."""
    from .table import formula
    keys = ("input", "forward_backward", "params", "total")
    parts = {key: {"expr": formula(expr), "bytes": value, "mb": float(megabytes(value, rule))}
             for key, (_, expr, value) in zip(keys, estimate_values(model, ev, dtype, batch, rule))}
    return {"rule": rule, "dtype": dtype, "batch": batch, **parts}
