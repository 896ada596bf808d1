"""The record: one ZIP of several tables, each a CSV, Excel or JSON Lines file, with the data
dictionary, the surveys' questions and a README.txt; written atomically.

The tables stream into the archive (an Excel table is first written to a scratch file beside
the ZIP, named so that a killed writer's leftovers are swept like any other).
"""

from __future__ import annotations

import csv
import io
import zipfile
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path

from bot.services.exports.tables import (
    DICTIONARY_HEADERS,
    Dataset,
    DictionaryEntry,
    ReadmeInfo,
    atomic_path,
    data_dictionary,
    scratch_beside,
)
from bot.services.exports.words import Words
from bot.services.exports.writers_text import write_csv_stream, write_jsonl_stream
from bot.services.exports.writers_xlsx import write_xlsx

# The formats of the tables inside the ZIP (the dictionaries are CSV in every one).
RECORD_FORMATS = ("csv", "xlsx", "jsonl")
_ABOUT = {
    "csv": [
        "CSV files are UTF-8 with a byte order mark, comma-separated (RFC 4180).",
        "Cells of free text starting with = + - @ are prefixed with ' (formula safety).",
    ],
    "xlsx": [
        "Each .xlsx holds its table (split over sheets past Excel's 1,048,576 rows) and a README",
        "  sheet; text is never read as a formula. The dictionaries are CSV (UTF-8 with a BOM).",
    ],
    "jsonl": [
        "JSON Lines: one JSON object per row, UTF-8, keys are the column keys; dates are",
        "  ISO 8601 text. The dictionaries are CSV (UTF-8 with a BOM).",
    ],
}


def _readme_text(
    readme: ReadmeInfo, counts: Mapping[str, int], tables: Sequence[str], file_format: str
) -> str:
    """The README.txt of a ZIP export."""
    lines = [readme.title, "", f"Generated (UTC): {readme.generated_utc}"]
    lines.append(f"Generated (local): {readme.generated_local}")
    if readme.filters:
        lines += ["", "Filters:"] + [f"  {name}: {value}" for name, value in readme.filters]
    lines += ["", "Files:"]
    lines += [f"  {name}.{file_format}: {rows} rows" for name, rows in counts.items()]
    lines += ["  data_dictionary.csv: every column, its description and choice labels"]
    lines += [f"  {name}.csv: every question of the surveys and each choice, in each language"
              for name in tables]  # fmt: skip
    lines += ["", *_ABOUT[file_format]]
    lines += ["A select_multiple answer: value holds the choice names separated by spaces"]
    lines += ['  (XLSForm), value_label the labels the member saw separated by "; ".']
    lines += ["region is the province or state within country: QC with CA is CA-QC (ISO 3166-2)."]
    if readme.notes:
        lines += ["", *readme.notes]
    return "\r\n".join(lines) + "\r\n"


def _csv_member(archive: zipfile.ZipFile, name: str, lines: Iterable[Sequence[object]]) -> None:
    """A CSV file of plain lines in the archive (UTF-8 with a BOM, as Excel reads accents)."""
    with (
        archive.open(f"{name}.csv", "w", force_zip64=True) as raw,
        io.TextIOWrapper(raw, encoding="utf-8-sig", newline="") as stream,
    ):
        csv.writer(stream, lineterminator="\r\n").writerows(lines)


def _table(
    archive: zipfile.ZipFile, dataset: Dataset, file_format: str, write_excel: ExcelWriter
) -> int:
    """One dataset as a file of the archive; return its rows."""
    name = f"{dataset.name}.{file_format}"
    if file_format == "xlsx":
        return write_excel(archive, dataset, name)
    encoding = "utf-8-sig" if file_format == "csv" else "utf-8"
    write = write_csv_stream if file_format == "csv" else write_jsonl_stream
    with (
        archive.open(name, "w", force_zip64=True) as raw,
        io.TextIOWrapper(raw, encoding=encoding, newline="") as stream,
    ):
        return write(dataset, stream)


ExcelWriter = Callable[[zipfile.ZipFile, Dataset, str], int]


def write_record_zip(
    datasets: Sequence[Dataset],
    dictionary_rows: Sequence[DictionaryEntry] | None,
    path: Path,
    readme: ReadmeInfo | None = None,
    tables: Sequence[tuple[str, Iterable[Sequence[str]]]] = (),
    *,
    file_format: str = "csv",
    words: Words | None = None,
    zone: str = "UTC",
) -> dict[str, int]:
    """Write a ZIP with one file per dataset in `file_format` (csv, xlsx or jsonl),
    data_dictionary.csv and README.txt; return row counts.

    dictionary_rows defaults to the datasets' own columns (see data_dictionary); `tables` are
    further CSV files as (name, lines), e.g. the surveys' questions and choices.
    """
    if file_format not in RECORD_FORMATS:
        raise ValueError(f"the record's tables are {', '.join(RECORD_FORMATS)}, not {file_format}")
    entries = list(dictionary_rows) if dictionary_rows is not None else data_dictionary(datasets)
    about = readme or ReadmeInfo("", "", "")

    def write_excel(archive: zipfile.ZipFile, dataset: Dataset, name: str) -> int:
        # A scratch file named after the ZIP: a killed export's leftover is swept with its own.
        with scratch_beside(path) as scratch:
            counts = write_xlsx(scratch, [dataset], about, words=words, zone=zone, in_place=True)
            archive.write(scratch, arcname=name)
        return counts.get(dataset.name, 0)

    counts: dict[str, int] = {}
    with (
        atomic_path(path) as temporary,
        zipfile.ZipFile(temporary, "w", compression=zipfile.ZIP_DEFLATED) as archive,
    ):
        for dataset in datasets:
            counts[dataset.name] = _table(archive, dataset, file_format, write_excel)
        dictionary = (
            (e.dataset, e.key, e.header, e.description, e.kind, e.choices) for e in entries
        )
        _csv_member(archive, "data_dictionary", [DICTIONARY_HEADERS, *dictionary])
        for name, lines in tables:
            _csv_member(archive, name, lines)
        if readme is not None:
            names = [name for name, _ in tables]
            text = _readme_text(readme, counts, names, file_format)
            archive.writestr("README.txt", text.encode("utf-8"))
    return counts


def write_zip_of_csv(
    datasets: Sequence[Dataset],
    dictionary_rows: Sequence[DictionaryEntry] | None,
    path: Path,
    readme: ReadmeInfo | None = None,
    tables: Sequence[tuple[str, Iterable[Sequence[str]]]] = (),
) -> dict[str, int]:
    """A ZIP of CSVs (write_record_zip in CSV)."""
    return write_record_zip(datasets, dictionary_rows, path, readme, tables)
