"""What every ``consultbot`` subcommand shares: the parser, the config, one-line refusals."""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

from bot.config import Config, ConfigError, load_config
from bot.services.errors import InputError

if TYPE_CHECKING:
    from bot.context import Services


class Refusal(Exception):
    """A request the CLI will not carry out; the message is the whole (one-line) explanation."""


class Parser(argparse.ArgumentParser):
    """argparse, but a usage mistake is one line naming the command, like every other refusal."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{command_name(self.prog)}: {message} (see: {self.prog} --help)\n")


def command_name(prog: str) -> str:
    """'consultbot meetings create' -> 'meetings': the prefix of the command's refusals."""
    words = prog.split()
    return words[1] if len(words) > 1 else words[0]


def add_config(parser: argparse.ArgumentParser) -> None:
    """--config FILE, which every command reading the database takes."""
    parser.add_argument(
        "--config", metavar="FILE", help="the TOML configuration (default: $CONSULTBOT_CONFIG)"
    )


def say(text: str, error: bool = False) -> None:
    """One line of output (stdout for results, stderr for problems)."""
    (sys.stderr if error else sys.stdout).write(text + "\n")


def plural(count: int, singular: str, several: str | None = None) -> str:
    """'1 member', '3 members': a count with its noun (the CLI speaks English)."""
    return f"{count} {singular if count == 1 else several or singular + 's'}"


def load_or_exit(arguments: argparse.Namespace, for_telegram: bool = False) -> Config:
    """The configuration from --config or $CONSULTBOT_CONFIG; each problem one `config:` line."""
    given = arguments.config or os.environ.get("CONSULTBOT_CONFIG")
    try:
        return load_config(Path(given) if given else None, for_telegram=for_telegram)
    except ConfigError as error:
        for problem in error.problems:
            say(f"config: {problem}", error=True)
        raise SystemExit(2) from None


def read_text(path: str, command: str, encoding: str = "utf-8") -> str:
    """A file's text, or a one-line refusal naming it (no traceback for a typo in a path)."""
    try:
        return Path(path).read_text(encoding=encoding)
    except (OSError, UnicodeDecodeError) as error:
        say(f"{command}: cannot read {path}: {getattr(error, 'strerror', None) or error}", True)
        raise SystemExit(2) from None


def explain(services: Services, error: InputError) -> str:
    """An InputError in the CLI's language (English), never its catalog key."""
    return services.texts.plain("en", error.key, **error.values)


def run_with_services(
    arguments: argparse.Namespace, command: str, action: Callable[[Services], Awaitable[int]]
) -> int:
    """Open the services, run one action, close them; a refusal is one line and exit status 2."""
    from bot.app import open_services
    from bot.clock import SystemClock

    config = load_or_exit(arguments)
    # The command's one clock: `main` sets it (tests give the bot's); every instant it reads
    # comes from services.clock.
    clock = vars(arguments).get("clock") or SystemClock()

    async def go() -> int:
        services = await open_services(config, clock)
        try:
            return await action(services)
        except InputError as error:
            say(f"{command}: {explain(services, error)}", error=True)
            return 2
        except Refusal as refusal:
            say(f"{command}: {refusal}", error=True)
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
        sub: argparse.ArgumentParser = commands.add_parser(
            name, help=help_text, description=help_text, parents=parents
        )
        if parent is None:
            add_config(sub)
        return sub

    return command


def columns(headers: Sequence[str], rows: Sequence[Sequence[object]]) -> list[str]:
    """Aligned plain-text lines with a header over every column (numbers to the right)."""
    cells = [[str(value) for value in row] for row in rows]
    widths = [
        max([len(header), *(len(row[i]) for row in cells)]) for i, header in enumerate(headers)
    ]
    numeric = [
        bool(rows) and all(isinstance(row[i], int) for row in rows) for i in range(len(headers))
    ]

    def line(values: Sequence[str]) -> str:
        return "  ".join(
            value.rjust(width) if right else value.ljust(width)
            for value, width, right in zip(values, widths, numeric, strict=True)
        ).rstrip()

    return [line(list(headers)), *(line(row) for row in cells)]
