"""Every staff command refuses a plain member in one wording, in their language (issue 20)."""

from __future__ import annotations

from tests.harness import BotUnderTest, Person, add_member

STAFF_COMMANDS = (
    "/audit",
    "/broadcast",
    "/broadcasts",
    "/evidence",
    "/export",
    "/grant @someone staff",
    "/newmeeting",
    "/pending",
    "/phrases",
    "/results",
    "/revoke @someone staff",
)


async def test_a_member_reads_the_same_refusal_from_every_staff_command(bot: BotUnderTest) -> None:
    texts = bot.services.texts
    for telegram_id, language in ((341, "es"), (342, "en"), (343, "fr")):
        await add_member(bot, telegram_id, language)
        member = Person(bot, telegram_id)
        refusal = texts.plain(language, "staff.refused")
        for command in STAFF_COMMANDS:
            await member.send(command)
            assert member.last_text() == refusal, (language, command, member.last_text())
