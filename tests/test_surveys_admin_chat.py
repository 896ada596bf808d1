"""Staff open and close surveys in chat only: the real example form uploaded as a document, the
audience built on /broadcast's screens, a closing date typed as people say it, the preview's count,
members invited in chat; /surveys' Close with its confirmation; a survey for a meeting's people."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from bot.clock import OffsetClock
from bot.services.meetings import MeetingRequest
from tests.harness import TOKEN, BotUnderTest, Person, add_member
from tests.survey_fixture import wait_for_start

FORM = Path(__file__).resolve().parent.parent / "examples" / "consultation_round1.xlsx"
TORONTO = ZoneInfo("America/Toronto")


async def staff_member(bot: BotUnderTest, telegram_id: int = 500) -> Person:
    """Sam, an English-speaking member in Toronto whom the config admin (9000) made staff."""
    await add_member(
        bot, telegram_id, "en", name="Sam", username="sam", country="CA", region="ON",
        time_zone="America/Toronto",
    )  # fmt: skip
    admin = bot.person(9000, "Admin", "en")
    await admin.send("/grant @sam staff")
    assert "granted" in admin.last_text()
    return bot.person(telegram_id, "Sam", "en", username="sam")


async def upload(bot: BotUnderTest, person: Person) -> str:
    """The person sends the example form as a document; the bot's answer."""
    update = bot.emulator.send_document(TOKEN, person.id, "round1.xlsx", FORM.read_bytes())
    await bot.processor.wait_done(update, timeout=60)
    return person.last_text()


async def members(bot: BotUnderTest) -> dict[int, Person]:
    """Three members: in Quebec (es), Ontario (en) and New York (fr)."""
    await add_member(bot, 701, "es", country="CA", region="QC", time_zone="America/Toronto")
    await add_member(bot, 702, "en", country="CA", region="ON", time_zone="America/Toronto")
    await add_member(bot, 703, "fr", country="US", region="NY", time_zone="America/New_York")
    return {telegram_id: Person(bot, telegram_id) for telegram_id in (701, 702, 703)}


async def no_invitation(person: Person, survey_id: int) -> bool:
    await asyncio.sleep(0.3)  # the delivery worker has had its chance
    data = f"v1:svy:s:{survey_id}"
    return not any(b.get("callback_data") == data for m in person.transcript() for b in m.buttons())


async def test_a_form_uploaded_in_chat_is_opened_to_a_country_until_a_date_and_closed(
    bot: BotUnderTest, running_clock: OffsetClock
) -> None:
    people = await members(bot)
    sam = await staff_member(bot)
    loaded = await upload(bot, sam)
    assert "Survey #1 loaded: consultation_round1 version 2025-1" in loaded
    assert "consultbot" not in loaded
    assert sam.buttons() == ["▶ Open #1 for members…"]

    await sam.press("Open #1 for members")
    intro = sam.transcript()[-2].text or ""
    assert intro.startswith("Opening survey #1 “Diaspora consultation — round 1”. Who is it for?")
    assert "Recipients now: 4" in sam.last_text()  # the three members and Sam
    # The audience is /broadcast's own: its filters, its live count.
    await sam.press("Country")
    await sam.press("Canada")
    await sam.press("Back to the audience")
    assert "Recipients now: 3" in sam.last_text()
    await sam.press("Continue")
    asked = sam.last_text()
    assert "Until when can members answer?" in asked and "(America/Toronto)" in asked

    await sam.send("sometime soon")
    unread = bot.services.texts.get("en", "meeting.error.when_format")
    assert sam.transcript()[-2].text == f"⚠️ {unread}"
    yesterday = (running_clock.now().astimezone(TORONTO) - timedelta(days=1)).date()
    await sam.send(f"{yesterday:%Y-%m-%d} 18:00")
    assert "The closing time is in the past." in (sam.transcript()[-2].text or "")
    await sam.send("tomorrow 6pm")
    preview = sam.last_text()
    tomorrow = (running_clock.now().astimezone(TORONTO) + timedelta(days=1)).date()
    assert preview.startswith("Open survey #1 “Diaspora consultation — round 1”")
    assert "Audience: Country = Canada" in preview and "Invited: 3 members" in preview
    assert f"Closes: {tomorrow:%A}" in preview and "6:00" in preview
    await sam.press("Open and invite 3 members")
    assert sam.last_text() == (
        "✅ Survey #1 “Diaspora consultation — round 1” is open: 3 members invited. "
        "Close it from /surveys."
    )
    survey = await bot.services.surveys.survey(1)
    assert survey is not None and survey.status == "open" and survey.closes_at is not None
    local = survey.closes_at.astimezone(TORONTO)
    assert (local.date(), local.hour, local.minute) == (tomorrow, 18, 0)
    # Invited in chat: the Canadians get the invitation, New York does not.
    for telegram_id in (701, 702):
        await people[telegram_id].press_data(
            await wait_for_start(people[telegram_id], 1), "v1:svy:s:1"
        )
    assert "Continuar" in " ".join(people[701].buttons())
    assert await no_invitation(people[703], 1)
    # The borrowed audience is no notice: nothing else was sent, /broadcasts lists nothing queued.
    assert await bot.store.database.fetch_all("SELECT 1 FROM outbox WHERE kind = 'broadcast'") == []

    await sam.send("/surveys")
    listing = sam.last_text()
    assert "Surveys you manage" in listing
    assert "• #1 Diaspora consultation — round 1 — open until" in listing
    assert "3 members invited" in listing
    await sam.press("Close #1")
    assert sam.last_text().startswith("Close survey #1 “Diaspora consultation — round 1” now?")
    await sam.press("Keep it open")
    assert sam.last_text() == "Survey #1 “Diaspora consultation — round 1” stays open."
    assert (await bot.services.surveys.survey(1)).status == "open"  # type: ignore[union-attr]
    await sam.send("/surveys")
    await sam.press("Close #1")
    await sam.press("Yes, close it now")
    assert sam.last_text().startswith("⏹ Survey #1 “Diaspora consultation — round 1” is closed")
    assert (await bot.services.surveys.survey(1)).status == "closed"  # type: ignore[union-attr]
    await people[702].press_data(await wait_for_start(people[702], 1), "v1:svy:s:1")
    assert "has closed" in (people[702].callback_answer() or "")
    await sam.send("/surveys")
    assert "— closed · 3 members invited" in sam.last_text() and sam.buttons() == []


async def test_a_survey_for_those_who_attended_a_meeting_from_meetings(
    bot: BotUnderTest, running_clock: OffsetClock
) -> None:
    people = await members(bot)
    sam = await staff_member(bot)
    await upload(bot, sam)
    meetings = bot.services.meetings
    start = running_clock.now().astimezone(TORONTO) + timedelta(days=2)
    meeting = await meetings.create(
        MeetingRequest(
            titles={"es": "Asamblea", "en": "Town hall", "fr": "Assemblée"}, kind="national",
            start=f"{start:%Y-%m-%d} 10:00", zone="America/Toronto", duration=60,
            venue="Consulado",
        ),
        "op",
    )  # fmt: skip
    for telegram_id in (701, 702, 703):
        member = await bot.services.registration.member(telegram_id)
        assert member is not None
        await meetings.rsvp(meeting.id, member, "yes")
    running_clock.set(meeting.start_at - timedelta(minutes=10))
    came = await bot.services.registration.member(702)
    assert came is not None
    await meetings.check_in(came, meeting_id=meeting.id)

    await sam.send("/meetings")
    # Sam's own invitation comes after the organiser's card: press the card's button.
    card = next(m for m in reversed(sam.transcript()) if "📋" in str(m.buttons()))
    survey_button = next(b for b in card.buttons() if b["text"].startswith("📋"))
    assert survey_button["text"] == "📋 Survey for those who attended / said Yes"
    await sam.press_data(card.message_id, survey_button["callback_data"])
    assert "Town hall" in sam.last_text()
    assert sam.buttons() == ["Those who attended (1 person)", "Those who said Yes (3 people)"]
    await sam.press("Those who attended")
    await sam.press("#1 Diaspora consultation")
    assert "Recipients now: 1" in sam.last_text()
    assert f"meeting #{meeting.id}" in sam.last_text()
    await sam.press("Continue")
    await sam.press("Skip")
    preview = sam.last_text()
    assert "Invited: 1 member\n" in preview and "Closes: when you close it (/surveys)" in preview
    await sam.press("Open and invite 1 member")
    assert "is open: 1 member invited" in sam.last_text()
    survey = await bot.services.surveys.survey(1)
    assert survey is not None
    assert (survey.meeting_id, survey.meeting_filter) == (meeting.id, "attended")
    await wait_for_start(people[702], 1)
    assert await no_invitation(people[701], 1) and await no_invitation(people[703], 1)


async def test_refused_cancelled_stale_and_forged_opening(bot: BotUnderTest) -> None:
    await members(bot)
    sam = await staff_member(bot)
    await upload(bot, sam)
    message = sam.last().message_id
    # A member with no role: no upload, no opening, no closing.
    member = Person(bot, 701)
    await member.send("/surveys")
    assert member.last_text() == bot.services.texts.get("es", "survey.list.none")
    for data in ("v1:sva:o:1", "v1:sva:C:1", "v1:sva:m:1"):
        await member.press_data(member.last().message_id, data, forge=True)
        assert member.callback_answer() == bot.services.texts.plain("es", "staff.refused")
    for data in ("v1:sva:o:999", "v1:sva:x:1", "v1:sva:o:²", "v1:sva:w:1:z", "v1:sva:o"):
        await sam.press_data(message, data, forge=True)
        assert "not valid" in (sam.callback_answer() or ""), data

    # Typed text while the audience is shown: a filter's values, or a pointer to the buttons.
    await sam.press("Open #1 for members")
    await sam.send("hello")
    assert sam.last_text() == "Choose the audience with the buttons above (or /cancel)."
    await sam.press("Province/state")
    await sam.send("Quebec, NY")
    assert "Province/state = CA-QC — Quebec, US-NY — New York" in sam.last_text()
    assert "Recipients now: 2" in sam.last_text()
    audience = sam.last().message_id
    await sam.send("/cancel")
    assert sam.last_text() == "Survey #1 was not opened; it stays a draft."
    await sam.press_data(audience, "v1:bc:preview:" + _draft_of(sam, audience), forge=True)
    assert "not valid" in (sam.callback_answer() or "")
    assert (await bot.services.surveys.survey(1)).status == "draft"  # type: ignore[union-attr]

    # Another flow took over the conversation: Continue on the audience shows no empty notice.
    await sam.press_data(message, "v1:sva:o:1")
    audience = sam.last().message_id
    await sam.send("/export")
    await sam.press_data(audience, "v1:bc:preview:" + _draft_of(sam, audience), forge=True)
    assert "not valid" in (sam.callback_answer() or "")
    await sam.send("/cancel")

    # Opened once; the same button again is refused, and an old preview opens nothing twice.
    await sam.press_data(message, "v1:sva:o:1")
    await sam.press("Continue")
    await sam.press("Skip")
    preview = sam.last().message_id
    old_open = next(b for b in _buttons(sam, preview) if "Open and invite" in b["text"])
    await sam.press("Change the audience")
    assert "Recipients now: 4" in sam.last_text()
    await sam.press("Continue")
    await sam.press("Skip")
    # The first preview's Open, pressed now (the question numbers went on): stale.
    await sam.press_data(preview, old_open["callback_data"], forge=True)
    assert sam.callback_answer() == bot.services.texts.plain("en", "error.button_unknown")
    assert (await bot.services.surveys.survey(1)).status == "draft"  # type: ignore[union-attr]
    await sam.press("Open and invite 4 members")
    await sam.press_data(message, "v1:sva:o:1")
    assert sam.callback_answer() == "Survey #1 was opened already."
    rows = await bot.store.database.fetch_all("SELECT count(*) FROM survey_participants")
    assert rows[0][0] == 4


def _buttons(person: Person, message_id: int) -> list[dict[str, str]]:
    return next(m for m in person.transcript() if m.message_id == message_id).buttons()


def _draft_of(person: Person, message_id: int) -> str:
    """The draft number the audience screen's buttons carry (v1:bc:<action>:<draft>...)."""
    data = _buttons(person, message_id)[0]["callback_data"]
    return data.split(":")[3]
