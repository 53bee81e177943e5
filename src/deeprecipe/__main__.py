"""``python -m deeprecipe``: the ``deeprecipe`` command."""

from .cli import main

raise SystemExit(main())
