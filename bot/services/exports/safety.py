"""Spreadsheet formula injection (OWASP "CSV injection"): user text must never become a formula."""

from __future__ import annotations

# Characters that make Excel, LibreOffice or Google Sheets read a cell as a formula or command.
TRIGGERS = frozenset("=+-@\t\r")

# Workbook options that keep xlsxwriter from turning strings into formulas, links or numbers.
XLSX_OPTIONS: dict[str, bool] = {
    "strings_to_formulas": False,
    "strings_to_urls": False,
    "strings_to_numbers": False,
}


def neutralise(value: str) -> str:
    """Prefix a leading formula trigger with an apostrophe, as OWASP recommends for CSV cells."""
    if value and value[0] in TRIGGERS:
        return "'" + value
    return value
