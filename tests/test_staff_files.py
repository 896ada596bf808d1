"""What staff and crash trials found in the files staff handle: a killed export's hidden leftovers,
the record's ZIP ignoring --format (and named .csv), an .xls or .ods sent in chat answered with
/help, and formula cells in a form reported as empty texts. Each is run as staff run it: the CLI
on the running bot's database, or a document sent in chat; files are opened as an analyst would."""

from __future__ import annotations

import asyncio
import io
import json
import os
import signal
import sys
import zipfile
from pathlib import Path

import openpyxl

from tests.harness import TOKEN, BotUnderTest, Person, add_member
from tests.survey_fixture import RESPONDENTS, Answered, answered
from tests.test_exports import read_csv, shown_questions
from tests.test_exports_chat import documents, staff
from tests.test_staff_cli_fixes import Capture, consultbot, refusal

__all__ = ["answered"]

ROOT = Path(__file__).resolve().parent.parent
FORM = ROOT / "examples" / "consultation_round1.xlsx"

# A writer that is killed (or kept alive) in the middle of a members CSV: the real CSV writer,
# fed rows that stop coming once part of the file is written.
WRITER = """
import sys
from pathlib import Path
from bot.services.exports import Column, Dataset, write_csv

def rows():
    for n in range(20000):
        yield {"name": f"Rosa {n}", "email": f"rosa{n}@example.org", "telegram_id": 700000 + n}
    print("writing", flush=True)
    sys.stdin.read()  # mid-write until the parent kills this process or closes stdin

columns = [Column("name", "name"), Column("email", "email"), Column("telegram_id", "id")]
write_csv(Dataset("members", columns, rows()), Path(sys.argv[1]))
"""


async def writer_mid_file(target: Path) -> asyncio.subprocess.Process:
    """A process in the middle of writing target (its .part is on disk)."""
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-c", WRITER, str(target),
        cwd=ROOT, stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE,
    )  # fmt: skip
    assert process.stdout is not None
    assert await asyncio.wait_for(process.stdout.readline(), 30) == b"writing\n"
    return process


def parts(folder: Path, name: str) -> set[str]:
    return {p.name for p in folder.iterdir() if p.name.startswith(f".{name}.")}


# ---- 1. a killed export leaves nothing behind for long -----------------------------------------


async def test_a_killed_exports_partial_file_is_swept_by_the_next_export_a_live_one_is_not(
    answered: Answered, tmp_path: Path, capsys: Capture
) -> None:
    bot, out = answered.bot, tmp_path / "out"
    out.mkdir()
    target = out / "members.csv"
    killed = await writer_mid_file(target)
    [left] = parts(out, "members.csv")
    assert left.startswith(f".members.csv.{killed.pid}.") and left.endswith(".part")
    killed.send_signal(signal.SIGKILL)  # kill -9 mid-write
    await killed.wait()
    assert parts(out, "members.csv") == {left} and not target.exists()
    # A writer still at work on the same name, and a pid-less leftover of an older version.
    alive = await writer_mid_file(target)
    [working] = parts(out, "members.csv") - {left}
    old = out / ".members.csv.k3x9q1ab.part"
    old.write_text("Rosa,rosa@example.org,700001\r\n", encoding="utf-8")
    hour_ago = old.stat().st_mtime - 3600
    os.utime(old, (hour_ago, hour_ago))
    young = out / ".members.csv.zz81ab0c.part"
    young.write_text("", encoding="utf-8")

    await staff(bot, 501, "pia", "staff_pii")  # `--as 9000` of the trial: the config's admin
    export = ("export", "members", "--pii", "--as", "@pia", "--out", str(target))
    assert await consultbot(bot, tmp_path, *export) == 0
    assert capsys.readouterr().out.strip().endswith("rows (with PII)")
    assert len(read_csv(target)) == len(RESPONDENTS) + 1  # and Pia
    # The dead writer's file and the old one are gone; the live writer's and a young one stay.
    assert parts(out, "members.csv") == {working, young.name}

    alive.send_signal(signal.SIGKILL)
    await alive.wait()
    assert await consultbot(bot, tmp_path, *export) == 0
    assert parts(out, "members.csv") == {young.name}


# ---- 2. the record is a ZIP, its tables in the format asked ------------------------------------


async def test_the_record_refuses_an_out_that_is_not_a_zip(
    answered: Answered, tmp_path: Path, capsys: Capture
) -> None:
    bot = answered.bot
    for typed, chosen in (("record.csv", "csv"), ("r.jsonl", "jsonl"), ("r.xlsx", "xlsx")):
        out = tmp_path / typed
        arguments = ("export", "record", "--format", chosen, "--out", str(out))
        assert await consultbot(bot, tmp_path, *arguments) == 2
        stem = Path(typed).stem
        assert refusal(capsys) == (
            f"export: --out {out}: the record is several tables in one ZIP file; name it .zip"
            f" (e.g. {stem}.zip) or give a folder. --format {chosen} chooses the format of the"
            " tables inside the ZIP (csv, xlsx or jsonl)"
        )
        assert not out.exists()


async def test_the_records_tables_are_csv_excel_or_json_lines_as_asked(
    answered: Answered, tmp_path: Path, capsys: Capture
) -> None:
    bot = answered.bot
    answers = sum(len(shown_questions(who)) for who in RESPONDENTS)
    tables = ("answers_long", "proposals", "meetings", "members", "evidence")
    for chosen in ("csv", "xlsx", "jsonl"):
        out = tmp_path / f"record_{chosen}.zip"
        assert await consultbot(bot, tmp_path, "export", "record", "--format", chosen,
                                "--out", str(out)) == 0  # fmt: skip
        capsys.readouterr()
        with zipfile.ZipFile(out) as archive:
            names = set(archive.namelist())
            assert {f"{table}.{chosen}" for table in tables} <= names
            assert {"data_dictionary.csv", "survey_dictionary.csv", "README.txt"} <= names
            readme = archive.read("README.txt").decode("utf-8")
            assert f"answers_long.{chosen}: {answers} rows" in readme
            content = archive.read(f"answers_long.{chosen}")
        if chosen == "csv":
            assert len(read_csv_bytes(content)) == answers
        elif chosen == "jsonl":
            lines = [json.loads(line) for line in content.decode("utf-8").splitlines()]
            assert len(lines) == answers and {"pseudonym", "question"} <= set(lines[0])
        else:
            book = openpyxl.load_workbook(io.BytesIO(content), read_only=True)
            assert "answers_long" in book.sheetnames
            rows = list(book["answers_long"].iter_rows(values_only=True))
            assert len(rows) == answers + 1  # the header, then a row per answer
    assert not [name for name in os.listdir(tmp_path) if name.endswith(".part")]


def read_csv_bytes(content: bytes) -> list[dict[str, str]]:
    import csv

    return list(csv.DictReader(io.StringIO(content.decode("utf-8-sig"))))


async def test_everything_in_chat_comes_as_a_zip_of_the_format_pressed(answered: Answered) -> None:
    bot = answered.bot
    ana = await staff(bot, 500, "ana", "staff")
    await ana.send("/export")
    await ana.press("Everything (ZIP)")
    await ana.press("Everything (no filter)")
    assert ana.last_text() == bot.services.texts.plain("en", "export.ask.format_record")
    await ana.press("Excel (XLSX)")
    [(name, content)] = documents(bot, ana)
    assert name.endswith(".zip")
    with zipfile.ZipFile(io.BytesIO(content)) as archive:
        names = set(archive.namelist())
        assert "answers_long.xlsx" in names and "answers_long.csv" not in names
        book = openpyxl.load_workbook(io.BytesIO(archive.read("members.xlsx")), read_only=True)
        # The header, the twelve respondents and Ana herself.
        assert len(list(book["members"].iter_rows())) == len(RESPONDENTS) + 2


# ---- 3. an .xls or .ods sent in chat -----------------------------------------------------------

# An Excel 97 file starts with the OLE2 compound-file signature; the bot never reads past it.
XLS = bytes.fromhex("d0cf11e0a1b11ae1") + bytes(504)


def ods() -> bytes:
    """A LibreOffice spreadsheet: a ZIP whose first entry is its MIME type, stored."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("mimetype", "application/vnd.oasis.opendocument.spreadsheet")
        archive.writestr(
            "content.xml",
            '<office:document-content xmlns:office="urn:oasis:names:tc:opendocument:xmlns:'
            'office:1.0" office:version="1.2"><office:body><office:spreadsheet/></office:body>'
            "</office:document-content>",
        )
    return buffer.getvalue()


async def send(bot: BotUnderTest, person: Person, name: str, content: bytes) -> str:
    update = bot.emulator.send_document(TOKEN, person.id, name, content)
    await bot.processor.wait_done(update, timeout=60)
    return person.last_text()


async def test_staff_sending_an_xls_or_ods_are_told_to_save_it_as_xlsx_members_get_help(
    bot: BotUnderTest,
) -> None:
    await add_member(bot, 510, "es", name="Lucía", username="lucia")
    admin = bot.person(9000, "Admin", "en")
    await admin.send("/grant @lucia staff")
    lucia = bot.person(510, "Lucía", "es", username="lucia")
    texts = bot.services.texts
    for name, content, kind in (("ronda1.xls", XLS, ".xls"), ("ronda1.ods", ods(), ".ods")):
        answer = await send(bot, lucia, name, content)
        assert answer == texts.plain("es", "survey.load.old_format", name=name, kind=kind)
        assert "no se leen archivos" in answer and ".xlsx" in answer
    english = await send(bot, admin, "Form.XLS", XLS)
    assert english.startswith("Form.XLS: .xls files are not read; ")
    # A member sending the same file gets what any document gets them: the help.
    await add_member(bot, 701, "es")
    member = Person(bot, 701)
    after_xls = await send(bot, member, "ronda1.xls", XLS)
    after_pdf = await send(bot, member, "notes.pdf", b"%PDF-1.4\n")
    assert after_xls == after_pdf and "xlsx" not in after_xls
    assert await bot.store.surveys.listing() == []


# ---- 4. formula cells in a form ----------------------------------------------------------------


def form_with_formulas(folder: Path) -> Path:
    """The example form with a HYPERLINK as a label (row 3) and a formula as the version."""
    book = openpyxl.load_workbook(FORM)
    survey = book["survey"]
    survey["C3"] = '=HYPERLINK("https://example.org/salud","Salud")'
    book["settings"]["B2"] = "=TODAY()"
    path = folder / "formulas.xlsx"
    book.save(path)
    return path


async def test_a_formula_cell_is_named_by_sheet_row_and_column_not_called_empty(
    bot: BotUnderTest, tmp_path: Path, capsys: Capture
) -> None:
    path = form_with_formulas(tmp_path)
    assert await consultbot(bot, tmp_path, "surveys", "load", str(path)) == 1
    errors = capsys.readouterr().err
    assert (
        "formulas.xlsx, sheet survey, row 3, column label::Español (es): this cell holds a"
        ' formula (=HYPERLINK("https://example.org/salud",…); type the text itself'
    ) in errors
    assert (
        "formulas.xlsx, sheet settings, row 2, column version: this cell holds a formula"
        " (=TODAY()); type the text itself"
    ) in errors
    assert "is empty" not in errors and "has no version" not in errors
    assert await bot.store.surveys.listing() == []


async def test_staff_in_chat_read_the_formula_refusal_in_their_language(bot: BotUnderTest) -> None:
    await add_member(bot, 520, "fr", name="Chloé", username="chloe")
    admin = bot.person(9000, "Admin", "en")
    await admin.send("/grant @chloe staff")
    chloe = bot.person(520, "Chloé", "fr", username="chloe")
    book = openpyxl.load_workbook(FORM)
    book["settings"]["B2"] = "=TODAY()"
    buffer = io.BytesIO()
    book.save(buffer)
    answer = await send(bot, chloe, "ronde1.xlsx", buffer.getvalue())
    assert "ligne 2" in answer or "row 2" in answer
    assert "contient une formule (=TODAY()) ; tapez le texte lui-même" in answer


async def test_many_formulas_are_named_up_to_a_bound(
    bot: BotUnderTest, tmp_path: Path, capsys: Capture
) -> None:
    count = 60  # a whole column of them: the first 50 are named, fixing those shows the rest
    book = openpyxl.load_workbook(FORM)
    survey = book["survey"]
    for row in range(3, 3 + count):
        survey.cell(row=row, column=4, value=f"=A{row}")
    path = tmp_path / "many.xlsx"
    book.save(path)
    assert await consultbot(bot, tmp_path, "surveys", "load", str(path)) == 1
    errors = capsys.readouterr().err
    assert errors.count("holds a formula") == 50
