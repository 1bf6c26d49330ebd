"""The catalog entries of prelude.sp and transformers.sp: declared in the language, as users declare
theirs. They are read on the first name the formula sheets lack (registry.lookup), not when the
catalog is imported: parsing them is a sizeable part of a cold start's own work (issue 23), and
most files use none of them."""
from functools import lru_cache
from importlib import resources

from .declared import declare
from ..syntax import parse_tree
from .registry import CATALOG, normalize


PRELUDES = ("prelude.sp", "transformers.sp")


@lru_cache(maxsize=1)
def entries() -> dict:
    """Every declared entry by its normalized name; none may take a formula sheet's name."""
    out = {}
    for name in PRELUDES:
        source = (resources.files(__package__) / name).read_text()
        for item in parse_tree(source).children:
            spec = declare(item, source)
            key = normalize(spec.name)
            if key in CATALOG or key in out:
                raise RuntimeError(f"catalog name clash: {spec.name}")
            out[key] = spec
    return out
