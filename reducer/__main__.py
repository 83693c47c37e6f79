"""``python -m reducer``: the ``reducer`` command line (see :mod:`reducer.cli`)."""

from __future__ import annotations

import sys

from reducer.cli import main

if __name__ == "__main__":
    sys.exit(main())
