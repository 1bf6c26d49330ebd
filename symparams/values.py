"""The kinds of value a symparams program computes with, besides sympy expressions."""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from itertools import islice
from typing import Any, Iterable

from .errors import Pos


@dataclass(eq=False)
class Tensor:
    """A symbolic tensor: its shape leaves the batch axis out, as Keras does."""
    shape: tuple
    source: str          # the name of the node (or input) that produced it, as tables show it
    dtype: str | None = None
    node: Any = None     # the graph Node that produced it; None for a model's or a body's input

    def __repr__(self):
        return f"Tensor{format_shape(self.shape)} from {self.source}"


class Names:
    """The names of some scopes as they stand now, read later only if a hint needs them.

    Copying every name in scope at every name a line reads would make a long model with many
    named tensors quadratic to derive; a scope only gains names, so the first `len` of each
    (in the order they were made) are the names it held here."""
    __slots__ = ("scopes", "sizes")

    def __init__(self, *scopes: dict):
        self.scopes, self.sizes = scopes, tuple(len(s) for s in scopes)

    def __iter__(self):
        for scope, size in zip(self.scopes, self.sizes):
            yield from islice(scope, size)


@dataclass(eq=False)
class Word:
    """A bare name that is not a symbol, tensor or layer: a mode like `same` or `relu`, or a typo.

    Its consumer decides: a mode argument accepts it, arithmetic rejects it with a hint drawn
    from `candidates` (the names in scope where it was written).
    """
    name: str
    pos: Pos | None = None
    candidates: Iterable = ()    # a tuple, or Names
    quoted: bool = False


@dataclass(eq=False)
class LayerInstance:
    """A configured layer, not yet applied. Applying one instance twice shares its weights."""
    spec: Any
    config: dict
    pos: Pos | None
    binding: str | None = None        # the variable it is bound to, if any
    owner: Any = None                 # the Row of its first application
    trainable: bool = True
    row_name: str | None = None
    typed_name: str = ""              # the spelling the user wrote, for automatic row names
    tied: Any = None                  # the LayerInstance whose weight matrix this one reuses (tied=)
    key: Any = None                   # its entry and arguments as a dict key (Builder.applied), where they make one


@lru_cache(maxsize=4096)
def format_dim(d) -> str:
    """A size as printed; sympy's printer is slow and a long model's shapes repeat a few sizes."""
    return str(d)


def format_shape(shape, batch: bool = True) -> str:
    dims = (["None"] if batch else []) + [format_dim(d) for d in shape]
    if len(dims) == 1:
        return f"({dims[0]},)"
    return "(" + ", ".join(dims) + ")"
