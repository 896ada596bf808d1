"""The ``consultbot`` command: run, demo, check-config, emulator, associations import."""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from pathlib import Path

from bot.config import Config, ConfigError, load_config

DEMO_TOKEN = "1000:consultbot-demo-token"  # noqa: S105 - the offline emulator accepts any token
DEMO_PERSON = 1001


def _config_path(arguments: argparse.Namespace) -> Path | None:
    given = arguments.config or os.environ.get("CONSULTBOT_CONFIG")
    return Path(given) if given else None


def _load_or_exit(arguments: argparse.Namespace) -> Config:
    try:
        return load_config(_config_path(arguments))
    except ConfigError as error:
        for problem in error.problems:
            print(f"config: {problem}", file=sys.stderr)
        raise SystemExit(2) from None


def check_config(arguments: argparse.Namespace) -> int:
    """Explain every configuration problem, one line each; exit non-zero if any."""
    config = _load_or_exit(arguments)
    print(
        f"config OK: mode={config.telegram.mode}, base_url={config.telegram.base_url}, "
        f"database={config.storage.path}, admins={len(config.admins.user_ids)}"
    )
    return 0


def run(arguments: argparse.Namespace) -> int:
    """Run the bot with the given configuration until SIGINT/SIGTERM."""
    from bot.app import build_application
    from bot.runner import configure_logging, serve_until_signalled
    from storage import DatabaseTooNewError

    config = _load_or_exit(arguments)
    configure_logging(config.logging.level)
    try:
        asyncio.run(serve_until_signalled(build_application(config), config))
    except DatabaseTooNewError as error:
        print(f"consultbot: {error}", file=sys.stderr)
        return 3
    return 0


def demo(arguments: argparse.Namespace) -> int:
    """Run the bot offline against the bundled emulator and let you chat with it."""
    from tgemu.demo import run_demo

    return asyncio.run(run_demo(Path(arguments.database), arguments.port, DEMO_TOKEN, DEMO_PERSON))


def emulator(arguments: argparse.Namespace) -> int:
    from tgemu import __main__ as standalone

    standalone.run(arguments)
    return 0


def import_associations(arguments: argparse.Namespace) -> int:
    """Load associations from a CSV file into the registry."""
    from bot.app import open_services
    from bot.services.associations import import_csv

    config = _load_or_exit(arguments)
    text = Path(arguments.file).read_text(encoding="utf-8-sig")

    async def load() -> int:
        services = await open_services(config)
        try:
            result = await import_csv(services.store, text)
        finally:
            await services.store.close()
        for problem in result.problems:
            print(f"skipped: {problem}", file=sys.stderr)
        print(f"imported {result.added}, already present {result.already_present}")
        return 1 if result.problems else 0

    return asyncio.run(load())


def parser() -> argparse.ArgumentParser:
    from tgemu import __main__ as standalone

    top = argparse.ArgumentParser(prog="consultbot", description=__doc__)
    commands = top.add_subparsers(dest="command", required=True)

    def with_config(name: str, help_text: str) -> argparse.ArgumentParser:
        command = commands.add_parser(name, help=help_text)
        command.add_argument("--config", help="TOML file (default: $CONSULTBOT_CONFIG)")
        return command

    with_config("run", "run the bot").set_defaults(handler=run)
    with_config("check-config", "validate the configuration").set_defaults(handler=check_config)
    demo_command = commands.add_parser("demo", help="run offline with the bundled emulator")
    demo_command.add_argument("--port", type=int, default=8081)
    demo_command.add_argument("--database", default="consultbot-demo.db")
    demo_command.set_defaults(handler=demo)
    emulator_command = commands.add_parser("emulator", help="run the Bot API emulator alone")
    standalone.add_arguments(emulator_command)
    emulator_command.set_defaults(handler=emulator)
    associations = commands.add_parser("associations", help="the associations registry")
    association_commands = associations.add_subparsers(dest="action", required=True)
    importer = association_commands.add_parser(
        "import", help="import CSV: name,country,province_state,city,kind"
    )
    importer.add_argument("file")
    importer.add_argument("--config")
    importer.set_defaults(handler=import_associations)
    return top


def main(argv: list[str] | None = None) -> int:
    # python-telegram-bot 22: RetryAfter.retry_after as a timedelta (the future default).
    os.environ.setdefault("PTB_TIMEDELTA", "1")
    arguments = parser().parse_args(argv)
    result: int = arguments.handler(arguments)
    return result


if __name__ == "__main__":
    raise SystemExit(main())
