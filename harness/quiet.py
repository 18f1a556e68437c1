"""Silencing library chatter (deprecation notices, init warnings) so the harness's own output stays readable."""

from __future__ import annotations

import logging
import os
import warnings


def quiet_libraries() -> None:
    """Route transformers/peft/torch warnings away from the terminal; one torch thread per process."""
    os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    warnings.filterwarnings("ignore")
    import torch
    import transformers

    torch.set_num_threads(1)
    transformers.logging.set_verbosity_error()
    for name in ("transformers", "peft", "torch"):
        logging.getLogger(name).setLevel(logging.ERROR)
