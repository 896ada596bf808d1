"""Staff who send a broken form in chat read every problem, row by row, in their own language;
the command line keeps saying them in English."""

from __future__ import annotations

import io
from pathlib import Path

import openpyxl

from tests.harness import TOKEN, BotUnderTest, Person, add_member
from tests.test_staff_cli_fixes import Capture, consultbot

LABELS = ("label::Español (es)", "label::English (en)", "label::Français (fr)")
# Words of the English problems that must not reach a Spanish or French staff member.
ENGLISH = (
    "sheet",
    "row ",
    "column ",
    "is not a question",
    "is also used",
    "choice list",
    "is not in",
)


def broken_form() -> bytes:
    """A form with three problems: a name used twice (row 3), a choice list that does not exist
    (row 4) and a relevant naming no question (row 5)."""
    book = openpyxl.Workbook()
    survey = book.active
    assert survey is not None
    survey.title = "survey"
    survey.append(["type", "name", *LABELS, "relevant"])
    survey.append(["integer", "age", "Edad", "Age", "Âge", None])
    survey.append(["text", "age", "Ciudad", "City", "Ville", None])
    survey.append(["select_one colours", "colour", "Color", "Colour", "Couleur", None])
    survey.append(["text", "comment", "Comentario", "Comment", "Commentaire", "${nope} = 'x'"])
    choices = book.create_sheet("choices")
    choices.append(["list_name", "name", *LABELS])
    choices.append(["yes_no", "yes", "Sí", "Yes", "Oui"])
    settings = book.create_sheet("settings")
    settings.append(["form_id", "version", "default_language"])
    settings.append(["broken", "1", "es"])
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


async def staff_member(bot: BotUnderTest, telegram_id: int, language: str, name: str) -> Person:
    """A member speaking `language` whom the config admin made staff."""
    username = name.lower()
    await add_member(bot, telegram_id, language, name=name, username=username)
    admin = bot.person(9000, "Admin", "en")
    await admin.send(f"/grant @{username} staff")
    return bot.person(telegram_id, name, language, username=username)


async def send_form(bot: BotUnderTest, person: Person, name: str) -> str:
    update = bot.emulator.send_document(TOKEN, person.id, name, broken_form())
    await bot.processor.wait_done(update, timeout=60)
    return person.last_text()


async def test_a_spanish_staff_member_reads_every_problem_in_spanish(bot: BotUnderTest) -> None:
    jorge = await staff_member(bot, 530, "es", "Jorge")
    answer = await send_form(bot, jorge, "ronda.xlsx")
    assert answer.splitlines() == [
        "❌ Formulario rechazado (3 problemas); no se guardó nada:",
        "• ronda.xlsx, hoja survey, fila 3, columna name: el nombre 'age' ya se usa en la fila 2",
        "• ronda.xlsx, hoja survey, fila 4, columna type: la lista de opciones 'colours' no está"
        " en la hoja choices",
        "• ronda.xlsx, hoja survey, fila 5, columna relevant: ${nope} no es una pregunta de este"
        " formulario",
    ]
    for word in ENGLISH:
        assert word not in answer, word
    assert await bot.store.surveys.listing() == []


async def test_a_french_staff_member_reads_every_problem_in_french(bot: BotUnderTest) -> None:
    chloe = await staff_member(bot, 531, "fr", "Chloe")
    answer = await send_form(bot, chloe, "ronde.xlsx")
    assert answer.splitlines() == [
        "❌ Formulaire refusé (3 problèmes) ; rien n’a été enregistré :",
        "• ronde.xlsx, feuille survey, ligne 3, colonne name : le nom 'age' est déjà utilisé"
        " ligne 2",
        "• ronde.xlsx, feuille survey, ligne 4, colonne type : la liste de choix 'colours' n'est"
        " pas dans la feuille choices",
        "• ronde.xlsx, feuille survey, ligne 5, colonne relevant : ${nope} n'est pas une question"
        " de ce formulaire",
    ]
    for word in ENGLISH:
        assert word not in answer, word


async def test_an_unparsable_expression_and_an_unsupported_type_are_said_in_spanish(
    bot: BotUnderTest,
) -> None:
    book = openpyxl.load_workbook(io.BytesIO(broken_form()))
    survey = book["survey"]
    survey["B3"], survey["A4"] = "city", "begin_repeat"
    survey["F5"] = "${age} >"
    buffer = io.BytesIO()
    book.save(buffer)
    jorge = await staff_member(bot, 532, "es", "Jorge")
    update = bot.emulator.send_document(TOKEN, jorge.id, "ronda.xlsx", buffer.getvalue())
    await bot.processor.wait_done(update, timeout=60)
    answer = jorge.last_text()
    assert (
        "• ronda.xlsx, hoja survey, fila 4, columna type: no se admite el tipo 'begin_repeat':"
        " no se admiten grupos repetidos"
    ) in answer
    assert (
        "• ronda.xlsx, hoja survey, fila 5, columna relevant: no se entiende relevant '${age} >'"
        " en el carácter 9: se esperaba un valor: ${name}, '.', un número, un 'texto', una"
        " función o '(', y se encontró el final de la expresión"
    ) in answer
    for word in ENGLISH:
        assert word not in answer, word


async def test_the_command_line_says_the_same_problems_in_english(
    bot: BotUnderTest, tmp_path: Path, capsys: Capture
) -> None:
    path = tmp_path / "ronda.xlsx"
    path.write_bytes(broken_form())
    assert await consultbot(bot, tmp_path, "surveys", "load", str(path)) == 1
    errors = capsys.readouterr().err
    for line in (
        "error: ronda.xlsx, sheet survey, row 3, column name: name 'age' is also used on row 2",
        "error: ronda.xlsx, sheet survey, row 4, column type: choice list 'colours' is not in"
        " the choices sheet",
        "error: ronda.xlsx, sheet survey, row 5, column relevant: ${nope} is not a question of"
        " this form",
    ):
        assert line in errors
