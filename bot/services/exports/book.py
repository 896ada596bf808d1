"""What every sheet of a workbook shares: its cell formats and its valid, unique sheet names."""

from __future__ import annotations

from xlsxwriter.workbook import Workbook


class Styles:
    """The few cell formats the workbook uses."""

    def __init__(self, book: Workbook) -> None:
        self.bold = book.add_format({"bold": True})
        self.title = book.add_format({"bold": True, "font_size": 14})
        self.header = book.add_format({"bold": True, "bottom": 1, "text_wrap": True})
        self.date = book.add_format({"num_format": "yyyy-mm-dd"})
        self.datetime = book.add_format({"num_format": "yyyy-mm-dd hh:mm:ss"})
        self.share = book.add_format({"num_format": "0.0%"})
        self.figure = book.add_format({"num_format": "0.##"})
        self.wrap = book.add_format({"text_wrap": True, "valign": "top"})
        self.small = book.add_format({"align": "right", "font_color": "#595959"})
        self.note = book.add_format({"italic": True, "font_color": "#595959"})


class SheetNames:
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
