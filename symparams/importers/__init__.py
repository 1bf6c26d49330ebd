"""Importers: models described elsewhere (a Hugging Face config, ...) written as symparams programs."""
