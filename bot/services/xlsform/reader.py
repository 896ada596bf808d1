"""Read the three sheets of an XLSForm (survey, choices, settings) as text, within the limits.

This runs in the sandbox process (sandbox.py starts it with `main`), under a memory and time
limit, with nothing else of the bot loaded; what it sends back is the cells as text and the
refusals (their catalog key and values: the parent writes the English, the child has no catalogs).
"""

from __future__ import annotations

import json
import os
import sys
import warnings
from collections.abc import Iterator
from dataclasses import asdict
from pathlib import Path
from typing import Any

from bot.services.xlsform.columns import cell_text
from bot.services.xlsform.limits import (
    CELL_CHARS,
    FILLED_CELLS,
    FORM_SHEETS,
    MAX_COLUMNS,
    MAX_ROWS,
    MB,
    PART_UNPACKED,
    TEXT_CHARS,
)
from bot.services.xlsform.model import FormError

Sheets = dict[str, list[dict[str, str]]]


class Refused(Exception):
    """A limit was reached: reading stops and this refusal is reported."""

    def __init__(self, error: FormError) -> None:
        super().__init__(error.key)
        self.error = error


def _error(source: str, sheet: str, row: int | None, column: str | None, key: str,
           **params: object) -> FormError:  # fmt: skip
    values = tuple((name, str(value)) for name, value in params.items())
    return FormError(source, sheet, row, column, "", key, values)


def _too_many_cells(source: str, sheet: str, row: int) -> Refused:
    """The refusal of a form past the filled-cell or text limit, at the row that crossed it."""
    key = "survey.load.cells"
    return Refused(_error(source, sheet, row, None, key, cells=FILLED_CELLS, chars=TEXT_CHARS))


def _workbook(path: Path, source: str) -> Any:
    """openpyxl's read-only workbook holding only the form sheets, each checked for size."""
    # openpyxl imports numpy when it can, for cell types a form never has: a third of a second
    # and tens of MB of this process's limits, for nothing.
    sys.modules.setdefault("numpy", None)  # type: ignore[arg-type]
    from openpyxl.reader.excel import ExcelReader

    class FormReader(ExcelReader):  # type: ignore[misc]
        def read_worksheets(self) -> None:
            # openpyxl opens every sheet here (reading its dimensions, or all of it when it has
            # none); junk sheets beside the form must cost nothing, so only ours are listed.
            every = self.parser.find_sheets

            def ours() -> Iterator[tuple[Any, Any]]:
                for sheet, rel in every():
                    if sheet.name.strip().lower() not in FORM_SHEETS:
                        continue
                    size = self.archive.getinfo(rel.target).file_size
                    if size > PART_UNPACKED:
                        raise Refused(
                            _error(
                                source,
                                sheet.name,
                                None,
                                None,
                                "survey.load.part",
                                part=rel.target,
                                size=f"{size / MB:,.1f}",
                                limit=f"{PART_UNPACKED / MB:,.1f}",
                            )
                        )
                    yield sheet, rel

            self.parser.find_sheets = ours
            super().read_worksheets()

    # Formulas as formulas (not the value Excel last saw, often none): a form's texts are typed.
    reader = FormReader(path, read_only=True, data_only=False)
    reader.read()
    return reader.wb


class _Counter:
    """Filled cells and characters read so far, across the three sheets; formulas reported."""

    def __init__(self) -> None:
        self.cells = 0
        self.chars = 0
        self.formulas = 0


# Formula cells named one by one; past these, the first ones fixed will show the next.
FORMULAS_NAMED = 50


def _letters(number: int) -> str:
    """A column's letters as Excel shows them (1 → A, 28 → AB)."""
    letters = ""
    while number:
        number, rest = divmod(number - 1, 26)
        letters = chr(ord("A") + rest) + letters
    return letters


def _formula(cell: Any) -> str | None:
    """The formula a cell holds (its start, for a message), or None for a typed value."""
    if getattr(cell, "data_type", None) != "f":
        return None
    value = cell.value
    text = str(getattr(value, "text", value) or "=")
    return text if len(text) <= 40 else text[:39] + "…"


def _read_sheet(sheet: Any, source: str, counter: _Counter) -> tuple[list[dict[str, str]],
                                                                      list[FormError]]:  # fmt: skip
    title: str = sheet.title
    rows_declared, columns_declared = sheet.max_row or 0, sheet.max_column or 0
    if rows_declared > MAX_ROWS or columns_declared > MAX_COLUMNS:
        raise Refused(
            _error(
                source,
                title,
                None,
                None,
                "survey.load.dimension",
                rows=rows_declared,
                columns=columns_declared,
                max_rows=MAX_ROWS,
                max_columns=MAX_COLUMNS,
            )
        )
    # The declared size may also be a lie (too small hides rows): read as the cells come, capped.
    sheet.reset_dimensions()
    rows = sheet.iter_rows(max_col=MAX_COLUMNS)
    errors: list[FormError] = []
    header_row = next(rows, None) or ()
    headers = []
    for index, cell in enumerate(header_row):
        if (formula := _formula(cell)) is not None:
            where = _letters(index + 1)
            errors.append(_error(source, title, 1, where, "survey.load.formula", formula=formula))
            headers.append("")
            continue
        headers.append(cell_text(cell.value)[:CELL_CHARS])
    seen: dict[str, int] = {}
    for index, header in enumerate(headers):
        if header and header in seen:
            errors.append(_error(source, title, 1, header, "form.column_twice"))
        seen.setdefault(header, index)
    records: list[dict[str, str]] = []
    for number, cells in enumerate(rows, start=2):
        if number > MAX_ROWS:
            raise Refused(
                _error(
                    source,
                    title,
                    number,
                    None,
                    "survey.load.dimension",
                    rows=f"{MAX_ROWS}+",
                    columns=len(headers),
                    max_rows=MAX_ROWS,
                    max_columns=MAX_COLUMNS,
                )
            )
        record: dict[str, str] = {}
        for index, (header, cell) in enumerate(zip(headers, cells, strict=False)):
            value = cell.value
            # A repeated header keeps its first column (the repeat is reported above).
            if not header or seen[header] != index or value is None:
                continue
            if (formula := _formula(cell)) is not None:
                # Counted as a filled cell (the limits hold), reported, never taken as text.
                counter.cells += 1
                counter.formulas += 1
                if counter.formulas <= FORMULAS_NAMED:
                    key = "survey.load.formula"
                    errors.append(_error(source, title, number, header, key, formula=formula))
                if counter.cells > FILLED_CELLS:
                    raise _too_many_cells(source, title, number)
                continue
            text = cell_text(value)
            if not text:
                continue
            if len(text) > CELL_CHARS:
                key = "survey.load.cell"
                errors.append(
                    _error(source, title, number, header, key, length=len(text), limit=CELL_CHARS)
                )
                continue
            counter.cells += 1
            counter.chars += len(text)
            if counter.cells > FILLED_CELLS or counter.chars > TEXT_CHARS:
                raise _too_many_cells(source, title, number)
            record[header] = text
        records.append(record)
    while records and not records[-1]:
        records.pop()
    # Only filled cells are kept (what the bot holds and stores); the first row also carries
    # every header, so a column left empty throughout is still known to the parser.
    named = {header: "" for header in headers if header}
    if records:
        records[0] = {**named, **records[0]}
    return records or [named], errors


def read_form_sheets(path: Path, source: str) -> tuple[Sheets, list[FormError]]:
    """The form sheets as rows of {header: text}; row i of a list is spreadsheet row i + 2."""
    counter = _Counter()
    sheets: Sheets = {}
    errors: list[FormError] = []
    part = "workbook"
    try:
        workbook = _workbook(path, source)
        try:
            for sheet in workbook.worksheets:
                part = sheet.title
                records, problems = _read_sheet(sheet, source, counter)
                sheets[sheet.title] = records
                errors += problems
        finally:
            workbook.close()
    except Refused as refused:
        return {}, [refused.error]
    except MemoryError:
        raise
    except Exception as exc:  # this process exists to contain a file's failures
        detail = f"{type(exc).__name__}: {exc}"[:300]
        return {}, [_error(source, "", None, None, "survey.load.damaged", part=part, detail=detail)]
    return sheets, errors


def _address_space() -> int:
    """This process's virtual memory now (what RLIMIT_AS counts), 0 where /proc is missing."""
    try:
        pages = int(Path("/proc/self/statm").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return 0
    return pages * os.sysconf("SC_PAGE_SIZE")


def _limit_resources(memory: int, cpu_seconds: int) -> None:
    """`memory` more than the process holds now (interpreter, openpyxl: the same for any file)
    and `cpu_seconds` of processor time in all."""
    import resource
    import signal

    limit = _address_space() + memory
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    # SIGXCPU at the soft limit ends the process; the hard limit (SIGKILL) a second later.
    resource.setrlimit(resource.RLIMIT_CPU, (cpu_seconds, cpu_seconds + 1))
    # It reads one file and writes to its pipe: it has no business creating files.
    resource.setrlimit(resource.RLIMIT_FSIZE, (0, 0))
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a write fails instead of killing the reader


def main() -> None:
    """The sandbox process: `python -c ... main()` PATH SOURCE MEMORY CPU; JSON on stdout.

    It reads the sheets, then parses and checks the form (defaults, what Telegram can show,
    what expressions cost): a form that is costly to check is so within these limits too.
    """
    path, source = Path(sys.argv[1]), sys.argv[2]
    # Loaded before the limits, so that they measure what the file costs, not the code.
    sys.modules.setdefault("numpy", None)  # type: ignore[arg-type]  # see _workbook
    import openpyxl.reader.excel  # noqa: F401

    from bot.services.xlsform.parser import parse_sheets

    _limit_resources(int(sys.argv[3]), int(sys.argv[4]))
    warnings.simplefilter("ignore")  # openpyxl warns about features it drops; nobody reads it
    summary: dict[str, Any] | None = None
    found: list[str] = []
    try:
        sheets, errors = read_form_sheets(path, source)
        if not errors:
            parsed = parse_sheets(sheets, source, render=False)
            errors, found = parsed.errors, parsed.warnings
            if parsed.form is not None and not errors:
                summary = asdict(parsed.form.summary())
    except MemoryError:
        sys.stdout.write(json.dumps({"memory": True}))
        sys.exit(3)
    result = {
        "sheets": sheets if summary else {},
        "errors": [asdict(e) for e in errors],
        "warnings": found,
        "summary": summary,
    }
    json.dump(result, sys.stdout)
