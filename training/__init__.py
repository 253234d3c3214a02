"""Training entry point (`accelerate launch training/train.py`) and its shared helpers."""

# users run the scripts (training/train.py) and the modules import one another by name:
# nothing is imported from the package itself
__all__: list[str] = []
