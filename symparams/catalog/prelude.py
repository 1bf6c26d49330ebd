"""Registers the layers of prelude.sp: catalog entries declared in the language, as users declare theirs."""
from importlib import resources

from ..declared import declare
from ..syntax import parse_tree
from .registry import CATALOG, normalize


def _register() -> None:
    source = (resources.files(__package__) / "prelude.sp").read_text()
    for item in parse_tree(source).children:
        spec = declare(item, source)
        key = normalize(spec.name)
        if key in CATALOG:
            raise RuntimeError(f"catalog name clash: {spec.name}")
        CATALOG[key] = spec


_register()
