"""The workbook's reference sheets: the form's data dictionary and key phrases of free text."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from xlsxwriter.workbook import Workbook

from bot.services.exports.book import SheetNames, Styles
from bot.services.exports.dictionary import FormDictionary
from bot.services.exports.keyphrases import GroupPhrases
from bot.services.exports.words import Words


@dataclass(frozen=True, slots=True)
class KeyphraseSheet:
    """Key phrases of one free-text question (or theme) per group, from keyphrases.key_phrases."""

    title: str
    grouping: str
    groups: Mapping[str, GroupPhrases]
    min_group_size: int = 5
    # The text above the table (e.g. the question's label); the title when empty.
    heading: str = ""


def write_dictionary(
    book: Workbook,
    dictionaries: Sequence[FormDictionary],
    styles: Styles,
    names: SheetNames,
) -> str:
    """One Dictionary sheet for every survey exported; question rows in bold; its name."""
    name = names.take("Dictionary")
    sheet = book.add_worksheet(name)
    sheet.set_column(0, 0, 22)
    sheet.set_column(1, 2, 26)
    sheet.set_column(3, 4, 16)
    sheet.set_column(5, 9, 40)
    sheet.set_column(10, 14, 24)
    sheet.freeze_panes(1, 3)
    r = 0
    written: tuple[str, ...] | None = None
    for dictionary in dictionaries:
        if dictionary.headers != written:
            sheet.write_row(r, 0, ["survey", *dictionary.headers], styles.header)
            written = dictionary.headers
            r += 1
        for index, row in enumerate(dictionary.rows):
            style = styles.bold if index in dictionary.questions else None
            sheet.write_string(r, 0, dictionary.survey, style)
            for c, value in enumerate(row, start=1):
                if value:
                    sheet.write_string(r, c, value, style)
            r += 1
    return name


def write_keyphrases(
    book: Workbook, sheet_info: KeyphraseSheet, styles: Styles, names: SheetNames, words: Words
) -> str:
    """A sheet of key phrases per group, with counts and pseudonymous examples; its name."""
    name = names.take(f"Phrases {sheet_info.title}")
    sheet = book.add_worksheet(name)
    width = max((len(p.examples) for g in sheet_info.groups.values() for p in g.phrases), default=0)
    sheet.set_column(0, 0, 22)
    sheet.set_column(1, 1, 9)
    sheet.set_column(2, 2, 30)
    sheet.set_column(3, 3, 8)
    sheet.set_column(4, 4 + max(width - 1, 0), 50)
    k = sheet_info.min_group_size
    sheet.write_string(0, 0, sheet_info.heading or sheet_info.title, styles.title)
    sheet.write_string(1, 0, words("export.phrases.note", k=k), styles.note)
    headers = [
        sheet_info.grouping,
        words("export.phrases.answers"),
        words("export.phrases.phrase"),
        words("export.phrases.count"),
        *(words("export.phrases.example", number=n) for n in range(1, width + 1)),
    ]
    sheet.write_row(3, 0, headers, styles.header)
    sheet.freeze_panes(4, 0)
    r = 4
    for group in sorted(sheet_info.groups):
        result = sheet_info.groups[group]
        sheet.write_string(r, 0, group)
        if result.suppressed or result.answers is None:
            sheet.write_string(r, 1, f"<{k}", styles.small)
            sheet.write_string(r, 2, words("export.phrases.too_few"))
            r += 1
            continue
        if not result.phrases:
            sheet.write_number(r, 1, result.answers)
            sheet.write_string(r, 2, words("export.phrases.none"))
            r += 1
        for phrase in result.phrases:
            sheet.write_string(r, 0, group)
            sheet.write_number(r, 1, result.answers)
            sheet.write_string(r, 2, phrase.phrase)
            sheet.write_number(r, 3, phrase.count)
            for i, (pseudonym, text) in enumerate(phrase.examples):
                sheet.write_string(r, 4 + i, f"{pseudonym}: {text}", styles.wrap)
            r += 1
    return name
