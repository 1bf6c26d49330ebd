"""Importers: models described elsewhere (a Hugging Face config, ...) written as symparams programs."""


def spelled(name: str) -> str:
    """A source's parameter name as a program's symbol: one the language reads otherwise (`input`,
    `true`, a layer's name such as `dense`) gets a trailing `_`."""
    from ..catalog import lookup
    return f"{name}_" if name in ("input", "true", "false") or lookup(name) is not None else name
