"""One word per thing: no catalog uses a variant docs/glossary.md forbids.

The glossary's table is the source: each row names a term, its word in es/en/fr and the variants
each language must not use. A variant is a whole word (case ignored) or, between slashes, a regular
expression matched on every line of a message. Every form of a counted message is checked.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from bot.i18n import LANGUAGES, Texts

GLOSSARY = Path(__file__).resolve().parent.parent / "docs" / "glossary.md"
FORBIDDEN_COLUMN = {"es": "Forbidden es", "en": "Forbidden en", "fr": "Forbidden fr"}


def _cells(line: str) -> list[str]:
    # A table row split on its pipes; "\|" inside a cell is a literal pipe (a regex alternative).
    inner = line.strip().strip("|")
    return [cell.strip().replace("\\|", "|") for cell in re.split(r"(?<!\\)\|", inner)]


def glossary_rows() -> list[dict[str, str]]:
    lines = [
        line for line in GLOSSARY.read_text(encoding="utf-8").splitlines() if line.startswith("|")
    ]
    header = _cells(lines[0])
    return [dict(zip(header, _cells(line), strict=True)) for line in lines[2:]]


def _pattern(variant: str) -> re.Pattern[str]:
    if len(variant) > 2 and variant.startswith("/") and variant.endswith("/"):
        return re.compile(variant[1:-1], re.MULTILINE)
    return re.compile(rf"(?<!\w){re.escape(variant)}(?!\w)", re.IGNORECASE)


def forbidden(language: str) -> list[tuple[str, str, re.Pattern[str]]]:
    """(term, variant, pattern) for every variant the glossary forbids in this language."""
    found = []
    for row in glossary_rows():
        cell = row[FORBIDDEN_COLUMN[language]]
        if cell in ("", "—"):
            continue
        for variant in (part.strip() for part in cell.split(";")):
            if variant:
                found.append((row["Term"], variant, _pattern(variant)))
    return found


def test_the_glossary_names_every_term_in_three_languages() -> None:
    rows = glossary_rows()
    assert len(rows) >= 15
    for row in rows:
        assert row["Term"] and row["Why"], row
        for language in LANGUAGES:
            assert row[language] not in ("", "—") or row["Term"] == "spelling", row


def test_a_forbidden_variant_is_caught() -> None:
    # The checker itself: each sample must be flagged, else a typo in the table would pass silently.
    samples = {
        "fr": ["Ouvrir l'enquête n° 3", "Les preuves", "« Retour", "Usage : /grant", "n°{id}"],
        "es": ["Pulsa «Listo»", "« Atrás", "Añadir inglés", "No entiendo esa fecha", "n.º {id}"],
        "en": ["Edit cancelled", "« Back", "I can't read that date", "You may not export."],
    }
    for language, texts in samples.items():
        rules = forbidden(language)
        for text in texts:
            assert any(pattern.search(text) for _, _, pattern in rules), (language, text)
    # ...and quotations are not navigation arrows.
    for text in ("« {query} » : 2 options trouvées.", "Toca «Listo».", "Tapez « Oui »"):
        language = "fr" if "Tapez" in text or "options" in text else "es"
        assert not any(p.search(text) for _, _, p in forbidden(language)), text


@pytest.mark.parametrize("language", LANGUAGES)
def test_no_catalog_uses_a_forbidden_variant(language: str) -> None:
    texts = Texts.load()
    rules = forbidden(language)
    offences = []
    for key in sorted(texts.keys(language)):
        for form in texts.forms(language, key):
            # Placeholder names are code ({programme}), not words a member reads.
            shown = re.sub(r"\{[^}]*\}", "{x}", form)
            for term, variant, pattern in rules:
                if pattern.search(shown):
                    offences.append(f"{key}: {variant!r} ({term}) in {form!r}")
    assert not offences, "\n".join(offences)
