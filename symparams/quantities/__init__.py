"""Every figure of a model or a layer: the registry (registry.py) and its sheets, one module per family
of figures, each entry registered with @quantity (imported here, so the registry is full)."""
from . import counts, finetune, inference  # noqa: F401  (registration)
from .registry import (OPTIONS, QUANTITIES, Figure, Option, Options, Quantity, check, compute, figure, is_bytes,
                       options, quantity)

__all__ = ["OPTIONS", "QUANTITIES", "Figure", "Option", "Options", "Quantity", "check", "compute", "figure",
           "is_bytes", "options", "quantity"]
