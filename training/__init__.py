"""Training entry point (`accelerate launch training/train.py`) and its shared helpers."""
