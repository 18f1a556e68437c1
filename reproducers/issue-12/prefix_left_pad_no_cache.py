"""Prefix tuning: greedy generate(use_cache=False) on a left-padded batch crashes; the same call with a full mask,
or with use_cache=True, runs. torch + transformers + peft only."""
import torch, transformers, peft
from transformers import LlamaConfig, LlamaForCausalLM
from peft import PrefixTuningConfig, get_peft_model

torch.manual_seed(0)
cfg = LlamaConfig(hidden_size=32, num_attention_heads=2, num_key_value_heads=2, num_hidden_layers=2,
                  intermediate_size=32, vocab_size=128, max_position_embeddings=128, pad_token_id=0,
                  bos_token_id=1, eos_token_id=2)
model = get_peft_model(LlamaForCausalLM(cfg).eval(), PrefixTuningConfig(task_type="CAUSAL_LM", num_virtual_tokens=3)).eval()
ids = torch.randint(3, 128, (2, 6))
mask = torch.ones_like(ids)
mask[0, :3] = 0
ids[0, :3] = 0
print("transformers", transformers.__version__, "peft", peft.__version__)
for name, m in (("full mask", torch.ones_like(ids)), ("left-padded", mask)):
    for use_cache in (True, False):
        try:
            out = model.generate(input_ids=ids, attention_mask=m, max_new_tokens=3, do_sample=False, use_cache=use_cache)
            print(f"{name:12} use_cache={use_cache}: ok", out[:, 6:].tolist())
        except Exception as exc:
            print(f"{name:12} use_cache={use_cache}: {type(exc).__name__}: {str(exc)[:150]}")
