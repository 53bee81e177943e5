"""``python -m deeprecipe.cli``: the ``deeprecipe`` command."""

from . import main

raise SystemExit(main())
