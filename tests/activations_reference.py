"""What autograd really saves for backward in transformers' language models (CPU), for comparison
with symparams' closed-form activation rules.

`saved_bytes(model, input_ids)` runs one forward pass under
`torch.autograd.graph.saved_tensors_hooks` and totals the bytes of the storages autograd keeps for
the backward pass:

* every tensor the pack hook sees is recorded (and a strong reference kept until the end, so no
  storage is freed and its address reused while we measure);
* the autograd graph is then walked from the logits' `grad_fn`; reading each node's `_saved_*`
  attributes (or `saved_tensors` for Python/custom-op functions) calls the unpack hook, which
  labels each recorded tensor with the node and attribute that saved it; tensors saved by nodes
  the logits do not reach are reported apart (`unreachable`) and not counted;
* storages are deduplicated by `untyped_storage().data_ptr()` and counted at the storage's full
  `nbytes()` (a saved view keeps its whole storage alive); parameters' storages are left out
  (a buffer's storage, if saved, would be counted and flagged `buffer`).

The loss is not part of the measurement: the forward runs without labels and the walk starts at
the logits, so what a loss would save (`logits.float().sum()` saves nothing; a cross-entropy
would keep its log-softmax) is not counted. `input_ids` (int64) is counted when the embedding
saves it (it is the caller's tensor, kept alive by the graph).

`breakdown(model, input_ids)` gives the per-storage records (module that was running, node,
attribute, dtype, shape, bytes, how many times the storage was saved).

The builders `tiny_llama`, `tiny_gpt2`, `tiny_qwen2`, `tiny_mixtral` make small random models
(CPU, `model.train()`, `use_cache` off).
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field

import torch


@dataclass
class Saved:
    """One storage autograd keeps: the first tensor saved on it and every (node, attribute) saving it."""
    ptr: int
    nbytes: int
    dtype: torch.dtype
    shape: tuple
    module: str                     # the innermost module running when it was first saved
    savers: list = field(default_factory=list)   # [(node name, attribute), ...] from the graph walk
    kind: str = "activation"        # "activation", "parameter", "buffer", "input_ids"
    times: int = 0                  # how many times the pack hook saw this storage

    @property
    def op(self) -> str:
        return self.savers[0][0] if self.savers else "?"


def _record(model, input_ids, forward_kwargs=None):
    """Run one forward under the hooks; return (records by storage, unreachable records, logits)."""
    params = {p.untyped_storage().data_ptr() for p in model.parameters()}
    buffers = {b.untyped_storage().data_ptr() for b in model.buffers()}
    ids_ptr = input_ids.untyped_storage().data_ptr()
    packed = []                      # handle -> (tensor, module path)
    stack = ["<top>"]
    names = {m: n or "<model>" for n, m in model.named_modules()}

    def pre(module, args):
        stack.append(names[module])

    def post(module, args, out):
        stack.pop()
    handles = [m.register_forward_pre_hook(pre) for m in model.modules()]
    handles += [m.register_forward_hook(post) for m in model.modules()]

    def pack(t):
        packed.append((t, stack[-1]))
        return len(packed) - 1

    label = [None]
    labels = {}

    def unpack(i):
        if label[0] is not None:
            labels.setdefault(i, []).append(label[0])
        return packed[i][0]

    try:
        with torch.autograd.graph.saved_tensors_hooks(pack, unpack):
            out = model(input_ids=input_ids, use_cache=False, **(forward_kwargs or {}))
    finally:
        for h in handles:
            h.remove()
    logits = out.logits

    # walk the graph from the logits, labelling each saved tensor by the node that saved it
    seen, todo = set(), [logits.grad_fn]
    while todo:
        node = todo.pop()
        if node is None or node in seen:
            continue
        seen.add(node)
        for attr in dir(node):
            if attr.startswith("_saved_"):
                label[0] = (node.name(), attr)
                try:
                    getattr(node, attr)
                except Exception:      # noqa: BLE001 -- a freed or non-tensor value
                    pass
        if hasattr(node, "saved_tensors"):
            label[0] = (node.name(), "saved_tensors")
            try:
                node.saved_tensors
            except Exception:          # noqa: BLE001
                pass
        label[0] = None
        todo.extend(n for n, _ in node.next_functions)

    reached, unreached = {}, {}
    for i, (t, module) in enumerate(packed):
        st = t.untyped_storage()
        ptr = st.data_ptr()
        target = reached if i in labels else unreached
        rec = target.get(ptr)
        if rec is None:
            kind = ("parameter" if ptr in params else "buffer" if ptr in buffers
                    else "input_ids" if ptr == ids_ptr else "activation")
            rec = target[ptr] = Saved(ptr, st.nbytes(), t.dtype, tuple(t.shape), module, kind=kind)
        rec.times += 1
        rec.savers.extend(labels.get(i, []))
    for ptr in reached:             # a storage also saved by a reachable node is reached
        unreached.pop(ptr, None)
    del packed
    return reached, unreached, logits


def breakdown(model, input_ids, forward_kwargs=None) -> list[Saved]:
    """The storages autograd keeps for the logits' backward (parameters left out), in saving order."""
    reached, _, _ = _record(model, input_ids, forward_kwargs)
    return [r for r in reached.values() if r.kind != "parameter"]


def saved_bytes(model, input_ids, forward_kwargs=None) -> int:
    """Bytes of the storages autograd keeps for the backward pass of the logits (parameters left
    out, each storage once, at its full size)."""
    return sum(r.nbytes for r in breakdown(model, input_ids, forward_kwargs))


def unreachable(model, input_ids, forward_kwargs=None) -> list[Saved]:
    """Tensors packed during the forward by nodes the logits do not reach (not counted)."""
    _, un, _ = _record(model, input_ids, forward_kwargs)
    return [r for r in un.values() if r.kind != "parameter"]


def timed_saved_bytes(model, input_ids) -> tuple[int, float]:
    t0 = time.perf_counter()
    n = saved_bytes(model, input_ids)
    return n, time.perf_counter() - t0


# ---------------------------------------------------------------- tiny models

def _build(config, dtype, attn, experts=None):
    from transformers import AutoModelForCausalLM
    kwargs = {"dtype": dtype, "attn_implementation": attn}
    if experts is not None:
        kwargs["experts_implementation"] = experts
    torch.manual_seed(0)
    model = AutoModelForCausalLM.from_config(config, **kwargs)
    return model.train()


def tiny_llama(dtype=torch.float32, attn="eager", d=64, h=4, g=2, L=2, ff=96, V=128, hd=None):
    from transformers import LlamaConfig
    return _build(LlamaConfig(hidden_size=d, num_attention_heads=h, num_key_value_heads=g, num_hidden_layers=L,
                              intermediate_size=ff, vocab_size=V, head_dim=hd or d // h,
                              max_position_embeddings=512), dtype, attn)


def tiny_qwen2(dtype=torch.float32, attn="eager", d=64, h=4, g=2, L=2, ff=96, V=128):
    from transformers import Qwen2Config
    return _build(Qwen2Config(hidden_size=d, num_attention_heads=h, num_key_value_heads=g, num_hidden_layers=L,
                              intermediate_size=ff, vocab_size=V, max_position_embeddings=512), dtype, attn)


def tiny_gpt2(dtype=torch.float32, attn="eager", d=64, h=4, L=2, ff=96, V=128, dropout=None):
    """GPT-2 with its default 0.1 dropouts (embedding, attention, residual) unless `dropout` is given."""
    from transformers import GPT2Config
    p = {} if dropout is None else {"resid_pdrop": dropout, "embd_pdrop": dropout, "attn_pdrop": dropout}
    return _build(GPT2Config(n_embd=d, n_head=h, n_layer=L, n_inner=ff, vocab_size=V, n_positions=512, **p),
                  dtype, attn)


def tiny_mixtral(dtype=torch.float32, attn="eager", d=64, h=4, g=2, L=2, ff=96, V=128, E=4, k=2, experts=None):
    """Mixtral; `experts` is transformers' experts_implementation (None: its default, grouped_mm)."""
    from transformers import MixtralConfig
    return _build(MixtralConfig(hidden_size=d, num_attention_heads=h, num_key_value_heads=g, num_hidden_layers=L,
                                intermediate_size=ff, vocab_size=V, num_local_experts=E, num_experts_per_tok=k,
                                max_position_embeddings=512), dtype, attn, experts)


BUILDERS = {"llama": tiny_llama, "gpt2": tiny_gpt2, "qwen2": tiny_qwen2, "mixtral": tiny_mixtral}


def ids(B=2, T=16, V=128, seed=0):
    g = torch.Generator().manual_seed(seed)
    return torch.randint(0, V, (B, T), generator=g)


# ---------------------------------------------------------------- the closed-form rules

def rule_bytes(family, dtype=torch.float32, attn="eager", *, B, T, d, h, L, ff, V, g=None, hd=None,
               E=None, k=None, dropout=None, experts=None, parts=False):
    """The bytes autograd saves for the logits' backward, by the rules measured here (CPU, torch 2.13,
    transformers 5.25, `model.train()`, no labels, no padding mask, use_cache off).

    family: "llama" | "qwen2" | "mixtral" | "gpt2"; attn: "eager" | "sdpa"; dropout (gpt2 only):
    None = its default 0.1 everywhere, else the one probability used for all three; experts (mixtral
    only): None = transformers' default "grouped_mm", or "eager", "batched_mm".
    `parts=True` returns {name: bytes} (per model, layer terms already times L)."""
    s = torch.empty((), dtype=dtype).element_size()
    g = g or h
    hd = hd or d // h
    N = B * T                                      # tokens
    out = {}

    def add(name, n):
        out[name] = out.get(name, 0) + n

    if family == "gpt2":
        p = 0.1 if dropout is None else dropout
        drop = p > 0
        ln = s * N * d + 2 * s * N                 # input, mean, rstd (mean/rstd at the data's dtype)
        add("embedding ids (int64, the caller's input_ids)", 8 * N)
        add("position ids (int64, 1 x T)", 8 * T)
        if drop:
            add("dropout masks (data dtype)", s * N * d * (1 + 2 * L))   # embedding + 2 per layer
        add("layernorm", (2 * L + 1) * ln)
        add("linear inputs (c_attn, c_proj, c_fc, lm_head)", (3 * L + 1) * s * N * d)
        add("linear inputs (mlp c_proj)", L * s * N * ff)
        add("gelu_new (x, tanh, 1+tanh, x/2)", L * 4 * s * N * ff)
        if attn == "eager":
            add("attention q,k,v copies", L * 3 * s * B * h * T * hd)
            add("attention probabilities (softmax, data dtype)", L * s * B * h * T * T)
            if drop:
                add("attention dropout mask + dropped probabilities", L * 2 * s * B * h * T * T)
        elif attn == "sdpa" and not drop:          # CPU flash kernel
            add("sdpa q,k,v (views of c_attn's output)", L * 3 * s * N * d)
            add("sdpa logsumexp (fp32)", L * 4 * B * h * T)
        elif attn == "sdpa":                       # dropout: the math fallback, in fp32
            add("sdpa-math q, k (fp32, scaled copies)", L * 2 * 4 * B * h * T * hd)
            if B == 1 and s == 4:                  # v stays a view of c_attn's whole output
                add("sdpa-math v (c_attn's output, viewed)", L * 3 * s * N * d)
            else:
                add("sdpa-math v (fp32 copy)", L * 4 * B * h * T * hd)
            add("sdpa-math softmax, mask, dropped (fp32)", L * 3 * 4 * B * h * T * T)
        else:
            raise ValueError(attn)
        return out if parts else sum(out.values())

    rms = 4 * N * d + 4 * N + s * N * d           # fp32 input (copy in 16-bit), rsqrt, normalized x
    add("embedding ids (int64, the caller's input_ids)", 8 * N)
    add("rotary cos, sin (1 x T x hd, shared by all layers)", 2 * s * T * hd)
    add("rmsnorm", (2 * L + 1) * rms)
    add("linear inputs (qkv, lm_head)", (L + 1) * s * N * d)
    add("attention output = o_proj input", L * s * N * h * hd)
    if attn == "eager":
        add("eager q", L * s * B * h * T * hd)
        if g == 1 and B == 1:                      # MQA at batch 1: k, v broadcast (stride 0), not copied
            add("eager k, v (not repeated: a stride-0 view)", L * 2 * s * T * hd)
        else:
            add("eager repeated k, v", L * 2 * s * B * h * T * hd)
        add("eager softmax (fp32)", L * 4 * B * h * T * T)
        if s != 4:
            add("eager probabilities cast to the data dtype", L * s * B * h * T * T)
    elif attn == "sdpa":
        add("sdpa q, k, v (k, v at kv heads)", L * s * B * T * hd * (h + 2 * g))
        add("sdpa logsumexp (fp32)", L * 4 * B * h * T)
    else:
        raise ValueError(attn)
    if family in ("llama", "qwen2"):
        add("mlp input (gate, up)", L * s * N * d)
        add("mlp gate, silu, up, product", L * 4 * s * N * ff)
        return out if parts else sum(out.values())
    if family != "mixtral":
        raise ValueError(family)
    S = N * k                                      # token-expert pairs
    add("router input", L * s * N * d)
    add("router softmax (fp32), top-k indices (int64), top-k sum and values (fp32)",
        L * (4 * N * E + 8 * N * k + 4 * N + 4 * N * k))
    ex = experts or "grouped_mm"
    if ex == "grouped_mm":
        add("experts: 3 permutations (int64) + offsets (int32)", L * (24 * S + 4 * E))
        add("experts: gathered input, output", L * 2 * s * S * d)
        add("experts: gate_up, silu, product", L * 4 * s * S * ff)
        add("experts: routing weights (fp32)", L * 4 * S)
    elif ex == "eager":
        add("experts: token/slot indices (int64 pairs)", L * 16 * S)
        add("experts: gathered input, output, index_add source", L * 3 * s * S * d)
        add("experts: gate_up, silu, product", L * 4 * s * S * ff)
        add("experts: routing weights (fp32)", L * 4 * S)
    elif ex == "batched_mm":
        add("experts: repeated input, output", L * 2 * s * S * d)
        add("experts: gate_up, silu, product", L * 4 * s * S * ff)
        add("experts: gathered expert WEIGHTS per token", L * 3 * s * S * d * ff)
        add("experts: routing weights (fp32)", L * 4 * S)
    else:
        raise ValueError(ex)
    return out if parts else sum(out.values())


# ---------------------------------------------------------------- a table, measured against the rules

SETTINGS = (dict(B=2, T=12, d=64, h=4, g=2, L=2, ff=96, V=128, E=4, k=2),
            dict(B=3, T=20, d=96, h=6, g=3, L=3, ff=160, V=200, E=6, k=3))
VARIANTS = (("llama", {}), ("qwen2", {}), ("gpt2", {}), ("gpt2", {"dropout": 0.0}),
            ("mixtral", {}), ("mixtral", {"experts": "eager"}), ("mixtral", {"experts": "batched_mm"}))


def measure(family, dtype, attn, size, **variant) -> tuple[int, int, float]:
    """(measured bytes, rule bytes, seconds the measurement took) for one tiny model."""
    build = {key: size[key] for key in ("d", "h", "L", "ff", "V")}
    if family != "gpt2":
        build["g"] = size["g"]
    if family == "mixtral":
        build.update(E=size["E"], k=size["k"])
    model = BUILDERS[family](dtype, attn, **build, **variant)
    x = ids(size["B"], size["T"], size["V"])
    got, seconds = timed_saved_bytes(model, x)
    rule_size = {key: v for key, v in size.items() if key not in ("E", "k") or family == "mixtral"}
    if family == "gpt2":
        rule_size.pop("g")
    return got, rule_bytes(family, dtype, attn, **rule_size, **variant), seconds


if __name__ == "__main__":
    import transformers
    transformers.logging.set_verbosity_error()
    for size in SETTINGS:
        print(size)
        for dtype in (torch.float32, torch.bfloat16):
            for attn in ("eager", "sdpa"):
                for family, variant in VARIANTS:
                    got, want, seconds = measure(family, dtype, attn, size, **variant)
                    print(f"  {family:8s} {str(dtype)[6:]:9s} {attn:5s} {str(variant):26s} measured {got:>10,} "
                          f"rule {want:>10,} {'==' if got == want else '!='}  {seconds:.3f}s")
