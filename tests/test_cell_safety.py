"""The one neutraliser for cells of text origin: formulas never run, numbers stay numbers."""

from __future__ import annotations

import csv
import io

from bot.services.exports.safety import neutralise

FORMULAS = ['=HYPERLINK("http://x","y")', "+1+1", "-2+3", "@SUM(A1)", "\tx", "\rx", "-A1", "+"]


def test_formulas_are_prefixed_numbers_are_not() -> None:
    assert [neutralise(text) for text in FORMULAS] == ["'" + text for text in FORMULAS]
    for number in ("-5", "-3.5", "-1,5", "+2", "-0.25", "-2e3", "12", "-.5"):
        assert neutralise(number) == number, number
    assert neutralise("acceso a la salud") == "acceso a la salud"
    assert neutralise("a=b") == "a=b" and neutralise("") == ""


def test_control_characters_are_removed_before_the_formula_check() -> None:
    assert neutralise("Bea\x00Ruiz") == "BeaRuiz"
    assert neutralise("\x1b[31mred") == "[31mred"
    assert neutralise("\x00=1+1") == "'=1+1"
    assert neutralise("line one\nline two\ttab") == "line one\nline two\ttab"


def test_a_staff_written_version_reaches_csv_inert() -> None:
    out = io.StringIO()
    csv.writer(out).writerow([neutralise('=HYPERLINK("http://evil","v2")'), neutralise("-5")])
    assert next(csv.reader(io.StringIO(out.getvalue()))) == [
        '\'=HYPERLINK("http://evil","v2")',
        "-5",
    ]
