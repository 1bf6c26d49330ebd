"""A tiny Hugging Face config as both the program `symparams import` writes and transformers' model."""
from __future__ import annotations

import json

import symparams
from symparams.importers.huggingface import program


def pair(family: str, arch: str, fields: dict):
    """(symparams model, transformers model) of one config, built from its JSON as a config.json is."""
    import torch
    import transformers
    config = transformers.AutoConfig.for_model(family, architectures=[arch], **fields)
    model = symparams.parse(program(json.loads(config.to_json_string()), "config.json"), "config.json")
    torch.manual_seed(0)
    return model, getattr(transformers, arch)._from_config(config)
