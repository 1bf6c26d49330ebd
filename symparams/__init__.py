"""symparams: exact closed-form parameter counts, shapes and costs of neural networks."""
from importlib import import_module

from .errors import SymparamsError

__all__ = ["load", "parse", "Program", "Model", "Row", "SymparamsError"]
__version__ = "0.1.0"

# The public names, each imported when first read: `python -m symparams` and every
# `import symparams.x` run this file, and the interpreter (the catalog, the grammar) is needed
# only by the commands that read a model (a cold start's cost, issue 23).
_WHERE = {"load": "interpreter", "parse": "interpreter", "Program": "interpreter", "Model": "model", "Row": "model"}


def __getattr__(name: str):
    if name not in _WHERE:
        raise AttributeError(f"module 'symparams' has no attribute '{name}'")
    value = getattr(import_module(f"{__name__}.{_WHERE[name]}"), name)
    globals()[name] = value
    return value


def __dir__():
    return sorted(set(globals()) | set(_WHERE))
