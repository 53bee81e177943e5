"""``python -m deeprecipe``: the ``deeprecipe`` command."""

import sys

from .cli import main

sys.exit(main())
