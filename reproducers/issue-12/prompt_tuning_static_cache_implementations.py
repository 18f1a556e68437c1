"""Prompt tuning: generate(cache_implementation=X) for every static-sized X (static, sliding_window, hybrid_chunked;
hybrid too on 4.57) raises IndexError (index_copy_ out of bounds): the cache is sized for the prompt without peft's
virtual tokens. The plain model runs every call; "dynamic" runs with peft. torch + transformers + peft only."""
import torch, transformers, peft
from transformers import LlamaConfig, LlamaForCausalLM
from transformers.generation import configuration_utils as gen_config
from peft import PromptTuningConfig, get_peft_model

torch.manual_seed(0)
cfg = LlamaConfig(hidden_size=32, num_attention_heads=2, num_key_value_heads=2, num_hidden_layers=2,
                  intermediate_size=32, vocab_size=128, max_position_embeddings=128, pad_token_id=0,
                  bos_token_id=1, eos_token_id=2)
ids = torch.randint(3, 128, (2, 5))
NEW = 1  # one new token: generate never calls the model with a cache
print("transformers", transformers.__version__, "peft", peft.__version__)
for impl in ("static", "dynamic", *getattr(gen_config, "DEPRECATED_STATIC_CACHE_IMPLEMENTATIONS", ())):
    if "offloaded" in impl:
        continue  # needs CUDA
    for wrapped in (False, True):
        torch.manual_seed(0)
        model = LlamaForCausalLM(cfg).eval()
        if wrapped:
            model = get_peft_model(model, PromptTuningConfig(task_type="CAUSAL_LM", num_virtual_tokens=3)).eval()
        try:
            out = model.generate(input_ids=ids, attention_mask=torch.ones_like(ids), max_new_tokens=NEW,
                                 do_sample=False, cache_implementation=impl)
            result = f"ok {out[:, 5:].tolist()}"
        except Exception as exc:
            result = f"{type(exc).__name__}: {exc}"[:120]
        print(f"{impl:16} {'peft ' if wrapped else 'plain'}: {result}")
