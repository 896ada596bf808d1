"""``consultbot surveys results ID [--by country|region|sector] [--min-cell K]``: a table."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING, Any

from bot.cli_common import add_config, run_with_services, say
from bot.services.results import GROUPINGS, Results

if TYPE_CHECKING:
    from bot.context import Services

HIDDEN = "—"


def table(results: Results, language: str = "en") -> str:
    """The results as aligned plain-text columns, one block per question."""
    survey = results.survey
    title = survey.titles.get(language) or survey.titles.get(survey.default_language)
    lines = [
        f"Survey {survey.id}: {title or survey.form_id} (form {survey.form_id}, "
        f"version {survey.version}, {survey.status})",
        f"Cells under {results.k} respondents, and cells that would reveal them, show {HIDDEN}.",
    ]
    if not results.questions:
        lines.append("No select questions.")
    for question in results.questions:
        kind = "several answers; shares of respondents" if question.multiple else "one answer"
        lines += ["", f"{question.label} [{question.name}] ({kind})"]
        rows: list[tuple[str, str, str, str]] = []
        for group in question.groups:
            people = HIDDEN if group.respondents is None else str(group.respondents)
            rows.append((group.label, f"({people} respondents)", "", ""))
            for option in group.options:
                count = HIDDEN if option.count is None else str(option.count)
                share = "" if option.share is None else f"{option.share * 100:.0f}%"
                rows.append(("", option.label, count, share))
        if not rows:
            lines.append("  no answers yet")
            continue
        widths = [max(len(row[i]) for row in rows) for i in range(4)]
        for row in rows:
            lines.append(
                "  "
                + "  ".join(
                    cell.rjust(width) if index >= 2 else cell.ljust(width)
                    for index, (cell, width) in enumerate(zip(row, widths, strict=True))
                ).rstrip()
            )
    return "\n".join(lines)


def results(arguments: argparse.Namespace) -> int:
    """Print a survey's results; exit status 1 when the survey does not exist."""

    async def show(services: Services) -> int:
        service = services.results
        survey = await service.survey_by_id(arguments.id)
        if survey is None:
            say(f"surveys: no survey {arguments.id}", error=True)
            return 1
        found = await service.results(survey, arguments.language, arguments.by, arguments.min_cell)
        say(table(found, arguments.language))
        return 0

    return run_with_services(arguments, "surveys", show)


def _positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError("must be 1 or more")
    return value


def register_results(
    surveys_subparsers: Any, parent: argparse.ArgumentParser | None = None
) -> None:
    """Add `surveys results ID [--by ...] [--min-cell K] [--language ...]`."""
    parents = [parent] if parent is not None else []
    about = "counts and shares per option, small cells suppressed"
    command: argparse.ArgumentParser = surveys_subparsers.add_parser(
        "results", help=about, description=about, parents=parents
    )
    if parent is None:
        add_config(command)
    command.add_argument("id", type=int, help="the survey's number (see surveys list)")
    command.add_argument("--by", choices=GROUPINGS, help="split by country, region or sector")
    command.add_argument(
        "--min-cell", type=_positive, help="hide cells under K respondents (default: config)"
    )
    command.add_argument(
        "--language",
        default="en",
        choices=("es", "en", "fr"),
        help="language of the labels (default: en)",
    )
    command.set_defaults(handler=results)
