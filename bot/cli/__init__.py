"""The ``consultbot`` command: its top-level parser and ``main``.

Each group of subcommands lives in its own module here and adds itself to the parser with its
``register``; what they share is in ``bot.cli.common``, which imports none of them.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys

from bot.cli import (
    associations,
    broadcasts,
    database,
    export,
    meetings,
    offline,
    results,
    running,
    surveys,
)
from bot.cli.common import Parser
from bot.clock import Clock, SystemClock

DESCRIPTION = """\
The diaspora consultation's Telegram bot and the operator's tools around it.

  run, check-config           run the bot; check its configuration first
  sandbox, demo, emulator     try it offline: in a browser, in the terminal, or the emulator alone
  associations                the associations registry (import from CSV)
  broadcast, broadcasts       queue notices; follow or stop their delivery
  meetings                    create, list, show, reschedule and cancel meetings; attendance
  surveys                     load XLSForms, open and close surveys, their results
  export, clauses, evidence   audited exports; the draft policy's clauses and their evidence
  db copy                     move a consultation to PostgreSQL (or back), counts checked

Commands that read the database take --config FILE (or $CONSULTBOT_CONFIG). Commands that queue
something write it to the database; the running bot delivers it. A refusal is one line on stderr
and a non-zero exit status. Details: consultbot COMMAND --help."""
BROKEN_PIPE_EXIT = 128 + signal.SIGPIPE  # what a shell reports for a tool killed by SIGPIPE


def parser() -> argparse.ArgumentParser:
    """The whole command line: every subcommand, its options and their help."""
    top = Parser(
        prog="consultbot",
        description=DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    commands = top.add_subparsers(dest="command", required=True, metavar="COMMAND")
    running.register(commands)
    offline.register(commands, console=main)
    associations.register(commands)
    broadcasts.register(commands)
    meetings.register(commands)
    results.register_results(surveys.register(commands))
    export.register(commands)
    database.register(commands)
    return top


def main(argv: list[str] | None = None, clock: Clock | None = None) -> int:
    """Run one command; its services read `clock` (the machine's time unless given)."""
    # python-telegram-bot 22: RetryAfter.retry_after as a timedelta (the future default).
    os.environ.setdefault("PTB_TIMEDELTA", "1")
    arguments = parser().parse_args(argv)
    arguments.clock = clock or SystemClock()
    try:
        result: int = arguments.handler(arguments)
        sys.stdout.flush()  # a reader gone (`| head`) shows here, not at interpreter exit
    except BrokenPipeError:
        # Stop quietly, as Unix tools do; the output nobody reads goes nowhere.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return BROKEN_PIPE_EXIT
    return result
