"""The data dictionary of a survey: every question and choice, in each of the form's languages.

One table per survey, the same in the workbook's Dictionary sheet and in data_dictionary.csv: a
row per question (its column in the answers table, name, type, choice list, label per language,
required, relevant, constraint, choice filter, range parameters), each followed by a row per
choice with its labels, then KoBo's start/end/today, which the bot fills in; last, the
submission's described columns (`_id`, `_theme`, `_form_version`, `_association`, ...) with
their description in each language.
"""

from __future__ import annotations

import csv
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from bot.services.exports.form_table import DESCRIBED, META, FormColumn, meta_description
from bot.services.exports.tables import atomic_path
from bot.services.exports.words import Words
from bot.services.xlsform.values import to_text


@dataclass(frozen=True, slots=True)
class FormDictionary:
    """A survey's dictionary as rows of text; `questions` are the indexes of question rows."""

    survey: str
    headers: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]
    questions: frozenset[int]


def form_dictionary(
    survey: str, fields: Sequence[FormColumn], languages: Sequence[str], words: Words
) -> FormDictionary:
    """Describe every question and choice of the form (labels in each of its languages)."""
    codes = tuple(languages) or ("",)
    headers = (
        words("export.dictionary.column"),
        words("export.dictionary.name"),
        words("export.dictionary.type"),
        words("export.dictionary.list"),
        *(words("export.dictionary.label", language=code or "—") for code in codes),
        words("export.dictionary.required"),
        words("export.dictionary.relevant"),
        words("export.dictionary.constraint"),
        words("export.dictionary.choice_filter"),
        words("export.dictionary.parameters"),
    )
    rows: list[tuple[str, ...]] = []
    questions: set[int] = set()
    blanks = ("",) * 5
    for field in fields:
        question = field.question
        questions.add(len(rows))
        if question is None:
            # start/end/today, or a question of a stored form that no longer parses.
            seen = field.labels.by_language
            shown = tuple(
                words("export.dictionary.metadata") if field.metadata else seen.get(code, "")
                for code in codes
            )
            rows.append((field.path, field.name, field.type, "", *shown, *blanks))
            continue
        texts = question.labels.by_language
        bounds = question.range
        parameters = (
            f"start={to_text(bounds.start)} end={to_text(bounds.end)} step={to_text(bounds.step)}"
            if bounds is not None
            else ""
        )
        rows.append(
            (
                field.path,
                field.name,
                field.type,
                question.list_name or "",
                *(texts.get(code, "") for code in codes),
                words("export.dictionary.yes") if question.required else "",
                question.relevant.text if question.relevant else "",
                question.constraint.text if question.constraint else "",
                question.choice_filter.text if question.choice_filter else "",
                parameters,
            )
        )
        for choice in field.choices:
            labels = choice.labels.by_language
            rows.append(
                (
                    field.path,
                    choice.name,
                    words("export.dictionary.choice"),
                    choice.list_name,
                    *(labels.get(code, "") for code in codes),
                    *blanks,
                )
            )
    # The submission's own columns (`_id`, `_association`, ...), described in each language.
    kinds = {key: kind for key, kind, _ in META}
    for key in DESCRIBED:
        questions.add(len(rows))
        shown = tuple(meta_description(key, Words(code or words.language)) for code in codes)
        rows.append((key, key, kinds[key], "", *shown, *blanks))
    return FormDictionary(survey, headers, tuple(rows), frozenset(questions))


def dictionary_lines(dictionaries: Sequence[FormDictionary]) -> Iterator[tuple[str, ...]]:
    """The dictionaries as CSV lines: a `survey` column first, a header when the columns change."""
    written: tuple[str, ...] | None = None
    for dictionary in dictionaries:
        if dictionary.headers != written:
            yield ("survey", *dictionary.headers)
            written = dictionary.headers
        for row in dictionary.rows:
            yield (dictionary.survey, *row)


def write_dictionary_csv(dictionaries: Sequence[FormDictionary], path: Path) -> int:
    """data_dictionary.csv of an answers export; returns the lines written."""
    count = 0
    with (
        atomic_path(path) as temporary,
        temporary.open("w", encoding="utf-8-sig", newline="") as stream,
    ):
        writer = csv.writer(stream, lineterminator="\r\n")
        for line in dictionary_lines(dictionaries):
            writer.writerow(line)
            count += 1
    return count
