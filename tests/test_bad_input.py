"""Bad input gets a clear answer in the member's language, loses nothing, stores nothing invalid."""

from __future__ import annotations

import logging
import re
from typing import Any

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from bot.i18n import Texts
from bot.services import regions
from bot.services.registration import NAME_MAX, InputError, clean_email, clean_text
from tests.harness import TOKEN, BotUnderTest, Person

NASTY = [
    "",
    " ",
    "\t\n  ",
    "<b>Ana",
    "<script>alert(1)</script>",
    "</b>",
    "&",
    "&amp;",
    "a < b > c",
    "**bold** _italic_ `code` [link](http://x)",
    "'; DROP TABLE members; --",
    "Robert'); DROP TABLE members;--",
    '" OR 1=1 --',
    "\u202eevil\u202c",
    "مرحبا بالعالم",
    "שלום",
    "👩‍👩‍👧‍👦🇸🇻",
    "\x00\x01\x02",
    "a" * 5000,
    "é" * 4097,
    "TX",
    "tx",
    "Texas",
    "Québec",
    "ana@example.org",
    "not@an@email",
    "+1 213 555 0100",
    "/unknowncommand",
    "null",
    "None",
    "0",
    "-1",
    "%s%s%n",
    "{name}",
    "{0}",
]

# (telegram id, language, step, profile fields that put the member at that step)
STEP_PEOPLE: list[tuple[int, str, str, dict[str, Any]]] = [
    (501, "es", "name", {}),
    (502, "en", "country", {"name": "Ana"}),
    (503, "fr", "region", {"name": "Ana", "country": "US"}),
    (504, "es", "city", {"name": "Ana", "country": "CA", "region": "QC"}),
    (
        505,
        "en",
        "association",
        {
            "name": "Ana",
            "country": "US",
            "region": "TX",
            "city": "Houston",
            "time_zone": "America/Chicago",
        },
    ),
    (
        506,
        "fr",
        "association_new",
        {
            "name": "Ana",
            "country": "US",
            "region": "TX",
            "city": "Houston",
            "time_zone": "America/Chicago",
        },
    ),
    (
        507,
        "es",
        "sector",
        {
            "name": "Ana",
            "country": "US",
            "region": "CA",
            "city": "LA",
            "time_zone": "America/Los_Angeles",
            "association_none": True,
        },
    ),
    (508, "en", "themes", {"name": "Ana", "sector": "academia"}),
    (509, "fr", "email", {"name": "Ana", "sector": "academia", "themes": ("protection",)}),
    (510, "es", "phone", {"name": "Ana", "sector": "academia", "themes": ("protection",)}),
    (
        511,
        "en",
        "summary",
        {
            "name": "Ana",
            "country": "US",
            "region": "CA",
            "city": "LA",
            "time_zone": "America/Los_Angeles",
            "sector": "academia",
            "themes": ("protection",),
        },
    ),
]


def _collect_samples() -> list[str]:
    samples: list[str] = []
    printable = st.text(
        alphabet=st.characters(blacklist_categories=("Cs",)), min_size=0, max_size=120
    )
    long = st.text(
        alphabet=st.characters(blacklist_categories=("Cs",)), min_size=4000, max_size=5000
    )

    @settings(
        max_examples=1000,
        database=None,
        phases=[Phase.generate],
        deadline=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(st.one_of(printable, printable, printable, long, st.sampled_from(NASTY)))
    def collect(text: str) -> None:
        samples.append(text)

    collect()
    # Real commands would leave the step under test; unknown ones stay in the mix.
    return NASTY + [
        s
        for s in samples
        if not re.match(
            r"^/(start|help|cancel|profile|language|mydata|deleteme|grant|revoke|pending)\b", s
        )
    ]


def _distinctive(texts: Texts) -> dict[str, list[str]]:
    """Per language, snippets of its catalog that no other language shares."""
    snippets: dict[str, list[str]] = {}
    for language in ("es", "en", "fr"):
        others = {
            texts.plain(other, key)
            for other in ("es", "en", "fr")
            if other != language
            for key in texts.keys(other)
        }
        snippets[language] = [
            _longest_literal(texts.plain(language, key))
            for key in texts.keys(language)
            if (key.startswith(("ask.", "error.", "summary.", "help.")))
            and texts.plain(language, key) not in others
            and len(_longest_literal(texts.plain(language, key))) >= 8
        ]
    return snippets


def _longest_literal(template: str) -> str:
    """The longest piece of a template that is neither a placeholder nor a tag."""
    pieces = re.split(r"\{[^}]*\}|<[^>]+>|\n", template)
    return max((piece.strip() for piece in pieces), key=len, default="")[:30]


def _valid_or_unset(member: Any) -> None:
    """What is stored is either nothing or something the validators accept."""
    for value in (member.name, member.city):
        if value is not None:
            assert clean_text(value, NAME_MAX) == value
    if member.email is not None:
        assert clean_email(member.email) == member.email
    if member.region is not None:
        assert regions.region(member.country, member.region) is not None


@pytest.mark.filterwarnings("ignore::hypothesis.errors.NonInteractiveExampleWarning")
async def test_a_thousand_generated_texts_never_break_a_step(
    bot: BotUnderTest, caplog: pytest.LogCaptureFixture
) -> None:
    samples = _collect_samples()
    assert len(samples) >= 1000
    services = bot.application.bot_data.services  # type: ignore[union-attr]
    assert services is not None
    await services.store.associations.add("Casa Salvadoreña", "US", "TX", "Houston")
    people: list[tuple[Person, str, str, int]] = []
    for telegram_id, language, step, fields in STEP_PEOPLE:
        person = bot.person(telegram_id, "P", language)
        member = await services.store.members.create_with_consent(
            telegram_id, None, language, "2026-11", "test", step
        )
        await services.store.members.update(member.id, fields)
        people.append((person, language, step, member.id))
    distinctive = _distinctive(services.texts)
    caplog.set_level(logging.ERROR)

    for index, text in enumerate(samples):
        person, language, step, member_id = people[index % len(people)]
        replies = await person.send(text)
        assert replies, f"no answer to {text[:80]!r} at step {step}"
        shown = "\n".join(reply.text or "" for reply in replies)
        assert any(s in shown for s in distinctive[language]), (
            f"answer to {text[:80]!r} at {step} not in {language}: {shown[:200]!r}"
        )
        for other, snippets in distinctive.items():
            if other != language:
                assert not any(s in shown for s in snippets if len(s) >= 12), (other, shown[:200])
        member = await services.store.members.by_id(member_id)
        assert member is not None
        _valid_or_unset(member)
        # Put the member back at the step under test for the next sample.
        if member.step != step or member.status != "registering":
            await services.store.members.update(member_id, {"step": step, "status": "registering"})

    emulator_errors = bot.emulator.bot(TOKEN).errors
    assert emulator_errors == [], emulator_errors[:5]
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR], caplog.text[:2000]


def test_validators_refuse_what_they_should() -> None:
    for bad in ["", "   ", "a" * 81, "\u202eevil", "\x00x", "12345", "!!!"]:
        with pytest.raises(InputError):
            clean_text(bad, NAME_MAX)
    assert clean_text("  Ana   María ", NAME_MAX) == "Ana María"
    for bad in ["x", "a@b", "a b@c.org", "ana@@x.org", "a" * 250 + "@x.org"]:
        with pytest.raises(InputError):
            clean_email(bad)
