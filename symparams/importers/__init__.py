"""Importers: models described elsewhere (a Hugging Face config, ...) written as symparams programs."""
from __future__ import annotations

import inspect
import os
import re


def spelled(name: str) -> str:
    """A source's parameter name as a program's symbol: one the language reads otherwise (`input`,
    `true`, a layer's name such as `dense`) gets a trailing `_`."""
    from ..catalog import lookup
    return f"{name}_" if name in ("input", "true", "false") or lookup(name) is not None else name


def defined(file: str, name: str, what: str = "", hint: str | None = None):
    """NAME as FILE.py defines it (`what` it must be, for the message where it is not). Running the
    file runs the user's code: its failure is reported as theirs, at the file, never as ours."""
    import os
    import runpy
    import sys
    from ..errors import SymparamsError
    # as `python FILE.py` runs it: its folder first on sys.path, so `from blocks import Block` finds its
    # neighbour; put back afterwards (the modules it imported stay imported, as Python keeps them)
    path = list(sys.path)
    sys.path.insert(0, os.path.dirname(os.path.abspath(file)))
    try:
        namespace = runpy.run_path(file)
    except OSError as e:
        raise SymparamsError(f"cannot read the file: {e.strerror}").attach(None, file) from None
    except Exception as e:
        raise SymparamsError(f"running {file} failed: {type(e).__name__}: {e}").attach(None, file) from None
    finally:
        sys.path[:] = path
    if name not in namespace or (what and not callable(namespace[name])):
        raise SymparamsError(f"{file} defines no {what + ' ' if what else ''}'{name}'", hint=hint).attach(None, file)
    return namespace[name]


def size_parameters(make) -> dict:
    """NAME -> default of a constructor's keyword parameters whose default is a positive int (a
    symbol's default is at least 1; bools are flags)."""
    try:
        signature = inspect.signature(make)
    except (TypeError, ValueError):       # a builtin or C-level callable: nothing to read
        return {}
    kinds = (inspect.Parameter.POSITIONAL_OR_KEYWORD, inspect.Parameter.KEYWORD_ONLY)
    return {name: p.default for name, p in signature.parameters.items()
            if p.kind in kinds and type(p.default) is int and p.default > 0}


def is_keras_source(file: str) -> bool:
    """A file that imports Keras and not torch: its NAME builds a Keras model (a cheap look, nothing run,
    so that a PyTorch file does not load the Keras importer)."""
    from ..syntax import read_source
    if not os.path.isfile(file):
        return False
    text = read_source(file)        # bytes that are not UTF-8: an error at their line and column
    imports = re.findall(r"^\s*(?:import|from)\s+(\w+)", text, re.M)
    return ("keras" in imports or "tensorflow" in imports) and "torch" not in imports
