"""Fine-tuning: LoRA adapters' parameters, and the memory of training them on a frozen (possibly
quantized) base (docs/finetune.md)."""
from __future__ import annotations
