"""Hugging Face configs, in one run: `symparams summary config.json` against building the model.

    python benchmarks/import_hf.py          (RUNS=5 by default)

1. symparams: import the config (write the program), derive it, evaluate it and render the
   summary table -- what `symparams summary config.json` does after start-up.
2. transformers: AutoConfig from the same JSON, then the architecture's from_config on the meta
   device (no memory for weights), then the sum of numel() over its parameters.
Each is timed RUNS times in this process (median); the imports are timed apart, once. The
counts must agree, or the benchmark stops.
"""
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RUNS = int(os.environ.get("RUNS", "5"))

# Mixtral-8x22B and Qwen3-30B-A3B's sizes, for two mixtures of experts beside the examples' dense models.
EXTRA = {
    "mixtral-8x22b": {"architectures": ["MixtralForCausalLM"], "model_type": "mixtral", "vocab_size": 32768,
                      "hidden_size": 6144, "intermediate_size": 16384, "num_hidden_layers": 56,
                      "num_attention_heads": 48, "num_key_value_heads": 8, "num_local_experts": 8,
                      "num_experts_per_tok": 2, "max_position_embeddings": 65536},
    "qwen3-30b-a3b": {"architectures": ["Qwen3MoeForCausalLM"], "model_type": "qwen3_moe", "vocab_size": 151936,
                      "hidden_size": 2048, "intermediate_size": 6144, "num_hidden_layers": 48,
                      "num_attention_heads": 32, "num_key_value_heads": 4, "head_dim": 128,
                      "moe_intermediate_size": 768, "num_experts": 128, "num_experts_per_tok": 8,
                      "max_position_embeddings": 40960},
}


def timed(fn, runs=RUNS):
    times, result = [], None
    for _ in range(runs):
        start = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times), result


def imported(name):
    start = time.perf_counter()
    module = __import__(name)
    return module, time.perf_counter() - start


def symparams_summary(path):
    import symparams
    from symparams.render import text_table
    m = symparams.load(path)
    ev = m.evaluate()
    text_table(m, ev)
    return ev.params


def transformers_build(path):
    import torch
    import transformers
    data = json.loads(Path(path).read_text())
    config = transformers.AutoConfig.for_model(**data)
    with torch.device("meta"):
        model = getattr(transformers, data["architectures"][0])._from_config(config)
    return sum(p.numel() for p in model.parameters())


def main():
    configs = {"qwen2-0.5b": ROOT / "examples/hf/qwen2-0.5b/config.json",
               "llama-3-8b": ROOT / "examples/hf/llama-3-8b/config.json"}
    tmp = Path(tempfile.mkdtemp())
    for name, data in EXTRA.items():
        configs[name] = tmp / f"{name}.json"
        configs[name].write_text(json.dumps(data))

    _, sym_import = imported("symparams")
    first, _ = timed(lambda: symparams_summary(configs["qwen2-0.5b"]), runs=1)
    _, torch_import = imported("torch")
    _, hf_import = imported("transformers")
    import transformers  # noqa: F401  (its lazy modules: the first build pays for them, timed apart)
    hf_first, _ = timed(lambda: transformers_build(configs["qwen2-0.5b"]), runs=1)

    print(f"imports: symparams {sym_import:.2f} s, torch {torch_import:.2f} s, transformers {hf_import:.2f} s")
    print(f"first call in the process: symparams {first:.3f} s, transformers {hf_first:.3f} s "
          f"({hf_first / first:.0f}×); with the imports {sym_import + first:.2f} s against "
          f"{torch_import + hf_import + hf_first:.2f} s ({(torch_import + hf_import + hf_first) / (sym_import + first):.1f}×)")
    print("| config | params | `symparams summary` | transformers, meta device | ratio |")
    print("|---|---:|---:|---:|---:|")
    ratios = []
    for name, path in configs.items():
        ours, ours_count = timed(lambda: symparams_summary(path))
        theirs, their_count = timed(lambda: transformers_build(path))
        if ours_count != their_count:
            sys.exit(f"{name}: symparams counts {ours_count:,}, transformers {their_count:,}")
        ratios.append(theirs / ours)
        print(f"| {name} | {ours_count:,} | {ours * 1000:.0f} ms | {theirs * 1000:.0f} ms | {theirs / ours:.1f}× |")
    print(f"symparams is {statistics.median(ratios):.1f}× faster (median over the configs)")

    # The general route (no template: transformers builds the model, with its fields as sizes, and
    # runs it) pays for that build several times over: the formulas are what it gives in exchange.
    general = {"granite-small": ROOT / "examples/hf/granite-small/config.json"}
    print("| config (general route) | params | `symparams summary` | transformers, meta device | ratio |")
    print("|---|---:|---:|---:|---:|")
    for name, path in general.items():
        ours, ours_count = timed(lambda: symparams_summary(path), runs=max(1, RUNS // 2))
        theirs, their_count = timed(lambda: transformers_build(path))
        if ours_count != their_count:
            sys.exit(f"{name}: symparams counts {ours_count:,}, transformers {their_count:,}")
        print(f"| {name} | {ours_count:,} | {ours * 1000:.0f} ms | {theirs * 1000:.0f} ms | {theirs / ours:.2f}× |")


if __name__ == "__main__":
    main()
