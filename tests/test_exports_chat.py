"""/export and /audit through the emulator, pressed as staff would (/evidence and /phrases:
tests/test_evidence_chat.py).

The data is the example survey answered in chat by twelve members (tests/survey_fixture.py).
"""

from __future__ import annotations

import csv
import io

import pytest

from bot.handlers.chunks import split_message
from tests.harness import TOKEN, BotUnderTest, Person, add_member
from tests.survey_fixture import EXPORTED_AT, RESPONDENTS, Answered
from tests.test_exports import member, pseudonyms, shown_questions
from tgemu.html import parse_html

CLAUSES = """
## C1 — Health
### es
Acceso a la salud.
### en
Access to health care.
### fr
Accès aux soins.

## C2 — Consulates
### es
Consulados móviles.
### en
Mobile consulates.
### fr
Consulats mobiles.
"""


async def staff(bot: BotUnderTest, telegram_id: int, username: str, role: str) -> Person:
    """An English-speaking member the config admin (9000) made staff (or staff_pii)."""
    await add_member(bot, telegram_id, "en", name=username.title(), username=username)
    person = bot.person(telegram_id, username.title(), "en", username=username)
    admin = bot.person(9000, "Admin", "en")
    await admin.send(f"/grant @{username} {role}")
    assert "granted" in admin.last_text()
    return person


def documents(bot: BotUnderTest, person: Person) -> list[tuple[str, bytes]]:
    """The files the bot sent this person, as the emulator stored them."""
    state = bot.emulator.bot(TOKEN)
    return [
        state.files[m.document["file_id"]]
        for m in person.transcript()
        if m.direction == "out" and m.document
    ]


def rows_of(content: bytes) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(content.decode("utf-8-sig"))))


def every_button(person: Person) -> list[str]:
    return [b["text"] for m in person.transcript() if m.direction == "out" for b in m.buttons()]


async def test_staff_presses_through_to_a_csv_document(answered: Answered) -> None:
    bot = answered.bot
    ana = await staff(bot, 500, "ana", "staff")
    await ana.send("/export")
    assert "what would you like to export" in ana.last_text()
    await ana.press("Answers (a row per answer)")
    assert "Export everything, or only part of it?" in ana.last_text()
    assert {"Everything (no filter)", "By country", "By province / state"} <= set(ana.buttons())
    await ana.press("By country")
    assert ana.last_text() == "Which country?"
    await ana.press("Canada")
    assert ana.last_text() == "Which format?"
    await ana.press("CSV")
    canadians = [who for who in RESPONDENTS if who.country == "CA"]
    expected = sum(len(shown_questions(who)) for who in canadians)
    assert f"{expected} rows" in ana.last_text() and "audit log" in ana.last_text()
    [(name, content)] = documents(bot, ana)
    rows = rows_of(content)
    assert name == f"consultation_round1_answers_long_{EXPORTED_AT:%Y-%m-%d}.csv"
    assert len(rows) == expected and {r["country"] for r in rows} == {"CA"}
    by_member = await pseudonyms(answered)
    assert {r["pseudonym"] for r in rows} == {p for p, w in by_member.items() if w.country == "CA"}
    # Nobody but staff may read it back: the admin sees the export on the audit log.
    admin = bot.person(9000, "Admin", "en")
    await admin.send("/audit")
    pseudonym = (await bot.store.members.by_telegram_id(500)).pseudonym  # type: ignore[union-attr]
    line = next(x for x in admin.last_text().splitlines() if "answers-long" in x)
    # The config admin has no member row: their Telegram app's language (en) it is.
    action = bot.services.texts.plain("en", "audit.action.export")
    assert pseudonym in line and f"· {action} ·" in line
    assert "country=CA" in line and f"rows: {expected}" in line and "pii: False" in line


async def test_typed_filter_and_wide_answers_with_survey_buttons(answered: Answered) -> None:
    bot = answered.bot
    ana = await staff(bot, 500, "ana", "staff")
    await ana.send("/export")
    await ana.press("Answers (a row per submission)")
    await ana.press(f"#{answered.survey_id} Diaspora consultation")
    await ana.send("region=NY")
    assert ana.last_text() == "Which format?"
    await ana.press("CSV")
    assert "Stored values" in " ".join(ana.buttons())
    await ana.press("Labels (readable)")
    # The answers, then their data dictionary.
    [(name, content), (dictionary, _)] = documents(bot, ana)
    day = f"{EXPORTED_AT:%Y-%m-%d}"
    assert name == f"consultation_round1_answers_{day}.csv"
    assert dictionary == f"consultation_round1_data_dictionary_{day}.csv"
    rows = rows_of(content)
    by_member = await pseudonyms(answered)
    assert {r["_pseudonym"] for r in rows} == {p for p, w in by_member.items() if w.region == "NY"}
    assert {r["Province or state?"] for r in rows} == {"New York"}


async def test_pii_only_for_the_pii_right_and_a_stale_pii_press_is_refused(
    answered: Answered,
) -> None:
    bot = answered.bot
    erased = await member(answered, RESPONDENTS[-1])
    await bot.services.registration.erase(erased)
    ana = await staff(bot, 500, "ana", "staff")
    await ana.send("/export")
    await ana.press("Members")
    await ana.press("Everything (no filter)")
    await ana.press("CSV")
    assert not any("personal data" in label for label in every_button(ana))
    [(_, content)] = documents(bot, ana)
    rows = rows_of(content)
    assert "name" not in rows[0] and "Member 801" not in content.decode("utf-8-sig")
    # A forged press of "Yes, include personal data" on a question never asked is refused.
    before = len(documents(bot, ana))
    last = ana.last()
    await ana.press_data(last.message_id, "v1:export:99:c:1", forge=True)
    stale = {bot.services.texts.plain(lang, "error.button_unknown") for lang in ("es", "en", "fr")}
    assert ana.callback_answer() in stale
    assert len(documents(bot, ana)) == before

    # Bea holds the PII right when she starts, loses it before pressing Yes: refused, audited.
    bea = await staff(bot, 501, "bea", "staff_pii")
    await bea.send("/export")
    await bea.press("Members")
    await bea.press("Everything (no filter)")
    await bea.press("CSV")
    assert "Include personal data" in bea.last_text()
    admin = bot.person(9000, "Admin", "en")
    await admin.send("/revoke @bea staff_pii")
    await admin.send("/grant @bea staff")
    await bea.press("Yes, include personal data")
    assert "do not hold the right to export personal data" in bea.last_text()
    assert documents(bot, bea) == []
    refused = [e for e in await bot.store.audit.recent(20) if e.action == "export_refused"]
    assert refused and "pii_without_right" in refused[0].detail

    # With the right, the file holds personal data, but never an erased member's.
    cy = await staff(bot, 502, "cy", "staff_pii")
    await cy.send("/export")
    await cy.press("Members")
    await cy.press("Everything (no filter)")
    await cy.press("CSV")
    await cy.press("Yes, include personal data")
    [(_, content)] = documents(bot, cy)
    by_pseudonym = {r["pseudonym"]: r for r in rows_of(content)}
    first = (await member(answered, RESPONDENTS[0])).pseudonym
    assert by_pseudonym[first]["name"] == "Member 801"
    assert by_pseudonym[erased.pseudonym]["name"] == ""


async def test_members_are_refused_in_their_language(bot: BotUnderTest) -> None:
    await add_member(bot, 600, "fr")
    await add_member(bot, 601, "es")
    refusal = {
        "fr": bot.services.texts.get("fr", "staff.refused"),
        "es": bot.services.texts.get("es", "staff.refused"),
    }
    assert refusal["fr"] != refusal["es"]
    for telegram_id, language in ((600, "fr"), (601, "es")):
        person = bot.person(telegram_id, "M", language)
        for command in ("/export", "/audit", "/evidence", "/evidence C1", "/phrases"):
            await person.send(command)
            assert person.last_text() == refusal[language], command
        assert await bot.store.conversations.get(telegram_id) is None


async def test_a_failed_export_process_is_a_clear_message_and_audited(
    answered: Answered, monkeypatch: pytest.MonkeyPatch
) -> None:
    bot = answered.bot
    ana = await staff(bot, 500, "ana", "staff")
    await ana.send("/export")
    await ana.press("Answers (a row per answer)")
    await ana.press("Everything (no filter)")
    # The export process cannot even start its interpreter; the bot itself goes on.
    monkeypatch.setenv("PYTHONHOME", "/nonexistent")
    await ana.press("Excel (XLSX)")
    assert ana.last_text() == "⚠️ " + bot.services.texts.get("en", "export.error.failed")
    assert documents(bot, ana) == []
    [entry] = await bot.store.audit.recent(1)
    assert (entry.action, entry.target) == ("export_failed", "answers-long")
    monkeypatch.delenv("PYTHONHOME")
    await ana.send("/help")
    assert "/export" in ana.last_text()


def test_split_message_keeps_lines_whole_and_tags_balanced() -> None:
    lines = [f"<b>line {i}</b> &amp; more" for i in range(400)]
    parts = split_message(lines, limit=500)
    assert len(parts) > 1 and all(len(part) <= 500 for part in parts)
    assert "\n".join(parts).split("\n") == lines
    for part in parts:
        parse_html(part)
    # A single line longer than the limit is cut between tags and entities, none lost.
    long = "<i>" + "a&amp;b " * 300 + '</i> <a href="https://x.org/">' + "z" * 700 + "</a>"
    pieces = split_message([long], limit=200)
    assert all(len(piece) <= 200 for piece in pieces)
    plain = "".join(parse_html(piece) for piece in pieces)
    assert plain == parse_html(long)
    assert split_message(["a", "b"], limit=10, separator="\n\n") == ["a\n\nb"]


async def test_a_long_audit_log_comes_in_several_valid_messages(bot: BotUnderTest) -> None:
    for number in range(20):
        await bot.store.audit.record(
            "op", "export", f"target-{number:02d}-" + "t" * 150, {"note": "x&<" * 100}
        )
    admin = bot.person(9000, "Admin", "en")
    await admin.send("/audit")
    shown = "\n".join(m.text or "" for m in admin.transcript() if m.direction == "out")
    assert all(f"target-{number:02d}-" in shown for number in range(20))
    assert "went wrong" not in shown
