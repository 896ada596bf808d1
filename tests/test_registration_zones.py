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
    # The summary (and /profile, built the same way) names the zone as the question did; Creston
    # keeps standard time all year, unlike Cranbrook's Mountain Time, and says so.
    summary = rosa.last_text()
    assert "Time zone: Mountain Standard Time (Creston)" in summary and "Phoenix" not in summary


def test_every_zone_is_named_as_people_say_it_never_by_country_and_city() -> None:
    from bot.services import timefmt

    # Hawaii and Yukon have no generic CLDR name: not "United States (Honolulu) Time".
    assert timefmt.zone_name("Pacific/Honolulu", "en") == "Hawaii Time"
    assert timefmt.zone_name("America/Whitehorse", "es") == "hora de Yukón"
    # Saskatchewan never changes its clock: not the "hora central" of Chicago.
    assert timefmt.zone_name("America/Regina", "es") == "hora estándar central"
    assert timefmt.zone_name("America/Chicago", "es") == "hora central"
    for zone in ("Pacific/Honolulu", "America/Whitehorse", "America/Regina", "America/Phoenix"):
        for language in ("es", "en", "fr"):
            name = timefmt.zone_name(zone, language)
            assert "(" not in name and ":" not in name and "nord-américain" not in name, name
