"""Random size settings for verify: each symbol's default scaled by a random factor.

A setting is kept only if every model accepts it (its `where` constraints hold and every shape
stays positive and whole); otherwise another is drawn.
"""
from __future__ import annotations

import random

from ..errors import ArgumentError, SymparamsError

FACTORS = (0.5, 0.75, 1, 1.25, 1.5, 2)


def base_values(model, overrides: dict | None = None) -> dict:
    """Name -> int: the given values, else the defaults; a symbol with neither is the user's to give."""
    values = {str(k): int(v) for k, v in model.values(overrides).items()}
    unset = [name for name in model.symbols if name not in values]
    if unset:
        raise ArgumentError(f"{', '.join(unset)} {'has' if len(unset) == 1 else 'have'} no default: a network "
                            f"is built at whole sizes", hint=f"give {'it' if len(unset) == 1 else 'them'}, "
                            f"e.g. --set {' '.join(f'{n}=64' for n in unset)}")
    return values


def scaled(base: dict, factors: dict) -> dict:
    return {name: max(1, round(value * factors.get(name, 1))) for name, value in base.items()}


def accepts(models, values: dict) -> bool:
    try:
        for model in models:
            model.evaluate(values)
    except SymparamsError:
        return False
    return True


def draw(models, base: dict, count: int, rng: random.Random, tries: int = 200) -> list[dict]:
    """Up to `count` distinct settings near `base` that every model accepts."""
    found = []
    for _ in range(tries):
        if len(found) == count:
            break
        values = scaled(base, {name: rng.choice(FACTORS) for name in base})
        if values != base and values not in found and accepts(models, values):
            found.append(values)
    return found
