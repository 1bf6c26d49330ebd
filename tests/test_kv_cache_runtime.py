"""symparams's KV cache bytes against what transformers really caches (tests/kv_cache_reference.py).

Every tiny config in CASES is run on the CPU (a prefill, then single-token decode steps, the
cache fed back) and the bytes of the keys and values in the returned cache are compared with
symparams's figure at the same number of cached positions, through the one adapter `ours` below.

Settings straddle the sliding windows of the cases (8, and 6 for one Gemma 3 case): a prefill
below the window, a decode that crosses `window - 1`, a prefill above it, and one at batch 2 in
float32. Encoder-decoders also read an encoder input of `encoder_length` tokens.
"""
from __future__ import annotations

from functools import lru_cache

import pytest

from symparams.errors import SymparamsError

pytest.importorskip("torch")
pytest.importorskip("transformers")

from kv_cache_reference import CASES, ENCODER_DECODER, ENCODER_ONLY, rule_bytes, runtime_cache_bytes  # noqa: E402


def ours(config: dict, positions: int, batch: int, dtype: str, encoder_length: int | None = None) -> int:
    """symparams's KV cache bytes for `batch` sequences with `positions` cached positions each
    (an encoder-decoder's decoder positions, its encoder reading `encoder_length` tokens).

    The model's kv_cache quantity (symparams.quantities.compute, per batch) evaluated with the
    importer's input length symbols, `sequence_length` (a decoder's tokens; an encoder-decoder's
    encoder input) and `target_length` (an encoder-decoder's decoder input), and the batch symbol."""
    import sympy as sp

    import symparams
    from symparams import bounds, quantities
    from symparams.importers.huggingface import program

    model = symparams.parse(program(config, "config.json"), "config.json")
    expr = quantities.compute(model, "kv_cache", dtype=dtype, per_batch=True)
    if encoder_length is not None:
        lengths = {"sequence_length": encoder_length, "target_length": positions}
    else:
        lengths = {"sequence_length": positions}
    values = dict(model.evaluate({k: v for k, v in lengths.items() if k in model.symbols}).values)
    values[model.batch] = sp.Integer(batch)
    return int(bounds.at(sp.sympify(expr), values))


# (prefill, decode_steps, batch, dtype, encoder_length)
SETTINGS = [
    (5, 0, 1, "bfloat16", 9),     # below every window
    (5, 3, 1, "bfloat16", 9),     # 8 positions: decoding crosses window - 1 = 7
    (12, 0, 1, "bfloat16", 4),    # a prefill past the window
    (12, 3, 2, "float32", 6),     # past the window after decoding; batch 2, 4-byte numbers
]

PARAMS = [(label, config, s) for label, config in CASES for s in SETTINGS]
IDS = [f"{label}-T{s[0]}+{s[1]}-b{s[2]}-{s[3]}" for label, config, s in PARAMS]


@lru_cache(maxsize=None)
def _runtime(label: str, setting: tuple) -> int:
    prefill, decode, batch, dtype, encoder_length = setting
    return runtime_cache_bytes(dict(CASES)[label], prefill, decode, batch, dtype, encoder_length=encoder_length)


@pytest.mark.parametrize("label,config,setting", PARAMS, ids=IDS)
def test_kv_cache_matches_transformers(label, config, setting):
    prefill, decode, batch, dtype, encoder_length = setting
    family = config["model_type"]
    expected = _runtime(label, setting)
    if family in ENCODER_ONLY:
        # an encoder-only model has no cache (transformers returns none): every attention the
        # importer writes says cache=none, and the figure is refused saying so, not printed as 0
        assert expected == 0
        with pytest.raises(SymparamsError, match="every attention in it is an encoder's self-attention"):
            ours(config, prefill + decode, batch, dtype)
        return
    got = ours(config, prefill + decode, batch, dtype,
               encoder_length=encoder_length if family in ENCODER_DECODER else None)
    assert got == expected, f"{label}: symparams {got} bytes, transformers {expected} bytes " \
                            f"(prefill {prefill} + {decode} decode steps, batch {batch}, {dtype})"


@pytest.mark.parametrize("label,config,setting", PARAMS, ids=IDS)
def test_the_measured_rule(label, config, setting):
    """The reference's closed rule (kv_cache_reference.rule_bytes) is what transformers caches."""
    prefill, decode, batch, dtype, encoder_length = setting
    assert rule_bytes(config, prefill, decode, batch, dtype, encoder_length=encoder_length) == \
        _runtime(label, setting)


def test_every_family_is_covered():
    from symparams.importers.huggingface import FAMILIES
    assert {config["model_type"] for _, config in CASES} == set(FAMILIES)
