"""Registers the layers of prelude.sp and transformers.sp: catalog entries declared in the language, as
users declare theirs."""
from importlib import resources

from .declared import declare
from ..syntax import parse_tree
from .registry import CATALOG, normalize


PRELUDES = ("prelude.sp", "transformers.sp")


def _register(name: str) -> None:
    source = (resources.files(__package__) / name).read_text()
    for item in parse_tree(source).children:
        spec = declare(item, source)
        key = normalize(spec.name)
        if key in CATALOG:
            raise RuntimeError(f"catalog name clash: {spec.name}")
        CATALOG[key] = spec


for _name in PRELUDES:
    _register(_name)
