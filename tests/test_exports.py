"""Staff exports end to end over the answered example survey: files reopened, filters, PII, audit.

Every answer here was given in chat (tests/survey_fixture.py); proposals, meetings and erasure
go through their services, as the chat flows do.
"""

from __future__ import annotations

import asyncio
import csv
import json
import re
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import openpyxl
import pytest

from bot.services.clauses import ClausesService
from bot.services.errors import InputError
from bot.services.export import ExportFailed, ExportRequest, ExportService
from bot.services.exports import ReadmeInfo, TextItem, key_phrases
from bot.services.exports.job import ExportJob
from bot.services.meetings import MeetingRequest
from storage.exports import ExportFilters
from storage.models import AudienceFilter, Member
from tests.survey_fixture import (
    ANSWERS_FROM,
    FORM_PATH,
    PAYLOAD,
    RESPONDENTS,
    Answered,
    Respondent,
    answer_in_chat,
)

STAFF = [("staff", "")]
STAFF_PII = [("staff_pii", "")]
PAYLOADS = [
    '=HYPERLINK("http://x","y")', "+1+2 votos", "-3+4 votos", "@SUM(A1)", "\t=1 x", "\r=1 x",
]  # fmt: skip
COMMENTS = [
    "Acceso a la salud para los niños",
    "Más acceso a la salud en Québec",
    "El acceso a la salud es caro",
    "Necesitamos acceso a la salud y empleo",
    "Cursos de francés y acceso a la salud",
    "Trámites consulares en línea",
]


def read_csv(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8-sig", newline="") as stream:
        return list(csv.DictReader(stream))


async def member(answered: Answered, who: Respondent) -> Member:
    found = await answered.bot.services.registration.member(who.telegram_id)
    assert found is not None
    return found


async def pseudonyms(answered: Answered) -> dict[str, Respondent]:
    return {(await member(answered, who)).pseudonym: who for who in RESPONDENTS}


def shown_questions(who: Respondent) -> set[str]:
    """What the member answered: every required question, the optional ones not skipped."""
    found = {"start", "end", "today", "consent", "country", "region", "years_abroad", "themes"}
    found.add("services_rating")
    optional = {"consular_visit": who.consular_visit, "vote_problem": who.vote_problem}
    optional["remittance_share"] = who.share
    return found | {name for name, given in optional.items() if given is not None}


def listing(folder: Path) -> list[str]:
    """Every file and folder under `folder`, but SQLite's own -wal and -shm files."""
    found = [p for p in folder.rglob("*") if not p.name.endswith(("-wal", "-shm"))]
    return sorted(str(p.relative_to(folder)) for p in found)


def service(answered: Answered) -> ExportService:
    return answered.bot.services.exports


async def test_answers_long_csv_holds_current_answers_and_filters(
    answered: Answered, tmp_path: Path
) -> None:
    # Ana changes her years abroad after submitting, in chat: the export keeps only the new one.
    ana, plain = answered.person(RESPONDENTS[0]), answered.bot.services.texts.plain
    await ana.send("/surveys")
    await ana.press("✏️")
    await ana.press(plain("es", "survey.button.edit", number=4))
    await ana.send("13")
    await ana.press(plain("es", "survey.button.resubmit"))
    out = tmp_path / "long.csv"
    result = await service(answered).export(ExportRequest("answers-long"), "op", STAFF, out)
    rows = read_csv(out)
    assert len(rows) == result.total
    by_member = await pseudonyms(answered)
    for pseudonym, who in by_member.items():
        mine = [r for r in rows if r["pseudonym"] == pseudonym]
        assert {r["question"] for r in mine} == shown_questions(who), who.telegram_id
        assert len(mine) == len(shown_questions(who))  # one current answer per question
    ana_pseudonym = (await member(answered, RESPONDENTS[0])).pseudonym
    years = [
        r["value"] for r in rows if r["pseudonym"] == ana_pseudonym and "years" in r["question"]
    ]
    assert years == ["13"]

    quebec = tmp_path / "qc.csv"
    await service(answered).export(
        ExportRequest("answers-long", region="CA-QC"), "op", STAFF, quebec
    )
    chosen = {r["pseudonym"] for r in read_csv(quebec)}
    assert chosen == {p for p, who in by_member.items() if who.region == "QC"}
    # Dates are whole local days of the programme's zone.
    zone = ZoneInfo(answered.bot.config.programme.default_time_zone)
    day = (ANSWERS_FROM + timedelta(days=1)).astimezone(zone).date()
    dated = tmp_path / "dated.csv"
    request = ExportRequest("answers-long", date_from=day, date_to=day)
    await service(answered).export(request, "op", STAFF, dated)
    days = {datetime.fromisoformat(r["at"]).astimezone(zone).date() for r in read_csv(dated)}
    assert days == {day}
    us = tmp_path / "us.xlsx"
    await service(answered).export(
        ExportRequest("answers-long", format="xlsx", country="US"), "op", STAFF, us
    )
    values = list(openpyxl.load_workbook(us)["answers_long"].iter_rows(values_only=True))
    country = values[0].index("country")
    expected = sum(len(shown_questions(w)) for w in RESPONDENTS if w.country == "US")
    assert len(values) == 1 + expected and {row[country] for row in values[1:]} == {"US"}


async def test_owasp_payloads_come_back_as_text(answered: Answered, tmp_path: Path) -> None:
    out = tmp_path / "long.csv"
    await service(answered).export(ExportRequest("answers-long"), "op", STAFF, out)
    typed = {r["value"] for r in read_csv(out) if r["question"] == "vote_problem"}
    assert "'" + PAYLOAD in typed
    book = tmp_path / "answers.xlsx"
    request = ExportRequest("answers", format="xlsx", survey_id=answered.survey_id, labels=False)
    result = await service(answered).export(request, "op", STAFF, book)
    sheet = openpyxl.load_workbook(result.path)["answers_consultation_round1"]
    column = [c.value for c in sheet[1]].index("vote_problem")
    cells = [row[column] for row in sheet.iter_rows(min_row=2) if row[column].value]
    assert PAYLOAD in [cell.value for cell in cells]
    assert {cell.data_type for cell in cells} == {"s"}

    proposer = await member(answered, RESPONDENTS[1])
    for payload in PAYLOADS:
        await answered.bot.services.proposals.submit(proposer, "protection", payload)
    proposals = tmp_path / "proposals.csv"
    await service(answered).export(ExportRequest("proposals"), "op", STAFF, proposals)
    texts = [row["text"] for row in read_csv(proposals)]
    assert len(texts) == len(PAYLOADS) and all(text.startswith("'") for text in texts)
    workbook = tmp_path / "proposals.xlsx"
    await service(answered).export(ExportRequest("proposals", format="xlsx"), "op", STAFF, workbook)
    sheet = openpyxl.load_workbook(workbook)["proposals"]
    column = [c.value for c in sheet[1]].index("text")
    cells = [row[column] for row in sheet.iter_rows(min_row=2)]
    # The workbook holds the text itself, as text: no apostrophe needed there.
    assert ["'" + cell.value for cell in cells] == texts
    assert {cell.data_type for cell in cells} == {"s"}


async def test_labels_values_and_split_multi(answered: Answered, tmp_path: Path) -> None:
    by_member = await pseudonyms(answered)
    values = tmp_path / "values.csv"
    request = ExportRequest(
        "answers", survey_id=answered.survey_id, labels=False, multi="split", zone="America/Toronto"
    )
    result = await service(answered).export(request, "op", STAFF, values)
    rows = read_csv(values)
    assert result.total == len(RESPONDENTS) == len(rows)
    header = list(rows[0])
    # The form's order, group/question names, KoBo's start/end/today, a column per choice.
    assert header[:6] == [
        "start (America/Toronto)", "end (America/Toronto)", "today", "consent",
        "profile/country", "profile/region",
    ]  # fmt: skip
    assert [h for h in header if h.startswith("themes/")] == [
        f"themes/{c.name}" for c in answered.form.choices("themes")
    ]
    assert header.index("themes/invest") < header.index("vote_problem") < header.index("_id")
    toronto = ZoneInfo("America/Toronto")
    for row in rows:
        who = by_member[row["_pseudonym"]]
        assert row["profile/country"] == who.country and row["profile/region"] == who.region
        assert row["themes"] == " ".join(who.themes)
        for choice in answered.form.choices("themes"):
            assert row[f"themes/{choice.name}"] == ("1" if choice.name in who.themes else "0")
        assert row["profile/years_abroad"] == who.years
        if who.share is not None:
            assert float(row["remittance_share"]) == float(who.share.replace(",", "."))
        start = datetime.fromisoformat(row["start (America/Toronto)"])
        assert start.utcoffset() == toronto.utcoffset(start.replace(tzinfo=None))
        # `today` is the day the survey service recorded (a calendar day, not a time).
        assert abs(date.fromisoformat(row["today"]) - start.date()) <= timedelta(days=1)
    labels = tmp_path / "labels.csv"
    request = ExportRequest(
        "answers", survey_id=answered.survey_id, labels=True, language="en", multi="single"
    )
    await service(answered).export(request, "op", STAFF, labels)
    rows = read_csv(labels)
    themes = "Which themes matter to you? (up to 3)"
    assert themes in rows[0] and not any(key.startswith(themes + "/") for key in rows[0])
    english = {c.name: c.label("en") for c in answered.form.choices("themes")}
    for row in rows:
        who = by_member[row["_pseudonym"]]
        # Labels hold spaces: "; " joins them (names mode keeps XLSForm's spaces, above).
        assert row[themes] == "; ".join(english[name] for name in who.themes)
        assert row["Which country do you live in?"] in ("Canada", "United States")
    # CSV and JSON Lines answers carry the data dictionary beside them.
    assert result.also and result.also[0].name == "values_data_dictionary.csv"
    dictionary = result.also[0].read_text(encoding="utf-8-sig")
    assert all(c.label("fr") in dictionary for c in answered.form.choices("region"))


async def test_pii_only_with_the_right_and_refusal_audited(
    answered: Answered, tmp_path: Path
) -> None:
    bot = answered.bot
    await bot.services.registration.erase(await member(answered, RESPONDENTS[-1]))
    out = tmp_path / "members.csv"
    with pytest.raises(InputError) as refused:
        await service(answered).export(ExportRequest("members", pii=True), "P9", STAFF, out)
    assert refused.value.key == "export.error.pii" and not out.exists()
    entry = (await bot.store.audit.recent(1))[0]
    assert (entry.actor, entry.action) == ("P9", "export_refused")
    assert "pii_without_right" in entry.detail
    await service(answered).export(ExportRequest("members"), "P9", STAFF, out)
    rows = read_csv(out)
    assert "name" not in rows[0] and "email" not in rows[0] and len(rows) == len(RESPONDENTS)
    await service(answered).export(ExportRequest("members", pii=True), "P10", STAFF_PII, out)
    rows = read_csv(out)
    first = (await member(answered, RESPONDENTS[0])).pseudonym
    assert next(r for r in rows if r["pseudonym"] == first)["name"] == "Member 801"
    erased = next(r for r in rows if r["status"] == "deleted")
    assert (erased["name"], erased["email"], erased["city"], erased["telegram_id"]) == ("",) * 4
    audit = json.loads((await bot.store.audit.recent(1))[0].detail)
    assert audit["pii"] is True and audit["rows"] == len(RESPONDENTS) and audit["format"] == "csv"


async def _meeting(answered: Answered) -> int:
    """A meeting of two seats: two Yes, a Maybe, a No, one on the waitlist, one checked in."""
    meetings = answered.bot.services.meetings
    request = MeetingRequest(
        titles={"es": "Reunión", "en": "Meeting"}, kind="national", start="2026-03-20 10:00",
        zone="America/Toronto", duration=60, capacity=2, round="1", venue="Consulado, Montréal",
    )  # fmt: skip
    meeting = await meetings.create(request, "op")
    for who, reply in zip(RESPONDENTS[:5], ("yes", "yes", "maybe", "no", "yes"), strict=True):
        await meetings.rsvp(meeting.id, await member(answered, who), reply)  # type: ignore[arg-type]
    answered.clock.set(meeting.start_at - timedelta(minutes=10))
    await meetings.check_in(await member(answered, RESPONDENTS[0]), meeting_id=meeting.id)
    return meeting.id


async def test_meetings_counts_and_record_zip(answered: Answered, tmp_path: Path) -> None:
    import zipfile

    await _meeting(answered)
    out = tmp_path / "meetings.csv"
    await service(answered).export(ExportRequest("meetings", language="es"), "op", STAFF, out)
    (row,) = read_csv(out)
    assert (row["title"], row["rsvp_yes"], row["rsvp_maybe"], row["rsvp_no"]) == (
        "Reunión", "2", "1", "1",
    )  # fmt: skip
    assert (row["waitlist"], row["attended"]) == ("1", "1")
    result = await service(answered).export(ExportRequest("record"), "op", STAFF, tmp_path)
    # A folder as the target: the file is named after the dataset and the clock's local day.
    assert result.path.name == f"consultbot_record_{answered.clock.now():%Y-%m-%d}.zip"
    with zipfile.ZipFile(result.path) as archive:
        names = set(archive.namelist())
        questions = archive.read("survey_dictionary.csv").decode("utf-8-sig")
    assert {"answers_long.csv", "members.csv", "data_dictionary.csv", "README.txt"} <= names
    # The questions and choices of the survey travel with the record, in every language.
    for _, choices in answered.form.choice_lists:
        assert all(c.label(code) in questions for c in choices for code in ("es", "en", "fr"))
    assert result.rows["answers_long"] == sum(len(shown_questions(w)) for w in RESPONDENTS)


async def test_bad_input(answered: Answered, tmp_path: Path) -> None:
    out = tmp_path / "x.csv"
    cases = [
        (ExportRequest("everything"), "export.error.dataset"),
        (ExportRequest("answers", survey_id=99), "export.error.survey"),
        (ExportRequest("answers-long", region="ZZ"), "export.error.region"),
        (
            ExportRequest("answers-long", date_from=date(2026, 3, 5), date_to=date(2026, 3, 1)),
            "export.error.backwards",
        ),
    ]
    for request, key in cases:
        with pytest.raises(InputError) as error:
            await service(answered).export(request, "op", STAFF, out)
        assert error.value.key == key
    assert not out.exists()
    clauses = ClausesService(answered.bot.store, answered.clock)
    duplicate = "## C1 — A\n### es\nuno\n### en\none\n### fr\nun\n## C1 — B\n### es\nx\n"
    with pytest.raises(InputError) as error:
        await clauses.load(duplicate, "draft.md", "op")
    assert error.value.key == "clauses.error.duplicate"
    missing = '[[clause]]\nid = "C1"\ntext.es = "uno"\ntext.en = "one"\n'
    with pytest.raises(InputError) as error:
        await clauses.load(missing, "draft.toml", "op")
    assert error.value.key == "clauses.error.language"
    assert await clauses.clauses() == []


async def test_evidence_per_clause(answered: Answered, tmp_path: Path) -> None:
    bot = answered.bot
    clauses = bot.services.clauses
    text = (
        "Draft policy\n\n## C1 — Health\n### es\nAcceso a la salud\n### en\nHealth access\n"
        "### fr\nAccès à la santé\n\n## C2 — Votes\n### es\nVoto\n### en\nVote\n### fr\nVote\n"
    )
    assert await clauses.load(text, "draft.md", "op") == 2
    long = tmp_path / "long.csv"
    await service(answered).export(ExportRequest("answers-long", region="NY"), "op", STAFF, long)
    answer = int(next(r for r in read_csv(long) if r["question"] == "vote_problem")["id"])
    proposal = await bot.services.proposals.submit(
        await member(answered, RESPONDENTS[1]), "protection", "Más consulados móviles"
    )
    meeting = await _meeting(answered)
    assert await clauses.link("C1", "answer", answer, "op")
    assert await clauses.link("C1", "proposal", proposal.id, "op")
    assert await clauses.link("C1", "meeting", meeting, "op")
    assert not await clauses.link("C1", "meeting", meeting, "op")
    with pytest.raises(InputError):
        await clauses.link("C1", "proposal", 999, "op")
    out = tmp_path / "evidence.xlsx"
    await service(answered).export(ExportRequest("evidence", format="xlsx"), "op", STAFF, out)
    book = openpyxl.load_workbook(out)
    rows = list(book["evidence"].iter_rows(values_only=True))
    items = [dict(zip(rows[0], row, strict=True)) for row in rows[1:]]
    assert [(i["clause_id"], i["kind"]) for i in items] == [
        ("C1", "answer"), ("C1", "meeting"), ("C1", "proposal"), ("C2", "none"),
    ]  # fmt: skip
    assert next(i for i in items if i["kind"] == "answer")["region"] == "NY"
    counts = list(book["evidence_counts"].iter_rows(values_only=True))[1:]
    assert ("C1", "region", "US-NY", 1) in counts and ("C1", "region", "CA-QC", 1) in counts
    assert ("C2", "region", "(no evidence)", 0) in counts


def test_key_phrases_of_spanish_free_text() -> None:
    items = [TextItem(text, "CA", f"P{i}") for i, text in enumerate(COMMENTS)]
    groups = key_phrases(items, language_hint="es", min_group_size=5)
    phrases = {phrase.phrase: phrase.count for phrase in groups["CA"].phrases}
    assert phrases.get("acceso a la salud") == 5


async def test_separate_process_writes_the_same_file_and_audits(
    answered: Answered, tmp_path: Path
) -> None:
    request = ExportRequest("answers", format="xlsx", region="CA-QC", language="en")
    here, there = tmp_path / "thread", tmp_path / "process"
    here.mkdir()
    there.mkdir()
    mine = await service(answered).export(request, "op", STAFF, here)
    result = await service(answered).export(request, "op", STAFF, there, separate_process=True)
    quebec = sum(1 for who in RESPONDENTS if who.region == "QC")
    assert result.path.parent == there and result.total == quebec
    assert result.path.name == mine.path.name == "consultation_round1_answers_2026-03-16.xlsx"
    books = [openpyxl.load_workbook(path) for path in (mine.path, result.path)]
    assert books[0].sheetnames == books[1].sheetnames
    for name in books[0].sheetnames:
        values = [list(book[name].iter_rows(values_only=True)) for book in books]
        assert values[0] == values[1], name
    entry = (await answered.bot.store.audit.recent(1))[0]
    assert entry.action == "export" and json.loads(entry.detail)["rows"] == quebec


async def test_separate_process_refusal_and_failure(answered: Answered, tmp_path: Path) -> None:
    bot = answered.bot
    # Version 2 of the form, opened to the United States and answered by one member there.
    book = openpyxl.load_workbook(FORM_PATH)
    book["settings"]["B2"] = "2025-2"
    second = tmp_path / "consultation_round1_v2.xlsx"
    book.save(second)
    loaded = await bot.services.surveys.load_file(second, "cli")
    assert loaded.survey is not None
    await bot.services.surveys.open(loaded.survey.id, AudienceFilter(countries=("US",)))
    bot.services.wake_delivery()
    await answer_in_chat(bot, answered.form, loaded.survey.id, RESPONDENTS[3], answered.clock)
    out = tmp_path / "wide.csv"
    with pytest.raises(InputError) as refused:
        await service(answered).export(
            ExportRequest("answers"), "op", STAFF, out, separate_process=True
        )
    assert refused.value.key == "export.error.survey_needed" and not out.exists()
    assert (await bot.store.audit.recent(1))[0].action == "export_refused"
    # Both surveys fit in one workbook: a sheet, a summary and a dictionary part each.
    both = await service(answered).export(
        ExportRequest("answers", format="xlsx"), "op", STAFF, tmp_path
    )
    assert both.path.name.startswith("consultbot_answers_")
    assert set(both.rows.values()) == {len(RESPONDENTS), 1}
    # The child cannot create its file in a folder that does not exist: a failure, and nothing
    # is left behind.
    before = listing(tmp_path)
    request = ExportRequest("answers-long", format="xlsx")
    with pytest.raises(ExportFailed) as failed:
        await service(answered).export(
            request, "op", STAFF, tmp_path / "gone" / "x.xlsx", separate_process=True
        )
    assert "FileNotFoundError" in failed.value.detail
    assert listing(tmp_path) == before
    entry = (await bot.store.audit.recent(1))[0]
    assert (entry.actor, entry.action, entry.target) == ("op", "export_failed", "answers-long")


def test_job_travels_as_json(tmp_path: Path) -> None:
    request = ExportRequest(
        "answers", format="xlsx", survey_id=1, date_from=date(2026, 3, 1), pii=True, zone="UTC"
    )
    filters = ExportFilters(survey_id=1, start=ANSWERS_FROM, country="CA", region="QC")
    readme = ReadmeInfo("T", "2026-03-10 15:00 UTC", "2026-03-10 10:00 X", [("a", "b")], ["n"])
    job = ExportJob(
        request, filters, str(tmp_path / "d.db"), tmp_path, "fr", 5, readme, "America/Toronto",
        date(2026, 3, 10),
    )  # fmt: skip
    assert ExportJob.from_json(job.to_json()) == job
    assert job.target("consultation_round1").name == "consultation_round1_answers_2026-03-10.xlsx"


async def test_the_command_of_the_issue(
    answered: Answered, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`consultbot export answers --survey 1 --format xlsx --labels --language es --multi split`."""
    from bot.cli import main
    from tests.harness import TOKEN, storage_toml

    config = tmp_path / "cli.toml"
    config.write_text(
        f'[telegram]\ntoken = "{TOKEN}"\n' + storage_toml(answered.bot.config.storage.target)
    )
    folder = tmp_path / "out"
    folder.mkdir()
    arguments = [
        "export", "answers", "--survey", str(answered.survey_id), "--format", "xlsx", "--labels",
        "--language", "es", "--multi", "split", "--out", str(folder), "--config", str(config),
    ]  # fmt: skip
    assert await asyncio.to_thread(main, arguments) == 0
    printed = capsys.readouterr().out.strip()
    path = Path(printed.split(": ")[0])
    # Named by the CLI's own clock (the system's): the form, the dataset, a day.
    assert re.fullmatch(r"consultation_round1_answers_\d{4}-\d{2}-\d{2}\.xlsx", path.name)
    assert printed.endswith(f"{len(RESPONDENTS)} rows")
    book = openpyxl.load_workbook(path)
    header = [cell.value for cell in book["answers_consultation_round1"][1]]
    assert "¿En qué país vives?" in header and "Which country do you live in?" not in header
    themes = "¿Qué temas te importan? (hasta 3)"
    spanish = [c.label("es") for c in answered.form.choices("themes")]
    assert [h for h in header if h.startswith(themes + "/")] == [f"{themes}/{x}" for x in spanish]


def _contents(path: Path) -> dict[str, object]:
    """What a file holds, by part: a zip's members, a workbook's cells, else its bytes."""
    import zipfile

    if path.suffix == ".xlsx":  # the cells: a workbook's own metadata carries the write time
        book = openpyxl.load_workbook(path)
        return {name: list(book[name].iter_rows(values_only=True)) for name in book.sheetnames}
    if path.suffix == ".zip":
        with zipfile.ZipFile(path) as archive:
            found: dict[str, object] = {}
            for name in archive.namelist():
                inner = path.parent / f"{path.stem}.{name}"
                inner.write_bytes(archive.read(name))
                found |= {f"{name}/{k}": v for k, v in _contents(inner).items()}
            return found
    return {"": path.read_bytes()}


async def test_every_export_is_the_same_from_either_backend(
    answered: Answered, postgres_server: object, tmp_path: Path
) -> None:
    """The consultation copied to the other backend exports the same files, every dataset in
    every format: same rows in the same order (NULLs, groups and ties included)."""
    from itertools import product

    from bot.services.export import DATASETS, FORMATS
    from storage import Store
    from storage.copy import copy_database

    if postgres_server is None:
        pytest.skip("compares with PostgreSQL: runs under --storage=postgresql")
    bot = answered.bot
    text = (
        "## C1 — Health\n### es\nAcceso a la salud\n### en\nHealth access\n### fr\nSanté\n\n"
        "## C2 — Votes\n### es\nVoto\n### en\nVote\n### fr\nVote\n"
    )
    await bot.services.clauses.load(text, "draft.md", "op")
    for who, words in zip(RESPONDENTS, [*PAYLOADS, *COMMENTS], strict=False):
        proposal = await bot.services.proposals.submit(
            await member(answered, who), "protection", words
        )
        await bot.services.clauses.link("C1", "proposal", proposal.id, "op")
    await bot.services.clauses.link("C1", "meeting", await _meeting(answered), "op")
    await bot.services.clauses.link("C2", "record", 1, "op")
    source = bot.store
    copy = await Store.open(tmp_path / "copy.db", answered.clock)
    try:
        await copy_database(source.database, copy.database)
        for dataset, form in product(DATASETS, FORMATS):
            request = ExportRequest(dataset, format=form, pii=dataset == "members")
            files = []
            for name, store in (("pg", source), ("sqlite", copy)):
                exports = ExportService(store, bot.config, answered.clock)
                folder = tmp_path / name / f"{dataset}-{form}"
                folder.mkdir(parents=True)
                result = await exports.export(request, "op", STAFF_PII, folder)
                files.append({p.name: _contents(p) for p in result.files})
            assert files[0] == files[1], (dataset, form)
            assert files[0], (dataset, form)
    finally:
        await copy.close()
