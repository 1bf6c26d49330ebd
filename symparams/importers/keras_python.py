"""A Keras model built by a Python function or class (`symparams import FILE.py:NAME`), its sizes as
formulas of NAME's parameters.

NAME is called with each whole-number parameter as a `Size` (its default, its formula the symbol),
so every size a layer keeps (units, filters, kernel sizes, strides) carries its formula exactly.
A functional model's config is flat, so the build is watched for the structure the Python had:
each layer applied (`Layer.__call__`), each call of one of the file's functions given a tensor (a
block: its whole-number arguments become the block's parameters, as symbols of their own while it
runs) and each `for _ in range(n)` of the file (`range` is a recording one while NAME runs, since
the loop's count is known, with its formula, only there). A loop calling one block or one layer
on the tensor it carries is `repeat(n, ...)`, one of several lines `repeat n:` over them; consecutive
calls of one block, `repeat(k, ...)` with k a number. What cannot be written as a block is written inline,
its arguments' formulas put in; a model that still cannot be is written flat (keras_json).

keras.Input keeps plain ints, so an input size equal to a parameter's default is that parameter
where building with the parameter one larger moves that size (one short build per candidate,
stopped once the inputs are made); otherwise it stays a number.
"""
from __future__ import annotations

import builtins
import inspect
import os
import re
import runpy

from ..dims import symbol
from ..errors import SymparamsError
from ..sized import Size, formula_of
from . import keras_json
from .keras_json import ImportProblem, Writer


def is_keras_source(file: str) -> bool:
    """A file that imports Keras and not torch: its NAME builds a Keras model (a cheap look, nothing run)."""
    try:
        text = open(file).read()
    except OSError:
        return False
    imports = re.findall(r"^\s*(?:import|from)\s+(\w+)", text, re.M)
    return ("keras" in imports or "tensorflow" in imports) and "torch" not in imports


def program(file: str, name: str, symbols: dict | None = None) -> str:
    os.environ.setdefault("KERAS_BACKEND", "torch")     # Keras's own default, tensorflow, is rarely installed
    import keras
    builder = _builder(file, name)
    if isinstance(builder, keras.Model):        # a model the file built: its numbers, --symbol by value
        return _program(builder, file, name, symbols, {}, None, {})
    parameters = {p.name: p.default for p in inspect.signature(builder).parameters.values()
                  if type(p.default) is int and p.default > 0 and p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)}
    symbols = dict(symbols or {})
    for given in [s for s in symbols if s in parameters]:      # --symbol d=64 for a parameter d: built at 64
        parameters[given] = symbols.pop(given)
    recorder = _Recorder(builder)
    with recorder:
        model = _build(builder, name, file, {p: Size(v, symbol(p)) for p, v in parameters.items()})
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
            lines = _Structured(writer, model, recorder, inputs, parameters).lines()
        except _Unwritable:
            writer = Writer(symbols or {})
            with _Recorder(None) as flat:     # a build without blocks: every formula in NAME's parameters
                model = _build(recorder.builder, name, file, {p: Size(v, symbol(p)) for p, v in parameters.items()})
            inputs = dict(zip((made.name for made in flat.inputs_made), inputs.values()))
    if lines is None:
        config = _with_input_sizes(model, inputs)
        lines = writer.model(config, top=True)[1]
    header = [f"{s} = {v}" for s, v in writer.symbols.items() if s in writer.used] + \
             [f"{p} = {v}" for p, v in parameters.items() if p in writer.seen]
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

def _builder(file: str, name: str):
    try:
        namespace = runpy.run_path(file)
    except OSError as e:
        raise SymparamsError(f"cannot read the file: {e.strerror}").attach(None, file) from None
    except Exception as e:     # the user's code failed: say where, not as our bug
        raise SymparamsError(f"running {file} failed: {type(e).__name__}: {e}").attach(None, file) from None
    if not callable(namespace.get(name)):
        raise SymparamsError(f"{file} defines no function or class '{name}'",
                             hint="NAME builds a keras.Model from its parameters, or is one").attach(None, file)
    return namespace[name]


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


class _Probed(BaseException):
    """Ends a probing build once its inputs are made (a BaseException: the user's `except Exception` lets it by)."""


def _input_sizes(builder, name, file, parameters: dict, made: list) -> dict:
    """The name of each InputLayer made -> its sizes after the batch, each a Size where a parameter moves it."""
    shapes = [list(layer.batch_shape[1:]) for layer in made]
    candidates = {p for shape in shapes for d in shape for p, v in parameters.items()
                  if isinstance(d, int) and d == v}
    for p in [p for p in parameters if p in candidates]:
        probe = _Recorder(None, stop_after=len(made))
        try:
            with probe:
                _build(builder, name, file, {**parameters, p: parameters[p] + 1})
        except _Probed:
            pass
        except SymparamsError:          # a size this parameter cannot take: it is not the one
            continue
        for shape, moved in zip(shapes, probe.inputs_made):
            for i, (d, m) in enumerate(zip(shape, moved.batch_shape[1:])):
                if type(d) is int and d == parameters[p] and m == d + 1:
                    shape[i] = Size(d, symbol(p))
    return {layer.name: tuple(shape) for layer, shape in zip(made, shapes)}


def _with_input_sizes(model, inputs: dict) -> dict:
    """The model's config, its input shapes holding the Sizes found for them."""
    import keras
    sequential = isinstance(model, keras.Sequential)
    config = {"class_name": "Sequential" if sequential else "Functional",
              "config": model.get_config() if sequential else _functional_config(model)}
    for layer in config["config"]["layers"]:
        if layer["class_name"] == "InputLayer" and layer["config"]["name"] in inputs:
            layer["config"]["batch_shape"] = (None, *inputs[layer["config"]["name"]])
    return config


def _functional_config(model) -> dict:
    """A functional model's config, a subclass's too (Keras serializes a subclass as its own class's
    arguments, not its graph): that of a plain keras.Model over the same tensors."""
    import keras
    config = keras.Model(model.inputs, model.outputs, name=model.name).get_config()
    return {**config, "trainable": model.trainable}


class _Applied:
    def __init__(self, layer, inputs, outputs):
        self.layer, self.inputs, self.outputs = layer, inputs, outputs


class _Call:
    """One call of a block function: its size arguments' formulas and its tensor arguments, by name."""

    def __init__(self, function):
        self.function, self.sizes, self.tensors, self.items, self.output = function, {}, {}, [], None


class _Loop:
    def __init__(self, count):
        self.count, self.iterations = count, []


class _Iteration:
    def __init__(self):
        self.items = []


class _Recorder:
    """While it is entered: layers applied, block calls and range loops of `builder`'s file (none
    without a builder), and the InputLayers made, in order."""

    def __init__(self, builder, stop_after: int | None = None):
        self.builder, self.stop_after = builder, stop_after
        self.stack, self.inputs_made, self.depth, self.saved = [_Iteration()], [], 0, []

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
                recorder.stack[-1].items.append(_Applied(layer, tensors, [
                    t for t in keras.tree.flatten(out) if isinstance(t, keras.KerasTensor)]))
            return out

        def made(layer, *args, **kwargs):
            make_input(layer, *args, **kwargs)
            recorder.inputs_made.append(layer)
            if recorder.stop_after is not None and len(recorder.inputs_made) >= recorder.stop_after:
                raise _Probed()

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
            call = _Call(function)
            for key, value in bound.arguments.items():
                kind = signature.parameters[key].kind
                if isinstance(value, keras.KerasTensor):
                    call.tensors[key] = value
                elif isinstance(value, int) and not isinstance(value, bool) and value > 0 and \
                        kind in (inspect.Parameter.POSITIONAL_OR_KEYWORD, inspect.Parameter.KEYWORD_ONLY):
                    call.sizes[key] = value
                    bound.arguments[key] = Size(int(value), symbol(key))
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
        loop = _Loop(self.count)
        self.recorder.stack[-1].items.append(loop)
        for i in self.range:
            iteration = _Iteration()
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


# ------------------------------------------------------------------ writing

class _Unwritable(Exception):
    """This part cannot be written as recorded (a tensor from outside a block, a layer shared across
    blocks): written inline instead, or the model flat."""


class _Structured:
    def __init__(self, writer: Writer, model, recorder: _Recorder, inputs: dict, parameters):
        self.writer, self.model, self.recorder, self.inputs = writer, model, recorder, inputs
        self.parameters = set(parameters)
        config = _functional_config(model)
        self.configs = {layer["name"]: layer for layer in config["layers"]}
        self.layers = {id(layer): layer for layer in model.layers}
        self.uses: dict = {}
        self._count(recorder.items)
        self.instances: dict = {}      # id(shared layer) -> (the scope it is bound in, its name)

    def _count(self, items):
        for item in items:
            if isinstance(item, _Applied):
                self.uses[id(item.layer)] = self.uses.get(id(item.layer), 0) + 1
            for inner in [item] if isinstance(item, _Call) else getattr(item, "iterations", []):
                self._count(inner.items)

    def lines(self) -> list:
        names, taken, lines = {}, set(self.parameters), []
        several = len(self.model.inputs) > 1
        for i, tensor in enumerate(self.model.inputs):
            layer = tensor._keras_history.operation
            given = layer.name if not keras_json._automatic(layer.name, "InputLayer") else \
                f"x{i}" if several else "inputs"
            names[id(tensor)] = name = self.writer.tensor_name(given, taken)
            cfg = {**layer.get_config(), "batch_shape": (None, *self.inputs[layer.name])}
            lines.append(self.writer.input_line(name, cfg))
        scope = _Scope(names, taken)
        lines += self.items(self.recorder.items, scope, set(map(id, self.model.outputs)))
        outputs = [scope.name(t) for t in self.model.outputs]
        if len(outputs) > 1 or lines[-1].split(" = ")[0] != outputs[0]:
            lines.append(f"output {', '.join(outputs)}")
        return lines

    def items(self, items, scope, keep: set) -> list:
        """The lines of a body's items; `keep` holds the tensors used after them (a repeat hides its inner ones)."""
        later, lines, i = [set(keep)], [], 0
        for item in reversed(items[1:]):
            later.append(later[-1] | _consumed([item]))
        later.reverse()
        while i < len(items):
            item = items[i]
            if isinstance(item, _Applied):
                if id(item.layer) in self.layers:        # not a layer of a nested model, run as it was made
                    lines += self.applied(item, scope)
            elif isinstance(item, _Call):
                run = _run(items, i)
                folded = len(run) > 1 and self.repeat(len(run), run, scope, later[i + len(run) - 1])
                if folded:
                    lines += folded
                    i += len(run)
                    continue
                lines += self.call(item, scope, later[i])
            else:
                lines += self.loop(item, scope, later[i])
            i += 1
        return lines

    def applied(self, item, scope) -> list:
        make = self.make(item.layer)
        lines = []
        if self.uses[id(item.layer)] > 1:
            bound = self.instances.get(id(item.layer))
            if bound is None:
                nested = self.configs[item.layer.name]["class_name"] in keras_json._MODELS
                name = scope.new(self.writer, item.layer.name + ("_shared" if nested else ""))
                self.instances[id(item.layer)] = bound = (scope, name)
                lines.append(f"{name} = {make.replace(f', name={name})', ')').replace(f'(name={name})', '()')}")
            if bound[0] is not scope:
                raise _Unwritable()
            make = bound[1]
        if len(item.outputs) != 1:
            raise ImportProblem(f"layer {item.layer.name!r} has several outputs; the import reads one per layer")
        args = ", ".join(scope.name(t) for t in item.inputs)
        tensor = scope.bind(self.writer, item.outputs[0], _tensor_word(item.layer))
        return lines + [f"{tensor} = {make}({args})"]

    def make(self, layer) -> str:
        config = self.configs[layer.name]
        if config["class_name"] in keras_json._MODELS:
            return self.writer.nested(config, 1)
        return self.writer.call(config)

    def call(self, call: _Call, scope, later: set) -> list:
        try:
            block, args = self.block(call)
        except _Unwritable:
            return self.inline(call, scope, later)
        inputs = ", ".join(scope.name(t) for t in call.tensors.values())
        tensor = scope.bind(self.writer, call.output, call.function.__name__)
        return [f"{tensor} = {block}({self.arguments(args, call)})({inputs})"]

    def arguments(self, used: list, call: _Call) -> str:
        return ", ".join(self.writer.value(self.writer.resolved(call.sizes[p])) for p in used)

    def block(self, call: _Call):
        """The block `call` is an application of (its definition written once): its name and parameters."""
        import keras
        if not isinstance(call.output, keras.KerasTensor) or not call.items:
            raise _Unwritable()
        writer = self.writer
        outer = writer.seen, writer.subs, dict(self.instances)
        writer.seen, writer.subs = {}, {}
        try:
            scope = _Scope({}, set(call.sizes))
            inputs = [scope.bind(writer, t, key) for key, t in call.tensors.items()]
            body = self.items(call.items, scope, {id(call.output)})
            result = scope.name(call.output)
            if id(call.output) in {id(t) for t in call.tensors.values()}:
                raise _Unwritable()
            used = [p for p in call.sizes if p in writer.seen]
            if any(s not in call.sizes for s in writer.seen):
                raise _Unwritable()
        except _Unwritable:
            self.instances = outer[2]
            raise
        finally:
            writer.seen, writer.subs = outer[0], outer[1]
        if body[-1].split(" = ")[0] == result:
            body[-1] = "return " + body[-1].split(" = ", 1)[1]
        else:
            body.append(f"return {result}")
        text = f"({', '.join(used)})({', '.join(inputs)}):\n" + "".join(f"    {line}\n" for line in body)
        if text not in writer.block_names:
            from ..catalog import lookup
            base = call.function.__name__ + ("_block" if lookup(call.function.__name__) else "")
            name, i = base, 2
            while name in writer.block_names.values():
                name, i = f"{base}_{i}", i + 1
            writer.block_names[text] = name
            writer.blocks.append(f"block {name}{text}")
        return writer.block_names[text], used

    def inline(self, call: _Call, scope, later: set) -> list:
        """The block's lines in the caller's body, its parameters replaced by the formulas it was given."""
        writer = self.writer
        outer = writer.subs
        writer.subs = {symbol(p): formula_of(v).subs(outer, simultaneous=True) for p, v in call.sizes.items()}
        try:
            lines = self.items(call.items, scope, later)
        finally:
            writer.subs = outer
        return lines

    def loop(self, loop: _Loop, scope, later: set) -> list:
        iterations = [it for it in loop.iterations if it.items]
        symbolic = isinstance(loop.count, Size) and not loop.count.formula.is_number
        if iterations and len(iterations) == len(loop.iterations) and (symbolic or loop.count in range(2, 10**9)):
            folded = all(len(it.items) == 1 for it in iterations) and \
                self.repeat(loop.count, [it.items[0] for it in iterations], scope, later)
            folded = folded or self.repeated_lines(loop.count, iterations, scope, later)
            if folded:
                return folded
        return self.items([item for it in iterations for item in it.items], scope, later)

    def repeated_lines(self, count, iterations: list, scope, later: set) -> list | None:
        """`repeat n:` over one iteration's lines, where each iteration reads only the tensor the last
        one gave (the loop's tensor, rebound by the body's last line) and the lines are the same."""
        made = [_produced(it.items) for it in iterations]
        sources = [_consumed(it.items) - m for it, m in zip(iterations, made)]
        if any(len(read) != 1 for read in sources):
            return None
        sources = [next(iter(read)) for read in sources]
        last = made[-1] & later
        if len(last) != 1 or sources[0] in later or sources[0] not in scope.names or \
                any(m & later for m in made[:-1]):
            return None
        outputs = sources[1:] + list(last)
        if any(out not in m for out, m in zip(outputs, made)):
            return None
        carried, texts, saved = scope.names[sources[0]], [], dict(self.instances)
        for it, source, output in zip(iterations, sources, outputs):
            inner = _Scope({source: carried}, set(scope.taken))
            try:
                lines = self.items(it.items, inner, {output})
            except _Unwritable:
                self.instances = saved
                return None
            target = inner.names.get(output)
            if not lines or not lines[-1].startswith(f"{target} = "):
                return None
            texts.append(lines[:-1] + [f"{carried} = {lines[-1].split(' = ', 1)[1]}"])
        if any(text != texts[0] for text in texts):
            return None
        scope.taken |= inner.taken
        scope.names[outputs[-1]] = carried
        return [f"repeat {self.writer.value(self.writer.resolved(count))}:"] + [f"    {line}" for line in texts[0]]

    def repeat(self, count, items: list, scope, later: set) -> list | None:
        """`repeat(n, one(...))(x)` where each item applies the same one block or layer to the last's
        output, and no other line reads the outputs in between."""
        if any(isinstance(item, _Loop) for item in items) or any(id(_output(item)) in later for item in items[:-1]):
            return None
        texts = []
        for i, item in enumerate(items):
            inputs = list(item.tensors.values()) if isinstance(item, _Call) else item.inputs
            if len(inputs) != 1 or (i and inputs[0] is not _output(items[i - 1])):
                return None
            if isinstance(item, _Call):
                try:
                    block, args = self.block(item)
                except _Unwritable:
                    return None
                texts.append(f"{block}({self.arguments(args, item)})")
            elif id(item.layer) in self.layers and self.uses[id(item.layer)] == 1 and len(item.outputs) == 1:
                texts.append(self.make(item.layer))
            else:
                return None
        if len(set(texts)) != 1:
            return None
        count = self.writer.value(self.writer.resolved(count))
        source = scope.name(items[0].tensors[next(iter(items[0].tensors))] if isinstance(items[0], _Call)
                            else items[0].inputs[0])
        word = items[0].function.__name__ if isinstance(items[0], _Call) else _tensor_word(items[0].layer)
        tensor = scope.bind(self.writer, _output(items[-1]), word)
        return [f"{tensor} = repeat({count}, {texts[0]})({source})"]


def _run(items: list, i: int) -> list:
    """The calls of one block function from items[i] on, each given the last one's output alone."""
    run = [items[i]]
    for item in items[i + 1:]:
        if not isinstance(item, _Call) or item.function is not run[0].function or \
                list(map(id, item.tensors.values())) != [id(run[-1].output)]:
            break
        run.append(item)
    return run


def _produced(items) -> set:
    """The tensors these items (and the items inside them) give."""
    found = set()
    for item in items:
        if isinstance(item, _Applied):
            found.update(map(id, item.outputs))
        elif isinstance(item, _Call):
            found.add(id(item.output))
            found |= _produced(item.items)
        else:
            for iteration in item.iterations:
                found |= _produced(iteration.items)
    return found


def _consumed(items) -> set:
    """The tensors these items (and the items inside them) read."""
    found = set()
    for item in items:
        if isinstance(item, _Applied):
            found.update(map(id, item.inputs))
        elif isinstance(item, _Call):
            found.update(map(id, item.tensors.values()))
            found |= _consumed(item.items)
        else:
            for iteration in item.iterations:
                found |= _consumed(iteration.items)
    return found


def _output(item):
    return item.output if isinstance(item, _Call) else item.outputs[0]


def _tensor_word(layer) -> str:
    """A tensor's name after its layer: the user's name for the layer, else its catalog layer's (Keras
    numbers its own names per model, which would make a block's bodies differ)."""
    from ..catalog import lookup
    cls = type(layer).__name__
    if not keras_json._automatic(layer.name, cls):
        return layer.name
    spec = lookup(cls)
    return spec.name if spec is not None else keras_json.snake(cls)


class _Scope:
    """The tensors' names in one body being written."""

    def __init__(self, names: dict, taken: set):
        self.names, self.taken = names, taken

    def name(self, tensor) -> str:
        if id(tensor) not in self.names:
            raise _Unwritable()        # a tensor from outside this block, not one of its arguments
        return self.names[id(tensor)]

    def new(self, writer, word: str) -> str:
        return writer.tensor_name(word, self.taken)

    def bind(self, writer, tensor, word: str) -> str:
        self.names[id(tensor)] = name = self.new(writer, word)
        return name
