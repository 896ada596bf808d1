"""Spreadsheet formula injection (OWASP "CSV injection"): text must never become a formula.

`neutralise` is the one neutraliser for every cell of text origin: what members typed, and what
staff wrote in a form (`version`, titles, labels), which reaches the same files.
"""

from __future__ import annotations

import re

# Characters that make Excel, LibreOffice or Google Sheets read a cell as a formula or command.
TRIGGERS = frozenset("=+-@\t\r")

# A plain number ("-5", "+3.5", "-1,5", "-2e3") is read as that number, not a formula: its sign
# is kept, so a negative answer stays a negative number in the spreadsheet.
_NUMBER = re.compile(r"[+-]?(?:\d+(?:[.,]\d*)?|[.,]\d+)(?:[eE][+-]?\d+)?")
# C0 controls (except tab, line feed, carriage return) and DEL: a NUL cuts a CSV value short in
# some readers, an ESC reaches a terminal that prints the file. Text never needs them.
_CONTROLS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")

# Workbook options that keep xlsxwriter from turning strings into formulas, links or numbers.
XLSX_OPTIONS: dict[str, bool] = {
    "strings_to_formulas": False,
    "strings_to_urls": False,
    "strings_to_numbers": False,
}


def neutralise(value: str) -> str:
    """A text cell made safe: control characters removed, and a leading formula trigger
    prefixed with an apostrophe (as OWASP recommends), unless the whole text is a number."""
    if _CONTROLS.search(value):
        value = _CONTROLS.sub("", value)
    if value and value[0] in TRIGGERS and not _NUMBER.fullmatch(value):
        return "'" + value
    return value
