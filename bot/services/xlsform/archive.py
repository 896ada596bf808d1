"""Look at an .xlsx from its zip directory alone, before anything in it is unpacked or parsed."""

from __future__ import annotations

import zipfile
from pathlib import Path

from bot.services.xlsform.limits import (
    ARCHIVE_ENTRIES,
    ARCHIVE_RATIO,
    ARCHIVE_UNPACKED,
    FILE_BYTES,
    MB,
    PART_UNPACKED,
    refusal,
)
from bot.services.xlsform.model import FormError

# Parts openpyxl parses whatever the form holds (strings, styles, workbook); worksheets are parsed
# only for the three form sheets (reader.py checks those), media and drawings never.
_ON_DEMAND = ("xl/worksheets/", "xl/media/", "xl/drawings/", "xl/charts/", "xl/embeddings/")


def _mb(size: int) -> str:
    return f"{size / MB:,.1f}"


def check_archive(path: Path, source: str) -> list[FormError]:
    """Refusals read from the file's size and zip directory: not a zip, too many parts, too big
    or too compressed once unpacked.

    The sizes in the directory can be trusted as bounds: Python's zipfile stops a part at its
    declared size (and fails its checksum), so a part cannot unpack to more than it says.
    """
    size = path.stat().st_size
    if size > FILE_BYTES:
        return [refusal(source, "", None, None, "survey.load.file_size", limit=_mb(FILE_BYTES))]
    try:
        with zipfile.ZipFile(path) as archive:
            parts = archive.infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError, EOFError):
        return [refusal(source, "", None, None, "survey.load.not_xlsx")]
    if len(parts) > ARCHIVE_ENTRIES:
        key = "survey.load.entries"
        return [refusal(source, "", None, None, key, count=len(parts), limit=ARCHIVE_ENTRIES)]
    unpacked = sum(part.file_size for part in parts)
    packed = sum(part.compress_size for part in parts)
    if unpacked > ARCHIVE_UNPACKED:
        return [
            refusal(
                source,
                "",
                None,
                None,
                "survey.load.unpacked",
                size=_mb(unpacked),
                limit=_mb(ARCHIVE_UNPACKED),
            )
        ]
    # Small files compress unevenly (an all-default styles part); past 1 MB a form's XML packs
    # some 5-20 times, a zip bomb hundreds or thousands of times.
    if unpacked > MB and unpacked > ARCHIVE_RATIO * max(packed, 1):
        ratio = unpacked // max(packed, 1)
        key = "survey.load.ratio"
        return [refusal(source, "", None, None, key, ratio=ratio, limit=ARCHIVE_RATIO)]
    errors: list[FormError] = []
    for part in parts:
        if part.filename.startswith(_ON_DEMAND) or part.file_size <= PART_UNPACKED:
            continue
        errors.append(
            refusal(
                source,
                "",
                None,
                None,
                "survey.load.part",
                part=part.filename,
                size=_mb(part.file_size),
                limit=_mb(PART_UNPACKED),
            )
        )
    return errors
