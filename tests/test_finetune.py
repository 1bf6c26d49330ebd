"""Fine-tuning figures (symparams/quantities/finetune.py, docs/finetune.md) against the real runtime:
lora_params against peft's get_nb_trainable_parameters on tiny transformers models imported by the
Hugging Face importer; LoRA and QLoRA training memory against the bytes of a peft model's
parameters, gradients and torch.optim.AdamW's state after one step, and bitsandbytes' NF4 tensors."""
from __future__ import annotations

import json

import pytest
import sympy as sp

import symparams
from hf_tiny import pair  # noqa: E402  (tests/ is on sys.path under pytest)
from symparams.errors import ArgumentError
from symparams.importers.huggingface import program

torch = pytest.importorskip("torch")
transformers = pytest.importorskip("transformers")
peft = pytest.importorskip("peft")

FAMILIES = {   # tiny configs; rows or stated inside a composite layer (catalog/facts.py Linear), every linear
    "llama": ("LlamaForCausalLM", dict(vocab_size=128, hidden_size=64, intermediate_size=96, num_hidden_layers=2,
                                       num_attention_heads=4, num_key_value_heads=2)),
    "gpt2": ("GPT2LMHeadModel", dict(vocab_size=128, n_embd=64, n_layer=2, n_head=4, n_positions=32)),
    "phi3": ("Phi3ForCausalLM", dict(vocab_size=128, hidden_size=64, intermediate_size=96, num_hidden_layers=2,
                                     num_attention_heads=4, num_key_value_heads=2, pad_token_id=0)),
    "mixtral": ("MixtralForCausalLM", dict(vocab_size=128, hidden_size=64, intermediate_size=96, num_hidden_layers=2,
                                           num_attention_heads=4, num_key_value_heads=2, num_local_experts=4)),
    "qwen2": ("Qwen2ForCausalLM", dict(vocab_size=128, hidden_size=64, intermediate_size=96, num_hidden_layers=2,
                                       num_attention_heads=4, num_key_value_heads=2, tie_word_embeddings=True)),
    "opt": ("OPTForCausalLM", dict(vocab_size=128, hidden_size=64, ffn_dim=96, num_hidden_layers=3,
                                   num_attention_heads=4, max_position_embeddings=32, word_embed_proj_dim=64)),
    "phi": ("PhiForCausalLM", dict(vocab_size=128, hidden_size=64, intermediate_size=80, num_hidden_layers=2,
                                   num_attention_heads=4, max_position_embeddings=32)),
}
LLAMA_ALL = ("q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj")
TARGETS = [("llama", ("q_proj", "v_proj")), ("llama", LLAMA_ALL), ("llama", LLAMA_ALL + ("lm_head",)),
           ("opt", ("q_proj", "out_proj", "fc1")), ("opt", ("q_proj", "k_proj", "v_proj", "out_proj", "fc1", "fc2")),
           ("gpt2", ("c_attn",)), ("gpt2", ("c_attn", "c_proj")), ("phi", ("q_proj", "dense", "fc1")),
           ("phi3", ("qkv_proj", "o_proj", "gate_up_proj", "down_proj")), ("mixtral", ("q_proj", "v_proj", "gate")),
           ("qwen2", ("q_proj", "v_proj")), ("qwen2", ("gate_proj", "up_proj", "down_proj")), ("qwen2", ("q_proj", "k_proj", "v_proj", "o_proj", "lm_head")),
           ("opt", ("fc1",)), ("opt", ("fc1", "fc2")), ("phi", ("fc2",)), ("phi", ("fc1", "fc2", "lm_head"))]


def _pair(family):
    return pair(family, *FAMILIES[family])


def _value(model, expr):
    return int(sp.sympify(expr).xreplace(model.evaluate().values))


@pytest.mark.parametrize("family,targets", TARGETS, ids=[f"{f}-{'+'.join(t)}" for f, t in TARGETS])
@pytest.mark.parametrize("rank", [4, 16])
def test_lora_params_match_peft(family, targets, rank):
    model, reference = _pair(family)
    wrapped = peft.get_peft_model(reference, peft.LoraConfig(r=rank, target_modules=list(targets)))
    trainable, _ = wrapped.get_nb_trainable_parameters()
    assert _value(model, model.quantity("lora_params", lora_rank=rank, lora_targets=targets)) == trainable


def test_a_target_naming_no_layer_lists_the_names():
    model, _ = _pair("llama")
    with pytest.raises(ArgumentError) as e:
        model.quantity("lora_params", lora_rank=8, lora_targets=("qproj",))
    assert "q_proj, k_proj, v_proj, o_proj, gate_proj, up_proj, down_proj, lm_head" in str(e.value.hint)


def test_a_composite_layer_itself_is_not_a_linear_layer():
    model, _ = _pair("opt")
    with pytest.raises(ArgumentError, match="not a linear layer"):
        model.quantity("lora_params", lora_rank=8, lora_targets=("self_attn",))
    model, _ = _pair("llama")
    with pytest.raises(ArgumentError, match="not a linear layer"):
        model.quantity("lora_params", lora_rank=8, lora_targets=("mlp",))


def test_experts_kept_as_parameters_are_refused():
    """transformers 5 keeps Mixtral's experts as 3-D parameters (experts.gate_up_proj, experts.down_proj)
    peft's target_modules cannot adapt them (peft refuses too); its router, `gate`, peft adapts."""
    model, reference = _pair("mixtral")
    assert isinstance(reference.model.layers[0].mlp.experts.gate_up_proj, torch.nn.Parameter)
    for target in ("gate_up_proj", "down_proj"):
        with pytest.raises(ArgumentError, match=rf"{target} of mlp \(mixture_of_experts\) is no linear module"):
            model.quantity("lora_params", lora_rank=8, lora_targets=(target,))
        with pytest.raises(ValueError):
            peft.get_peft_model(_pair("mixtral")[1], peft.LoraConfig(r=8, target_modules=[target]))
    with pytest.raises(ArgumentError, match="keeps gate_up_proj, down_proj as parameters"):
        model.quantity("training_memory", lora_rank=8, lora_targets=("q_proj",), weights_dtype="nf4")


def test_stated_linears_add_up_to_the_layer():
    """A composite layer's linears (facts.Linear) hold every weight its count has (torch's add_bias_kv aside)."""
    for family in FAMILIES:
        model, _ = _pair(family)
        for node in (x for top in model.graph.nodes for x in top.walk()):
            if node.out is not None and node.out.linears:
                stated = sp.Add(*[f.params for f in node.out.linears])
                assert sp.simplify(stated - node.out.params) == 0, (family, node.name)


def _bytes(tensors) -> int:
    return sum(t.numel() * t.element_size() for t in tensors)


def _one_step(module, vocab=128):
    """One AdamW step; (frozen bytes, adapter bytes, gradient bytes, optimizer state bytes)."""
    trained = [p for p in module.parameters() if p.requires_grad]
    optimizer = torch.optim.AdamW(trained)
    tokens = torch.randint(0, vocab, (1, 8))
    out = module(input_ids=tokens, labels=tokens)
    out.loss.backward()
    optimizer.step()
    frozen = 0
    for p in module.parameters():
        if not p.requires_grad:
            frozen += p.numel() * p.element_size()
            state = getattr(p, "quant_state", None)
            if state is not None:
                frozen += _bytes([state.absmax])
    states = _bytes(t for s in optimizer.state.values() for t in s.values())
    return frozen, _bytes(trained), _bytes(p.grad for p in trained), states


@pytest.mark.parametrize("family,targets", [("qwen2", ("q_proj", "v_proj")), ("opt", ("fc1", "fc2"))])
def test_lora_training_memory_matches_a_peft_step(family, targets):
    model, reference = _pair(family)
    wrapped = peft.get_peft_model(reference.to(torch.bfloat16), peft.LoraConfig(r=8, target_modules=list(targets)))
    frozen, adapters, grads, states = _one_step(wrapped)
    fig = symparams.quantities.figure(model, "training_memory", opts=symparams.quantities.options(
        lora_rank=8, lora_targets=targets))
    parts = {name: _value(model, e) for name, e in fig.parts}
    assert parts == {"frozen weights": frozen, "adapters at float32": adapters, "adapter gradients": grads,
                     "optimizer states": states}


# ---------------------------------------------------------------- QLoRA: NF4 weights (bitsandbytes)

DENSE = """
convention torch
block layer(d, ff)(x):
    h = rmsnorm(name=norm)(x)
    q = dense(d, use_bias=false, name=q_proj)(h)
    v = dense(d, use_bias=true, name=v_proj)(h)
    x = x + dense(d, use_bias=false, name=o_proj)(q * v)
    h = dense(ff, use_bias=false, activation=relu, name=up_proj)(rmsnorm(name=norm2)(x))
    return x + dense(d, use_bias=false, name=down_proj)(h)

model toy(V = 96, T = 8, d = 40, ff = 70, L = 3):
    tokens = input (T) int
    x = embedding(V, d, name=embed)(tokens)
    x = repeat(L, layer(d, ff))(x)
    logits = dense(V, use_bias=false, name=lm_head)(rmsnorm(name=final)(x))
"""


class _Layer(torch.nn.Module):
    def __init__(self, d, ff):
        super().__init__()
        self.norm, self.norm2 = torch.nn.RMSNorm(d), torch.nn.RMSNorm(d)
        self.q_proj, self.v_proj = torch.nn.Linear(d, d, bias=False), torch.nn.Linear(d, d)
        self.o_proj = torch.nn.Linear(d, d, bias=False)
        self.up_proj, self.down_proj = torch.nn.Linear(d, ff, bias=False), torch.nn.Linear(ff, d, bias=False)

    def forward(self, x):
        h = self.norm(x)
        x = x + self.o_proj(self.q_proj(h) * self.v_proj(h))
        return x + self.down_proj(torch.relu(self.up_proj(self.norm2(x))))


class _Toy(torch.nn.Module):
    def __init__(self, V=96, d=40, ff=70, L=3):
        super().__init__()
        self.embed = torch.nn.Embedding(V, d)
        self.layers = torch.nn.ModuleList(_Layer(d, ff) for _ in range(L))
        self.final, self.lm_head = torch.nn.RMSNorm(d), torch.nn.Linear(d, V, bias=False)

    def forward(self, input_ids, labels):
        x = self.embed(input_ids)
        for layer in self.layers:
            x = layer(x)
        logits = self.lm_head(self.final(x)).float()
        return transformers.modeling_outputs.CausalLMOutput(
            loss=torch.nn.functional.cross_entropy(logits.flatten(0, 1), labels.flatten()))


@pytest.mark.parametrize("block", [None, 32])
def test_qlora_nf4_matches_bitsandbytes(block):
    bnb = pytest.importorskip("bitsandbytes")
    torch.manual_seed(0)
    toy = _Toy().to(torch.bfloat16)
    for layer in toy.layers:     # as transformers' bitsandbytes integration: every linear layer but lm_head
        for name in ("q_proj", "v_proj", "o_proj", "up_proj", "down_proj"):
            old = getattr(layer, name)
            new = bnb.nn.Linear4bit(old.in_features, old.out_features, bias=old.bias is not None,
                                    compute_dtype=torch.bfloat16, quant_type="nf4")
            new.weight = bnb.nn.Params4bit(old.weight.data.float(), requires_grad=False, quant_type="nf4",
                                           compress_statistics=False,   # transformers: no double quantization
                                           blocksize=block or 64)
            if old.bias is not None:
                new.bias = torch.nn.Parameter(old.bias.data, requires_grad=False)
            setattr(layer, name, new.to("cpu"))
    wrapped = peft.get_peft_model(toy, peft.LoraConfig(r=4, target_modules=["q_proj", "up_proj", "down_proj"]))
    frozen, adapters, grads, states = _one_step(wrapped, vocab=96)
    model = symparams.parse(DENSE)
    fig = symparams.quantities.figure(model, "training_memory", opts=symparams.quantities.options(
        lora_rank=4, lora_targets=("q_proj", "up_proj", "down_proj"), weights_dtype="nf4", group_size=block))
    parts = {name: _value(model, e) for name, e in fig.parts}
    absmax = f"absmax (float32 per {block or 64})"
    assert parts["frozen weights at nf4"] + parts[absmax] + parts["frozen weights at bfloat16"] == frozen
    assert (parts["adapters at float32"], parts["adapter gradients"], parts["optimizer states"]) == \
        (adapters, grads, states)


def test_nf4_refuses_a_layer_that_does_not_state_its_linears():
    model = symparams.parse("""
convention torch
layer block2(d)(x: (t, d)) -> (t, d):
    params = 2 * d * d
    parallel = mlp

model m(T = 8, d = 32):
    x = input (T, d)
    y = block2(d, name=inner)(x)
    z = dense(d, name=q_proj)(y)
""")
    with pytest.raises(ArgumentError, match=r"inner \(block2\) computes linear products inside"):
        model.quantity("training_memory", lora_rank=8, lora_targets=("q_proj",), weights_dtype="nf4")


def test_qlora_nf4_on_an_imported_llama_matches_bitsandbytes(tmp_path):
    """A tiny Llama quantized by transformers' own bitsandbytes integration (from_pretrained with
    BitsAndBytesConfig nf4, no double quantization): its frozen bytes, Params4bit and absmax, against
    the frozen weights the imported program's stated linears give. Sizes that are no multiple of 64
    (k_proj 40 x 20: 800 numbers, 13 blocks) show the per-tensor rounding."""
    pytest.importorskip("bitsandbytes")
    arch, fields = "LlamaForCausalLM", dict(vocab_size=96, hidden_size=40, intermediate_size=70, num_hidden_layers=3,
                                             num_attention_heads=4, num_key_value_heads=2, attention_bias=True)
    config = transformers.AutoConfig.for_model("llama", architectures=[arch], **fields)
    torch.manual_seed(0)
    transformers.LlamaForCausalLM._from_config(config).to(torch.bfloat16).save_pretrained(tmp_path)
    quantized = transformers.LlamaForCausalLM.from_pretrained(
        tmp_path, dtype=torch.bfloat16, device_map="cpu", quantization_config=transformers.BitsAndBytesConfig(
            load_in_4bit=True, bnb_4bit_quant_type="nf4", bnb_4bit_use_double_quant=False,
            bnb_4bit_compute_dtype=torch.bfloat16))     # its blocksize: bitsandbytes' 64
    assert type(quantized.model.layers[0].self_attn.k_proj).__name__ == "Linear4bit"
    packed = absmax = other = 0
    for p in quantized.parameters():
        state = getattr(p, "quant_state", None)
        if state is not None:
            packed += p.numel() * p.element_size()
            absmax += _bytes([state.absmax])
        else:
            other += p.numel() * p.element_size()
    model = symparams.parse(program(json.loads(config.to_json_string()), "config.json"), "config.json")
    fig = symparams.quantities.figure(model, "training_memory", opts=symparams.quantities.options(
        lora_rank=4, lora_targets=("q_proj", "v_proj"), weights_dtype="nf4"))
    parts = {name: _value(model, e) for name, e in fig.parts}
    assert (parts["frozen weights at nf4"], parts["absmax (float32 per 64)"],
            parts["frozen weights at bfloat16"]) == (packed, absmax, other)


def test_fine_tuning_options_need_a_rank():
    model, _ = _pair("qwen2")
    with pytest.raises(ArgumentError, match="--lora-rank"):
        model.quantity("training_memory", weights_dtype="nf4")
    with pytest.raises(ArgumentError, match="--lora-rank"):
        model.quantity("lora_params", lora_targets=("q_proj",))
