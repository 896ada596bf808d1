"""/audit in chat (issue 20): times in the reader's zone, named; surveys, "what we heard" and
refused commands recorded; a person granted a role is told, in their language."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from storage.models import AudienceFilter
from tests.harness import TOKEN, BotUnderTest, Person, add_member
from tests.test_surveys import FORM

ADMIN = 9000


async def test_audit_reads_in_the_admins_zone_and_records_what_staff_do(bot: BotUnderTest) -> None:
    # The config admin also has a profile, in Toronto.
    await add_member(
        bot, ADMIN, "en", username="boss", country="CA", region="ON", time_zone="America/Toronto"
    )
    admin = Person(bot, ADMIN)
    await add_member(bot, 361, "es", name="Lucía", username="lucia")
    lucia = Person(bot, 361)

    # A member trying a staff command: refused in one wording, and the attempt is recorded.
    await lucia.send("/export")
    assert lucia.last_text() == bot.services.texts.plain("es", "staff.refused")

    # Granted a role: Lucía hears it from the bot, in Spanish, with the role's name.
    await admin.send("/grant @lucia staff")
    assert "granted" in admin.last_text()
    told = lucia.last_text()
    assert "Ahora tienes el rol equipo en la consulta" in told and "/help" in told

    # A survey loaded in chat, opened and closed: each in the log with its author.
    update = bot.emulator.send_document(TOKEN, ADMIN, "r1.xlsx", FORM.read_bytes())
    await bot.processor.wait_done(update)
    survey_id = int(admin.last_text().split("#")[1].split()[0].strip(".,:"))
    actor = await bot.services.people.actor_of(ADMIN)
    await bot.services.surveys.open(survey_id, AudienceFilter(), by=actor)
    assert await bot.services.surveys.close(survey_id, by=actor)

    await admin.send("/audit")
    shown = admin.last_text()
    assert "Audit log (recent) — times in Eastern Time (Toronto)" in shown
    for action in ("command refused", "survey loaded", "survey opened", "survey closed"):
        assert action in shown, action
    assert "/export" in shown and f"survey:{survey_id}" in shown
    # Each time as the Toronto clock read it, never the stored UTC.
    toronto = ZoneInfo("America/Toronto")
    for entry in await bot.store.audit.recent(20):
        assert f"{entry.at.astimezone(toronto):%Y-%m-%d %H:%M}" in shown
    newest = (await bot.store.audit.recent(1))[0]
    assert f"{newest.at:%Y-%m-%d %H:%M} ·" not in shown
