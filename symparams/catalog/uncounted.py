"""torch.nn and keras.layers classes the catalog has no entry for, each with the reason.

They wrap arbitrary code, hold other layers, are abstract bases, or cannot be built beside the pinned
frameworks to check a formula against. tests/test_coverage.py keeps this list short and true: every
other class of both frameworks is a catalog entry. `symparams layers NAME` gives the reason.
"""
from __future__ import annotations

_CODE = "runs code symparams cannot read, so its weights and shape are unknown"
_CONTAINER = "holds other layers: write them one per line, or as a block (docs/blocks.md)"
_BASE = "is an abstract base class, not a layer of its own"
_NEEDS_TF = ("is built by Keras only with TensorFlow installed, which the pinned environment has not, so no formula "
             "could be checked against it (it learns no weights)")

UNCOUNTED = {
    # keras.layers
    "Lambda": _CODE, "TorchModuleWrapper": _CODE, "JaxLayer": _CODE, "FlaxLayer": _CODE,
    "TFSMLayer": "loads a TensorFlow SavedModel, whose layers symparams cannot read",
    "Pipeline": _CONTAINER, "Layer": _BASE, "Wrapper": _BASE,
    "InputLayer": "is the model's input: write `input (sizes)`",
    "Hashing": _NEEDS_TF, "HashedCrossing": _NEEDS_TF, "IntegerLookup": _NEEDS_TF, "StringLookup": _NEEDS_TF,
    "TextVectorization": _NEEDS_TF,
    # torch.nn
    "DataParallel": "runs a module on several devices: count the module itself",
    "AdaptiveLogSoftmaxWithLoss": "returns the loss of the targets it is given, not a tensor a network goes on "
                                  "with (its head and cluster projections are Linear layers)",
    "Module": _BASE, "RNNBase": _BASE, "RNNCellBase": _BASE, "Container": _CONTAINER, "Sequential": _CONTAINER,
    "ModuleList": _CONTAINER, "ModuleDict": _CONTAINER, "ParameterList": _CONTAINER, "ParameterDict": _CONTAINER,
}

SUGGESTION = ("to count it anyway, declare a layer with its shape rule and formulas, "
              "`layer name(args)(x: (...)) -> (...):` (docs/blocks.md)")


def reason(name: str) -> str | None:
    """Why `name` (a framework class) has no catalog entry, or None if it is not one of those."""
    lowered = name.lower().replace("_", "")
    for cls, why in UNCOUNTED.items():
        if cls.lower() == lowered:
            return f"{cls} {why}"
    return None
