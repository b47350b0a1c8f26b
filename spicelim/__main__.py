"""`python -m spicelim`: the same command as `spicelim`."""

import sys

from .cli import main

sys.exit(main())
