"""The XLSX workbook: README first, the datasets, a summary per survey, the dictionary, phrases.

xlsxwriter runs in constant_memory mode (rows are flushed as they are written, so 100,000 rows
cost no more memory than ten) with strings never turned into formulas, links or numbers.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from contextlib import nullcontext, suppress
from dataclasses import dataclass
from datetime import date, datetime
from itertools import chain, islice
from pathlib import Path

import xlsxwriter
from xlsxwriter.workbook import Workbook
from xlsxwriter.worksheet import Worksheet

from bot.services.exports.book import SheetNames, Styles
from bot.services.exports.dictionary import FormDictionary
from bot.services.exports.safety import XLSX_OPTIONS
from bot.services.exports.sheets import KeyphraseSheet, write_dictionary, write_keyphrases
from bot.services.exports.summary import SurveySummary
from bot.services.exports.summary_sheet import write_summary
from bot.services.exports.tables import (
    EXCEL_MAX_ROWS,
    Column,
    Dataset,
    DictionaryEntry,
    Kind,
    ReadmeInfo,
    atomic_path,
    data_dictionary,
    iso,
    naive_local,
    row_values,
)
from bot.services.exports.words import Words

__all__ = ["KeyphraseSheet", "write_xlsx"]


def write_xlsx(
    path: Path,
    sheets: Sequence[Dataset],
    readme: ReadmeInfo,
    summaries: Sequence[SurveySummary] | None = None,
    keyphrase_sheets: Sequence[KeyphraseSheet] | None = None,
    *,
    dictionaries: Sequence[FormDictionary] = (),
    words: Words | None = None,
    zone: str = "UTC",
    k: int = 5,
    about: Mapping[str, str] | None = None,
    max_rows: int = EXCEL_MAX_ROWS,
    constant_memory: bool = True,
    in_place: bool = False,
) -> dict[str, int]:
    """Write a workbook and return the number of data rows per dataset.

    Datasets roll over to a new sheet past max_rows (which counts the header row, as Excel
    does). `about` describes a dataset on the README (dataset name -> text); the README is in
    the language of `words`. `in_place`: write `path` itself, a temporary file the caller
    owns (the record's ZIP), instead of a temporary file renamed onto it.
    """
    if max_rows < 2:
        raise ValueError("max_rows must leave room for a header and a row")
    words = words or Words("en")
    counts: dict[str, int] = {}
    contents: list[tuple[str, str]] = []
    with nullcontext(path) if in_place else atomic_path(path) as temporary:
        options: dict[str, object] = {**XLSX_OPTIONS, "constant_memory": constant_memory}
        book = xlsxwriter.Workbook(str(temporary), options)
        try:
            styles = Styles(book)
            names = SheetNames()
            # Added first so it opens first; filled last, when the counts are known.
            readme_sheet = book.add_worksheet(names.take("README"))
            placed: dict[str, list[str]] = {}
            for dataset in sheets:
                placed[dataset.name], counts[dataset.name] = _write_dataset(
                    book, dataset, styles, names, max_rows
                )
                described = (about or {}).get(dataset.name) or words("export.book.about_table")
                contents += [(name, described) for name in placed[dataset.name]]
            for summary in summaries or ():
                name = write_summary(book, summary, styles, names, words)
                contents.append((name, words("export.book.about_summary")))
            if dictionaries:
                name = write_dictionary(book, dictionaries, styles, names)
                contents.append((name, words("export.book.about_dictionary")))
            for phrases in keyphrase_sheets or ():
                name = write_keyphrases(book, phrases, styles, names, words)
                contents.append((name, words("export.book.about_phrases")))
            entries = [*data_dictionary(sheets), *readme.extra_dictionary]
            facts = _Facts(counts, placed, contents, entries, zone, k)
            _write_readme(readme_sheet, readme, facts, styles, words)
        except BaseException:
            with suppress(Exception):
                book.close()
            raise
        book.close()
    return counts


def _widths(columns: Sequence[Column], sample: Sequence[Sequence[object]]) -> list[float]:
    """Column widths from the header and the first rows, kept between 8 and 60 characters."""
    widths = []
    for i, column in enumerate(columns):
        longest = max([len(column.header), *(len(str(row[i])) for row in sample if row[i])])
        if column.kind in ("date", "datetime"):
            longest = max(len(column.header), 11 if column.kind == "date" else 19)
        widths.append(float(min(max(longest + 2, 8), 60)))
    return widths


def _write_dataset(
    book: Workbook, dataset: Dataset, styles: Styles, names: SheetNames, max_rows: int
) -> tuple[list[str], int]:
    """Write a dataset over as many sheets as it needs; return their names and the row count."""
    columns = list(dataset.columns)
    read = row_values(columns)
    rows = iter(dataset.rows)
    sample = [read(row) for row in islice(rows, 200)]
    widths = _widths(columns, sample)
    text = [column.kind == "text" for column in columns]
    kinds = [column.kind for column in columns]
    placed: list[str] = []
    sheet: Worksheet | None = None
    write_string = write_number = None
    r = max_rows
    count = 0

    def open_sheet() -> Worksheet:
        """Start a sheet with its bold, frozen, filterable header."""
        suffix = "" if not placed else f" ({len(placed) + 1})"
        name = names.take(dataset.name, suffix)
        placed.append(name)
        new = book.add_worksheet(name)
        for c, width in enumerate(widths):
            new.set_column(c, c, width)
        new.write_row(0, 0, [column.header for column in columns], styles.header)
        new.freeze_panes(1, 0)
        return new

    for values in chain(sample, map(read, rows)):
        if r >= max_rows:
            if sheet is not None:
                sheet.autofilter(0, 0, r - 1, len(columns) - 1)
            sheet = open_sheet()
            write_string, write_number = sheet.write_string, sheet.write_number
            r = 1
        assert sheet is not None and write_string is not None and write_number is not None
        for c, value in enumerate(values):
            if value is None:
                continue
            kind = type(value)
            # The common cases first, without the generic write()'s type dispatch.
            if kind is str and text[c]:
                write_string(r, c, value)
            elif kind is int and kinds[c] == "number":
                write_number(r, c, value)
            else:
                _write_other(sheet, r, c, value, kinds[c], styles)
        r += 1
        count += 1
    if sheet is None:
        sheet, r = open_sheet(), 1
    sheet.autofilter(0, 0, r - 1, len(columns) - 1)
    return placed, count


def _write_other(
    sheet: Worksheet, r: int, c: int, value: object, kind: Kind, styles: Styles
) -> None:
    """Write a number, date or non-string value; anything unexpected goes in as text.

    A number in a text column (answers-long's `value` of a number question) is a number cell.
    """
    if (
        kind in ("number", "text")
        and isinstance(value, int | float)
        and not isinstance(value, bool)
    ):
        if math.isfinite(value):
            sheet.write_number(r, c, value)
            return
    elif kind in ("date", "datetime") and isinstance(value, date):
        if isinstance(value, datetime):
            # Excel has no zones: the wall-clock time of the zone the header names.
            plain = naive_local(value) if value.tzinfo is not None else value
            sheet.write_datetime(r, c, plain, styles.datetime)
        else:
            sheet.write_datetime(r, c, value, styles.date)
        return
    sheet.write_string(r, c, str(iso(value)))


@dataclass(frozen=True, slots=True)
class _Facts:
    """What the README tells that is known only once every other sheet is written."""

    counts: Mapping[str, int]
    placed: Mapping[str, list[str]]
    contents: Sequence[tuple[str, str]]
    entries: Sequence[DictionaryEntry]
    zone: str
    k: int


def _write_readme(
    sheet: Worksheet, readme: ReadmeInfo, facts: _Facts, styles: Styles, words: Words
) -> None:
    """Fill the README sheet: title, times, filters, rows, sheets, notes, the columns."""
    counts, placed, contents, entries = facts.counts, facts.placed, facts.contents, facts.entries
    zone, k = facts.zone, facts.k
    sheet.set_column(0, 1, 26)
    sheet.set_column(2, 3, 40)
    sheet.set_column(4, 5, 30)
    sheet.write_string(0, 0, readme.title, styles.title)
    sheet.write_string(2, 0, words("export.book.generated_utc"), styles.bold)
    sheet.write_string(2, 1, readme.generated_utc)
    sheet.write_string(3, 0, words("export.book.generated_local"), styles.bold)
    sheet.write_string(3, 1, readme.generated_local)
    r = 5
    sheet.write_string(r, 0, words("export.book.filters"), styles.bold)
    for name, value in readme.filters or [(words("export.book.no_filter"), "")]:
        r += 1
        sheet.write_string(r, 0, name)
        sheet.write_string(r, 1, value)
    r += 2
    sheet.write_string(r, 0, words("export.book.rows"), styles.bold)
    for name, rows in counts.items():
        r += 1
        sheet.write_string(r, 0, name)
        sheet.write_number(r, 1, rows)
        sheet.write_string(r, 2, words("export.book.sheets", names=", ".join(placed.get(name, []))))
    r += 2
    sheet.write_string(r, 0, words("export.book.contents"), styles.bold)
    for name, text in contents:
        r += 1
        sheet.write_string(r, 0, name)
        sheet.write_string(r, 1, text)
    notes = [
        words("export.book.note_times", zone=zone),
        words("export.book.note_small", k=k),
        words("export.book.note_split"),
        words("export.book.note_headers"),
        words("export.book.note_multi"),
        words("export.book.note_region"),
        words("export.book.note_formula"),
    ]
    r += 2
    sheet.write_string(r, 0, words("export.book.notes"), styles.bold)
    for note in notes:
        r += 1
        sheet.write_string(r, 0, note)
    r += 2
    sheet.write_string(r, 0, words("export.book.columns"), styles.bold)
    r += 1
    headings = ("dataset", "column", "header", "description", "kind", "choices")
    sheet.write_row(r, 0, [words(f"export.book.h.{h}") for h in headings], styles.header)
    for entry in entries:
        r += 1
        row = (entry.dataset, entry.key, entry.header, entry.description, entry.kind, entry.choices)
        for c, value in enumerate(row):
            if value:
                sheet.write_string(r, c, value, styles.wrap)
