"""Meetings as people type them: dates in words (es/en/fr) echoed back, links without a scheme,
descriptions in each language, reminders as chosen, the invited count; and a notice's time."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot.clock import ManualClock
from bot.services import typed_dates
from bot.services.errors import InputError
from tests.harness import BotUnderTest, Person, add_coordinator, add_member
from tests.test_meetings_chat import clock, mbot, only_meeting, year  # noqa: F401

CHICAGO = ZoneInfo("America/Chicago")


async def start_national(marisol: Person) -> None:
    """/newmeeting up to the date question (Marisol types her times in Chicago)."""
    await marisol.send("/newmeeting")
    await marisol.press("Nacional")
    await marisol.send("Asamblea nacional")
    await marisol.press("Omitir")
    await marisol.press("Mantener")


async def test_dates_typed_in_words_are_echoed_before_going_on(
    mbot: BotUnderTest,  # noqa: F811
    year: int,  # noqa: F811
) -> None:
    marisol = await add_coordinator(mbot, 300)
    await add_member(mbot, 301, "es")  # someone to invite: no Create for an audience of none
    await start_national(marisol)
    # The example is computed from the clock: the coming Saturday (the clock is Sat Nov 28).
    assert "sábado 5 de diciembre 10:00" in marisol.last_text()
    answers = await marisol.send("sábado 12 de diciembre 10:00")
    assert (
        answers[0].text
        == "📅 Entendido: sábado, 12 de diciembre, 10:00\u202fa.\u202fm., hora central."
    )
    assert "dura" in marisol.last_text()  # and on to the next question
    await marisol.press("90 min")
    await marisol.send("zoom.us/j/123456")  # no scheme: https:// is added
    await marisol.press("Omitir")  # no venue
    await marisol.press("Omitir")  # no capacity
    await marisol.press("Omitir")  # no deadline
    await marisol.press("24 h y 1 h")
    assert "Vista previa" in marisol.last_text()
    # Two more ways to type it, from the preview's edit button.
    await marisol.press("Fecha y hora")
    answers = await marisol.send("mañana a las 18h")
    assert (
        answers[0].text
        == "📅 Entendido: domingo, 29 de noviembre, 6:00\u202fp.\u202fm., hora central."
    )
    await marisol.press("Fecha y hora")
    await marisol.send("12/12 10h")
    preview = marisol.last_text()
    assert "sábado, 12 de diciembre, 10:00\u202fa.\u202fm." in preview
    assert "🔗 https://zoom.us/j/123456" in preview
    await marisol.press("Crear e invitar")
    meeting = await only_meeting(mbot)
    assert meeting.start_at == datetime(year, 12, 12, 10, 0, tzinfo=CHICAGO)
    assert meeting.online_url == "https://zoom.us/j/123456"


async def test_an_unreadable_or_dayless_date_is_asked_again(
    mbot: BotUnderTest,  # noqa: F811
    year: int,  # noqa: F811
) -> None:
    marisol = await add_coordinator(mbot, 300)
    await start_national(marisol)
    asked = marisol.last_text()
    for odd in ("pronto", "10am", "diciembre 10:00", "mañana", f"{year}-13-05 10:00"):
        answers = await marisol.send(odd)
        assert (answers[0].text or "").startswith("⚠️ No entendemos esa fecha y hora"), odd
        assert marisol.last_text() == asked
    # 08:00 today has passed: the clock reads 09:00 in Chicago.
    answers = await marisol.send(f"{year}-11-28 08:00")
    assert (answers[0].text or "").startswith("⚠️ Esa hora ya pasó")


async def test_an_english_organiser_types_december_twelfth_ten_am(
    mbot: BotUnderTest,  # noqa: F811
    year: int,  # noqa: F811
) -> None:
    await add_member(mbot, 305, "en", username="tom", time_zone="America/Toronto")
    tom = mbot.person(305, "Tom", "en", username="tom")
    admin = mbot.person(9000, "Admin", "en")
    await admin.send("/grant @tom coordinator")
    await tom.send("/newmeeting")
    await tom.press("National")
    await tom.send("Town hall")
    await tom.press("Skip")
    await tom.press("Keep")
    assert "Dec 5 10am" in tom.last_text()
    answers = await tom.send("Dec 12 10am")
    assert answers[0].text == "📅 Got it: Saturday, December 12, 10:00\u202fAM, Eastern Time."


async def test_descriptions_titles_and_reminders_in_the_preview(
    mbot: BotUnderTest,  # noqa: F811
    year: int,  # noqa: F811
) -> None:
    marisol = await add_coordinator(mbot, 300)
    for n in range(3):
        await add_member(mbot, 320 + n, "es")
    await marisol.send("/newmeeting")
    await marisol.press("Nacional")
    await marisol.send("Asamblea")
    await marisol.send("Traigan propuestas.")
    await marisol.press("Mantener")
    await marisol.send(f"{year}-12-05 10:00")
    await marisol.press("90 min")
    await marisol.send("https://meet.example.org/a")
    await marisol.press("Omitir")
    await marisol.send("2")  # a capacity: the link is for confirmed seats
    answers = await marisol.send("viernes 4 de diciembre 18h")
    assert (
        answers[0].text
        == "⏳ Respuestas hasta: viernes, 4 de diciembre, 6:00\u202fp.\u202fm., hora central."
    )
    await marisol.press("24 h y 1 h")
    await marisol.press("Título en inglés")
    await marisol.send("Assembly")
    await marisol.press("Descripción en inglés")
    await marisol.send("Bring proposals.")
    preview = marisol.last_text()
    assert "🌐 En inglés: Assembly" in preview and "Bring proposals." in preview
    assert "Recordatorios: 24 h y 1 h antes" in preview
    # As a member without a seat reads it, and the organiser's own note with the link.
    assert "El enlace para conectarse llega a quienes tengan lugar confirmado" in preview
    assert "Solo quienes tengan lugar confirmado reciben el enlace: https://meet" in preview
    # Three members; Marisol, who organises, is not counted.
    assert "Se invitará a 3 miembros" in preview
    await marisol.press("Crear e invitar")
    assert "3 invitaciones" in marisol.last_text()
    meeting = await only_meeting(mbot)
    assert meeting.descriptions == {"es": "Traigan propuestas.", "en": "Bring proposals."}
    assert meeting.titles == {"es": "Asamblea", "en": "Assembly"}
    assert meeting.rsvp_deadline == datetime(year, 12, 4, 18, 0, tzinfo=CHICAGO)


async def test_a_scheduled_notice_reads_the_same_words(
    mbot: BotUnderTest,  # noqa: F811
    clock: ManualClock,  # noqa: F811
    year: int,  # noqa: F811
) -> None:
    marisol = await add_coordinator(mbot, 300)
    await add_member(mbot, 330, "es")
    await marisol.send("/broadcast")
    await marisol.send("Asamblea mañana")
    await marisol.press("Continuar")
    await marisol.press("Continuar")
    await marisol.press("Cuándo: ahora")
    await marisol.press("En una fecha y hora")
    assert "sábado 5 de diciembre 10:00" in marisol.last_text()  # from the clock
    await marisol.send("mañana a las 18h")
    draft = await mbot.services.broadcasts.draft(await mbot.store.actors.of(300))
    assert draft is not None
    assert draft.send_at == datetime(year, 11, 29, 18, 0, tzinfo=CHICAGO)
    assert "29 nov" in marisol.last_text() and "6:00\u202fp.\u202fm." in marisol.last_text()


@pytest.mark.parametrize("years", [-28, 0, 28])
@pytest.mark.parametrize("language", ["es", "en", "fr"])
def test_the_example_reads_back_as_the_coming_saturday(years: int, language: str) -> None:
    now = datetime(2026 + years, 11, 28, 15, 0, tzinfo=UTC)
    example = typed_dates.typing_example(now, "America/Chicago", language)
    parsed = typed_dates.parse_when(example, "America/Chicago", now, language)
    assert parsed == datetime(2026 + years, 12, 5, 10, 0, tzinfo=CHICAGO)


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("sábado 12 de diciembre 10:00", (12, 12, 10, 0)),
        ("mañana a las 18h", (11, 29, 18, 0)),
        ("Dec 12 10am", (12, 12, 10, 0)),
        ("12/12 10h", (12, 12, 10, 0)),
        ("samedi 12 décembre à 10 h 30", (12, 12, 10, 30)),
        ("demain à 18h", (11, 29, 18, 0)),
        ("el sábado a las 10", (12, 5, 10, 0)),
        ("viernes 4 de diciembre 6 de la tarde", (12, 4, 18, 0)),
    ],
)
@pytest.mark.parametrize("years", [-28, 0, 28])
def test_typed_dates_follow_the_clock_not_the_machine(
    typed: str, expected: tuple[int, int, int, int], years: int
) -> None:
    now = datetime(2026 + years, 11, 28, 15, 0, tzinfo=UTC)
    month, day, hour, minute = expected
    parsed = typed_dates.parse_when(typed, "America/Chicago", now, "es")
    assert parsed == datetime(2026 + years, month, day, hour, minute, tzinfo=CHICAGO)


def test_a_date_a_year_ahead_and_dst_refusals() -> None:
    now = datetime(2026, 12, 20, 15, 0, tzinfo=UTC)
    # December 12 passed last week: read as that day (the caller says it is past), not as a
    # meeting next December whose invitations would not show the year.
    assert typed_dates.parse_when("12/12 10h", "America/Chicago", now) == datetime(
        2026, 12, 12, 10, 0, tzinfo=CHICAGO
    )
    assert typed_dates.parse_when("27 de noviembre 10h", "America/Chicago", now) == datetime(
        2026, 11, 27, 10, 0, tzinfo=CHICAGO
    )
    # With its year it is next year's; a January day typed in December is the coming one.
    assert typed_dates.parse_when("12/12/2027 10h", "America/Chicago", now) == datetime(
        2027, 12, 12, 10, 0, tzinfo=CHICAGO
    )
    assert typed_dates.parse_when("15/01 10h", "America/Chicago", now) == datetime(
        2027, 1, 15, 10, 0, tzinfo=CHICAGO
    )
    with pytest.raises(InputError) as gap:
        typed_dates.parse_when("14 de marzo 2:30", "America/Chicago", now)
    assert gap.value.key == "meeting.error.dst_gap"
    soon = now + timedelta(days=1)
    assert typed_dates.parse_when(f"{soon:%Y-%m-%d} 10:00", "America/Chicago", now) == datetime(
        soon.year, soon.month, soon.day, 10, 0, tzinfo=CHICAGO
    )


# Saturday 28 November 2026, 09:00 in Chicago: "tomorrow 9am" names the clock's own minute.
NINE_AM = datetime(2026, 11, 28, 15, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("typed", "language", "expected"),
    [
        # Day and month in figures: a US-style date typed in Spanish or French is not year 2115.
        ("12/15 18:30", "es", (2026, 12, 15, 18, 30)),
        ("12/15 18:30", "fr", (2026, 12, 15, 18, 30)),
        ("15/12 18:30", "es", (2026, 12, 15, 18, 30)),
        ("12/15 6:30pm", "en", (2026, 12, 15, 18, 30)),
        # A typed time equal to the clock's minute is still a typed time.
        ("mañana a las 9", "es", (2026, 11, 29, 9, 0)),
        ("tomorrow 9am", "en", (2026, 11, 29, 9, 0)),
        ("demain 9h", "fr", (2026, 11, 29, 9, 0)),
        # "Next Tuesday" in each language.
        ("el próximo martes a las 7 de la noche", "es", (2026, 12, 1, 19, 0)),
        ("martes próximo 19h", "es", (2026, 12, 1, 19, 0)),
        ("mardi prochain 19h", "fr", (2026, 12, 1, 19, 0)),
        ("next Tuesday 7pm", "en", (2026, 12, 1, 19, 0)),
        # Yesterday is read, so that the caller can say it has passed.
        ("ayer a las 6", "es", (2026, 11, 27, 6, 0)),
    ],
)
def test_dates_as_organisers_type_them(
    typed: str, language: str, expected: tuple[int, int, int, int, int]
) -> None:
    parsed = typed_dates.parse_when(typed, "America/Chicago", NINE_AM, language)
    assert parsed == datetime(*expected, tzinfo=CHICAGO)


def test_a_day_without_a_time_is_its_last_minute_only_where_asked() -> None:
    with pytest.raises(InputError) as refused:
        typed_dates.parse_when("14 de diciembre", "America/Chicago", NINE_AM, "es")
    assert refused.value.key == "meeting.error.when_format"
    deadline = typed_dates.parse_when(
        "14 de diciembre", "America/Chicago", NINE_AM, "es", end_of_day=True
    )
    assert deadline == datetime(2026, 12, 14, 23, 59, tzinfo=CHICAGO)


@pytest.mark.parametrize(
    ("typed", "key"),
    [("13/25 18:30", "meeting.error.when_format"), ("15/12/2031 10h", "meeting.error.too_far")],
)
def test_impossible_and_far_dates_are_refused(typed: str, key: str) -> None:
    with pytest.raises(InputError) as refused:
        typed_dates.parse_when(typed, "America/Chicago", NINE_AM, "es")
    assert refused.value.key == key
