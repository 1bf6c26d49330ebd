"""Shape rules shared by several formula sheets: ranks, channel axes, sliding windows.

Sliding a window of k taps, dilated by d (span K = d*(k - 1) + 1), by stride s over L positions:

    'valid' or p zeros per side:   floor((L + 2p - K) / s) + 1
    'same' / 'causal' (Keras):     ceil(L / s)
    PyTorch ceil_mode=True:        ceil((L + 2p - K) / s) + 1, less one if that last window
                                   would start in the right padding ((out - 1)*s >= L + p)

A transposed convolution runs the other way (PyTorch's rule, p per side, output_padding q):

    (L - 1)*s - 2p + K + q
"""
from __future__ import annotations

import sympy as sp

from ..dims import agree, ceildiv, describe_condition, floordiv, is_whole
from ..errors import ArgumentError, ShapeError
from ..values import format_shape


def need_rank(x: tuple, rank: int | tuple, layer: str, meaning: str = "") -> None:
    ranks = (rank,) if isinstance(rank, int) else rank
    if len(x) not in ranks:
        want = " or ".join(str(r + 1) for r in ranks)
        raise ShapeError(f"{layer} expects a rank-{want} input (with the batch){' ' + meaning if meaning else ''}, "
                         f"found {format_shape(x)}")


def split_channels(x: tuple, n_spatial: int, layer: str, c) -> tuple:
    """(spatial sizes, channels) of an input laid out by the convention."""
    layout = ("(" + ", ".join(["L", "H, W", "D, H, W"][n_spatial - 1].split(", ")) + ", C)") if c.channels_last \
        else ("(C, " + ["L", "H, W", "D, H, W"][n_spatial - 1] + ")")
    need_rank(x, n_spatial + 1, layer, f"laid out {layout} under the {c.name} convention")
    return (tuple(x[:-1]), x[-1]) if c.channels_last else (tuple(x[1:]), x[0])


def join_channels(spatial: tuple, channels, c) -> tuple:
    return tuple(spatial) + (channels,) if c.channels_last else (channels,) + tuple(spatial)


def window_out(size, kernel, stride, padding, dilation=1, ceil_mode=False) -> sp.Expr:
    """Length of a sliding-window output along one axis (convolution or pooling); see the module doc."""
    span = dilation * (kernel - 1) + 1
    pad = 0 if padding in ("valid", "same", "causal") else padding
    if stride == 1 and not ceil_mode and is_whole(size):
        # A whole length slid by 1 takes no rounding: the expression sympy's floor and ceiling would
        # return for a whole argument, without building them (a cold start's sizeable part, issue 23).
        return sp.sympify(size) if padding in ("same", "causal") else sp.sympify(size + 2 * pad - span + 1)
    if padding in ("same", "causal"):
        return ceildiv(size, stride)
    if not ceil_mode:
        return floordiv(size + 2 * pad - span, stride) + 1
    out = sp.ceiling(sp.sympify(size + 2 * pad - span) / stride) + 1
    if sp.sympify(span - pad - stride).is_nonnegative:
        return out   # (out - 1)*s <= L + 2p - K + s - 1 < L + p: the last window always starts in time
    return sp.Piecewise((out - 1, (out - 1) * stride >= size + pad), (out, True))


def transpose_out(size, kernel, stride, padding, output_padding, dilation, covers_stride) -> sp.Expr:
    """Length of a transposed-convolution output along one axis.

    A number `padding` follows PyTorch: (L - 1)*s - 2p + K + q. The words follow Keras'
    compute_conv_transpose_output_shape: 'same' gives L*s, or (L - 1)*s + K % 2 + q with an
    output_padding q; 'valid' gives (L - 1)*s + K + q, where an unset q is max(K, s) - K
    under Keras (`covers_stride`) and 0 under PyTorch.
    """
    span = dilation * (kernel - 1) + 1
    if padding == "same":
        return size * stride if output_padding is None else (size - 1) * stride + sp.Mod(span, 2) + output_padding
    if output_padding is None:
        output_padding = sp.Max(span, stride) - span if padding == "valid" and covers_stride else 0
    pad = 0 if padding == "valid" else padding
    return (size - 1) * stride - 2 * pad + span + output_padding


def check_same_padding(pads: tuple, strides: tuple, layer: str, c) -> None:
    """PyTorch refuses padding='same' with a stride other than 1 (Keras takes it)."""
    if c.same_padding_any_stride or "same" not in pads:
        return
    if any(s != 1 for s in strides):
        raise ArgumentError(f"{layer}: PyTorch takes padding='same' only with stride 1 (the {c.name} convention)",
                            hint="give the zeros per side as a number, e.g. padding=1 for a 3-wide kernel, "
                                 "or use the keras convention")


def check_strided_dilation(strides: tuple, dilation: tuple, layer: str, c) -> None:
    """Keras' Conv and ConvTranspose refuse strides > 1 with dilation_rate > 1 (PyTorch takes them;
    Keras' depthwise and separable layers do too)."""
    if c.strided_dilation:
        return
    if any(s != 1 for s in strides) and any(d != 1 for d in dilation):
        raise ArgumentError(f"{layer}: Keras takes strides > 1 or dilation_rate > 1, not both "
                            f"(the {c.name} convention)", hint="use the torch convention, which allows both")


def check_size(given, actual, what: str, tensor: str = "the input") -> list:
    """A size the user restated (PyTorch's in_features, in_channels, num_features, ...) must match the
    tensor's; None means it was not given. Returns the condition under which they agree."""
    if given is None:
        return []
    verdict = agree(given, actual)
    if verdict is False:
        raise ShapeError(f"{what} is {given} but {tensor} has {actual}")
    if verdict is True:
        return []
    return [(verdict, f"{what} is {given} but {tensor} has {actual}: "
                      f"they agree only if {describe_condition(verdict)}")]


def divides(divisor, total, what: str) -> list:
    """`divisor` must divide `total` (channels into groups, a width into heads): no condition where it
    always does, else `what: needs total % divisor == 0` (decided false for numbers that do not
    divide, which the interpreter refuses at once)."""
    rest = sp.Mod(total, divisor)
    return [] if rest == 0 else [(sp.Eq(rest, 0), f"{what}: needs {total} % {divisor} == 0")]


def check_divides(groups, n, layer: str, what: str) -> list:
    """`groups` must divide `n` (channels split evenly into groups); symbolic cases become conditions."""
    rest = sp.Mod(n, groups)
    if rest.is_number and rest != 0:
        raise ShapeError(f"{layer}: groups={groups} does not divide the {what} ({n})")
    return divides(groups, n, f"{layer}: groups={groups} must divide the {what} ({n})")
