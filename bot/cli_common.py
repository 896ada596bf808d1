"""What every ``consultbot`` subcommand shares: audience options and one-line output."""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from bot.services.registration import InputError
from storage.models import AudienceFilter

if TYPE_CHECKING:
    from bot.context import Services

# The audience options of `broadcast`, `meetings create` and `surveys open`, spelled the same.
AUDIENCE_OPTIONS: tuple[tuple[str, type], ...] = (
    ("country", str),
    ("region", str),
    ("city", str),
    ("association", int),
    ("theme", str),
    ("sector", str),
    ("role", str),
)


def add_audience_options(parser: argparse.ArgumentParser, theme_note: str = "") -> None:
    """--country, --region, --city, --association, --theme, --sector, --role (each repeatable)."""
    for name, kind in AUDIENCE_OPTIONS:
        parser.add_argument(
            f"--{name}",
            action="append",
            default=[],
            type=kind,
            help="audience filter (repeat for several; region as US-TX)"
            + (theme_note if name == "theme" else ""),
        )


def audience_from(arguments: argparse.Namespace, **extra: Any) -> AudienceFilter:
    """The AudienceFilter the options describe (every option narrows; repeats widen)."""
    return AudienceFilter(
        countries=tuple(arguments.country),
        regions=tuple(region.upper() for region in arguments.region),
        cities=tuple(arguments.city),
        association_ids=tuple(arguments.association),
        themes=tuple(arguments.theme),
        sectors=tuple(arguments.sector),
        roles=tuple(arguments.role),
        **extra,
    )


def say(text: str, error: bool = False) -> None:
    """One line of output (stdout for results, stderr for problems)."""
    (sys.stderr if error else sys.stdout).write(text + "\n")


def run_with_services(
    arguments: argparse.Namespace, command: str, action: Callable[[Services], Awaitable[int]]
) -> int:
    """Open the services, run one action, close them; a refusal is one line and exit status 2."""
    from bot.app import open_services
    from bot.cli import _load_or_exit

    config = _load_or_exit(arguments)

    async def go() -> int:
        services = await open_services(config)
        try:
            return await action(services)
        except InputError as error:
            say(f"{command}: {services.texts.plain('en', error.key, **error.values)}", error=True)
            return 2
        finally:
            await services.close()

    return asyncio.run(go())


def subcommand_maker(
    commands: Any, parent: argparse.ArgumentParser | None
) -> Callable[[str, str], argparse.ArgumentParser]:
    """A function that adds one subcommand, with --config unless a shared parent has it."""
    parents = [parent] if parent is not None else []

    def command(name: str, help_text: str) -> argparse.ArgumentParser:
        sub: argparse.ArgumentParser = commands.add_parser(name, help=help_text, parents=parents)
        if parent is None:
            sub.add_argument("--config", help="TOML file (default: $CONSULTBOT_CONFIG)")
        return sub

    return command
