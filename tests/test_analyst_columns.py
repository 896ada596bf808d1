"""What a staff trial of the analysts' files found, run as staff run it (`consultbot ...` on the
bot's database, the example form answered in chat) and checked in the files as an analyst opens
them: the survey's theme, form version and association beside each submission; date-time and
number cells in answers-long and meetings; statistics hidden with a hidden count; and `surveys
list` counting submissions."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import openpyxl
import pytest

from bot.cli.results import table
from tests.survey_fixture import RESPONDENTS, Answered, answered
from tests.test_exports import _meeting
from tests.test_staff_cli_fixes import consultbot

__all__ = ["answered"]

Capture = pytest.CaptureFixture[str]


def _sheet(path: Path, name: str) -> tuple[list[str], list[dict[str, object]]]:
    """A sheet's header and its rows as {header: value}, read as an analyst's program reads it."""
    rows = list(openpyxl.load_workbook(path)[name].iter_rows(values_only=True))
    header = [str(cell) for cell in rows[0]]
    return header, [dict(zip(header, row, strict=True)) for row in rows[1:]]


async def test_each_submission_names_theme_version_and_association(
    answered: Answered, tmp_path: Path
) -> None:
    out = tmp_path / "answers.xlsx"
    survey_id = str(answered.survey_id)
    arguments = ("export", "answers", "--survey", survey_id, "--format", "xlsx", "--language", "en")
    assert await consultbot(answered.bot, tmp_path, *arguments, "--out", str(out)) == 0
    header, rows = _sheet(out, "answers_consultation_round1")
    assert {"_theme", "_form_version", "_association"} <= set(header)
    survey = await answered.bot.services.surveys.survey(answered.survey_id)
    assert survey is not None
    assert len(rows) == len(RESPONDENTS)
    # The example was loaded with --theme protection; no member of it named an association.
    assert {(r["_theme"], r["_form_version"], r["_association"]) for r in rows} == {
        ("protection", survey.version, None)
    }
    # No one's name, phone or Telegram id, in any cell.
    cells = {str(value) for row in rows for value in row.values()}
    for who in RESPONDENTS:
        assert f"Member {who.telegram_id}" not in cells and str(who.telegram_id) not in cells
    # The README describes the new columns in the staff member's language.
    readme = [row for row in openpyxl.load_workbook(out)["README"].iter_rows(values_only=True)]
    described = {row[1]: row[3] for row in readme if row[1] in ("_theme", "_association")}
    assert described == {
        "_theme": "the survey's thematic group",
        "_association": "the member's association when answering, by its name in the registry "
        "(empty: none)",
    }
    # The Dictionary gives them in each of the form's languages.
    dictionary = list(openpyxl.load_workbook(out)["Dictionary"].iter_rows(values_only=True))
    [association] = [row for row in dictionary if "_association" in row[:3]]
    assert any(str(cell).startswith("la asociación del miembro") for cell in association)
    assert any(str(cell).startswith("l’association du membre") for cell in association)


async def test_long_and_meetings_sheets_hold_times_and_numbers(
    answered: Answered, tmp_path: Path
) -> None:
    meeting_id = await _meeting(answered)
    bot = answered.bot
    long_out, meetings_out = tmp_path / "long.xlsx", tmp_path / "meetings.xlsx"
    xlsx = ("--format", "xlsx", "--out")
    assert await consultbot(bot, tmp_path, "export", "answers-long", *xlsx, str(long_out)) == 0
    assert await consultbot(bot, tmp_path, "export", "meetings", *xlsx, str(meetings_out)) == 0

    header, rows = _sheet(long_out, "answers_long")
    [at] = [h for h in header if h.startswith("at (")]
    zone = ZoneInfo(at.removeprefix("at (").removesuffix(")"))
    assert all(isinstance(row[at], datetime) for row in rows)
    record = {
        int(str(e["id"])): e["at"]
        for e in await bot.store.database.fetch_all("SELECT id, at FROM record_entries")
    }
    for row in rows:
        moment = datetime.fromisoformat(str(record[int(str(row["id"]))])).astimezone(zone)
        cell = row[at]
        assert isinstance(cell, datetime)
        # Excel keeps times to the millisecond.
        assert abs(cell - moment.replace(tzinfo=None)).total_seconds() < 0.001
    years = {row["value"] for row in rows if row["question"] == "years_abroad"}
    assert years == {int(who.years) for who in RESPONDENTS}
    shares = {row["value"] for row in rows if row["question"] == "remittance_share"}
    assert 15.5 in shares and all(isinstance(v, int | float) for v in shares)
    # A free text stays text, even one that reads like a formula.
    texts = {row["value"] for row in rows if row["question"] == "vote_problem"}
    assert all(isinstance(v, str) for v in texts)

    header, rows = _sheet(meetings_out, "meetings")
    [start] = [h for h in header if h.startswith("start_at (")]
    [meeting] = [row for row in rows if row["id"] == meeting_id]
    # 10:00 in Toronto, as a date-time cell in the zone the header names.
    local = datetime(2026, 3, 20, 10, 0, tzinfo=ZoneInfo("America/Toronto")).astimezone(zone)
    assert meeting[start] == local.replace(tzinfo=None)


async def test_a_hidden_count_hides_its_statistics(answered: Answered, tmp_path: Path) -> None:
    results = answered.bot.services.results
    survey = await results.survey_by_id(answered.survey_id)
    assert survey is not None
    found = await results.results(survey, "en")
    numbers = [q for q in found.questions if q.kind == "number"]
    hidden = [q for q in numbers if q.answered is None]
    assert hidden, "the example has a number question whose count is hidden"
    for question in hidden:
        assert question.statistics == () and question.histogram == ()
    printed = table(found, "en")
    assert "mean <5, median <5, q1 <5, q3 <5" in printed

    out = tmp_path / "answers.xlsx"
    survey_id = str(answered.survey_id)
    arguments = ("export", "answers", "--survey", survey_id, "--format", "xlsx", "--language", "en")
    assert await consultbot(answered.bot, tmp_path, *arguments, "--out", str(out)) == 0
    summary = list(
        openpyxl.load_workbook(out)["Summary consultation_round1"].iter_rows(values_only=True)
    )
    for question in hidden:
        top = next(i for i, row in enumerate(summary) if row[0] == question.label)
        block = summary[top : top + 8]
        assert ("Answered", "<5") in [(row[0], row[1]) for row in block]
        assert ("Mean", "<5") in [(row[0], row[1]) for row in block]
        assert not any(isinstance(row[1], float) for row in block)


async def test_surveys_list_counts_submissions(
    answered: Answered, tmp_path: Path, capsys: Capture
) -> None:
    assert await consultbot(answered.bot, tmp_path, "surveys", "list") == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split()[5:8] == ["invited", "submissions", "answers"]
    row = lines[1].split()
    assert row[0] == str(answered.survey_id)
    answers = await answered.bot.store.database.fetch_one(
        "SELECT count(*) FROM record_entries e WHERE kind = 'answer' AND value != '' AND id NOT IN"
        " (SELECT supersedes FROM record_entries WHERE supersedes IS NOT NULL)"
    )
    assert answers is not None
    # id, status, form_id / version, invited, then submissions and their answers.
    assert row[6:8] == [str(len(RESPONDENTS)), str(answers[0])]
