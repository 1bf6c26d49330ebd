"""Inference: prefill and decode FLOPs, the memory of serving a model (weights, KV cache, working set),
and the roofline bounds of a device (docs/llm.md, Inference)."""
from __future__ import annotations
