"""Hostile and broken .xlsx forms, built the way an attacker would: openpyxl, then zip surgery."""

from __future__ import annotations

import io
import random
import re
import zipfile
from collections.abc import Callable, Iterator, Mapping, Sequence

import openpyxl

Rows = Sequence[Mapping[str, object]]

EVIL_REGEX = r"regex(., '^(\w+\s?)*$')"


def form_xlsx(sheets: Mapping[str, Rows]) -> bytes:
    """An .xlsx with one sheet per entry, headers from the rows' keys (as staff write them)."""
    book = openpyxl.Workbook()
    first = True
    for title, rows in sheets.items():
        sheet = book.active if first else book.create_sheet()
        assert sheet is not None
        first = False
        sheet.title = title
        header = list(dict.fromkeys(key for row in rows for key in row))
        sheet.append(header)
        for row in rows:
            sheet.append([row.get(key) for key in header])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def simple_form(form_id: str = "hostile", **question: object) -> dict[str, list[dict[str, object]]]:
    """One text question (plus what `question` overrides), ready for form_xlsx."""
    row: dict[str, object] = {"type": "text", "name": "q1", "label": "Your name", **question}
    return {
        "survey": [row, {"type": "text", "name": "q2", "label": "Anything else?"}],
        "settings": [{"form_id": form_id, "version": "1"}],
    }


def rewrite(
    content: bytes,
    replace: Mapping[str, Callable[[bytes], bytes | Iterator[bytes]]] = {},
    add: Mapping[str, Iterator[bytes]] = {},
) -> bytes:
    """The same archive with some parts rewritten (streamed, so a part can be huge) or added."""
    source = zipfile.ZipFile(io.BytesIO(content))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as target:
        for info in source.infolist():
            data = source.read(info.filename)
            change = replace.get(info.filename)
            produced = change(data) if change else data
            with target.open(info.filename, "w", force_zip64=True) as stream:
                for chunk in [produced] if isinstance(produced, bytes) else produced:
                    stream.write(chunk)
        for name, chunks in add.items():
            with target.open(name, "w", force_zip64=True) as stream:
                for chunk in chunks:
                    stream.write(chunk)
    return out.getvalue()


def label_bomb(megabytes: int) -> bytes:
    """A valid form whose first label is `megabytes` MB of one letter (it packs ~1000 times)."""
    content = form_xlsx(simple_form("bomb", label="BOMB"))

    def huge(xml: bytes) -> Iterator[bytes]:
        before, _, after = xml.partition(b"BOMB")
        yield before
        chunk = b"a" * (1 << 20)
        for _ in range(megabytes):
            yield chunk
        yield after

    return rewrite(content, {SURVEY_PART: huge})


def wordy_form(rows: int, label_chars: int, seed: int = 7) -> bytes:
    """A form of `rows` notes with long labels of random words: a few MB that pack some ten
    times, like real text (neither a bomb nor a limit breaker: what costs a reader memory)."""
    rng = random.Random(seed)
    words = ["acceso", "salud", "vivienda", "consulado", "trabajo", "escuela", "idioma", "red"]
    survey = []
    for n in range(rows):
        text = " ".join(rng.choice(words) for _ in range(label_chars // 7))[:label_chars]
        survey.append({"type": "note", "name": f"n{n}", "label": text})
    return form_xlsx({"survey": survey, "settings": [{"form_id": "wordy", "version": "1"}]})


def _junk_sheet(rows: int, columns: int, varied: bool) -> Iterator[bytes]:
    yield (
        b'<?xml version="1.0" encoding="UTF-8"?>'
        b'<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>'
    )
    same = "".join('<c t="n"><v>1</v></c>' for _ in range(columns))
    for row in range(1, rows + 1):
        cells = (
            "".join(f'<c t="n"><v>{(row * column) % 997}</v></c>' for column in range(columns))
            if varied
            else same
        )
        yield f'<row r="{row}">{cells}</row>'.encode()
    yield b"</sheetData></worksheet>"


def junk_sheets(
    count: int, rows: int, columns: int, broken: bool = False, varied: bool = True
) -> bytes:
    """A valid form plus `count` junk sheets of rows × columns numbers (no dimension element,
    so a reader that opens them parses them whole); `broken` makes their XML invalid too;
    `varied=False` fills every cell with 1 (it packs a thousand times)."""
    content = form_xlsx(simple_form("junk"))
    names = [f"junk{n}" for n in range(count)]
    with zipfile.ZipFile(io.BytesIO(content)) as archive:
        workbook = archive.read("xl/workbook.xml").decode()
        rels = archive.read("xl/_rels/workbook.xml.rels").decode()
        types = archive.read("[Content_Types].xml").decode()
    sheets = "".join(
        f'<sheet name="{name}" sheetId="{100 + n}" r:id="rIdJ{n}"/>' for n, name in enumerate(names)
    )
    relations = "".join(
        f'<Relationship Id="rIdJ{n}" Target="/xl/worksheets/junk{n}.xml" Type="http://schemas'
        '.openxmlformats.org/officeDocument/2006/relationships/worksheet"/>'
        for n in range(count)
    )
    overrides = "".join(
        f'<Override PartName="/xl/worksheets/junk{n}.xml" ContentType="application/vnd'
        '.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
        for n in range(count)
    )

    def junk(n: int) -> Iterator[bytes]:
        yield from _junk_sheet(rows, columns, varied)
        if broken:
            yield b"<row><c><v>unclosed"

    return rewrite(
        content,
        {
            "xl/workbook.xml": lambda _: workbook.replace(
                "</sheets>", sheets + "</sheets>"
            ).encode(),
            "xl/_rels/workbook.xml.rels": lambda _: rels.replace(
                "</Relationships>", relations + "</Relationships>"
            ).encode(),
            "[Content_Types].xml": lambda _: types.replace(
                "</Types>", overrides + "</Types>"
            ).encode(),
        },
        {f"xl/worksheets/junk{n}.xml": junk(n) for n in range(count)},
    )


# openpyxl writes the first sheet (the survey) as sheet1.
SURVEY_PART = "xl/worksheets/sheet1.xml"


def with_dimension(content: bytes, ref: str) -> bytes:
    """The survey sheet claiming another size in its <dimension ref=...>."""
    return rewrite(
        content,
        {
            SURVEY_PART: lambda xml: re.sub(
                rb'<dimension ref="[^"]*"', f'<dimension ref="{ref}"'.encode(), xml
            )
        },
    )


def corrupt_xml(content: bytes) -> bytes:
    """The survey sheet cut in the middle of its XML (a damaged file, not a hostile one)."""
    return rewrite(content, {SURVEY_PART: lambda xml: xml[: len(xml) // 2]})
