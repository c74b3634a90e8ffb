"""``python -m loadwatch.dashboard.cli``: the ``loadwatch`` command."""

from loadwatch.dashboard.cli.main import main

raise SystemExit(main())
