"""The catalogs are complete in es, en and fr, and their placeholders agree."""

from __future__ import annotations

import re
from datetime import UTC, datetime

from babel.messages.pofile import read_po

from bot.config import ProgrammeConfig
from bot.i18n import (
    LANGUAGES,
    Texts,
    format_local,
    format_meeting_time,
    format_number,
    pick_language,
)

PLACEHOLDER = re.compile(r"\{(\w+)\}")


def test_every_key_exists_in_every_language() -> None:
    texts = Texts.load()
    keys = {language: texts.keys(language) for language in LANGUAGES}
    for language in LANGUAGES:
        assert keys[language] == keys["es"], (language, keys[language] ^ keys["es"])


def test_placeholders_match_across_languages() -> None:
    texts = Texts.load()
    for key in texts.keys("es"):
        expected = set(PLACEHOLDER.findall(texts.forms("es", key)[-1]))
        for language in LANGUAGES:
            *fewer, other = texts.forms(language, key)
            assert set(PLACEHOLDER.findall(other)) == expected, (language, key)
            for form in fewer:  # "one" may say "this province" instead of "1 province"
                assert set(PLACEHOLDER.findall(form)) <= expected, (language, key, form)


def test_catalogs_are_standard_po_files() -> None:
    from importlib import resources

    for language in LANGUAGES:
        path = resources.files("bot").joinpath("locales", language, "LC_MESSAGES", "messages.po")
        with path.open("rb") as handle:
            catalog = read_po(handle, locale=language)
        assert str(catalog.locale) == language
        assert len(catalog) > 100


def test_default_sectors_and_themes_have_names_everywhere() -> None:
    texts = Texts.load()
    programme = ProgrammeConfig()
    for language in LANGUAGES:
        for sector in programme.sectors:
            assert texts.has(language, f"sector.{sector}")
        for theme in programme.thematic_groups:
            assert texts.has(language, f"theme.{theme}")


def test_values_are_escaped_and_language_is_picked() -> None:
    texts = Texts.load()
    assert texts.get("en", "start.welcome_back", name="<i>x&y").startswith(
        "Hello, &lt;i&gt;x&amp;y!"
    )
    assert pick_language("fr-CA") == "fr" and pick_language("pt-BR") == "es"
    assert pick_language(None, "en") == "en"


def test_dates_and_numbers_follow_the_locale() -> None:
    moment = datetime(2026, 12, 5, 17, 30, tzinfo=UTC)
    assert format_local(moment, "America/Los_Angeles", "en", "short") == "12/5/26, 9:30\u202fAM"
    assert format_local(moment, "America/Toronto", "fr", "short") == "2026-12-05 12 h 30"
    assert (
        format_local(moment, "America/Chicago", "es", "short") == "5/12/26, 11:30\u202fa.\u202fm."
    )
    assert format_meeting_time(moment, "America/Toronto", "fr") == "5 déc. 2026 à 12 h 30"
    assert format_meeting_time(moment, "America/Los_Angeles", "en") == "Dec 5, 2026, 9:30\u202fAM"
    assert format_number(1234.5, "fr") == "1\xa0234,5"
    assert format_number(1234.5, "en") == "1,234.5"
    # Salvadoran Spanish writes a decimal point and the 12-hour clock.
    assert format_number(1234.5, "es") == "1,234.5"
