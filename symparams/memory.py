"""Memory in closed form: parameter bytes by dtype, torchsummary's and torchinfo's estimates.

Bytes per number come from units.py (a dtype's bits / 8, exact: 1/2 for int4); the printed forms
(Keras's readable sizes, the rules' megabytes) from printing.py.

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

from .bounds import whole
from .dims import product
from .errors import ArgumentError, did_you_mean
from .printing import RULES, megabytes, printed
from .units import check_dtype, storage_bytes


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
    """torchsummary's (or torchinfo's) estimate with `dtype`'s bytes a number (both assume float32).

    A dtype smaller than a byte (int4, nf4) is stored packed: each part is rounded up to whole
    bytes as one packed stream (`ceiling(B*H*W/2)`), the forward/backward pass as its outputs
    and their gradients, each so."""
    B = model.batch
    inputs = sp.Add(*[product(t.shape) for t in model.inputs])
    outputs = activation_elements(model.rows) if check_rule(rule) == "torchsummary" else weighted_outputs(model.rows)
    return Estimate(B, storage_bytes(B * inputs, dtype), 2 * storage_bytes(B * outputs, dtype),
                    storage_bytes(model.params, dtype), rule)


def estimate_values(model, ev, dtype: str = "float32", batch: int = 1,
                    rule: str = "torchsummary") -> list[tuple[str, sp.Expr, int]]:
    """(the rule's label, bytes as a closed form, bytes) at the evaluation's values and a batch size."""
    est = estimate(model, dtype, rule)
    values = dict(ev.values)
    values[est.batch] = sp.Integer(batch)
    return [(label, expr, whole(expr, values, f"the memory estimate's {label.removesuffix(' (MB)')}"))
            for label, expr in est.parts()]


def estimate_text(model, ev, dtype: str = "float32", batch: int = 1, rule: str = "torchsummary") -> str:
    """The four lines torchsummary (or torchinfo) prints, at the evaluation's values and a batch size."""
    return "\n".join(f"{label}: {megabytes(value, rule)}"
                     for label, _, value in estimate_values(model, ev, dtype, batch, rule))


def estimate_json(model, ev, dtype: str = "float32", batch: int = 1, rule: str = "torchsummary") -> dict:
    """The estimate for `summary --memory --format json`: each part in bytes, formula and value."""
    keys = ("input", "forward_backward", "params", "total")
    parts = {key: {"expr": printed(expr), "bytes": value, "mb": float(megabytes(value, rule))}
             for key, (_, expr, value) in zip(keys, estimate_values(model, ev, dtype, batch, rule))}
    return {"rule": rule, "dtype": check_dtype(dtype), "batch": batch, **parts}
