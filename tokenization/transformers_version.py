"""Refuse transformers 4 with one line: a saved folder's code needs transformers>=5."""

import transformers

# The saved entry modules (configuration_*, modeling_*, tokenization_abc) import this sibling
# first, so that on transformers 4.x the user reads this line instead of an ImportError about
# `transformers.initialization` deep in the folder's code. Keep this file the same in
# modeling_irish/ and tokenization/: both are copied into one saved folder.
REQUIRED_TRANSFORMERS = "transformers>=5,<6"


def transformers_major(version: str) -> int:
    """The major number of a version string.

    >>> transformers_major("5.23.0"), transformers_major("5.0.0.dev0"), transformers_major("4.57.6")
    (5, 5, 4)
    """
    return int(version.split(".")[0])


if transformers_major(transformers.__version__) < 5:
    raise ImportError(
        f"this code needs {REQUIRED_TRANSFORMERS}, found transformers {transformers.__version__}: "
        f"run `pip install '{REQUIRED_TRANSFORMERS}'`"
    )
