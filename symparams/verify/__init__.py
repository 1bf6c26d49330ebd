"""Checking the formulas against the real frameworks, and writing the networks out as code.

plan.py turns a model at one setting of its symbols into framework-neutral steps;
torch_builder.py / keras_builder.py map each catalog layer to the framework's own modules;
torch_network.py / keras_network.py build, run and measure them (and print them as source);
compare.py sets the measurements beside the formulas; sizes.py draws random size settings.
"""
from __future__ import annotations

import importlib

from ..errors import SymparamsError

FRAMEWORKS = {"torch": "torch", "keras": "keras"}      # framework -> the convention its counts follow
# Both frameworks come with the `verify` extra; the pin keeps pip off torch's multi-GB CUDA build.
INSTALL = {"torch": "pip install 'symparams[verify]' (or pip install torch==2.13.0)",
           "keras": "pip install 'symparams[verify]' (or pip install keras: Keras 3, run on PyTorch here)"}
PRETTY = {"torch": "PyTorch", "keras": "Keras"}


class MissingFramework(SymparamsError):
    kind = "missing framework"


def network_module(framework: str):
    """symparams.verify.torch_network or .keras_network, or a clear error saying what to install."""
    try:
        return importlib.import_module(f"symparams.verify.{framework}_network")
    except ImportError as e:
        raise MissingFramework(f"this needs {PRETTY[framework]} ({framework}), which cannot be imported ({e})",
                               hint=f"install it: {INSTALL[framework]}") from None


def version(framework: str) -> str:
    module = importlib.import_module(framework)
    return f"{PRETTY[framework]} {getattr(module, '__version__', '?')}"
