"""Every refusal of a staff command or button reads the same, in the person's language, and is
kept in the audit log (issue 20): a member types each staff command and presses buttons copied
from staff's own screens (a modified client can send any button data)."""

from __future__ import annotations

from bot.callbacks import MeetingButton
from bot.services.meetings import MeetingRequest
from tests.harness import TOKEN, BotUnderTest, Person, add_member
from tests.test_exports_chat import CLAUSES
from tests.test_staff_refusals import STAFF_COMMANDS
from tests.test_surveys_admin_chat import FORM

ADMIN = 9000
COMMANDS = (*STAFF_COMMANDS, "/proposals")
# The staff buttons taken from the admin's screens, by the label the admin reads on them.
MEETING_LABELS = (
    "Answers and attendance",
    "Reschedule",
    "Cancel meeting",
    "Notice to those coming",
)


def shown(person: Person, label: str) -> tuple[int, str]:
    """The newest button the person sees with this label: its message and its data."""
    for message in reversed(person.transcript()):
        for button in message.buttons() if message.direction == "out" else []:
            if label.casefold() in button["text"].casefold():
                return message.message_id, str(button["callback_data"])
    raise AssertionError(f"no button {label!r}")


def data_of(person: Person, label: str) -> str:
    return shown(person, label)[1]


async def staff_buttons(bot: BotUnderTest) -> list[str]:
    """The admin's own screens: a survey to open, clauses, a meeting, its people, a notice."""
    await add_member(
        bot, ADMIN, "en", name="Admin", username="boss", country="CA", region="ON",
        time_zone="America/Toronto",
    )  # fmt: skip
    admin = bot.person(ADMIN, "Admin", "en", username="boss")
    for name, content in (("round1.xlsx", FORM.read_bytes()), ("draft.md", CLAUSES.encode())):
        update = bot.emulator.send_document(TOKEN, ADMIN, name, content)
        await bot.processor.wait_done(update, timeout=60)
    found = [data_of(admin, "Open #1 for members")]
    await admin.send("/evidence")
    found.append(data_of(admin, "C1"))
    moment = bot.services.clock.now()
    meeting = await bot.services.meetings.create(
        MeetingRequest(
            titles={"es": "Asamblea", "en": "Town hall", "fr": "Assemblée"}, kind="national",
            start=f"{moment.year + 1}-01-15 10:00", zone="America/Toronto", duration=60,
            venue="Consulado",
        ),
        await bot.services.people.actor_of(ADMIN),
    )  # fmt: skip
    await add_member(bot, 350, "es", name="Rosa Quintanilla")
    rosa = await bot.services.registration.member(350)
    assert rosa is not None
    await bot.services.meetings.rsvp(meeting.id, rosa, "yes")
    await admin.send("/meetings")
    found += [data_of(admin, label) for label in MEETING_LABELS]
    # "Attach minutes" shows only once the meeting has begun: its data, as a stale card keeps it.
    found.append(MeetingButton(meeting.id, "n").encode())
    await admin.press_data(*shown(admin, "Answers and attendance"))
    assert "Town hall" in admin.last_text()
    found += [str(b["callback_data"]) for b in admin.last().buttons()]
    await admin.press("Close the list")
    await admin.send("/broadcast")
    await admin.send("Hello everyone")
    found += [data_of(admin, "Add Spanish"), data_of(admin, "Continue")]
    # Approving an association: /pending shows none here, its data is the classic kind.
    found.append("v1:adm:approve:1")
    prefixes = {"sva", "evd", "mtg", "mtp", "bcast", "adm"}
    assert {data.split(":")[1] for data in found} == prefixes, found
    assert len(set(found)) == len(found) >= 12, found
    return found


async def test_every_refusal_reads_the_same_and_is_in_the_audit_log(bot: BotUnderTest) -> None:
    texts = bot.services.texts
    buttons = await staff_buttons(bot)
    members = {341: "es", 342: "en", 343: "fr"}
    for telegram_id, language in members.items():
        await add_member(bot, telegram_id, language)
        member = Person(bot, telegram_id)
        for command in COMMANDS:
            await member.send(command)
            assert member.last_text() == texts.get(language, "staff.refused"), (language, command)
        for data in buttons:
            await member.press_data(member.last().message_id, data, forge=True)
            answer = member.callback_answer()
            assert answer == texts.plain(language, "staff.refused"), (language, data, answer)
        # Nothing was opened, started or changed for them: the last message is still a refusal.
        assert member.last_text() == texts.get(language, "staff.refused")
        assert await bot.store.conversations.get(telegram_id) is None

    # Each attempt is in the log with its author: the command typed, or the button pressed.
    entries = await bot.services.roles.recent_audit(1000)
    for telegram_id in members:
        actor = await bot.services.people.actor_of(telegram_id)
        targets = [e.target for e in entries if e.actor == actor and e.action == "refused"]
        expected = [c.split()[0] for c in COMMANDS] + [f"button {d}" for d in buttons]
        assert sorted(targets) == sorted(expected), (telegram_id, set(targets) ^ set(expected))
    assert (await bot.services.surveys.survey(1)).status == "draft"  # type: ignore[union-attr]

    # And the admin reads them in /audit: the newest, in their zone, by the member's code.
    admin = Person(bot, ADMIN)
    await admin.send("/audit")
    shown = admin.last_text()
    last = await bot.services.people.actor_of(343)
    assert "Audit log (recent) — times in Eastern Time (Toronto)" in shown
    assert shown.count(f" · {last} · command refused · ") == 20
    assert f"command refused · button {buttons[-1]} · permission: review_associations" in shown


async def test_a_right_revoked_mid_way_is_refused_and_audited_without_what_was_typed(
    bot: BotUnderTest,
) -> None:
    texts = bot.services.texts
    await add_member(bot, 350, "es", name="Rosa Quintanilla")
    await add_member(bot, 360, "en", name="Fay", username="fay")
    await add_member(bot, 361, "es", name="Marisol", username="marisol")
    admin = bot.person(ADMIN, "Admin", "en")
    fay, marisol = bot.person(360, "Fay", "en", "fay"), bot.person(361, "Marisol", "es", "marisol")
    await admin.send("/grant @fay focal_point theme:protection")
    await admin.send("/grant @marisol coordinator")

    # Fay chooses her theme's key phrases; Marisol opens the people of meeting #1.
    await fay.send("/phrases")
    await fay.press("Proposals of a theme")
    await fay.press(texts.label("en", "theme", "protection"))
    meeting = await bot.services.meetings.create(
        MeetingRequest(
            titles={"es": "Asamblea"}, kind="national", zone="America/Chicago", duration=60,
            start=f"{bot.services.clock.now().year + 1}-01-15 10:00", venue="Consulado",
        ),
        await bot.services.people.actor_of(361),
    )  # fmt: skip
    rosa = await bot.services.registration.member(350)
    assert rosa is not None
    await bot.services.meetings.rsvp(meeting.id, rosa, "yes")
    await marisol.send("/meetings")
    await marisol.press_data(*shown(marisol, "Respuestas y asistencia"))
    assert "Rosa Quintanilla" in " ".join(marisol.buttons())

    # Both rights are taken back before they finish.
    await admin.send("/revoke @fay focal_point theme:protection")
    await admin.send("/revoke @marisol coordinator")
    await fay.press("By country")
    assert fay.last_text() == texts.get("en", "staff.refused")
    await marisol.send("Rosa")  # a search typed in the list: refused, and never recorded
    assert marisol.last_text() == texts.get("es", "staff.refused")

    refused = [e for e in await bot.services.roles.recent_audit(50) if e.action == "refused"]
    by_actor = {e.actor: (e.target, e.detail) for e in refused}
    fay_code = await bot.services.people.actor_of(360)
    marisol_code = await bot.services.people.actor_of(361)
    assert by_actor[fay_code][0] == "view_results"
    assert by_actor[marisol_code][0] == "view_attendee_names"
    assert not any("Rosa" in e.target or "Rosa" in e.detail for e in refused)
