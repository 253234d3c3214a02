"""Damaged checkpoints: a random state that cannot be read is refused by name, as the weights
and optimizer files are. (The checkpoint helpers: test_training_save.)"""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from helpers import one_torch_thread  # noqa: F401
from test_training_save import _checkpoint, _cut_short, _not_loaded

from training import checkpoints, common, run_folder

pytestmark = pytest.mark.usefixtures("one_torch_thread")


@pytest.fixture(autouse=True)
def _fresh_warnings(monkeypatch):
    """Each test sees the once-only warnings of `training.checkpoints` afresh."""
    monkeypatch.setattr(checkpoints, "_warned", set())


def test_a_checkpoint_whose_random_state_cannot_be_read_is_refused_by_name(tmp_path):
    """accelerate's load_state catches a random_states_<i>.pkl that does not load ("Could not
    load random states", an info line of the main process): the run went on with other random
    generators than the interrupted run, and ended with other weights."""
    _checkpoint(tmp_path / "step_5", 5, (0, 1))
    newest = _checkpoint(tmp_path / "step_10", 10, (0, 1))
    _cut_short(newest / "random_states_1.pkl")
    from training.arguments import parse_args

    args = parse_args([])  # the flags the resume compares with the checkpoint's, then these
    args.resume_from_checkpoint, args.output_dir = str(newest), str(tmp_path)
    accelerator = SimpleNamespace(num_processes=2, print=print, load_state=_not_loaded)
    with pytest.raises(common.UsageError) as refused:
        run_folder.resume_state(args, accelerator)
    message = str(refused.value)
    assert f"{newest}: random_states_1.pkl cannot be read (" in message and "\n" not in message
    assert f"resume {tmp_path / 'step_5'} instead" in message
    # after a failed load too, and "latest" passes over it
    damage = str(checkpoints.damaged_state_error(str(newest), 2))
    assert f"{newest}: random_states_1.pkl cannot be read (" in damage
    assert checkpoints.latest_checkpoint(str(tmp_path)) == str(tmp_path / "step_5")
    # one damaged beside the resumed checkpoint is not proposed instead of it
    _cut_short(tmp_path / "step_5" / "random_states_0.pkl")
    with pytest.raises(common.UsageError, match="no other checkpoint of .* is whole and readable"):
        run_folder.resume_state(args, accelerator)
