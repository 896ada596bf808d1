"""Forms that try to take the bot down, or that a member could not answer, are refused at load
(each naming the limit and, where there is one, the row); the rest runs within a budget."""

from __future__ import annotations

import asyncio
import time
from datetime import date
from pathlib import Path

import pytest

from bot.services.xlsform import load_xlsform, parse_expression, parse_sheets
from bot.services.xlsform.expressions import Budget, BudgetExceeded
from bot.services.xlsform.limits import CELL_CHARS, CHOICE_LABEL, PASS_STEPS, QUESTION_TEXT
from bot.services.xlsform.model import FormError
from bot.services.xlsform.sandbox import read_form_file
from storage.models import AudienceFilter
from tests.harness import TOKEN, BotUnderTest, Person, add_member
from tests.hostile_files import (
    EVIL_REGEX,
    corrupt_xml,
    form_xlsx,
    junk_sheets,
    label_bomb,
    rewrite,
    simple_form,
    with_dimension,
    wordy_form,
)

TODAY = date(2025, 6, 1)
ADMIN = 9000


def load(tmp_path: Path, content: bytes, name: str = "form.xlsx") -> list[FormError]:
    path = tmp_path / name
    path.write_bytes(content)
    return load_xlsform(path).errors


def keys(errors: list[FormError]) -> list[str]:
    return [error.key for error in errors]


# --- 1. regexes and the budget --------------------------------------------------------------------


def test_a_backtracking_regex_answers_at_once_and_unicode_letters_still_match() -> None:
    rule = parse_expression(EVIL_REGEX)
    started = time.perf_counter()
    assert not rule.test({}, "a" * 27 + "!", today=TODAY)
    assert not rule.test({}, "a" * 3999 + "!", today=TODAY)
    assert time.perf_counter() - started < 0.5
    # RE2's \w is ASCII; the form's rule must keep its meaning for "José Pérez" and digits.
    assert rule.test({}, "José Pérez", today=TODAY)
    assert parse_expression(r"regex(., '^\d{3}$')").test({}, "١٢٣", today=TODAY)
    assert parse_expression(r"regex(., '^[\w-]+$')").test({}, "Ñandú-2", today=TODAY)
    assert not parse_expression(r"regex(., '^\S+$')").test({}, "a b", today=TODAY)


def test_a_pattern_the_engine_cannot_run_is_refused_at_load_naming_the_row() -> None:
    parsed = parse_sheets(
        {
            "survey": [
                {"type": "text", "name": "a", "label": "A"},
                {"type": "text", "name": "b", "label": "B", "constraint": r"regex(., '(x)\1')"},
            ]
        },
        "t.xlsx",
    )
    assert parsed.form is None
    (error,) = parsed.errors
    assert (error.row, error.column) == (3, "constraint")
    assert "back-references" in error.problem


def test_the_budget_stops_an_evaluation_and_names_the_row() -> None:
    rule = parse_expression("string-length(concat(., ., ., .)) > 3")
    rule = type(rule)(rule.text, rule.root, row=17)
    with pytest.raises(BudgetExceeded) as stopped:
        rule.test({}, "abc", today=TODAY, budget=Budget(steps=3))
    assert stopped.value.row == 17 and "row 17" in str(stopped.value)
    # The deadline: a timer that has moved past it stops the next check.
    ticks = iter([0.0] + [10.0] * 1000)
    slow = Budget(steps=10**9, seconds=1.0, timer=lambda: next(ticks))
    with pytest.raises(BudgetExceeded):
        for _ in range(1000):
            slow.spend()


def test_expressions_take_the_date_they_are_given_never_the_machines() -> None:
    rule = parse_expression(". <= today()")
    assert rule.test({}, "2031-12-31", today=date(2032, 1, 1))
    assert not rule.test({}, "2031-12-31", today=date(2031, 1, 1))
    with pytest.raises(TypeError):
        rule.test({}, "2031-12-31")  # type: ignore[call-arg]


def test_a_form_whose_conditions_cost_too_much_per_answer_is_refused_naming_the_row() -> None:
    survey = [{"type": "text", "name": "q0", "label": "First"}]
    survey += [
        {"type": "note", "name": f"n{n}", "label": "x", "relevant": "regex(${q0}, '^[a-z]+$')"}
        for n in range(1, 1000)
    ]
    parsed = parse_sheets({"survey": survey}, "t.xlsx")
    (error,) = parsed.errors
    assert error.key == "survey.load.pass_cost" and error.column == "relevant"
    assert error.row is not None and 2 < error.row < 1000
    assert f"the limit is {PASS_STEPS}" in error.problem
    # Without regexes, a thousand conditions are far from it.
    for row in survey[1:]:
        row["relevant"] = "${q0} != 'x'"
    assert parse_sheets({"survey": survey}, "t.xlsx").errors == []


# --- 2 and 3. the file: bombs, junk, damage -------------------------------------------------------


def test_a_label_bomb_is_refused_from_the_zip_directory_at_once(tmp_path: Path) -> None:
    content = label_bomb(120)
    assert len(content) < 1 << 20
    started = time.perf_counter()
    errors = load(tmp_path, content)
    assert keys(errors) == ["survey.load.unpacked"]
    assert "the limit is 100.0 MB" in errors[0].problem
    assert time.perf_counter() - started < 1


def test_junk_sheets_beside_the_form_are_never_read(tmp_path: Path) -> None:
    # Their XML is broken: reading any of them would fail the load.
    content = junk_sheets(8, 300, 60, broken=True)
    path = tmp_path / "junk.xlsx"
    path.write_bytes(content)
    loaded = load_xlsform(path)
    assert loaded.errors == [] and loaded.form is not None
    assert [q.name for q in loaded.form.questions] == ["q1", "q2"]


def test_sheet_dimensions_and_cells_beyond_the_limits_are_refused(tmp_path: Path) -> None:
    wide = with_dimension(form_xlsx(simple_form()), "A1:XFD1048576")
    errors = load(tmp_path, wide)
    assert keys(errors) == ["survey.load.dimension"]
    params = dict(errors[0].params)
    assert (errors[0].sheet, params["rows"], params["columns"]) == ("survey", "1048576", "16384")
    long_cell = form_xlsx(simple_form(hint="h" * (CELL_CHARS + 1)))
    errors = load(tmp_path, long_cell)
    assert [(e.key, e.row, e.column) for e in errors] == [("survey.load.cell", 2, "hint")]


def test_a_damaged_file_is_refused_naming_the_file_not_something_went_wrong(
    tmp_path: Path,
) -> None:
    good = form_xlsx(simple_form())
    errors = load(tmp_path, corrupt_xml(good), "ronda.xlsx")
    assert keys(errors) == ["survey.load.damaged"]
    assert str(errors[0]).startswith("ronda.xlsx: the file is damaged (survey: ParseError")
    broken_workbook = rewrite(good, {"xl/workbook.xml": lambda _: b"<workbook"})
    assert keys(load(tmp_path, broken_workbook)) == ["survey.load.damaged"]
    truncated = good[: len(good) // 2]
    assert keys(load(tmp_path, truncated)) == ["survey.load.not_xlsx"]


def test_the_reader_process_is_held_to_its_memory_and_time(tmp_path: Path) -> None:
    path = tmp_path / "form.xlsx"
    path.write_bytes(wordy_form(1000, 2000))
    read = read_form_file(path, "form.xlsx", memory=2 << 20)
    assert (read.sheets, keys(read.errors), read.summary) == ({}, ["survey.load.memory"], None)
    assert "more than 2 MB of memory" in read.errors[0].problem
    read = read_form_file(path, "form.xlsx")
    assert read.errors == [] and len(read.sheets["survey"]) == 1000
    assert read.summary is not None and read.summary.form_id == "wordy"
    path.write_bytes(form_xlsx(simple_form()))
    read = read_form_file(path, "form.xlsx", seconds=0.01)
    assert (read.sheets, keys(read.errors)) == ({}, ["survey.load.time"])
    # Processor time: a limit of 0 s is reached at once (SIGXCPU), whatever the machine's load.
    read = read_form_file(path, "form.xlsx", cpu_seconds=0)
    assert (read.sheets, keys(read.errors)) == ({}, ["survey.load.cpu"])
    read = read_form_file(path, "form.xlsx")
    assert read.errors == [] and [row["name"] for row in read.sheets["survey"]] == ["q1", "q2"]


def test_checking_a_form_is_bounded_by_the_reader_limits_too(tmp_path: Path) -> None:
    # 4,999 select_multiple questions over one 4,999-choice list, each with its own default:
    # valid and within every size limit, but seconds of checking, which the reader does.
    choices = [{"list_name": "l", "name": f"c{n}", "label": f"C{n}"} for n in range(4999)]
    survey = [
        {"type": "select_multiple l", "name": f"q{n}", "label": "x", "default": f"c{n}"}
        for n in range(4999)
    ]
    path = tmp_path / "slow.xlsx"
    path.write_bytes(form_xlsx({"survey": survey, "choices": choices}))
    read = read_form_file(path, "slow.xlsx", cpu_seconds=1)
    assert keys(read.errors) == ["survey.load.cpu"] and read.summary is None


# --- 4. what Telegram cannot show -----------------------------------------------------------------


def test_texts_telegram_cannot_show_are_refused_with_their_row_long_lists_are_not() -> None:
    choices = [{"list_name": "many", "name": f"c{n}", "label": f"Choice {n}"} for n in range(4900)]
    choices[7]["label"] = "x" * (CHOICE_LABEL + 1)
    survey = [
        {"type": "select_one many", "name": "pick", "label": "Pick one"},
        {"type": "note", "name": "long", "label": "L" * 3000, "hint": "H" * 900},
    ]
    parsed = parse_sheets({"survey": survey, "choices": choices}, "t.xlsx")
    assert [(e.key, e.sheet, e.row) for e in parsed.errors] == [
        ("survey.load.question_text", "survey", 3),
        ("survey.load.choice_label", "choices", 9),
    ]
    assert f"the limit is {QUESTION_TEXT}" in parsed.errors[0].problem
    choices[7]["label"] = "Choice 7"
    survey[1]["hint"] = "short"
    parsed = parse_sheets({"survey": survey, "choices": choices}, "t.xlsx")
    assert parsed.errors == [] and parsed.form is not None
    assert len(parsed.form.choices("many")) == 4900


# --- through chat ---------------------------------------------------------------------------------


def recent(person: Person, count: int = 2) -> str:
    """The bot's last messages to this person (a refusal comes above the question asked again)."""
    sent = [m.text or "" for m in person.transcript() if m.direction == "out"]
    return "\n".join(sent[-count:])


async def upload(bot: BotUnderTest, name: str, content: bytes) -> str:
    """Staff send a form file in chat; the bot's answer."""
    admin = bot.person(ADMIN, "Admin", "es")
    update = bot.emulator.send_document(TOKEN, ADMIN, name, content)
    await bot.processor.wait_done(update, timeout=20)
    return admin.last_text()


async def test_a_member_typing_the_pathological_answer_holds_nobody_else(
    bot: BotUnderTest,
) -> None:
    sheets = simple_form("names", constraint=EVIL_REGEX)
    sheets["survey"][0]["constraint_message"] = "Letters and spaces only"
    answer = await upload(bot, "names.xlsx", form_xlsx(sheets))
    assert "#1" in answer, answer
    await add_member(bot, 501, "en")
    await add_member(bot, 502, "en")
    await bot.services.surveys.open(1, AudienceFilter())
    ana, other = Person(bot, 501), Person(bot, 502)
    await ana.send("/surveys")
    await ana.press("Start")
    assert "Your name" in ana.last_text()

    loop = asyncio.get_running_loop()
    evil = bot.emulator.send_text(TOKEN, 501, "a" * 27 + "!")
    started = loop.time()
    helped = bot.emulator.send_text(TOKEN, 502, "/help")
    await bot.processor.wait_done(helped, timeout=30)
    help_seconds = loop.time() - started
    await bot.processor.wait_done(evil, timeout=30)
    assert help_seconds < 2.0  # 13.9 s before RE2, on an idle machine
    assert "/help" in other.last_text() and "Letters and spaces only" in recent(ana)
    await ana.send("José Pérez")
    assert "Anything else?" in ana.last_text()


async def test_a_bomb_sent_in_chat_is_refused_in_the_senders_language(bot: BotUnderTest) -> None:
    started = time.perf_counter()
    answer = await upload(bot, "bomba.xlsx", label_bomb(120))
    assert time.perf_counter() - started < 5
    assert "Formulario rechazado" in answer
    assert "bomba.xlsx: descomprimido, el archivo ocuparía 120.0 MB; el límite es 100.0 MB" in (
        answer
    )
    assert await bot.services.surveys.listing() == []
    answer = await upload(bot, "dañado.xlsx", corrupt_xml(form_xlsx(simple_form())))
    assert "dañado.xlsx, hoja survey" not in answer and "dañado.xlsx: el archivo está dañado" in (
        answer
    )


async def test_control_characters_in_a_text_answer_are_refused(bot: BotUnderTest) -> None:
    await upload(bot, "f.xlsx", form_xlsx(simple_form("ctl")))
    await add_member(bot, 503, "en")
    await bot.services.surveys.open(1, AudienceFilter())
    bea = Person(bot, 503)
    await bea.send("/surveys")
    await bea.press("Start")
    for typed in ("Bea\x00", "Bea\x1b[31m", "Bea\u202e"):
        await bea.send(typed)
        assert "control characters" in recent(bea)
    assert await bot.services.surveys.answers(1, 1) == {}
    await bea.send("  Bea   Ruiz\nsegunda   línea ")
    stored = await bot.services.surveys.answers(1, 1)
    assert stored["q1"].value == "Bea Ruiz\nsegunda línea"
