"""The ``consultbot`` command: run, demo, check-config, emulator, associations import."""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from pathlib import Path

from bot.cli_common import add_audience_options, audience_from
from bot.config import Config, ConfigError, load_config, warnings

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
    for warning in warnings(config):
        print(f"config warning: {warning}", file=sys.stderr)
    print(
        f"config OK: mode={config.telegram.mode}, base_url={config.telegram.base_url}, "
        f"database={config.storage.path}, admins={len(config.admins.user_ids)}"
    )
    return 0


def run(arguments: argparse.Namespace) -> int:
    """Run the bot with the given configuration until SIGINT/SIGTERM."""
    from telegram.error import InvalidToken, NetworkError

    from bot.app import build_application
    from bot.runner import configure_logging, serve_until_signalled
    from storage import DatabaseTooNewError

    config = _load_or_exit(arguments)
    configure_logging(config.logging.level)
    token = config.telegram.token.get_secret_value()
    try:
        asyncio.run(serve_until_signalled(build_application(config), config))
    except DatabaseTooNewError as error:
        print(f"consultbot: {error}", file=sys.stderr)
        return 3
    except InvalidToken:
        # PTB's message quotes the token itself; say what to fix without it.
        print("consultbot: Telegram rejected the token (check telegram.token)", file=sys.stderr)
        return 4
    except NetworkError as error:
        message = str(error).replace(token, "***")
        print(
            f"consultbot: cannot reach the Bot API at {config.telegram.base_url}: {message}",
            file=sys.stderr,
        )
        return 4
    return 0


def demo(arguments: argparse.Namespace) -> int:
    """Run the bot offline against the bundled emulator and let you chat with it."""
    from bot.demo import run_demo

    return asyncio.run(run_demo(Path(arguments.database), arguments.port, DEMO_TOKEN, DEMO_PERSON))


def emulator(arguments: argparse.Namespace) -> int:
    from tgemu import __main__ as standalone

    standalone.run(arguments)
    return 0


def import_associations(arguments: argparse.Namespace) -> int:
    """Load associations from a CSV file into the registry."""
    from bot.app import open_services

    config = _load_or_exit(arguments)
    text = Path(arguments.file).read_text(encoding="utf-8-sig")

    async def load() -> int:
        services = await open_services(config)
        try:
            result = await services.registration.import_associations(text)
        finally:
            await services.close()
        for problem in result.problems:
            print(f"skipped: {problem}", file=sys.stderr)
        print(f"imported {result.added}, already present {result.already_present}")
        return 1 if result.problems else 0

    return asyncio.run(load())


def broadcast(arguments: argparse.Namespace) -> int:
    """Queue a notice from the command line; the running bot's delivery worker sends it."""
    from bot.app import open_services
    from bot.services.broadcasts import parse_quiet_hours, parse_send_time
    from bot.services.registration import InputError
    from storage.db import utc_now

    config = _load_or_exit(arguments)
    zone = arguments.zone or config.programme.default_time_zone
    texts = {"es": arguments.text_es, "en": arguments.text_en, "fr": arguments.text_fr}
    texts = {language: text for language, text in texts.items() if text}
    if arguments.text:
        texts.setdefault(arguments.fallback, arguments.text)
    if not texts:
        print(
            "broadcast: give --text (and optionally --text-es/--text-en/--text-fr)", file=sys.stderr
        )
        return 2
    from bot.cli_meetings import meeting_answers

    try:
        answers = meeting_answers(arguments)
    except ValueError as error:
        print(f"broadcast: {error}", file=sys.stderr)
        return 2
    try:
        audience = audience_from(arguments, meeting_id=arguments.meeting, meeting_answers=answers)
        quiet = parse_quiet_hours(arguments.quiet) if arguments.quiet else None
        send_at = parse_send_time(arguments.at, zone, utc_now()) if arguments.at else None
    except InputError as error:
        print(f"broadcast: invalid option ({error.key})", file=sys.stderr)
        return 2

    async def queue() -> int:
        services = await open_services(config)
        try:
            created, count = await services.broadcasts.create_queued(
                "cli", texts, arguments.fallback, audience, arguments.ack, quiet, send_at, zone
            )
        finally:
            await services.close()
        print(f"notice #{created.id} queued for {count} members")
        return 0

    return asyncio.run(queue())


def broadcasts_status(arguments: argparse.Namespace) -> int:
    """Print every recent notice with its delivery counts."""
    from bot.app import open_services

    config = _load_or_exit(arguments)

    async def show() -> int:
        services = await open_services(config)
        try:
            recent = await services.broadcasts.recent(50)
            print("id  status     total   sent  pending  blocked  failed  acked  created")
            for item in recent:
                counts = await services.broadcasts.counts(item.id)
                print(
                    f"{item.id:<3} {item.status:<9} {counts.total:>6} {counts.sent:>6}"
                    f" {counts.pending + counts.sending:>8} {counts.blocked:>8} {counts.failed:>7}"
                    f" {counts.acknowledged:>6}  {item.created_at:%Y-%m-%d %H:%M} UTC"
                )
        finally:
            await services.close()
        return 0

    return asyncio.run(show())


def broadcasts_stop(arguments: argparse.Namespace) -> int:
    """Stop a queued notice; rows not yet sent stay unsent."""
    from bot.app import open_services

    config = _load_or_exit(arguments)

    async def stop() -> int:
        services = await open_services(config)
        try:
            stopped = await services.broadcasts.stop(arguments.id)
        finally:
            await services.close()
        print(f"notice #{arguments.id} {'stopped' if stopped else 'was not being delivered'}")
        return 0 if stopped else 1

    return asyncio.run(stop())


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
    sender = with_config("broadcast", "queue a notice (the running bot delivers it)")
    sender.add_argument("--text", help="the notice, in the fallback language")
    for language in ("es", "en", "fr"):
        sender.add_argument(f"--text-{language}", help=f"the {language} version")
    sender.add_argument("--fallback", default="es", choices=("es", "en", "fr"))
    add_audience_options(sender)
    sender.add_argument("--ack", action="store_true", help='add an "I have read this" button')
    sender.add_argument("--quiet", help="deliver only in this local window, e.g. 09:00-21:00")
    sender.add_argument("--at", help="send at this time, e.g. '2026-12-05 18:00'")
    sender.add_argument("--zone", help="time zone of --at (default: the programme's)")
    from bot.cli_meetings import add_meeting_audience

    add_meeting_audience(sender)
    sender.set_defaults(handler=broadcast)
    status = commands.add_parser("broadcasts", help="notices")
    status_commands = status.add_subparsers(dest="action", required=True)
    status_command = status_commands.add_parser("status", help="delivery counts of recent notices")
    status_command.add_argument("--config")
    status_command.set_defaults(handler=broadcasts_status)
    stop_command = status_commands.add_parser("stop", help="stop a notice being delivered")
    stop_command.add_argument("id", type=int)
    stop_command.add_argument("--config")
    stop_command.set_defaults(handler=broadcasts_stop)
    from bot.cli_meetings import register as register_meetings

    register_meetings(commands)
    from bot.cli_results import register_results
    from bot.cli_surveys import register as register_surveys

    register_results(register_surveys(commands))
    from bot.cli_export import register as register_export

    register_export(commands)
    return top


def main(argv: list[str] | None = None) -> int:
    # python-telegram-bot 22: RetryAfter.retry_after as a timedelta (the future default).
    os.environ.setdefault("PTB_TIMEDELTA", "1")
    arguments = parser().parse_args(argv)
    result: int = arguments.handler(arguments)
    return result


if __name__ == "__main__":
    raise SystemExit(main())
