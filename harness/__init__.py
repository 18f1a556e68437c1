"""peft-compat: property-based compatibility harness for transformers x peft prompt-learning adapters."""

__version__ = "0.1.0"
