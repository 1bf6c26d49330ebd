"""Any Hugging Face model type, through transformers itself: the general route.

Where no template knows a config's `model_type` (or its head), transformers builds the model from
the config on the meta device (no weights, nothing downloaded) with every whole-number field of the
config a `sized.Size`. The modeling code's own arithmetic then keeps the formulas —
`hidden_size // num_attention_heads`, `num_key_value_heads * head_dim` — and each weight made from
such sizes remembers its shape in the config's names (`_Shapes`). Nothing is guessed from equal
values: a weight whose shape no formula reached is written as the number it is, and the formula is
checked by rebuilding at other field values (tests/test_hf_general.py).

The program is written from the module tree: the base model's children in the order the forward
pass calls them, a run of identical layers as one `repeat` (over `num_hidden_layers` where that is
its length), `nn.Embedding` and `nn.Linear` as the catalog's layers, every other module as a
declared layer carrying its weights' formulas. A forward pass on meta at three sequence lengths,
counted by `FlopCounterMode`, gives each layer's MACs as a polynomial in the sequence length; the
program states the formula built from the layer's projections and its attention's geometry only
where it equals that polynomial, and refuses the model otherwise (no MACs figure is ever a guess).
"""
from __future__ import annotations

import contextlib
import re
from dataclasses import dataclass, field

import sympy as sp

from ...sized import Size, formula_of, language
from .parts import ImportProblem

SEQUENCE = sp.Symbol("t", integer=True, positive=True)
PROBES = (7, 11, 13)          # sequence lengths of the three measured forward passes


# ------------------------------------------------------------------------------ fields as sizes

class Field(Size):
    """A Size that logs every size computed from it, so a weight made through a float detour can
    still be matched to one formula of the modeling code's — only where exactly one has its value."""
    seen: dict[int, set] = {}
    divisions: dict = {}          # (a, b) formulas of every whole division: the model's `where a % b == 0`

    def __floordiv__(self, other):
        if isinstance(other, int) and not isinstance(other, bool) and other and int(self) % int(other) == 0:
            return self._exact(self.formula, formula_of(other), int(self) // int(other))
        return super().__floordiv__(other)

    def __rfloordiv__(self, other):
        if isinstance(other, int) and not isinstance(other, bool) and int(self) and int(other) % int(self) == 0:
            return self._exact(formula_of(other), self.formula, int(other) // int(self))
        return super().__rfloordiv__(other)

    def _exact(self, a, b, value):
        """a // b where b divides a at the config's values: the exact quotient, under the condition
        that it stays whole (transformers would floor it; the formula holds where the condition does)."""
        if not b.is_number or not a.is_number:
            Field.divisions[(a, b)] = None
        result = Field(value, a / b)
        Field.seen.setdefault(value, set()).add(result.formula)
        return result

    def _with(self, other, value, combine):
        result = super()._with(other, value, combine)
        if isinstance(result, Size) and not isinstance(result, Field):
            result = Field(int(result), result.formula)
            Field.seen.setdefault(int(result), set()).add(result.formula)
        return result


def _symbol(name: str) -> sp.Symbol:
    return sp.Symbol(name, integer=True, positive=True)


def _sized_fields(config, derived=frozenset(), prefix: str = "") -> dict[str, int]:
    """Replace each whole-number field of `config` (and of its sub-configs: text_config, ...) by a
    Field named as the config spells it; NAME -> value. A `derived` field (one the config computes
    from others, whatever it is given) is no symbol: setting it would change nothing."""
    from transformers import PretrainedConfig
    values = {}
    for name, value in list(vars(config).items()):
        if isinstance(value, PretrainedConfig):
            values.update(_sized_fields(value, frozenset(), prefix + name.removesuffix("_config") + "_"))
        elif type(value) is int and value >= 1 and not name.endswith("_id") and not name.startswith("_") \
                and name not in derived:
            symbol = prefix + name
            setattr(config, name, Field(value, _symbol(symbol)))
            values[symbol] = value
    return values


class _Shapes:
    """Under `torch.overrides.TorchFunctionMode`: the formula of every tensor a factory made from
    Sizes, carried through the operations that keep its shape, and onto the nn.Parameter made of it."""

    def __init__(self):
        import torch
        from torch.overrides import TorchFunctionMode
        self.formulas: dict[int, tuple] = {}
        self.fields: dict[str, int] = {}      # the config's fields as symbols, by value, for `of`
        self._alive = []                      # ids stay unique while the build runs
        shapes = self

        class Mode(TorchFunctionMode):
            def __torch_function__(self, func, types, args=(), kwargs=None):
                kwargs = kwargs or {}
                out = func(*args, **kwargs)
                if isinstance(out, torch.Tensor):
                    shapes._record(func, args, kwargs, out)
                return out

        self.mode = Mode()
        self._parameter_new = torch.nn.Parameter.__new__

    def _record(self, func, args, kwargs, out):
        import torch
        dims = None
        candidates = [kwargs.get("size")] + list(args)
        for c in candidates:
            if isinstance(c, (tuple, list, torch.Size)) and len(c) == out.dim() and all(isinstance(d, int) for d in c):
                if any(isinstance(d, Size) for d in c) and tuple(int(d) for d in c) == tuple(out.shape):
                    dims = tuple(d.formula if isinstance(d, Size) else sp.Integer(d) for d in c)
                    break
        if dims is None and out.dim() and all(isinstance(a, int) for a in args) and \
                any(isinstance(a, Size) for a in args) and tuple(int(a) for a in args) == tuple(out.shape):
            dims = tuple(a.formula if isinstance(a, Size) else sp.Integer(a) for a in args)
        if dims is None and getattr(func, "__name__", "") == "arange":
            ends = [a for a in args if isinstance(a, int)]
            if any(isinstance(a, Size) for a in ends):
                start, end, step = (0, ends[0], 1) if len(ends) == 1 else (*ends[:2], ends[2] if len(ends) > 2 else 1)
                dims = (sp.ceiling((formula_of(end) - formula_of(start)) / formula_of(step)),)
        if dims is None:
            for a in list(args) + list(kwargs.values()):
                if isinstance(a, torch.Tensor) and id(a) in self.formulas and a.shape == out.shape:
                    dims = self.formulas[id(a)]
                    break
        if dims is not None:
            self.formulas[id(out)] = dims
            self._alive.append(out)

    @contextlib.contextmanager
    def watching(self):
        import torch
        original = self._parameter_new
        shapes = self

        def parameter(cls, data=None, requires_grad=True):
            p = original(cls, data, requires_grad)
            if data is not None and id(data) in shapes.formulas:
                shapes.formulas[id(p)] = shapes.formulas[id(data)]
                shapes._alive.append(p)
            return p

        torch.nn.Parameter.__new__ = parameter
        try:
            with self.mode:
                yield
        finally:
            torch.nn.Parameter.__new__ = original

    def of(self, tensor) -> tuple:
        """The tensor's shape as formulas: recorded, else the one formula of the build with its
        value, else the number."""
        if id(tensor) in self.formulas:
            return self.formulas[id(tensor)]
        out = []
        for n in tensor.shape:
            seen = Field.seen.get(int(n), set()) | {_symbol(k) for k, v in self.fields.items() if v == int(n)}
            out.append(next(iter(seen)) if len(seen) == 1 and int(n) > 1 else sp.Integer(int(n)))
        return tuple(out)


# ------------------------------------------------------------------------------ building

def _transformers():
    try:
        import torch  # noqa: F401  (transformers needs it; say so before it fails inside)
        import transformers
    except ImportError:
        raise ImportProblem("this model_type has no template, and the general route builds it with transformers, "
                            "which is not installed",
                            hint="pip install 'symparams[hf]' (transformers, and torch==2.13.0 from the CPU index)") \
            from None
    transformers.logging.set_verbosity_error()
    return transformers


def _model_class(transformers, config, arch: str | None):
    if arch:
        cls = getattr(transformers, arch, None)
        if cls is None:
            raise ImportProblem(f"transformers {transformers.__version__} has no class {arch}",
                                hint="the config's `architectures` names the class that builds the model")
        return cls
    for auto in ("AutoModelForCausalLM", "AutoModel"):
        mapping = getattr(transformers, auto)._model_mapping
        if type(config) in mapping:
            return mapping[type(config)]
    raise ImportProblem(f"transformers builds no model from a {type(config).__name__}",
                        hint="name the class in the config's `architectures`")


def _derived(transformers, model_type, fields, config) -> set:
    """The whole-number fields the config class computes itself (Mamba's intermediate_size from
    expand and hidden_size): given another value, it keeps its own."""
    derived = set()
    for name, value in vars(config).items():
        if type(value) is int and value >= 1 and not name.startswith("_"):
            try:
                again = transformers.AutoConfig.for_model(model_type, **{**fields, name: value + 1})
            except Exception:       # the other value is not valid: the field is the user's to set
                continue
            if getattr(again, name, None) != value + 1:
                derived.add(name)
    return derived


def _made(cls, config):
    """The model with scaled_dot_product_attention, whose calls tell the attention's geometry, where
    the class offers it."""
    try:
        return cls._from_config(config, attn_implementation="sdpa")
    except (ValueError, ImportError):
        return cls._from_config(config, attn_implementation="eager")


def build(config_dict: dict, symbolic: bool = True):
    """(model, fields, shapes, class name): the model transformers builds from the config, on meta."""
    transformers = _transformers()
    import torch
    model_type = config_dict.get("model_type")
    fields = {k: v for k, v in config_dict.items() if k not in ("model_type", "architectures", "transformers_version")}
    try:
        config = transformers.AutoConfig.for_model(model_type, **fields)
    except Exception as e:      # the user's config: transformers' own complaint, in its words
        raise ImportProblem(f"transformers cannot read this config: {type(e).__name__}: {str(e)[:300]}",
                            hint="model_type names one of transformers' model types (its CONFIG_MAPPING)") from None
    archs = config_dict.get("architectures")
    arch = archs[0] if isinstance(archs, list) and len(archs) == 1 and isinstance(archs[0], str) else None
    cls = _model_class(transformers, config, arch)
    Field.seen, Field.divisions = {}, {}
    values = _sized_fields(config, _derived(transformers, model_type, fields, config)) if symbolic else {}
    shapes = _Shapes()
    shapes.fields = values
    try:
        with torch.device("meta"), shapes.watching():
            model = _made(cls, config)
    except Exception as e:
        raise ImportProblem(f"transformers could not build {cls.__name__} from this config on the meta device: "
                            f"{type(e).__name__}: {e}") from None
    model.eval()
    return model, values, shapes, cls.__name__


# ------------------------------------------------------------------------------ the forward pass

def _patched_masks():
    """transformers' mask code looks for packed sequences with `.item()`, which meta tensors cannot
    answer; one unpacked sequence is what the measured pass feeds it."""
    import transformers.masking_utils as masks
    return _swap(masks, "find_packed_sequence_indices", lambda *a, **k: None)


@contextlib.contextmanager
def _swap(owner, name, value):
    original = getattr(owner, name)
    setattr(owner, name, value)
    try:
        yield
    finally:
        setattr(owner, name, original)


@dataclass
class Entry:
    """The model's main input: its name, the program's input line, and whether its first axis is
    the sequence (so the measured passes vary its length)."""
    name: str
    line: str
    text: bool
    shape: tuple = ()          # an image's (channels, height, width) at the config's values

    def tensors(self, model, tokens: int, device: str) -> dict:
        import torch
        if self.text:
            ids = torch.zeros((1, tokens), dtype=torch.long, device=device)
            out = {self.name: ids}
            if getattr(model.config, "is_encoder_decoder", False):
                out["decoder_input_ids"] = ids
            return out
        return {self.name: torch.zeros((1, *self.shape), device=device)}


def _entry(model) -> Entry:
    name = getattr(model, "main_input_name", "input_ids")
    config = model.config
    if name == "pixel_values":
        size = getattr(config, "image_size", None)
        channels = getattr(config, "num_channels", 3)
        sizes = (size, size) if isinstance(size, int) else tuple(size) if isinstance(size, (list, tuple)) else ()
        if len(sizes) == 2 and all(isinstance(v, int) for v in (*sizes, channels)):
            dims = (channels, *sizes)
            return Entry(name, f"{name} = input ({', '.join(_fmt(formula_of(d)) for d in dims)})", False,
                         tuple(int(d) for d in dims))
    if name != "input_ids":
        raise ImportProblem(f"the general route measures models that read token ids or images; this one reads "
                            f"{name}")
    return Entry(name, f"{name} = input (sequence_length) int", True)


@dataclass
class Call:
    """One unit's first call in a measured forward pass: its input's and output's shapes (batch
    axis first), whether it read the model's input and whether its output fed another unit, and
    the attentions computed inside it."""
    inputs: tuple = ()
    output: tuple | None = None
    output_id: int | None = None
    input_id: int | None = None
    reads_input: bool = False
    attentions: list = field(default_factory=list)   # (heads, kv_heads, queries, keys, key_dim, value_dim)


def _first_tensor(value):
    import torch
    if isinstance(value, torch.Tensor):
        return value
    if isinstance(value, (tuple, list)):
        for v in value:
            t = _first_tensor(v)
            if t is not None:
                return t
    if hasattr(value, "to_tuple"):          # a ModelOutput
        return _first_tensor(value.to_tuple())
    return None


# Where meta tensors cannot take the forward pass (a mask checked with `.item()`), it runs on the
# CPU in weights allocated but never set, for models of at most this many bytes: the shapes and
# products are the same, whatever the numbers.
CPU_PASS_BYTES = 2 * 1024 ** 3


def _measured(model, units, entry: Entry) -> list:
    """The measured passes at the PROBES lengths: on meta, else on the CPU where the model fits."""
    try:
        return [_measure(model, units, entry, t, "meta") for t in PROBES]
    except ImportProblem:
        size = sum(p.numel() * p.element_size() for p in model.parameters())
        size += sum(b.numel() * b.element_size() for b in model.buffers())
        if size > CPU_PASS_BYTES:
            raise
        import torch
        with torch.device("cpu"):      # its twin, with the buffers' values (position ids, tables) set
            twin = _made(type(model), model.config)
        twin.eval()
        modules = dict(twin.named_modules())
        twins = [Unit(u.path, modules[u.path], own=u.own) for u in units]
        return [_measure(twin, twins, entry, t, "cpu") for t in PROBES]


def _measure(model, units, entry: Entry, tokens: int, device: str):
    """The units' calls and MACs in a forward pass over `tokens` positions (one sequence)."""
    import torch
    import torch.nn.functional as F
    from torch.nn.attention import SDPBackend, sdpa_kernel
    from torch.overrides import TorchFunctionMode
    from torch.utils.flop_counter import FlopCounterMode
    calls: dict[int, Call] = {}
    order: list[int] = []
    stack: list[int] = []
    alive = []               # every recorded tensor, so no id is reused within the pass
    handles = []
    inputs = entry.tensors(model, tokens, device)
    given = {id(t) for t in inputs.values()}
    for i, unit in enumerate(units):
        if unit.own:                      # a container's own tensors: no call of their own
            continue

        def pre(module, args, kwargs, i=i):
            stack.append(i)
            if i not in calls:
                x = _first_tensor(list(args) + [kwargs.get(k) for k in ("hidden_states", "input_ids", "inputs_embeds",
                                                                        "pixel_values", "x", "input")])
                calls[i] = Call(inputs=tuple(x.shape) if x is not None else (), input_id=id(x) if x is not None else None,
                                reads_input=x is not None and id(x) in given)
                alive.append(x)
                order.append(i)

        def post(module, args, kwargs, output, i=i):
            stack.pop()
            call = calls[i]
            if call.output is None:
                y = _first_tensor(output)
                call.output = tuple(y.shape) if y is not None else ()
                call.output_id = id(y) if y is not None else None
                alive.append(y)
        handles.append(unit.module.register_forward_pre_hook(pre, with_kwargs=True))
        handles.append(unit.module.register_forward_hook(post, with_kwargs=True))

    scores: dict[int, tuple] = {}       # an eager attention's q k^T, waiting for its product with v
    products = (torch.matmul, torch.Tensor.matmul, torch.Tensor.__matmul__)

    class Attentions(TorchFunctionMode):
        """Records each attention's geometry: a scaled_dot_product_attention call, or an eager
        attention's two products of 4-D tensors, (B, H, t, d) x (B, H, d, s) then x (B, H, s, dv)."""
        def __torch_function__(self, func, types, args=(), kwargs=None):
            kwargs = kwargs or {}
            if func is F.scaled_dot_product_attention and stack:
                q, k, v = args[:3]
                calls[stack[-1]].attentions.append((q.shape[-3], k.shape[-3], q.shape[-2], k.shape[-2], q.shape[-1],
                                                    v.shape[-1]))
            elif func in products and stack and len(args) == 2 and all(
                    isinstance(a, torch.Tensor) and a.dim() == 4 for a in args):
                a, b = args
                i, waiting = stack[-1], scores.get(stack[-1])
                if waiting is not None and tuple(a.shape[-2:]) == waiting[1:3] and a.shape[-3] == waiting[0]:
                    heads, t, s, d = waiting
                    calls[i].attentions.append((heads, b.shape[-3], t, s, d, b.shape[-1]))
                    del scores[i]
                elif a.shape[-1] == b.shape[-2]:
                    scores[i] = (a.shape[-3], a.shape[-2], b.shape[-1], a.shape[-1])
            return func(*args, **kwargs)

    counter = FlopCounterMode(display=False)
    if "use_cache" in _parameters(model):
        inputs["use_cache"] = False
    try:
        # the math kernel: FlopCounterMode does not count the CPU's fused attention
        with torch.no_grad(), _patched_masks(), sdpa_kernel(SDPBackend.MATH), counter, Attentions():
            model(**inputs)
    except Exception as e:
        raise ImportProblem(f"transformers' forward pass of {type(model).__name__} failed on the {device} device: "
                            f"{type(e).__name__}: {str(e)[:300]}") from None
    finally:
        for h in handles:
            h.remove()
    flops = counter.get_flop_counts()
    macs = {}
    for i, unit in enumerate(units):
        key = f"{type(model).__name__}.{unit.path}" if unit.path else type(model).__name__
        macs[i] = 0 if unit.own else sum(flops.get(key, {}).values()) // 2
    return calls, order, macs


def _parameters(model) -> set:
    import inspect
    return set(inspect.signature(model.forward).parameters)


# ------------------------------------------------------------------------------ the module tree

@dataclass
class Unit:
    """A module written as one line of the program."""
    path: str
    module: object
    params: sp.Expr = sp.Integer(0)
    non_trainable: sp.Expr = sp.Integer(0)
    buffers: sp.Expr = sp.Integer(0)
    tied_to: str | None = None               # a Linear whose weight is an Embedding's
    own: bool = False                        # only the module's own tensors: its children are units too


def _expand(module) -> bool:
    """Modules whose children are the program's lines: the model classes, lists of layers, and a
    module holding a list of layers (BERT's encoder)."""
    import torch
    from transformers import PreTrainedModel
    lists = (torch.nn.ModuleList, torch.nn.ModuleDict, torch.nn.Sequential)
    return isinstance(module, (PreTrainedModel, *lists)) or any(isinstance(c, torch.nn.ModuleList)
                                                               for c in module.children())


def _units(model, shapes) -> list[Unit]:
    units, counted = [], {}
    def walk(module, path):
        if any(True for _ in module.named_parameters(recurse=False)) or \
                any(True for _ in module.named_buffers(recurse=False)):
            units.append(_unit(module, path, shapes, counted, own=True))
        for name, child in module.named_children():
            sub = f"{path}.{name}" if path else name
            if _expand(child):
                walk(child, sub)
            else:
                units.append(_unit(child, sub, shapes, counted))
    walk(model, "")
    return units


def _unit(module, path, shapes, counted, own=False) -> Unit:
    import torch
    u = Unit(path, module, own=own)
    for name, p in module.named_parameters(recurse=not own):
        if id(p) in counted:
            if isinstance(module, torch.nn.Linear) and name == "weight":
                u.tied_to = counted[id(p)]
            continue
        counted[id(p)] = path
        n = sp.Mul(*shapes.of(p))
        u.params += n
        if not p.requires_grad:
            u.non_trainable += n
    for name, b in module.named_buffers(recurse=not own):
        if id(b) not in counted:
            counted[id(b)] = path
            u.buffers += sp.Mul(*shapes.of(b))
    return u


# ------------------------------------------------------------------------------ formulas

def _lookup(value: int, module, symbols: dict) -> sp.Expr | None:
    """The one formula with this value: among the sizes the module (and its children) keep as
    attributes, else among every size of the build, else the symbols'."""
    for pool in (_kept_sizes(module), Field.seen.get(value, set()),
                 {_symbol(k) for k, v in symbols.items() if v == value}):
        found = {f for f in pool if _value(f, symbols) == value}
        if len(found) == 1:
            return next(iter(found))
        if len(found) > 1:
            return None
    return None


def _kept_sizes(module) -> set:
    found = set()
    for m in module.modules():
        for v in vars(m).values():
            if isinstance(v, Size):
                found.add(v.formula)
    return found


def _value(formula, symbols: dict, tokens: int | None = None):
    subs = {_symbol(k): v for k, v in symbols.items()}
    if tokens is not None:
        subs[SEQUENCE] = tokens
    try:
        return int(sp.sympify(formula).subs(subs))
    except TypeError:
        return None


def _linear_macs(module, shapes) -> sp.Expr:
    import torch
    total = sp.Integer(0)
    for m in module.modules():
        # nn.Linear's weight is (out, in); GPT-2's Conv1D's (in, out): a product per token either way
        if isinstance(m, torch.nn.Linear) or (type(m).__name__ == "Conv1D" and m.weight.dim() == 2):
            out, inp = shapes.of(m.weight)
            total += SEQUENCE * out * inp
    return total


def _attention_macs(unit, call, symbols):
    """The attentions recorded in the unit, as (macs formula, facts), or None where a size has no
    one formula. The attention module's own sizes name the geometry (transformers' attention
    modules keep head_dim and num_key_value_groups, their config the head counts); each must equal
    what the forward pass handed scaled_dot_product_attention."""
    macs, found = sp.Integer(0), []
    for heads, kv_heads, queries, keys, key_dim, value_dim in call.attentions:
        named = _geometry(unit.module)
        h = named.get("heads") or _lookup(heads, unit.module, symbols)
        d = named.get("head_dim") or _lookup(key_dim, unit.module, symbols)
        dv = d if value_dim == key_dim else _lookup(value_dim, unit.module, symbols)
        g = named.get("kv_heads")
        if g is None and kv_heads != heads:
            g = _lookup(kv_heads, unit.module, symbols)
        elif g is None:
            g = h
        if any(f is None for f in (h, g, d, dv)) or _value(h, symbols) != heads or _value(d, symbols) != key_dim \
                or (kv_heads != heads and _value(g, symbols) != kv_heads):
            return None
        macs += h * SEQUENCE * SEQUENCE * (d + dv)
        found.append((h, g, d, dv, _cache(unit.module, symbols)))
    return macs, found


def _geometry(module) -> dict:
    """heads, kv_heads and head_dim as the attention module inside `module` keeps them."""
    for m in module.modules():
        head_dim = getattr(m, "head_dim", None)
        if not isinstance(head_dim, Size):
            continue
        config = getattr(m, "config", None)
        heads = next((v for v in (getattr(m, "num_heads", None), getattr(m, "num_attention_heads", None),
                                  getattr(config, "num_attention_heads", None)) if isinstance(v, Size)), None)
        kv = next((v for v in (getattr(m, "num_key_value_heads", None), getattr(config, "num_key_value_heads", None))
                   if isinstance(v, Size)), None)
        groups = getattr(m, "num_key_value_groups", None)
        out = {"head_dim": head_dim.formula}
        if heads is not None:
            out["heads"] = heads.formula
            if kv is not None:
                out["kv_heads"] = kv.formula
            elif isinstance(groups, Size):
                out["kv_heads"] = heads.formula / groups.formula
        return out
    return {}


def _cache(module, symbols) -> str:
    causal = [getattr(m, "is_causal", None) for m in module.modules() if hasattr(m, "is_causal")]
    if causal and not any(causal):
        return "cache=none"
    windows = [getattr(m, "sliding_window", None) for m in module.modules()]
    window = next((w for w in windows if isinstance(w, int) and not isinstance(w, bool) and w > 0), None)
    if window is not None:
        return f"cache=window, window={language(formula_of(window))}"
    return "cache=keys"


# ------------------------------------------------------------------------------ the program

class _Numbers(Exception):
    """A size with no formula of the config's fields: the program falls back to this config's numbers."""


def _snake(name: str) -> str:
    return re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", name).lower()


def _line_name(path: str) -> str:
    parts = [p for p in path.split(".") if p and not p.isdigit()]
    return parts[-1] if parts else "model"


@dataclass
class _Line:
    unit: Unit
    text: str                  # the layer call, without its input
    declared: str | None       # the declared layer's text, where the unit is one
    reads_input: bool          # does it read the model's input (else the running tensor)
    feeds: bool                # does its output go on to the next line
    count: int = 1


def program(config: dict, source: str) -> str:
    """The program of any model transformers builds from `config`, as text: in the config's field
    names where its counts, rebuilt by transformers at a second setting of those fields, agree;
    else in this config's numbers, saying why. MACs and shapes are checked there too: MACs that
    disagree are not stated (`macs = not_known`); shapes that disagree make it this config's numbers."""
    try:
        text = _program(config, source, symbolic=True)
        _check_counts(config, text)
        doubt, macs = _unconfirmed(config, text)
        if doubt is None and macs is not None:
            text = _program(config, source, symbolic=True, note=macs, macs=False)
            doubt, _ = _unconfirmed(config, text)
    except _Numbers as e:
        doubt = str(e)
    if doubt is None:
        return text
    text = _program(config, source, symbolic=False, note=doubt)
    _check_counts(config, text)
    return text


def _counts(model) -> tuple:
    return (sum(p.numel() for p in model.parameters()),
            sum(p.numel() for p in model.parameters() if p.requires_grad),
            sum(b.numel() for b in model.buffers()))


def _check_counts(config: dict, text: str) -> None:
    """Refuse a program that is not a valid chain, or whose counts at the config's own values are not
    transformers' (a tensor the module tree did not reach): never a partial model."""
    from ...errors import SymparamsError
    from ...interpreter import parse
    model, *_ = build(config, symbolic=False)
    try:
        ev = parse(text, "config.json").evaluate({})
    except SymparamsError as e:
        raise ImportProblem(f"the general route cannot write {type(model).__name__} as one chain of its layers "
                            f"({e.message.splitlines()[0][:200]})",
                            hint="a template for this model type is needed; please report it with its config.json") \
            from None
    for what, want, have in zip(("parameters", "trainable parameters", "buffer numbers"), _counts(model),
                                (ev.params, ev.trainable, ev.buffers)):
        if want != have:
            raise ImportProblem(f"the general route counts {have:,} {what} where transformers builds {want:,}: "
                                "a part of this model is not reached", hint="a template for this model type is "
                                "needed; please report it with its config.json")


def _unconfirmed(config: dict, text: str) -> tuple[str | None, str | None]:
    """Why the program's counts or output shape do not hold at a second setting of its symbols, and
    why its MACs do not; None where they do. The setting is the boldest of `_second_settings` at
    which transformers both builds the model and runs its forward pass."""
    from ...errors import SymparamsError
    from ...interpreter import parse
    transformers = _transformers()
    import torch
    model = parse(text, "config.json")
    known = {**_defaults(config), **config}
    fields = {k: int(v) for k, v in model.defaults.items() if k in known and k != "sequence_length"}
    if not fields:
        return None, None
    data = {k: v for k, v in config.items() if k not in ("model_type", "architectures", "transformers_version")}
    archs = config.get("architectures")
    tokens, built, failed = PROBES[0], None, None
    for other in _second_settings(fields):
        try:
            rebuilt = transformers.AutoConfig.for_model(config["model_type"], **{**data, **other})
            cls = _model_class(transformers, rebuilt, archs[0] if isinstance(archs, list) and archs else None)
            with torch.device("meta"):
                reference = _made(cls, rebuilt)
        except Exception as e:                   # a setting transformers does not take: try a milder one
            failed = failed or f"rebuilding at {_settings(other)} failed ({type(e).__name__})"
            continue
        built = built or (other, reference)
        try:
            ran = _whole_pass(reference, _entry(reference), tokens)
        except Exception:                        # builds but does not run there (Helium's o_proj)
            continue
        return _compare(model, other, reference, ran, tokens)
    if built is None:
        return failed, None
    other, reference = built                     # counts checked; no forward pass to check the rest
    doubt, _ = _compare(model, other, reference, None, tokens)
    try:
        model.evaluate(other).macs
    except SymparamsError:
        return doubt, None
    return doubt, "its forward pass did not run at any second setting"


def _compare(model, other, reference, ran, tokens) -> tuple[str | None, str | None]:
    from ...errors import SymparamsError
    at = _settings(other)
    try:
        values = {**other, "sequence_length": tokens} if "sequence_length" in model.defaults else other
        ev = model.evaluate(values)
        got = (ev.params, ev.trainable, ev.buffers)
    except SymparamsError as e:                  # the program refuses a setting transformers builds
        return f"at {at} the program refuses: {e.message.splitlines()[0][:120]}", None
    for what, want, have in zip(("parameters", "trainable parameters", "buffer numbers"), _counts(reference), got):
        if want != have:
            return f"at {at} transformers builds {want:,} {what}, the formulas say {have:,}", None
    if ran is None:
        return None, None
    shape, macs = ran
    if tuple(ev.shape(model.output_shape)) != shape[1:]:
        return f"at {at} transformers gives an output of {shape[1:]}, the formulas say {ev.shape(model.output_shape)}", None
    try:
        stated = ev.macs
    except SymparamsError:
        return None, None                         # nothing claimed
    if stated != macs:
        return None, f"at {at} the forward pass makes {macs:,} MACs, the formulas say {stated:,}"
    return None, None


def _second_settings(fields: dict):
    """Settings to check the formulas at, boldest first: every field doubled (a count of layers one
    more); then the heads and their sizes kept; then only the layers, the vocabulary and the widths
    that divide nothing."""
    heads = [k for k in fields if "head" in k or k.endswith("_dim")]
    layers = [k for k in fields if "layer" in k]
    yield {k: v + 1 if k in layers else v * 2 for k, v in fields.items()}
    yield {k: v + 1 if k in layers else v * 2 for k, v in fields.items() if k not in heads}
    yield {k: v + 1 if k in layers else v * 2 for k, v in fields.items()
           if k in layers or "vocab" in k or "intermediate" in k}
    yield {k: v * 2 for k, v in fields.items() if "vocab" in k or "intermediate" in k}   # layer_types fix the depth


def _whole_pass(model, entry: Entry, tokens: int) -> tuple[tuple, int]:
    """The output's shape and the MACs of one forward pass on meta."""
    import torch
    from torch.nn.attention import SDPBackend, sdpa_kernel
    from torch.utils.flop_counter import FlopCounterMode
    inputs = entry.tensors(model, tokens, "meta")
    if "use_cache" in _parameters(model):
        inputs["use_cache"] = False
    counter = FlopCounterMode(display=False)
    with torch.no_grad(), _patched_masks(), sdpa_kernel(SDPBackend.MATH), counter:
        y = _first_tensor(model(**inputs))
    return tuple(y.shape), counter.get_total_flops() // 2


def _defaults(config: dict) -> dict:
    transformers = _transformers()
    return transformers.AutoConfig.for_model(config["model_type"]).to_dict()


def _settings(values: dict) -> str:
    return ", ".join(f"{k}={v}" for k, v in values.items())


def _program(config: dict, source: str, symbolic: bool, note: str | None = None, macs: bool = True) -> str:
    model, values, shapes, arch = build(config, symbolic)
    units = _units(model, shapes)
    w = _Writer(shapes, dict(values), symbolic)
    w.macs = macs
    try:
        w.entry = _entry(model)
        runs = _measured(model, units, w.entry)
        calls, order, _ = runs[0]
        unmeasured = None
    except ImportProblem as e:       # MACs not known; each layer's output taken as its input's shape
        runs, unmeasured = None, e.message
        if w.entry is None:
            name = getattr(model, "main_input_name", "input_ids")
            w.entry = Entry(name, f"{name} = input (sequence_length){' int' if name.endswith('_ids') else ''}", True)
        calls, order = _assumed_calls(units), list(range(len(units)))
    if not w.entry.text:
        w.tokens = None
    listed = list(order) + [i for i in range(len(units)) if i not in calls]
    lines, running = [], None
    for position, i in enumerate(listed):
        call = calls.get(i, Call())
        measured = [run[2][i] for run in runs] if runs else None
        feeds = i in calls and _on_path(call, [calls[j] for j in order[order.index(i) + 1:]], running)
        if feeds:
            running = call.output
        lines.append(w.line(units[i], call, measured, feeds))
    merged: list[_Line] = []
    for line in lines:             # a run of identical layers is one repeat
        if merged and merged[-1].text == line.text and merged[-1].declared == line.declared and \
                _line_name(merged[-1].unit.path) == _line_name(line.unit.path) and line.feeds:
            merged[-1].count += 1
        else:
            merged.append(line)
    layers = values.get("num_hidden_layers")
    body, current = [], w.entry.name
    for k, line in enumerate(merged):
        reads = w.entry.name if line.reads_input else current
        name = _unique(_line_name(line.unit.path), body)
        call = line.text.replace("name=?", f"name={name}")
        if line.count > 1:
            count = "num_hidden_layers" if line.count == layers and symbolic else str(line.count)
            if count == "num_hidden_layers":
                w.used.add("num_hidden_layers")
            call = f"repeat({count}, {call})"
        if call.startswith("embedding("):     # bound to its name, so a tied head can name it
            body.append((name, f"{name} = {call.replace(f', name={name}', '')}"))
            call = name
        target = "logits" if k == len(merged) - 1 and line.feeds and line.text.startswith("dense(") else "x"
        body.append((name, f"{target} = {call}({reads})"))
        current = target
    names = [n for n in w.symbols if n in w.used]
    header = ", ".join(f"{n} = {w.symbols[n]}" for n in names)
    if w.entry.text:
        header += (", " if header else "") + f"sequence_length = {_length(values, model.config)}"
    import transformers
    out = [f"# {arch}, model_type {config.get('model_type')}, imported from {source}",
           f"# by `symparams import` through transformers {transformers.__version__} (no template for this model type):",
           "# counted as transformers builds it from this config; MACs and shapes measured by running its forward pass."
           if not unmeasured else
           "# counted as transformers builds it from this config. Its forward pass did not run, so\n"
           "# the MACs of its own layers are not known and each is taken to keep its input's shape:\n"
           f"# {unmeasured.splitlines()[0][:200]}",
           *([f"# Its formulas are this config's numbers: in the fields' names they did not hold ({note})."]
             if note and not symbolic else
             [f"# Its layers' MACs are not stated: the formulas did not hold ({note})."] if note else []),
           "convention torch", ""]
    for text in dict.fromkeys(line.declared for line in merged if line.declared):
        out += [text, ""]
    out.append(f"model {_model_name(config, source)}({header}):")
    wheres = [f"{_fmt(sp.Mod(a, b, evaluate=False))} == 0" for a, b in Field.divisions
              if not a.is_number and not b.is_number and not (a / b).is_number
              and {str(x) for x in (a / b).free_symbols} <= set(names)]
    if wheres:
        out.append("    where " + ", ".join(dict.fromkeys(wheres)))
    out.append(f"    {w.entry.line}")
    out += [f"    {text}" for _, text in body]
    return "\n".join(out) + "\n"


def _on_path(call, later: list, running) -> bool:
    """Does the unit carry the model's running tensor on: it reads it (or the input, first), and a
    later unit reads what it gives, as that tensor or one of its shape (scaled, dropped out)?"""
    if call.output is None or (running is not None and call.inputs != running and not call.reads_input):
        return False
    if not later or any(c.input_id == call.output_id for c in later):
        return True
    return later[0].inputs == call.output


def _length(values: dict, config) -> int:
    for k in ("max_position_embeddings", "n_positions", "max_seq_len", "seq_length"):
        v = getattr(config, k, None)
        if isinstance(v, int) and not isinstance(v, bool) and v > 0:
            return int(v)
    return 2048


def _unique(name: str, body) -> str:
    taken = {n for n, _ in body}
    if name not in taken:
        return name
    k = 2
    while f"{name}_{k}" in taken:
        k += 1
    return f"{name}_{k}"


def _model_name(config: dict, source: str) -> str:
    from pathlib import Path
    folder = Path(source).parent.name
    family = re.sub(r"[^0-9a-zA-Z_]+", "_", str(config.get("model_type") or "model"))
    name = config.get("_name_or_path") or (folder if not re.fullmatch(r"[0-9a-f]{40}|\.*", folder) else family)
    name = re.sub(r"[^0-9a-zA-Z_]+", "_", Path(str(name)).name).strip("_").lower() or family
    return name if not name[0].isdigit() else f"{family}_{name}"


def _fmt(formula) -> str:
    return language(formula)


def _assumed_calls(units) -> dict:
    """Where the forward pass cannot run: the first embedding reads the input, every other unit
    the running tensor, keeping its shape."""
    import torch
    calls, first = {}, True
    for i, unit in enumerate(units):
        reads = isinstance(unit.module, torch.nn.Embedding) and first
        first = first and not reads
        calls[i] = Call(inputs=(1, 2) if reads else (1, 2, 3), output=(1, 2, 3), output_id=-1 - i, input_id=-i,
                        reads_input=reads)
    return calls


def _checks(formula, measured, symbols, tokens=PROBES) -> bool:
    if measured is None:            # catalog layers' MACs hold wherever they run on the whole sequence
        return True
    return all(_value(formula, symbols, t) == macs for t, macs in zip(tokens, measured))


class _Writer:
    """Writes units as lines, collecting the symbols they use and the layers they declare."""

    def __init__(self, shapes, symbols: dict, symbolic: bool):
        self.shapes, self.symbols, self.symbolic = shapes, symbols, symbolic
        self.used: set = set()
        self.declared: dict = {}
        self.catalog: set = set()          # paths written as catalog embeddings (a head may tie to them)
        self.entry: Entry | None = None
        self.tokens = PROBES[0]
        self.macs = True                   # False where the MACs' formulas failed their second check

    def note(self, *formulas):
        for f in formulas:
            self.used.update(str(s) for s in sp.sympify(f).free_symbols if str(s) in self.symbols)

    def line(self, unit, call, measured, feeds) -> _Line:
        """The catalog's embedding or dense where the unit is one on the model's path, else a
        declared layer with its formulas."""
        import torch
        m = unit.module
        text = self.entry.text
        if type(m) is torch.nn.Embedding and call.reads_input and text and not m.max_norm and feeds:
            n, d = self.shapes.of(m.weight)
            self.note(n, d)
            self.catalog.add(unit.path)
            return _Line(unit, f"embedding({_fmt(n)}, {_fmt(d)}, name=?)", None, True, feeds)
        if type(m) is torch.nn.Linear and feeds and text and len(call.inputs) == 3 and not call.reads_input and \
                (unit.tied_to is None or unit.tied_to in self.catalog):
            out, inp = self.shapes.of(m.weight)
            if _checks(SEQUENCE * out * inp, measured, self.symbols):
                self.note(out, inp)
                tied = f", tied={_line_name(unit.tied_to)}" if unit.tied_to else ""
                return _Line(unit, f"dense({_fmt(out)}, use_bias={'true' if m.bias is not None else 'false'}{tied}, "
                             "name=?)", None, False, feeds)
        return self.declared_line(unit, call, measured, feeds)

    def size(self, value: int, unit) -> sp.Expr:
        """A measured size as a formula: one of the unit's own weights' sizes, else the one formula
        of the build with that value; a number only where formulas are not being written."""
        own = {d for p in unit.module.parameters() for d in self.shapes.of(p) if _value(d, self.symbols) == value}
        own = {d for d in own if not d.is_number} or own
        f = next(iter(own)) if len(own) == 1 else _lookup(value, unit.module, self.symbols)
        if f is not None:
            return f
        if self.symbolic:
            raise _Numbers(f"{unit.path or 'the model'} ({type(unit.module).__name__}) gives a size of {value}, "
                           "which no one formula of the config's fields has")
        return sp.Integer(value)

    def patterns(self, unit, call, feeds) -> tuple[str, str]:
        """The declared layer's input and output patterns, from the measured shapes."""
        if not feeds or not call.inputs or call.output is None or len(call.inputs) < 2:
            return "(x: (*s))", "(*s)"          # beside the path: reads what it reads, passes the tensor on
        names, given = [], {}
        dims = call.inputs[1:]
        for k, v in enumerate(dims):
            name = "t" if self.entry.text and v == self.tokens else \
                "n" if self.entry.text and k == len(dims) - 1 else f"a{k + 1}"
            names.append(name)
            given.setdefault(v, name)
        out = []
        for v in (call.output or ())[1:]:
            if v in given:
                out.append(given[v])
            else:
                f = self.size(v, unit)
                self.note(f)
                out.append(_fmt(f))
        return f"(x: (*, {', '.join(names)}))", f"(*, {', '.join(out)})" if out else "(*)"

    def declared_line(self, unit, call, measured, feeds) -> _Line:
        m = unit.module
        pattern, output = self.patterns(unit, call, feeds)
        facts, lines = [], []
        text = self.entry.text and " t" in " " + pattern.replace("(", " ").replace(",", " ")
        macs = sp.Integer(0) if unit.own or not text else _linear_macs(m, self.shapes)
        attention = _attention_macs(unit, call, self.symbols) if text else None
        if attention is not None:
            macs += attention[0]
            for h, g, d, dv, cache in attention[1]:
                value = f", value_dim={_fmt(dv)}" if dv != d else ""
                facts.append(f"attention = attention(heads={_fmt(h)}, kv_heads={_fmt(g)}, key_dim={_fmt(d)}{value}, "
                             f"queries=t, keys=t, {cache})")
                self.note(h * g * d * dv)
        nothing = measured is not None and not any(measured)
        known = unit.own or nothing or (self.macs and measured is not None and attention is not None and
                                        _checks(macs, measured, self.symbols))
        for key, formula in (("params", unit.params), ("non_trainable", unit.non_trainable),
                             ("buffers", unit.buffers)):
            if formula != 0:
                lines.append(f"{key} = {_fmt(formula)}")
                self.note(formula)
        if known and not nothing and macs != 0:
            lines.append(f"macs = {_fmt(macs)}")
            self.note(macs)
        elif not known:
            lines.append("macs = not_known")
        lines += facts[:1] + ["saved = not_known"]
        args = sorted({n for line in lines + [output] for n in _symbols_in(line, self.symbols)})
        self.used.update(args)
        name = _snake(type(m).__name__) + ("_tensors" if unit.own else "")
        body = "\n    ".join(lines)
        head = f"({', '.join(args)}){pattern} -> {output}:"
        key = (name, head, body)
        if key not in self.declared:
            taken = set(self.declared.values())
            base, k = name, 2
            while name in taken or _catalog_has(name):
                name, k = f"{base}_{k}", k + 1
            self.declared[key] = name
        name = self.declared[key]
        return _Line(unit, f"{name}({', '.join(args)}{', ' if args else ''}name=?)", f"layer {name}{head}\n    {body}",
                     call.reads_input, feeds)


def _symbols_in(text, symbols):
    return [n for n in re.findall(r"[A-Za-z_][A-Za-z0-9_]*", text) if n in symbols]


def _catalog_has(name: str) -> bool:
    from ...catalog import lookup
    return lookup(name) is not None
