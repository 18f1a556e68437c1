"""Prompt tuning + beam search with a static-sized cache_implementation: the plain model generates with every
implementation; the peft model fails with "static": KeyError 'cache_position' in peft's prepare_inputs_for_generation
(transformers 5.23 + peft 0.21.2), RuntimeError size mismatch (4.45.2 + 0.13.2). torch + transformers + peft only."""
import torch, transformers, peft
from transformers import MistralConfig, MistralForCausalLM
from peft import PromptTuningConfig, get_peft_model

cfg = MistralConfig(hidden_size=32, num_attention_heads=2, num_key_value_heads=1, head_dim=16, num_hidden_layers=1,
                    intermediate_size=48, vocab_size=128, max_position_embeddings=64, sliding_window=64,
                    pad_token_id=0, bos_token_id=1, eos_token_id=2)
ids = torch.randint(3, 128, (1, 3), generator=torch.Generator().manual_seed(0))
print("transformers", transformers.__version__, "peft", peft.__version__)
for wrapped in (False, True):
    for impl in (None, "hybrid", "static"):
        torch.manual_seed(0)
        model = MistralForCausalLM(cfg).eval()
        if wrapped:
            model = get_peft_model(model, PromptTuningConfig(task_type="CAUSAL_LM", num_virtual_tokens=15)).eval()
        options = {"cache_implementation": impl} if impl else {}
        try:
            out = model.generate(input_ids=ids, attention_mask=torch.ones_like(ids), max_new_tokens=3, min_new_tokens=2,
                                 num_beams=3, do_sample=False, return_dict_in_generate=True, output_scores=True, **options)
            result = f"{out.sequences.shape[1] - 3} new tokens, {len(out.scores)} score entries"
        except Exception as exc:
            result = f"{type(exc).__name__}: {exc}"[:110]
        print(f"{'peft ' if wrapped else 'plain'} cache_implementation={impl!s:7}: {result}")
