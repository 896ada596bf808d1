"""Headers an analyst can read back: a form whose groups share question labels and whose choice
label holds the `/` separator, loaded as staff load it, answered in chat, exported and reopened.

Labels mode: two "Edad" questions in groups "Madre" and "Padre" are `Madre/Edad` and `Padre/Edad`;
two "Comentario" outside any group add their names in brackets; the choice "Uno/Dos" has its
column named after the choice (`Elija/uno_dos`). Chosen labels are joined with "; " in the wide
table and in answers-long alike; the region carries its country (`US-CA`, `CA-QC`).
"""

from __future__ import annotations

import csv
import json
from collections.abc import AsyncIterator
from pathlib import Path

import openpyxl
import pytest

from bot.clock import ManualClock
from bot.services.export import ExportRequest, ExportService
from storage.models import AudienceFilter
from tests.harness import BotUnderTest, Person, add_member, bot_running
from tests.survey_fixture import ANSWERS_FROM, config_for, wait_for_start
from tgemu import Emulator

STAFF = [("staff", "")]
LABELS = ["label::Español (es)", "label::English (en)"]
SURVEY = [
    ["type", "name", *LABELS, "required"],
    ["begin_group", "madre", "Madre", "Mother"],
    ["integer", "edad_madre", "Edad", "Age", "yes"],
    ["end_group"],
    ["begin_group", "padre", "Padre", "Father"],
    ["integer", "edad_padre", "Edad", "Age", "yes"],
    ["end_group"],
    ["select_multiple canal", "canal", "Elija", "Choose", "yes"],
    ["text", "comentario", "Comentario", "Comment", "no"],
    ["text", "observacion", "Comentario", "Remark", "no"],
]
CHOICES = [
    ["list_name", "name", *LABELS],
    ["canal", "uno_dos", "Uno/Dos", "One/Two"],
    ["canal", "banco", "Banco", "Bank"],
    ["canal", "agencia", "Agencia de envíos", "Money transfer agency"],
]
SETTINGS = [
    ["form_id", "version", "form_title::Español (es)", "default_language"],
    ["familia", "1", "Familia", "Español (es)"],
]
# (telegram id, country, region, the choices pressed)
MEMBERS = ((501, "US", "CA", ("banco", "agencia")), (502, "CA", "QC", ("uno_dos", "agencia")))


def write_form(path: Path) -> Path:
    """The form as staff write it: an .xlsx with survey, choices and settings sheets."""
    book = openpyxl.Workbook()
    sheets = [book.active, book.create_sheet("choices"), book.create_sheet("settings")]
    titles = ("survey", "choices", "settings")
    for sheet, title, rows in zip(sheets, titles, (SURVEY, CHOICES, SETTINGS), strict=True):
        assert sheet is not None
        sheet.title = title
        for row in rows:
            sheet.append(row)
    book.save(path)
    return path


def label(name: str) -> str:
    return next(row[2] for row in CHOICES[1:] if row[1] == name)


@pytest.fixture
async def answered(
    emulator: Emulator, database: Path | str, tmp_path: Path
) -> AsyncIterator[tuple[BotUnderTest, int]]:
    """The form loaded with the surveys service, opened, and answered in Spanish in chat."""
    config = config_for(database, emulator)
    async with bot_running(emulator, config, ManualClock(ANSWERS_FROM)) as bot:
        for telegram_id, country, region, _ in MEMBERS:
            await add_member(bot, telegram_id, "es", country=country, region=region)
        loaded = await bot.services.surveys.load_file(write_form(tmp_path / "familia.xlsx"), "cli")
        assert loaded.survey is not None, loaded.errors
        survey_id = loaded.survey.id
        assert await bot.services.surveys.open(survey_id, AudienceFilter()) == len(MEMBERS)
        bot.services.wake_delivery()
        plain = bot.services.texts.plain
        for telegram_id, _, _, chosen in MEMBERS:
            person = Person(bot, telegram_id)
            start = await wait_for_start(person, survey_id)
            await person.press_data(start, f"v1:svy:s:{survey_id}")
            await person.send("61")
            await person.send("63")
            for name in chosen:
                await person.press(label(name))
            await person.press(plain("es", "steps.done"))
            await person.send("Sin comentario")
            await person.send("Nada más")
            await person.press(plain("es", "survey.button.submit"))
        yield bot, survey_id


def read_csv(path: Path) -> tuple[list[str], list[dict[str, str]]]:
    with path.open(encoding="utf-8-sig", newline="") as stream:
        rows = list(csv.reader(stream))
    return rows[0], [dict(zip(rows[0], row, strict=True)) for row in rows[1:]]


async def test_labels_headers_are_unique_and_read_back(
    answered: tuple[BotUnderTest, int], tmp_path: Path
) -> None:
    bot, survey_id = answered
    exports: ExportService = bot.services.exports
    out = tmp_path / "labels.csv"
    request = ExportRequest("answers", survey_id=survey_id, labels=True, language="es")
    await exports.export(request, "op", STAFF, out)
    header, rows = read_csv(out)
    assert len(header) == len(set(header))
    assert header[:9] == [
        "Madre/Edad", "Padre/Edad", "Elija", "Elija/uno_dos", "Elija/Banco",
        "Elija/Agencia de envíos", "Comentario [comentario]", "Comentario [observacion]", "_id",
    ]  # fmt: skip
    # Every split header reads back as (question, choice) at its last "/".
    assert {h.rsplit("/", 1)[1] for h in header[3:6]} == {"uno_dos", "Banco", "Agencia de envíos"}
    assert [row["Madre/Edad"] for row in rows] == ["61", "61"]
    chosen = {row["_region"]: row["Elija"] for row in rows}
    # Labels hold spaces: "; " joins them so they split back.
    assert chosen == {"US-CA": "Banco; Agencia de envíos", "CA-QC": "Uno/Dos; Agencia de envíos"}
    assert {row["_country"] for row in rows} == {"US", "CA"}
    assert {(r["Elija/uno_dos"], r["Elija/Banco"]) for r in rows} == {("0", "1"), ("1", "0")}

    # The workbook: the same headers, and its README says how to read them.
    book_path = tmp_path / "labels.xlsx"
    xlsx = ExportRequest("answers", format="xlsx", survey_id=survey_id, labels=True, language="es")
    await exports.export(xlsx, "op", STAFF, book_path)
    book = openpyxl.load_workbook(book_path)
    sheet = next(name for name in book.sheetnames if name.startswith("answers_"))
    assert [c.value for c in next(book[sheet].iter_rows(max_row=1))][:9] == header[:9]
    readme = [str(v) for row in book["README"].iter_rows(values_only=True) for v in row if v]
    assert any("; " in line and "select_multiple" in line for line in readme)
    assert any("CA-QC" in line and "_region" in line for line in readme)


async def test_names_mode_keeps_names_and_long_labels_share_the_separator(
    answered: tuple[BotUnderTest, int], tmp_path: Path
) -> None:
    bot, survey_id = answered
    exports: ExportService = bot.services.exports
    out = tmp_path / "values.csv"
    request = ExportRequest("answers", survey_id=survey_id, labels=False)
    await exports.export(request, "op", STAFF, out)
    header, rows = read_csv(out)
    assert header[:8] == [
        "madre/edad_madre", "padre/edad_padre", "canal", "canal/uno_dos", "canal/banco",
        "canal/agencia", "comentario", "observacion",
    ]  # fmt: skip
    # XLSForm's names, space separated.
    assert {row["canal"] for row in rows} == {"banco agencia", "uno_dos agencia"}
    assert {row["_region"] for row in rows} == {"US-CA", "CA-QC"}

    long = tmp_path / "long.jsonl"
    await exports.export(ExportRequest("answers-long", format="jsonl"), "op", STAFF, long)
    lines = [json.loads(line) for line in long.read_text(encoding="utf-8").splitlines()]
    shown = {line["value"]: line["value_label"] for line in lines if line["question"] == "canal"}
    assert shown == {
        "banco agencia": "Banco; Agencia de envíos",
        "uno_dos agencia": "Uno/Dos; Agencia de envíos",
    }
