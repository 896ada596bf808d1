"""What a staff trial of the command line found: a survey opened to nobody, filters and rounds
nobody configured, an --out folder that is not there, a copy from a database that does not exist,
and messages that said the wrong thing. Each is run as staff run it: `consultbot ...` on the
running bot's database, with the example form and files as staff have them."""

from __future__ import annotations

import asyncio
import sqlite3
from datetime import timedelta
from pathlib import Path

import openpyxl
import pytest

from bot.cli import main
from tests.harness import TOKEN, BotUnderTest, add_member, storage_toml
from tests.survey_fixture import RESPONDENTS, Answered, answered
from tests.test_exports import read_csv
from tests.test_exports_chat import CLAUSES
from tests.test_surveys_admin_chat import staff_member, upload

__all__ = ["answered"]

FORM = Path(__file__).resolve().parent.parent / "examples" / "consultation_round1.xlsx"
Capture = pytest.CaptureFixture[str]


async def consultbot(bot: BotUnderTest, folder: Path, *arguments: str) -> int:
    """`consultbot ARGUMENTS --config FILE` on the bot's database, in a thread as a shell would."""
    config = folder / "cli.toml"
    config.write_text(
        f'[telegram]\ntoken = "{TOKEN}"\n' + storage_toml(bot.config.storage.target),
        encoding="utf-8",
    )

    def run() -> int:
        try:
            return main([*arguments, "--config", str(config)], clock=bot.clock)
        except SystemExit as exited:  # argparse's own refusals
            return int(exited.code or 0)

    return await asyncio.to_thread(run)


def refusal(capsys: Capture) -> str:
    """The one line on stderr."""
    lines = capsys.readouterr().err.splitlines()
    assert len(lines) == 1, lines
    return lines[0]


async def survey_status(bot: BotUnderTest, folder: Path, capsys: Capture) -> str:
    """The status `surveys list` shows for survey #1."""
    assert await consultbot(bot, folder, "surveys", "list") == 0
    row = capsys.readouterr().out.splitlines()[1].split()
    assert row[0] == "1"
    return row[1]


async def invitations(bot: BotUnderTest) -> int:
    rows = await bot.store.database.fetch_all("SELECT 1 FROM outbox WHERE kind = 'survey_invite'")
    return len(rows)


# ---- 1. a survey is never opened to nobody ----------------------------------------------------


async def test_a_survey_matching_nobody_stays_a_draft_and_opens_later(
    bot: BotUnderTest, tmp_path: Path, capsys: Capture
) -> None:
    ids = [await add_member(bot, telegram_id, "es") for telegram_id in (601, 602)]  # in Texas
    assert await consultbot(bot, tmp_path, "surveys", "load", str(FORM)) == 0
    capsys.readouterr()

    # A valid state where no member lives.
    assert await consultbot(bot, tmp_path, "surveys", "open", "1", "--region", "US-WY") == 1
    assert refusal(capsys) == (
        "surveys: no member matches this audience; survey #1 is still a draft (nothing was sent)"
    )
    assert await survey_status(bot, tmp_path, capsys) == "draft"
    assert await invitations(bot) == 0

    # A meeting's attendees, before anyone attended.
    start = (bot.services.clock.now() + timedelta(minutes=20)).strftime("%Y-%m-%d %H:%M")
    create = (
        *("meetings", "create", "--title", "Reunión", "--kind", "national", "--zone", "UTC"),
        *("--online-url", "https://meet.example/r1"),
    )
    when = ("--start", start, "--duration", "1h", "--country", "US", "--round", "1")
    assert await consultbot(bot, tmp_path, *create, *when) == 0
    meeting = capsys.readouterr().out.strip()
    held = await bot.store.meetings.get(int(meeting))
    assert held is not None and held.round == "1"
    attended = ("surveys", "open", "1", "--meeting", meeting, "--attended")
    assert await consultbot(bot, tmp_path, *attended) == 1
    assert "no member matches this audience; survey #1 is still a draft" in refusal(capsys)
    assert await survey_status(bot, tmp_path, capsys) == "draft"

    # Both came, marked as the README writes it; then the survey opens to them.
    pseudonyms = []
    for member_id in ids:
        member = await bot.services.people.member_by_id(member_id)
        assert member is not None
        pseudonyms.append(member.pseudonym)
    marked = await consultbot(
        bot, tmp_path, "meetings", "attendance", meeting, "--mark", *pseudonyms
    )
    assert marked == 0
    assert f"meeting #{meeting}: 2 attended" in capsys.readouterr().out
    assert await consultbot(bot, tmp_path, *attended) == 0
    assert capsys.readouterr().out == "survey #1 open; 2 members invited\n"
    assert await survey_status(bot, tmp_path, capsys) == "open"
    assert await invitations(bot) == 2


async def test_repeated_mark_options_are_the_same_as_one_with_several(
    bot: BotUnderTest, tmp_path: Path, capsys: Capture
) -> None:
    ids = [await add_member(bot, telegram_id, "es") for telegram_id in (611, 612)]
    start = (bot.services.clock.now() + timedelta(minutes=20)).strftime("%Y-%m-%d %H:%M")
    create = (
        *("meetings", "create", "--title", "R", "--kind", "national", "--zone", "UTC"),
        *("--online-url", "https://meet.example/r1"),
    )
    assert await consultbot(bot, tmp_path, *create, "--start", start, "--duration", "1h") == 0
    meeting = capsys.readouterr().out.strip()
    names = [(await bot.services.people.member_by_id(i)).pseudonym for i in ids]  # type: ignore[union-attr]
    marks = ("--mark", names[0], "--mark", names[1])
    assert await consultbot(bot, tmp_path, "meetings", "attendance", meeting, *marks) == 0
    out = capsys.readouterr().out
    assert out.startswith(f"meeting #{meeting}: 2 attended\n")
    assert names[0] in out and names[1] in out


async def test_the_chat_gets_the_services_refusal_and_goes_back_to_the_audience(
    bot: BotUnderTest,
) -> None:
    sam = await staff_member(bot)
    assert "Survey #1 loaded" in await upload(bot, sam)
    await sam.press("Open #1 for members")
    await sam.press("Role")
    await sam.press("admin")  # nobody holds it
    await sam.press("Back to the audience")
    assert "Recipients now: 0" in sam.last_text()
    await sam.press("Continue")
    await sam.press("Skip")
    assert "Invited: 0 members" in sam.last_text()
    button = next(label for label in sam.buttons() if "Open and invite" in label)
    await sam.press(button)
    said = [m.text or "" for m in sam.transcript()[-3:]]
    assert bot.services.texts.get("en", "survey.open.nobody") in said
    assert "Recipients now: 0" in sam.last_text()  # the audience screens, to change it
    survey = await bot.services.surveys.survey(1)
    assert survey is not None and survey.status == "draft"
    assert await invitations(bot) == 0


# ---- 2. filters and rounds nobody configured ---------------------------------------------------


@pytest.mark.parametrize(
    ("option", "expected"),
    [
        (("--theme", "nonsense"), "export: --theme 'nonsense' is not a configured theme (known: "),
        (
            ("--sector", "nonsense"),
            "export: --sector 'nonsense' is not a configured sector (known:",
        ),
        (
            ("--round", "nonsense"),
            "export: --round 'nonsense' is not a configured round (known: 1 (Round 1: diagnosis))",
        ),
    ],
)
async def test_an_export_filter_nobody_configured_is_refused(
    answered: Answered, tmp_path: Path, capsys: Capture, option: tuple[str, str], expected: str
) -> None:
    out = tmp_path / "answers.csv"
    code = await consultbot(answered.bot, tmp_path, "export", "answers", *option, "--out", str(out))
    assert code == 2
    assert refusal(capsys).startswith(expected)
    assert not out.exists()


async def test_a_round_is_its_number_or_its_configured_name(
    answered: Answered, tmp_path: Path, capsys: Capture
) -> None:
    bot = answered.bot
    # The example's answers were loaded with `--round 1`: the number finds them.
    for typed, rows in (("1", len(RESPONDENTS)), ("Round 1: diagnosis", 0)):
        out = tmp_path / f"round-{len(typed)}.csv"
        arguments = ("export", "answers", "--round", typed, "--out", str(out))
        assert await consultbot(bot, tmp_path, *arguments) == 0, capsys.readouterr().err
        assert len(read_csv(out)) == rows
    capsys.readouterr()
    assert await consultbot(bot, tmp_path, "surveys", "load", str(FORM), "--round", "2") == 2
    assert refusal(capsys) == (
        "surveys: --round '2' is not a configured round (known: 1 (Round 1: diagnosis))"
    )
    create = ("meetings", "create", "--title", "T", "--kind", "national", "--zone", "UTC")
    when = ("--start", "2099-12-05 10:00", "--duration", "1h", "--round", "round 1")
    where = ("--online-url", "https://meet.example/t")
    assert await consultbot(bot, tmp_path, *create, *when, *where) == 2
    assert "meetings: --round 'round 1' is not a configured round" in refusal(capsys)
    assert await bot.store.database.fetch_all("SELECT 1 FROM meetings") == []


# ---- 3. --out -----------------------------------------------------------------------------------


async def test_out_in_a_missing_folder_is_one_line_and_a_folder_gets_the_default_name(
    answered: Answered, tmp_path: Path, capsys: Capture
) -> None:
    bot, survey = answered.bot, str(answered.survey_id)
    export = ("export", "answers", "--survey", survey)
    missing = tmp_path / "nonexistent" / "dir" / "x.csv"
    assert await consultbot(bot, tmp_path, *export, "--out", str(missing)) == 2
    assert refusal(capsys) == (f"export: --out {missing}: no such folder: {missing.parent}")
    newdir = tmp_path / "out" / "newdir"
    newdir.parent.mkdir()
    assert await consultbot(bot, tmp_path, *export, "--out", f"{newdir}/") == 2
    assert refusal(capsys) == f"export: --out {newdir}/: no such folder"
    assert list(newdir.parent.iterdir()) == []  # no file named newdir, no folder made

    for typed in (f"{newdir.parent}/", str(newdir.parent)):
        assert await consultbot(bot, tmp_path, *export, "--out", typed) == 0
        printed = capsys.readouterr().out.splitlines()[0]
        written = Path(printed.split(": ")[0])
        assert written.parent == newdir.parent
        assert written.name.startswith("consultation_round1_answers_")
        assert printed.endswith(f"{len(RESPONDENTS)} rows")
        assert len(read_csv(written)) == len(RESPONDENTS)
    # The same two files both times (the answers and their dictionary), nothing else.
    assert sorted(path.name.split("_2")[0] for path in newdir.parent.iterdir()) == [
        "consultation_round1_answers",
        "consultation_round1_data_dictionary",
    ]


# ---- 4. db copy from nothing --------------------------------------------------------------------


def test_a_copy_from_a_missing_or_foreign_file_creates_nothing(
    tmp_path: Path, capsys: Capture
) -> None:
    destination = tmp_path / "to.db"
    missing = tmp_path / "nope.db"
    to = ("--to", f"sqlite:{destination}")
    assert main(["db", "copy", "--from", f"sqlite:{missing}", *to]) == 2
    assert (
        refusal(capsys) == f"db copy: --from sqlite:{missing}: no such file (nothing was created)"
    )
    assert not missing.exists() and not destination.exists()

    foreign = tmp_path / "other.db"
    with sqlite3.connect(foreign) as connection:  # another program's database
        connection.execute("CREATE TABLE notes (text TEXT)")
    connection.close()
    assert main(["db", "copy", "--from", str(foreign), *to]) == 2
    assert refusal(capsys) == (
        f"db copy: --from {foreign}: not a consultbot database (no consultbot tables)"
    )
    with sqlite3.connect(foreign) as connection:
        tables = connection.execute("SELECT name FROM sqlite_master").fetchall()
    connection.close()
    assert tables == [("notes",)] and not destination.exists()  # neither was migrated

    text = tmp_path / "notes.txt"
    text.write_text("not a database at all\n" * 100, encoding="utf-8")
    assert main(["db", "copy", "--from", str(text), *to]) == 2
    assert "not an SQLite database" in refusal(capsys)
    assert not destination.exists()


# ---- 5. what the messages say --------------------------------------------------------------------


async def test_no_such_survey_or_meeting_is_said_the_same_way(
    bot: BotUnderTest, tmp_path: Path, capsys: Capture
) -> None:
    for command in ("results", "open", "close"):
        assert await consultbot(bot, tmp_path, "surveys", command, "99") == 1
        assert refusal(capsys) == "surveys: there is no survey #99"
    for command in ("cancel", "show", "attendance"):
        assert await consultbot(bot, tmp_path, "meetings", command, "99") == 2
        assert refusal(capsys) == "meetings: there is no meeting #99"
    # A survey that exists but is closed already says so.
    assert await consultbot(bot, tmp_path, "surveys", "load", str(FORM)) == 0
    assert await consultbot(bot, tmp_path, "surveys", "close", "1") == 0
    assert capsys.readouterr().out.endswith("survey #1 closed\n")
    assert await consultbot(bot, tmp_path, "surveys", "close", "1") == 1
    assert refusal(capsys) == "surveys: survey #1 is already closed, not open"


async def test_one_is_singular(bot: BotUnderTest, tmp_path: Path, capsys: Capture) -> None:
    book = openpyxl.load_workbook(FORM)
    book["survey"]["A6"] = "geopoint"  # the one thing wrong with the form
    form = tmp_path / "one_error.xlsx"
    book.save(form)
    assert await consultbot(bot, tmp_path, "surveys", "load", str(form)) == 1
    captured = capsys.readouterr()
    assert captured.out == "surveys: one_error.xlsx refused (1 error); nothing stored\n"
    assert "row 6, column type: type 'geopoint' is not supported" in captured.err
    assert await bot.store.database.fetch_all("SELECT 1 FROM surveys") == []

    clause = tmp_path / "clause.md"
    clause.write_text(CLAUSES.split("## C2")[0], encoding="utf-8")
    assert await consultbot(bot, tmp_path, "clauses", "load", str(clause)) == 0
    assert capsys.readouterr().out == "1 clause loaded\n"

    await add_member(bot, 621, "es")
    assert await consultbot(bot, tmp_path, "broadcast", "--text", "Hola", "--region", "US-TX") == 0
    assert capsys.readouterr().out == "notice #1 queued for 1 member\n"
