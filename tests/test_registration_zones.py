"""The zone question names each clock by a city of the member's own province or state."""

from __future__ import annotations

from tests.harness import BotUnderTest, Person


async def _to_zone_question(person: Person, region: str, city: str) -> list[str]:
    await person.send("/start")
    await person.press("English")
    await person.press("I agree")
    await person.send("Rosa")
    await person.press("Canada")
    await person.send(region)
    await person.send(city)
    assert "more than one time zone" in person.last_text()
    return person.buttons()


async def test_ontario_offers_toronto_never_panama(bot: BotUnderTest) -> None:
    rosa = bot.person(111, "Rosa", "en")
    labels = await _to_zone_question(rosa, "Ontario", "Toronto")
    assert labels[0].endswith("— Eastern Time (Toronto)")
    assert any(label.endswith("(Atikokan)") for label in labels)
    assert not any("Panama" in label or "Winnipeg" in label for label in labels)
    await rosa.press("Toronto")
    assert "association" in rosa.last_text()
    member = await bot.store.members.by_telegram_id(111)
    assert member is not None and member.time_zone == "America/Toronto"


async def test_british_columbia_offers_vancouver_and_creston_never_phoenix(
    bot: BotUnderTest,
) -> None:
    rosa = bot.person(112, "Rosa", "en")
    labels = await _to_zone_question(rosa, "BC", "Creston")
    assert labels[0].endswith("— Pacific Time (Vancouver)")
    assert not any("Phoenix" in label or "Edmonton" in label for label in labels)
    await rosa.press("Creston")
    member = await bot.store.members.by_telegram_id(112)
    assert member is not None and member.time_zone == "America/Phoenix"
    for label in ("None", "Private sector", "remittances", "Done", "Skip", "Skip"):
        await rosa.press(label)
    # The summary (and /profile, built the same way) names the zone as the question did.
    summary = rosa.last_text()
    assert "Time zone: Mountain Time (Creston)" in summary and "Phoenix" not in summary
