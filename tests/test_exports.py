"""Staff exports end to end over a real database: files reopened, filters, PII, audit, evidence."""

from __future__ import annotations

import csv
import json
import zipfile
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime
from pathlib import Path

import openpyxl
import pytest

from bot.clock import ManualClock
from bot.services.clauses import ClausesService
from bot.services.export import ExportFailed, ExportRequest, ExportService
from bot.services.exports import ReadmeInfo, TextItem, key_phrases
from bot.services.exports.job import ExportJob
from bot.services.registration import InputError
from storage import Store
from storage.exports import ExportFilters
from tests.harness import make_config

NOW = datetime(2026, 3, 10, 15, 0, tzinfo=UTC)
STAFF = [("staff", "")]
STAFF_PII = [("staff_pii", "")]
PAYLOADS = ['=HYPERLINK("http://x","y")', "+1+2", "-3+4", "@SUM(A1)", "\t=1", "\r=1"]
DEFINITION = {
    "questions": [
        {"name": "priority", "type": "select_one", "list_name": "prio",
         "labels": {"es": "Prioridad", "en": "Priority"}, "groups": ["g1"]},
        {"name": "needs", "type": "select_multiple", "list_name": "need",
         "labels": {"es": "Necesidades", "en": "Needs"}},
        {"name": "comment", "type": "text", "labels": {"es": "Comentario", "en": "Comment"}},
    ],
    "choice_lists": {
        "prio": [{"name": "health", "labels": {"es": "Salud", "en": "Health"}},
                 {"name": "school", "labels": {"es": "Escuela", "en": "School"}}],
        "need": [{"name": "a", "labels": {"es": "Vivienda", "en": "Housing"}},
                 {"name": "b", "labels": {"es": "Empleo", "en": "Jobs"}}],
    },
}  # fmt: skip
COMMENTS = [
    "Acceso a la salud para los niños",
    "Más acceso a la salud en Québec",
    "El acceso a la salud es caro",
    "Necesitamos acceso a la salud y empleo",
    "Cursos de francés y acceso a la salud",
    "Trámites consulares en línea",
]


async def _sql(store: Store, sql: str, *parameters: object) -> int:
    return await store.database.execute(sql, parameters)


async def seed(store: Store) -> None:
    """Members (one erased), a survey with answers (one superseded), a proposal, a meeting."""
    at = NOW.isoformat()
    for i in range(1, 9):
        country, region = ("CA", "QC") if i <= 6 else ("US", "TX")
        status = "deleted" if i == 8 else "active"
        await _sql(
            store,
            "INSERT INTO members (pseudonym, telegram_id, language, status, name, country, "
            "region, city, sector, email, phone, created_at, updated_at, registered_at) "
            "VALUES (?, ?, 'es', ?, ?, ?, ?, ?, 'academia', ?, ?, ?, ?, ?)",
            f"P{i}", 100 + i, status, None if status == "deleted" else f"Name {i}",
            country, region, None if status == "deleted" else "Montréal",
            None if status == "deleted" else f"m{i}@x.org", None, at, at, at,
        )  # fmt: skip
    await _sql(
        store,
        "INSERT INTO surveys (id, form_id, version, titles, default_language, definition, "
        "source_name, round, status, created_by, created_at) "
        "VALUES (1, 'diag', 'v1', '{\"es\": \"Diagnóstico\"}', 'es', ?, 'diag.xlsx', 'R1', "
        "'open', 'op', ?)",
        json.dumps(DEFINITION), at,
    )  # fmt: skip
    for i in range(1, 9):
        country, region = ("CA", "QC") if i <= 6 else ("US", "TX")
        day = f"2026-03-0{1 + i % 5}T12:00:00+00:00"
        answers = [
            ("priority", "health" if i % 2 else "school", "Salud" if i % 2 else "Escuela"),
            ("needs", "a b" if i % 3 else "b", "Vivienda; Empleo" if i % 3 else "Empleo"),
            ("comment", PAYLOADS[0] if i == 7 else PAYLOADS[3], ""),
        ]
        if i <= 6:
            answers[2] = ("comment", COMMENTS[i - 1], "")
        for question, value, label in answers:
            await _sql(
                store,
                "INSERT INTO record_entries (kind, pseudonym, survey_id, form_id, form_version, "
                "question, question_label, value, value_label, language, at, round, country, "
                "region, sector) VALUES ('answer', ?, 1, 'diag', 'v1', ?, ?, ?, ?, 'es', ?, 'R1',"
                " ?, ?, 'academia')",
                f"P{i}", question, question.title(), value, label, day, country, region,
            )  # fmt: skip
    # P1 first typed a formula as comment, then changed it: the old entry is superseded.
    old = await _sql(
        store,
        "INSERT INTO record_entries (kind, pseudonym, survey_id, question, value, at, round, "
        "country, region, sector) VALUES ('answer', 'P1', 1, 'priority', 'school', ?, 'R1', "
        "'CA', 'QC', 'academia')",
        "2026-03-01T10:00:00+00:00",
    )
    await _sql(
        store,
        "UPDATE record_entries SET supersedes = ? WHERE pseudonym = 'P1' AND question = 'priority'"
        " AND id != ?",
        old, old,
    )  # fmt: skip
    await _sql(
        store,
        "INSERT INTO proposals (id, member_id, theme, text, language, created_at) "
        "VALUES (1, 2, 'protection', '=cmd|'' /C calc''!A0', 'es', ?)",
        at,
    )
    await _sql(
        store,
        "INSERT INTO record_entries (kind, pseudonym, value, language, at, round, theme, country,"
        " region, sector, proposal_id) VALUES ('proposal', 'P2', 'x', 'es', ?, 'R1', "
        "'protection', 'CA', 'QC', 'academia', 1)",
        at,
    )
    for number, payload in enumerate(PAYLOADS, start=2):
        await _sql(
            store,
            "INSERT INTO proposals (id, member_id, theme, text, language, created_at) "
            "VALUES (?, 3, 'protection', ?, 'es', ?)",
            number, payload, at,
        )  # fmt: skip
        await _sql(
            store,
            "INSERT INTO record_entries (kind, pseudonym, value, language, at, theme, country,"
            " region, sector, proposal_id) VALUES ('proposal', 'P3', ?, 'es', ?, 'protection',"
            " 'CA', 'QC', 'academia', ?)",
            payload, at, number,
        )  # fmt: skip
    await _sql(
        store,
        "INSERT INTO meetings (id, kind, titles, start_at, zone, local_start, duration_minutes, "
        "checkin_code, created_by, created_at, round) VALUES (1, 'national', "
        "'{\"es\": \"Reunión\"}', ?, 'America/Toronto', '2026-03-05 10:00', 60, 'C1', 'op', ?, "
        "'R1')",
        at, at,
    )  # fmt: skip
    for member, answer, position, checked in (
        (1, "yes", None, at), (2, "yes", None, None), (3, "maybe", None, None),
        (4, "no", None, None), (5, "yes", 1, None),
    ):  # fmt: skip
        await _sql(
            store,
            "INSERT INTO rsvps (meeting_id, member_id, answer, waitlist_position, answered_at, "
            "checked_in_at) VALUES (1, ?, ?, ?, ?, ?)",
            member, answer, position, at, checked,
        )  # fmt: skip


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[Store]:
    opened = await Store.open(tmp_path / "export.db")
    await seed(opened)
    yield opened
    await opened.close()


@pytest.fixture
def service(store: Store, tmp_path: Path) -> ExportService:
    config = make_config(tmp_path / "export.db", "http://localhost:1")
    return ExportService(store, config, ManualClock(NOW))


def read_csv(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8-sig", newline="") as stream:
        return list(csv.DictReader(stream))


async def test_answers_long_csv_holds_current_answers_and_filters(
    service: ExportService, tmp_path: Path
) -> None:
    out = tmp_path / "long.csv"
    result = await service.export(ExportRequest("answers-long"), "op", STAFF, out)
    rows = read_csv(out)
    # 8 members x 3 questions; the superseded entry is left out.
    assert len(rows) == 24 == result.total
    assert "school" not in {
        r["value"] for r in rows if r["pseudonym"] == "P1" and r["question"] == "priority"
    }
    quebec = tmp_path / "qc.csv"
    await service.export(ExportRequest("answers-long", region="CA-QC"), "op", STAFF, quebec)
    assert {r["region"] for r in read_csv(quebec)} == {"QC"}
    assert len(read_csv(quebec)) == 18
    dated = tmp_path / "dated.csv"
    request = ExportRequest("answers-long", date_from=date(2026, 3, 2), date_to=date(2026, 3, 3))
    await service.export(request, "op", STAFF, dated)
    assert {r["at"][:10] for r in read_csv(dated)} == {"2026-03-02", "2026-03-03"}
    texas = tmp_path / "tx.xlsx"
    await service.export(
        ExportRequest("answers-long", format="xlsx", country="US"), "op", STAFF, texas
    )
    sheet = openpyxl.load_workbook(texas)["answers_long"]
    values = list(sheet.iter_rows(values_only=True))
    assert len(values) == 1 + 6 and {row[14] for row in values[1:]} == {"US"}


async def test_owasp_payloads_come_back_as_text(service: ExportService, tmp_path: Path) -> None:
    out = tmp_path / "long.csv"
    await service.export(ExportRequest("answers-long"), "op", STAFF, out)
    comments = {r["value"] for r in read_csv(out) if r["question"] == "comment"}
    assert "'@SUM(A1)" in comments and "'" + PAYLOADS[0] in comments
    assert all(not value.startswith(("=", "+", "-", "@", "\t", "\r")) for value in comments)
    book = tmp_path / "answers.xlsx"
    await service.export(ExportRequest("answers", format="xlsx", survey_id=1), "op", STAFF, book)
    workbook = openpyxl.load_workbook(book)
    sheet = workbook["answers_diag"]
    header = [c.value for c in sheet[1]]
    column = header.index("Comentario")
    cells = [row[column] for row in sheet.iter_rows(min_row=2)]
    assert PAYLOADS[0] in [cell.value for cell in cells]
    assert all(cell.data_type == "s" for cell in cells if cell.value)
    proposals = tmp_path / "proposals.csv"
    await service.export(ExportRequest("proposals"), "op", STAFF, proposals)
    texts = [row["text"] for row in read_csv(proposals)]
    assert texts[0].startswith("'=cmd") and texts[1:] == ["'" + p for p in PAYLOADS]
    sheet = tmp_path / "proposals.xlsx"
    await service.export(ExportRequest("proposals", format="xlsx"), "op", STAFF, sheet)
    cells = [row[3] for row in openpyxl.load_workbook(sheet)["proposals"].iter_rows(min_row=2)]
    # openpyxl reads a stored carriage return back as its XML escape.
    assert [cell.value.replace("_x000D_", "\r") for cell in cells[1:]] == PAYLOADS
    assert all(cell.data_type == "s" for cell in cells)


async def test_labels_values_and_split_multi(service: ExportService, tmp_path: Path) -> None:
    values = tmp_path / "values.csv"
    request = ExportRequest("answers", survey_id=1, labels=False, multi="split")
    result = await service.export(request, "op", STAFF, values)
    rows = read_csv(values)
    assert result.total == 8 == len(rows)
    header = list(rows[0])
    assert "g1/priority" in header and "needs/a" in header and "needs/b" in header
    first = next(r for r in rows if r["_pseudonym"] == "P1")
    assert first["g1/priority"] == "health" and first["needs"] == "a b"
    assert (first["needs/a"], first["needs/b"]) == ("1", "1")
    third = next(r for r in rows if r["_pseudonym"] == "P3")
    assert (third["needs/a"], third["needs/b"]) == ("0", "1")
    labels = tmp_path / "labels.csv"
    request = ExportRequest("answers", survey_id=1, labels=True, language="en", multi="single")
    await service.export(request, "op", STAFF, labels)
    rows = read_csv(labels)
    assert "Priority" in rows[0] and not any(key.startswith("Needs/") for key in rows[0])
    first = next(r for r in rows if r["_pseudonym"] == "P1")
    assert first["Priority"] == "Health" and first["Needs"] == "Housing; Jobs"


async def test_xlsx_has_readme_dictionary_charts_and_phrases(
    service: ExportService, store: Store, tmp_path: Path
) -> None:
    out = tmp_path / "answers.xlsx"
    request = ExportRequest("answers", format="xlsx", survey_id=1)
    await service.export(request, "op", STAFF, out)
    # k = 5: priority's options (4 and 4) are suppressed, so only "needs" gets a chart.
    suppressed = openpyxl.load_workbook(out)
    assert len(suppressed["Summary diag"]._charts) == 1
    texts = [c for row in suppressed["Summary diag"].iter_rows(values_only=True) for c in row]
    assert "<5" in texts
    config = make_config(tmp_path / "export.db", "http://localhost:1", programme={"min_cell": 3})
    await ExportService(store, config, ManualClock(NOW)).export(request, "op", STAFF, out)
    book = openpyxl.load_workbook(out)
    assert book.sheetnames[0] == "README"
    readme = [c for row in book["README"].iter_rows(values_only=True) for c in row if c]
    assert "Data dictionary" in readme and "Vivienda" in " ".join(map(str, readme))
    summary = next(name for name in book.sheetnames if name.startswith("Summary"))
    # One chart per choice question (priority, needs); the free-text one gets key phrases.
    assert len(book[summary]._charts) == 2
    with zipfile.ZipFile(out) as archive:
        assert len([n for n in archive.namelist() if n.startswith("xl/charts/chart")]) == 2
    phrases = next(name for name in book.sheetnames if name.startswith("Phrases"))
    cells = [c for row in book[phrases].iter_rows(values_only=True) for c in row if c]
    assert "acceso a la salud" in cells


async def test_pii_only_with_the_right_and_refusal_audited(
    service: ExportService, store: Store, tmp_path: Path
) -> None:
    out = tmp_path / "members.csv"
    with pytest.raises(InputError) as refused:
        await service.export(ExportRequest("members", pii=True), "P9", STAFF, out)
    assert refused.value.key == "export.error.pii" and not out.exists()
    entry = (await store.audit.recent(1))[0]
    assert (entry.actor, entry.action) == ("P9", "export_refused")
    assert "pii_without_right" in entry.detail
    await service.export(ExportRequest("members"), "P9", STAFF, out)
    rows = read_csv(out)
    assert "name" not in rows[0] and "email" not in rows[0] and len(rows) == 8
    await service.export(ExportRequest("members", pii=True), "P10", STAFF_PII, out)
    rows = read_csv(out)
    assert rows[0]["name"] == "Name 1" and rows[0]["email"] == "m1@x.org"
    erased = next(r for r in rows if r["pseudonym"] == "P8")
    assert (erased["name"], erased["email"], erased["city"]) == ("", "", "")
    audit = json.loads((await store.audit.recent(1))[0].detail)
    assert audit["pii"] is True and audit["rows"] == 8 and audit["format"] == "csv"


async def test_meetings_counts_and_record_zip(service: ExportService, tmp_path: Path) -> None:
    out = tmp_path / "meetings.csv"
    await service.export(ExportRequest("meetings"), "op", STAFF, out)
    (row,) = read_csv(out)
    assert (row["title"], row["rsvp_yes"], row["rsvp_maybe"], row["rsvp_no"]) == (
        "Reunión", "2", "1", "1",
    )  # fmt: skip
    assert (row["waitlist"], row["attended"]) == ("1", "1")
    record = tmp_path / "record.zip"
    result = await service.export(ExportRequest("record"), "op", STAFF, record)
    with zipfile.ZipFile(record) as archive:
        names = set(archive.namelist())
    assert {"answers_long.csv", "members.csv", "data_dictionary.csv", "README.txt"} <= names
    assert result.rows["answers_long"] == 24


async def test_bad_input(service: ExportService, store: Store, tmp_path: Path) -> None:
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
            await service.export(request, "op", STAFF, out)
        assert error.value.key == key
    assert not out.exists()
    clauses = ClausesService(store, ManualClock(NOW))
    duplicate = "## C1 — A\n### es\nuno\n### en\none\n### fr\nun\n## C1 — B\n### es\nx\n"
    with pytest.raises(InputError) as error:
        await clauses.load(duplicate, "draft.md", "op")
    assert error.value.key == "clauses.error.duplicate"
    missing = '[[clause]]\nid = "C1"\ntext.es = "uno"\ntext.en = "one"\n'
    with pytest.raises(InputError) as error:
        await clauses.load(missing, "draft.toml", "op")
    assert error.value.key == "clauses.error.language"
    assert await clauses.clauses() == []


async def test_evidence_per_clause(service: ExportService, store: Store, tmp_path: Path) -> None:
    clauses = ClausesService(store, ManualClock(NOW))
    text = (
        "Draft policy\n\n## C1 — Health\n### es\nAcceso a la salud\n### en\nHealth access\n"
        "### fr\nAccès à la santé\n\n## C2 — Votes\n### es\nVoto\n### en\nVote\n### fr\nVote\n"
    )
    assert await clauses.load(text, "draft.md", "op") == 2
    found = await store.database.fetch_one("SELECT id FROM record_entries WHERE pseudonym = 'P7'")
    assert found is not None
    answer = found[0]
    assert await clauses.link("C1", "answer", answer, "op")
    assert await clauses.link("C1", "proposal", 1, "op")
    assert await clauses.link("C1", "meeting", 1, "op")
    assert not await clauses.link("C1", "meeting", 1, "op")
    with pytest.raises(InputError):
        await clauses.link("C1", "proposal", 999, "op")
    out = tmp_path / "evidence.xlsx"
    await service.export(ExportRequest("evidence", format="xlsx"), "op", STAFF, out)
    book = openpyxl.load_workbook(out)
    rows = list(book["evidence"].iter_rows(values_only=True))
    header = rows[0]
    items = [dict(zip(header, row, strict=True)) for row in rows[1:]]
    assert [(i["clause_id"], i["kind"]) for i in items] == [
        ("C1", "answer"), ("C1", "meeting"), ("C1", "proposal"), ("C2", "none"),
    ]  # fmt: skip
    assert next(i for i in items if i["kind"] == "answer")["region"] == "TX"
    counts = list(book["evidence_counts"].iter_rows(values_only=True))[1:]
    assert ("C1", "region", "CA-QC", 1) in counts and ("C1", "region", "US-TX", 1) in counts
    assert ("C2", "region", "(no evidence)", 0) in counts


def test_key_phrases_of_spanish_free_text() -> None:
    items = [TextItem(text, "CA", f"P{i}") for i, text in enumerate(COMMENTS)]
    groups = key_phrases(items, language_hint="es", min_group_size=5)
    phrases = {phrase.phrase: phrase.count for phrase in groups["CA"].phrases}
    assert phrases.get("acceso a la salud") == 5


async def test_separate_process_writes_the_same_file_and_audits(
    service: ExportService, store: Store, tmp_path: Path
) -> None:
    request = ExportRequest("answers", format="xlsx", region="CA-QC", language="en")
    here, there = tmp_path / "thread.xlsx", tmp_path / "process.xlsx"
    await service.export(request, "op", STAFF, here)
    result = await service.export(request, "op", STAFF, there, separate_process=True)
    assert result.path == there and result.total == 6
    sheets = [openpyxl.load_workbook(path) for path in (here, there)]
    assert sheets[0].sheetnames == sheets[1].sheetnames
    for name in sheets[0].sheetnames:
        values = [list(book[name].iter_rows(values_only=True)) for book in sheets]
        assert values[0] == values[1], name
    entry = (await store.audit.recent(1))[0]
    assert entry.action == "export" and json.loads(entry.detail)["rows"] == 6


def _folder(path: Path) -> Path:
    path.mkdir()
    (path / "keep").write_text("kept")
    return path


def _listing(folder: Path) -> list[str]:
    """Every file and folder under `folder`, but SQLite's own -wal and -shm files."""
    found = [p for p in folder.rglob("*") if not p.name.endswith(("-wal", "-shm"))]
    return sorted(str(p.relative_to(folder)) for p in found)


async def test_separate_process_refusal_and_failure(
    service: ExportService, store: Store, tmp_path: Path
) -> None:
    await _sql(
        store,
        "INSERT INTO surveys (id, form_id, version, titles, default_language, definition, "
        "source_name, round, status, created_by, created_at) VALUES (2, 'other', 'v1', '{}', "
        "'es', '{}', 'o.xlsx', 'R1', 'open', 'op', ?)",
        NOW.isoformat(),
    )
    await _sql(
        store,
        "INSERT INTO record_entries (kind, pseudonym, survey_id, form_id, form_version, question,"
        " value, at) VALUES ('answer', 'P1', 2, 'other', 'v1', 'x', 'y', ?)",
        NOW.isoformat(),
    )
    out = tmp_path / "wide.csv"
    with pytest.raises(InputError) as refused:
        await service.export(ExportRequest("answers"), "op", STAFF, out, separate_process=True)
    assert refused.value.key == "export.error.survey_needed" and not out.exists()
    assert (await store.audit.recent(1))[0].action == "export_refused"
    # The child writes the whole file, then cannot rename it onto a folder: a failure, and
    # neither the target nor a temporary file is left changed behind.
    taken = tmp_path / "taken.xlsx"
    request = ExportRequest("answers-long", format="xlsx")
    with pytest.raises(ExportFailed) as failed:
        await service.export(request, "op", STAFF, _folder(taken), separate_process=True)
    assert "IsADirectoryError" in failed.value.detail
    assert _listing(tmp_path) == ["export.db", "taken.xlsx", "taken.xlsx/keep"]
    entry = (await store.audit.recent(1))[0]
    assert (entry.actor, entry.action, entry.target) == ("op", "export_failed", "answers-long")


def test_job_travels_as_json(tmp_path: Path) -> None:
    request = ExportRequest(
        "answers", format="xlsx", survey_id=1, date_from=date(2026, 3, 1), pii=True, zone="UTC"
    )
    filters = ExportFilters(survey_id=1, start=NOW, country="CA", region="QC")
    readme = ReadmeInfo("T", "2026-03-10 15:00 UTC", "2026-03-10 10:00 X", [("a", "b")], ["n"])
    job = ExportJob(request, filters, tmp_path / "d.db", tmp_path / "o.xlsx", "fr", 5, readme)
    assert ExportJob.from_json(job.to_json()) == job
