"""``consultbot export|clauses|evidence``: exports, draft clauses and evidence links from the shell.

The CLI acts as an operator with the EXPORT right. `--pii` needs `--as @username|ID` naming a
member holding staff_pii (or admin), or a config admin's Telegram id; otherwise it is refused and
the refusal is audited. Progress goes to stderr as plain text.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bot.services.registration import InputError

if TYPE_CHECKING:
    from bot.context import Services

CLI_ACTOR = "cli"


def _refuse(error: InputError) -> int:
    from bot.i18n import Texts

    sys.stderr.write(f"export: {Texts.load().plain('en', error.key, **error.values)}\n")
    return 2


def _progress(done: int, total: int | None) -> None:
    shown = f"{done:,}/{total:,} rows" if total else f"{done:,} rows"
    sys.stderr.write(f"\rexporting… {shown}")
    sys.stderr.flush()


async def _operator(services: Services, who: str | None) -> tuple[str, list[tuple[str, str]]]:
    """The actor and grants the CLI acts with: plain staff, or the named person's grants."""
    if who is None:
        return CLI_ACTOR, [("staff", "")]
    name = who.lstrip("@")
    typed_id = int(name) if name.isdigit() else 0
    member = await services.roles.find_member(name)
    telegram_id = member.telegram_id if member and member.telegram_id else typed_id
    grants = await services.permissions.grants(member, telegram_id)
    actor = await services.people.actor_of(telegram_id) if telegram_id else CLI_ACTOR
    return actor, [("staff", ""), *grants]


def _run(arguments: argparse.Namespace, action: Any) -> int:
    from bot.app import open_services
    from bot.cli import _load_or_exit

    config = _load_or_exit(arguments)

    async def go() -> int:
        services = await open_services(config)
        try:
            result: int = await action(services)
            return result
        except InputError as error:
            return _refuse(error)
        finally:
            await services.close()

    return asyncio.run(go())


def export(arguments: argparse.Namespace) -> int:
    """Write one dataset to --out."""
    from bot.services.export import ExportRequest

    try:
        start = date.fromisoformat(arguments.date_from) if arguments.date_from else None
        end = date.fromisoformat(arguments.date_to) if arguments.date_to else None
    except ValueError:
        sys.stderr.write("export: dates are YYYY-MM-DD\n")
        return 2
    request = ExportRequest(
        arguments.dataset,
        format=arguments.format,
        survey_id=arguments.survey,
        round=arguments.round,
        theme=arguments.theme,
        date_from=start,
        date_to=end,
        country=arguments.country,
        region=arguments.region,
        sector=arguments.sector,
        labels=not arguments.values,
        language=arguments.language,
        multi=arguments.multi,
        pii=arguments.pii,
    )

    async def action(services: Services) -> int:
        actor, grants = await _operator(services, arguments.as_who)
        service = services.exports
        result = await service.export(request, actor, grants, Path(arguments.out), _progress)
        sys.stderr.write("\n")
        sys.stdout.write(
            f"{result.path}: {result.total} rows{' (with PII)' if result.pii else ''}" + "\n"
        )
        return 0

    return _run(arguments, action)


def clauses_load(arguments: argparse.Namespace) -> int:
    """Load the draft policy's clauses from Markdown or TOML."""

    path = Path(arguments.file)
    text = path.read_text(encoding="utf-8")

    async def action(services: Services) -> int:
        count = await services.clauses.load(text, path.name, CLI_ACTOR)
        sys.stdout.write(f"{count} clauses loaded" + "\n")
        return 0

    return _run(arguments, action)


def evidence_link(arguments: argparse.Namespace) -> int:
    """Link an answer, proposal or meeting to a clause."""

    kind, ref = next(
        (k, getattr(arguments, k))
        for k in ("answer", "proposal", "meeting", "record")
        if getattr(arguments, k) is not None
    )

    async def action(services: Services) -> int:
        linked = await services.clauses.link(arguments.clause, kind, ref, CLI_ACTOR)
        sys.stdout.write(("linked" if linked else "already linked") + "\n")
        return 0

    return _run(arguments, action)


def register(subparsers: Any, parent: argparse.ArgumentParser | None = None) -> None:
    """Add `export`, `clauses load` and `evidence link` to the CLI."""
    parents = [parent] if parent is not None else []

    def with_config(sub: argparse.ArgumentParser) -> argparse.ArgumentParser:
        if parent is None:
            sub.add_argument("--config", help="TOML file (default: $CONSULTBOT_CONFIG)")
        return sub

    exporter = with_config(
        subparsers.add_parser("export", help="export a dataset (audited)", parents=parents)
    )
    exporter.add_argument(
        "dataset",
        help="answers, answers-long, proposals, meetings, members, evidence or record",
    )
    exporter.add_argument("--survey", type=int)
    exporter.add_argument("--round")
    exporter.add_argument("--theme")
    exporter.add_argument("--from", dest="date_from", help="YYYY-MM-DD (programme's zone)")
    exporter.add_argument("--to", dest="date_to", help="YYYY-MM-DD, inclusive")
    exporter.add_argument("--country", choices=("CA", "US"))
    exporter.add_argument("--region", help="QC, TX or US-TX")
    exporter.add_argument("--sector")
    exporter.add_argument("--format", default="csv", choices=("csv", "xlsx", "jsonl"))
    shown = exporter.add_mutually_exclusive_group()
    shown.add_argument("--labels", action="store_true", help="answers as labels (default)")
    shown.add_argument("--values", action="store_true", help="answers as stored values")
    exporter.add_argument("--language", choices=("es", "en", "fr"))
    exporter.add_argument("--multi", default="split", choices=("split", "single"))
    exporter.add_argument("--pii", action="store_true", help="personal data (needs --as)")
    exporter.add_argument(
        "--as", dest="as_who", help="@username or Telegram id of a staff_pii holder or admin"
    )
    exporter.add_argument("--out", required=True)
    exporter.set_defaults(handler=export)
    clauses = subparsers.add_parser("clauses", help="the draft policy's clauses")
    clause_commands = clauses.add_subparsers(dest="action", required=True)
    loader = with_config(
        clause_commands.add_parser("load", help="load clauses (.md or .toml)", parents=parents)
    )
    loader.add_argument("file")
    loader.set_defaults(handler=clauses_load)
    evidence = subparsers.add_parser("evidence", help="evidence linked to clauses")
    evidence_commands = evidence.add_subparsers(dest="action", required=True)
    linker = with_config(
        evidence_commands.add_parser("link", help="link an item to a clause", parents=parents)
    )
    linker.add_argument("clause")
    items = linker.add_mutually_exclusive_group(required=True)
    for name in ("answer", "proposal", "meeting", "record"):
        items.add_argument(f"--{name}", type=int)
    linker.set_defaults(handler=evidence_link)
