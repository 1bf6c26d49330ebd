"""When the cyclic garbage collector runs during a command: not while it loads its modules, and
seldom after (both measured in docs/performance.md)."""
from __future__ import annotations

import contextlib
import gc


@contextlib.contextmanager
def loading():
    """Within: a command imports what it stands on (sympy, the catalog; torch, by running the user's
    file). Modules live as long as the process, so the cyclic collector's passes over them find
    nothing: they cost a cold start a tenth of its CPU (benchmarks/cold_start.py) and `symparams
    import FILE.py:NAME` 0.1 s (three passes over 100,000 new objects each, while sympy and torch
    load). The collector waits meanwhile; after, everything loaded is set aside for good
    (`gc.freeze()`), so no later pass walks it either."""
    collecting = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        gc.freeze()
        if collecting:
            gc.enable()


def fewer_collections() -> None:
    """A command's syntax tree and formulas live until it ends, and the cyclic collector's passes
    over them cost a 10,000-layer file a fifth of its time (docs/performance.md). A collection
    waits for 100,000 new objects rather than 700, as mypy does for the same reason; cycles are
    still collected (a REPL session too)."""
    gc.set_threshold(100_000, 50, 100)
