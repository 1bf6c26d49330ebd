"""Any Hugging Face model type, through transformers itself: the general route.

Where no template knows a config's `model_type` (or its head), transformers builds the model from
the config on the meta device (no weights, nothing downloaded) with every whole-number field of the
config a `sized.Size`. The modeling code's own arithmetic then keeps the formulas —
`hidden_size // num_attention_heads`, `num_key_value_heads * head_dim` — and each weight made from
such sizes remembers its shape in the config's names (`_Shapes`). Nothing is guessed from equal
values: a weight whose shape no formula reached is written as the number it is, and the formula is
checked by rebuilding at other field values (tests/test_hf_general.py).

The module tree, the measured pass and the writer are `importers/module_tree.py`'s (the PyTorch
importer's fallback uses them too); this module is the transformers front: the config's fields as
sizes, the model class, the mask patch for meta tensors, the inputs, the rebuild at a second setting.
The program is written from the module tree: the base model's children in the order the forward
pass calls them, a run of identical layers as one `repeat` (over `num_hidden_layers` where that is
its length), `nn.Embedding` and `nn.Linear` as the catalog's layers, every other module as a
declared layer carrying its weights' formulas. A forward pass on meta at three sequence lengths,
counted by `FlopCounterMode`, gives each layer's MACs as a polynomial in the sequence length; the
program states the formula built from the layer's projections and its attention's geometry only
where it equals that polynomial, and refuses the model otherwise (no MACs figure is ever a guess).

An encoder-decoder is two chains: the encoder's (the module `get_encoder()` names) over the main
input, then the decoder's over `decoder_input_ids`, measured at another length (`TARGETS`) so
each projection's and attention's positions have their own symbol (`t` the decoder's, `s` the
encoder's); a decoder layer handed the encoder's output takes it as a second input.
"""
from __future__ import annotations

import contextlib
import copy
import math
import re
from collections import Counter

import sympy as sp

from ...sized import formula_of
from .. import torch_sizes
from ..module_tree import (CPU_PASS_BYTES, PROBES, SEQUENCE, SOURCE, TARGETS, Call, Entry, Factor, Field, Unit,
                           _assumed_calls, _counts, _first_tensor, _fmt, _followed, _line_name, _Line, _Numbers,
                           _of_fields, _on_path, _parameters, _Shapes, _snake, _symbol, _symbols_in, _tensors, _unique,
                           _units, _value,
                           _Writer, called_with, children_macs, forward_counter, measure, one_thread, whole_numbers)
from .parts import ImportProblem


def _sized_fields(config, derived: dict | None = None, prefix: str = "", pinned=frozenset()) -> dict[str, int]:
    """Replace each whole-number field of `config` (and of its sub-configs: text_config, ...) by a
    Field named as the config spells it; NAME -> value. A `derived` field (one the config computes
    from others, whatever it is given) is no symbol, setting it would change nothing: it is its
    formula in the fields it follows, or its number; a `pinned` one is its number. A real field is a
    Factor (`hidden_expansion * encoder_hidden_dim` keeps the size's formula)."""
    from transformers import PretrainedConfig
    values, derived = {}, derived or {}
    for name, value in list(vars(config).items()):
        if isinstance(value, PretrainedConfig):
            values.update(_sized_fields(value, derived, prefix + name.removesuffix("_config") + "_", pinned))
        elif type(value) is int and value >= 1 and not name.endswith("_id") and not name.startswith("_") \
                and prefix + name not in pinned:
            symbol = prefix + name
            if symbol in derived:      # as the fields it follows, where they are known
                if derived[symbol] is not None:
                    setattr(config, name, Field(value, derived[symbol]))
                continue
            setattr(config, name, Field(value, _symbol(symbol)))
            values[symbol] = value
        elif type(value) is float and not name.startswith("_"):
            setattr(config, name, Factor(value))
    return values



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
    # an encoder-decoder's default is the whole of it, not its decoder alone (WhisperForCausalLM)
    autos = ("AutoModelForSeq2SeqLM",) if getattr(config, "is_encoder_decoder", False) else ()
    for auto in (*autos, "AutoModelForCausalLM", "AutoModel", "AutoModelForTextToWaveform"):
        mapping = getattr(transformers, auto)._model_mapping
        if type(config) in mapping:
            found = mapping[type(config)]
            found = found[0] if isinstance(found, (tuple, list)) else found     # (Funnel's: the full model first)
            # a multimodal config's causal LM is its text model's (Qwen3_5ForCausalLM reads a
            # Qwen3_5TextConfig, the type of its text_config): the whole model is the next Auto
            # class's. (A config mapped to another family's class, EXAONE's to Llama's, is not one.)
            if getattr(found, "config_class", None) in {type(v) for v in vars(config).values()
                                                        if isinstance(v, transformers.PretrainedConfig)}:
                continue
            return found
    # a tower's own config (SiglipTextConfig, Qwen2VLVisionConfig), which no Auto class maps: the
    # model class its family's modeling module builds from it, the one named for it first
    named = getattr(transformers, type(config).__name__.removesuffix("Config") + "Model", None)
    if isinstance(named, type) and getattr(named, "config_class", None) is type(config):
        return named                # (BlipTextModel, defined beside its family's modeling module)
    own = _own_classes(transformers, config)
    if own:
        return own[0]
    raise ImportProblem(f"transformers builds no model from a {type(config).__name__}",
                        hint="name the class in the config's `architectures`")


def _own_classes(transformers, config) -> list:
    """The model classes of the config's family whose config is exactly this one, in the order its
    modeling module defines them (a tower before the heads built on it)."""
    import importlib
    try:
        module = importlib.import_module(type(config).__module__.replace(".configuration_", ".modeling_"))
    except ImportError:
        return []
    return [c for c in vars(module).values() if isinstance(c, type) and issubclass(c, transformers.PreTrainedModel)
            and c.__module__ == module.__name__ and getattr(c, "config_class", None) is type(config)
            and not c.__name__.endswith("PreTrainedModel")]


def _fields_of(config: dict) -> dict:
    """A config.json's fields, as a config class takes them (without what names the class)."""
    return {k: v for k, v in config.items() if k not in ("model_type", "architectures", "transformers_version")}


def _whole_fields(config, path: tuple = ()) -> dict:
    """(path of sub-config attributes, field name) -> value, for each whole-number field of the
    config and of its sub-configs (text_config, vision_config, ...)."""
    from transformers import PretrainedConfig
    out = {}
    for name, value in vars(config).items():
        if isinstance(value, PretrainedConfig):
            out.update(_whole_fields(value, path + (name,)))
        elif type(value) is int and value >= 1 and not name.startswith("_") and not name.endswith("_id"):
            out[path, name] = value
    return out


def _field_symbol(key: tuple) -> str:
    """The symbol of a field as `_sized_fields` names it: a tower's fields prefixed by its name."""
    path, name = key
    return "".join(p.removesuffix("_config") + "_" for p in path) + name


def _set_fields(data: dict, values: dict, config, drop: bool = False, lists: bool = False) -> dict:
    """The config's fields `data` with each (path of sub-configs, field) of `values` set (`drop`:
    left out), a tower's in its sub-config: one the fields leave out is the one `config` (the config
    built) holds. A count of layers set drops the list of layer types its config states (a saved
    config.json states it, and transformers refuses one of another length): the config's own
    pattern is then made. Where `lists` (transformers builds nothing from them as they were), so
    are its other lists of an item per layer that are the config's own pattern, and one whose items
    are all alike has as many; any other is left as stated (a pattern of the user's own, which no
    formula carries to another depth)."""
    data = dict(data)
    for (path, name), value in values.items():
        subs, built = [data], config
        for attr in path:
            sub, built = subs[-1].get(attr), getattr(built, attr)
            subs.append(dict(sub) if isinstance(sub, dict) else built.to_dict())
        before = subs[-1][name] if name in subs[-1] else _whole(built, name)
        stated = {**subs[-1], name: before}      # (as the config states them, before any is made again)
        if drop:
            subs[-1].pop(name, None)
        else:
            subs[-1][name] = value
        if "layers" in name and isinstance(subs[-1].get("layer_types"), list) and \
                len(subs[-1]["layer_types"]) != value:
            del subs[-1]["layer_types"]
            if isinstance(subs[-1].get("per_layer_config"), dict):
                subs[-1]["per_layer_config"] = _per_layer(subs[-1], built)
        if lists and _is_depth(name) and not drop and type(before) is int and before != value:
            # a list with an item per layer: one item for all (Gemma 3n's intermediate_size) is that item
            # for each layer now; the config's own pattern (AXK1's mlp_layer_types, one dense layer
            # first) is made again for the new count
            for key, items in stated.items():
                if not (isinstance(items, list) and len(items) == before and items and key != "layer_types"):
                    continue
                if all(item == items[0] for item in items):
                    subs[-1][key] = [copy.deepcopy(items[0]) for _ in range(value)]
                elif _own_pattern(stated, built, key):
                    del subs[-1][key]
        for attr, parent, sub in zip(reversed(path), reversed(subs[:-1]), reversed(subs[1:])):
            parent[attr] = sub
    return data


def _is_heads(name: str) -> bool:
    """Is the field a count of heads (not a head's size)?"""
    return "head" in name and not any(w in name for w in ("dim", "size"))


def _is_depth(name: str) -> bool:
    """Is the field a count of a model's (or a tower's) layers?"""
    return name.endswith(("num_hidden_layers", "num_layers", "n_layer", "n_layers"))


def _own_pattern(fields: dict, built, key: str) -> bool:
    """Is the list `key` of `fields` the one the config (of `built`'s class) makes itself from the rest?"""
    try:
        made = type(built)(**{k: v for k, v in fields.items() if k != key})
    except Exception:
        return False
    return list(getattr(made, key, None) or ()) == list(fields[key])


def _whole(config, name: str):
    """A config's field, None where it has none. One some layers override (Gemma 4's head_dim, its
    full-attention layers' own) is read as the config holds it, the rest of the layers'."""
    whole = getattr(config, "_getattr_without_heterogeneous_validation", None)
    return whole(name, None) if whole is not None else getattr(config, name, None)


def _per_layer(fields: dict, built) -> dict:
    """The overrides a config states per layer (`per_layer_config`, Gemma 4's head_dim of each full
    attention layer) for the layers `fields` now make, each layer's its kind's as before; the stated
    ones where a kind's layers had several."""
    stated = fields["per_layer_config"]
    try:
        at = {int(k): v for k, v in stated.items()}     # (a saved config's keys are strings, "05")
    except ValueError:
        return stated
    kinds: dict = {}
    for i, kind in enumerate(getattr(built, "layer_types", None) or ()):
        if kinds.setdefault(kind, at.get(i, {})) != at.get(i, {}):
            return stated
    try:
        made = type(built)(**{k: v for k, v in fields.items() if k != "per_layer_config"}).layer_types
    except Exception:
        return stated
    return {i: kinds[kind] for i, kind in enumerate(made) if kinds.get(kind)}


def _derived(transformers, model_type, fields, config, numbers: dict | None = None) -> dict:
    """The whole-number fields the config class computes itself (Mamba's intermediate_size from
    expand and hidden_size, DeepSeek-V3's head_dim from qk_rope_head_dim, PaliGemma's vision tower's
    projection_dim from the model's): given another value, each keeps its own. Symbol -> its
    formula in the fields it follows (a constant times each field whose doubling alone doubles,
    quadruples or halves it, to that power, checked by doubling them together, and where a field
    is squared, by tripling them too), or None where none is found. `numbers`: {symbol: value} of
    the fields pinned as numbers, which such a formula then has (`_power_formula`)."""
    ints = _whole_fields(config)

    def read(built, key):
        path, name = key
        try:
            for attr in path:
                built = getattr(built, attr)
            return _whole(built, name)
        except Exception:
            return None

    def given(values: dict, unstated: tuple | None = None):
        """The config built with each (path, name) set to its value (and the field `unstated` left
        out, as the config.json leaves it), or None where it is refused."""
        data = _set_fields(fields, values, config)
        if unstated is not None:
            data = _set_fields(data, {unstated: None}, config, drop=True)
        try:
            return transformers.AutoConfig.for_model(model_type, **data)
        except Exception:       # the other value is not valid (or is per layer): the user's to set
            return None

    derived = {}
    for key, value in ints.items():
        for other in (value + 1, 2 * value):         # (a rotary head_dim must stay even)
            again = given({key: other})
            if again is None:
                continue
            if read(again, key) != other:
                derived[key] = None
            break
    # each field whose doubling alone doubles it (power 1), quadruples it (2: Radio's patch_dim,
    # num_channels * patch_size**2) or halves it (-1: Unlimited-OCR's text head_dim, hidden_size //
    # num_attention_heads, which its config computes whatever the config.json states)
    powers: dict = {key: {} for key in derived}
    tied: dict = {}         # field -> the field of its value it is doubled with
    for other in ints if derived else ():
        if other in derived:
            continue
        again = given({other: 2 * ints[other]})
        if again is None and any(other in ties for ties in tied.values()):
            continue            # (refused alone, it moved with the field it is tied to: that one's)
        # (a field its validator ties to another of its value, dots3's audio hidden_size to its
        # adapter_input_size: doubled with the first such field that lets it be, the derived
        # fields' moves are this field's)
        for tie in [o for o, v in ints.items() if o != other and v == ints[other] and o not in derived] \
                if again is None else ():
            again = given({other: 2 * ints[other], tie: 2 * ints[tie]})
            if again is not None:
                tied[other] = (tie,)
                break
        for key in derived:
            power = _power(read(again, key) if again is not None else None, ints[key], (1, 2, -1, -2))
            if power is not None:
                powers[key][other] = power

    def together(key, follows, factor):
        want = ints[key] * sp.Integer(factor) ** sum(follows.values())
        again = given({o: factor * ints[o] for f in follows for o in (f, *tied.get(f, ()))})
        return again is not None and read(again, key) == want
    for key, follows in powers.items():
        if not follows or len(follows) > 3 or not together(key, follows, 2):
            continue
        # (one build with a field doubled shows a square no more than a doubling: another factor too)
        if any(abs(e) == 2 for e in follows.values()) and not together(key, follows, 3):
            continue
        derived[key] = _power_formula(ints[key], {o: (ints[o], e) for o, e in follows.items()}, numbers)
    derived.update(_unstated(ints, fields, lambda values, key: read(given(values, key), key), numbers))
    return {_field_symbol(key): formula for key, formula in derived.items()}


def _power(moved: int | None, value: int, powers: tuple) -> int | None:
    """The one of `powers` to which a field doubled alone moved a size from `value` to `moved` (1:
    doubled, 2: quadrupled, -1: halved), or None."""
    return next((p for p in powers if moved is not None and moved * 2 ** max(0, -p) == value * 2 ** max(0, p)), None)


def _unstated(ints: dict, fields: dict, again, numbers: dict | None = None) -> dict:
    """A head's size the config computes where the config.json does not state it (CLVP's and
    Sapiens 2's `head_dim = hidden_size // num_attention_heads`): (path, name) -> its formula in
    the fields of its tower it follows, each doubled alone doubling or halving it, checked by
    doubling them together; the quotient is whole under the program's `where`. `again(values,
    key)`: the value of `key` in the config built with `values` set and `key` left out."""
    out = {}
    for key, value in ints.items():
        path, name = key
        if "head" not in name or not ("dim" in name or "size" in name) or _states(fields, key):
            continue
        powers = {}
        for other in ints:       # (a width or a head count of its tower: a build of the config each)
            if other == key or other[0] != path or not re.search(r"hidden|head|embed|d_model|n_embd|dim", other[1]):
                continue
            moved = again({other: 2 * ints[other]}, key)
            power = _power(moved, value, (1, -1))
            if power is not None:
                powers[other] = power
            elif moved is None and "head" in other[1]:
                powers = {}      # (the heads could not be doubled: what the size follows is not known)
                break
        if not powers or len(powers) > 3 or \
                again({o: 2 * ints[o] for o in powers}, key) != value * 2 ** sum(powers.values()):
            continue
        out[key] = _power_formula(value, {o: (ints[o], e) for o, e in powers.items()}, numbers)
    return out


def _power_formula(value: int, follows: dict, numbers: dict | None = None):
    """`value` as a constant times each field (path, name) -> (its value, power) it follows to that
    power, with the pinned fields' `numbers` ({symbol: value}) put in; a quotient of fields is whole
    under the program's `where`, one by a number (a pinned field's) is floored, as the config
    computes it (`hidden_size // num_attention_heads` with the heads pinned)."""
    formula = sp.Integer(value) / sp.prod([sp.Integer(v) ** e for v, e in follows.values()]) \
        * sp.prod([_symbol(_field_symbol(o)) ** e for o, (_, e) in follows.items()])
    pinned = formula.subs(numbers or {})
    if pinned != formula:
        if sp.fraction(pinned)[1].is_number and not pinned.is_integer:
            return sp.floor(pinned)
        formula = pinned
    numerator, denominator = sp.fraction(formula)
    if (numerator, denominator) in Field.floored:
        return sp.floor(formula)
    if _of_fields(numerator, denominator):
        Field.divisions[(numerator, denominator)] = None
    return formula


def _states(fields: dict, key: tuple) -> bool:
    """Does the config.json's `fields` state the field (path of sub-configs, name)?"""
    path, name = key
    for attr in path:
        fields = fields.get(attr)
        if not isinstance(fields, dict):
            return False
    return name in fields


def _made(cls, config):
    """The model with scaled_dot_product_attention, whose calls tell the attention's geometry, where
    the class offers it; a mixture of experts with its experts as batched products (each token's
    top_k experts, bmm), which FlopCounterMode counts and the meta device runs in any dtype:
    transformers' default, grouped_mm, counts 0 and takes only bfloat16 on meta. In eval mode: a
    model in training drops layers at random (wav2vec2's layerdrop) and masks its input."""
    try:
        model = cls._from_config(config, attn_implementation="sdpa", experts_implementation="batched_mm")
    except (ValueError, ImportError):
        model = cls._from_config(config, attn_implementation="eager", experts_implementation="batched_mm")
    return model.eval()


def build(config_dict: dict, symbolic: bool = True, pinned=frozenset(), floored=frozenset()):
    """(model, fields, shapes, class name): the model transformers builds from the config, on meta;
    its whole-number fields Fields where `symbolic`, but for the `pinned` ones; the divisions of
    fields `floored` (`Field.floored`) floors."""
    transformers = _transformers()
    import torch
    model_type = config_dict.get("model_type")
    fields = _fields_of(config_dict)
    try:
        config = transformers.AutoConfig.for_model(model_type, **fields)
    except Exception as e:      # the user's config: transformers' own complaint, in its words
        raise ImportProblem(f"transformers cannot read this config: {type(e).__name__}: {str(e)[:300]}",
                            hint="model_type names one of transformers' model types (its CONFIG_MAPPING)") from None
    archs = config_dict.get("architectures")
    arch = archs[0] if isinstance(archs, list) and len(archs) == 1 and isinstance(archs[0], str) else None
    cls = _model_class(transformers, config, arch)
    Field.seen, Field.divisions, Field.floored = {}, {}, floored
    _import_towers(config)
    values = {}
    if symbolic:
        # (a computed field follows a pinned one as its number: Radio's patch_dim, num_channels * patch_size**2)
        numbers = {_symbol(_field_symbol(k)): v for k, v in _whole_fields(config).items() if _field_symbol(k) in pinned}
        values = _sized_fields(config, _derived(transformers, model_type, fields, config, numbers), pinned=pinned)
    shapes = _Shapes()
    shapes.fields = values
    try:
        with torch.device("meta"), shapes.watching(), whole_numbers():
            model = _made(cls, config)
    except Exception as e:
        raise ImportProblem(f"transformers could not build {cls.__name__} from this config on the meta device: "
                            f"{type(e).__name__}: {e}") from None
    for path, prefix in sorted(sub_models(model).items(), key=lambda item: len(item[0])):      # (the deepest last)
        module = model.get_submodule(path)
        shapes.owned.update({id(t): prefix for t in (*module.parameters(), *module.buffers())})
    return model, values, shapes, cls.__name__


def sub_models(model) -> dict[str, str]:
    """{module path: the prefix of its config's fields} for each module transformers built from one of
    the model's sub-configs (D-FINE's HGNetV2 backbone from its backbone_config, a VLM's vision tower from
    its vision_config): such a module reads no other field, so its sizes are looked up among its own."""
    from transformers import PretrainedConfig
    prefixes: dict[int, str] = {}

    def walk(config, prefix):
        for name, value in vars(config).items():
            if isinstance(value, PretrainedConfig) and id(value) not in prefixes:
                prefixes[id(value)] = prefix + name.removesuffix("_config") + "_"
                walk(value, prefixes[id(value)])
    walk(model.config, "")
    found = {}
    for path, module in model.named_modules():
        config = getattr(module, "config", None)
        if path and id(config) in prefixes and not any(path.startswith(p + ".") and found[p] == prefixes[id(config)]
                                                       for p in found):
            found[path] = prefixes[id(config)]
    return found


def _import_towers(config) -> None:
    """Import the modeling code of each sub-config's model type (a BERT-to-BERT model's BERT), which
    transformers imports only as it builds them: `whole_numbers` sets `int` in the modules imported
    when the build starts, and BERT's head size, `int(hidden_size / num_attention_heads)`, would
    lose its formula."""
    import importlib
    from transformers import PretrainedConfig
    from transformers.models.auto.configuration_auto import model_type_to_module_name
    for value in vars(config).values():
        if isinstance(value, PretrainedConfig) and value is not config:
            name = model_type_to_module_name(value.model_type) if value.model_type else None
            for module in dict.fromkeys((type(value).__module__.replace(".configuration_", ".modeling_"),
                                         f"transformers.models.{name}.modeling_{name}")):
                try:
                    importlib.import_module(module)
                    break
                except Exception:           # (a part config with no modeling module of its own)
                    pass
            _import_towers(value)


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



def _entry(model) -> Entry:
    """The model's input(s): token ids or an image; an encoder-decoder's decoder ids beside them."""
    encoder = _encoder_path(model)
    entry = _main_entry(model) if encoder is None or model.main_input_name != "input_features" else \
        _audio(model, model.get_submodule(encoder))
    if encoder is not None:
        entry.decoder = True
        entry.line += "\n    decoder_input_ids = input (target_length) int"
    elif entry.name == "input_ids" and "pixel_values" in _parameters(model) and not _image_tokens(model.config):
        # a model of two towers (CLIP's): the image tower's input beside the text's; a tower model
        # given only one of them runs only that tower, and no pass tells the other's shapes
        # (its patches, SigLIP 2's; else its image, at an example's size where the config gives none)
        image = _patches(model) or _image(model.config)
        if image is None:
            raise ImportProblem(f"{type(model).__name__} reads token ids and an image, and its config gives no "
                                "whole number of channels (vision_config.num_channels) to measure its image "
                                "tower at")
        entry.towers.append(image)
        entry.line += "\n    " + image.line
    return entry


def _image_tokens(config) -> bool:
    """Does the model place its image's features among the text's tokens (LLaVA's), which the ids
    must then hold at the right places: a pass of zeros cannot feed its image tower."""
    return any("image_token" in k for k in vars(config))


def _patches(model) -> Entry | None:
    """An image given as its patches, flattened (SigLIP 2's NaFlex: num_patches rows of channels x
    patch_size**2 pixels, a mask of the real ones, the grid's shape): a square grid of all of its
    vision_config's num_patches; None for a model that reads whole images."""
    import math
    config = getattr(model.config, "vision_config", None) or model.config
    count, patch, channels = (getattr(config, k, None) for k in ("num_patches", "patch_size", "num_channels"))
    if "spatial_shapes" not in _parameters(model) or not all(isinstance(v, int) for v in (count, patch, channels)) \
            or math.isqrt(int(count)) ** 2 != int(count):
        return None
    dims = (count, channels * patch * patch)
    return _sized("pixel_values", dims, beside={"pixel_attention_mask": ((int(count),), 1),
                                                "spatial_shapes": ((2,), math.isqrt(int(count)))})


def _image(config) -> Entry | None:
    """An image input at the config's size (its vision_config's, in a model of towers); a config
    with no image size (ResNet's) takes any, and is given an example of IMAGE x IMAGE. None where
    its number of channels is not a whole number."""
    dims = _image_dims(config)
    return _sized("pixel_values", dims) if dims is not None else None


def _image_dims(config) -> tuple | None:
    """`_image`'s channels, height and width, each the config's field (with its formula) where it
    sets it."""
    config = getattr(config, "vision_config", None) or config
    size = getattr(config, "image_size", None)
    channels = getattr(config, "num_channels", 3)
    sizes = (size, size) if isinstance(size, int) else tuple(size) if isinstance(size, (list, tuple)) else ()
    if len(sizes) != 2 or not all(isinstance(v, int) for v in sizes):
        sizes = (IMAGE, IMAGE)
    return (channels, *sizes) if isinstance(channels, int) else None


def _sized(name: str, dims: tuple, beside: dict | None = None) -> Entry:
    """An input of fixed sizes (batch axis aside), each written as the formula it has."""
    return Entry(name, f"{name} = input ({', '.join(_fmt(formula_of(d)) for d in dims)})", False,
                 tuple(int(d) for d in dims), beside=beside or {})


# where a config names its audio features' mel bins, in the order they are looked for
_BINS = ("num_mel_bins", "feature_size", "input_feat_size", "input_feat_per_channel", "n_mels")


def _bins(config):
    """The number of mel bins the config states (its own or its audio tower's), or None."""
    from transformers import PretrainedConfig
    for name in _BINS:
        value = getattr(config, name, None)
        if isinstance(value, int) and not isinstance(value, bool) and value > 0:
            channels = getattr(config, "input_channels", 1) if name == "input_feat_per_channel" else 1
            return value * channels if isinstance(channels, int) else value       # (Speech2Text's stacked channels)
    for value in vars(config).values():
        if isinstance(value, PretrainedConfig) and (found := _bins(value)) is not None:
            return found
    return None


def _audio(model, encoder=None) -> Entry:
    """A speech model's input_features (Whisper's, Parakeet's, Speech2Text's): the config's mel
    bins over the frames its encoder takes. Whisper's encoder (and those built like it) takes
    exactly max_source_positions times its 1-D convolutions' strides, bins first; any other, an
    example of FRAMES frames (one second at the usual 10 ms hop), the bins' axis where the model
    takes it: the first layout its forward pass runs with (`_layout`)."""
    import torch
    config = model.config
    bins = _bins(config)
    if bins is None:
        raise ImportProblem(f"{type(model).__name__} reads input_features, and its config states no number of mel "
                            f"bins ({', '.join(_BINS)}) to measure it at")
    layouts = [(FRAMES, bins), (bins, FRAMES)]
    positions = getattr(config, "max_source_positions", None)
    convs = [m for m in (encoder or model).children() if isinstance(m, torch.nn.Conv1d)]
    if isinstance(positions, int) and convs:
        frames = positions
        for conv in convs:
            frames = frames * conv.stride[0]
        layouts.insert(0, (bins, frames))
    return _layout(model, "input_features", layouts, bins=bins)


def _waveform(model) -> Entry:
    """input_values of another kind: an audio codec's waveform (EnCodec's, Mimi's: channels over
    one second of samples at the config's sampling rate), a speech encoder's bare samples
    (Moonshine's), or a spectrogram (the Audio Spectrogram Transformer's max_length frames of its
    mel bins): the first of these layouts its forward pass runs with (`_layout`)."""
    config = model.config
    rate = getattr(config, "sampling_rate", None)
    rate = rate if isinstance(rate, int) and not isinstance(rate, bool) and rate > 0 else AUDIO
    channels = getattr(config, "audio_channels", None)
    layouts = [(channels if isinstance(channels, int) and channels > 0 else 1, rate), (rate,)]
    bins, frames = _bins(config), getattr(config, "max_length", None)
    if bins is not None and isinstance(frames, int) and not isinstance(frames, bool) and frames > 0:
        layouts.insert(0, (frames, bins))
    return _layout(model, "input_values", layouts)


def _series(model) -> Entry:
    """A time series model's past values (PatchTST's, TimesFM's): its context_length steps of its
    num_input_channels series, or of one: the first layout its forward pass runs with."""
    config = model.config
    steps, channels = getattr(config, "context_length", None), getattr(config, "num_input_channels", None)
    if not isinstance(steps, int) or isinstance(steps, bool) or steps < 1:
        raise ImportProblem(f"{type(model).__name__} reads past_values, and its config states no context_length to "
                            "measure it at")
    layouts = [(steps, channels), (steps,)] if isinstance(channels, int) and channels > 0 else [(steps,)]
    return _layout(model, "past_values", layouts)


def _layout(model, name: str, layouts: list, bins=None) -> Entry:
    """The input `name` in the first of `layouts` (its shapes, batch axis aside) a forward pass
    runs with: on the meta device, else on the CPU where the model fits (EnCodec pads by a length
    it reads with `.item()`). Speech features (`bins` of them per frame) come with what forward()
    asks beside them: a mask of the frames (all of them real), their number."""
    import inspect

    import torch
    asked = inspect.signature(model.forward).parameters

    def beside(dims):
        if bins is None:
            return {}
        n = int(dims[1] if dims[0] == bins else dims[0])      # the frames, whichever axis holds them
        given = {"input_features_mask": ((n,), 1), "feature_attention_mask": ((n,), 1), "feature_lens": ((), n)}
        return {k: v for k, v in given.items() if k in asked}
    entries = [_sized(name, dims, beside(dims)) for dims in layouts]

    def runs(module, entry, device):
        inputs = entry.tensors(module, PROBES[0], device, TARGETS[0])
        if "use_cache" in _parameters(module):
            inputs["use_cache"] = False
        try:
            with torch.no_grad(), one_thread(device), _patched_masks():
                module(**inputs)
        except Exception:
            return False
        return True
    found = next((e for e in entries if runs(model, e, "meta")), None)
    if found is None and _bytes(model) <= CPU_PASS_BYTES:
        with _seeded(0):        # (the twin the passes are measured on)
            twin = _twin(model)
            found = next((e for e in entries if runs(twin, e, "cpu")), None)
    if found is None:
        raise ImportProblem(f"the forward pass of {type(model).__name__} runs with none of the layouts of its {name} "
                            f"tried: {', '.join(map(str, layouts))}")
    return found


def _video(model, name: str) -> Entry | None:
    """A video given as pixel_values (VideoMAE, ViViT, TimeSformer): its config's num_frames (or
    frames_per_clip) images of its size, frames first or channels first, whichever its forward pass
    runs with (a model that reads one image after all: that image); None where the config states
    no number of frames."""
    config = model.config
    frames = next((v for k in ("num_frames", "frames_per_clip") if isinstance(v := getattr(config, k, None), int)),
                  None)
    image = _image_dims(config)
    if frames is None or image is None:
        return None
    channels, *size = image          # (the fields themselves, so the input's line names them)
    return _layout(model, name, [(frames, channels, *size), (channels, frames, *size), image])


def _encoder_path(model) -> str | None:
    """An encoder-decoder's encoder, by its path in the module tree (None for one chain): the module
    transformers' own get_encoder() names, whose output the decoder's layers read."""
    if not getattr(model.config, "is_encoder_decoder", False) or "decoder_input_ids" not in _parameters(model):
        return None
    encoder = model.get_encoder()
    return next((path for path, m in model.named_modules() if m is encoder and path), None)


def _main_input_name(model):
    """The model's main input's name (a list of them, OneFormer's)."""
    name = getattr(model, "main_input_name", "input_ids")
    if name == "input_ids" and "input_ids" not in _parameters(model) and "pixel_values" in _parameters(model):
        return "pixel_values"         # (GOT-OCR2's vision encoder inherits the text model's main input)
    return name


def _main_entry(model) -> Entry:
    name = _main_input_name(model)
    config = model.config
    if name == "pixel_values":
        return _video(model, name) or _image(config) or _no_entry(name)
    if name == "input_features":
        return _audio(model)
    if name == "input_values" and getattr(config, "conv_stride", None) is not None:
        # raw audio (wav2vec2's): one second at 16 kHz, an example; its convolutions set the frames
        return _sized(name, (AUDIO,))
    if name == "input_values":
        return _waveform(model)
    if name == "past_values":
        return _series(model)
    if name != "input_ids":
        _no_entry(name)
    return Entry(name, f"{name} = input (sequence_length) int", True)


IMAGE, AUDIO, FRAMES = 224, 16000, 100       # an example's size where the config states none


def _no_entry(name: str | list):
    if not isinstance(name, str):        # (OneFormer's: pixel values and a task's text)
        raise ImportProblem(f"the general route measures models of one main input; this one reads "
                            f"{' and '.join(name)}")
    raise ImportProblem(f"the general route measures models that read token ids, images or raw audio; this one "
                        f"reads {name}")




def _measured(model, units, entry: Entry) -> list:
    """The measured passes at the PROBES lengths: on meta, else on the CPU where the model fits."""
    try:
        return [_measure(model, units, entry, t, "meta", u) for t, u in zip(PROBES, TARGETS)]
    except (ImportProblem, torch_sizes.ImportProblem) as e:
        if _bytes(model) > CPU_PASS_BYTES:
            raise
        failed = e
    with _seeded(0):
        try:
            twin = _twin(model)
        except Exception:              # (Pix2Struct's text model initialises from a field it lacks)
            raise failed from None
        modules = dict(twin.named_modules())
        twins = [Unit(u.path, modules[u.path], own=u.own) for u in units]
        runs = [_measure(twin, twins, entry, t, "cpu", u) for t, u in zip(PROBES, TARGETS)]
    if _on_twin(model, 1, lambda other: _pass_on(other, entry, PROBES[0], "cpu", count=False))[0] != runs[0].outputs:
        # (FastSpeech 2's spectrogram is as long as the durations its weights predict)
        raise ImportProblem("its forward pass's output shape follows its weights' values (twins of other weights "
                            "give others)")
    ours = dict(model.named_modules())           # the projections' inputs, by our modules' ids
    ids = {id(m): id(ours[path]) for path, m in modules.items() if path in ours}
    for run in runs:
        run.leaves = {ids[k]: v for k, v in run.leaves.items() if k in ids}
    return runs


def _measure(model, units, entry: Entry, tokens: int, device: str, target: int):
    """The units' calls and MACs in a forward pass over `tokens` positions (one sequence; `target`
    positions in an encoder-decoder's decoder); `.encoded` the id of the encoder's output."""
    inputs = entry.tensors(model, tokens, device, target)
    if "use_cache" in _parameters(model):
        inputs["use_cache"] = False
    path, seen = _encoder_path(model) if entry.decoder else None, []
    hook = model.get_submodule(path).register_forward_hook(lambda m, a, out: seen.append(_first_tensor(out))) \
        if path else None
    try:
        run = measure(model, units, inputs, device, _patched_masks, what="transformers' forward pass")
    except torch_sizes.ImportProblem as e:
        raise ImportProblem(e.message) from None
    finally:
        if hook is not None:
            hook.remove()
    run.encoded = id(seen[0]) if seen else None      # `seen` keeps it alive: no other tensor had its id
    run.kept = seen
    return run







def program(config: dict, source: str) -> str:
    """The program of any model transformers builds from `config`, as text: in the config's field
    names where its counts, rebuilt by transformers at a second setting of those fields, agree;
    else in this config's numbers, saying why. MACs and shapes are checked there too: MACs that
    disagree are not stated (`macs = not_known`); shapes that disagree make it this config's numbers."""
    from ...errors import SymparamsError
    try:
        return _checked_program(config, source)
    except SymparamsError:
        raise
    except Exception as e:        # the modeling code of ~800 model types, run in ways no template foresaw
        raise ImportProblem(f"the general route failed on this model: {type(e).__name__}: {str(e)[:240]}",
                            hint="a template for this model type is needed; please report it with its "
                                 "config.json") from None


class _Unchained(ImportProblem):
    """Its forward pass ran, but its layers could not be written as one chain from it."""


def _checked_program(config: dict, source: str) -> str:
    done: dict = {}       # what this import computed once: the build and its passes, each second setting's
    try:
        text, problem = _written(config, source, done), None
    except ImportProblem as e:
        text, problem = None, e
    read = done.get(("read", True))
    # its forward pass did not run (MACs not known, shapes assumed): a shallower copy's may
    shallow = _shallow(config) if read is not None and read[7] is not None else None
    if shallow is not None:
        copy: dict = {}
        try:
            written = _written(shallow[0], source, copy)
            if all(r[7] is None for k, r in copy.items() if k[0] == "read"):      # (its pass ran)
                deep = _deepened(written, shallow[1], read[7])
                _check_counts(config, deep)             # the whole model's counts, as transformers builds it
                return deep
        except ImportProblem:
            pass
    if isinstance(problem, _Unchained) and read is not None and read[7] is None:
        try:
            return _assumed(config, source, done, problem.message)
        except ImportProblem:
            raise problem from None
    if text is None:
        raise problem
    return text


def _assumed(config: dict, source: str, done: dict, why: str) -> str:
    """The program of a model whose pass ran but whose layers could not be written as one chain
    from it (CPM-Ant prepends prompt tokens inside forward(), PatchTST's patches are made there):
    its passes set aside but for the order they called its layers in, it is counted as a model
    whose pass runs nowhere is, each layer keeping the shape it is handed, MACs not known. `done`
    keeps its build and each second setting's, whose counts alone check its formulas."""
    done["assumed"] = why.removeprefix("the general route ")
    return _written(config, source, done)


# A model whose forward pass fails on meta tensors and which is too large to run on the CPU is
# measured on a copy this many layers deep, its depths then set back to the config's.
SHALLOW = 3


def _shallow(config: dict) -> tuple[dict, dict] | None:
    """The config with each count of layers above SHALLOW set to SHALLOW (its own and its
    sub-configs'), and {program symbol: the config's count}; None where there is none to cut."""
    transformers = _transformers()
    try:
        full = {**transformers.AutoConfig.for_model(config["model_type"], **_fields_of(config)).to_dict(),
                **{k: config[k] for k in ("model_type", "architectures") if k in config}}
    except Exception:
        return None
    depths = {}

    def cut(fields: dict, prefix: str):
        for k, v in list(fields.items()):
            if isinstance(v, dict) and k.endswith("_config"):
                fields[k] = dict(v)
                cut(fields[k], prefix + k.removesuffix("_config") + "_")
            elif ("layers" in k or k == "n_layer") and type(v) is int and v > SHALLOW:
                fields[k], depths[prefix + k] = SHALLOW, v
                if isinstance(fields.get("layer_types"), list):
                    fields["layer_types"] = fields["layer_types"][:SHALLOW]
    cut(full, "")
    return (full, depths) if depths else None


def _deepened(text: str, depths: dict, why: str) -> str:
    """The shallow copy's program with the config's depths as its defaults, saying how it was measured."""
    lines = text.split("\n")
    at = next(i for i, line in enumerate(lines) if line.startswith("model "))
    for name, value in depths.items():
        lines[at] = re.sub(rf"\b{re.escape(name)} = {SHALLOW}\b", f"{name} = {value}", lines[at])
    runs = [i for i, line in enumerate(lines) if f"repeat({SHALLOW}, " in line]
    if len(depths) == 1 and len(runs) == 1 and not any(f"{name} = " in lines[at] for name in depths):
        # a program in numbers (its feature maps measured at one size): its one run of SHALLOW
        # layers is the one count cut; the whole model's counts then check it
        lines[runs[0]] = lines[runs[0]].replace(f"repeat({SHALLOW}, ", f"repeat({next(iter(depths.values()))}, ")
    head = next(i for i, line in enumerate(lines) if line.startswith("convention "))
    lines[head:head] = [f"# Measured on a copy {SHALLOW} layers deep (its depths then set to this config's): its "
                        "forward pass does", f"# not run on the meta device ({why.splitlines()[0][:120]}),",
                        "# and the whole model is too large to run on the CPU."]
    return "\n".join(lines)


def _written(config: dict, source: str, done: dict) -> str:
    """The program in the config's fields where they hold at a second setting, else in them but
    for those its structure follows in a way no formula states, else its numbers; where it is not in
    the fields' names and a division of fields it took as whole is not at a setting transformers
    built, written again with those divisions floored (`_floored`)."""
    done.setdefault("config", config)
    text, named = _forms(config, source, done)
    floored = frozenset() if named or "floored" in done else _floored(done)
    if not floored:
        return text
    for key in [k for k in done if _is_read(k)]:
        del done[key]           # (its builds, read afresh; transformers' builds at each setting kept)
    done["floored"] = floored
    try:
        again, named = _forms(config, source, done)
    except ImportProblem:
        return text
    # (the one with fewer of the config's numbers; of two alike, the floored, as transformers computes)
    return again if named or _numbers_in(again) <= _numbers_in(text) else text


def _is_read(key) -> bool:
    """Is `done`'s key one of a read (or of a read's corrections)?"""
    return isinstance(key, tuple) and (key[0] == "read" or isinstance(key[0], tuple) and key[0][0] == "read")


def _numbers_in(text: str) -> tuple:
    """How far a general-route program is in this config's numbers: wholly, then by fields pinned."""
    return in_numbers(text), len(pinned_fields(text))


def _forms(config: dict, source: str, done: dict) -> tuple[str, bool]:
    """(the program `_written` describes but for floored divisions, is it in the fields' names)."""
    doubt, problem, doubted = None, None, None
    for checked in (False, True):
        if checked and not _fixes(done, _read_key(True, None)):
            break
        try:
            text, why = _in_fields(config, source, done, checked=checked)
        except _Numbers as e:
            why, problem = str(e), problem or e
        else:
            doubted = text
        if why is None:
            return text, True
        doubt = doubt or why
    read = done.get(("read", True))
    example = None          # (the fields pinned for an example's feature maps, where its program was written)
    if problem is not None and problem.fixed:
        text, why, pinned_doubted, example = _pinned(config, source, done, problem.fields, problem.kept)
        doubted = pinned_doubted or doubted
        if text is not None:
            return text, False
        doubt = why or doubt       # (how its formulas failed, past the example's numbers)
    elif problem is None and read is not None and read[6] and not read[5].text and "assumed" not in done:
        # (on an example its pass ran over, a size its feature maps have may have been taken for a
        # formula of its value: Pixtral's 4096 patches for its intermediate_size, which a second
        # setting disproves)
        text = _pinned(config, source, done, *_first_layer(read))[0]
        if text is not None:
            return text, False
    if doubted is not None:
        text, every = _structure(config, source, done, doubted, example)
        if text is not None:
            return text, False
        if every:
            doubt = "its sizes follow each of its fields in a way no formula of them states: " + \
                "; ".join(every.values()) + (f"; its example's feature maps follow {', '.join(sorted(example))}"
                                             if example else "")
    text = _program(config, source, symbolic=False, note=doubt, done=done)
    _check_counts(config, text, done)
    return text, False


# The header's words of a program of the general route
GENERAL = "(no template for this model type)"
# The header's words where a program is in the config's numbers (`in_numbers`)
NUMBERS = "Its formulas are this config's numbers:"
# Rounds of fields found and written as numbers before the program is left in the config's numbers
STRUCTURE_ROUNDS = 3
# The header's words before the fields a program writes as this config's numbers (`pinned_fields`)
STRUCTURE = "Its structure follows these fields in a way no formula states, so they are this config's numbers here:"
FOLLOWED = "the fields they follow are this config's numbers here,"


def pinned_fields(text: str, kinds: tuple = (STRUCTURE, FOLLOWED)) -> list[str]:
    """The fields a program of the general route writes as this config's numbers, as its header
    names them: those its structure follows (STRUCTURE), those an example's feature maps follow."""
    head = text.split("\nmodel ")[0]
    return [name for words in kinds for line in head.splitlines()
            if line.startswith(f"# {words} ") for name in re.findall(r"(\w+) = ", line)]


def is_general(text: str) -> bool:
    """Is the program one of the general route (not a template's)?"""
    return GENERAL in text.split("\nmodel ")[0]


def reimportable_fields(text: str, config: dict) -> list[str]:
    """The fields of `config` (a config.json's, whose general-route program is `text`) a --set or a
    sweep of a name the program has no symbol for imports again: each whole-number field of the
    config, as `_sized_fields` names them (a tower's `vision_hidden_size`) — one its header writes
    as this config's number, or one no formula names (GOT-OCR2's count of layers, its global
    attention's layers a list's), where the count at another value is transformers' all the same."""
    built = _built_config(config)
    return pinned_fields(text) + [_field_symbol(key) for key in (_whole_fields(built) if built is not None else {})]


def in_numbers(text: str) -> bool:
    """Are all the program's formulas this config's numbers (its header says why)?"""
    return f"\n# {NUMBERS} " in text.split("\nmodel ")[0]


def _structure(config: dict, source: str, done: dict, text: str, example: frozenset | None) \
        -> tuple[str | None, dict | None]:
    """(The program in the config's fields but those its structure follows in a way no formula
    states, or None; {field: why} where it held with every field it names so pinned, RegNet's, whose
    sizes follow its lists' entries: it is then in this config's numbers). A field whose change alone makes transformers' counts differ from the
    program's (Ernie 4.5's count of layers, whose last ones are dense past `moe_layer_end_index`;
    BiT's `embedding_size`, each stage's width a list's) is written as this config's number, the rest
    as before; the program must then hold at a second setting of the rest, and with each of them
    changed alone. `example`: fields already pinned for an example's feature maps (`_pinned`), maybe
    none (XCodec's waveform fixes its sizes, no field does), or None where no example is in it."""
    from ...interpreter import parse
    why: dict = {}
    held = False
    for round in range(STRUCTURE_ROUNDS + 1):
        # (a setting the program's own conditions refuse, `heads % kv_heads == 0`, is no sign)
        found: dict = {}
        for name, doubt in each_field_alone(config, text, done, every=True):
            if doubt:
                found.setdefault(name, doubt)        # (the first setting of it that failed: one layer more)
        if not found:
            if held and not set(parse(text, "config.json").defaults) - {"sequence_length", "target_length"}:
                return None, why
            return (text if held else None), None
        if round == STRUCTURE_ROUNDS:
            return None, None
        why.update(found)
        pinned, held, written = (example or frozenset()) | frozenset(why), False, None
        for checked in (False, True):
            if checked and not _fixes(done, _read_key(True, pinned)):
                break
            try:
                written, doubt = _in_fields(config, source, done, pinned, checked, example=example is not None,
                                            structure=why)
            except (_Numbers, ImportProblem):
                continue
            if doubt is None:
                held = True
                break
        if written is None:
            return None, None
        text = written
    return None, None


def _in_fields(config: dict, source: str, done: dict, pinned: frozenset | None = None, checked: bool = False,
               example: bool = False, structure: dict | None = None) -> tuple[str, str | None]:
    """The program in the config's fields (but the `pinned`; `checked`: each weight's sizes found
    by their values checked by a second build), and why it does not hold at a second setting or
    None. `example`: fields are pinned for an example's feature maps, whose numbers its shapes and
    MACs must then hold at too; `structure`: {pinned field: why} for those its structure follows,
    where its MACs must hold too (the program in numbers states them)."""
    def written(lone: bool):
        text = _program(config, source, symbolic=True, done=done, pinned=pinned, checked=checked, lone=lone,
                        example=example, structure=structure)
        _check_counts(config, text, done)
        doubt, macs = _unconfirmed(config, text, done, held_out=checked)
        return text, doubt or _alone(config, text, done), macs

    text, doubt, macs = written(lone=False)
    lone = False
    if doubt is not None:
        # one layer after others of its list may be the rest of the list (Qwen 3.5's last full-attention
        # layer) or one layer of a pattern (Jamba's, T5Gemma 2's): which, only the rebuilt model tells
        try:
            again = written(lone=True)
        except Exception:       # (written again it fails: the first program and its doubt stand)
            again = None
        if again is not None and again[1] is None:
            (text, doubt, macs), lone = again, True
    if (example or structure) and doubt is None and macs is not None:
        return text, macs
    if doubt is None and macs is not None:      # the same build and passes, written without MACs
        text = _program(config, source, symbolic=True, note=macs, macs=False, done=done, pinned=pinned,
                        checked=checked, lone=lone, example=example, structure=structure)
        doubt, _ = _unconfirmed(config, text, done, held_out=checked)
    return text, doubt


def _read_key(symbolic: bool, pinned: frozenset | None) -> tuple:
    """Where `done` keeps a read: with no field pinned it is the config's own build."""
    return ("read", symbolic, pinned) if pinned else ("read", symbolic)


def _fixes(done: dict, key: tuple) -> dict:
    """The corrections of the read `key` (`_corrections`), with its units counted again under them:
    kept in `done`, {} where there are none (or the read or a second setting was not made yet)."""
    if key not in done:
        return {}
    if (key, "checked") not in done:
        model, values, shapes, *_, sizes = done[key]
        Field.seen, Field.divisions = sizes
        fixes = _corrections(model, shapes, values, sizes[0], done)
        if fixes is None:
            return {}
        if fixes:             # the weights' formulas again, those a second build disproved numbers
            from transformers import PreTrainedModel
            shapes.corrected = fixes
            units = _units(model, shapes, also=(PreTrainedModel,), whole_items=True)
            shapes.corrected = {}
        else:
            units = done[key][4]
        done[(key, "checked")] = (units, fixes)
    return done[(key, "checked")][1]


def _corrections(model, shapes, values: dict, seen: dict, done: dict) -> dict | None:
    """{tensor id: its shape's formulas} where the build's sizes, rebuilt by transformers at each
    second setting this import built (`done`), show a size found by its value alone wrong: a size
    that changed at none of them is its number (a bottleneck's 64 channels, from a list, taken for
    the embedding_size of 64; Gemma 4's audio convolution's 128 channels, a list's, taken for its
    hidden_size / num_attention_heads, which every field doubled keeps and the heads kept do not);
    one that did is the one formula of its value (among the build's, `seen`, and the fields) that
    changed to it at each (`torch.Tensor(hidden_size)`, which records no formula), fields of one
    number told apart by changing each alone. Tensors are matched by name. None where no second
    setting was built. (The checks' setting with the heads kept is built for it where they had not.)"""
    settings = [(other, reference) for other, reference in _built_settings(done) if set(other) <= set(values)]
    if not settings:
        return None
    # (of the fields the checks set: the program's)
    kept = list(_second_settings({k: values[k] for k in max(settings, key=lambda s: len(s[0]))[0]}))[1]
    if kept and ("setting", tuple(kept.items())) not in done and ("built", tuple(kept.items())) not in done:
        done[("built", tuple(kept.items()))] = built = _setting(_transformers(), done["config"], kept, PROBES[0], None,
                                                                run=False)
        if built[0] is not None:
            settings.append((kept, built[0]))
    twins = [({**values, **other}, {n: t.shape for n, t in (*reference.named_parameters(),
                                                              *reference.named_buffers())})
             for other, reference in settings]
    # and each count of heads doubled alone (Unlimited-OCR's text head size, hidden_size / num_attention_heads,
    # which a number of 128 took the place of where both double)
    for name in [k for k in values if _is_heads(k)]:
        other = {name: 2 * values[name]}
        twins.append(({**values, **other}, _alone_shapes(done, other)))

    def size(d, n, there, name, axis):
        if all(_value(d, at) == m for at, m in there):
            return d
        if all(m == n for _, m in there):
            return sp.Integer(n)
        found = {f for f in seen.get(n, set()) | {_symbol(k) for k, v in values.items() if v == n}
                 if _value(f, values) == n and all(_value(f, at) == m for at, m in there)}
        if len(found) > 1:        # fields of one number that a setting of them all moves alike
            found = _told_apart(found, values,
                                lambda other: (_alone_shapes(done, other).get(name) or ())[axis:axis + 1])
        return next(iter(found)) if len(found) == 1 else d
    fixes = {}
    for name, tensor in [*model.named_parameters(), *model.named_buffers()]:
        found = [(at, theirs[name]) for at, theirs in twins if name in theirs and len(theirs[name]) == tensor.dim()]
        if not found:
            continue
        dims = shapes.of(tensor)
        fixed = tuple(size(d, n, [(at, twin[k]) for at, twin in found], name, k)
                      for k, (d, n) in enumerate(zip(dims, tensor.shape)))
        if fixed != dims:
            fixes[id(tensor)] = fixed
    return fixes


# Fields changed alone, at most, to tell apart formulas of one number (`_told_apart`)
TOLD_APART = 6


def _told_apart(found: set, values: dict, size_at) -> set:
    """Those of the formulas `found`, equal at the config, that transformers' builds with each
    field they name changed alone also give, each shown by a build where its value moved and the
    size moved with it (never by the others failing: a size that is a list's number follows none):
    `size_at(fields set)` is the size there, as a 1-tuple, () where that build has none. (The
    encoder's and the decoder's max_position_embeddings of a BERT-to-BERT model are both 512, and
    both double where every field does.)"""
    symbols = {f: {str(s) for s in sp.sympify(f).free_symbols if str(s) in values} for f in found}
    confirmed, tried = set(), 0
    for field in sorted(set().union(*symbols.values())):
        if tried == TOLD_APART or len(found) <= 1 and found <= confirmed:
            break
        if not any(field in symbols[f] for f in found):
            continue
        tried += 1
        other = {field: values[field] + 1 if _is_depth(field) else 2 * values[field]}
        there = size_at(other)
        if there:
            at = {**values, **other}
            found = {f for f in found if _value(f, at) == there[0]}
            confirmed |= {f for f in found if _value(f, at) != _value(f, values)}
    return found & confirmed


def _alone_build(done: dict, other: dict, keep: frozenset | None = None) -> tuple | None:
    """(counts, {tensor name: shape}) of transformers' build with the fields `other` set alone, None
    where it builds none: one build for `each_field_alone`'s counts and the corrections' shapes (kept
    in `done`, whose "config" is the config's). `keep`: the program's fields, where transformers
    builds none otherwise: built with the rest of the stated fields `_restored` left out."""
    def counted(make):
        try:
            built = make()
        except Exception:
            return None
        return _counts(built), {n: tuple(t.shape) for n, t in (*built.named_parameters(), *built.named_buffers())}
    key = ("alone", tuple(other.items()))
    if key not in done:
        done[key] = counted(lambda: _rebuilt(_transformers(), done["config"], other))
    if done[key] is None and keep is not None:
        key = (*key, keep)
        if key not in done:
            done[key] = counted(lambda: _left_out(done, other, keep))
    return done[key]


def _left_out(done: dict, other: dict, keep: frozenset):
    """transformers' model with the fields `other` set and the config's stated fields that come back
    alike where they are left out (`_restored`) left out, but those of `keep`: D-FINE's saved
    head_dim, d_model / decoder_attention_heads, which its validator holds d_model to, is computed
    again at the d_model set."""
    config = done["config"]
    out = _restored(done) - set(other) - keep
    if not out:
        raise ImportProblem("no stated field to leave out")
    data = {k: v for k, v in _with_fields(config, other).items() if k not in out}
    return _built_from(_transformers(), config, data)


def _restored(done: dict) -> frozenset:
    """The config's stated whole-number fields that transformers gives the same value where they
    are left out (a saved head_dim it computes again, a field at its default), kept in `done`."""
    if "restored" not in done:
        config, found = done["config"], set()
        fields = _fields_of(config)
        for name, value in fields.items():
            if type(value) is not int:
                continue
            try:
                again = _transformers().AutoConfig.for_model(config["model_type"],
                                                             **{k: v for k, v in fields.items() if k != name})
            except Exception:
                continue
            if getattr(again, name, None) == value:
                found.add(name)
        done["restored"] = frozenset(found)
    return done["restored"]


def _alone_shapes(done: dict, other: dict) -> dict:
    """{tensor name: shape} of transformers' build with the fields `other` set alone, {} where it
    builds none."""
    built = _alone_build(done, other)
    return built[1] if built is not None else {}


def _alone_outputs(done: dict, other: dict, keep: frozenset | None = None) -> dict:
    """`_outputs_of` a pass of transformers' build with the fields `other` set alone (each module's
    first input and output shapes, the tensors it returns), {} where it builds none or its pass fails
    (kept in `done`); `keep` as `_alone_build`'s, where transformers builds none otherwise."""
    def shapes(make):
        try:
            built = make()
            return _outputs_of(built, _entry(built), PROBES[0], done.get("device"))
        except Exception:
            return {}
    key = ("alone outputs", tuple(other.items()))
    if key not in done:
        done[key] = shapes(lambda: _rebuilt(_transformers(), done["config"], other))
    if keep is not None and _alone_build(done, other) is None:
        key = (*key, keep)
        if key not in done:
            done[key] = shapes(lambda: _left_out(done, other, keep))
    return done[key]


def _outputs_of(model, entry: Entry, tokens: int, device: str | None) -> dict:
    """{module path: its first call's output shape, (path, "input"): that call's input's, ("",
    "returned"): the shapes of every tensor the model returns} in one forward pass, where
    `_whole_pass` runs it. On the CPU, only the shapes two twins of other weights (from two seeds)
    agree on: FastSpeech 2's output is as long as the durations its weights predict, so a shape
    that follows the weights' values is none a formula could be checked against."""
    if device != "cpu":
        return _shapes_in_pass(model, entry, tokens, device or "meta")
    if _bytes(model) > CPU_PASS_BYTES:
        return {}
    seen = [_on_twin(model, seed, lambda twin: _shapes_in_pass(twin, entry, tokens, "cpu")) for seed in (0, 1)]
    return {k: v for k, v in seen[0].items() if seen[1].get(k) == v}


def _shapes_in_pass(model, entry: Entry, tokens: int, device: str) -> dict:
    outputs: dict = {}

    def record(path):
        def hook(module, args, kwargs, output):
            for key, y in ((path, _first_tensor(output)), ((path, "input"), called_with(args, kwargs))):
                if y is not None:
                    outputs.setdefault(key, tuple(y.shape))
        return hook
    handles = [m.register_forward_hook(record(path), with_kwargs=True) for path, m in model.named_modules()]
    try:
        outputs[("", "returned")] = _pass_on(model, entry, tokens, device, count=False)[0]
    finally:
        for h in handles:
            h.remove()
    return outputs


def _first_layer(read: tuple) -> tuple[frozenset, frozenset]:
    """The fields the example's first layer follows (a patch's size; not those its output has, its
    width), as `_Writer.size` names those of a layer that gives a size no formula has: those its
    weights are counted in, and those of the sizes its modules keep beside them."""
    _, values, _, _, units, _, runs, *_ = read
    first = next((i for i in runs[0].order if runs[0].calls[i].reads_input), None)
    if first is None:
        return frozenset(), frozenset()
    return _followed(units[first], values, tuple((runs[0].calls[first].output or ())[1:]))


def _built_settings(done: dict) -> list[tuple[dict, object]]:
    """(fields set, transformers' model) of each second setting `done` holds a build of: the checks'
    (`_unconfirmed`, `_ratios`) and the corrections' own ("built")."""
    return [(dict(k[1]), v[0]) for k, v in done.items()
            if isinstance(k, tuple) and k[0] in ("setting", "built") and v[0] is not None]


def _floored(done: dict) -> frozenset:
    """The divisions of fields whole at the config (the program's `where a % b == 0`) that are not
    at a setting transformers built (`done`'s second settings): it floors them there, as Parakeet's
    mel bins after three convolutions of stride 2, 80 // 8, are 160 // 64 where the stride is 4."""
    built = [other for other, _ in _built_settings(done)]
    floored = set()
    # (each symbolic read's: one with fields pinned has their numbers in its divisions)
    for read in [v for k, v in done.items() if isinstance(k, tuple) and k[:2] == ("read", True)]:
        values, divisions = read[1], read[8][1]
        for a, b in divisions:
            for other in built:
                at = {**values, **other}
                n, d = _value(a, at), _value(b, at)
                if n is not None and d and n % d:
                    floored.add((a, b))
    return frozenset(floored)


def _pinned(config: dict, source: str, done: dict, fields: frozenset, kept: frozenset) \
        -> tuple[str | None, str | None, str | None, frozenset | None]:
    """The program of a model over an example of fixed size (an image, a second of audio), whose
    feature maps' sizes are the example's numbers, no formulas of the config's fields: in the
    fields but those the example's sizes follow — first the input's own (image_size), then also
    those of the layer that gave the first such size (a patch's size: `fields`, its weights') — where
    it holds at a second setting, shapes and MACs too (then also those its modules keep beside their
    weights, `kept`: a convolution's stride, which no weight has; then each of those with the fields
    kept by the later layers that gave such numbers, `_Writer.numbered_by`); else None, why not, the
    last program that did not hold and the fields it pinned (None where none was written)."""
    read = done[("read", True)]
    entry, values = read[5], read[1]
    lines = "\n".join([entry.line] + [t.line for t in entry.towers])
    first = frozenset(n for n in re.findall(r"[A-Za-z_]\w*", lines) if n in values)
    why, doubted, tried = None, None, None
    candidates = list(dict.fromkeys((first, first | fields, first | fields | kept)))
    for pinned in candidates:
        key = _read_key(True, pinned)
        for checked in (False, True):
            if checked and not _fixes(done, key):
                break
            try:
                text, doubt = _in_fields(config, source, done, pinned, checked, example=True)
            except (_Numbers, ImportProblem):
                continue
            if doubt is None:
                return text, None, None, pinned
            why, doubted, tried = why or doubt, text, pinned
        # the example's numbers a later layer gave follow the sizes it keeps too (SwiftFormer's
        # downsampling convolutions' kernel, down_patch_size; Pocket TTS's last one's stride): those pinned also
        more = pinned | done.get((key, "numbered by"), frozenset())
        if more not in candidates:
            candidates.append(more)
    return None, why, doubted, tried


def _check_counts(config: dict, text: str, done: dict | None = None) -> None:
    """Refuse a program that is not a valid chain, or whose counts at the config's own values are not
    transformers' (a tensor the module tree did not reach): never a partial model. Where the passes
    `done` holds ran (and their calls were read as one chain), each output of the program must be a
    tensor the config's own pass returns, else its layers are not one chain (Pocket TTS's, whose
    decoder layers the pass calls on the audio's latents, ended at the token ids' (7,))."""
    from ...errors import ShapeError, SymparamsError, UnknownName
    from ...interpreter import parse
    counted = done.get("counts") if done is not None else None     # (one build for every program written)
    if counted is None:
        model = build(config, symbolic=False)[0]
        counted = (type(model).__name__, _counts(model))
        if done is not None:
            done["counts"] = counted
    name, counts = counted
    try:
        program = parse(text, "config.json")
        ev = program.evaluate({})
    except SymparamsError as e:
        # a shape its chain does not have, a size it does not bind: its layers are not one chain
        problem = _Unchained if isinstance(e, (ShapeError, UnknownName)) else ImportProblem
        raise problem(f"the general route cannot write {name} as one chain of its layers "
                      f"({e.message.splitlines()[0][:200]})",
                      hint="a template for this model type is needed; please report it with its config.json") \
            from None
    for what, want, have in zip(("parameters", "trainable parameters", "buffer numbers"), counts,
                                (ev.params, ev.trainable, ev.buffers)):
        if want != have:
            raise ImportProblem(f"the general route counts {have:,} {what} where transformers builds {want:,}: "
                                "a part of this model is not reached", hint="a template for this model type is "
                                "needed; please report it with its config.json")
    runs = None if done is None or "assumed" in done else \
        next((read[6] for key, read in done.items() if isinstance(key, tuple) and key[0] == "read" and read[6]), None)
    if runs:
        try:
            shape = _unreturned(program, program.evaluate(_lengths(program, PROBES[0])), runs[0].outputs)
        except SymparamsError as e:
            shape = e.message.splitlines()[0][:120]
        if shape is not None:
            raise _Unchained(f"the general route's chain of {name}'s layers ends at {shape}, "
                             "which its forward pass returns no tensor of",
                             hint="a template for this model type is needed; please report it with its config.json")


def _unreturned(program, ev, returned) -> tuple | None:
    """The first output shape of the program (evaluated, `ev`) that is none of the shapes a forward
    pass `returned` (batch axis first), or None."""
    given = {tuple(s[1:]) for s in returned}
    return next((shape for out in program.outputs if (shape := tuple(ev.shape(out.shape))) not in given), None)


def _unconfirmed(config: dict, text: str, done: dict, held_out: bool = False) -> tuple[str | None, str | None]:
    """Why the program's counts or output shape do not hold at a second setting of its symbols, and
    why its MACs do not; None where they do. The setting is the boldest of `_second_settings` at
    which transformers both builds the model and runs its forward pass, and the next one after it
    as well (`_ratios`: the heads kept; `done` keeps each setting's build and pass, for the program
    written again without MACs, and where the config's passes ran).
    `held_out`: its sizes were corrected at the settings built so far (`_corrections`: these, the
    heads kept, each count of heads doubled alone), so its counts must hold at a setting of every
    field tripled (or the next of those that builds), which none was fitted to, as well."""
    from ...errors import SymparamsError
    from ...interpreter import parse
    transformers = _transformers()
    model = parse(text, "config.json")
    # every field the program names, as the config transformers builds holds it (a tower's too)
    as_built = _built_config(config)
    if as_built is None:
        return "transformers could not read this config again", None
    known = {_field_symbol(key) for key in _whole_fields(as_built)}
    fields = {k: int(v) for k, v in model.defaults.items() if k in known and k != "sequence_length"}
    if not fields:
        return None, None
    tokens, built, failed = PROBES[0], None, None
    settings = list(_second_settings(fields))
    if held_out:          # sizes corrected by a second build: counts at settings they were not fitted to
        held, _ = _ratios(model, list(_second_settings(fields, 3)), None, (transformers, config), tokens,
                       held_out=True)
        if held is not None:
            return held, None
    # no pass of its own measured (its shapes assumed, its MACs not stated): its counts alone are checked
    assumed = done.get("device") is None
    for n, other in enumerate(settings):
        key = ("setting", tuple(other.items()))
        if key not in done:
            done[key] = _setting(transformers, config, other, tokens, done.get("device"), run=not assumed)
        reference, ran, problem = done[key]
        if reference is None:                    # a setting transformers does not take: try a milder one
            failed = failed or problem
            continue
        built = built or (other, reference)
        if assumed:
            doubt, _ = _compare(model, other, reference, None, tokens)
            return doubt or _ratios(model, settings[n + 1:], other, (transformers, config), tokens, done=done,
                                    run=False)[0], None
        if ran is None:        # builds but does not run there (Helium's o_proj): its counts still hold there
            doubt, _ = _compare(model, other, reference, None, tokens)
            if doubt is not None:
                return doubt, None
            continue
        doubt, macs = _compare(model, other, reference, ran, tokens)
        if doubt is not None:
            return doubt, macs
        # (where the pass ran: at the next setting its output's shape and MACs must hold too)
        ratios, macs_there = _ratios(model, settings[n + 1:], other, (transformers, config), tokens, done=done)
        return ratios, macs or macs_there
    if built is None:
        return failed, None
    other, reference = built                     # counts checked; no forward pass to check the rest
    doubt, _ = _compare(model, other, reference, None, tokens)
    try:
        model.evaluate(other).macs
    except SymparamsError:
        return doubt, None
    return doubt, "its forward pass did not run at any second setting"


def _with_fields(config: dict, other: dict, lists: bool = False) -> dict:
    """The config's fields with `other` set, each by its symbol: a tower's field (`text_hidden_size`)
    in its sub-config, as `_sized_fields` names them (`lists`: as `_set_fields`)."""
    built = _built_config(config)
    keys = {_field_symbol(key): key for key in _whole_fields(built)} if built is not None else {}
    return _set_fields(_fields_of(config), {keys.get(name, ((), name)): value for name, value in other.items()},
                       built, lists=lists)


def _settable(transformers, config: dict, other: dict) -> dict:
    """The config's fields with `other` set, as `_rebuilt` builds them (to import the config again;
    where transformers builds nothing from them, the import says why)."""
    try:
        return _rebuilt_from(transformers, config, other)[1]
    except Exception:
        return _with_fields(config, other, lists=True)


def _built_config(config: dict):
    """The config transformers builds from the user's `config`, or None where it does not."""
    transformers = _transformers()
    try:
        return transformers.AutoConfig.for_model(config["model_type"], **_fields_of(config))
    except Exception:
        return None


def _alone(config: dict, text: str, done: dict) -> str | None:
    """Why the counts do not hold where one count of layers, or of heads, is changed alone (one
    layer more; twice the heads), or None. Settings that change every field together hide a layer
    counted by another list's field of the same number (T5Gemma 2's twelfth text layer, counted by
    its vision tower's), and a size that follows the widths' ratio to the heads (CLVP's rotary
    table, hidden_size / num_attention_heads long)."""
    return next((doubt for _, doubt in each_field_alone(config, text, done) if doubt), None)


def each_field_alone(config: dict, text: str, done: dict, every: bool = False):
    """(field, why the counts do not hold there, or None) for each count of layers and of heads the
    program names (`every`: each field it names, and where its pass was measured, its output's shape
    checked there too) changed alone — a count of layers one more and
    doubled, any other field doubled — against transformers rebuilt there; where the program's own
    `where` refuses the setting, the why is "" (no doubt, but no check either); where it refuses it
    otherwise (a size no whole number there), that is the why. Settings transformers refuses are
    skipped, but a count of layers it refuses at both is a doubt: the formula in it is checked at no
    other count. `done` keeps each rebuild's counts."""
    from ...errors import SymparamsError
    from ...interpreter import parse
    model = parse(text, "config.json")
    lengths = _lengths(model, PROBES[0])
    # a count of layers one more and twice as many: a pattern of layers whose last the config makes
    # another kind (Gemma 4's, full attention) holds one more, as `num_hidden_layers - 29` of the
    # last kind, and fails at twice as many
    settings = [{name: setting} for name, value in model.defaults.items()
                if name not in lengths and (every or ("layer" in name or "head" in name) and "dim" not in name)
                for setting in dict.fromkeys((int(value) + 1, 2 * int(value)) if _is_depth(name) else
                                             (int(value) + 1,) if "layer" in name else (2 * int(value),))]
    refused: dict = {}
    keep = frozenset(model.defaults)      # (the program's fields: a rebuild leaves none of them out)
    done.setdefault("config", config)
    for other in settings:
        name = next(iter(other))
        built = _alone_build(done, other, keep)
        if built is None:
            refused.setdefault(name, []).append(other[name])
            if _is_depth(name) and len(refused[name]) == len([o for o in settings if name in o]):
                yield name, f"transformers builds no model with {name} changed alone (to " \
                            f"{' or '.join(map(str, refused[name]))}), so no formula in it is checked"
            continue
        try:
            ev = model.evaluate({**other, **lengths})
        except SymparamsError as e:
            # a `where` the setting breaks (`heads % kv_heads == 0`) leaves it unchecked; a size that is
            # no whole number there is a formula transformers' build disproves
            where = any(e.message.startswith(f"{c.text}, which does not hold at") for c in model.constraints)
            yield name, "" if where else f"at {_settings(other)} alone the program refuses: " \
                                         f"{e.message.splitlines()[0][:120]}"
            continue
        doubt = _counts_differ(f"{_settings(other)} alone", built[0], (ev.params, ev.trainable, ev.buffers))
        if doubt is None and every and done.get("device") is not None and "assumed" not in done:
            # (its counts hold there, its output's shape may not: MobileViT v2's 512 channels, its
            # ffn_multiplier times 256 by value)
            returned = _alone_outputs(done, other, keep).get(("", "returned"))
            missing = _unreturned(model, ev, returned) if returned else None
            if missing is not None:
                doubt = f"at {_settings(other)} alone transformers gives no output of {missing}, which the formulas say"
        yield name, doubt


def _lengths(model, tokens: int) -> dict:
    """The program's lengths, where it has them, at the passes' first: a decoder's target too."""
    return {k: v for k, v in (("sequence_length", tokens), ("target_length", TARGETS[0])) if k in model.defaults}


def _counts_differ(at: str, theirs: tuple, ours: tuple) -> str | None:
    """Where the program's (parameters, trainable, buffers) are not transformers', which, at `at`."""
    for what, want, have in zip(("parameters", "trainable parameters", "buffer numbers"), theirs, ours):
        if want != have:
            said = f"{int(have):,}" if sp.sympify(have).is_integer else str(have)    # (a formula not whole there)
            return f"at {at} transformers builds {want:,} {what}, the formulas say {said}"
    return None


def _ratios(model, settings: list, checked: dict | None, build: tuple, tokens: int, held_out: bool = False,
            done: dict | None = None, run: bool = True) -> tuple[str | None, str | None]:
    """Why the counts do not hold where the heads keep their number and the widths grow (the next
    setting that builds), or None: every field doubled keeps each ratio of fields, so a size the
    modeling code computed through `int(hidden_size / num_attention_heads)` and a formula holding
    only the product of it pass that first check alike; and why the MACs do not, or None. `done`
    (where the config's pass ran; it keeps the setting's build and pass): the output's shape and
    the MACs are checked there too, where that pass runs (GOT-OCR2's 64 patches a side, the
    example's, are no hidden_size / num_attention_heads of 64); not `run`: its build is kept there, no
    pass run (a model whose own pass did not run). `held_out`: the settings are ones no size was
    corrected at, and one of them must build."""
    transformers, config = build
    for other in settings:
        if other == checked or not other:
            continue
        key = ("setting", tuple(other.items()))
        found = done.get(key) if done is not None else None
        if found is None:
            found = _setting(transformers, config, other, tokens, (done or {}).get("device"),
                             run=run and done is not None)
            if done is not None:
                done[key] = found
        reference, ran, _ = found
        if reference is not None:
            return _compare(model, other, reference, ran, tokens)
    return ("no setting but the one its sizes were corrected at builds" if held_out else None), None


def _rebuilt(transformers, config: dict, other: dict):
    """The model transformers builds, on meta, from the config with the fields `other` set; where it
    builds none, its lists of an item per layer made as many as its layers (`_with_fields(lists=True)`)."""
    return _rebuilt_from(transformers, config, other)[0]


def _rebuilt_from(transformers, config: dict, other: dict) -> tuple:
    """(the model `_rebuilt` builds, the fields it builds it from)."""
    data = _with_fields(config, other)
    try:
        return _built_from(transformers, config, data), data
    except Exception:
        again = _with_fields(config, other, lists=True)
        if again == data:
            raise
        return _built_from(transformers, config, again), again


def _built_from(transformers, config: dict, data: dict):
    import torch
    rebuilt = transformers.AutoConfig.for_model(config["model_type"], **data)
    archs = config.get("architectures")
    cls = _model_class(transformers, rebuilt, archs[0] if isinstance(archs, list) and archs else None)
    with torch.device("meta"):
        return _made(cls, rebuilt)


def _setting(transformers, config, other, tokens, device, run: bool = True):
    """(model, (output shape, MACs) of its pass, or None where it fails or is not `run`, why it did
    not build) at a second setting."""
    try:
        reference = _rebuilt(transformers, config, other)
    except Exception as e:
        return None, None, f"rebuilding at {_settings(other)} failed ({type(e).__name__})"
    if not run:
        return reference, None, None
    try:
        return reference, _whole_pass(reference, _entry(reference), tokens, device), None
    except Exception:
        return reference, None, None


def _compare(model, other, reference, ran, tokens) -> tuple[str | None, str | None]:
    from ...errors import SymparamsError
    at = _settings(other)
    try:
        ev = model.evaluate({**other, **_lengths(model, tokens)})
        got = (ev.params, ev.trainable, ev.buffers)
    except SymparamsError as e:                  # the program refuses a setting transformers builds
        return f"at {at} the program refuses: {e.message.splitlines()[0][:120]}", None
    doubt = _counts_differ(at, _counts(reference), got)
    if doubt is not None or ran is None:
        return doubt, None
    shape, macs = ran
    # each of the program's outputs is one of the model's: a tower's embedding, a pooled state
    missing = _unreturned(model, ev, shape)
    if missing is not None:
        return f"at {at} transformers gives no output of {missing}, which the formulas say", None
    try:
        stated = ev.macs
    except SymparamsError:
        return None, None                         # nothing claimed
    if stated != macs:
        return None, f"at {at} the forward pass makes {macs:,} MACs, the formulas say {stated:,}"
    return None, None


def _second_settings(fields: dict, factor: int = 2):
    """Settings to check the formulas at, boldest first: every field doubled, or `factor` times
    (each count of layers factor - 1, factor, ... more); then the heads and their sizes kept; then
    only the layers, the vocabulary and the widths that divide nothing; then only the layers."""
    heads = [k for k in fields if "head" in k or k.endswith("_dim")]
    # each count of layers grown by another step, so an encoder's and a decoder's are told apart
    layers = {k: factor - 1 + n for n, k in enumerate(k for k in fields if "layer" in k)}
    yield {k: v + layers[k] if k in layers else v * factor for k, v in fields.items()}
    yield {k: v + layers[k] if k in layers else v * factor for k, v in fields.items() if k not in heads}
    yield {k: v + layers[k] if k in layers else v * factor for k, v in fields.items()
           if k in layers or "vocab" in k or "intermediate" in k}
    # (where layer_types fix the depth)
    yield {k: v * factor for k, v in fields.items() if "vocab" in k or "intermediate" in k}
    yield {k: fields[k] + layers[k] for k in layers}     # (a validator that ties the widths to one another)


def _whole_pass(model, entry: Entry, tokens: int, device: str | None = None) -> tuple[tuple, int]:
    """The output's shape and the MACs of one forward pass: on meta, else on the CPU where the model
    fits (BART's decoder checks its own all-ones mask with `.item()`). `device` is where the config's
    own passes ran: the same modeling code, so where they ran on meta a pass failing there fails for
    the model itself (Helium's o_proj at other head counts) and no CPU twin is built for it; where
    they needed the CPU, meta is not tried first; there, two twins of other weights must make the
    same pass, else it tells no formula anything."""
    if device != "cpu" or _bytes(model) > CPU_PASS_BYTES:
        try:
            return _pass_on(model, entry, tokens, "meta")
        except Exception:
            if device == "meta" or _bytes(model) > CPU_PASS_BYTES:
                raise
    ran = [_on_twin(model, seed, lambda twin: _pass_on(twin, entry, tokens, "cpu")) for seed in (0, 1)]
    if ran[0] != ran[1]:
        # (FastSpeech 2's output is as long as the durations its weights predict: no formula's)
        raise ImportProblem("its forward pass's output shape or MACs follow its weights' values")
    return ran[0]


def _twin(model):
    """The model built again on the CPU: its buffers' values set (position ids, tables)."""
    import torch
    with torch.device("cpu"):
        return _made(type(model), model.config)


@contextlib.contextmanager
def _seeded(seed: int):
    """Draws from `seed` (a CPU twin's weights, its pass's own), the caller's random state untouched:
    a pass is the same pass each time, and twins of two seeds tell a pass whose output follows the
    weights' values."""
    import torch
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        yield


def _on_twin(model, seed: int, run):
    """`run(twin)` on the model's CPU twin, its weights and the pass's own draws from `seed`."""
    with _seeded(seed):
        return run(_twin(model))


def _bytes(model) -> int:
    return sum(t.numel() * t.element_size() for t in (*model.parameters(), *model.buffers()))


def _pass_on(model, entry: Entry, tokens: int, device: str, count: bool = True) -> tuple[tuple, int | None]:
    """(the shapes of the tensors a forward pass returns, its MACs; None where not `count`ed)."""
    import torch
    from torch.nn.attention import SDPBackend, sdpa_kernel
    inputs = entry.tensors(model, tokens, device, TARGETS[0])
    if "use_cache" in _parameters(model):
        inputs["use_cache"] = False
    counter = forward_counter() if count else contextlib.nullcontext()
    with torch.no_grad(), one_thread(device), _patched_masks(), sdpa_kernel(SDPBackend.MATH), counter:
        out = model(**inputs)
    shapes = tuple(tuple(t.shape) for t in _tensors(out.to_tuple() if hasattr(out, "to_tuple") else out))
    if not count:
        return shapes, None
    if not entry.towers:
        return shapes, counter.get_total_flops() // 2
    return shapes, children_macs(counter, model)      # a model of towers: not the logits between them


def _settings(values: dict) -> str:
    return ", ".join(f"{k}={v}" for k, v in values.items())


def _read(config: dict, symbolic: bool, pinned=frozenset(), floored=frozenset()) -> tuple:
    """(model, values, shapes, class name, units, entry, measured passes or None, why they did not run,
    the build's sizes: Field.seen and Field.divisions, which the next build starts afresh)."""
    model, values, shapes, arch = build(config, symbolic, pinned, floored)
    from transformers import PreTrainedModel
    units = _units(model, shapes, also=(PreTrainedModel,), whole_items=True)
    entry, runs, unmeasured = None, None, None
    try:
        entry = _entry(model)
        runs = _measured(model, units, entry)
    except ImportProblem as e:       # MACs not known; each layer's output taken as its input's shape
        unmeasured = e.message
        if entry is None:
            name = _main_input_name(model)
            if not isinstance(name, str):          # (OneFormer's: pixel values and a task's text) the first
                name = name[0]
            image = _image(model.config) if name == "pixel_values" else None
            entry = image or Entry(name, f"{name} = input (sequence_length){' int' if name.endswith('_ids') else ''}",
                                   True)
    return model, values, shapes, arch, units, entry, runs, unmeasured, (Field.seen, Field.divisions)


def _program(config: dict, source: str, symbolic: bool, note: str | None = None, macs: bool = True,
             done: dict | None = None, pinned: frozenset | None = None, checked: bool = False,
             lone: bool = False, example: bool = False, structure: dict | None = None) -> str:
    """The program; `pinned` (a set, maybe empty): fields written as numbers — where `example`, the
    fields an example's sizes follow, and those sizes too; `structure`: {field: why} for those of them
    its structure follows in a way no formula states; `checked`: each weight's sizes that were found
    by their value alone checked against transformers' build at a second setting (`_corrections`);
    `lone`: one layer after others of its list written as itself, never as the rest of the list."""
    done = {} if done is None else done
    key = _read_key(symbolic, pinned)
    if key not in done:
        done[key] = _read(config, symbolic, pinned or frozenset(), done.get("floored", frozenset()))
    model, values, shapes, arch, units, entry, runs, unmeasured, sizes = done[key]
    Field.seen, Field.divisions = sizes           # (the sizes a weight's formula is looked up among)
    shapes.corrected = {}
    if checked and _fixes(done, key):
        units, shapes.corrected = done[(key, "checked")]
    called = runs[0].order if runs else None
    if "assumed" in done:      # (the order its pass called its layers in is kept)
        runs, unmeasured = None, done["assumed"]
    if symbolic:
        done["device"] = runs[0].device if runs else None
    w = _Writer(shapes, dict(values), symbolic)
    w.macs, w.pinned = macs, pinned is not None and example
    if symbolic and "config" in done and runs:
        w.tell_apart = lambda value, unit, axis, found, given=False: _told_apart(
            found, values, lambda other: (_alone_outputs(done, other).get((unit.path, "input") if given else unit.path)
                                          or ())[axis + 1:axis + 2])
    structure = structure or {}
    every = done[("read", True)][1] if pinned else values       # (the config's fields, pinned or not)
    w.numbers = {every[n] for n in structure}
    w.entry = entry
    encoder = _encoder_path(model) if w.entry.decoder else None
    if runs:
        calls, order, _ = runs[0]
    else:                     # (an encoder-decoder's encoder and decoder each from its first embedding)
        order = list(range(len(units))) if called is None else called
        calls = _assumed_calls(units, order, lambda unit: encoder is not None and unit.path.startswith(encoder + "."))
    if not w.entry.text:
        w.tokens = None
    if encoder is not None and runs and not all(run.kept for run in runs):
        raise _Unchained("the general route reads an encoder-decoder's two chains from its forward pass, where no "
                         "encoder output was seen")

    entries = {"main": w.entry, **{t.name: t for t in w.entry.towers}}
    # a module outside the encoder that maps the encoder's output before the decoder's layers read it
    # (Cohere ASR's decoder.proj, the encoder's hidden_size to the decoder's): the last line of the
    # encoder's chain, whose output is the tensor the decoder's layers take beside their own
    ends = None if encoder is None or not runs else next(
        (i for i in order if calls[i].input_id == runs[0].encoded and calls[i].output_id is not None
         and not units[i].path.startswith(encoder + ".")
         and any(calls[i].output_id in calls[j].tensors for j in order if j != i)), None)
    encoded = calls[ends].output_id if ends is not None else runs[0].encoded if runs else None

    def chain(i):
        """The chain a unit is on: an encoder-decoder's encoder or decoder; in a model of towers, the
        tower whose input alone its input was computed from."""
        if encoder is not None:
            return "encoder" if units[i].path.startswith(encoder + ".") or i == ends else "main"
        origin = {owner.get(o, o) for o in calls[i].origin if isinstance(o, str)} if i in calls else set()
        return next(iter(origin)) if len(origin) == 1 and next(iter(origin)) in entries else "main"
    # what an input needs beside it (SigLIP 2's patches' mask and grid) is of its chain
    owner = {b: c for c, e in entries.items() for b in e.beside}
    if runs:
        w.leaves = runs[0].leaves
        w.called = {id(p) for i, c in calls.items() if c.times and not units[i].own
                    for p in units[i].module.parameters()}
    listed = list(order) + [i for i in range(len(units)) if i not in calls]
    lines, running, fed = [], {}, {}     # each chain's tensor: its shape, the unit that gave it
    shift: dict = {}                     # each chain's positions past its input's length (`_Writer.shift`)
    branched: list = []                  # the units read beside the chain into tensors of their own
    from transformers import PretrainedConfig
    towers = {k.removesuffix("_config") for k, v in vars(model.config).items() if isinstance(v, PretrainedConfig)}
    subs = sub_models(model)
    for c, e in entries.items():         # (wav2vec2's forward() adds a channel axis to its samples first)
        if not e.text and e.shape:
            running["encoder" if encoder is not None and c == "main" else c] = (1, *e.shape)
    # an image's (or audio's) chain runs over positions its example fixes (a ViT's patches and class
    # token): its layers' MACs are formulas over them too, each checked against every pass
    positions = {}
    for c, e in entries.items():
        if not e.text and encoder is None and runs:
            sizes = Counter(calls[i].inputs[1] for i in calls if chain(i) == c and len(calls[i].inputs) == 3
                            and calls[i].batched[0] and calls[i].times)
            if sizes:
                positions[c] = sizes.most_common(1)[0][0]
    for i in listed:
        w.candidates = _own_symbols(w.symbols, units[i].path, towers, subs)
        call, c = calls.get(i, Call()), chain(i)
        measured = [run[2][i] for run in runs] if runs else None
        later = [calls[j] for j in order[order.index(i) + 1:] if chain(j) == c] if i in calls else []
        # its t the decoder's length, s the encoder's (where no pass ran, each layer keeps its shape)
        decoder = encoder is not None and c == "main" and bool(runs)
        w.entry = entries.get(c, entries["main"])      # (an encoder-decoder's encoder reads the main input)
        sources = [run.kept[0].shape[1] for run in runs] if decoder else []
        if decoder:
            w.tokens, w.source = TARGETS[0], sources[0]
        else:
            w.tokens, w.source = (PROBES[0] + shift.get(c, 0) if w.entry.text else positions.get(c)), None
        w.fixed = not w.entry.text and c in positions
        w.lengths = tuple({SEQUENCE: u, SOURCE: s} for s, u in zip(sources, TARGETS)) if decoder else \
            tuple(p + shift.get(c, 0) for p in PROBES) if not w.fixed else (positions[c],) * len(PROBES)
        w.probes, w.shifted = [run.calls[i].output if i in run.calls else None for run in runs] if runs else [], 0
        if (encoder is not None or len(entries) > 1 or not entries["main"].text) and call.times and \
                not call.reads_input and running.get(c) \
                and call.inputs and tuple(call.inputs) != tuple(running[c]) and call.batched[0] and \
                fed.get(c, i) in call.origin | {i} and _on_path(call, later, call.inputs):
            # forward() reshaped the chain's tensor on the way: what it reads was made from that tensor
            # (towers: the root's own products, CLIP's logits, are no chain's)
            rest = all(run.total - (run.root_own if len(entries) > 1 else 0) == sum(run.macs[j] for j in run.calls)
                       for run in runs)
            glue = w.glue(tuple(running[c][1:]), tuple(call.inputs[1:]), units[i], rest)
            glue.chain = c
            lines.append(glue)
            running[c] = call.inputs
        # past the encoder's output (BERT's pooler, in a BERT-to-BERT model) nothing is the encoder's chain
        feeds = i in calls and _on_path(call, later, running.get(c)) and not (
            c == "encoder" and call.input_id is not None and runs and call.input_id == runs[0].encoded and i != ends)
        if feeds:
            running[c], fed[c] = call.output, i
        w.second = decoder and feeds and encoded in call.tensors
        # its products on the running tensor, made into a tensor the chain's layers take beside it
        # (Gemma 4's per-layer projection): written at its measured shapes, the chain's tensor kept
        branch = not feeds and bool(measured) and any(measured) and not call.reads_input and \
            call.output is not None and tuple(call.inputs) == tuple(running.get(c) or ()) and \
            tuple(call.output) != tuple(call.inputs)
        line = w.line(units[i], call, measured, feeds or branch)
        if feeds and w.shifted:        # (the chain's sequence is c longer from here: its layers' t)
            shift[c] = shift.get(c, 0) + w.shifted
        line.chain, line.input, line.second, line.feeds, line.branch = c, call.reads, w.second, feeds, branch
        if branch:
            branched.append(i)
        elif not feeds and i in calls and call.times and not call.reads_input and \
                tuple(call.inputs) != tuple(running.get(c) or ()):
            # what it reads was made from a branch, not the running tensor (Gemma 4's norm of its projection)
            line.source = next((units[j].path for j in reversed(branched) if j in call.origin), None)
        # (where no pass ran, each layer is taken to keep its shape)
        line.keeps = not runs or call.output is None or tuple(call.inputs[1:]) == tuple(call.output[1:])
        line.called = i in calls
        lines.append(line)
    merged: list[_Line] = []
    for line in lines:             # a run of identical layers is one repeat (those no pass called too)
        if merged and merged[-1].text == line.text and merged[-1].declared == line.declared and \
                merged[-1].chain == line.chain and _line_name(merged[-1].unit.path) == _line_name(line.unit.path) \
                and (line.feeds or not line.called and not merged[-1].called):
            merged[-1].count += 1
        else:
            merged.append(line)
    merged = _periodic(merged, w, _model_name(config, source))
    # (where the chain ends at the unit that last fed it, or at a run of its kind)
    if runs and len(entries) == 1 and encoder is None and "main" in fed and merged and \
            _line_name(merged[-1].unit.path) == _line_name(units[fed["main"]].path):
        w.entry, w.source = entries["main"], None
        w.fixed = not w.entry.text and "main" in positions
        w.tokens = PROBES[0] + shift.get("main", 0) if w.entry.text else positions.get("main")
        w.lengths = (positions["main"],) * len(PROBES) if w.fixed else tuple(p + shift.get("main", 0) for p in PROBES)
        merged += _returned(w, runs, running["main"], units[fed["main"]], towers, subs)
    reached = tuple(calls[ends].output if ends is not None else runs[0].kept[0].shape) if encoder is not None and runs \
        else None
    if reached is not None and tuple(running.get("encoder") or ()) != reached:
        raise _Unchained(f"the general route does not reach the encoder's output {reached[1:]} "
                         f"along its chain of layers in {type(model).__name__}",
                         hint="a template for this model type is needed; please report it with its config.json")
    w.entry = entries["main"]
    tensor = {"encoder": "x", "main": "y" if encoder is not None else "x",
              **{t: _TOWERS[t] for t in entries if t != "main"}}
    # before a chain's first line, it reads its input (CLIP's text embeddings read a view of the ids)
    current = {"encoder": w.entry.name, "main": "decoder_input_ids" if encoder is not None else w.entry.name,
               **{t: t for t in entries if t != "main"}}
    body, depths = [], _depths(model.config)
    beside: dict = {}                    # a branch's path -> its tensor's name
    for k, line in enumerate(merged):
        # (where no pass named what a line read: an encoder-decoder's decoder reads its own ids)
        first = "decoder_input_ids" if encoder is not None and line.chain == "main" else \
            entries.get(line.chain, entries["main"]).name
        reads = (line.input or first) if line.reads_input else current[line.chain]
        name = _unique(_line_name(line.unit.path), body)
        call = line.text.replace("name=?", f"name={name}")
        same = _same_list(merged[:k], line)
        before = sum(m.count for m in same)
        # one layer after others of its list is the rest of the list (DeepSeek's first MoE layer after
        # its dense ones, Qwen 3.5's last full-attention layer), but not where it changes its input's
        # shape (ConvNeXt's last stage) or comes after layers of several other kinds (Swin's stages)
        kinds = {m.text for m in same}
        if line.count > 1 or before and line.keeps and (len(kinds) == 1 or line.text in kinds) and not lone:
            count = _layer_count(_tower_values(values, line, towers), line.count, before, line.chain,
                                 encoder is not None, line.unit.path, depths) if symbolic else None
            if count is not None:
                w.used.add(count.split(" ")[0])
            if count is not None or line.count > 1:
                call = f"repeat({count or line.count}, {call})"
        if (line.reads_input or line.branch or line.source) and not line.feeds and not line.inner:
            # read beside the chain, its result on no path of it (Gemma 4's per-layer embeddings and
            # projection, which its layers take as a second input): a tensor of its own, the chain's kept
            body.append((name, f"{name} = {call}({beside.get(line.source, reads)})"))
            beside[line.unit.path] = name
            continue
        if call.startswith("embedding("):     # bound to its name, so a tied head can name it
            body.append((name, f"{name} = {call.replace(f', name={name}', '')}"))
            call = name
        target = "logits" if k == len(merged) - 1 and line.feeds and line.text.startswith("dense(") and \
            len(entries) == 1 else tensor[line.chain]
        body.append((name, f"{target} = {call}({reads}{', ' + tensor['encoder'] if line.second else ''})"))
        current[line.chain] = target
    names = [n for n in w.symbols if n in w.used]
    header = ", ".join(f"{n} = {w.symbols[n]}" for n in names)
    if w.entry.text:
        header += (", " if header else "") + f"sequence_length = {_length(values, model.config)}"
    if w.entry.decoder:
        header += (", " if header else "") + f"target_length = {_length(values, model.config)}"
    import transformers
    examples = sorted(set(pinned or ()) - set(structure))
    numbered = ", ".join(map(str, sorted(w.numbered)))
    if symbolic and example:
        done[(key, "numbered by")] = frozenset(w.numbered_by)
    out = [f"# {arch}, model_type {config.get('model_type')}, imported from {source}",
           f"# by `symparams import` through transformers {transformers.__version__} {GENERAL}:",
           "# counted as transformers builds it from this config; MACs and shapes measured by running its forward pass."
           if not unmeasured else
           "# counted as transformers builds it from this config. "
           f"{'Its layers are not one chain' if 'assumed' in done else 'Its forward pass did not run'}, so\n"
           "# the MACs of its own layers are not known and each but a dense layer is taken to keep its\n"
           "# input's shape:\n"
           f"# {unmeasured.splitlines()[0][:200]}",
           *([f"# Its feature maps are this example's numbers ({numbered}): no field of the config sets them."]
             if w.numbered and not pinned else []),
           *([f"# Its feature maps are this example's numbers{f' ({numbered})' if numbered else ''}, no formulas of "
              "the config's fields:", f"# {FOLLOWED} {', '.join(f'{n} = {every[n]}' for n in examples)}."]
             if examples and example else []),
           *([f"# {STRUCTURE} {', '.join(f'{n} = {every[n]}' for n in structure)}",
              f"# ({next(iter(structure.values()))})."] if structure else []),
           *([f"# {NUMBERS} in the fields' names they did not hold ({note})."]
             if note and not symbolic else
             [f"# Its layers' MACs are not stated: the formulas did not hold ({note})."] if note else []),
           *([f"# Its outputs are its towers': what {type(model).__name__}'s own forward() computes from them (every",
              "# text scored against every image) is no tensor of the program, and its MACs are not counted here."]
             if len(entries) > 1 else []),
           "convention torch", ""]
    declared = [text for line in merged for text in (*(inner.declared for inner in line.inner), line.declared)]
    for text in dict.fromkeys(text for text in declared if text):
        out += [text, ""]
    out.append(f"model {_model_name(config, source)}({header}):")
    wheres = [f"{_fmt(sp.Mod(a, b, evaluate=False))} == 0" for a, b in Field.divisions
              if _of_fields(a, b) and {str(x) for x in (a / b).free_symbols} <= set(names)]
    if wheres:
        out.append("    where " + ", ".join(dict.fromkeys(wheres)))
    # an input's size no weight is made from is the number the model takes (BLIP's 3 channels, which
    # its config's num_channels does not change)
    out.append("    " + re.sub(r"[A-Za-z_]\w*", lambda m: str(w.symbols[m[0]]) if m[0] in w.symbols and m[0] not in w.used
                                else m[0], w.entry.line))
    out += [f"    {text}" for _, text in body]
    if len(entries) > 1:          # each tower's output; what the root computes from them is no tensor here
        out.append(f"    output {', '.join(tensor[c] for c in entries if c in current and current[c] == tensor[c])}")
    return "\n".join(out) + "\n"



def _returned(w: _Writer, runs: list, last: tuple, unit: Unit, towers: set, subs: dict) -> list:
    """A line for what forward() makes of the chain's last tensor (`last`, from `unit`), where that
    is not what the pass returns (EfficientNet's pooled map flattened, DPR's first position): to the
    output of its size, else to the pass's only output; none where it is returned as it is."""
    outputs = set(runs[0].outputs)
    if tuple(last) in outputs:
        return []
    same = [s for s in outputs if math.prod(s) == math.prod(last)]
    given = same if len(same) == 1 else list(outputs)
    if len(given) != 1 or len(given[0]) < 2:
        return []
    w.candidates = _own_symbols(w.symbols, unit.path, towers, subs)
    rest = all(run.total == sum(run.macs[j] for j in run.calls) for run in runs)
    glue = w.glue(tuple(last[1:]), given[0][1:], unit, rest, after=True)
    glue.chain = "main"
    return [glue]


def _tower_values(values: dict, line, towers: set) -> dict:
    """The fields a line's run of layers may be counted by: those of no tower, and its own tower's —
    by its path (`vision_model.…`), else by the fields its formulas name (Aya Vision's text layers
    25 to 27 are not counted by the vision tower's 27)."""
    word = line.unit.path.split(".")[0].split("_")[0]
    own = {word} if word in towers else {t for t in towers for n in _symbols_in(line.text, values)
                                         if n.startswith(t + "_")}
    if not own:
        return values
    mine, any_tower = tuple(t + "_" for t in own), tuple(t + "_" for t in towers)
    return {k: v for k, v in values.items() if k.startswith(mine) or not k.startswith(any_tower)}


def _own_symbols(symbols: dict, path: str, towers: set, subs: dict) -> dict:
    """The symbols a module's sizes are looked up among by their value: in a tower (`text_model.…`),
    not another tower's fields (`vision_patch_size` is no size of a text layer, whatever number
    they share); its weights' own formulas may still hold any field (a projector's text width).
    `towers`: the config's sub-configs by their prefix (`text`, `vision`); `subs`: `sub_models`, whose
    modules' sizes are their own config's fields."""
    word = path.split(".")[0].split("_")[0]
    within = [p for p in subs if path == p or path.startswith(p + ".")]
    if within:
        prefix = subs[max(within, key=len)]
        return {k: v for k, v in symbols.items() if k.startswith(prefix)}
    if word not in towers:
        return symbols
    return {k: v for k, v in symbols.items() if not any(k.startswith(t + "_") for t in towers - {word})}


# a tower's tensor in the program, by the input it reads
_TOWERS = {"pixel_values": "image"}


def _depths(config, prefix: str = "") -> frozenset:
    """The fields that hold a config's count of layers under its own name (GPT-2's n_layer, XLM's
    n_layers: what its attribute_map reads num_hidden_layers as), a sub-config's prefixed."""
    from transformers import PretrainedConfig
    found = {prefix + config.attribute_map["num_hidden_layers"]} if "num_hidden_layers" in config.attribute_map else set()
    for name, value in vars(config).items():
        if isinstance(value, PretrainedConfig):
            found |= _depths(value, prefix + name.removesuffix("_config") + "_")
    return frozenset(found)


def _periodic(lines: list, w: _Writer, family: str) -> list:
    """Runs of a few layers from as many lists, called in turn (XLM's attentions[i], layer_norm1[i],
    ffns[i], layer_norm2[i]), each as one line: a block of one layer from each list, repeated."""
    def alike(a, b):
        return a.text == b.text and a.declared == b.declared and a.chain == b.chain and \
            _line_name(a.unit.path) == _line_name(b.unit.path)

    def plain(line):
        return line.count == 1 and line.feeds and not line.reads_input and not line.second and not line.inner and \
            not line.text.startswith("embedding(")
    out, k = [], 0
    while k < len(lines):
        best = (1, 1)
        for period in range(2, 9):
            window = lines[k:k + period]
            if len(window) < period or not all(plain(x) and x.chain == window[0].chain for x in window) or \
                    len({_line_name(x.unit.path) for x in window}) < period:
                continue
            n = 1
            while all(k + n * period + i < len(lines) and plain(lines[k + n * period + i]) and
                      alike(lines[k + n * period + i], window[i]) for i in range(period)):
                n += 1
            if n > 1 and n * period > best[0] * best[1]:
                best = (n, period)
        n, period = best
        if n == 1:
            out.append(lines[k])
            k += 1
            continue
        inner = lines[k:k + period]
        args = ", ".join(sorted({a for x in inner for a in _symbols_in(x.text, w.symbols)}))
        body = "\n    ".join(f"x = {x.text.replace('name=?', f'name={_line_name(x.unit.path)}')}(x)"
                              for x in inner) + "\n    return x"
        name = w.named(f"{_snake(family)}_layer", f"({args})(x):", body)
        first = inner[0].unit.path.rsplit(".", 2)
        path = (first[0] + "." if len(first) == 3 else "") + "layers"
        out.append(_Line(Unit(path, inner[0].unit.module), f"{name}({args}{', ' if args else ''}name=?)",
                         f"block {name}({args})(x):\n    {body}", False, True, count=n, chain=inner[0].chain,
                         inner=tuple(inner)))
        k += n * period
    return out


def _same_list(lines: list, line) -> list:
    """The lines just before `line` from its list of layers (T5's first block, which alone holds the
    position bias, before the run of the others)."""
    out = []
    for before in reversed(lines):
        if before.chain != line.chain or _line_name(before.unit.path) != _line_name(line.unit.path) or \
                before.unit.path.rsplit(".", 1)[0] != line.unit.path.rsplit(".", 1)[0]:
            break
        out.append(before)
    return out


def _layer_count(values: dict, count: int, before: int, chain: str, two: bool, path: str = "",
                 depths: frozenset = frozenset()) -> str | None:
    """A run of `count` identical layers after `before` others of its list, as the config's count of
    layers: the one field of layers (the encoder's in the encoder, the decoder's in the decoder; a
    tower's, `vision_num_hidden_layers` in `vision_model`; `depths`, the fields a config names
    num_hidden_layers by, GPT-2's n_layer) equal to their sum. None where no one field is (the
    number is written; the second setting checks it)."""
    if not two:
        names = [k for k, v in values.items() if (k.endswith("num_hidden_layers") or k in depths)
                 and v == count + before]
        tower = [k for k in names if k.split("_")[0] == path.split("_")[0]]
        names = tower if len(names) > 1 else names
        # (a decoder's list is not counted by the encoder's field: FastSpeech 2's)
        part = next((p for p in path.split(".") if p in ("encoder", "decoder")), None)
        other = {"encoder": "decoder", "decoder": "encoder"}.get(part)
        names = [k for k in names if not (other and k.startswith(other))]
    else:
        other = "decoder" if chain == "encoder" else "encoder"
        names = [k for k, v in values.items() if "layer" in k and other not in k and v == count + before]
        mine = "decoder" if other == "encoder" else "encoder"
        own = [k for k in names if mine in k]
        # where the config names its chain's own count of layers (Cohere ASR's encoder_num_hidden_layers),
        # a field of the other chain's that has the run's number by chance is no count of it (the ReLU
        # after the encoder's subsampling convolutions, eighth of its list, is not one of the decoder's 8)
        names = own or ([] if any(_is_depth(k) and mine in k for k in values) else names)
    if len(names) != 1:
        return None
    return names[0] if not before else f"{names[0]} - {before}"


def _length(values: dict, config) -> int:
    for within in (config, getattr(config, "text_config", None)):     # a model of towers: its text's
        for k in ("max_position_embeddings", "n_positions", "max_seq_len", "seq_length"):
            v = getattr(within, k, None)
            if isinstance(v, int) and not isinstance(v, bool) and v > 0:
                return int(v)
    return 2048



def _model_name(config: dict, source: str) -> str:
    from pathlib import Path
    folder = Path(source).parent.name
    family = re.sub(r"[^0-9a-zA-Z_]+", "_", str(config.get("model_type") or "model"))
    name = config.get("_name_or_path") or (folder if not re.fullmatch(r"[0-9a-f]{40}|\.*", folder) else family)
    name = re.sub(r"[^0-9a-zA-Z_]+", "_", Path(str(name)).name).strip("_").lower() or family
    return name if not name[0].isdigit() else f"{family}_{name}"


