"""The catalog entries of prelude.sp and transformers.sp: declared in the language, as users declare
theirs. They are read on the first name the formula sheets lack that is one of theirs
(registry.lookup), not when the catalog is imported: parsing them is a sizeable part of a cold
start's own work (issue 23), and most files use none of them. Their names alone (`names`) are read
off the text's `layer NAME(` lines, so that a miss -- a block's name, checked against the catalog --
costs no derivation; `entries` checks the two agree whenever it derives them."""
import re
from functools import lru_cache
from pathlib import Path

from .declared import declare
from ..syntax import parse_tree
from .registry import CATALOG, normalize


PRELUDES = ("prelude.sp", "transformers.sp")
# A layer definition at the top level: the grammar's `"layer" NAME "("`, at the start of a line
# (a body is indented, and the preludes hold nothing else at the top level but comments).
_DEFINITION = re.compile(r"^layer[ \t]+([A-Za-z_][A-Za-z_0-9]*)[ \t]*\(", re.MULTILINE)


def _text(name: str) -> str:
    # Beside this module, as the package ships it (importlib.resources would cost a cold start
    # its readers and zipfile for the same file).
    return (Path(__file__).parent / name).read_text()


@lru_cache(maxsize=1)
def names() -> frozenset:
    """The normalized names of the declared entries, without deriving them."""
    return frozenset(normalize(m.group(1)) for name in PRELUDES for m in _DEFINITION.finditer(_text(name)))


@lru_cache(maxsize=1)
def entries() -> dict:
    """Every declared entry by its normalized name; none may take a formula sheet's name."""
    out = {}
    for name in PRELUDES:
        source = _text(name)
        for item in parse_tree(source).children:
            spec = declare(item, source)
            key = normalize(spec.name)
            if key in CATALOG or key in out:
                raise RuntimeError(f"catalog name clash: {spec.name}")
            out[key] = spec
    if set(out) != names():
        raise RuntimeError(f"the prelude's names read off its text differ from its entries': "
                           f"{sorted(set(out) ^ names())}")
    return out
