"""CPT: a forward with next-token labels on a short input gives loss NaN (transformers 5.23 + peft 0.21.2); the plain
model's loss on the same labels is finite. torch + transformers + peft only."""
import torch, transformers, peft
from transformers import LlamaConfig, LlamaForCausalLM
from peft import CPTConfig, get_peft_model

cfg = LlamaConfig(hidden_size=32, num_attention_heads=2, num_key_value_heads=2, num_hidden_layers=2,
                  intermediate_size=32, vocab_size=200, max_position_embeddings=128, pad_token_id=0)
print("transformers", transformers.__version__, "peft", peft.__version__)
for length in (2, 3, 6):
    ids = torch.randint(3, 200, (2, length), generator=torch.Generator().manual_seed(0))
    torch.manual_seed(0)
    plain = LlamaForCausalLM(cfg)
    plain_loss = float(plain(input_ids=ids, labels=ids).loss)
    config = CPTConfig(task_type="CAUSAL_LM", cpt_token_ids=[167], cpt_mask=[1], cpt_tokens_type_mask=[3],
                       opt_weighted_loss_type="none")
    model = get_peft_model(plain, config)
    model.train()
    loss = model(input_ids=ids, attention_mask=torch.ones_like(ids), labels=ids).loss
    print(f"length {length}: plain loss {plain_loss:.4f}, CPT loss {float(loss):.4f}")
