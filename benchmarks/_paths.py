"""What every benchmark script needs before its imports: the repository on ``sys.path`` (so a
checkout runs without ``pip install``) and the default corpus.

``DEFAULT_CORPUS`` is ``$MODELING_IRISH_CORPUS`` when set, else ``../shared/data/thesession-c.abc``
beside the checkout (``SHARED_CORPUS``). A script imports it first::

    from _paths import DEFAULT_CORPUS  # the repository on sys.path, then the package's imports
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

REPOSITORY = Path(__file__).resolve().parents[1]
SHARED_CORPUS = REPOSITORY.parent / "shared" / "data" / "thesession-c.abc"
DEFAULT_CORPUS = os.environ.get("MODELING_IRISH_CORPUS", str(SHARED_CORPUS))

if str(REPOSITORY) not in sys.path[:1]:
    # first: `python benchmarks/x.py` measures this checkout's code, even where another checkout
    # is installed (editable) in the environment, or none is
    sys.path.insert(0, str(REPOSITORY))
