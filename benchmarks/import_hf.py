"""Hugging Face configs, in one run: `symparams summary config.json` against building the model.

    python benchmarks/import_hf.py          (RUNS=5 by default)

1. symparams: import the config (write the program), derive it, evaluate it and render the
   summary table -- what `symparams summary config.json` does after start-up.
2. transformers: AutoConfig from the same JSON, then the architecture's from_config on the meta
   device (no memory for weights), then the sum of numel() over its parameters.
Each is timed RUNS times in this process (median); the imports are timed apart, once. The
counts must agree, or the benchmark stops. The general route (a config no template knows) is
timed in CPU seconds, beside transformers' meta build and that build with one forward pass under
FlopCounterMode.
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


def timed(fn, runs=RUNS, clock=time.perf_counter):
    times, result = [], None
    for _ in range(runs):
        start = clock()
        result = fn()
        times.append(clock() - start)
    return statistics.median(times), result


def imported(name):
    start = time.perf_counter()
    module = __import__(name)
    return module, time.perf_counter() - start


def symparams_summary(path, fresh=False):
    import symparams
    from symparams.render import text_table
    if fresh:         # the general route's formula caches, as a new process has them: empty
        from symparams.importers import module_tree
        module_tree._value_at.cache_clear()
        module_tree._fmt.cache_clear()
    m = symparams.load(path)
    ev = m.evaluate()
    text_table(m, ev)
    return ev.params


def transformers_build(path, tokens=None):
    """The parameter count of the model built on meta; with `tokens`, and the MACs of one forward
    pass over that many, as FlopCounterMode counts them (the math attention kernel, which it counts;
    transformers' mask code patched as the general route patches it, for meta tensors)."""
    import torch
    import transformers
    data = json.loads(Path(path).read_text())
    config = transformers.AutoConfig.for_model(**data)
    with torch.device("meta"):
        model = getattr(transformers, data["architectures"][0])._from_config(config)
    if tokens:
        import transformers.masking_utils as masks
        from torch.nn.attention import SDPBackend, sdpa_kernel
        from torch.utils.flop_counter import FlopCounterMode
        original, masks.find_packed_sequence_indices = masks.find_packed_sequence_indices, lambda *a, **k: None
        try:
            with torch.no_grad(), sdpa_kernel(SDPBackend.MATH), FlopCounterMode(display=False) as flops:
                model(input_ids=torch.zeros((1, tokens), dtype=torch.long, device="meta"), use_cache=False)
        finally:
            masks.find_packed_sequence_indices = original
        return flops.get_total_flops() // 2
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
    # Timed in CPU seconds (the machine is shared), its caches emptied before each run; beside it
    # the bare meta build and what a user would run for the MACs: that build and one forward pass
    # under FlopCounterMode. The route's floor is four such passes (three lengths, a second setting).
    general = {"granite-small": ROOT / "examples/hf/granite-small/config.json"}
    print("| config (general route) | params | `symparams summary` | transformers, meta build | ratio "
          "| meta build + one counted forward pass | ratio |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for name, path in general.items():
        ours, ours_count = timed(lambda: symparams_summary(path, fresh=True), clock=time.process_time)
        theirs, their_count = timed(lambda: transformers_build(path), clock=time.process_time)
        counted, _ = timed(lambda: transformers_build(path, tokens=7), clock=time.process_time)
        if ours_count != their_count:
            sys.exit(f"{name}: symparams counts {ours_count:,}, transformers {their_count:,}")
        print(f"| {name} | {ours_count:,} | {ours * 1000:.0f} ms | {theirs * 1000:.0f} ms | {theirs / ours:.2f}× "
              f"| {counted * 1000:.0f} ms | {counted / ours:.2f}× |")

    # Tiny configs of the general route's tests where it leaves meta: Helium's second setting does
    # not run (its o_proj), BART's passes need the CPU twin (`.item()` in its mask code).
    from symparams.importers.huggingface import general
    tiny = {"helium": ("HeliumForCausalLM", dict(hidden_size=32, intermediate_size=48, num_hidden_layers=2,
                                                 num_attention_heads=4, num_key_value_heads=2, vocab_size=96,
                                                 max_position_embeddings=64, head_dim=8)),
            "bart": ("BartForConditionalGeneration", dict(d_model=32, encoder_layers=2, decoder_layers=3,
                                                          encoder_attention_heads=4, decoder_attention_heads=2,
                                                          encoder_ffn_dim=48, decoder_ffn_dim=40, vocab_size=96,
                                                          max_position_embeddings=64))}
    print("| tiny config (general route) | writing the program, CPU |")
    print("|---|---:|")
    for name, (arch, fields) in tiny.items():
        data = json.loads(transformers.AutoConfig.for_model(name, architectures=[arch], **fields).to_json_string())
        general.program(data, "config.json")          # its modeling code loaded
        cpu, _ = timed(lambda: general.program(data, "config.json"), clock=time.process_time)
        print(f"| {name} | {cpu * 1000:.0f} ms |")

if __name__ == "__main__":
    main()
