"""Window arithmetic both builders need to express a catalog padding in framework terms."""
from __future__ import annotations


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
