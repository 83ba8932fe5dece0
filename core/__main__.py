"""``python -m katman``: the same as the ``katman`` command."""

import sys

from katman.cli import main

sys.exit(main())
