"""A Keras 3 model's JSON config (a `.keras` file's config.json, or `model.to_json()`) as a program.

Nothing of the model is executed: the JSON is read as data. Each layer's class is looked up in the
catalog by its Keras name and its config's keys are the catalog's arguments (the catalog speaks
Keras), written only where they differ from the catalog's default. A functional model's layer
calls (`inbound_nodes`) become lines in dependency order; a layer called several times is a bound
instance applied several times; a nested model is a block; `trainable: false` is `trainable=false`.
The Writer is keras_python's too: there the sizes in the configs are Sizes, written as formulas.
"""
from __future__ import annotations

import inspect
import json
import keyword
import re
import zipfile
from pathlib import Path

from ..errors import SymparamsError
from ..sized import Size, language

_MODELS = ("Sequential", "Functional", "Model")
_FUNCTIONAL = ("Functional", "Model")     # nested models that start with a node of their own
# Keras classes read by the catalog entry of another Keras name, and the config key its argument reads:
# RNN(cell) is the rnn entry given a cell (catalog/recurrent.py).
_READ_AS = {"RNN": "rnn"}
_KEYS = {("RNN", "units"): "cell"}
# Config keys that would change a count the catalog does not model: refused, not ignored.
_UNSUPPORTED_KEYS = ("lora_rank",)
# Keras's spelling of what the catalog's default None means.
_SAME_AS_NONE = {("activation", "linear"), ("axis", -1), ("data_format", "channels_last")}
# Arguments that are sizes, where a --symbol's value becomes its name.
_SIZES = {"units", "filters", "input_dim", "output_dim", "num_heads", "key_dim", "value_dim", "target_shape",
          "output_shape", "n", "num_query_heads", "num_key_value_heads", "head_dim"}


class ImportProblem(SymparamsError):
    kind = "import error"


def read(source: str) -> tuple[dict, str]:
    """The model's config from a .keras file (a zip holding config.json) or a JSON file."""
    path = Path(source)
    try:
        if zipfile.is_zipfile(path):
            with zipfile.ZipFile(path) as archive:
                if "config.json" not in archive.namelist():
                    raise ImportProblem(f"{source} holds no config.json",
                                        hint="a .keras file saved by model.save(), or model.to_json()'s text")
                text = archive.read("config.json").decode()
        else:
            text = path.read_text()
    except OSError as e:
        raise SymparamsError(f"cannot read the model: {e.strerror}").attach(None, source) from None
    try:
        config = json.loads(text)
    except json.JSONDecodeError as e:
        raise ImportProblem(f"{source} is not JSON: {e.msg} at line {e.lineno}") from None
    if not isinstance(config, dict) or config.get("class_name") not in _MODELS:
        found = config.get("class_name") if isinstance(config, dict) else type(config).__name__
        raise ImportProblem(f"{source} is not a Keras model's config (found {found!r})",
                            hint="a .keras file, or the JSON of model.to_json(), of a Sequential or functional model")
    return config, source


def is_keras(source: str) -> bool:
    """A .keras file, or a JSON file holding a Keras model's config (a Hugging Face config.json is not)."""
    if source.endswith(".keras"):
        return True
    if not source.endswith(".json"):
        return False
    try:
        config = json.loads(Path(source).read_text())
    except (OSError, ValueError):
        return False
    return isinstance(config, dict) and config.get("class_name") in _MODELS and "config" in config


def program(config: dict, source: str = "", symbols: dict | None = None) -> str:
    """The program of this model config; `symbols` (name -> value) become the model's parameters."""
    writer = Writer(symbols or {})
    cfg = config["config"]
    name = writer.identifier(cfg.get("name", "model"))
    params, lines = writer.model(config, top=True)
    unused = [s for s in writer.symbols if s not in writer.used]
    if unused:
        raise ImportProblem(f"--symbol {unused[0]}={writer.symbols[unused[0]]}: no size in the model has that value",
                            hint="a width, a number of filters or units, or an input size")
    header = ", ".join([f"{s} = {v}" for s, v in writer.symbols.items()] + writer.free)
    text = [f"# {config['class_name']} model {cfg.get('name', '')!r}{f' from {source}' if source else ''}, "
            "imported by `symparams import`", "# (its JSON config, nothing executed): counted as Keras builds it.",
            "convention keras", ""]
    text += writer.blocks
    text.append(f"model {name}({header}):")
    text += [f"    {line}" for line in lines]
    return "\n".join(text) + "\n"


class Writer:
    """Writes layers and models from their configs. A size is a plain number (a --symbol's name where
    it has that symbol's value) or a `Size` (the Python-builder import), written as its formula with
    `subs` applied: the formulas of a block function's arguments where its body is written inline."""

    def __init__(self, symbols: dict):
        for s in symbols:
            if not re.fullmatch(r"[A-Za-z_]\w*", s):
                raise ImportProblem(f"--symbol {s}: a symbol's name is a word (letters, digits, _)")
        self.symbols = symbols
        self.by_value = {v: s for s, v in symbols.items()}
        self.used: set[str] = set()
        self.subs: dict = {}
        self.seen: dict = {}                     # the symbols the text written so far uses, in order
        self.blocks: list[str] = []
        self.block_names: dict[str, str] = {}    # a block's text -> its name
        self.free: list[str] = []                # symbols of the sizes an input leaves free (None)
        self.taken: set = set()                  # tensor names written at the top level

    # -------------------------------------------------------------- names and values

    def identifier(self, name: str) -> str:
        word = re.sub(r"\W", "_", name) or "layer"
        return f"m_{word}" if word[0].isdigit() else word

    def tensor_name(self, name: str, taken: set) -> str:
        """A tensor's name that hides no layer, block, symbol or keyword."""
        from ..catalog import lookup
        base = self.identifier(name)
        if lookup(base) is not None or keyword.iskeyword(base) or base in self.symbols or base in self.free or \
                base in self.block_names.values() or base in ("input", "repeat", "output", "model", "block"):
            base += "_out"
        word, i = base, 1
        while word in taken:
            word, i = f"{base}_{i}", i + 1
        taken.add(word)
        self.taken.add(word)
        return word

    def value(self, value, size: bool = False) -> str:
        if isinstance(value, bool):
            return "true" if value else "false"
        if isinstance(value, Size):
            self.seen.update(dict.fromkeys(sorted(s.name for s in value.formula.free_symbols)))
            return language(value.formula)
        if isinstance(value, int):
            if size and value in self.by_value:
                self.used.add(self.by_value[value])
                self.seen[self.by_value[value]] = None
                return self.by_value[value]
            return str(value)
        if isinstance(value, float):
            return repr(value)
        if isinstance(value, str):
            return value if re.fullmatch(r"[A-Za-z_]\w*", value) else json.dumps(value)
        if isinstance(value, (list, tuple)):
            if value and all(isinstance(v, int) and not isinstance(v, bool) for v in value) and \
                    len({_key(v) for v in value}) == 1 and not size:
                return self.value(value[0])      # (3, 3) is 3 per axis
            inner = ", ".join(self.value(v, size) for v in value)
            return f"({inner},)" if len(value) == 1 else f"({inner})"
        raise ImportProblem(f"cannot write the value {value!r}")

    def resolved(self, value):
        """A config's value with `subs` applied to its Sizes (one whose formula becomes a number is that int)."""
        if isinstance(value, Size) and self.subs:
            formula = value.formula.subs(self.subs, simultaneous=True)
            return int(value) if formula.is_number else Size(int(value), formula)
        if isinstance(value, (list, tuple)):
            return type(value)(self.resolved(v) for v in value)
        return value

    def free_symbol(self, base: str) -> str:
        """A new symbol without a default: a size the model leaves free."""
        word, i = base, 2
        while word in self.symbols or word in self.free or word in self.taken:
            word, i = f"{base}_{i}", i + 1
        self.free.append(word)
        self.seen[word] = None
        return word

    # -------------------------------------------------------------- one layer

    def call(self, layer: dict) -> str:
        """The catalog call a layer's config makes, without its inputs."""
        from ..catalog import lookup
        cls, cfg = layer["class_name"], layer.get("config", {})
        spec = lookup(_READ_AS.get(cls, cls))
        if spec is None or (spec.keras_name != cls and cls not in _READ_AS):
            raise ImportProblem(f"the Keras layer class {cls} (layer {cfg.get('name', '?')!r}) has no catalog layer",
                                hint="declare a layer for it (docs/blocks.md) and write the program by hand, "
                                     "or see `symparams layers` for the catalog")
        for key in _UNSUPPORTED_KEYS:
            if cfg.get(key) is not None:
                raise ImportProblem(f"layer {cfg.get('name')!r} ({cls}) sets {key}={cfg[key]!r}, which the "
                                    "catalog does not count", hint=f"save the model without {key}")
        backward, forward = cfg.get("backward_layer"), cfg.get("layer")
        if backward and (backward["class_name"], backward["config"].get("units")) != \
                (forward["class_name"], forward["config"].get("units")):
            raise ImportProblem(f"layer {cfg.get('name')!r} (Bidirectional) runs a backward layer unlike its "
                                "forward one", hint="the catalog's bidirectional runs the same layer both ways")
        args, keyword_only = [], False
        for arg, kind, default in spec.arguments:
            required = default is inspect.Parameter.empty
            value = _plain(self.resolved(cfg.get(_KEYS.get((cls, arg), arg))), arg in _SIZES)
            if _layer_config(value) or (isinstance(value, tuple) and value and all(map(_layer_config, value))):
                # a layer the layer runs: Bidirectional's, RNN's cell, StackedRNNCells' cells
                text = self.call(value) if isinstance(value, dict) else \
                    "(" + ", ".join(self.call(v) for v in value) + ("," if len(value) == 1 else "") + ")"
                args.append(text if not keyword_only else f"{arg}={text}")
                continue
            if arg == "strides" and default is None and \
                    _key(value) == _key(_plain(self.resolved(cfg.get("pool_size")), False)):
                value = None        # a pooling window's stride is its size unless told otherwise
            if not required and (value is None or _key(value) == _key(default) or
                                  (default is None and (arg, _key(value)) in _SAME_AS_NONE)):
                keyword_only = True
                continue
            if value is None or isinstance(value, dict):
                raise ImportProblem(f"layer {cfg.get('name')!r} ({cls}): the import cannot read its {arg} "
                                    f"({value!r})", hint="declare a layer for it (docs/blocks.md)")
            text = self.value(value, arg in _SIZES)
            args.append(text if required and not keyword_only else f"{arg}={text}")
            keyword_only = keyword_only or not required
        name = cfg.get("name", "")
        if name and not _automatic(name, cls):
            args.append(f"name={self.identifier(name)}")
        if cfg.get("trainable") is False:
            args.append("trainable=false")
        return f"{_READ_AS.get(cls, spec.name)}({', '.join(args)})"

    # -------------------------------------------------------------- models

    def model(self, config: dict, top: bool) -> tuple[list, list]:
        """The parameters (input names) and lines of a Sequential or functional model."""
        if config["class_name"] == "Sequential":
            return self.sequential(config, top)
        return self.functional(config, top)

    def input_line(self, name: str, layer_cfg: dict) -> str:
        """The input's line; an axis Keras leaves free (`keras.Input((None, 8))`) is a symbol of its own,
        without a default, named after the input (`inputs_len`; `inputs_len1`, `inputs_len2` for several)."""
        shape = layer_cfg.get("batch_shape") or layer_cfg.get("batch_input_shape")
        if not shape:
            raise ImportProblem(f"the input {layer_cfg.get('name', name)!r} has no shape",
                                hint="give keras.Input the sizes of an example (None for a free one)")
        free = [i for i, d in enumerate(shape[1:], 1) if d is None]
        dims = ", ".join(self.value(d, size=True) if d is not None else
                         self.free_symbol(f"{name}_len" + (str(i) if len(free) > 1 else ""))
                         for i, d in enumerate(shape[1:], 1))
        ints = "int" in str(layer_cfg.get("dtype", ""))
        return f"{name} = input ({dims}){' int' if ints else ''}"

    def sequential(self, config: dict, top: bool) -> tuple[list, list]:
        cfg = config["config"]
        layers = list(cfg["layers"])
        lines, taken = [], set()
        first = layers[0] if layers else None
        if first and first["class_name"] == "InputLayer":
            layers = layers[1:]
            if top:
                lines.append(self.input_line("x", first["config"]).split(" = ", 1)[1])
        elif top:
            shape = cfg.get("build_input_shape")
            if not shape:
                raise ImportProblem(f"the Sequential model {cfg.get('name')!r} has no input shape",
                                    hint="build it with keras.Input(shape=...) first")
            lines.append(self.input_line("x", {"batch_shape": shape}).split(" = ", 1)[1])
        if not layers:
            raise ImportProblem(f"the Sequential model {cfg.get('name')!r} has no layers")
        for layer in layers:
            call = self.nested(layer, 1) if layer["class_name"] in _MODELS else self.call(layer)
            lines.append(call if top else f"x = {call}(x)")
        taken.add("x")
        return ["x"], lines

    def nested(self, layer: dict, n_inputs: int) -> str:
        """A nested model as a block (one definition per distinct body); its call without inputs."""
        outer, self.seen = self.seen, {}
        params, body = self.model(layer, top=False)
        body[-1] = "return " + body[-1].split(" = ", 1)[1]
        used = [s for s in self.symbols if s in self.seen] + [s for s in self.seen if s not in self.symbols]
        self.seen = {**outer, **dict.fromkeys(used)}
        text = f"({', '.join(used)})({', '.join(params)}):\n" + "".join(f"    {line}\n" for line in body)
        if text not in self.block_names:
            base = self.identifier(layer["config"].get("name", "block"))
            name, i = base, 2
            while name in self.block_names.values():
                name, i = f"{base}_{i}", i + 1
            self.block_names[text] = name
            self.blocks.append(f"block {name}{text}")
        name = layer["config"].get("name", "")
        extra = [f"name={self.identifier(name)}"] if name and not _automatic(name, layer["class_name"]) else []
        extra += ["trainable=false"] if layer["config"].get("trainable") is False else []
        return f"{self.block_names[text]}({', '.join(used + extra)})"

    def functional(self, config: dict, top: bool) -> tuple[list, list]:
        cfg = config["config"]
        layers = {layer["name"]: layer for layer in cfg["layers"]}
        names: dict = {}         # (layer, node index) -> tensor name
        taken: set = set()
        lines, params = [], []
        for ref in _refs(cfg["input_layers"]):
            layer = layers[ref[0]]
            given = ref[0] if not _automatic(ref[0], "InputLayer") else "inputs" if len(_refs(cfg["input_layers"])) == 1 \
                else f"x{len(params)}"
            names[(ref[0], 0)] = tensor = self.tensor_name(given, taken) if top else f"x{len(params)}"
            taken.add(tensor)
            params.append(tensor)
            if top:
                lines.append(self.input_line(tensor, layer["config"]))
        if not top and len(params) == 1:
            names[(_refs(cfg["input_layers"])[0][0], 0)] = params[0] = "x"
        calls = [(layer, i, node) for layer in cfg["layers"] if layer["class_name"] != "InputLayer"
                 for i, node in enumerate(layer["inbound_nodes"])]
        instances: dict = {}
        while calls:
            ready = next((c for c in calls if all((r[0], r[1]) in names for r in _tensors(c[2]))), None)
            if ready is None:
                raise ImportProblem(f"the layer calls of {cfg.get('name')!r} do not form a graph from its inputs")
            calls.remove(ready)
            layer, i, node = ready
            refs = _tensors(node)
            for r in refs:
                if r[2] != 0:
                    raise ImportProblem(f"layer {r[0]!r} has several outputs; the import reads one per layer")
            many = len(layer["inbound_nodes"]) > 1
            make = self.nested(layer, len(refs)) if layer["class_name"] in _MODELS else self.call(layer)
            if many:
                if layer["name"] not in instances:
                    nested = layer["class_name"] in _MODELS
                    instances[layer["name"]] = bound = self.tensor_name(
                        layer["name"] + ("_shared" if nested else ""), taken)
                    lines.append(f"{bound} = {make.replace(f', name={bound})', ')').replace(f'(name={bound})', '()')}")
                make = instances[layer["name"]]
            tensor = self.tensor_name(layer["name"] + ("_out" if many else "") + (f"_{i}" if i else ""), taken)
            names[(layer["name"], i)] = tensor
            args = ", ".join(names[(r[0], r[1])] for r in refs)
            lines.append(f"{tensor} = {make}({args})")
        # A nested functional model's own construction is its node 0, which its config leaves out of
        # inbound_nodes but counts in output_layers (keras's functional_from_config takes 1 off).
        outputs = [names[(r[0], r[1] - (layers[r[0]]["class_name"] in _FUNCTIONAL))]
                   for r in _refs(cfg["output_layers"])]
        if len(outputs) != 1:
            if not top:
                raise ImportProblem(f"the nested model {cfg.get('name')!r} has {len(outputs)} outputs",
                                    hint="a block returns one tensor")
            lines.append(f"output {', '.join(outputs)}")
        elif lines[-1].split(" = ")[0] != outputs[0]:
            if not top:
                lines.append(f"out = identity()({outputs[0]})")
            else:
                lines.append(f"output {outputs[0]}")
        return params, lines


def _plain(value, size: bool):
    """JSON lists as tuples, and (3, 3) as 3 (the same per axis) unless the value is a shape."""
    if isinstance(value, (list, tuple)):
        value = tuple(_plain(v, size) for v in value)
        if value and not size and all(isinstance(v, int) and not isinstance(v, bool) for v in value) and \
                len({_key(v) for v in value}) == 1:
            return value[0]
    return value


def _layer_config(value) -> bool:
    return isinstance(value, dict) and "class_name" in value and "config" in value


def _key(value):
    """What a value is for comparing: a Size's formula, never its value (`strides=s` is not the default
    1 because s is 1 here)."""
    if isinstance(value, Size) and not value.formula.is_number:
        return ("formula", value.formula)
    if isinstance(value, (list, tuple)):
        return tuple(_key(v) for v in value)
    if isinstance(value, int) and not isinstance(value, bool):
        return int(value)
    return value


def snake(cls: str) -> str:
    """Keras's name for layers of a class: Conv2D's are conv2d, BatchNormalization's batch_normalization."""
    return re.sub(r"([a-z])([A-Z])", r"\1_\2", re.sub(r"(.)([A-Z][a-z]+)", r"\1_\2", cls)).lower()


def _automatic(name: str, cls: str) -> bool:
    """Keras's own name for a layer of this class (conv2d, dense_3, forward_lstm), or the one `symparams
    export` gives it (its catalog name, numbered: linear_1, maxpool1d_2): not worth writing."""
    from ..catalog import lookup
    if re.fullmatch(rf"(forward_|backward_)?{re.escape(snake(cls))}(_\d+)?", name):
        return True
    spec = lookup(re.sub(r"_\d+$", "", name))
    return spec is not None and spec.keras_name == cls


def _refs(value) -> list:
    """input_layers/output_layers: one [name, node, tensor] triple, or a list of them."""
    if value and isinstance(value[0], str):
        return [value]
    return list(value)


def _tensors(node) -> list:
    """The (layer, node, tensor) histories of the Keras tensors a call takes, in order."""
    found = []

    def walk(x):
        if isinstance(x, dict):
            if x.get("class_name") == "__keras_tensor__":
                found.append(tuple(x["config"]["keras_history"]))
            else:
                for v in x.values():
                    walk(v)
        elif isinstance(x, (list, tuple)):
            for v in x:
                walk(v)
    walk(node.get("args", []))
    walk(node.get("kwargs", {}))
    return found
