"""Issue 16's "done when": the example form, twelve members answering in three languages in chat,
and the workbook a French-speaking staff member gets from /export, opened as an analyst would."""

from __future__ import annotations

import re
import zipfile
from io import BytesIO

import openpyxl

from bot.services.xlsform import Question
from tests.harness import TOKEN, Person, add_member
from tests.survey_fixture import EXPORTED_AT, RESPONDENTS, Answered

SELECTS = ("select_one", "select_multiple")


async def french_staff(answered: Answered) -> Person:
    bot = answered.bot
    await add_member(
        bot,
        700,
        "fr",
        name="Zoé",
        username="zoe",
        country="CA",
        region="QC",
        time_zone="America/Toronto",
    )
    admin = bot.person(9000, "Admin", "en")
    await admin.send("/grant @zoe staff")
    assert "granted" in admin.last_text()
    return bot.person(700, "Zoé", "fr", username="zoe")


async def workbook_from_chat(answered: Answered) -> tuple[str, bytes]:
    """Zoé presses /export's buttons: answers, the survey, everything, Excel, labels."""
    zoe, plain = await french_staff(answered), answered.bot.services.texts.plain
    await zoe.send("/export")
    await zoe.press(plain("fr", "export.dataset.answers"))
    await zoe.press(f"#{answered.survey_id} ")
    await zoe.press(plain("fr", "export.filter.none"))
    await zoe.press(plain("fr", "export.format.xlsx"))
    await zoe.press(plain("fr", "export.labels.labels"))
    state = answered.bot.emulator.bot(TOKEN)
    [sent] = [m for m in zoe.transcript() if m.direction == "out" and m.document]
    assert sent.document is not None
    # Under the file: what it holds, in her language (12 submissions, no filter).
    assert sent.text == "Réponses (une ligne par envoi) · 12 lignes · Tout (sans filtre)"
    name, content = state.files[sent.document["file_id"]]
    return name, content


def answerable(answered: Answered) -> list[Question]:
    return list(answered.form.answerable_questions())


async def test_the_analysts_workbook(answered: Answered) -> None:
    name, content = await workbook_from_chat(answered)
    # Named <form_id>_<dataset>_<the staff member's local day, from the bot's clock>.
    assert name == f"consultation_round1_answers_{EXPORTED_AT:%Y-%m-%d}.xlsx"
    book = openpyxl.load_workbook(BytesIO(content))
    assert book.sheetnames == [
        "README", "answers_consultation_round1", "Summary consultation_round1", "Dictionary",
        "Phrases vote_problem",
    ]  # fmt: skip
    form = answered.form

    # Answers: French labels as headers in the form's order, one column per choice.
    rows = list(book["answers_consultation_round1"].iter_rows())
    header = [cell.value for cell in rows[0]]
    # Times in Zoé's own zone, named in the header.
    assert header[:3] == ["start (America/Toronto)", "end (America/Toronto)", "today"]
    labels = [q.label("fr") for q in answerable(answered)]
    assert [h for h in header if h in labels] == labels
    themes = form.question("themes")
    assert themes is not None
    for choice in form.choices("themes"):
        assert f"{themes.label('fr')}/{choice.label('fr')}" in header
    column = {text: index for index, text in enumerate(header)}
    assert len(rows) == 1 + len(RESPONDENTS)
    country = column["Dans quel pays vivez-vous ?"]
    assert {row[country].value for row in rows[1:]} == {"Canada", "États-Unis"}
    assert "Québec" in {row[column["Province ou État ?"]].value for row in rows[1:]}
    years = column["Depuis combien d'années vivez-vous à l'étranger ?"]
    assert all(row[years].data_type == "n" for row in rows[1:])
    assert sorted(row[years].value for row in rows[1:]) == sorted(int(w.years) for w in RESPONDENTS)
    share = [row[column[form.question("remittance_share").label("fr")]] for row in rows[1:]]  # type: ignore[union-attr]
    assert {cell.data_type for cell in share if cell.value is not None} == {"n"}
    assert 15.5 in {cell.value for cell in share}
    visits = [row[column[form.question("consular_visit").label("fr")]] for row in rows[1:]]  # type: ignore[union-attr]
    assert all(cell.is_date for cell in visits if cell.value is not None)
    assert all(row[0].is_date and row[column["today"]].is_date for row in rows[1:])
    vote = column[f"{themes.label('fr')}/{form.choices('themes')[0].label('fr')}"]
    assert sorted(row[vote].value for row in rows[1:]) == sorted(
        int("vote" in who.themes) for who in RESPONDENTS
    )

    # The dictionary: every question, and every choice with its label in each language.
    dictionary = list(book["Dictionary"].iter_rows(values_only=True))
    heading = dictionary[0]
    languages = [heading.index(f"Libellé ({code})") for code in ("es", "en", "fr")]
    listed = {(row[2], row[4]): row for row in dictionary[1:]}
    for question in answerable(answered):
        assert listed[(question.name, question.list_name)][3] == question.type
    for list_name, choices in form.choice_lists:
        for choice in choices:
            row = listed[(choice.name, list_name)]
            assert [row[i] for i in languages] == [
                choice.label(code) for code in ("es", "en", "fr")
            ]

    # The summary: counts by country, small cells hidden and marked, a chart per select question.
    summary = list(book["Summary consultation_round1"].iter_rows(values_only=True))
    by_label = {row[0]: row[1:5] for row in summary if row[0]}
    canada = next(c.label("fr") for c in form.choices("country") if c.name == "CA")
    assert by_label[canada][:3] == (7, 0, 7)
    ontario = next(c.label("fr") for c in form.choices("region") if c.name == "ON")
    assert by_label[ontario][:3] == ("<5", 0, "<5")
    assert sum(1 for row in summary for cell in row if cell == "<5") >= 10
    with zipfile.ZipFile(BytesIO(content)) as archive:
        charts = [
            archive.read(n).decode()
            for n in archive.namelist()
            if re.match(r"xl/charts/chart\d+\.xml$", n)
        ]
    selects = [q for q in answerable(answered) if q.type in SELECTS]
    for question in selects:
        assert sum(question.label("fr") in chart for chart in charts) == 1, question.name
    bars = [chart for chart in charts if '<c:barDir val="bar"/>' in chart]
    assert len(bars) == len(selects)
    # Choices read top-down in the form's order: the category axis runs max to min, the values
    # axis left to right as usual.
    for chart in bars:
        category_axis = chart.split("<c:catAx>")[1].split("</c:catAx>")[0]
        value_axis = chart.split("<c:valAx>")[1].split("</c:valAx>")[0]
        assert '<c:orientation val="maxMin"/>' in category_axis
        assert '<c:orientation val="maxMin"/>' not in value_axis
    # The rating's histogram: its one bar of 5 or more (3, chosen by five members) is drawn.
    assert any("Notez les services consulaires" in chart for chart in charts)

    # README in the staff member's language.
    readme = [cell for row in book["README"].iter_rows(values_only=True) for cell in row if cell]
    assert "Généré (UTC)" in readme and "Contenu de chaque feuille" in readme
