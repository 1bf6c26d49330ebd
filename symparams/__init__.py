"""symparams: exact closed-form parameter counts, shapes and costs of neural networks."""
from .errors import SymparamsError
from .interpreter import Program, load, parse
from .model import Model, Row

__all__ = ["load", "parse", "Program", "Model", "Row", "SymparamsError"]
__version__ = "0.1.0"
