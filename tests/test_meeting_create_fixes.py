"""A coordinator's trial of /newmeeting and the meeting card, in chat: places read as /broadcast
reads them (unknown ones named and refused), no invitation to nobody, the preview's edits for
who is invited, the answer deadline and the zone, a place or a link asked where it is missing,
minutes only once a meeting has begun, stale acts ended, and a new time confirmed first."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from bot.clock import ManualClock
from storage.models import AudienceFilter
from tests.harness import BotUnderTest, Person, add_coordinator, add_member, notices
from tests.test_meetings_chat import (  # noqa: F401
    clock,
    mbot,
    only_meeting,
    press_any,
    service_meeting,
    wait_for,
    year,
)


async def cast(bot: BotUnderTest) -> Person:
    """Marisol (Houston, coordinator) and four members in El Paso, Houston, Montréal, LA."""
    marisol = await add_coordinator(bot, 300)
    await add_member(
        bot, 301, "en", region="CA", city="Los Angeles", time_zone="America/Los_Angeles"
    )
    await add_member(bot, 302, "fr", region="TX", city="El Paso", time_zone="America/Denver")
    await add_member(
        bot, 303, "es", country="CA", region="QC", city="Montréal", time_zone="America/Toronto"
    )
    await add_member(bot, 304, "es", region="TX", city="Houston")
    return marisol


async def up_to_places(marisol: Person, year: int) -> None:  # noqa: F811
    """A local meeting answered up to "who is invited"."""
    await marisol.send("/newmeeting")
    await marisol.press("Local")
    await marisol.send("Reunión de Texas")
    await marisol.press("Omitir")  # no description
    await marisol.press("Mantener")
    await marisol.send(f"{year}-12-15 19:00")
    await marisol.press("90 min")
    await marisol.press("Omitir")  # no link
    await marisol.send("Centro comunitario, Houston")
    await marisol.press("Omitir")  # no capacity
    await marisol.press("Omitir")  # no deadline
    await marisol.press("24 h y 1 h")
    assert "¿A quién se invita?" in marisol.last_text()


def plain(text: str) -> str:
    return text.replace("<b>", "").replace("</b>", "")


async def test_places_are_read_as_broadcast_reads_them_and_unknown_ones_are_named(
    mbot: BotUnderTest,  # noqa: F811
    year: int,  # noqa: F811
) -> None:
    marisol = await cast(mbot)
    await up_to_places(marisol, year)
    # "Elpaso" is no state and no member's city: named, asked again, Texas kept one press away.
    await marisol.send("Texas, Elpaso")
    reason = marisol.transcript()[-2].text or ""
    assert reason.startswith("⚠️ No encontramos «Elpaso» entre los estados"), reason
    assert "¿A quién se invita?" in marisol.last_text()
    assert "✅ Solo US-TX" in marisol.buttons()
    conversation = await mbot.store.conversations.get(300)
    assert conversation is not None and conversation.step == "places"
    assert "places" not in conversation.state["values"]
    await marisol.press("Solo US-TX")
    preview = plain(marisol.last_text())
    assert "Vista previa" in preview and "Texas (US-TX)" in preview
    assert "Se invitará a 2 miembros." in preview  # El Paso and Houston; Marisol organises

    # From the preview: a state by its two letters and a city typed without its accent.
    await marisol.press("Invitados")
    await marisol.send("qc, montreal")
    preview = plain(marisol.last_text())
    assert "Montréal — Quebec (CA-QC)" in preview and "Se invitará a 1 miembro." in preview

    # A state and a city in another: nobody. Said, and no Create.
    await marisol.press("Invitados")
    await marisol.send("tx, Montréal")
    preview = plain(marisol.last_text())
    assert "Ningún miembro coincide" in preview and "Se invitará" not in preview
    assert not any("Crear" in label for label in marisol.buttons())
    assert "✏️ Invitados" in marisol.buttons()
    assert await mbot.store.meetings.listing() == []

    await marisol.press("Invitados")
    await marisol.send("Québec")
    assert "Se invitará a 1 miembro." in plain(marisol.last_text())
    await marisol.press("Crear e invitar")
    meeting = await only_meeting(mbot)
    assert meeting.audience == AudienceFilter(regions=("CA-QC",))
    await wait_for(mbot, 303, "Invitación")
    assert notices(mbot, 302, "Invitation") == [] and notices(mbot, 304, "Invitación") == []


async def test_a_state_code_of_no_state_is_refused_and_nothing_is_kept(
    mbot: BotUnderTest,  # noqa: F811
    year: int,  # noqa: F811
) -> None:
    marisol = await cast(mbot)
    await up_to_places(marisol, year)
    await marisol.send("US-ZZ")
    assert (marisol.transcript()[-2].text or "").startswith("⚠️ No encontramos «US-ZZ»")
    assert not any(label.startswith("✅") for label in marisol.buttons())
    await marisol.send("Houston")
    assert "Se invitará a 1 miembro." in plain(marisol.last_text())


async def national_up_to_the_link(bot: BotUnderTest, year: int) -> Person:  # noqa: F811
    """A coordinator's national meeting typed up to its link: title, zone kept, date, 90 min."""
    marisol = await cast(bot)
    await marisol.send("/newmeeting")
    await marisol.press("Nacional")
    await marisol.send("Asamblea")
    await marisol.press("Omitir")
    await marisol.press("Mantener")
    await marisol.send(f"{year}-12-15 19:00")
    await marisol.press("90 min")
    return marisol


async def test_a_place_or_a_link_is_asked_where_the_second_is_skipped(
    mbot: BotUnderTest,  # noqa: F811
    year: int,  # noqa: F811
) -> None:
    marisol = await national_up_to_the_link(mbot, year)
    await marisol.press("Omitir")  # no link: the place is still to come
    assert marisol.last_text().startswith("Lugar")
    await marisol.press("Omitir")  # no place either: refused here, not six steps later
    assert marisol.transcript()[-2].text == "⚠️ Indica un lugar, un enlace para conectarse, o ambos."
    assert marisol.last_text().startswith("Lugar")
    await marisol.send("Consulado, Houston")
    assert marisol.last_text().startswith("Cupo")
    await marisol.press("Omitir")
    await marisol.press("Omitir")
    await marisol.press("Sin recordatorios")
    assert "Vista previa" in marisol.last_text()
    # From the preview: the place skipped while there is no link is refused the same way.
    await marisol.press("✏️ Lugar")
    await marisol.press("Omitir")
    assert marisol.transcript()[-2].text == "⚠️ Indica un lugar, un enlace para conectarse, o ambos."
    await marisol.send("Consulado, Houston")
    assert "Vista previa" in marisol.last_text()


async def test_the_preview_edits_who_is_invited_the_deadline_and_the_zone(
    mbot: BotUnderTest,  # noqa: F811
    year: int,  # noqa: F811
) -> None:
    marisol = await national_up_to_the_link(mbot, year)
    await marisol.send("https://meet.example.org/x")
    for _ in range(3):
        await marisol.press("Omitir")  # place, capacity, deadline
    await marisol.press("Sin recordatorios")
    labels = marisol.buttons()
    assert {"✏️ Invitados", "✏️ Fecha límite", "✏️ Zona horaria"} <= set(labels)
    assert "Se invitará a 4 miembros." in plain(marisol.last_text())
    # Typed at the preview: told where changes are made, the preview shown again.
    await marisol.send("US-TX")
    assert (marisol.transcript()[-2].text or "").startswith("Aquí no hace falta escribir")
    assert "Vista previa" in marisol.last_text()
    # The zone: the same wall clock, now Mountain time.
    await marisol.press("Zona horaria")
    await marisol.press("Denver")
    assert "hora de las Montañas Rocosas" in marisol.last_text()
    # The deadline, added without starting again.
    await marisol.press("Fecha límite")
    await marisol.send(f"{year}-12-14 12:00")
    assert "Vista previa" in marisol.last_text()
    # Who is invited, for a national meeting: the kind, then the places the new kind needs.
    await marisol.press("Invitados")
    assert "¿Qué tipo de reunión?" in marisol.last_text()
    await marisol.press("Local")
    assert "¿A quién se invita?" in marisol.last_text()
    await marisol.send("US-TX")
    assert "Se invitará a 2 miembros." in plain(marisol.last_text())
    await marisol.press("Crear e invitar")
    meeting = await only_meeting(mbot)
    assert meeting.zone == "America/Denver" and meeting.kind == "local"
    assert meeting.start_at == datetime(year, 12, 16, 2, 0, tzinfo=UTC)
    assert meeting.rsvp_deadline == datetime(year, 12, 14, 19, 0, tzinfo=UTC)
    assert meeting.audience == AudienceFilter(regions=("US-TX",))


async def test_minutes_only_once_begun_and_stale_acts_end_with_the_reason(
    mbot: BotUnderTest,  # noqa: F811
    clock: ManualClock,  # noqa: F811
    year: int,  # noqa: F811
) -> None:
    marisol = await add_coordinator(mbot, 300)
    meeting = await service_meeting(mbot, year, by=await mbot.store.actors.of(300))
    await marisol.send("/meetings")
    card = next(m for m in marisol.transcript() if (m.text or "").startswith("🗂"))
    labels = [button["text"] for button in card.buttons()]
    assert "🕒 Cambiar hora" in labels and not any("actas" in label for label in labels)
    # A forged (or old) minutes button before the start: said at once, nothing asked.
    await marisol.press_data(card.message_id, f"v1:mtg:{meeting.id}:n", forge=True)
    assert marisol.callback_answer() == "Las actas se agregan después de que empiece la reunión."
    assert await mbot.store.conversations.get(300) is None
    # Asked for the minutes once begun, typed after the clock went back: the act ends.
    clock.set(meeting.start_at + timedelta(minutes=5))
    await marisol.send("/meetings")
    await press_any(marisol, "Agregar actas")
    clock.set(meeting.start_at - timedelta(hours=1))
    await marisol.send("Acuerdos de la reunión.")
    assert marisol.last_text() == "⚠️ Las actas se agregan después de que empiece la reunión."
    assert await mbot.store.conversations.get(300) is None
    assert (await only_meeting(mbot)).minutes is None

    # A new time being typed while the meeting is cancelled: the act ends, nothing asked again.
    await press_any(marisol, "Cambiar hora")
    await mbot.services.meetings.cancel(meeting.id, "m-test")
    await marisol.send(f"{year}-12-06 10:00")
    await marisol.press("Cambiar y avisar")
    assert marisol.last_text() == "⚠️ Lo sentimos: esa reunión fue cancelada."
    assert await mbot.store.conversations.get(300) is None
    # The stale card's button afterwards: refused on the press.
    await marisol.press_data(card.message_id, f"v1:mtg:{meeting.id}:r")
    assert marisol.callback_answer() == "Lo sentimos: esa reunión fue cancelada."
    assert await mbot.store.conversations.get(300) is None


async def test_a_new_time_is_said_back_and_confirmed_before_anyone_is_told(
    mbot: BotUnderTest,  # noqa: F811
    year: int,  # noqa: F811
) -> None:
    marisol = await add_coordinator(mbot, 300)
    await add_member(mbot, 304, "es", region="TX", city="Houston")
    meeting = await service_meeting(mbot, year, by=await mbot.store.actors.of(300))
    member = mbot.person(304, "Rosa", "es")
    await wait_for(mbot, 304, "Invitación")
    await member.press("Sí")
    await marisol.send("/meetings")
    await press_any(marisol, "Cambiar hora")
    # A typo of a year: said back with the year, nothing moved, nobody told.
    await marisol.send(f"{year + 1}-12-06 10:00")
    confirm = marisol.last_text()
    assert f"6 de diciembre de {year + 1}, 10:00" in confirm, confirm
    assert {"✅ Cambiar y avisar", "✏️ Otra fecha"} <= set(marisol.buttons())
    assert (await only_meeting(mbot)).start_at == meeting.start_at
    await marisol.press("Otra fecha")
    assert "Nueva fecha y hora" in marisol.last_text()
    await marisol.send(f"{year}-12-05 11:00")
    confirm = marisol.last_text()
    assert "sábado, 5 de diciembre, 11:00" in confirm and str(year) not in confirm, confirm
    assert notices(mbot, 304, "Nueva fecha u hora") == []
    await marisol.press("Cambiar y avisar")
    assert "movida" in marisol.last_text()
    moved = await only_meeting(mbot)
    assert moved.start_at == datetime(year, 12, 5, 17, 0, tzinfo=UTC)
    # The check-in code is the meeting's, not the time's: the same after the move.
    assert moved.checkin_code == meeting.checkin_code
    await wait_for(mbot, 304, "Nueva fecha u hora")
