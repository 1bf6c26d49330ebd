"""A recorded Keras build (keras_record) written as a program's lines: the file's functions as blocks,
loops and consecutive calls of one block as repeats, the rest line by line (keras_json's Writer
writes each layer). What cannot be a block is written inline, its parameters replaced by the formulas
it was given; what cannot be written at all raises Unwritable, and keras_python writes the model flat.
"""
from __future__ import annotations

from ..dims import symbol
from ..sized import Size, formula_of
from . import keras_json
from .keras_json import ImportProblem, Writer
from .keras_record import Applied, Call, Loop, Recorder


def functional_config(model) -> dict:
    """A functional model's config, a subclass's too (Keras serializes a subclass as its own class's
    arguments, not its graph): that of a plain keras.Model over the same tensors."""
    import keras
    config = keras.Model(model.inputs, model.outputs, name=model.name).get_config()
    return {**config, "trainable": model.trainable}


class Unwritable(Exception):
    """This part cannot be written as recorded (a tensor from outside a block, a layer shared across
    blocks): written inline instead, or the model flat."""


class Structured:
    """The lines of a functional model from its recorded build; the block definitions go to the writer."""

    def __init__(self, writer: Writer, model, recorder: Recorder, inputs: dict, parameters):
        self.writer, self.model, self.recorder, self.inputs = writer, model, recorder, inputs
        self.parameters = set(parameters)
        config = functional_config(model)
        self.configs = {layer["name"]: layer for layer in config["layers"]}
        self.layers = {id(layer): layer for layer in model.layers}
        self.uses: dict = {}
        self._count(recorder.items)
        self.instances: dict = {}      # id(shared layer) -> (the scope it is bound in, its name)

    def _count(self, items):
        for item in items:
            if isinstance(item, Applied):
                self.uses[id(item.layer)] = self.uses.get(id(item.layer), 0) + 1
            for inner in [item] if isinstance(item, Call) else getattr(item, "iterations", []):
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
            if isinstance(item, Applied):
                if id(item.layer) in self.layers:        # not a layer of a nested model, run as it was made
                    lines += self.applied(item, scope)
            elif isinstance(item, Call):
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
                raise Unwritable()
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

    def call(self, call: Call, scope, later: set) -> list:
        try:
            block, args = self.block(call)
        except Unwritable:
            return self.inline(call, scope, later)
        inputs = ", ".join(scope.name(t) for t in call.tensors.values())
        tensor = scope.bind(self.writer, call.output, call.function.__name__)
        return [f"{tensor} = {block}({self.arguments(args, call)})({inputs})"]

    def arguments(self, used: list, call: Call) -> str:
        return ", ".join(self.writer.value(self.writer.resolved(call.sizes[p])) for p in used)

    def block(self, call: Call):
        """The block `call` is an application of (its definition written once): its name and parameters."""
        import keras
        if not isinstance(call.output, keras.KerasTensor) or not call.items:
            raise Unwritable()
        writer = self.writer
        outer = writer.seen, writer.subs, dict(self.instances)
        writer.seen, writer.subs = {}, {}
        try:
            scope = _Scope({}, set(call.sizes))
            inputs = [scope.bind(writer, t, key) for key, t in call.tensors.items()]
            body = self.items(call.items, scope, {id(call.output)})
            result = scope.name(call.output)
            if id(call.output) in {id(t) for t in call.tensors.values()}:
                raise Unwritable()
            used = [p for p in call.sizes if p in writer.seen]
            if any(s not in call.sizes for s in writer.seen):
                raise Unwritable()
        except Unwritable:
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

    def inline(self, call: Call, scope, later: set) -> list:
        """The block's lines in the caller's body, its parameters replaced by the formulas it was given."""
        writer = self.writer
        outer = writer.subs
        writer.subs = {symbol(p): formula_of(v).subs(outer, simultaneous=True) for p, v in call.sizes.items()}
        try:
            lines = self.items(call.items, scope, later)
        finally:
            writer.subs = outer
        return lines

    def loop(self, loop: Loop, scope, later: set) -> list:
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
            except Unwritable:
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
        if any(isinstance(item, Loop) for item in items) or any(id(_output(item)) in later for item in items[:-1]):
            return None
        texts = []
        for i, item in enumerate(items):
            inputs = list(item.tensors.values()) if isinstance(item, Call) else item.inputs
            if len(inputs) != 1 or (i and inputs[0] is not _output(items[i - 1])):
                return None
            if isinstance(item, Call):
                try:
                    block, args = self.block(item)
                except Unwritable:
                    return None
                texts.append(f"{block}({self.arguments(args, item)})")
            elif id(item.layer) in self.layers and self.uses[id(item.layer)] == 1 and len(item.outputs) == 1:
                texts.append(self.make(item.layer))
            else:
                return None
        if len(set(texts)) != 1:
            return None
        count = self.writer.value(self.writer.resolved(count))
        source = scope.name(items[0].tensors[next(iter(items[0].tensors))] if isinstance(items[0], Call)
                            else items[0].inputs[0])
        word = items[0].function.__name__ if isinstance(items[0], Call) else _tensor_word(items[0].layer)
        tensor = scope.bind(self.writer, _output(items[-1]), word)
        return [f"{tensor} = repeat({count}, {texts[0]})({source})"]


def _run(items: list, i: int) -> list:
    """The calls of one block function from items[i] on, each given the last one's output alone."""
    run = [items[i]]
    for item in items[i + 1:]:
        if not isinstance(item, Call) or item.function is not run[0].function or \
                list(map(id, item.tensors.values())) != [id(run[-1].output)]:
            break
        run.append(item)
    return run


def _produced(items) -> set:
    """The tensors these items (and the items inside them) give."""
    return _tensors(items, lambda a: a.outputs, lambda c: [c.output])


def _consumed(items) -> set:
    """The tensors these items (and the items inside them) read."""
    return _tensors(items, lambda a: a.inputs, lambda c: c.tensors.values())


def _tensors(items, of_applied, of_call) -> set:
    found = set()
    for item in items:
        if isinstance(item, Applied):
            found.update(map(id, of_applied(item)))
        elif isinstance(item, Call):
            found.update(map(id, of_call(item)))
            found |= _tensors(item.items, of_applied, of_call)
        else:
            for iteration in item.iterations:
                found |= _tensors(iteration.items, of_applied, of_call)
    return found


def _output(item):
    return item.output if isinstance(item, Call) else item.outputs[0]


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
            raise Unwritable()        # a tensor from outside this block, not one of its arguments
        return self.names[id(tensor)]

    def new(self, writer, word: str) -> str:
        return writer.tensor_name(word, self.taken)

    def bind(self, writer, tensor, word: str) -> str:
        self.names[id(tensor)] = name = self.new(writer, word)
        return name
