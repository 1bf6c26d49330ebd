"""The layer catalog: each module is a formula sheet for one family of layers; prelude.py adds the
entries declared in the language (read on first use)."""
from . import registry
from . import core, conv, pooling, spatial, normalization, recurrent, merge, attention, preprocessing  # noqa: F401  (registration)
from .registry import CATALOG, Out, is_layer_name, layer, lookup


def everything() -> dict:
    """Every entry by its normalized name: the formula sheets' (registry.CATALOG) and the prelude's."""
    from .prelude import entries
    return {**CATALOG, **entries()}


def names() -> list[str]:
    """Every spelling the language accepts, canonical names first."""
    entries = everything().values()
    canonical = sorted({spec.name for spec in entries})
    classes = sorted({n for spec in entries for n in (spec.keras_name, spec.torch_name)})
    return canonical + [c for c in classes if c not in canonical]


def specs() -> list:
    seen, out = set(), []
    for spec in everything().values():
        if id(spec) not in seen:
            seen.add(id(spec))
            out.append(spec)
    return sorted(out, key=lambda s: s.name)
