"""Running a Keras builder under watch (keras_python): what its build did, in order.

While a Recorder is entered, `Layer.__call__` records each layer applied to tensors (not the calls a
layer makes inside itself), `InputLayer.__init__` each input made, and, given the builder, each of its
file's functions is wrapped to record a call given a tensor (a block: its positive whole-number
arguments become Sizes of their own symbols while it runs, so its body's formulas are in its
parameters) and the file's `range` records each `for` loop over it, its count as given (a Size
keeps the count's formula). Everything is put back on exit.
"""
from __future__ import annotations

import builtins
import inspect

from ..dims import symbol
from ..sized import Size
# A parameter's symbol is its name, or `name_` where the language reads the name otherwise (`input`,
# a catalog layer's name): one spelling for the torch and the Keras import.
from . import spelled


class Probed(BaseException):
    """Ends a probing build once its inputs are made (a BaseException: the user's `except Exception` lets it by)."""


class Applied:
    """One layer applied: the tensors it read and the ones it gave."""

    def __init__(self, layer, inputs, outputs):
        self.layer, self.inputs, self.outputs = layer, inputs, outputs


class Call:
    """One call of a block function: its size and tensor arguments as given, by name, and what it did."""

    def __init__(self, function):
        self.function, self.sizes, self.tensors, self.items, self.output = function, {}, {}, [], None


class Loop:
    """One `for` over the file's range: its count as given, and what each iteration did."""

    def __init__(self, count):
        self.count, self.iterations = count, []


class Iteration:
    """What one iteration of a loop did (or the whole build, the Recorder's first)."""

    def __init__(self):
        self.items = []


class Recorder:
    """While it is entered: layers applied, block calls and range loops of `builder`'s file (none
    without a builder), and the InputLayers made, in order."""

    def __init__(self, builder, stop_after: int | None = None):
        self.builder, self.stop_after = builder, stop_after
        self.stack, self.inputs_made, self.depth, self.saved = [Iteration()], [], 0, []

    @property
    def items(self):
        return self.stack[0].items

    def __enter__(self):
        import keras
        from keras.src.layers.core.input_layer import InputLayer
        recorder, call, make_input = self, keras.Layer.__call__, InputLayer.__init__

        def applied(layer, *args, **kwargs):
            if recorder.depth:
                return call(layer, *args, **kwargs)
            recorder.depth += 1
            try:
                out = call(layer, *args, **kwargs)
            finally:
                recorder.depth -= 1
            tensors = [t for t in keras.tree.flatten((args, kwargs)) if isinstance(t, keras.KerasTensor)]
            if tensors:
                recorder.stack[-1].items.append(Applied(layer, tensors, [
                    t for t in keras.tree.flatten(out) if isinstance(t, keras.KerasTensor)]))
            return out

        def made(layer, *args, **kwargs):
            make_input(layer, *args, **kwargs)
            recorder.inputs_made.append(layer)
            if recorder.stop_after is not None and len(recorder.inputs_made) >= recorder.stop_after:
                raise Probed()

        self.saved = [(keras.Layer, "__call__", call), (InputLayer, "__init__", make_input)]
        keras.Layer.__call__, InputLayer.__init__ = applied, made
        if self.builder is not None and self.stop_after is None:
            scope = _globals(self.builder)
            for key, value in list(scope.items()):
                if inspect.isfunction(value) and value is not self.builder and value.__globals__ is scope:
                    self.saved.append((scope, key, value))
                    scope[key] = self._block(value)
            self.saved.append((scope, "range", scope.get("range", _ABSENT)))
            scope["range"] = lambda *args: _Range(self, *args)
        return self

    def __exit__(self, *exc):
        for owner, key, value in reversed(self.saved):
            if isinstance(owner, dict):
                if value is _ABSENT:
                    owner.pop(key, None)
                else:
                    owner[key] = value
            else:
                setattr(owner, key, value)
        return False

    def _block(self, function):
        import keras
        signature = inspect.signature(function)
        recorder = self

        def block(*args, **kwargs):
            try:
                bound = signature.bind(*args, **kwargs)
            except TypeError:
                return function(*args, **kwargs)
            bound.apply_defaults()
            if not any(isinstance(v, keras.KerasTensor) for v in bound.arguments.values()):
                return function(*args, **kwargs)
            call = Call(function)
            for key, value in bound.arguments.items():
                kind = signature.parameters[key].kind
                if isinstance(value, keras.KerasTensor):
                    call.tensors[key] = value
                elif isinstance(value, int) and not isinstance(value, bool) and value > 0 and \
                        kind in (inspect.Parameter.POSITIONAL_OR_KEYWORD, inspect.Parameter.KEYWORD_ONLY):
                    call.sizes[spelled(key)] = value
                    bound.arguments[key] = Size(int(value), symbol(spelled(key)))
            recorder.stack[-1].items.append(call)
            recorder.stack.append(call)
            try:
                call.output = function(*bound.args, **bound.kwargs)
            finally:
                recorder.stack.remove(call)
            return call.output
        return block


_ABSENT = object()


def _globals(builder) -> dict:
    """The namespace of the file's code: a function's globals, or a class's __init__'s."""
    function = builder if inspect.isfunction(builder) else getattr(builder, "__init__", None)
    return function.__globals__ if inspect.isfunction(function) else {}


class _Range:
    """range(n) that records, while the loop over it runs, what each iteration does."""

    def __init__(self, recorder, *args):
        self.recorder, self.range = recorder, builtins.range(*args)
        self.count = args[0] if len(args) == 1 else None

    def __iter__(self):
        loop = Loop(self.count)
        self.recorder.stack[-1].items.append(loop)
        for i in self.range:
            iteration = Iteration()
            loop.iterations.append(iteration)
            self.recorder.stack.append(iteration)
            try:
                yield i
            finally:
                self.recorder.stack.remove(iteration)

    def __len__(self):
        return len(self.range)

    def __getitem__(self, i):
        return self.range[i]

    def __contains__(self, x):
        return x in self.range

    def __reversed__(self):
        return reversed(self.range)
