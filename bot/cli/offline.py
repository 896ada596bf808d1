"""``consultbot demo|sandbox|emulator``: the bot offline, against the bundled Bot API emulator."""

from __future__ import annotations

import argparse
import asyncio
import errno
import functools
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bot.cli.common import say

if TYPE_CHECKING:
    from bot.sandbox.console import Command

DEMO_TOKEN = "1000:consultbot-demo-token"  # noqa: S105 - the offline emulator accepts any token
DEMO_PERSON = 1001


def _port_refusal(command: str, error: OSError, port: int) -> int:
    """A port already taken is one line; any other OSError is not ours to explain."""
    if error.errno != errno.EADDRINUSE:
        raise error
    say(f"{command}: port {port} is already in use (choose another with --port)", error=True)
    return 2


def demo(arguments: argparse.Namespace) -> int:
    """Run the bot offline against the bundled emulator and let you chat with it."""
    from bot.sandbox.demo import run_demo

    try:
        return asyncio.run(
            run_demo(
                Path(arguments.database), arguments.port, DEMO_TOKEN, DEMO_PERSON, arguments.reset
            )
        )
    except OSError as error:
        return _port_refusal("demo", error, arguments.port)


def sandbox(console: Command, arguments: argparse.Namespace) -> int:
    """Run the bot offline and serve a Telegram-like page for several people at once."""
    from bot.sandbox import run_sandbox

    try:
        return asyncio.run(
            run_sandbox(
                Path(arguments.database),
                console,
                arguments.host,
                arguments.port,
                arguments.reset,
            )
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


def register(commands: Any, console: Command) -> None:
    """Add `demo`, `sandbox` and `emulator`; `console` is what the sandbox's console runs."""
    from tgemu import __main__ as standalone

    def command(name: str, help_text: str) -> argparse.ArgumentParser:
        sub: argparse.ArgumentParser = commands.add_parser(
            name, help=help_text, description=help_text
        )
        return sub

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
    browser.set_defaults(handler=functools.partial(sandbox, console))
    alone = command("emulator", "serve the Bot API emulator alone (for other bots or curl)")
    standalone.add_arguments(alone)
    alone.set_defaults(handler=emulator)
