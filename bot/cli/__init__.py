"""The ``consultbot`` command: its top-level parser, running the bot, and ``main``.

Each group of subcommands lives in its own ``cli_*`` module and adds itself to the parser.
"""

from __future__ import annotations

import argparse
import asyncio
import errno
import os
import signal
import sys
from typing import TYPE_CHECKING

from bot.cli.common import Parser, add_config, load_or_exit, read_text, run_with_services, say
from bot.clock import Clock, SystemClock
from bot.config import warnings

if TYPE_CHECKING:
    from bot.config import Config
    from bot.context import ConsultApplication, Services

DEMO_TOKEN = "1000:consultbot-demo-token"  # noqa: S105 - the offline emulator accepts any token
DEMO_PERSON = 1001
DESCRIPTION = """\
The diaspora consultation's Telegram bot and the operator's tools around it.

  run, check-config           run the bot; check its configuration first
  sandbox, demo, emulator     try it offline: in a browser, in the terminal, or the emulator alone
  associations                the associations registry (import from CSV)
  broadcast, broadcasts       queue notices; follow or stop their delivery
  meetings                    create, list, show, reschedule and cancel meetings; attendance
  surveys                     load XLSForms, open and close surveys, their results
  export, clauses, evidence   audited exports; the draft policy's clauses and their evidence

Commands that read the database take --config FILE (or $CONSULTBOT_CONFIG). Commands that queue
something write it to the database; the running bot delivers it. A refusal is one line on stderr
and a non-zero exit status. Details: consultbot COMMAND --help."""
BROKEN_PIPE_EXIT = 128 + signal.SIGPIPE  # what a shell reports for a tool killed by SIGPIPE


def check_config(arguments: argparse.Namespace) -> int:
    """Explain every configuration problem, one line each; exit non-zero if any."""
    config = load_or_exit(arguments, for_telegram=True)
    for warning in warnings(config):
        say(f"config warning: {warning}", error=True)
    say(
        f"config OK: mode={config.telegram.mode}, base_url={config.telegram.base_url}, "
        f"database={config.storage.path}, admins={len(config.admins.user_ids)}"
    )
    return 0


async def _serve(application: ConsultApplication, config: Config) -> None:
    from bot.runner import serve_until_signalled

    try:
        await serve_until_signalled(application, config)
    finally:
        # PTB opens both connection pools before its getMe and closes neither when getMe fails
        # (no network, a refused token); closing them here spares "Unclosed client session".
        pools = application.bot._request  # PTB has no public handle on both
        await asyncio.gather(*(pool.shutdown() for pool in pools))


def run(arguments: argparse.Namespace) -> int:
    """Run the bot with the given configuration until SIGINT/SIGTERM."""
    from telegram.error import InvalidToken, NetworkError

    from bot.app import build_application
    from bot.runner import configure_logging
    from storage import DatabaseTooNewError

    config = load_or_exit(arguments, for_telegram=True)
    configure_logging(config.logging.level)
    token = config.telegram.token.get_secret_value()
    try:
        asyncio.run(_serve(build_application(config), config))
    except DatabaseTooNewError as error:
        say(f"run: {error}", error=True)
        return 3
    except InvalidToken:
        # PTB's message quotes the token itself; say what to fix without it.
        say("run: Telegram rejected the token (check telegram.token)", error=True)
        return 4
    except NetworkError as error:
        message = str(error).replace(token, "***")
        say(f"run: cannot reach the Bot API at {config.telegram.base_url}: {message}", error=True)
        return 4
    return 0


def _port_refusal(command: str, error: OSError, port: int) -> int:
    """A port already taken is one line; any other OSError is not ours to explain."""
    if error.errno != errno.EADDRINUSE:
        raise error
    say(f"{command}: port {port} is already in use (choose another with --port)", error=True)
    return 2


def demo(arguments: argparse.Namespace) -> int:
    """Run the bot offline against the bundled emulator and let you chat with it."""
    from pathlib import Path

    from bot.demo import run_demo

    try:
        return asyncio.run(
            run_demo(
                Path(arguments.database), arguments.port, DEMO_TOKEN, DEMO_PERSON, arguments.reset
            )
        )
    except OSError as error:
        return _port_refusal("demo", error, arguments.port)


def sandbox(arguments: argparse.Namespace) -> int:
    """Run the bot offline and serve a Telegram-like page for several people at once."""
    from pathlib import Path

    from bot.sandbox import run_sandbox

    try:
        return asyncio.run(
            run_sandbox(Path(arguments.database), arguments.host, arguments.port, arguments.reset)
        )
    except OSError as error:
        return _port_refusal("sandbox", error, arguments.port)


def emulator(arguments: argparse.Namespace) -> int:
    """Serve the Bot API emulator alone until Ctrl+C."""
    from tgemu import __main__ as standalone

    try:
        standalone.run(arguments)
    except OSError as error:
        return _port_refusal("emulator", error, arguments.port)
    return 0


def import_associations(arguments: argparse.Namespace) -> int:
    """Load associations from a CSV file into the registry."""
    text = read_text(arguments.file, "associations", encoding="utf-8-sig")

    async def load(services: Services) -> int:
        result = await services.registration.import_associations(text)
        for problem in result.problems:
            say(f"skipped: {problem}", error=True)
        say(f"imported {result.added}, already present {result.already_present}")
        return 1 if result.problems else 0

    return run_with_services(arguments, "associations", load)


def parser() -> argparse.ArgumentParser:
    """The whole command line: every subcommand, its options and their help."""
    from tgemu import __main__ as standalone

    top = Parser(
        prog="consultbot",
        description=DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    commands = top.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def command(name: str, help_text: str) -> argparse.ArgumentParser:
        sub: argparse.ArgumentParser = commands.add_parser(
            name, help=help_text, description=help_text
        )
        return sub

    for name, about, handler in (
        ("run", "run the bot until SIGINT/SIGTERM", run),
        ("check-config", "check the configuration, one line per problem", check_config),
    ):
        sub = command(name, about)
        add_config(sub)
        sub.set_defaults(handler=handler)
    offline = command("demo", "run the bot offline with the bundled emulator and chat with it")
    offline.add_argument(
        "--port", type=int, default=8081, help="local port of its emulator (default: %(default)s)"
    )
    offline.add_argument(
        "--database",
        default="consultbot-demo.db",
        help="the demo's SQLite file, kept between runs (default: %(default)s)",
    )
    offline.add_argument(
        "--reset",
        action="store_true",
        help="delete the demo's SQLite file first and start from nothing",
    )
    offline.set_defaults(handler=demo)
    browser = command(
        "sandbox", "run the bot offline and chat with it as several people in a browser page"
    )
    browser.add_argument(
        "--host",
        default="127.0.0.1",
        help="address the page listens on (default: %(default)s); whoever reaches the page acts"
        " as any of its people, so listen elsewhere only on a network you trust",
    )
    browser.add_argument(
        "--port", type=int, default=8080, help="port of the page (default: %(default)s)"
    )
    browser.add_argument(
        "--database",
        default="consultbot-sandbox.db",
        help="the sandbox's SQLite file, kept between runs (default: %(default)s)",
    )
    browser.add_argument(
        "--reset",
        action="store_true",
        help="delete the sandbox's SQLite file first and start again from the demo data",
    )
    browser.set_defaults(handler=sandbox)
    alone = command("emulator", "serve the Bot API emulator alone (for other bots or curl)")
    standalone.add_arguments(alone)
    alone.set_defaults(handler=emulator)
    registry = commands.add_parser("associations", help="the associations registry")
    about = "import CSV rows: name,country,province_state,city,kind"
    importer = registry.add_subparsers(dest="action", required=True).add_parser(
        "import", help=about, description=about
    )
    importer.add_argument("file", help="the CSV file (UTF-8, with a header row)")
    add_config(importer)
    importer.set_defaults(handler=import_associations)

    from bot.cli.broadcasts import register as register_broadcasts
    from bot.cli.export import register as register_export
    from bot.cli.meetings import register as register_meetings
    from bot.cli.results import register_results
    from bot.cli.surveys import register as register_surveys

    register_broadcasts(commands)
    register_meetings(commands)
    register_results(register_surveys(commands))
    register_export(commands)
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
