"""``python -m bot.cli``: the ``consultbot`` command, as the installed script runs it."""

from bot.cli import main

raise SystemExit(main())
