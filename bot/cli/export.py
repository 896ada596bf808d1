"""``consultbot export|clauses|evidence``: exports, draft clauses and evidence links from the shell.

The CLI acts as an operator with the EXPORT right. `--pii` needs `--as @username|ID` naming a
member holding staff_pii (or admin), or a config admin's Telegram id; otherwise it is refused and
the refusal is audited. Progress goes to stderr as plain text.
"""

from __future__ import annotations

import argparse
import os
import sys
from dataclasses import replace
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bot.cli.audience import known, known_round
from bot.cli.common import (
    Refusal,
    add_config,
    explain,
    plural,
    read_text,
    run_with_services,
    say,
)
from bot.services.clauses import ClausesRefused
from bot.services.errors import InputError
from bot.services.export import DATASETS, FORMATS, ExportRequest

if TYPE_CHECKING:
    from bot.context import Services

CLI_ACTOR = "cli"
EVIDENCE_ITEMS = {
    "answer": "an answer's number (answers-long export: id)",
    "proposal": "a proposal's number",
    "meeting": "a meeting's number",
    "record": "a record entry's number (any answer, proposal or minutes)",
}


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


def output_path(typed: str) -> Path:
    """--out as a path: a file in an existing folder, or an existing folder (also when it ends
    with '/') to write the default-named file in; a missing folder is refused, never created."""
    path = Path(typed)
    if path.is_dir():
        return path
    if typed.endswith(("/", os.sep)):
        raise Refusal(f"--out {typed}: no such folder")
    if not path.parent.is_dir():
        raise Refusal(f"--out {typed}: no such folder: {path.parent}")
    return path


def record_path(out: Path, typed: str, file_format: str) -> None:
    """The record is several tables in one ZIP: a file named otherwise is refused (a ZIP called
    record.csv would open as garbage); --format chooses the tables inside."""
    if out.is_dir() or out.suffix.lower() == ".zip":
        return
    raise Refusal(
        f"--out {typed}: the record is several tables in one ZIP file; name it .zip"
        f" (e.g. {out.with_suffix('.zip').name}) or give a folder. --format {file_format}"
        " chooses the format of the tables inside the ZIP (csv, xlsx or jsonl)"
    )


async def checked_filters(services: Services, request: ExportRequest) -> ExportRequest:
    """The request with --theme, --sector and --round known (a typo would export 0 rows)."""
    programme = services.config.programme
    theme, sector, round_ = request.theme, request.sector, request.round
    if theme is not None:
        theme = known("theme", theme, programme.thematic_groups)
    if sector is not None:
        sector = known("sector", sector, programme.sectors)
    if round_ is not None:
        recorded = (await services.exports.filter_options()).get("round", [])
        round_ = known_round(round_, programme.rounds, tuple(recorded))
    return replace(request, theme=theme, sector=sector, round=round_)


def export(arguments: argparse.Namespace) -> int:
    """Write one dataset to --out."""
    try:
        start = date.fromisoformat(arguments.date_from) if arguments.date_from else None
        end = date.fromisoformat(arguments.date_to) if arguments.date_to else None
    except ValueError:
        say("export: --from and --to are dates like 2026-12-05", error=True)
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

    try:
        out = output_path(arguments.out)
        if arguments.dataset == "record":
            record_path(out, arguments.out, arguments.format)
    except Refusal as refusal:
        say(f"export: {refusal}", error=True)
        return 2

    async def action(services: Services) -> int:
        checked = await checked_filters(services, request)
        actor, grants = await _operator(services, arguments.as_who)
        try:
            result = await services.exports.export(checked, actor, grants, out, _progress)
        except OSError as error:
            raise Refusal(f"cannot write {out}: {error.strerror or error}") from None
        except InputError as error:
            if error.key == "export.error.pii" and arguments.as_who is None:
                # The CLI acts as plain staff unless told who asks; say how to name them.
                raise Refusal(
                    "--pii needs --as @user (or a Telegram id) naming a staff_pii holder or an"
                    " admin; the request was logged"
                ) from None
            raise
        sys.stderr.write("\n")
        say(f"{result.path}: {plural(result.total, 'row')}{' (with PII)' if result.pii else ''}")
        for beside in result.also:
            say(f"{beside}: the data dictionary")
        return 0

    return run_with_services(arguments, "export", action)


def clauses_load(arguments: argparse.Namespace) -> int:
    """Load the draft policy's clauses from Markdown or TOML."""

    text = read_text(arguments.file, "clauses")

    async def action(services: Services) -> int:
        try:
            count = await services.clauses.load(text, Path(arguments.file).name, CLI_ACTOR)
        except ClausesRefused as refused:
            # Every problem of the file, one line each, as the chat lists them.
            for problem in refused.problems:
                say(f"clauses: {explain(services, problem)}", error=True)
            return 2
        say(f"{plural(count, 'clause')} loaded")
        return 0

    return run_with_services(arguments, "clauses", action)


def evidence_link(arguments: argparse.Namespace) -> int:
    """Link an answer, proposal or meeting to a clause."""

    kind, ref = next(
        (k, getattr(arguments, k)) for k in EVIDENCE_ITEMS if getattr(arguments, k) is not None
    )

    async def action(services: Services) -> int:
        linked = await services.clauses.link(arguments.clause, kind, ref, CLI_ACTOR)
        say("linked" if linked else "already linked")
        return 0

    return run_with_services(arguments, "evidence", action)


def register(subparsers: Any, parent: argparse.ArgumentParser | None = None) -> None:
    """Add `export`, `clauses load` and `evidence link` to the CLI."""
    parents = [parent] if parent is not None else []

    def add(commands: Any, name: str, about: str) -> argparse.ArgumentParser:
        sub: argparse.ArgumentParser = commands.add_parser(
            name, help=about, description=about, parents=parents
        )
        if parent is None:
            add_config(sub)
        return sub

    exporter = add(subparsers, "export", "export a dataset to a file (audited)")
    exporter.add_argument(
        "dataset", choices=DATASETS, metavar="DATASET", help="what to export: %(choices)s"
    )
    rows = exporter.add_argument_group("filters", "Each narrows the rows; none: everything.")
    rows.add_argument("--survey", type=int, metavar="ID", help="answers to this survey only")
    rows.add_argument("--round", help="this consultation round only (its number or name)")
    rows.add_argument("--theme", help="this thematic group only (a key from the config)")
    rows.add_argument(
        "--from", dest="date_from", metavar="DATE", help="YYYY-MM-DD (programme's zone)"
    )
    rows.add_argument("--to", dest="date_to", metavar="DATE", help="YYYY-MM-DD, inclusive")
    rows.add_argument(
        "--country", type=str.upper, choices=("CA", "US"), help="members in this country"
    )
    rows.add_argument("--region", help="province or state: QC, TX or US-TX")
    rows.add_argument("--sector", help="this sector only (a key from the config)")
    output = exporter.add_argument_group("output")
    output.add_argument(
        "--out",
        required=True,
        metavar="PATH",
        help="the file to write (replaced if it exists), or an existing folder (or a path "
        "ending in /) to write <form_id>_<dataset>_<YYYY-MM-DD>.<ext> in",
    )
    output.add_argument(
        "--format",
        default="csv",
        choices=FORMATS,
        help="file format (default: csv); for record, the format of the tables in its ZIP",
    )
    shown = output.add_mutually_exclusive_group()
    shown.add_argument("--labels", action="store_true", help="answers as labels (default)")
    shown.add_argument("--values", action="store_true", help="answers as stored values")
    output.add_argument(
        "--language",
        choices=("es", "en", "fr"),
        help="language of the labels (default: each form's)",
    )
    output.add_argument(
        "--multi",
        default="split",
        choices=("split", "single"),
        help="select-multiple answers: a 0/1 column per choice (split) or one column (single)",
    )
    output.add_argument("--pii", action="store_true", help="include personal data (needs --as)")
    output.add_argument(
        "--as",
        dest="as_who",
        metavar="@USER",
        help="@username or Telegram id of a staff_pii holder or admin",
    )
    exporter.set_defaults(handler=export)

    clauses = subparsers.add_parser("clauses", help="the draft policy's clauses")
    loader = add(
        clauses.add_subparsers(dest="action", required=True),
        "load",
        "load the clauses, replacing the previous set (all or nothing)",
    )
    loader.add_argument("file", help="Markdown (.md) or TOML (.toml) file of clauses")
    loader.set_defaults(handler=clauses_load)

    evidence = subparsers.add_parser("evidence", help="evidence linked to clauses")
    linker = add(
        evidence.add_subparsers(dest="action", required=True),
        "link",
        "link an answer, proposal, meeting or record entry to a clause",
    )
    linker.add_argument("clause", help="the clause's id, e.g. C1")
    items = linker.add_mutually_exclusive_group(required=True)
    for name, about in EVIDENCE_ITEMS.items():
        items.add_argument(f"--{name}", type=int, metavar="ID", help=about)
    linker.set_defaults(handler=evidence_link)
