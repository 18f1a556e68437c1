"""Prefix tuning on a question-answering head: explicit position_ids are dropped without a word. On gpt2 (absolute
positions) shifting them moves the plain model's span logits but not the peft model's, and peft warns nothing,
whereas the causal-LM class offsets them (peft 0.21). torch + transformers + peft only."""
import warnings

import torch, transformers, peft
from transformers import GPT2Config, GPT2ForQuestionAnswering, GPT2LMHeadModel
from peft import PrefixTuningConfig, get_peft_model

cfg = GPT2Config(n_embd=32, n_head=2, n_layer=2, n_inner=32, vocab_size=128, n_positions=64, pad_token_id=0)
ids = torch.randint(3, 128, (2, 5), generator=torch.Generator().manual_seed(0))
positions = torch.arange(5).expand(2, -1)
print("transformers", transformers.__version__, "peft", peft.__version__)
for cls, task in ((GPT2ForQuestionAnswering, "QUESTION_ANS"), (GPT2LMHeadModel, "CAUSAL_LM")):
    torch.manual_seed(0)
    plain = cls(cfg).eval()
    def out(m, p):
        with torch.no_grad():
            o = m(input_ids=ids, position_ids=p)
        return o.start_logits if hasattr(o, "start_logits") else o.logits
    moves_plain = (out(plain, positions + 3) - out(plain, positions)).abs().max().item()
    model = get_peft_model(plain, PrefixTuningConfig(task_type=task, num_virtual_tokens=3)).eval()
    with warnings.catch_warnings(record=True) as said:
        warnings.simplefilter("always")
        moves_peft = (out(model, positions + 3) - out(model, positions)).abs().max().item()
    notes = sorted({str(w.message)[:70] for w in said if "osition" in str(w.message)})
    print(f"{cls.__name__:26} shift by 3 moves plain {moves_plain:.3g}, peft {moves_peft:.3g}; peft warned: {notes}")
