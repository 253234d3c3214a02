"""Refuse a transformers older than the folder's code works with, in one line: a saved folder's
code needs transformers>=5.10.1 (4.x lacks `transformers.initialization`; 5.0-5.9 cannot load
the tokenizer as remote code)."""

import re

import transformers

__all__ = ["OLDEST_TRANSFORMERS", "REQUIRED_TRANSFORMERS", "transformers_release"]

# The saved entry modules (configuration_*, modeling_*, tokenization_abc) import this sibling
# first, so that on an older transformers the user reads this line instead of an ImportError
# about `transformers.initialization` deep in the folder's code. Keep this file the same in
# modeling_irish/ and tokenization/: both are copied into one saved folder.
OLDEST_TRANSFORMERS = (5, 10, 1)  # setup.cfg's floor: the oldest release the tests pass on
REQUIRED_TRANSFORMERS = "transformers>=5.10.1,<6"


def transformers_release(version: str) -> tuple[int, ...]:
    """The leading numbers of a version string (a pre-release's suffix dropped).

    >>> transformers_release("5.23.0"), transformers_release("5.0.0.dev0")
    ((5, 23, 0), (5, 0, 0))
    >>> transformers_release("4.57.6") < (5, 10, 1) <= transformers_release("5.10.1")
    True
    """
    numbers = []
    for part in version.split("."):
        match = re.match(r"\d+", part)
        if match is None:
            break
        numbers.append(int(match.group()))
        if match.end() < len(part):  # "0rc1": the rest is a suffix
            break
    return tuple(numbers)


if transformers_release(transformers.__version__) < OLDEST_TRANSFORMERS:
    raise ImportError(
        f"this code needs {REQUIRED_TRANSFORMERS}, found transformers {transformers.__version__}: "
        f"run `pip install '{REQUIRED_TRANSFORMERS}'`"
    )
