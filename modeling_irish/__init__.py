"""modeling-irish: Hugging Face-style models, tokenizer and datasets loader for Irish traditional music."""

__version__ = "0.1.0"
