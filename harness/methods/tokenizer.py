"""A tiny tokenizer built in code (never from the hub) for init variants that tokenize text.

Words ``t0 … t{vocab-1}`` map to the ids of the same number, so a drawn init text names exactly the token ids it
initialises from.
"""

from __future__ import annotations

import atexit
import functools
import shutil
import tempfile
from pathlib import Path


@functools.cache
def tokenizer_dir(vocab: int) -> str:
    """A folder holding a saved fast tokenizer over ``vocab`` word tokens (removed at exit)."""
    from tokenizers import Tokenizer, models, pre_tokenizers
    from transformers import PreTrainedTokenizerFast

    core = Tokenizer(models.WordLevel({f"t{i}": i for i in range(vocab)}, unk_token="t0"))
    core.pre_tokenizer = pre_tokenizers.WhitespaceSplit()
    folder = Path(tempfile.mkdtemp(prefix=f"peft-compat-tok{vocab}-"))
    atexit.register(shutil.rmtree, folder, ignore_errors=True)
    PreTrainedTokenizerFast(tokenizer_object=core, unk_token="t0", pad_token="t0").save_pretrained(folder)
    return str(folder)
