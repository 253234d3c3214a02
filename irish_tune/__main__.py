"""``python -m irish_tune``: the ``irish-tune`` console script."""

import sys

from irish_tune import main

if __name__ == "__main__":
    sys.exit(main())
