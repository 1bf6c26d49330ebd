"""A Hugging Face model built by the user's function from its sizes: torch.fx cannot trace it (co_varnames)."""
from transformers import LlamaConfig, LlamaForCausalLM


def tiny_llama(vocab_size=320, hidden_size=64, num_hidden_layers=2, num_attention_heads=4, num_key_value_heads=2,
               intermediate_size=96):
    config = LlamaConfig(vocab_size=vocab_size, hidden_size=hidden_size, num_hidden_layers=num_hidden_layers,
                         num_attention_heads=num_attention_heads, num_key_value_heads=num_key_value_heads,
                         intermediate_size=intermediate_size, max_position_embeddings=128)
    return LlamaForCausalLM(config)
