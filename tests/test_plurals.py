"""Counted messages agree with their number in every language (Babel's plural rules)."""

from __future__ import annotations

import re

import pytest

from bot.i18n import LANGUAGES, Texts

# A number written before a word: the word must follow the number ("1 miembros" is what this stops).
COUNT_BEFORE_A_WORD = re.compile(r"\{count\}(?:</b>)?[ \u00a0]+(?!(?:en|in|au)\b)(?:de )?[^\W\d_]")
EXPECTED = {
    "es": {0: "0 personas", 1: "1 persona", 2: "2 personas", 5: "5 personas"},
    "en": {0: "0 people", 1: "1 person", 2: "2 people", 5: "5 people"},
    "fr": {0: "0 personne", 1: "1 personne", 2: "2 personnes", 5: "5 personnes"},
}


@pytest.fixture(scope="module")
def texts() -> Texts:
    return Texts.load()


@pytest.mark.parametrize("language", LANGUAGES)
def test_a_group_counts_its_people_as_the_language_does(texts: Texts, language: str) -> None:
    for count, words in EXPECTED[language].items():
        assert texts.get(language, "results.group", group="Texas", count=count).endswith(words)


def test_every_counted_message_renders_at_0_1_2_and_5(texts: Texts) -> None:
    counted = texts.counted_keys("es")
    assert len(counted) >= 8
    for language in LANGUAGES:
        assert texts.counted_keys(language) == counted, language
        for key in counted:
            rendered = {
                count: texts.plain(language, key, **_values(texts, language, key, count))
                for count in (0, 1, 2, 5)
            }
            for count in (0, 2, 5):
                assert str(count) in rendered[count], (language, key, rendered[count])
            # The one and the many read differently (French: 0 and 1 alike).
            assert rendered[1].replace("1", "#") != rendered[5].replace("5", "#") or key in (
                "results.heard.notices"
            ), (language, key)


def test_no_number_stands_before_a_word_unless_the_message_is_counted(texts: Texts) -> None:
    offenders = [
        (language, key)
        for language in LANGUAGES
        for key in texts.keys(language) - texts.counted_keys(language)
        if COUNT_BEFORE_A_WORD.search(texts.forms(language, key)[0])
    ]
    assert offenders == []


def test_a_counted_message_without_its_count_is_a_programming_error(texts: Texts) -> None:
    with pytest.raises(TypeError, match="count="):
        texts.get("es", "results.group", group="Texas")


def _values(texts: Texts, language: str, key: str, count: int) -> dict[str, object]:
    names = set(re.findall(r"\{(\w+)\}", " ".join(texts.forms(language, key))))
    return {name: "X" for name in names} | {"count": count}
