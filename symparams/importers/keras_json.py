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
from ..syntax import read_json
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
    """The model's config from a .keras file (a zip holding config.json) or a JSON file: bounded,
    decoded and parsed as syntax.read_json does, then its structure checked (`validate`) before
    anything reads it."""
    path = Path(source)
    shown = source
    try:
        zipped = zipfile.is_zipfile(path)
    except OSError:
        zipped = False
    if zipped:
        try:
            with zipfile.ZipFile(path) as archive:
                names = archive.namelist()
        except (zipfile.BadZipFile, OSError, ValueError) as e:
            raise ImportProblem(f"cannot read the .keras file: {e}").attach(None, source) from None
        if "config.json" not in names:
            raise ImportProblem("the file holds no config.json",
                                hint="a .keras file saved by model.save(), or model.to_json()'s text"
                                ).attach(None, source)
        config = read_json(path, "the model's config", member="config.json", problem=ImportProblem)
        shown = f"{source}:config.json"
    else:
        config = read_json(path, "the model", problem=ImportProblem)
    if not isinstance(config, dict) or config.get("class_name") not in _MODELS:
        found = config.get("class_name") if isinstance(config, dict) else None
        what = f"its class_name is {json.dumps(found)}" if isinstance(config, dict) and "class_name" in config \
            else f"it is {_kind(config)} without a class_name"
        raise ImportProblem(f"not a Keras model's config: {what}",
                            hint="a .keras file, or the JSON of model.to_json(), of a Sequential or functional "
                                 "model (class_name Sequential, Functional or Model)").attach(None, shown)
    try:
        validate(config)
    except SymparamsError as e:
        raise e.attach(None, shown) from None
    return config, source


def is_keras(source: str) -> bool:
    """A .keras file, or a JSON file holding a Keras model's config (a Hugging Face config.json is not)."""
    if source.endswith(".keras"):
        return True
    if not source.endswith(".json"):
        return False
    try:
        config = read_json(source, "the model")
    except SymparamsError:
        return False           # the Hugging Face reader, or the caller, says what is wrong with it
    return isinstance(config, dict) and config.get("class_name") in _MODELS and "config" in config


# -------------------------------------------------------------------------- the structure, checked

def _kind(value) -> str:
    """A JSON value's kind in words."""
    return {dict: "an object", list: "a list", str: "a string", bool: "true or false", int: "a number",
            float: "a number", type(None): "null"}.get(type(value), type(value).__name__)


def _expect(value, kinds, path: str, what: str):
    """`value` if it is one of `kinds`, else an ImportProblem naming the JSON path."""
    if isinstance(value, bool) and bool not in kinds or not isinstance(value, kinds):
        raise ImportProblem(f"{path}: expected {what}, found {_kind(value)}"
                            f"{f' ({_shown(value)})' if isinstance(value, (str, int, float)) else ''}",
                            hint="the JSON of a Keras model as model.to_json() or model.save() writes it")
    return value


def _shown(value) -> str:
    text = json.dumps(value)
    return text if len(text) <= 40 else text[:37] + "..."


def _ref(value, path: str) -> tuple:
    """A [layer name, node index, tensor index] reference."""
    _expect(value, (list,), path, "a [layer name, node index, tensor index] list")
    if len(value) != 3:
        raise ImportProblem(f"{path}: expected a [layer name, node index, tensor index] list, found {len(value)} "
                            "items")
    _expect(value[0], (str,), f"{path}[0]", "a layer's name")
    for i in (1, 2):
        if _expect(value[i], (int,), f"{path}[{i}]", "a whole number") < 0:
            raise ImportProblem(f"{path}[{i}]: expected a whole number >= 0, found {value[i]}")
    return tuple(value)


def _refs_checked(value, path: str) -> list:
    _expect(value, (list,), path, "a list of [layer name, node index, tensor index]")
    if value and isinstance(value[0], str):
        return [_ref(value, path)]
    return [_ref(v, f"{path}[{i}]") for i, v in enumerate(value)]


def validate(config, path: str = "") -> None:
    """Check the structure every reader of a model's config relies on, each field's type and shape,
    so a malformed file is one message naming its JSON path (`config.layers[2].config.name: expected
    a string, found a list`), never a crash further on."""
    at = (lambda key: f"{path}.{key}" if path else key)
    _expect(config, (dict,), path or "the model", "an object with class_name and config")
    cls = _expect(config.get("class_name"), (str,), at("class_name"), "a class name")
    cfg = _expect(config.get("config"), (dict,), at("config"), "an object")
    if "name" in cfg:
        _expect(cfg["name"], (str,), at("config.name"), "a string")
    layers = _expect(cfg.get("layers"), (list,), at("config.layers"), "a list of layers")
    names = set()
    for i, layer in enumerate(layers):
        where = at(f"config.layers[{i}]")
        _expect(layer, (dict,), where, "a layer (an object with class_name and config)")
        lcls = _expect(layer.get("class_name"), (str,), f"{where}.class_name", "a class name")
        lcfg = _expect(layer.get("config", {}), (dict,), f"{where}.config", "an object")
        if "name" in lcfg:
            _expect(lcfg["name"], (str,), f"{where}.config.name", "a string")
        if lcls in _MODELS:
            validate(layer, where)
        else:
            _layer_fields(lcfg, f"{where}.config")
        if cls != "Sequential":
            name = _expect(layer.get("name", lcfg.get("name")), (str,), f"{where}.name", "the layer's name")
            layer.setdefault("name", name)
            names.add(name)
            if lcls != "InputLayer":
                nodes = _expect(layer.get("inbound_nodes", []), (list,), f"{where}.inbound_nodes", "a list of calls")
                layer.setdefault("inbound_nodes", nodes)
                for j, node in enumerate(nodes):
                    _node(node, f"{where}.inbound_nodes[{j}]")
    if cls == "Sequential":
        if "build_input_shape" in cfg and cfg["build_input_shape"] is not None:
            _shape(cfg["build_input_shape"], at("config.build_input_shape"))
        return
    for key in ("input_layers", "output_layers"):
        refs = _refs_checked(cfg.get(key), at(f"config.{key}"))
        if not refs:
            raise ImportProblem(f"{at(f'config.{key}')}: the model names no {key.split('_')[0]}")
        for j, r in enumerate(refs):
            if r[0] not in names:
                raise ImportProblem(f"{at(f'config.{key}')}: no layer is named {_shown(r[0])}",
                                    hint="each [name, node, tensor] names a layer of config.layers")


def _layer_fields(cfg: dict, path: str) -> None:
    """A layer config's fields the import reads by structure: the shapes of an input, the layers a
    wrapper runs."""
    for key in ("batch_shape", "batch_input_shape"):
        if cfg.get(key) is not None:
            _shape(cfg[key], f"{path}.{key}")
    for key in ("layer", "backward_layer", "cell"):
        value = cfg.get(key)
        if isinstance(value, dict):
            _expect(value.get("class_name"), (str,), f"{path}.{key}.class_name", "a class name")
            _layer_fields(_expect(value.get("config", {}), (dict,), f"{path}.{key}.config", "an object"),
                          f"{path}.{key}.config")
    cells = cfg.get("cells")
    if isinstance(cells, list):
        for i, cell in enumerate(cells):
            if isinstance(cell, dict):
                _expect(cell.get("class_name"), (str,), f"{path}.cells[{i}].class_name", "a class name")
                _expect(cell.get("config", {}), (dict,), f"{path}.cells[{i}].config", "an object")


def _shape(value, path: str) -> None:
    _expect(value, (list,), path, "a shape: a list of sizes (null for the batch or a free size)")
    for i, d in enumerate(value):
        if d is not None and (_expect(d, (int,), f"{path}[{i}]", "a size (a whole number or null)") < 1):
            raise ImportProblem(f"{path}[{i}]: expected a size >= 1, found {d}")


def _node(node, path: str) -> None:
    """One call of a layer: its args and kwargs, each Keras tensor a [layer, node, tensor] history."""
    _expect(node, (dict,), path, "a call (an object with args and kwargs)")

    def walk(x, where):
        if isinstance(x, dict):
            if x.get("class_name") == "__keras_tensor__":
                inner = _expect(x.get("config"), (dict,), f"{where}.config", "an object")
                _ref(inner.get("keras_history"), f"{where}.config.keras_history")
            else:
                for k, v in x.items():
                    walk(v, f"{where}.{k}")
        elif isinstance(x, list):
            for i, v in enumerate(x):
                walk(v, f"{where}[{i}]")
    walk(_expect(node.get("args", []), (list,), f"{path}.args", "a list"), f"{path}.args")
    walk(_expect(node.get("kwargs", {}), (dict,), f"{path}.kwargs", "an object"), f"{path}.kwargs")


def program(config: dict, source: str = "", symbols: dict | None = None) -> str:
    """The program of this model config; `symbols` (name -> value) become the model's parameters."""
    try:
        validate(config)
        return _program(config, source, symbols)
    except SymparamsError as e:
        raise e.attach(None, source or None) from None
    except (KeyError, TypeError, AttributeError, IndexError, ValueError) as e:
        # validate() checks the structure the writer reads; a field it misses is still this file's fault
        raise ImportProblem(f"the import cannot read this model's config ({type(e).__name__}: {e})",
                            hint="the JSON of a Keras model as model.to_json() or model.save() writes it; "
                                 "if Keras itself reads this file, please report it").attach(None, source or None) \
            from None


def _program(config: dict, source: str, symbols: dict | None) -> str:
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
        outputs = []
        for r in _refs(cfg["output_layers"]):
            key = (r[0], r[1] - (layers[r[0]]["class_name"] in _FUNCTIONAL))
            if key not in names:
                raise ImportProblem(f"output_layers of {cfg.get('name')!r}: layer {r[0]!r} has no call {r[1]}",
                                    hint="each [name, node, tensor] names a call of a layer in config.layers")
            outputs.append(names[key])
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
