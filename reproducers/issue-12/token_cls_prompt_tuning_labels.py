"""Prompt tuning / P-tuning on a token-classification head: a forward with per-token labels raises "Expected input
batch_size (N) to match target batch_size (M)": peft prepends virtual tokens to the logits but not to the labels.
The plain model takes the same labels. torch + transformers + peft only."""
import torch, transformers, peft
from transformers import LlamaConfig, LlamaForTokenClassification
from peft import PromptEncoderConfig, PromptTuningConfig, get_peft_model

cfg = LlamaConfig(hidden_size=32, num_attention_heads=2, num_key_value_heads=2, num_hidden_layers=2,
                  intermediate_size=32, vocab_size=128, max_position_embeddings=128, pad_token_id=0, num_labels=3)
ids = torch.randint(3, 128, (2, 5), generator=torch.Generator().manual_seed(0))
labels = torch.randint(0, 3, (2, 5), generator=torch.Generator().manual_seed(1))
print("transformers", transformers.__version__, "peft", peft.__version__)
for name, config in (("plain", None), ("PROMPT_TUNING", PromptTuningConfig(task_type="TOKEN_CLS", num_virtual_tokens=3)),
                     ("P_TUNING", PromptEncoderConfig(task_type="TOKEN_CLS", num_virtual_tokens=3, encoder_hidden_size=8))):
    torch.manual_seed(0)
    model = LlamaForTokenClassification(cfg)
    if config is not None:
        model = get_peft_model(model, config)
    try:
        out = model(input_ids=ids, attention_mask=torch.ones_like(ids), labels=labels)
        print(f"{name:14} loss {float(out.loss):.4f}, logits {tuple(out.logits.shape)}")
    except Exception as exc:
        print(f"{name:14} {type(exc).__name__}: {exc}"[:140])
