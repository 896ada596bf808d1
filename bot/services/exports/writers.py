"""Export writers: CSV, JSON Lines, XLSX and a ZIP of CSVs, streamed row by row, written atomically.

Nothing here knows about Telegram or the database: a `Dataset` is a name, its columns and an
iterable of rows (mappings from column key to value), which may be a generator and is read once.
"""

from __future__ import annotations

import csv
import io
import itertools
import json
import math
import os
import tempfile
import zipfile
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from itertools import chain, islice
from operator import itemgetter
from pathlib import Path
from typing import IO, Literal

import xlsxwriter
from xlsxwriter.workbook import Workbook
from xlsxwriter.worksheet import Worksheet

from bot.services.exports.keyphrases import GroupPhrases
from bot.services.exports.safety import TRIGGERS, XLSX_OPTIONS
from bot.services.exports.suppression import suppress_options

Kind = Literal["text", "number", "date", "datetime"]
Row = Mapping[str, object]
EXCEL_MAX_ROWS = 1_048_576


@dataclass(frozen=True, slots=True)
class Column:
    """One exported column: its key in the rows, its header and what the data dictionary says."""

    key: str
    header: str
    description: str = ""
    kind: Kind = "text"
    from_user: bool = False
    # (value, label) pairs of a choice question, listed in the data dictionary.
    choices: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True, slots=True)
class Dataset:
    """A named table to export; rows are read once, in order."""

    name: str
    columns: Sequence[Column]
    rows: Iterable[Row]


@dataclass(frozen=True, slots=True)
class DictionaryEntry:
    """One line of the data dictionary."""

    dataset: str
    key: str
    header: str
    description: str
    kind: str
    choices: str


DICTIONARY_HEADERS = ("dataset", "column", "header", "description", "kind", "choices")


def data_dictionary(datasets: Iterable[Dataset]) -> list[DictionaryEntry]:
    """Describe every column of the datasets (choices as `value = label; ...`)."""
    return [
        DictionaryEntry(
            dataset.name,
            column.key,
            column.header,
            column.description,
            column.kind,
            "; ".join(f"{value} = {label}" for value, label in column.choices),
        )
        for dataset in datasets
        for column in dataset.columns
    ]


@dataclass(frozen=True, slots=True)
class ReadmeInfo:
    """What the README sheet or file says besides counts and the data dictionary."""

    title: str
    generated_utc: str
    generated_local: str
    filters: Sequence[tuple[str, str]] = ()
    notes: Sequence[str] = ()
    extra_dictionary: Sequence[DictionaryEntry] = field(default_factory=tuple)


@contextmanager
def atomic_path(target: Path) -> Iterator[Path]:
    """Yield a temporary path beside target; move it onto target only if the block succeeds."""
    target = Path(target)
    handle, name = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".part")
    os.close(handle)
    temporary = Path(name)
    try:
        yield temporary
        os.replace(temporary, target)
    finally:
        temporary.unlink(missing_ok=True)


def _iso(value: object) -> object:
    """Dates and datetimes as ISO 8601 text (aware datetimes in UTC); anything else unchanged."""
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat() if value.tzinfo else value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    return value


def row_values(columns: Sequence[Column]) -> Callable[[Row], tuple[object, ...]]:
    """A fast function reading a row's values in column order; missing keys read as None."""
    keys = [column.key for column in columns]
    # itemgetter of one key returns the bare value, not a 1-tuple.
    getter = itemgetter(*keys) if len(keys) > 1 else (lambda row: (row[keys[0]],))

    def read(row: Row) -> tuple[object, ...]:
        try:
            return tuple(getter(row))
        except (KeyError, IndexError):
            return tuple(row.get(key) for key in keys)

    return read


def _csv_rows(dataset: Dataset) -> Iterator[Sequence[object]]:
    """The dataset's rows as CSV-ready sequences: user text neutralised, dates in ISO 8601."""
    keys = [column.key for column in dataset.columns]
    read = row_values(dataset.columns)
    user = [i for i, column in enumerate(dataset.columns) if column.from_user]
    dates = [i for i, c in enumerate(dataset.columns) if c.kind in ("date", "datetime")]
    if not user and not dates:
        yield from map(read, dataset.rows)
        return
    # This loop runs once per row of the largest exports: lookups are hoisted and inlined.
    getter = itemgetter(*keys) if len(keys) > 1 else None
    triggers = tuple(TRIGGERS)
    for row in dataset.rows:
        try:
            values = list(getter(row) if getter is not None else (row[keys[0]],))
        except (KeyError, IndexError):
            values = [row.get(key) for key in keys]
        for i in user:
            value = values[i]
            if type(value) is str and value.startswith(triggers):
                values[i] = "'" + value
        for i in dates:
            if isinstance(values[i], date):
                values[i] = _iso(values[i])
        yield values


def _write_csv_stream(dataset: Dataset, stream: IO[str]) -> int:
    """Write header and rows to an open text stream; return the number of data rows."""
    writer = csv.writer(stream, lineterminator="\r\n")
    writer.writerow([column.header for column in dataset.columns])
    # zip stops pulling the counter when the rows end, so it holds the number written.
    counter = itertools.count()
    writer.writerows(values for values, _ in zip(_csv_rows(dataset), counter, strict=False))
    return next(counter)


def write_csv(dataset: Dataset, path: Path, bom: bool = True) -> int:
    """Write the dataset as RFC 4180 CSV in UTF-8 (a BOM lets Excel read accents); return rows."""
    with atomic_path(path) as temporary:
        encoding = "utf-8-sig" if bom else "utf-8"
        with temporary.open("w", encoding=encoding, newline="", buffering=1 << 20) as stream:
            return _write_csv_stream(dataset, stream)


def _json_default(value: object) -> object:
    """Encode what json cannot: dates and datetimes as ISO 8601, the rest as text."""
    converted = _iso(value)
    return converted if isinstance(converted, str) else str(value)


def write_jsonl(dataset: Dataset, path: Path) -> int:
    """Write one JSON object per row (keys are column keys, UTF-8 unescaped); return rows."""
    read = row_values(dataset.columns)
    keys = [column.key for column in dataset.columns]
    encoder = json.JSONEncoder(ensure_ascii=False, default=_json_default)
    count = 0
    with atomic_path(path) as temporary, temporary.open("w", encoding="utf-8") as stream:
        for row in dataset.rows:
            values = [
                None if isinstance(v, float) and not math.isfinite(v) else v for v in read(row)
            ]
            stream.write(encoder.encode(dict(zip(keys, values, strict=True))))
            stream.write("\n")
            count += 1
    return count


def _readme_text(readme: ReadmeInfo, counts: Mapping[str, int]) -> str:
    """The README.txt of a ZIP export."""
    lines = [readme.title, "", f"Generated (UTC): {readme.generated_utc}"]
    lines.append(f"Generated (local): {readme.generated_local}")
    if readme.filters:
        lines += ["", "Filters:"] + [f"  {name}: {value}" for name, value in readme.filters]
    lines += ["", "Files:"] + [f"  {name}.csv: {rows} rows" for name, rows in counts.items()]
    lines += ["  data_dictionary.csv: every column, its description and choice labels"]
    lines += ["", "CSV files are UTF-8 with a byte order mark, comma-separated (RFC 4180)."]
    lines += ["Cells of free text starting with = + - @ are prefixed with ' (formula safety)."]
    if readme.notes:
        lines += ["", *readme.notes]
    return "\r\n".join(lines) + "\r\n"


def write_zip_of_csv(
    datasets: Sequence[Dataset],
    dictionary_rows: Sequence[DictionaryEntry] | None,
    path: Path,
    readme: ReadmeInfo | None = None,
) -> dict[str, int]:
    """Write a ZIP with one CSV per dataset, data_dictionary.csv and README.txt; return row counts.

    dictionary_rows defaults to the datasets' own columns (see data_dictionary).
    """
    entries = list(dictionary_rows) if dictionary_rows is not None else data_dictionary(datasets)
    counts: dict[str, int] = {}
    with (
        atomic_path(path) as temporary,
        zipfile.ZipFile(temporary, "w", compression=zipfile.ZIP_DEFLATED) as archive,
    ):
        for dataset in datasets:
            with (
                archive.open(f"{dataset.name}.csv", "w", force_zip64=True) as raw,
                io.TextIOWrapper(raw, encoding="utf-8-sig", newline="") as stream,
            ):
                counts[dataset.name] = _write_csv_stream(dataset, stream)
        with (
            archive.open("data_dictionary.csv", "w") as raw,
            io.TextIOWrapper(raw, encoding="utf-8-sig", newline="") as stream,
        ):
            writer = csv.writer(stream, lineterminator="\r\n")
            writer.writerow(DICTIONARY_HEADERS)
            for entry in entries:
                writer.writerow(
                    [
                        entry.dataset,
                        entry.key,
                        entry.header,
                        entry.description,
                        entry.kind,
                        entry.choices,
                    ]
                )
        if readme is not None:
            archive.writestr("README.txt", _readme_text(readme, counts).encode("utf-8"))
    return counts


# Already-compressed formats: zipping them again gains almost nothing.
_COMPRESSED = {".zip", ".xlsx", ".gz", ".bz2", ".xz", ".7z", ".png", ".jpg"}


def fit_for_telegram(path: Path, limit_bytes: int = 50 * 1024 * 1024) -> list[Path]:
    """Return files no larger than limit_bytes carrying path: itself, a ZIP of it, or parts.

    Parts are named `<file>.001`, `<file>.002`... and rejoin with `cat` (or `copy /b`).
    """
    path = Path(path)
    if path.stat().st_size <= limit_bytes:
        return [path]
    source = path
    if path.suffix.lower() not in _COMPRESSED:
        zipped = path.with_name(path.name + ".zip")
        with (
            atomic_path(zipped) as temporary,
            zipfile.ZipFile(temporary, "w", compression=zipfile.ZIP_DEFLATED) as archive,
        ):
            archive.write(path, arcname=path.name)
        if zipped.stat().st_size <= limit_bytes:
            return [zipped]
        source = zipped
    size = source.stat().st_size
    parts: list[Path] = []
    with source.open("rb") as reader:
        for number in range(1, math.ceil(size / limit_bytes) + 1):
            part = source.with_name(f"{source.name}.{number:03d}")
            with atomic_path(part) as temporary, temporary.open("wb") as writer:
                left = limit_bytes
                while left and (data := reader.read(min(1024 * 1024, left))):
                    writer.write(data)
                    left -= len(data)
            parts.append(part)
    return parts


@dataclass(frozen=True, slots=True)
class QuestionSummary:
    """One question of a survey summary: option labels with their counts."""

    key: str
    text: str
    options: Sequence[tuple[str, int]]
    # Respondents (the share's denominator); defaults to the sum of the counts.
    total: int | None = None
    chart: Literal["bar", "column"] = "bar"


@dataclass(frozen=True, slots=True)
class SurveySummary:
    """A survey's results for its summary sheet; counts under k are suppressed."""

    title: str
    questions: Sequence[QuestionSummary]
    k: int = 5


@dataclass(frozen=True, slots=True)
class KeyphraseSheet:
    """Key phrases of one free-text question (or theme) per group, from keyphrases.key_phrases."""

    title: str
    grouping: str
    groups: Mapping[str, GroupPhrases]
    min_group_size: int = 5


def write_xlsx(
    path: Path,
    sheets: Sequence[Dataset],
    readme: ReadmeInfo,
    summaries: Sequence[SurveySummary] | None = None,
    keyphrase_sheets: Sequence[KeyphraseSheet] | None = None,
    *,
    max_rows: int = EXCEL_MAX_ROWS,
    constant_memory: bool = True,
) -> dict[str, int]:
    """Write a workbook: README, the datasets (rolling over past max_rows), summaries, key phrases.

    Returns the number of data rows per dataset. max_rows counts the header row, as Excel does.
    """
    if max_rows < 2:
        raise ValueError("max_rows must leave room for a header and a row")
    counts: dict[str, int] = {}
    with atomic_path(path) as temporary:
        options: dict[str, object] = {**XLSX_OPTIONS, "constant_memory": constant_memory}
        book = xlsxwriter.Workbook(str(temporary), options)
        try:
            styles = _Styles(book)
            names = _SheetNames()
            # Added first so it opens first; filled last, when the counts are known.
            readme_sheet = book.add_worksheet(names.take("README"))
            placed: dict[str, list[str]] = {}
            for dataset in sheets:
                placed[dataset.name], counts[dataset.name] = _write_dataset(
                    book, dataset, styles, names, max_rows
                )
            for summary in summaries or ():
                _write_summary(book, summary, styles, names)
            for phrases in keyphrase_sheets or ():
                _write_keyphrases(book, phrases, styles, names)
            entries = [*data_dictionary(sheets), *readme.extra_dictionary]
            _write_readme(readme_sheet, readme, counts, placed, entries, styles)
        except BaseException:
            with suppress(Exception):
                book.close()
            raise
        book.close()
    return counts


class _Styles:
    """The few cell formats the workbook uses."""

    def __init__(self, book: Workbook) -> None:
        self.bold = book.add_format({"bold": True})
        self.title = book.add_format({"bold": True, "font_size": 14})
        self.header = book.add_format({"bold": True, "bottom": 1, "text_wrap": True})
        self.date = book.add_format({"num_format": "yyyy-mm-dd"})
        self.datetime = book.add_format({"num_format": "yyyy-mm-dd hh:mm:ss"})
        self.share = book.add_format({"num_format": "0.0%"})
        self.wrap = book.add_format({"text_wrap": True, "valign": "top"})


class _SheetNames:
    """Valid, unique sheet names (31 characters, none of []:*?/\\, case-insensitive)."""

    def __init__(self) -> None:
        self.used: set[str] = set()

    def take(self, base: str, suffix: str = "") -> str:
        """A free sheet name made of base (cleaned, shortened) and suffix."""
        clean = "".join(" " if ch in "[]:*?/\\" else ch for ch in base).strip(" '") or "Sheet"
        number = 1
        while True:
            tail = suffix if number == 1 else f"{suffix} ({number})"
            name = clean[: 31 - len(tail)].rstrip(" '") + tail
            if name.lower() not in self.used:
                self.used.add(name.lower())
                return name
            number += 1


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
    book: Workbook, dataset: Dataset, styles: _Styles, names: _SheetNames, max_rows: int
) -> tuple[list[str], int]:
    """Write a dataset over as many sheets as it needs; return their names and the row count."""
    columns = list(dataset.columns)
    read = row_values(columns)
    rows = iter(dataset.rows)
    sample = [read(row) for row in islice(rows, 200)]
    widths = _widths(columns, sample)
    text = [column.kind == "text" for column in columns]
    placed: list[str] = []
    sheet: Worksheet | None = None
    write_string = None
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
            write_string = sheet.write_string
            r = 1
        assert sheet is not None and write_string is not None
        for c, value in enumerate(values):
            if value is None:
                continue
            if text[c] and type(value) is str:
                write_string(r, c, value)
            else:
                _write_other(sheet, r, c, value, columns[c].kind, styles)
        r += 1
        count += 1
    if sheet is None:
        sheet, r = open_sheet(), 1
    sheet.autofilter(0, 0, r - 1, len(columns) - 1)
    return placed, count


def _write_other(
    sheet: Worksheet, r: int, c: int, value: object, kind: Kind, styles: _Styles
) -> None:
    """Write a number, date or non-string value; anything unexpected goes in as text."""
    if kind == "number" and isinstance(value, int | float) and not isinstance(value, bool):
        if math.isfinite(value):
            sheet.write_number(r, c, value)
            return
    elif kind in ("date", "datetime") and isinstance(value, date):
        if isinstance(value, datetime):
            # Excel has no time zones: aware datetimes are written in UTC.
            if value.tzinfo is not None:
                value = value.astimezone(UTC).replace(tzinfo=None)
            sheet.write_datetime(r, c, value, styles.datetime)
        else:
            sheet.write_datetime(r, c, value, styles.date)
        return
    sheet.write_string(r, c, str(_iso(value)))


def _write_readme(
    sheet: Worksheet,
    readme: ReadmeInfo,
    counts: Mapping[str, int],
    placed: Mapping[str, list[str]],
    entries: Sequence[DictionaryEntry],
    styles: _Styles,
) -> None:
    """Fill the README sheet: title, times, filters, row counts, notes, data dictionary."""
    sheet.set_column(0, 1, 24)
    sheet.set_column(2, 3, 40)
    sheet.set_column(4, 5, 30)
    sheet.write_string(0, 0, readme.title, styles.title)
    sheet.write_string(2, 0, "Generated (UTC)", styles.bold)
    sheet.write_string(2, 1, readme.generated_utc)
    sheet.write_string(3, 0, "Generated (local time)", styles.bold)
    sheet.write_string(3, 1, readme.generated_local)
    r = 5
    sheet.write_string(r, 0, "Filters", styles.bold)
    for name, value in readme.filters or [("(none)", "")]:
        r += 1
        sheet.write_string(r, 0, name)
        sheet.write_string(r, 1, value)
    r += 2
    sheet.write_string(r, 0, "Rows", styles.bold)
    for name, rows in counts.items():
        r += 1
        sheet.write_string(r, 0, name)
        sheet.write_number(r, 1, rows)
        sheet.write_string(r, 2, "sheets: " + ", ".join(placed.get(name, [])))
    notes = [
        "Dates and times are in UTC.",
        "Counts under the threshold are shown as <k and not charted.",
        *readme.notes,
    ]
    r += 2
    sheet.write_string(r, 0, "Notes", styles.bold)
    for note in notes:
        r += 1
        sheet.write_string(r, 0, note)
    r += 2
    sheet.write_string(r, 0, "Data dictionary", styles.bold)
    r += 1
    sheet.write_row(r, 0, DICTIONARY_HEADERS, styles.header)
    for entry in entries:
        r += 1
        row = (entry.dataset, entry.key, entry.header, entry.description, entry.kind, entry.choices)
        for c, value in enumerate(row):
            sheet.write_string(r, c, value, styles.wrap)


def _write_summary(
    book: Workbook, summary: SurveySummary, styles: _Styles, names: _SheetNames
) -> None:
    """A sheet per survey: per question a table (option, count, share) and a native chart."""
    name = names.take(f"Summary {summary.title}")
    sheet = book.add_worksheet(name)
    sheet.set_column(0, 0, 40)
    sheet.set_column(1, 2, 10)
    # Chart data: only the shown cells, kept out of sight; charts still plot hidden cells.
    sheet.set_column(5, 6, None, None, {"hidden": True})
    sheet.write_string(0, 0, summary.title, styles.title)
    sheet.write_string(
        1,
        0,
        f"Counts under {summary.k} show as <{summary.k}, are not charted, and may hide a "
        "further cell so they cannot be worked out from the total.",
    )
    r = 3
    for question in summary.questions:
        counts = dict(question.options)
        cells = suppress_options(counts, summary.k, question.total)
        total = question.total if question.total is not None else sum(counts.values())
        sheet.write_string(r, 0, question.text, styles.bold)
        sheet.write_row(r + 1, 0, ["Option", "Count", "Share"], styles.header)
        first = r + 2
        charted = [label for label in counts if not cells[label].suppressed]
        for i, (label, cell) in enumerate(cells.items()):
            row = first + i
            sheet.write_string(row, 0, label)
            if cell.count is None:
                sheet.write_string(row, 1, f"<{summary.k}")
            else:
                sheet.write_number(row, 1, cell.count)
            if cell.share is not None:
                sheet.write_number(row, 2, cell.share, styles.share)
            if i < len(charted):
                sheet.write_string(row, 5, charted[i])
                sheet.write_number(row, 6, counts[charted[i]])
        end = first + len(cells)
        lone = len(cells) == 1 and next(iter(cells.values())).suppressed
        sheet.write_string(end, 0, "Total (respondents)", styles.bold)
        if lone:
            sheet.write_string(end, 1, f"<{summary.k}")
        else:
            sheet.write_number(end, 1, total)
        height = max(220, 28 * len(charted) + 90)
        if charted:
            chart = book.add_chart({"type": question.chart})
            span = [name, first, 5, first + len(charted) - 1, 5]
            values = [name, first, 6, first + len(charted) - 1, 6]
            chart.add_series(
                {
                    "name": question.text,
                    "categories": span,
                    "values": values,
                    "data_labels": {"value": True},
                }
            )
            chart.set_title({"name": question.text, "name_font": {"size": 11}})
            chart.set_legend({"none": True})
            chart.show_hidden_data()
            if question.chart == "bar":
                chart.set_x_axis({"reverse": True})
            chart.set_size({"width": 520, "height": height})
            sheet.insert_chart(r, 8, chart)
        else:
            sheet.write_string(end + 1, 0, "No chart: every count is under the threshold.")
        r = max(end + 3, r + height // 20 + 2)


def _write_keyphrases(
    book: Workbook, sheet_info: KeyphraseSheet, styles: _Styles, names: _SheetNames
) -> None:
    """A sheet of key phrases per group, with counts and pseudonymous examples."""
    sheet = book.add_worksheet(names.take(f"Phrases {sheet_info.title}"))
    width = max((len(p.examples) for g in sheet_info.groups.values() for p in g.phrases), default=0)
    sheet.set_column(0, 0, 22)
    sheet.set_column(1, 1, 9)
    sheet.set_column(2, 2, 30)
    sheet.set_column(3, 3, 8)
    sheet.set_column(4, 4 + max(width - 1, 0), 50)
    sheet.write_string(0, 0, sheet_info.title, styles.title)
    sheet.write_string(
        1, 0, f"Groups with fewer than {sheet_info.min_group_size} answers are not shown."
    )
    headers = [sheet_info.grouping, "Answers", "Phrase", "Count"]
    headers += [f"Example {n}" for n in range(1, width + 1)]
    sheet.write_row(3, 0, headers, styles.header)
    sheet.freeze_panes(4, 0)
    r = 4
    for group in sorted(sheet_info.groups):
        result = sheet_info.groups[group]
        sheet.write_string(r, 0, group)
        if result.suppressed or result.answers is None:
            sheet.write_string(r, 1, f"<{sheet_info.min_group_size}")
            sheet.write_string(r, 2, "(too few answers to show)")
            r += 1
            continue
        if not result.phrases:
            sheet.write_number(r, 1, result.answers)
            sheet.write_string(r, 2, "(no recurring phrase)")
            r += 1
        for phrase in result.phrases:
            sheet.write_string(r, 0, group)
            sheet.write_number(r, 1, result.answers)
            sheet.write_string(r, 2, phrase.phrase)
            sheet.write_number(r, 3, phrase.count)
            for i, (pseudonym, text) in enumerate(phrase.examples):
                sheet.write_string(r, 4 + i, f"{pseudonym}: {text}", styles.wrap)
            r += 1
