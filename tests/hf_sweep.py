"""Every model type of the installed transformers, imported as a user's config.json is imported
(templates first, then the general route) and compared with transformers' own model built from the
same config on the meta device: parameters, trainable, buffers.

    python tests/hf_sweep.py OUT.jsonl [TYPE ...]

writes one JSON line per model type as it goes ({"type", "outcome": exact|refused|wrong|failed,
"reason", "seconds"}) and skips the types OUT.jsonl already holds, so a long run can be resumed;
`--summary OUT.jsonl` prints the counts and the refusals grouped by reason. A type that takes
longer than SYMPARAMS_SWEEP_TIMEOUT seconds (default 300) is recorded as failed. The whole sweep
takes hours on a small machine; tests/test_hf_general.py runs it with SYMPARAMS_HF_SWEEP=1."""
from __future__ import annotations

import collections
import json
import os
import re
import signal
import sys
import time


class _Timeout(Exception):
    pass


def _alarm(signum, frame):
    raise _Timeout()


# Fields a published checkpoint's config.json states and the default configuration leaves unset,
# without which transformers builds nothing from it (Reformer's LM head is a decoder's; a time
# series model needs its prediction length; ESM's vocabulary has no default size) or runs nothing
# (DeepSeek-V2's default routes each token to None experts).
PUBLISHED = {
    "reformer": {"is_decoder": True},                          # google/reformer-crime-and-punishment
    "autoformer": {"prediction_length": 24},                   # huggingface/autoformer-tourism-monthly
    "informer": {"prediction_length": 24},                     # huggingface/informer-tourism-monthly
    "time_series_transformer": {"prediction_length": 24},      # huggingface/time-series-transformer-tourism-monthly
    "esm": {"vocab_size": 33},                                 # facebook/esm2_t6_8M_UR50D
    "deepseek_v2": {"num_experts_per_tok": 6},                 # deepseek-ai/DeepSeek-V2-Lite
}


def one(model_type: str) -> dict:
    """The outcome for one model type at its default configuration (with PUBLISHED's fields)."""
    import torch
    import transformers

    import symparams
    from symparams.importers.huggingface import general, program
    try:
        config = transformers.AutoConfig.for_model(model_type, **PUBLISHED.get(model_type, {}))
        data = {**config.to_diff_dict(), "model_type": model_type}
        cls = general._model_class(transformers, config, None)
    except Exception as e:
        return {"outcome": "refused", "reason": f"transformers: {type(e).__name__}: {str(e)[:160]}"}
    try:
        text = program(data, "config.json")
        model = symparams.parse(text, "config.json")
        ev = model.evaluate({})
        ev.check()
    except symparams.errors.SymparamsError as e:
        return {"outcome": "refused", "reason": e.message[:240]}
    # the class the program says it counts (a template reads a config without `architectures` as
    # its family's usual head, DistilBertForMaskedLM; the general route as transformers' Auto classes)
    named = getattr(transformers, re.split(r"[, ]", text[2:], maxsplit=1)[0], None) if text.startswith("# ") else None
    cls = named if isinstance(named, type) else cls
    with torch.device("meta"):
        reference = cls(transformers.AutoConfig.for_model(**data))
    expected = {"params": sum(p.numel() for p in reference.parameters()),
                "trainable": sum(p.numel() for p in reference.parameters() if p.requires_grad),
                "buffers": sum(b.numel() for b in reference.buffers())}
    got = {"params": int(ev.params), "trainable": int(ev.trainable), "buffers": int(ev.buffers)}
    if got == expected:
        # measured: its MACs and shapes from its forward pass; else counted, each layer keeping its shape
        return {"outcome": "exact", "reason": "", "params": got["params"],
                "measured": "# counted as transformers builds it from this config; MACs" in text}
    return {"outcome": "wrong", "reason": f"symparams {got}, transformers {expected}"}


def sweep(out: str, only: list[str]) -> None:
    import transformers
    from transformers.models.auto.configuration_auto import CONFIG_MAPPING_NAMES
    transformers.logging.set_verbosity_error()
    done = set()
    if os.path.exists(out):
        done = {json.loads(line)["type"] for line in open(out) if line.strip()}
    timeout = int(os.environ.get("SYMPARAMS_SWEEP_TIMEOUT", "300"))
    signal.signal(signal.SIGALRM, _alarm)
    for model_type in sorted(CONFIG_MAPPING_NAMES):
        if model_type in done or (only and model_type not in only):
            continue
        start = time.process_time()
        signal.alarm(timeout)
        try:
            row = one(model_type)
        except _Timeout:
            row = {"outcome": "failed", "reason": f"took over {timeout} s"}
        except Exception as e:      # the sweep records what a user would have seen as a crash
            row = {"outcome": "failed", "reason": f"{type(e).__name__}: {str(e)[:200]}"}
        finally:
            signal.alarm(0)
        row = {"type": model_type, **row, "seconds": round(time.process_time() - start, 2)}
        with open(out, "a") as f:
            f.write(json.dumps(row) + "\n")
        print(row["type"], row["outcome"], row["reason"][:100], flush=True)


def _kind(reason: str) -> str:
    """A refusal's reason without its model-specific details, to group alike ones."""
    reason = re.sub(r"'[^']*'|\"[^\"]*\"|`[^`]*`|\([^()]*\)", "…", reason)
    reason = re.sub(r"\b(?:[A-Za-z]*[A-Z][a-z0-9]*[A-Z]\w*|\w+_\w+)\b", "…", reason)   # class and layer names
    return re.sub(r"\d[\d,.]*", "N", reason)[:80]


def summary(out: str) -> None:
    rows = [json.loads(line) for line in open(out) if line.strip()]
    count = collections.Counter(r["outcome"] for r in rows)
    print(f"{len(rows)} model types: " + ", ".join(f"{count[k]} {k}" for k in ("exact", "refused", "wrong", "failed")))
    unmeasured = sorted(r["type"] for r in rows if r["outcome"] == "exact" and r.get("measured") is False)
    if unmeasured:
        print(f"  of the exact, {len(unmeasured)} counted with no measured pass (MACs not known, shapes assumed):\n"
              f"       {', '.join(unmeasured)}")
    groups = collections.defaultdict(list)
    for r in rows:
        if r["outcome"] != "exact":
            groups[(r["outcome"], _kind(r["reason"]))].append(r["type"])
    for (outcome, kind), types in sorted(groups.items(), key=lambda g: -len(g[1])):
        print(f"{len(types):4} {outcome}: {kind}\n       {', '.join(types)}")


if __name__ == "__main__":
    if sys.argv[1:2] == ["--summary"]:
        summary(sys.argv[2])
    else:
        sweep(sys.argv[1], sys.argv[2:])
