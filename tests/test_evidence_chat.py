"""Clauses sent in chat, /evidence linked by browsing, /phrases by buttons — as staff would.

The data is the example survey answered in chat by twelve members (tests/survey_fixture.py); the
clauses arrive as documents in chat, as staff send them.
"""

from __future__ import annotations

from bot.services.meetings import MeetingRequest
from tests.harness import TOKEN, BotUnderTest, Person, add_member
from tests.survey_fixture import RESPONDENTS, Answered
from tests.test_exports import COMMENTS, member, pseudonyms
from tests.test_exports_chat import CLAUSES, staff

LONG = (
    "## C3 — Documents\n### es\nLos consulados emitirán pasaportes y actas de nacimiento en el día"
    " sin cita previa\n### en\nConsulates will issue passports and birth certificates on the same"
    " day without an appointment\n### fr\nLes consulats délivreront passeports et actes le jour"
    " même sans rendez-vous\n"
)


async def send_file(bot: BotUnderTest, person: Person, name: str, content: bytes) -> str:
    """The person sends a document; the bot's answer."""
    update = bot.emulator.send_document(TOKEN, person.id, name, content)
    await bot.processor.wait_done(update)
    return person.last_text()


async def evidence_rows(bot: BotUnderTest) -> list[tuple[str, str, int, str]]:
    rows = await bot.store.database.fetch_all(
        "SELECT clause_id, kind, ref, note FROM evidence ORDER BY id"
    )
    return [(str(r[0]), str(r[1]), int(r[2]), str(r[3])) for r in rows]


async def test_clauses_sent_in_chat_load_or_say_every_refusal(answered: Answered) -> None:
    bot = answered.bot
    texts = bot.services.texts
    ana = await staff(bot, 500, "ana", "staff")
    # A member's document is not a clauses file: nothing is stored.
    somebody = answered.person(RESPONDENTS[0])
    assert "clauses" not in await send_file(bot, somebody, "draft.md", CLAUSES.encode())
    assert await bot.services.clauses.clauses() == []
    broken = (
        "## C1 — A\n### es\nuno\n### en\none\n### fr\nun\n"
        "## C1 — again\n### es\notra\n"
        "## not a clause heading!\n### es\nx\n"
        "## C2\n### es\ndos\n### en\ntwo\n### deutsch\n"
    )
    answer = await send_file(bot, ana, "draft.md", broken.encode())
    expected = [
        texts.get("en", "clauses.refused", count=5),
        "• " + texts.get("en", "clauses.error.heading", line=11),
        "• " + texts.get("en", "clauses.error.heading", line=19),
        "• " + texts.get("en", "clauses.error.duplicate", clause="C1"),
        "• " + texts.get("en", "clauses.error.language", clause="C1", languages="en, fr"),
        "• " + texts.get("en", "clauses.error.language", clause="C2", languages="fr"),
    ]
    assert answer.splitlines() == expected
    assert answer.startswith("❌ Clauses refused (5 problems); nothing was stored:")
    assert await bot.services.clauses.clauses() == []
    latin1 = "## C1\n### es\nAcción\n### en\nAction\n### fr\nAction\n".encode("latin-1")
    assert "not UTF-8" in await send_file(bot, ana, "draft.md", latin1)
    toml = (
        '[[clause]]\nid = "C1"\ntext.es = "Salud"\ntext.en = "Health"\ntext.fr = "Santé"\n'
        '[[clause]]\nid = "C2"\ntext.es = "Voto"\ntext.en = "Vote"\ntext.fr = "Vote"\n'
    )
    loaded = await send_file(bot, ana, "draft.toml", toml.encode())
    assert loaded == "✅ 2 clauses loaded from draft.toml. Link evidence to them with /evidence."
    assert [c.id for c in await bot.services.clauses.clauses()] == ["C1", "C2"]
    [entry] = await bot.store.audit.recent(1)
    assert (entry.action, entry.target) == ("clauses_load", "draft.toml")
    assert entry.actor == await bot.services.people.actor_of(500)


async def test_evidence_is_linked_by_browsing_with_a_note_and_unlinked(answered: Answered) -> None:
    bot = answered.bot
    ana = await staff(bot, 500, "ana", "staff")
    draft = (CLAUSES + "\n" + LONG).encode()
    assert "3 clauses loaded" in await send_file(bot, ana, "draft.md", draft)
    await ana.send("/evidence")
    labels = ana.buttons()
    assert labels[:2] == ["C1 — Access to health care. (0)", "C2 — Mobile consulates. (0)"]
    # A long clause is cut between words, with an ellipsis.
    cut = labels[2]
    assert cut.startswith("C3 — Consulates will issue passports") and cut.endswith("… (0)")
    shown = cut.removeprefix("C3 — ").removesuffix("… (0)")
    full = "Consulates will issue passports and birth certificates on the same day without"
    assert full.startswith(shown) and full[len(shown)] == " "

    await ana.press("C1 —")
    assert "Clause C1 has no evidence yet." in ana.last_text()
    await ana.press("Link evidence")
    await ana.press("Survey answers")
    await ana.press("Diaspora consultation")
    questions = ana.buttons()
    assert "✍ What keeps you from voting from abroad?" in questions
    assert "☑ Which themes matter to you? (up to 3)" in questions
    assert not any("How many years" in q or "consent" in q.lower() for q in questions)
    await ana.press("What keeps you from voting")
    page = ana.last_text()
    assert "7 answers" in page and "Page 1 of 2." in page
    assert (
        "1. 💬 “El consulado está muy lejos”\n    Quebec, Canada · Academia · Mar 10, 2026" in page
    )
    # Who said it is never shown: no pseudonym, no name.
    for pseudonym in await pseudonyms(answered):
        assert pseudonym not in page
    assert "Member 80" not in page
    await ana.press("🔗 1")
    assert "Type a note" in ana.last_text() and "El consulado está muy lejos" in ana.last_text()
    await ana.send("Distance keeps <people> from the consulate")
    linked = ana.last_text()
    assert linked.startswith("✅ Linked to C1.\n\nC1 — Access to health care.")
    assert "📝 Distance keeps <people> from the consulate" in linked
    first = await bot.store.database.fetch_one(
        "SELECT id FROM record_entries WHERE question = 'vote_problem' ORDER BY id LIMIT 1"
    )
    assert first is not None
    assert await evidence_rows(bot) == [
        ("C1", "answer", first[0], "Distance keeps <people> from the consulate")
    ]

    # A choice question: the labels in the reader's language, not the respondent's.
    zoe = await staff_in(bot, 501, "zoe", "fr")
    await zoe.send("/evidence")
    await zoe.press("C2 —")
    await zoe.press("Lier des données probantes")
    await zoe.press("Réponses aux questionnaires")
    await zoe.press("Diaspora")
    await zoe.press("Quels thèmes")
    french = answered.form.choices("themes")
    vote, consular = (
        next(c.label("fr") for c in french if c.name == n) for n in ("vote", "consular")
    )
    assert (
        f"1. 💬 « {vote}; {consular} »\n    Québec, Canada · Milieu universitaire"
        in zoe.last_text()
    )
    await zoe.press("🔗 1")
    await zoe.press("Lier sans note")
    assert zoe.last_text().startswith("✅ Lié à C2.")

    # A proposal, by theme, with its text; and a meeting.
    proposal = await bot.services.proposals.submit(
        await member(answered, RESPONDENTS[0]), "protection", "Más consulados móviles"
    )
    meeting = await bot.services.meetings.create(
        MeetingRequest(
            titles={"es": "Asamblea", "en": "Town hall"}, kind="national",
            start="2026-03-20 10:00", zone="America/Toronto", duration=60, venue="Consulado",
        ),
        "op",
    )  # fmt: skip
    await ana.send("/evidence C1")
    await ana.press("Link evidence")
    await ana.press("Proposals")
    await ana.press("(1)")
    assert "“Más consulados móviles”" in ana.last_text()
    await ana.press("🔗 1")
    await ana.press("Link without a note")
    await ana.press("Link evidence")
    await ana.press("Meetings")
    assert "Town hall" in ana.last_text()
    await ana.press("🔗 1")
    await ana.send("The town hall asked for it")
    assert "Evidence: 3 items linked" in ana.last_text()
    rows = await evidence_rows(bot)
    assert rows[2:] == [
        ("C1", "proposal", proposal.id, ""),
        ("C1", "meeting", meeting.id, "The town hall asked for it"),
    ]
    # An item already linked is marked, and tapping it again links nothing twice.
    await ana.press("Link evidence")
    await ana.press("Proposals")
    await ana.press("(1)")
    assert "1. ✓ 💡" in ana.last_text()
    await ana.press("🔗 1")
    assert "already linked" in (ana.callback_answer() or "")

    # Unlinking asks first, then removes only that link (audited).
    await ana.send("/evidence C1")
    await ana.press("Unlink 2")
    assert ana.last_text().startswith("Unlink this item from C1?")
    await ana.press("Yes, unlink it")
    assert ana.callback_answer() == "Unlinked from C1."
    assert "Evidence: 2 items linked" in ana.last_text()
    assert [r[1] for r in await evidence_rows(bot) if r[0] == "C1"] == ["answer", "meeting"]
    [entry] = await bot.store.audit.recent(1)
    assert (entry.action, entry.target) == ("evidence_unlink", "clause:C1")


async def staff_in(bot: BotUnderTest, telegram_id: int, username: str, language: str) -> Person:
    """A member speaking `language` whom the config admin (9000) made staff."""
    await add_member(bot, telegram_id, language, name=username.title(), username=username)
    person = bot.person(telegram_id, username.title(), language, username=username)
    admin = bot.person(9000, "Admin", "en")
    await admin.send(f"/grant @{username} staff")
    assert "granted" in admin.last_text()
    return person


async def test_forged_and_stale_evidence_buttons_link_nothing(answered: Answered) -> None:
    bot = answered.bot
    ana = await staff(bot, 500, "ana", "staff")
    await send_file(bot, ana, "draft.md", CLAUSES.encode())
    await ana.send("/evidence")
    message = ana.last().message_id
    # A real clause's number (its row's, however the backend numbers rows): the forgeries below
    # that name it are refused for what follows it.
    n = (await bot.store.evidence.clauses())[0].number
    forged = (
        "v1:evd:c:999:0",  # no such clause
        "v1:evd:c:²:0",  # a digit int() would refuse
        f"v1:evd:c:{n}",  # the wrong shape
        f"v1:evd:k:{n}:x:1",  # no such kind of item
        f"v1:evd:k:{n}:a:99999999",  # no such answer
        f"v1:evd:a:{n}:1:99:0",  # no such question
        f"v1:evd:p:{n}:99:0",  # no such theme
        f"v1:evd:n:{n}:a:99999999999999999999",  # past what a button may carry
        f"v1:evd:U:{n}:12345",  # no such link
    )
    for data in forged:
        await ana.press_data(message, data, forge=True)
        assert "not valid" in (ana.callback_answer() or ""), data
    # A member presses a real button of staff's: refused, in their language.
    somebody = answered.person(RESPONDENTS[0])
    await somebody.send("/help")
    await somebody.press_data(somebody.last().message_id, "v1:evd:s:1", forge=True)
    assert somebody.callback_answer() == bot.services.texts.plain("es", "staff.refused")
    assert await evidence_rows(bot) == []


async def test_phrases_by_buttons_offer_free_text_questions_and_themes(answered: Answered) -> None:
    bot = answered.bot
    # The five members in Quebec propose, all about access to health; one in Ontario.
    quebeckers = [who for who in RESPONDENTS if who.region == "QC"]
    ontario = next(who for who in RESPONDENTS if who.region == "ON")
    for who, text in zip([*quebeckers, ontario], [*COMMENTS[:5], COMMENTS[5]], strict=True):
        await bot.services.proposals.submit(await member(answered, who), "protection", text)
    ana = await staff(bot, 500, "ana", "staff")
    await ana.send("/phrases")
    assert ana.buttons()[:2] == [
        "📋 #1 Diaspora consultation — round 1",
        "💡 Proposals of a theme",
    ]
    await ana.press("Diaspora consultation")
    # Only what people wrote in their own words: no choices, numbers or metadata.
    assert ana.buttons() == ["✍ What keeps you from voting from abroad?", "◂ Back", "✖ Cancel"]
    await ana.press("What keeps you")
    await ana.press("By country")
    text = ana.last_text()
    assert text.startswith("Key phrases of What keeps you from voting from abroad? (by country)")
    assert "Canada: fewer than 5 answers, not shown." in text

    await ana.send("/phrases")
    await ana.press("Proposals of a theme")
    await ana.press("Protection")
    await ana.press("By province / state")
    text = ana.last_text()
    assert "Key phrases of the proposals on" in text and "(by province / state)" in text
    quebec = next(line for line in text.splitlines() if line.startswith("Quebec:"))
    assert "acceso a la salud (5)" in quebec.casefold() and "CA-QC" not in text
    # In the reader's language: sectors and countries by their names.
    zoe = await staff_in(bot, 501, "zoe", "fr")
    await zoe.send("/phrases")
    await zoe.press("Propositions d’un thème")
    await zoe.press("Protection")
    await zoe.press("Par secteur")
    assert "(par secteur)" in zoe.last_text()
    assert any(x.startswith("Milieu universitaire :") for x in zoe.last_text().splitlines())


async def test_members_cannot_read_phrases_or_evidence(answered: Answered) -> None:
    bot = answered.bot
    await add_member(bot, 600, "fr")
    person = bot.person(600, "M", "fr")
    refusal = bot.services.texts.get("fr", "staff.refused")
    for command in ("/evidence", "/evidence C1", "/phrases"):
        await person.send(command)
        assert person.last_text() == refusal, command
    assert await bot.store.conversations.get(600) is None


async def test_a_focal_point_reads_key_phrases_of_their_own_theme_only(answered: Answered) -> None:
    bot = answered.bot
    texts = bot.services.texts
    await add_member(bot, 650, "en", name="Fay", username="fay")
    fay = bot.person(650, "Fay", "en", username="fay")
    admin = bot.person(9000, "Admin", "en")
    await admin.send("/grant @fay focal_point theme:protection")
    await fay.send("/phrases")
    await fay.press("Proposals of a theme")
    protection = texts.label("en", "theme", "protection")
    assert fay.buttons() == [protection, "◂ Back", "✖ Cancel"]
    await fay.press(protection)
    # The right is read again at the end: revoked meanwhile, nothing is shown.
    await admin.send("/revoke @fay focal_point theme:protection")
    assert "revoked" in admin.last_text()
    await fay.press("By country")
    assert fay.last_text() == texts.get("en", "staff.refused")
