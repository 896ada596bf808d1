"""Issue 20's "done when": a coordinator's and a staff member's whole day, in chat only.

Marisol (coordinator, Spanish, Houston) creates a national meeting typing its date as people say
it; members answer and are reminded in their own zone and language; she marks who came by tapping
names and attaches the minutes. Sam (staff, English, Toronto) sends the example form as a
document, opens it from /meetings to those who attended, closes it from /surveys, reads /results,
sends "what we heard", exports the workbook (opened as an analyst would), sends the draft clauses,
links an answer to one by browsing /evidence, reads /phrases; the admin reads /audit. Every step
is pressed by the label the person reads, and each screen is checked as they see it.
"""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from io import BytesIO

import openpyxl

from bot.clock import ManualClock
from tests.harness import TOKEN, BotUnderTest, Person, add_member, notices
from tests.survey_fixture import RESPONDENTS, Respondent, answer_in_chat, example_form
from tests.test_exports_chat import CLAUSES
from tests.test_meetings_chat import (  # noqa: F401
    clock,
    mbot,
    only_meeting,
    press_any,
    tick,
    wait_for,
    wait_for_documents,
    year,
)
from tests.test_surveys_admin_chat import FORM

ADMIN = 9000
# Five members in Canada who will come (Quebec, Ontario, British Columbia; es, en, fr), and one
# who says No.
COMING = {801: "Lucía Pérez", 803: "Mateo Ruiz", 805: "Grace Lee", 806: "Owen Tremblay"}
COMING[810] = "Chloé Roy"
NOT_COMING = 802
YES = {"es": "Sí", "en": "Yes", "fr": "Oui"}


async def survey_invitation(bot: BotUnderTest, telegram_id: int) -> bool:
    """Whether the survey's invitation (its Start button) reached the person; the clock moves on
    a little meanwhile, so notices paced for later come due."""
    for _ in range(40):
        if any("v1:svy:s:1" in str(m.buttons()) for m in Person(bot, telegram_id).transcript()):
            return True
        tick(bot)
        await asyncio.sleep(0.05)
    return False


async def heard_with_card(bot: BotUnderTest, person: Person, marker: str) -> str:
    """The "what we heard" text the person got, once its card (a photo) has followed it; the
    clock moves on meanwhile, since one chat gets a message a second at most."""
    for _ in range(100):
        shown = [m for m in person.transcript() if m.direction == "out"]
        texts = [n for n, m in enumerate(shown) if marker in (m.text or "") and not m.photo]
        if texts and any(m.photo for m in shown[texts[0] + 1 :]):
            return shown[texts[0]].text or ""
        tick(bot)
        bot.services.wake_delivery()
        await asyncio.sleep(0.05)
    raise AssertionError(f"{person.id} never got {marker!r} with its card")


def respondent(telegram_id: int) -> Respondent:
    return next(who for who in RESPONDENTS if who.telegram_id == telegram_id)


async def cast(bot: BotUnderTest) -> tuple[Person, Person, Person]:
    """The admin grants the roles in chat; the members come with their profiles."""
    await add_member(
        bot, 300, "es", name="Marisol", username="marisol", country="US", region="TX",
        city="Houston", time_zone="America/Chicago",
    )  # fmt: skip
    await add_member(
        bot, 500, "en", name="Sam", username="sam", country="CA", region="ON",
        time_zone="America/Toronto",
    )  # fmt: skip
    for telegram_id in [*COMING, NOT_COMING]:
        who = respondent(telegram_id)
        await add_member(
            bot, telegram_id, who.language, name=COMING.get(telegram_id, "Diego Soto"),
            country=who.country, region=who.region, time_zone=who.zone, sector=who.sector,
        )  # fmt: skip
    admin = bot.person(ADMIN, "Admin", "en")
    await admin.send("/grant @marisol coordinator")
    await admin.send("/grant @sam staff")
    marisol = bot.person(300, "Marisol", "es", username="marisol")
    sam = bot.person(500, "Sam", "en", username="sam")
    assert "Ahora tienes el rol coordinación en la consulta" in marisol.last_text()
    assert "You now hold the staff role in the consultation" in sam.last_text()
    return admin, marisol, sam


async def test_a_coordinators_and_a_staff_members_day_in_chat(
    mbot: BotUnderTest,  # noqa: F811
    clock: ManualClock,  # noqa: F811
    year: int,  # noqa: F811
) -> None:
    bot = mbot
    texts = bot.services.texts
    admin, marisol, sam = await cast(bot)

    # ---- Marisol creates the meeting, typing the date three ways ------------------------------
    await marisol.send("/newmeeting")
    await marisol.press("Nacional")
    await marisol.send("Asamblea nacional")
    await marisol.press("Omitir")  # no description
    await marisol.press("Mantener")  # her own zone
    answers = await marisol.send("mañana a las 18h")
    assert answers[0].text == (
        "📅 Entendido: domingo, 29 de noviembre, 6:00\u202fp.\u202fm., hora central."
    )
    await marisol.press("90 min")
    await marisol.send("zoom.us/j/123456")  # the scheme is added
    await marisol.press("Omitir")  # no venue
    await marisol.send("5")  # five seats: the link goes to confirmed seats only
    await marisol.press("Omitir")  # no deadline
    await marisol.press("24 h y 1 h")
    preview = marisol.last_text()
    assert preview.startswith("👀 Vista previa: así recibirán la invitación")
    assert "El enlace para conectarse llega a quienes tengan lugar confirmado" in preview
    assert (
        "Solo quienes tengan lugar confirmado reciben el enlace: https://zoom.us/j/123456"
        in preview
    )
    assert "Recordatorios: 24 h y 1 h antes" in preview
    assert "Se invitará a 7 miembros." in preview  # everyone but Marisol, who organises
    await marisol.press("Fecha y hora")
    answers = await marisol.send("12/12 10h")
    assert answers[0].text == (
        "📅 Entendido: sábado, 12 de diciembre, 10:00\u202fa.\u202fm., hora central."
    )
    await marisol.press("Fecha y hora")
    await marisol.send("sábado 12 de diciembre 10:00")
    assert "🕒 sábado, 12 de diciembre, 10:00\u202fa.\u202fm., hora central" in marisol.last_text()
    await marisol.press("Crear e invitar")
    created = marisol.last_text()
    assert created.startswith("✅ Reunión #1 creada; 7 invitaciones en camino.")
    meeting = await only_meeting(bot)
    assert meeting.start_at == datetime(year, 12, 12, 16, 0, tzinfo=UTC)

    # ---- members answer, each reading the time in their own zone and language ----------------
    # Sam answers first and takes a seat; the fifth of the others waits in line.
    await wait_for(bot, sam.id, "Asamblea nacional")
    await press_any(sam, "Yes")
    for telegram_id in COMING:
        language = respondent(telegram_id).language
        await wait_for(bot, telegram_id, "Asamblea nacional")
        await press_any(Person(bot, telegram_id), YES[language])
    await wait_for(bot, NOT_COMING, "Asamblea nacional")
    await press_any(Person(bot, NOT_COMING), "No")
    waiting = notices(bot, 810, "Asamblea")
    assert (
        "🔗 Le lien de connexion est envoyé aux personnes ayant une place confirmée." in waiting[0]
    )
    assert "Vous êtes sur la liste d'attente : rang 1." in waiting[0]
    assert "zoom.us" not in "".join(waiting)
    # Sam changes his mind from /meetings: his seat goes to Chloé, who is told.
    await sam.send("/meetings")
    await press_any(sam, "No")
    assert sam.last_text() == "📅 Open it to remove the meeting from your calendar."
    card = next(m for m in reversed(sam.transcript()) if "📅 Invitation:" in (m.text or ""))
    assert (card.text or "").endswith("Your answer: No")  # the card shows his new answer
    promoted = (await wait_for(bot, 810, "🎉"))[0]
    assert promoted.startswith("🎉 Une place s'est libérée : Asamblea nacional")
    assert "🔗 https://zoom.us/j/123456" in promoted  # a confirmed seat: now the link
    chloe, grace = notices(bot, 810, "Asamblea"), notices(bot, 805, "Asamblea")
    assert "samedi 12 décembre à 08 h 00, heure du Pacifique (10 h 00 à Chicago)" in chloe[0]
    assert "Saturday, December 12, 11:00\u202fAM, Eastern Time" in grace[0]
    await wait_for_documents(bot, 805, 1)  # the .ics for her calendar

    # ---- reminders, in each member's zone; the hour-before one opens the door -----------------
    reminders = {r.offset_minutes: r for r in await bot.store.meetings.reminders_of(meeting.id)}
    clock.set(meeting.start_at - timedelta(hours=24))
    await bot.services.reminders.fire(reminders[1440].id)
    bot.services.wake_delivery()
    day_before = (await wait_for(bot, 810, "Rappel"))[0]
    assert day_before.startswith("⏰ Rappel : Asamblea nacional")
    assert "samedi 12 décembre à 08 h 00, heure du Pacifique" in day_before
    assert meeting.checkin_code not in day_before
    clock.set(meeting.start_at - timedelta(hours=1))
    await bot.services.reminders.fire(reminders[60].id)
    bot.services.wake_delivery()
    hour_before = (await wait_for(bot, 801, "Recordatorio", 2))[-1]
    assert "🕒 sábado, 12 de diciembre, 11:00\u202fa.\u202fm., hora oriental" in hour_before
    assert f"toca «✋ Estoy aquí» o escribe el código {meeting.checkin_code}" in hour_before
    lucia = Person(bot, 801)
    clock.set(meeting.start_at - timedelta(minutes=5))
    await lucia.press("Estoy aquí")
    assert lucia.last_text() == "✋ Asistencia registrada: Asamblea nacional. ¡Bienvenido/a!"

    # ---- Marisol marks who came by tapping their names -----------------------------------------
    # She was told as the seats filled up, with the share counted right.
    await wait_for(bot, 300, "📈 Asamblea nacional: 5 de 5 lugares confirmados (100 %).")
    assert notices(bot, 300, "📈")[0] == "📈 Asamblea nacional: 3 de 5 lugares confirmados (60 %)."
    shown = await marisol.send("/meetings")
    card = next(m for m in shown if (m.text or "").startswith("🗂"))
    invitation = next(m for m in shown if (m.text or "").startswith("📅"))
    assert (card.text or "").startswith("🗂 #1 Asamblea nacional")
    assert "Sí 5/5 · Tal vez 0 · No 2 · En espera 0 · Asistieron 1" in (card.text or "")
    # In the audience herself, she also finds her own invitation to answer.
    assert (invitation.text or "").startswith("📅 Invitación: Asamblea nacional")
    assert [b["text"] for b in invitation.buttons()][:3] == ["✅ Sí", "🤔 Tal vez", "❌ No"]
    await press_any(marisol, "Respuestas y asistencia")
    assert "Toca a quien llegó para marcar su asistencia" in marisol.last_text()
    assert marisol.buttons() == [
        "⬜ Chloé Roy · Sí", "⬜ Grace Lee · Sí", "✅ Lucía Pérez · Sí", "⬜ Mateo Ruiz · Sí",
        "⬜ Owen Tremblay · Sí", "⬜ Diego Soto · No", "⬜ Sam · No", "✖ Cerrar la lista",
    ]  # fmt: skip
    for name in ("Chloé Roy", "Grace Lee", "Mateo Ruiz"):
        await marisol.press(name)
    await marisol.send("tremblay")  # a name typed narrows the list
    assert marisol.buttons() == ["⬜ Owen Tremblay · Sí", "✖ Cerrar la lista"]
    await marisol.press("Owen Tremblay")
    assert marisol.buttons()[0] == "✅ Owen Tremblay · Sí"
    await marisol.press("Cerrar la lista")
    assert "asistieron 5" in marisol.last_text() and marisol.buttons() == []
    assert (await bot.store.meetings.counts(meeting.id)).checked_in == 5

    # ---- after the meeting: the minutes, and those who came are told ----------------------------
    clock.set(meeting.start_at + timedelta(hours=2))
    await marisol.send("/meetings")
    card = marisol.last()
    assert "Estado: realizada (sin actas todavía)" in (card.text or "")
    assert [b["text"] for b in card.buttons()] == ["👥 Respuestas y asistencia", "📝 Agregar actas"]
    await press_any(marisol, "Agregar actas")
    await marisol.send("Acuerdos: encuesta a quienes vinieron; segunda asamblea en enero.")
    assert marisol.last_text() == "📝 Actas agregadas a la reunión #1."
    [told] = await wait_for(bot, 805, "📝 Minutes of Asamblea nacional")
    assert "Acuerdos: encuesta a quienes vinieron" in told
    assert notices(bot, NOT_COMING, "Acuerdos") == []  # said No, did not come

    # ---- Sam sends the form and opens it, from /meetings, to those who attended ---------------
    update = bot.emulator.send_document(TOKEN, sam.id, "round1.xlsx", FORM.read_bytes())
    await bot.processor.wait_done(update, timeout=60)
    loaded = sam.last_text()
    assert loaded.startswith(
        "✅ Survey #1 loaded: consultation_round1 version 2025-1, 9 questions."
    )
    assert sam.buttons() == ["▶ Open #1 for members…"]
    await sam.send("/meetings")
    await press_any(sam, "Survey for those who attended")
    assert sam.buttons() == ["Those who attended (5 people)", "Those who said Yes (5 people)"]
    await sam.press("Those who attended")
    await sam.press("#1 Diaspora consultation")
    assert "Audience: meeting #1: Attended\nRecipients now: 5" in sam.last_text()
    await sam.press("Continue")
    await sam.send("Dec 19 6pm")
    preview = sam.last_text()
    assert preview.startswith("Open survey #1 “Diaspora consultation — round 1”")
    assert (
        "Invited: 5 members\nCloses: Saturday, December 19, 6:00\u202fPM, Eastern Time" in preview
    )
    await sam.press("Open and invite 5 members")
    assert "is open: 5 members invited" in sam.last_text()

    # ---- those who came answer in chat; Diego, who did not, is not asked ----------------------
    form = example_form()
    for telegram_id in COMING:
        assert await survey_invitation(bot, telegram_id)
        # Their last consulate visit, five years before the bot's clock (any --clock-years).
        who = replace(respondent(telegram_id), consular_visit=f"{year - 5}-05-01")
        await answer_in_chat(bot, form, 1, who, clock)
    assert not await survey_invitation(bot, NOT_COMING)
    # Thanked without a number nobody could place (issue 20: "registradas (12)").
    assert notices(bot, 801, "quedaron registradas") == [
        "¡Gracias! Tus respuestas quedaron registradas. "
        "Puedes cambiarlas con /surveys hasta el cierre."
    ]

    # ---- Sam closes it from /surveys ----------------------------------------------------------
    await sam.send("/surveys")
    assert (
        "• #1 Diaspora consultation — round 1 — open until Saturday, December 19" in sam.last_text()
    )
    assert "· 5 members invited" in sam.last_text()
    await sam.press("Close #1")
    await sam.press("Yes, close it now")
    assert sam.last_text().startswith("⏹ Survey #1 “Diaspora consultation — round 1” is closed")

    # ---- /results, and "what we heard" to those who answered ---------------------------------
    await sam.send("/results")
    assert sam.buttons() == ["Diaspora consultation — round 1 (v2025-1)"]
    summary = "\n".join(m.text or "" for m in await sam.press("Diaspora consultation"))
    assert summary.startswith("Diaspora consultation — round 1 (version 2025-1) — closed")
    assert "5 people answered · a cell needs at least 5 people" in summary
    assert (
        "Which country do you live in?\n5 people answered · skipped: 0\n  Canada: 5 (100 %)"
        in summary
    )
    assert "    Quebec: —" in summary  # three people: too few to show
    themes = next(q for q in form.answerable_questions() if q.name == "themes").label("en")
    await press_any(sam, "what we heard")
    await sam.press(themes)
    await sam.press("Done")
    assert sam.buttons() == ["Canada and the United States — 5 people", "◂ Back", "✖ Cancel"]
    await sam.press("Canada and the United States")
    heard = sam.last_text()
    assert "Canada and the United States: 5 people answered." in heard
    assert "◦ Servicios consulaires" not in heard and "◦ Consular services: 100 %" in heard
    assert "Canada et États-Unis : 5 personnes ont répondu." in heard
    queued = [m.text for m in await sam.press("✅ Send")]
    assert (
        "Queued for 8 members in Canada and the United States, "
        "each in their language with the card."
    ) in queued
    # Sam is a member too: his own copy arrives before his next screens.
    mine = await heard_with_card(bot, sam, "📣 What we heard")
    assert "Canada and the United States: 5 people answered." in mine
    theirs = await heard_with_card(bot, Person(bot, 810), "📣 Ce que nous avons entendu")
    assert "◦ Services consulaires : 100 %" in theirs

    # ---- the workbook, from /export, opened as an analyst would -------------------------------
    await sam.send("/export")
    assert sam.last_text() == "Export — what would you like to export?"
    await sam.press(texts.plain("en", "export.dataset.answers"))
    await sam.press("#1 ")
    await sam.press(texts.plain("en", "export.filter.none"))
    await sam.press(texts.plain("en", "export.format.xlsx"))
    await sam.press(texts.plain("en", "export.labels.labels"))
    sent = [m for m in sam.transcript() if m.direction == "out" and m.document][-1]
    assert sent.text == "Answers (a row per submission) · 5 rows · Everything (no filter)"
    assert sam.last_text().startswith("Done: 5 rows in the file above.")
    assert sent.document is not None
    name, content = bot.emulator.bot(TOKEN).files[sent.document["file_id"]]
    book = openpyxl.load_workbook(BytesIO(content))
    assert name == f"consultation_round1_answers_{year}-12-12.xlsx"
    assert book.sheetnames == [
        "README", "answers_consultation_round1", "Summary consultation_round1", "Dictionary",
        "Phrases vote_problem",
    ]  # fmt: skip
    header, *rows = list(book["answers_consultation_round1"].iter_rows(values_only=True))
    assert header[:3] == ("start (America/Toronto)", "end (America/Toronto)", "today")
    country = header.index("Which country do you live in?")
    years = header.index("How many years have you lived abroad?")
    assert [row[country] for row in rows] == ["Canada"] * 5
    expected = sorted(float(respondent(telegram_id).years) for telegram_id in COMING)
    assert sorted(float(str(row[years])) for row in rows) == expected

    # ---- the draft clauses, and an answer linked to one by browsing /evidence -----------------
    update = bot.emulator.send_document(TOKEN, sam.id, "draft.md", CLAUSES.encode())
    await bot.processor.wait_done(update)
    assert (
        sam.last_text()
        == "✅ 2 clauses loaded from draft.md. Link evidence to them with /evidence."
    )
    await sam.send("/evidence")
    assert sam.buttons() == ["C1 — Access to health care. (0)", "C2 — Mobile consulates. (0)"]
    await sam.press("C2 —")
    await sam.press("Link evidence")
    await sam.press("Survey answers")
    await sam.press("Diaspora consultation")
    await sam.press("What keeps you from voting")
    page = sam.last_text()
    assert page.startswith("Answers to “What keeps you from voting from abroad?” — 3 answers")
    assert "1. 💬 “El consulado está muy lejos”\n    Quebec, Canada · Academia" in page
    assert not any(name in page for name in COMING.values())  # never who said it
    await sam.press("🔗 1")
    await sam.send("Distance to the consulate, said in the assembly as well")
    linked = sam.last_text()
    assert linked.startswith(
        "✅ Linked to C2.\n\nC2 — Mobile consulates.\n\nEvidence: 1 item linked"
    )
    assert "📝 Distance to the consulate, said in the assembly as well" in linked

    # ---- key phrases by buttons ----------------------------------------------------------------
    await sam.send("/phrases")
    await sam.press("Diaspora consultation")
    await sam.press("What keeps you")
    await sam.press("By country")
    assert sam.last_text() == (
        "Key phrases of What keeps you from voting from abroad? (by country)\n"
        "Canada: fewer than 5 answers, not shown."
    )  # three people wrote one: too few to show

    # ---- the admin reads the day in /audit -----------------------------------------------------
    await admin.send("/audit")
    audit = admin.last_text()
    assert audit.startswith("Audit log (recent) — times in Central Standard Time (El Salvador)")
    sam_code = await bot.services.people.actor_of(500)
    marisol_code = await bot.services.people.actor_of(300)
    for actor, action, target in (
        (marisol_code, "meeting created", "meeting:1"),
        (marisol_code, "attendance recorded", "meeting:1"),
        (marisol_code, "minutes added", "meeting:1"),
        (sam_code, "survey loaded", "survey:1 · source: round1.xlsx"),
        (sam_code, "survey opened", "survey:1 · invited: 5; meeting: 1"),
        (sam_code, "survey closed", "survey:1"),
        (sam_code, "“what we heard” sent", "survey:1 · members: 8"),
        (sam_code, "export", "answers · dataset: answers"),
        (sam_code, "clauses loaded", "draft.md · clauses: 2"),
        (sam_code, "evidence linked", "clause:C2 · kind: answer"),
    ):
        assert f" · {actor} · {action} · {target}" in audit, (action, audit)
    assert audit.count("attendance recorded") == 4  # the four she tapped; Lucía came in herself
