"""Window arithmetic both builders need to express a catalog padding in framework terms."""
from __future__ import annotations

from .make import NoCounterpart


def per_axis(value, n: int) -> tuple:
    """A size given once or per axis, as one int per spatial axis."""
    items = value if isinstance(value, tuple) else (value,)
    return tuple(items) * n if len(items) == 1 else tuple(items)


def same_pads(size: int, kernel: int, stride: int, dilation: int = 1) -> tuple:
    """(before, after) zero padding of Keras's padding='same': the output is ceil(size / stride),
    the extra cell, when the total is odd, goes after (TensorFlow's rule)."""
    out = -(-size // stride)
    total = max((out - 1) * stride + dilation * (kernel - 1) + 1 - size, 0)
    return total // 2, total - total // 2


def causal_pads(kernel: int, dilation: int = 1) -> tuple:
    """Keras's padding='causal' for Conv1D: everything before, so step t sees only steps <= t."""
    return dilation * (kernel - 1), 0


def transpose_same(kernel: tuple, stride: tuple, dilation: tuple, output_padding) -> tuple:
    """PyTorch (padding, output_padding) giving Keras's padding='same' transposed output L*s:
    (L-1)*s - 2p + span + q = L*s needs 2p - q = span - s with 0 <= q < s."""
    if output_padding is not None:
        raise NoCounterpart("torch has no padding='same' for a transposed convolution with output_padding")
    pads, extra = [], []
    for k, s, d in zip(kernel, stride, dilation):
        span = d * (k - 1) + 1
        if span < s:
            raise NoCounterpart(f"torch cannot pad a transposed convolution of span {span} to cover stride {s}")
        p = -(-(span - s) // 2)
        pads.append(p)
        extra.append(2 * p - (span - s))
    return tuple(pads), tuple(extra)
