"""``consultbot run`` and ``consultbot check-config``: the bot itself, and its configuration."""

from __future__ import annotations

import argparse
import asyncio
from typing import TYPE_CHECKING, Any

from bot.cli.common import add_config, load_or_exit, say
from bot.config import warnings

if TYPE_CHECKING:
    from bot.config import Config
    from bot.context import ConsultApplication


def check_config(arguments: argparse.Namespace) -> int:
    """Explain every configuration problem, one line each; exit non-zero if any."""
    config = load_or_exit(arguments, for_telegram=True)
    for warning in warnings(config):
        say(f"config warning: {warning}", error=True)
    say(
        f"config OK: mode={config.telegram.mode}, base_url={config.telegram.base_url}, "
        f"database={config.storage.shown}, admins={len(config.admins.user_ids)}"
    )
    return 0


async def _serve(application: ConsultApplication, config: Config, receive: bool) -> None:
    from bot.runner import serve_until_signalled

    try:
        await serve_until_signalled(application, config, receive)
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
    if arguments.deliver_only and config.storage.url is None:
        say(
            "run: --deliver-only needs [storage] url (PostgreSQL): an SQLite file has one bot "
            "process, which delivers already",
            error=True,
        )
        return 2
    configure_logging(config.logging.level)
    token = config.telegram.token.get_secret_value()
    try:
        asyncio.run(_serve(build_application(config), config, not arguments.deliver_only))
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


def register(commands: Any) -> None:
    """Add `run` and `check-config`."""
    for name, about, handler in (
        ("run", "run the bot until SIGINT/SIGTERM", run),
        ("check-config", "check the configuration, one line per problem", check_config),
    ):
        sub: argparse.ArgumentParser = commands.add_parser(name, help=about, description=about)
        add_config(sub)
        sub.set_defaults(handler=handler)
        if name == "run":
            sub.add_argument(
                "--deliver-only",
                action="store_true",
                help="send notices and reminders but take no updates: a second process beside "
                "the one that polls (PostgreSQL only: the processes share one send budget)",
            )
