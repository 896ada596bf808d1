"""Export building blocks: files reopened (csv, openpyxl), formula safety, suppression, phrases."""

from __future__ import annotations

import asyncio
import csv
import json
import zipfile
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from openpyxl import load_workbook
from openpyxl.utils.escape import unescape

from bot.services.exports import (
    Cell,
    Column,
    Dataset,
    KeyphraseSheet,
    ReadmeInfo,
    TextItem,
    fit_for_telegram,
    key_phrases,
    neutralise,
    suppress_counts,
    suppress_options,
    write_csv,
    write_jsonl,
    write_xlsx,
    write_zip_of_csv,
)
from bot.services.exports.keyphrases import tfidf

PAYLOADS = ['=HYPERLINK("http://x","y")', "+1+1", "-2+3", "@SUM(A1)", "\tx", "\rx"]
COLUMNS = [
    Column("id", "Nº", "Submission number", kind="number"),
    Column("region", "Región", "Province or state", choices=(("QC", "Québec"), ("ON", "Ontario"))),
    Column("answer", "Respuesta", "¿Qué necesita su comunidad?", from_user=True),
    Column("submitted", "Enviado (UTC)", kind="datetime"),
    Column("day", "Día", kind="date"),
]
README = ReadmeInfo(
    title="Consulta — answers",
    generated_utc="2025-03-01 15:00 UTC",
    generated_local="2025-03-01 10:00 America/Toronto",
    filters=[("country", "CA"), ("survey", "3")],
)


def rows(count: int, texts: list[str] | None = None) -> Iterator[dict[str, object]]:
    """Generate rows lazily, as a database cursor would."""
    for i in range(count):
        yield {
            "id": i + 1,
            "region": "QC" if i % 2 else "ON",
            "answer": texts[i % len(texts)] if texts else f"Educación y niñez {i}",
            "submitted": datetime(2025, 3, 1, 12, 30, tzinfo=UTC),
            "day": date(2025, 3, 1),
        }


def read_csv(path: Path) -> list[list[str]]:
    with path.open(encoding="utf-8-sig", newline="") as stream:
        return list(csv.reader(stream))


def test_csv_has_bom_header_rows_and_crlf(tmp_path: Path) -> None:
    path = tmp_path / "answers.csv"
    assert write_csv(Dataset("answers", COLUMNS, rows(3)), path) == 3
    raw = path.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    assert raw.count(b"\r\n") == 4
    table = read_csv(path)
    assert table[0] == ["Nº", "Región", "Respuesta", "Enviado (UTC)", "Día"]
    assert table[1] == ["1", "ON", "Educación y niñez 0", "2025-03-01T12:30:00+00:00", "2025-03-01"]
    assert len(table) == 4


def test_csv_without_bom(tmp_path: Path) -> None:
    path = tmp_path / "answers.csv"
    write_csv(Dataset("answers", COLUMNS, rows(1)), path, bom=False)
    assert path.read_bytes().startswith("Nº".encode())


def test_csv_neutralises_every_text_cell_but_never_a_number(tmp_path: Path) -> None:
    path = tmp_path / "answers.csv"
    data = [{"id": 1, "region": "-QC", "answer": payload} for payload in PAYLOADS]
    data.append({"id": 2, "region": "=HYPERLINK(1)", "answer": "-5"})
    data.append({"id": 3, "region": "ON", "answer": "+3.5"})
    write_csv(Dataset("answers", COLUMNS, data), path)
    table = read_csv(path)
    assert [row[2] for row in table[1 : len(PAYLOADS) + 1]] == ["'" + p for p in PAYLOADS]
    # Text staff wrote (a form's labels, its version) is neutralised too; missing keys are empty.
    assert table[1][1] == "'-QC" and table[-2][1] == "'=HYPERLINK(1)"
    assert table[1][3:] == ["", ""]
    # A signed number stays a number.
    assert (table[-2][2], table[-1][2]) == ("-5", "+3.5")


def test_sql_built_csv_lines_follow_the_same_rule() -> None:
    import sqlite3

    from bot.services.exports.columns import LONG_COLUMNS
    from storage.csv_lines import TextColumn, csv_line_sql

    # Staff type a form's id, version and labels: the long export treats them as typed text.
    typed = {column.key for column in LONG_COLUMNS if column.from_user}
    assert {"form_id", "form_version", "question_label", "value_label", "value"} <= typed
    columns = [TextColumn(name="value", from_user=True), TextColumn(name="label", from_user=True)]
    sql = csv_line_sql(columns)
    with sqlite3.connect(":memory:") as connection:
        rows = [("-5", "=HYPERLINK(1)"), ("+2.5", "ok"), ("@SUM(1)", "-QC"), ("-", "a")]
        lines = [
            connection.execute(f"SELECT {sql} FROM (SELECT ? AS value, ? AS label)", r).fetchone()[
                0
            ]
            for r in rows
        ]
    assert [bytes(line).decode() for line in lines] == [
        '"-5","\'=HYPERLINK(1)"\r\n',
        '"+2.5","ok"\r\n',
        '"\'@SUM(1)","\'-QC"\r\n',
        '"\'-","a"\r\n',
    ]


# Cells whose line could differ between the dialects: quotes, NULL, signs, number-like text,
# control characters, line breaks, non-ASCII digits and letters.
TRICKY = [
    *PAYLOADS, "-5", "+2.5", "-1,5", "-2e3", "-.5", "ok", "a=b", "-QC", "-", "+", "=", "@",
    '"', 'a"b', '""', "", None, "--5", "+-", "-e", "-5 ", " -5", "-5\n", "\n-5", "x\ty",
    "line\r\nbreak", "-0x1", "-١٢", "-5%", "-[1]", "-\\5", "-5*", "é—ñ 😀", "-²",
]  # fmt: skip


async def test_sql_built_csv_lines_are_the_same_bytes_on_every_backend(
    database: Path | str,
) -> None:
    """The backend under test builds each line byte for byte as SQLite does (the reference)."""
    import sqlite3

    from storage.csv_lines import TextColumn, csv_line_sql
    from storage.export_connections import open_read_connection

    columns = [
        TextColumn(name="id", text=False),
        TextColumn(name="value", from_user=True),
        TextColumn(name="code"),
    ]
    rows = [(number, cell, cell) for number, cell in enumerate(TRICKY)] + [(None, "x", None)]
    cast = "SELECT CAST(? AS BIGINT) AS id, CAST(? AS TEXT) AS value, CAST(? AS TEXT) AS code"
    with sqlite3.connect(":memory:") as reference:
        sql = csv_line_sql(columns)
        expected = [
            bytes(reference.execute(f"SELECT {sql} FROM ({cast}) AS q", row).fetchone()[0])
            for row in rows
        ]
    if isinstance(database, Path):
        sqlite3.connect(database).close()

    def built() -> list[bytes]:  # in a thread, as exports read: the connection is synchronous
        with open_read_connection(str(database)) as connection:
            sql = csv_line_sql(columns, connection.dialect)
            lines = []
            for row in rows:
                found = connection.execute(f"SELECT {sql} FROM ({cast}) AS q", row).fetchone()
                assert found is not None
                lines.append(bytes(found[0]))
            return lines

    lines = await asyncio.to_thread(built)
    assert lines == expected
    # And the reference is the rule: RFC 4180 quoting, a ' before formulas only.
    assert expected[len(PAYLOADS)] == b'%d,"-5","-5"\r\n' % len(PAYLOADS)
    assert (
        expected[0] == b'0,"\'=HYPERLINK(""http://x"",""y"")","=HYPERLINK(""http://x"",""y"")"\r\n'
    )
    assert expected[-1] == b',"x",""\r\n'


def test_neutralise_leaves_ordinary_text() -> None:
    assert neutralise("acceso a la salud") == "acceso a la salud"
    assert neutralise("") == ""
    assert neutralise("a=b") == "a=b"
    assert all(neutralise(p) == "'" + p for p in PAYLOADS)


def test_jsonl_round_trips_accents_and_dates(tmp_path: Path) -> None:
    path = tmp_path / "answers.jsonl"
    assert write_jsonl(Dataset("answers", COLUMNS, rows(2)), path) == 2
    lines = path.read_text(encoding="utf-8").splitlines()
    assert "niñez" in lines[0]
    first = json.loads(lines[0])
    assert first == {
        "id": 1,
        "region": "ON",
        "answer": "Educación y niñez 0",
        "submitted": "2025-03-01T12:30:00+00:00",
        "day": "2025-03-01",
    }


def test_failed_export_leaves_target_untouched(tmp_path: Path) -> None:
    path = tmp_path / "answers.csv"
    path.write_text("previous export")

    def broken() -> Iterator[dict[str, object]]:
        yield {"id": 1}
        raise RuntimeError("database went away")

    with pytest.raises(RuntimeError):
        write_csv(Dataset("answers", COLUMNS, broken()), path)
    with pytest.raises(RuntimeError):
        write_xlsx(tmp_path / "answers.xlsx", [Dataset("answers", COLUMNS, broken())], README)
    assert path.read_text() == "previous export"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["answers.csv"]


def test_xlsx_keeps_payloads_as_text_and_accents(tmp_path: Path) -> None:
    path = tmp_path / "answers.xlsx"
    write_xlsx(path, [Dataset("answers", COLUMNS, rows(len(PAYLOADS), PAYLOADS))], README)
    sheet = load_workbook(path)["answers"]
    cells = [row[2] for row in sheet.iter_rows(min_row=2)]
    # xlsxwriter stores a CR as the OOXML escape _x000D_, which Excel decodes but openpyxl's
    # inline-string reader leaves as is.
    assert [unescape(cell.value) for cell in cells] == PAYLOADS
    assert {cell.data_type for cell in cells} == {"s"}
    header = [cell.value for cell in sheet[1]]
    assert header == ["Nº", "Región", "Respuesta", "Enviado (UTC)", "Día"]
    assert sheet[1][0].font.b
    assert sheet.freeze_panes == "A2"
    assert sheet["A2"].value == 1 and sheet["A2"].data_type == "n"
    assert sheet["D2"].value == datetime(2025, 3, 1, 12, 30)  # noqa: DTZ001
    assert sheet.column_dimensions["C"].width > sheet.column_dimensions["A"].width


def test_xlsx_rolls_over_at_the_row_limit(tmp_path: Path) -> None:
    path = tmp_path / "answers.xlsx"
    counts = write_xlsx(path, [Dataset("answers", COLUMNS, rows(25))], README, max_rows=10)
    assert counts == {"answers": 25}
    book = load_workbook(path)
    assert book.sheetnames == ["README", "answers", "answers (2)", "answers (3)"]
    sizes = [book[name].max_row for name in book.sheetnames[1:]]
    assert sizes == [10, 10, 8]  # 9 + 9 + 7 rows under their headers
    ids = [
        row[0] for name in book.sheetnames[1:] for row in book[name].iter_rows(2, values_only=True)
    ]
    assert ids == list(range(1, 26))
    assert all(book[name]["C1"].value == "Respuesta" for name in book.sheetnames[1:])


def test_xlsx_readme_sheet(tmp_path: Path) -> None:
    path = tmp_path / "answers.xlsx"
    members = Dataset("members", [Column("pseudonym", "Seudónimo")], iter([{"pseudonym": "P-1"}]))
    write_xlsx(path, [Dataset("answers", COLUMNS, rows(4)), members], README)
    book = load_workbook(path)
    assert book.sheetnames[0] == "README"
    values = [row for row in book["README"].iter_rows(values_only=True)]
    flat = [str(v) for row in values for v in row if v is not None]
    assert flat[0] == "Consulta — answers"
    assert "2025-03-01 15:00 UTC" in flat and "2025-03-01 10:00 America/Toronto" in flat
    assert tuple(next(r for r in values if r[0] == "country")[:2]) == ("country", "CA")
    assert next(r for r in values if r[0] == "answers")[1] == 4
    assert next(r for r in values if r[0] == "members")[1] == 1
    answer_entry = next(r for r in values if r[0] == "answers" and r[1] == "answer")
    assert answer_entry[2:5] == ("Respuesta", "¿Qué necesita su comunidad?", "text")
    region_entry = next(r for r in values if r[1] == "region")
    assert region_entry[5] == "QC = Québec; ON = Ontario"


def test_xlsx_keyphrase_sheet(tmp_path: Path) -> None:
    path = tmp_path / "answers.xlsx"
    groups = key_phrases(SPANISH, "es", min_group_size=5)
    sheet_info = KeyphraseSheet("¿Qué necesita?", "Province/state", groups)
    write_xlsx(path, [Dataset("answers", COLUMNS, rows(1))], README, None, [sheet_info])
    book = load_workbook(path)
    sheet = book[book.sheetnames[-1]]
    data = list(sheet.iter_rows(min_row=5, values_only=True))
    assert ("QC", 6, "acceso a la salud", 4) in {row[:4] for row in data}
    assert next(row for row in data if row[0] == "ON")[1:3] == ("<5", "(too few answers to show)")


def test_zip_of_csv_holds_datasets_dictionary_and_readme(tmp_path: Path) -> None:
    path = tmp_path / "record.zip"
    members = Dataset("members", [Column("pseudonym", "Seudónimo")], iter([{"pseudonym": "P-1"}]))
    counts = write_zip_of_csv([Dataset("answers", COLUMNS, rows(3)), members], None, path, README)
    assert counts == {"answers": 3, "members": 1}
    with zipfile.ZipFile(path) as archive:
        assert sorted(archive.namelist()) == [
            "README.txt",
            "answers.csv",
            "data_dictionary.csv",
            "members.csv",
        ]
        answers = archive.read("answers.csv")
        assert answers.startswith(b"\xef\xbb\xbf")
        table = list(csv.reader(answers.decode("utf-8-sig").splitlines()))
        assert table[0][1] == "Región" and len(table) == 4
        dictionary = list(
            csv.reader(archive.read("data_dictionary.csv").decode("utf-8-sig").splitlines())
        )
        assert dictionary[0][:3] == ["dataset", "column", "header"]
        assert ["members", "pseudonym", "Seudónimo", "", "text", ""] in dictionary
        readme = archive.read("README.txt").decode()
        assert "answers.csv: 3 rows" in readme and "country: CA" in readme


def test_fit_for_telegram_zips_then_splits(tmp_path: Path) -> None:
    small = tmp_path / "small.csv"
    small.write_text("a,b\r\n")
    assert fit_for_telegram(small, limit_bytes=100) == [small]
    repetitive = tmp_path / "big.csv"
    repetitive.write_text("same line\r\n" * 1000)
    assert fit_for_telegram(repetitive, limit_bytes=2000) == [tmp_path / "big.csv.zip"]
    noise = tmp_path / "noise.xlsx"
    content = bytes((i * 7919) % 251 for i in range(5000))
    noise.write_bytes(content)
    parts = fit_for_telegram(noise, limit_bytes=2000)
    assert [p.name for p in parts] == ["noise.xlsx.001", "noise.xlsx.002", "noise.xlsx.003"]
    assert all(p.stat().st_size <= 2000 for p in parts)
    assert b"".join(p.read_bytes() for p in parts) == content


def test_primary_and_secondary_suppression_one_question() -> None:
    cells = suppress_options({"a": 10, "b": 3, "c": 7, "d": 0, "e": 12}, k=5)
    assert cells["b"] == Cell(None, None, True)
    # The next smallest non-zero cell is hidden, not the zero.
    assert cells["c"] == Cell(None, None, True)
    assert cells["d"] == Cell(0, 0.0, False)
    assert cells["a"] == Cell(10, 10 / 32, False)
    assert suppress_options({"a": 10, "b": 8}, k=5) == {
        "a": Cell(10, 10 / 18, False),
        "b": Cell(8, 8 / 18, False),
    }
    # Two small cells protect each other: nothing more is hidden.
    two = suppress_options({"a": 10, "b": 2, "c": 3, "d": 9}, k=5)
    assert [label for label, cell in two.items() if cell.suppressed] == ["b", "c"]
    assert suppress_options({"a": 4, "b": 6}, k=5, total=12)["b"] == Cell(None, None, True)


def test_secondary_suppression_in_two_dimensions() -> None:
    table: dict[tuple[str, ...], int] = {
        ("QC", "yes"): 2,
        ("QC", "no"): 20,
        ("ON", "yes"): 30,
        ("ON", "no"): 40,
        ("BC", "yes"): 15,
        ("BC", "no"): 11,
    }
    cells = suppress_counts(table, k=5)
    hidden = {key for key, cell in cells.items() if cell.suppressed}
    # QC/yes is small; QC/no protects it in its row; BC (the smallest other "yes") in the column,
    # and then BC/no in BC's row: every row and column now hides none or at least two cells.
    assert hidden == {("QC", "yes"), ("QC", "no"), ("BC", "yes"), ("BC", "no")}
    assert cells[("ON", "yes")] == Cell(30, 30 / 70, False)
    for fixed in (0, 1):
        lines: dict[str, int] = {}
        for key in hidden:
            lines[key[fixed]] = lines.get(key[fixed], 0) + 1
        assert 1 not in lines.values()


def test_suppression_threshold_edges() -> None:
    assert not any(c.suppressed for c in suppress_options({"a": 5, "b": 0}, k=5).values())
    assert all(c.suppressed for c in suppress_options({"a": 4, "b": 1}, k=5).values())
    with pytest.raises(ValueError):
        suppress_options({"a": -1}, k=5)


SPANISH = [
    TextItem("Necesitamos acceso a la salud para las familias.", "QC", "P-01"),
    TextItem("El acceso a la salud es difícil sin seguro.", "QC", "P-02"),
    TextItem("Más acceso a la salud y cursos de francés.", "QC", "P-03"),
    TextItem("Acceso a la Salud: es lo primero.", "QC", "P-04"),
    TextItem("Cursos de francés gratuitos, por favor.", "QC", "P-05"),
    TextItem("Vivienda digna y empleo.", "QC", "P-06"),
    TextItem("Acceso a la salud, también aquí.", "ON", "P-07"),
    TextItem("Empleo formal.", "ON", "P-08"),
]


def test_key_phrases_find_the_recurring_phrase_with_count_and_examples() -> None:
    groups = key_phrases(SPANISH, "es", top=5, min_group_size=5, examples=2)
    quebec = groups["QC"]
    assert quebec.answers == 6 and not quebec.suppressed
    top = quebec.phrases[0]
    assert top.phrase == "acceso a la salud"
    assert top.count == 4
    assert top.examples == (
        ("P-01", "Necesitamos acceso a la salud para las familias."),
        ("P-02", "El acceso a la salud es difícil sin seguro."),
    )
    phrases = {p.phrase: p.count for p in quebec.phrases}
    assert phrases.get("cursos de francés") == 2
    # "acceso" and "salud" alone add nothing to "acceso a la salud"; stop words never stand alone.
    assert "acceso" not in phrases and "salud" not in phrases and "la" not in phrases
    assert groups["ON"].suppressed and groups["ON"].answers is None and groups["ON"].phrases == ()


def test_key_phrases_are_accent_insensitive_and_deterministic() -> None:
    texts = [
        TextItem(text, "CA", f"P-{i}")
        for i, text in enumerate(
            ["Educación bilingüe", "educacion bilingue ya", "EDUCACIÓN BILINGÜE", "Otra cosa"]
        )
    ]
    first = key_phrases(texts, None, min_group_size=2)
    assert first == key_phrases(list(texts), None, min_group_size=2)
    top = first["CA"].phrases[0]
    assert (top.phrase, top.count) == ("educación bilingüe", 3)


def test_key_phrases_without_recurring_terms() -> None:
    texts = [TextItem(text, "US", "P") for text in ["uno dos", "tres cuatro", "cinco seis"]]
    assert key_phrases(texts, "es", min_group_size=1)["US"].phrases == ()
    with pytest.raises(ValueError):
        key_phrases(texts, "de")


def test_tfidf_matches_scikit_learn() -> None:
    sklearn_text = pytest.importorskip("sklearn.feature_extraction.text")
    docs = [["acceso salud", "salud"], ["salud", "empleo"], ["empleo", "empleo", "vivienda"], []]
    weights, vocabulary = tfidf(docs)
    vectorizer = sklearn_text.TfidfVectorizer(analyzer=lambda d: d, min_df=2, lowercase=False)
    matrix = vectorizer.fit_transform(docs).toarray()
    assert vocabulary == list(vectorizer.get_feature_names_out()) == ["empleo", "salud"]
    for row, found in zip(matrix, weights, strict=True):
        expected = {t: float(w) for t, w in zip(vocabulary, row, strict=True) if w}
        assert found.keys() == expected.keys()
        assert all(abs(found[t] - expected[t]) < 1e-12 for t in found)
    # No term in two documents: every term is kept (min_df 1).
    assert tfidf([["a"], ["b"]])[1] == ["a", "b"]
