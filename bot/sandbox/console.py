"""The page's operator console: `consultbot` commands on the sandbox's database.

The bot's own messages tell staff to use the command line ("open it with: consultbot surveys
open 2"); the console runs exactly that code, in this process so that it reads the bot's
clock, with the sandbox's configuration.
"""

from __future__ import annotations

import contextlib
import io
import shlex
import threading
from collections.abc import Callable
from pathlib import Path

from bot.clock import Clock

# `consultbot`'s own entry point, handed in by the command line that started the sandbox (so the
# sandbox never imports the command line back).
Command = Callable[[list[str], Clock], int]

# The commands that work on the database; running, the demo and the emulator are not offered.
COMMANDS = frozenset(
    {
        "associations",
        "broadcast",
        "broadcasts",
        "meetings",
        "surveys",
        "results",
        "export",
        "clauses",
        "evidence",
    }
)
_ONE_AT_A_TIME = threading.Lock()  # stdout is redirected for the whole process while one runs


def arguments(line: str, config: Path) -> list[str]:
    """The command line as argv, with the sandbox's --config; ValueError if not offered."""
    try:
        argv = shlex.split(line)
    except ValueError as error:
        raise ValueError(f"cannot read the line: {error}") from None
    if argv[:1] == ["consultbot"]:
        argv = argv[1:]
    if not argv or argv[0] not in COMMANDS:
        raise ValueError(f"the console runs: consultbot {{{','.join(sorted(COMMANDS))}}} ...")
    if "--config" not in argv:
        argv += ["--config", str(config)]
    return argv


def run(command: Command, argv: list[str], clock: Clock) -> tuple[int, str]:
    """Run one command (in a worker thread); its exit status and everything it printed."""
    output = io.StringIO()
    with _ONE_AT_A_TIME, contextlib.redirect_stdout(output), contextlib.redirect_stderr(output):
        try:
            status = command(argv, clock)
        except SystemExit as done:  # argparse's usage errors and --help
            status = done.code if isinstance(done.code, int) else 2
    return status, output.getvalue()
