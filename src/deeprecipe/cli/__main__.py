"""``python -m deeprecipe.cli``: the ``deeprecipe`` command."""

import sys

from . import main

sys.exit(main())
