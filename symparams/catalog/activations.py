"""The one table of activation functions: what `activation=` accepts, and everything the package
knows about each one. The registry's `Activation` choice, the formula sheets' shapes and saved
tensors (core.py), the framework builders (verify/torch_builder.py, keras_builder.py) and the
importers (importers/torch_fx.py, importers/huggingface/parts.py) all read it; no other module
lists activations.

Per function:
    name           as the language spells it (`dense(8, activation=gelu_new)`)
    torch          the module computing it, as verify writes it: a torch.nn class ("nn.GELU") or one of
                   verify/torch_glue.py's ("NewGELU", copying transformers' formula); None: no module
    torch_options  that module's constructor keywords ((("approximate", "tanh"),))
    keras          keras.activations' name; None: Keras has none
    keras_options  the keywords that function is called with ((("approximate", True),))
    hf             transformers' ACT2FN names computing it with the same saved tensors
    functions      torch functions of one tensor computing it (torch.X, torch.nn.functional.X, x.X())
    keeps          what its backward pass keeps of its own tensors: "input", "output" or None
    more           further tensors of its input's size the backward pass keeps (an unfused formula's
                   intermediates, each a new storage)
    halves         it halves the last axis (glu: a * sigmoid(b) of its two halves)

`keeps` and `more` are autograd's, measured on the CPU with torch.autograd.graph.saved_tensors_hooks
(each storage once; tests/test_activations.py measures every row): torch's derivatives.yaml keeps
relu's, sigmoid's, tanh's, softmax's and exp's result, the other fused kernels their input;
transformers' gelu_new is a Python formula, `0.5 * x * (1 + tanh(sqrt(2/pi) * (x + 0.044715 * x**3)))`,
which keeps x (for the power), the tanh, 1 + tanh and 0.5 * x: the input and three more.
Korthikanti et al. count every activation's input once, whatever it is.
"""
from __future__ import annotations

from dataclasses import dataclass

KEEPS = ("input", "output", None)


@dataclass(frozen=True)
class Function:
    name: str
    torch: str | None
    keras: str | None
    hf: tuple = ()
    functions: tuple = ()
    keeps: str | None = "input"
    more: int = 0
    torch_options: tuple = ()
    keras_options: tuple = ()
    halves: bool = False

    @property
    def applies(self) -> bool:
        """False for `none`: no function at all (the layer's output is its product)."""
        return self.name != "none"

    @property
    def identity(self) -> bool:
        """`linear` and `none`: the output is the input; the backward pass keeps nothing for it."""
        return self.keeps is None and not self.more


_TANH_FORMULA = ("gelu_new", "gelu_accurate", "gelu_python_tanh")

FUNCTIONS = (
    Function("linear", "nn.Identity", "linear", hf=("linear",), keeps=None),
    Function("relu", "nn.ReLU", "relu", hf=("relu",), functions=("relu",), keeps="output"),
    Function("relu6", "nn.ReLU6", "relu6", hf=("relu6",), functions=("relu6",)),
    Function("gelu", "nn.GELU", "gelu", hf=("gelu",), functions=("gelu",)),
    # transformers' GELU variants: the fused tanh approximation keeps its input as gelu does; the
    # Python formulas keep their intermediates (verify/torch_glue.py copies each formula).
    Function("gelu_tanh", "nn.GELU", "gelu", hf=("gelu_pytorch_tanh",), torch_options=(("approximate", "tanh"),),
             keras_options=(("approximate", True),)),
    Function("gelu_new", "NewGELU", "gelu", hf=_TANH_FORMULA, more=3, keras_options=(("approximate", True),)),
    Function("gelu_fast", "FastGELU", "gelu", hf=("gelu_fast",), more=6, keras_options=(("approximate", True),)),
    Function("gelu_python", "PythonGELU", "gelu", hf=("gelu_python",), keeps=None, more=3),
    Function("quick_gelu", "QuickGELU", None, hf=("quick_gelu",), more=1),
    Function("silu", "nn.SiLU", "silu", hf=("silu", "swish"), functions=("silu",)),
    Function("swish", "nn.SiLU", "swish"),
    Function("softmax", "nn.Softmax", "softmax", keeps="output", torch_options=(("dim", -1),)),
    Function("log_softmax", "nn.LogSoftmax", "log_softmax", keeps="output", torch_options=(("dim", -1),)),
    Function("sigmoid", "nn.Sigmoid", "sigmoid", hf=("sigmoid",), functions=("sigmoid",), keeps="output"),
    Function("tanh", "nn.Tanh", "tanh", hf=("tanh",), functions=("tanh",), keeps="output"),
    Function("elu", "nn.ELU", "elu", functions=("elu",)),
    Function("selu", "nn.SELU", "selu", functions=("selu",)),
    Function("softplus", "nn.Softplus", "softplus", functions=("softplus",)),
    # torch.nn.functional.softsign is x / (1 + |x|) in Python: x and 1 + |x| are kept
    Function("softsign", "nn.Softsign", "softsign", more=1),
    Function("leaky_relu", "nn.LeakyReLU", "leaky_relu", hf=("leaky_relu",), functions=("leaky_relu",)),
    Function("hard_sigmoid", "nn.Hardsigmoid", "hard_sigmoid", functions=("hardsigmoid",)),
    Function("hard_swish", "nn.Hardswish", "hard_swish", hf=("hardswish",), functions=("hardswish",)),
    Function("hard_silu", "nn.Hardswish", "hard_silu"),
    Function("mish", "nn.Mish", "mish", hf=("mish",), functions=("mish",)),
    Function("exponential", "Exponential", "exponential", functions=("exp",), keeps="output"),
    Function("glu", "nn.GLU", "glu", torch_options=(("dim", -1),), halves=True),
    Function("none", None, None, keeps=None),
)

BY_NAME = {f.name: f for f in FUNCTIONS}
NAMES = tuple(BY_NAME)
# transformers' ACT2FN name -> the function's name here
HF = {hf: f.name for f in FUNCTIONS for hf in f.hf}


def function(name) -> Function:
    """The row of an `activation=` value (None: no activation, as `none`)."""
    return BY_NAME["none" if name is None else name]


def keeps(name) -> tuple[str | None, int]:
    """What the function's backward pass keeps: ("input" | "output" | None, further input-sized tensors)."""
    f = function(name)
    return f.keeps, f.more


def halves(name) -> bool:
    return function(name).halves


def by_torch_module(module) -> Function | None:
    """The row computing what a torch module instance computes: its class is the row's (a torch.nn
    class, or verify/torch_glue's by name) and its attributes equal the row's constructor options
    (rows naming options first: nn.GELU(approximate="tanh") is gelu_tanh, any other nn.GELU gelu)."""
    cls = type(module)
    spelled = f"nn.{cls.__name__}" if cls.__module__.startswith("torch.nn") else cls.__name__
    rows = sorted((f for f in FUNCTIONS if f.torch == spelled), key=lambda f: not f.torch_options)
    return next((f for f in rows if all(getattr(module, k, None) == v for k, v in f.torch_options)), None)


def layers() -> tuple:
    """The rows a catalog layer of the same name computes alone, taking no arguments (relu, gelu):
    the framework builders build those layers as the rows' modules."""
    from .registry import lookup      # the registry reads this table for its `Activation` choice
    return tuple(f.name for f in FUNCTIONS
                 if (spec := lookup(f.name)) is not None and spec.name == f.name and not spec.arguments)
