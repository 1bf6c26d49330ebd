"""A Keras model built by a Python function or class (`symparams import FILE.py:NAME`), its sizes as
formulas of NAME's parameters.

NAME is called with each whole-number parameter as a `Size` (its default, its formula the symbol),
so every size a layer keeps (units, filters, kernel sizes, strides) carries its formula exactly.
A functional model's config is flat, so the build is watched for the structure the Python had
(keras_record: layers applied, calls of the file's functions given a tensor, its `range` loops, the
only place a loop's count is known with its formula) and written back as blocks and repeats
(keras_blocks); a model that cannot be is written flat (keras_json's Writer, as a `.keras` file is).

keras.Input keeps plain ints, so an input size equal to a parameter's default is that parameter
where building with the parameter one larger moves that size (one short build per candidate,
stopped once the inputs are made); otherwise it stays a number.
"""
from __future__ import annotations

import os

from ..dims import symbol
from ..errors import SymparamsError
from ..sized import Size
from . import defined, size_parameters, spelled
from .keras_blocks import Structured, Unwritable, functional_config
from .keras_json import ImportProblem, Writer
from .keras_record import Probed, Recorder


def program(file: str, name: str, symbols: dict | None = None) -> str:
    os.environ.setdefault("KERAS_BACKEND", "torch")     # Keras's own default, tensorflow, is rarely installed
    import keras
    builder = defined(file, name, "function or class",
                      hint="NAME builds a keras.Model from its parameters, or is one")
    if isinstance(builder, keras.Model):        # a model the file built: its numbers, --symbol by value
        return _program(builder, file, name, symbols, {}, None, {})
    parameters = size_parameters(builder)
    symbols = dict(symbols or {})
    for p in parameters:                     # --symbol d=64 for a parameter d: built at 64
        for given in {p, spelled(p)} & set(symbols):
            parameters[p] = symbols.pop(given)
    recorder = Recorder(builder)
    with recorder:
        model = _build(builder, name, file, _sized(parameters))
    inputs = _input_sizes(builder, name, file, parameters, recorder.inputs_made)
    return _program(model, file, name, symbols, parameters, recorder, inputs)


def _program(model, file, name, symbols, parameters, recorder, inputs) -> str:
    import keras
    from keras.src.models.functional import Functional     # no public name: keras.Model(inputs, outputs)'s class
    if not isinstance(model, (Functional, keras.Sequential)):
        raise ImportProblem(f"{name}() gives a subclassed keras.Model ({type(model).__name__}, its own call())",
                            hint="the import reads functional and Sequential models: build it with "
                                 "keras.Model(inputs, outputs)")
    writer = Writer(symbols or {})
    lines = None
    if isinstance(model, Functional) and recorder is not None:
        try:
            lines = Structured(writer, model, recorder, inputs, map(spelled, parameters)).lines()
        except Unwritable:
            writer = Writer(symbols or {})
            with Recorder(None) as flat:     # a build without blocks: every formula in NAME's parameters
                model = _build(recorder.builder, name, file, _sized(parameters))
            inputs = dict(zip((made.name for made in flat.inputs_made), inputs.values()))
    if lines is None:
        config = _with_input_sizes(model, inputs)
        lines = writer.model(config, top=True)[1]
    header = [f"{s} = {v}" for s, v in writer.symbols.items() if s in writer.used] + \
             [f"{spelled(p)} = {v}" for p, v in parameters.items() if spelled(p) in writer.seen] + writer.free
    unused = [s for s in writer.symbols if s not in writer.used]
    if unused:
        raise ImportProblem(f"--symbol {unused[0]}={writer.symbols[unused[0]]}: no size in the model has that value",
                            hint="a width, a number of filters or units, or an input size")
    text = [f"# {type(model).__name__} model {model.name!r} built by {file}:{name}, imported by `symparams import`",
            f"# ({f'its sizes as formulas of the parameters of {name}' if recorder else 'at the sizes it was built with'}): "
            "counted as Keras builds it.", "convention keras", ""]
    text += writer.blocks
    text.append(f"model {writer.identifier(model.name)}({', '.join(header)}):")
    text += [f"    {line}" for line in lines]
    return "\n".join(text) + "\n"


# ------------------------------------------------------------------ running the user's code

def _sized(parameters: dict) -> dict:
    """The builder's keyword arguments: each parameter a Size whose formula is its symbol."""
    return {p: Size(v, symbol(spelled(p))) for p, v in parameters.items()}


def _build(builder, name: str, file: str, sizes: dict):
    import keras
    try:
        model = builder(**sizes)
    except Exception as e:
        raise SymparamsError(f"{name}() failed: {type(e).__name__}: {e}",
                             hint=f"{name} must build its model from its parameters' defaults").attach(None, file) \
            from None
    if not isinstance(model, keras.Model):
        raise SymparamsError(f"{name}() gives a {type(model).__name__}, not a keras.Model").attach(None, file)
    return model


def _input_sizes(builder, name, file, parameters: dict, made: list) -> dict:
    """The name of each InputLayer made -> its sizes after the batch, each a Size where a parameter moves it."""
    shapes = [list(layer.batch_shape[1:]) for layer in made]
    candidates = {p for shape in shapes for d in shape for p, v in parameters.items()
                  if isinstance(d, int) and d == v}
    for p in [p for p in parameters if p in candidates]:
        probe = Recorder(None, stop_after=len(made))
        try:
            with probe:
                _build(builder, name, file, {**parameters, p: parameters[p] + 1})
        except Probed:
            pass
        except SymparamsError:          # a size this parameter cannot take: it is not the one
            continue
        for shape, moved in zip(shapes, probe.inputs_made):
            for i, (d, m) in enumerate(zip(shape, moved.batch_shape[1:])):
                if type(d) is int and d == parameters[p] and m == d + 1:
                    shape[i] = Size(d, symbol(spelled(p)))
    return {layer.name: tuple(shape) for layer, shape in zip(made, shapes)}


def _with_input_sizes(model, inputs: dict) -> dict:
    """The model's config, its input shapes holding the Sizes found for them."""
    import keras
    sequential = isinstance(model, keras.Sequential)
    config = {"class_name": "Sequential" if sequential else "Functional",
              "config": model.get_config() if sequential else functional_config(model)}
    for layer in config["config"]["layers"]:
        if layer["class_name"] == "InputLayer" and layer["config"]["name"] in inputs:
            layer["config"]["batch_shape"] = (None, *inputs[layer["config"]["name"]])
    return config
