"""The XLSForm layer: loading, refusing, expressions and answer rules (pure, no Telegram)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.services.xlsform import (
    ExpressionError,
    Form,
    ParsedForm,
    default_value,
    is_relevant,
    load_xlsform,
    parse_expression,
    parse_sheets,
    relevant_questions,
    validate_answer,
    visible_choices,
)

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
TODAY = date(2025, 6, 1)


def example() -> Form:
    parsed = load_xlsform(EXAMPLES / "consultation_round1.xlsx")
    assert parsed.errors == []
    assert parsed.form is not None
    return parsed.form


def sheets(survey: Sequence[Mapping[str, object]],
           choices: Sequence[Mapping[str, object]] | None = None,
           settings_row: Mapping[str, object] | None = None) -> ParsedForm:  # fmt: skip
    data: dict[str, Sequence[Mapping[str, object]]] = {"survey": survey}
    if choices is not None:
        data["choices"] = choices
    data["settings"] = [settings_row or {"form_id": "t", "version": "1"}]
    return parse_sheets(data, "t.xlsx")


def lab(text: str, langs: tuple[str, ...] = ("es", "en")) -> dict[str, object]:
    return {f"label::{code}": f"{text} {code}" for code in langs}


def problems(parsed: ParsedForm) -> list[tuple[str, int | None, str | None, str]]:
    return [(e.sheet, e.row, e.column, e.problem) for e in parsed.errors]


# --- loading the example --------------------------------------------------------------------------


def test_example_form_loads_in_three_languages_with_every_supported_type() -> None:
    form = example()
    assert (form.form_id, form.version) == ("consultation_round1", "2025-1")
    assert form.languages == ("es", "en", "fr")
    assert form.default_language == "es"
    assert form.title("fr") == "Consultation de la diaspora — ronde 1"
    types = {q.type for q in form.questions}
    assert types == {
        "note", "acknowledge", "select_one", "select_multiple", "integer", "date", "text",
        "range", "decimal",
    }  # fmt: skip
    assert [(m.name, m.from_chat) for m in form.metadata] == [
        ("start", True), ("end", True), ("today", True), ("deviceid", False),
    ]  # fmt: skip
    years = form.question("years_abroad")
    assert years is not None
    assert years.headings("en") == ("Your situation",)
    assert years.label("fr").startswith("Depuis combien")
    assert years.label("pt") == years.label("es")  # unknown language → default language
    # The hint says why the form asks, and that it does not ask about status (issue 21).
    assert years.hint("en").startswith("In whole years. Only to compare views by time abroad")
    assert "immigration status" in years.hint("en")
    assert years.row == 11
    rating = form.question("services_rating")
    assert rating is not None and rating.range is not None
    assert (rating.range.start, rating.range.end, rating.range.step) == (1, 5, 1)
    assert default_value(form, rating, {}, "", TODAY) == 3
    assert [c.name for c in form.choices("themes")][:2] == ["vote", "consular"]
    assert form.question("start") is None  # metadata are not questions


def test_kobo_form_is_refused_naming_each_unsupported_type_with_its_row() -> None:
    parsed = load_xlsform(EXAMPLES / "kobo_unsupported.xlsx")
    assert parsed.form is None
    found = {(e.row, e.column) for e in parsed.errors}
    text = " | ".join(str(e) for e in parsed.errors)
    for name in ("geopoint", "image", "begin_repeat", "end_repeat", "calculate", "or_other"):
        assert name in text
    assert (5, "type") in found and (6, "type") in found and (11, "type") in found
    assert "kobo_unsupported.xlsx, sheet survey, row 5, column type" in text


@pytest.mark.parametrize(
    "type_", ["geotrace", "audio", "video", "file", "barcode", "select_one_from_file a.csv",
              "rank fruits", "hidden", "time", "dateTime"],
)  # fmt: skip
def test_other_unsupported_types_are_refused_by_name(type_: str) -> None:
    parsed = sheets([{"type": type_, "name": "x", "label": "X"}])
    assert parsed.form is None
    assert type_.split()[0].lower() in parsed.errors[0].problem
    assert parsed.errors[0].row == 2


def test_garbage_file_gives_an_error_not_an_exception(tmp_path: Path) -> None:
    bad = tmp_path / "form.xlsx"
    bad.write_bytes(b"not a zip")
    parsed = load_xlsform(bad)
    assert parsed.form is None and "not an .xlsx file" in parsed.errors[0].problem
    old = load_xlsform(tmp_path / "form.xls")
    assert old.form is None and ".xlsx" in old.errors[0].problem


# --- errors collected -----------------------------------------------------------------------------


def test_every_problem_is_collected_with_row_and_column() -> None:
    parsed = sheets(
        [
            {"type": "integer", "name": "age", **lab("Age")},
            {"type": "integer", "name": "age", **lab("Age again")},
            {"type": "text", "name": "a", **lab("A"), "relevant": "${nope} = 1"},
            {"type": "text", "name": "b", **lab("B"), "relevant": "${c} = 1"},
            {"type": "text", "name": "c", **lab("C"), "constraint": ". > and 3"},
            {"type": "select_one empty", "name": "d", **lab("D")},
            {"type": "select_one colors", "name": "e", **lab("E")},
            {"type": "text", "name": "f", "label::es": "solo es", "label::en": ""},
            {"type": "end_group", "name": ""},
            {"type": "begin_group", "name": "g", **lab("G")},
            {"type": "text", "name": "h", **lab("H"), "required": "${a} = 1"},
        ],
        [
            {"list_name": "colors", "name": "red", **lab("Red")},
            {"list_name": "colors", "name": "red", **lab("Red 2")},
        ],
    )
    assert parsed.form is None
    got = problems(parsed)
    where = {(row, column) for _, row, column, _ in got}
    assert (3, "name") in where  # duplicate name
    assert (4, "relevant") in where and (5, "relevant") in where  # unknown / later
    assert any("asked later (row 6)" in p for *_, p in got)
    bad = next(p for _, row, column, p in got if (row, column) == (6, "constraint"))
    assert "character 5" in bad and "expected a value" in bad
    assert (7, "type") in where  # list 'empty' does not exist
    assert ("choices", 3, "name") in {(s, r, c) for s, r, c, _ in got}  # duplicate choice
    assert (9, "label::en") in where  # missing translation
    assert (10, "type") in where  # end_group without begin
    assert (11, "type") in where  # never closed
    assert (12, "required") in where


def test_allow_choice_duplicates_and_choice_filter_columns() -> None:
    survey = [
        {"type": "select_one c", "name": "c", "label": "C"},
        {"type": "select_one r", "name": "r", "label": "R", "choice_filter": "zone = ${c}"},
    ]
    choices = [
        {"list_name": "c", "name": "n", "label": "North"},
        {"list_name": "c", "name": "s", "label": "South"},
        {"list_name": "r", "name": "x", "label": "X", "zone": "n"},
        {"list_name": "r", "name": "x", "label": "X", "zone": "s"},
    ]
    assert sheets(survey, choices).form is None
    parsed = sheets(survey, choices, {"form_id": "t", "allow_choice_duplicates": "yes"})
    assert parsed.form is not None
    wrong = sheets(
        [survey[0], {**survey[1], "choice_filter": "region = ${c}"}],
        choices,
        {"allow_choice_duplicates": "yes"},
    )
    assert any("column 'region'" in e.problem for e in wrong.errors)


def test_untranslated_form_runs_for_everyone_with_defaults_and_a_warning() -> None:
    parsed = parse_sheets({"survey": [{"type": "text", "name": "x", "label": "Hello"}]},
                          "Mi Formulario.xlsx")  # fmt: skip
    form = parsed.form
    assert form is not None
    assert form.languages == () and not form.translated
    assert (form.form_id, form.version) == ("mi_formulario", "1")
    assert form.questions[0].label("fr") == "Hello"
    assert any("no language columns" in w for w in parsed.warnings)


def test_short_language_columns_and_plain_label_in_translated_form() -> None:
    parsed = sheets([{"type": "note", "name": "n", "label::es": "Hola", "label::fr": "Salut"}])
    assert parsed.form is not None and parsed.form.languages == ("es", "fr")
    mixed = sheets([{"type": "note", "name": "n", "label": "Hi", "label::es": "Hola"}])
    assert mixed.form is None and mixed.errors[0].column == "label"


def test_hint_given_in_one_language_must_be_in_all() -> None:
    parsed = sheets([{"type": "text", "name": "x", **lab("X"), "hint::es": "pista"}])
    assert parsed.form is None
    assert parsed.errors[0].column == "hint::en"


def test_bad_literal_default_and_range_parameters_are_errors() -> None:
    parsed = sheets(
        [
            {"type": "integer", "name": "n", "label": "N", "default": "many"},
            {"type": "range", "name": "r", "label": "R", "parameters": "start=5 end=1"},
            {"type": "range", "name": "s", "label": "S", "parameters": "from=1"},
        ]
    )
    assert {(e.row, e.column) for e in parsed.errors} == {
        (2, "default"), (3, "parameters"), (4, "parameters"),
    }  # fmt: skip


# --- expressions ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("${q} = 'yes'", True),
        ("${n} > 9", True),  # numbers compare numerically, not as text
        ("${n} = '12'", True),
        ("${missing} = ''", True),
        ("selected(${t}, 'vote') and not(selected(${t}, 'remit'))", True),
        ("count-selected(${t}) = 2", True),
        ("string-length(${q}) + 1", 4.0),
        ("7 div 2", 3.5),
        ("7 mod 3", 1.0),
        ("-${n} * 2", -24.0),
        ("1 + 2 * 3 = 7 or 0", True),
        ("if(${n} >= 18, 'adult', 'minor')", "minor"),
        ("coalesce(${missing}, 'x')", "x"),
        ("regex(${q}, '^y')", True),
        ("today() = '2025-06-01'", True),
        ("${d} < today()", True),
        ("'b' > 'a'", True),
        ("${n} div 0 > 1000", True),
    ],
)
def test_expressions_evaluate_like_xpath(text: str, expected: object) -> None:
    values = {"q": "yes", "n": 12, "t": ["vote", "consular"], "d": date(2024, 1, 1)}
    assert parse_expression(text).evaluate(values, today=TODAY) == expected


def test_dot_is_the_current_answer_and_references_are_listed() -> None:
    expr = parse_expression("count-selected(.) <= 3 and ${a} != ${b}")
    assert expr.references() == {"a", "b"}
    assert expr.test({"a": 1, "b": 2}, current="x y z", today=TODAY)
    assert not expr.test({"a": 1, "b": 2}, current="w x y z", today=TODAY)


@pytest.mark.parametrize(
    ("text", "position", "fragment"),
    [
        ("${a} = ", 7, "expected a value"),
        ("(1 + 2", 6, "expected ')'"),
        ("__import__('os')", 0, "unknown function"),
        ("${a} == 1", 6, "expected a value"),
        ("foo = 1", 0, "bare name 'foo'"),
        ("selected(${a})", 0, "takes 2 argument"),
        ("${a", 0, "unclosed"),
        ("'abc", 0, "unclosed string"),
        ("1 2", 2, "expected an operator"),
        ("regex(., '(')", 9, "invalid regular expression"),
        ("1 ; 2", 2, "unexpected character"),
    ],
)
def test_parse_errors_say_where_and_what(text: str, position: int, fragment: str) -> None:
    with pytest.raises(ExpressionError) as caught:
        parse_expression(text)
    assert caught.value.position == position
    assert fragment in caught.value.message


def test_deep_nesting_is_refused_not_a_recursion_error() -> None:
    with pytest.raises(ExpressionError):
        parse_expression("(" * 500 + "1" + ")" * 500)
    with pytest.raises(ExpressionError):
        parse_expression("+".join(["1"] * 900))


_ALPHABET = st.sampled_from(
    [*"${}().,'\"=!<>+-* ab1", "and", "or", "div", "mod", "selected(", "if(", "${a}", "."]
)


@settings(max_examples=300, deadline=None)
@given(st.lists(_ALPHABET, max_size=30).map("".join), st.text(max_size=20))
def test_random_input_only_ever_raises_expression_error(text: str, current: str) -> None:
    try:
        expr = parse_expression(text)
    except ExpressionError:
        return
    expr.evaluate({"a": current}, current=current, today=TODAY)


@settings(max_examples=200, deadline=None)
@given(
    st.one_of(st.none(), st.integers(), st.floats(), st.text(max_size=10), st.booleans()),
    st.one_of(st.none(), st.integers(), st.floats(), st.text(max_size=10)),
)
def test_comparisons_of_any_values_never_fail(a: object, b: object) -> None:
    values = {"a": a, "b": b}
    results = {}
    for op in ("=", "!=", "<", "<=", ">", ">=", "+", "div", "mod"):
        results[op] = parse_expression(f"${{a}} {op} ${{b}}").evaluate(values, today=TODAY)
    # Comparisons give booleans that agree with each other, whatever the operands' types.
    for op in ("=", "!=", "<", "<=", ">", ">="):
        assert isinstance(results[op], bool), (op, results[op])
    assert results["!="] is not results["="]
    swapped = parse_expression("${b} = ${a}").evaluate(values, today=TODAY)
    assert swapped is results["="]


# --- answers --------------------------------------------------------------------------------------


def test_typed_answers_are_converted_and_checked() -> None:
    form = example()

    def check(name: str, raw: str, language: str = "en") -> tuple[object, str | None, str | None]:
        question = form.question(name)
        assert question is not None
        value, error = validate_answer(form, question, raw, {"country": "CA"}, language, TODAY)
        return value, error.code if error else None, error.message if error else None

    assert check("years_abroad", "12") == (12, None, None)
    assert check("years_abroad", "douze") == (None, "integer", None)
    assert check("years_abroad", "90", "fr") == (
        None,
        "constraint",
        "Tapez un nombre entre 0 et 80.",
    )
    assert check("years_abroad", "") == (None, "required", None)
    assert check("country", "")[2] == "Choose a country to continue."
    assert check("consular_visit", "2020-03-04")[0] == date(2020, 3, 4)
    assert check("consular_visit", "04/03/2020")[0] == date(2020, 3, 4)
    assert check("consular_visit", "31/02/2020")[1] == "date"
    assert check("consular_visit", "2030-01-01")[1] == "constraint"
    assert check("consular_visit", "") == (None, None, None)  # optional: empty is fine
    assert check("remittance_share", "12,5") == (12.5, None, None)
    assert check("services_rating", "5") == (5, None, None)
    assert check("services_rating", "6")[1] == "range"
    assert check("services_rating", "2.5")[1] == "range"
    assert check("country", "canadá", "es") == ("CA", None, None)
    assert check("region", "NY")[1] == "choice"  # filtered out for Canada
    assert check("themes", "vote consular") == ("vote consular", None, None)
    assert check("themes", "remit,vote") == ("vote remit", None, None)
    assert check("themes", "vote consular remit return")[1:] == (
        "constraint", "Choose at most 3 themes.",
    )  # fmt: skip
    assert check("vote_problem", "x" * 501)[1] == "constraint"
    assert check("vote_problem", "x" * 1001)[1] == "too_long"
    assert check("consent", "ok") == ("OK", None, None)


def test_choice_filter_and_relevance() -> None:
    form = example()
    region, vote_problem = form.question("region"), form.question("vote_problem")
    assert region is not None and vote_problem is not None
    # Every state the registration knows (50 and DC) and "other"; every province and territory.
    states = [c.name for c in visible_choices(form, region, {"country": "US"}, TODAY)]
    assert len(states) == 52 and {"NY", "FL", "CA", "TX", "other_US"} <= set(states)
    assert "QC" not in states
    provinces = [c.label("fr") for c in visible_choices(form, region, {"country": "CA"}, TODAY)]
    assert len(provinces) == 14 and provinces[-1] == "Autre province ou territoire"
    assert {"Ontario", "Québec", "Colombie-Britannique"} <= set(provinces)
    assert "Texas" not in provinces
    assert visible_choices(form, region, {}, TODAY) == ()
    assert is_relevant(form, vote_problem, {"themes": "vote remit"}, TODAY)
    assert not is_relevant(form, vote_problem, {"themes": "remit"}, TODAY)
    names = [q.name for q in relevant_questions(form, {"themes": "remit"}, TODAY)]
    assert "vote_problem" not in names and "thanks" in names


def test_group_relevance_hides_its_questions_and_blanks_their_answers() -> None:
    parsed = sheets(
        [
            {"type": "integer", "name": "age", "label": "Age"},
            {"type": "begin group", "name": "adult", "label": "Adults", "relevant": "${age} >= 18"},
            {"type": "text", "name": "job", "label": "Job"},
            {"type": "end group"},
            {"type": "note", "name": "n", "label": "About your job", "relevant": "${job} != ''"},
        ]
    )
    form = parsed.form
    assert form is not None, parsed.errors
    job, note = form.question("job"), form.question("n")
    assert job is not None and note is not None
    assert job.headings("es") == ("Adults",)
    assert is_relevant(form, job, {"age": 30}, TODAY)
    assert not is_relevant(form, job, {"age": 10}, TODAY)
    # A job typed before the age was changed no longer counts once the group is skipped.
    assert not is_relevant(form, note, {"age": 10, "job": "baker"}, TODAY)
    assert is_relevant(form, note, {"age": 30, "job": "baker"}, TODAY)
