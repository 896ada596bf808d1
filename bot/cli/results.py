"""``consultbot surveys results ID [--by country|region|sector] [--min-cell K] [--language L]``."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING, Any

from bot.cli.common import add_config, run_with_services, say
from bot.services.results import GROUPINGS, GroupBlock, QuestionBlock, Results

if TYPE_CHECKING:
    from bot.context import Services

HIDDEN = "—"
KINDS = {
    "select_one": "one answer",
    "select_multiple": "several answers; shares of respondents",
}


def _count(value: int | None) -> str:
    return HIDDEN if value is None else str(value)


def _options(group: GroupBlock, place: str) -> list[tuple[str, str, str, str]]:
    rows = []
    home = ""
    for option in group.options:
        if place and option.home and option.home != place and not option.count:
            continue  # a province or state of another country
        if option.home and not place and option.home != home:
            home = option.home
            rows.append(("", f"[{home}]", "", ""))
        share = "" if option.share is None else f"{option.share * 100:.0f}%"
        label = f"  {option.label}" if home and not place else option.label
        rows.append(("", label, _count(option.count), share))
    return rows


def _select(results: Results, question: QuestionBlock) -> list[tuple[str, str, str, str]]:
    rows: list[tuple[str, str, str, str]] = []
    countries = {g.key: g for g in question.countries}
    above = ""
    for group in question.groups:
        if results.by == "region" and group.country != above:
            above = group.country
            if (country := countries.get(above)) is not None:
                rows.append((country.label, f"({_count(country.respondents)} respondents)", "", ""))
        if results.by is not None:
            rows.append(("  " + group.label, f"({_count(group.respondents)} respondents)", "", ""))
        rows += _options(group, group.key if results.by == "country" else group.country)
    return rows


def _aligned(rows: list[tuple[str, str, str, str]]) -> list[str]:
    widths = [max(len(row[i]) for row in rows) for i in range(4)]
    return [
        "  "
        + "  ".join(
            cell.rjust(width) if index >= 2 else cell.ljust(width)
            for index, (cell, width) in enumerate(zip(row, widths, strict=True))
        ).rstrip()
        for row in rows
    ]


def table(results: Results, language: str = "en") -> str:
    """The results as aligned plain-text columns, one block per question.

    The figures are the summary sheet's (the export's own computation); labels are in
    `language`, the frame in English like the rest of the command line.
    """
    survey, k = results.survey, results.k
    title = survey.titles.get(language) or survey.titles.get(survey.default_language)
    lines = [
        f"Survey {survey.id}: {title or survey.form_id} (form {survey.form_id}, "
        f"version {survey.version}, {survey.status})",
    ]
    if results.submissions is None:
        lines.append(
            f"Fewer than {k} people answered, so every cell shows {HIDDEN}: a count under {k} "
            "could point to someone."
        )
    else:
        lines.append(
            f"{results.submissions} answered · cells need {k}: cells under {k} respondents, "
            f"and cells that would reveal them, show {HIDDEN}."
        )
    if not results.questions:
        lines.append("No questions.")
    for question in results.questions:
        kind = KINDS.get(question.type, question.type)
        lines += ["", f"{question.label} [{question.name}] ({kind})"]
        lines.append(f"  answered {_count(question.answered)}, skipped {_count(question.skipped)}")
        if question.kind == "select":
            rows = _select(results, question)
            lines += _aligned(rows) if rows else ["  no answers yet"]
        elif question.kind == "number":
            if question.statistics:
                figures = ", ".join(f"{name} {value:g}" for name, value in question.statistics)
                lines.append(f"  {figures}" + (" (everyone)" if results.by else ""))
                lines += _aligned([("", label, _count(n), "") for label, n in question.histogram])
            elif question.answered is None and not results.too_few:
                # Hidden with the count of answers they are computed from.
                hidden = f"<{k}"
                lines.append(f"  mean {hidden}, median {hidden}, q1 {hidden}, q3 {hidden}")
            elif not results.too_few:
                lines.append(f"  fewer than {k} answers: no figures")
        elif question.kind == "text":
            lines.append("  free text: counted, not listed")
    return "\n".join(lines)


def results(arguments: argparse.Namespace) -> int:
    """Print a survey's results; exit status 1 when the survey does not exist."""

    async def show(services: Services) -> int:
        service = services.results
        survey = await service.survey_by_id(arguments.id)
        if survey is None:
            say(f"surveys: there is no survey #{arguments.id}", error=True)
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
    about = "the summary sheet's figures per question (labels in --language), small cells hidden"
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
