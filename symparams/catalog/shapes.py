"""Shape rules shared by several formula sheets: ranks, channel axes, sliding windows."""
from __future__ import annotations

import sympy as sp

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
    """Length of a sliding-window output along one axis (convolution or pooling).

    `padding` is 'valid', 'same', 'causal' or an explicit per-side amount (PyTorch's integer).
    PyTorch's ceil_mode drops a last window that would start in the right padding.
    """
    span = dilation * (kernel - 1) + 1
    if padding == "same" or padding == "causal":
        return sp.ceiling(sp.sympify(size) / stride)
    pad = 0 if padding == "valid" else padding
    if not ceil_mode:
        return sp.floor((size + 2 * pad - span) / sp.sympify(stride)) + 1
    out = sp.ceiling((size + 2 * pad - span) / sp.sympify(stride)) + 1
    # The last window must start inside the input or its left padding.
    return sp.Piecewise((out - 1, (out - 1) * stride >= size + pad), (out, True)) if stride > 1 or pad else out


def padding_per_axis(padding, n: int) -> tuple:
    if isinstance(padding, str):
        return (padding,) * n
    if len(padding) == 1:
        return padding * n
    if len(padding) != n:
        raise ArgumentError(f"expected {n} padding values, found {len(padding)}")
    return padding
