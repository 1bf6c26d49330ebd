"""The layer catalog: each module is a formula sheet for one family of layers."""
from . import registry
from . import core, conv, pooling, spatial, normalization, recurrent, merge, attention, preprocessing, prelude  # noqa: F401  (registration)
from .registry import CATALOG, Out, layer, lookup


def names() -> list[str]:
    """Every spelling the language accepts, canonical names first."""
    canonical = sorted({spec.name for spec in CATALOG.values()})
    classes = sorted({n for spec in CATALOG.values() for n in (spec.keras_name, spec.torch_name)})
    return canonical + [c for c in classes if c not in canonical]


def specs() -> list:
    seen, out = set(), []
    for spec in CATALOG.values():
        if id(spec) not in seen:
            seen.add(id(spec))
            out.append(spec)
    return sorted(out, key=lambda s: s.name)
