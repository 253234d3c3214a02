"""Small builders shared by several test files: a tiny MeasureNote config and synthetic reels."""

from __future__ import annotations

import numpy as np

from modeling_irish.configuration_measurenote import MeasureNoteConfig


def tiny_measurenote_config(**overrides) -> MeasureNoteConfig:
    """A MeasureNote config with one-layer GRUs of 16 (and 2 attention heads)."""
    values = dict(
        embedding_size=16,
        note_hidden_size=16,
        note_num_layers=1,
        measure_hidden_size=16,
        measure_num_layers=1,
        measure_num_heads=2,
        final_hidden_size=16,
        final_num_layers=1,
    )
    values.update(overrides)
    return MeasureNoteConfig(**values)


def synthetic_tune(
    x: int, title: str, tune_id: int, seed: int, bars: int = 8, notes: str = "CDEFGABc"
) -> str:
    """A reel of ``bars`` random 8-note bars drawn from ``notes``, with a thesession S: URL."""
    rng = np.random.default_rng(seed)
    body = "|".join("".join(notes[i] for i in rng.integers(0, len(notes), 8)) for _ in range(bars))
    return (
        f"X:{x}\nT:{title}\nS: https://thesession.org/tunes/{tune_id}#setting{x}\n"
        f"R:reel\nM:4/4\nL:1/8\nK:D\n{body}|]\n"
    )
