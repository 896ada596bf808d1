"""Registration's steps by what they do: what each accepts, refuses, and asks next.

Through the real service on a real database (the chat walks are in test_registration.py); the last
test presses buttons in chat.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.services.errors import InputError
from bot.services.registration import RegistrationService
from bot.services.stepkit import SharedContact
from storage import Store
from storage.models import Member
from tests.harness import BotUnderTest, fixed_clock, make_config

PERSON = 501


@pytest.fixture
async def service(database: Path | str) -> AsyncIterator[RegistrationService]:
    clock = fixed_clock()
    config = make_config(database, "http://127.0.0.1:1")
    store = await Store.open(config.storage.target, clock)
    try:
        yield RegistrationService(store, config, clock)
    finally:
        await store.close()


async def _answer(service: RegistrationService, member: Member, value: object) -> Member:
    assert member.step is not None
    return await service.answer(member, member.step, value)


async def _refused(
    service: RegistrationService, member: Member, key: str, value: object, error: str
) -> None:
    """The answer is refused with `error`, and the member is left as they were."""
    with pytest.raises(InputError) as refusal:
        await service.answer(member, key, value)
    assert refusal.value.key == error
    assert await service.member(PERSON) == member


async def _at_association(
    service: RegistrationService, region: str = "CA", person: int = PERSON
) -> Member:
    member = await service.consent(person, None, "en")
    for value in ("Rosa", "US", region, "Somewhere"):
        member = await _answer(service, member, value)
    if member.step == "zone":
        member = await _answer(service, member, "America/Chicago")
    return member


async def _registered(service: RegistrationService) -> Member:
    member = await service.extra_button(await _at_association(service), 1)
    member = await _answer(service, member, service.sectors[0])
    member = await _answer(service, await service.toggle_theme(member, service.themes[0]), None)
    member = await _answer(service, await _answer(service, member, None), None)
    return await _answer(service, member, None)


async def test_the_path_asks_each_question_once_and_skips_a_zone_with_no_choice(
    service: RegistrationService,
) -> None:
    member = await service.consent(PERSON, "rosa", "en")
    asked = [member.step]
    for value in ("Rosa", "US", "California", "Los Angeles"):
        member = await _answer(service, member, value)
        asked.append(member.step)
    # California has one zone: it is filled in, not asked.
    assert member.time_zone == "America/Los_Angeles"
    member = await service.extra_button(member, 1)  # "I have no association"
    asked.append(member.step)
    member = await _answer(service, member, service.sectors[0])
    asked.append(member.step)
    member = await service.toggle_theme(member, service.themes[1])
    member = await _answer(service, await service.toggle_theme(member, service.themes[0]), None)
    asked.append(member.step)
    member = await _answer(service, member, "Rosa@Example.org")
    asked.append(member.step)
    member = await _answer(service, member, SharedContact("+1 (213) 555-0100", PERSON))
    asked.append(member.step)
    assert asked == [
        "name", "country", "region", "city", "association", "sector", "themes", "email",
        "phone", "summary",
    ]  # fmt: skip
    assert (member.status, member.email, member.phone) == (
        "registering",
        "rosa@example.org",
        "+12135550100",
    )
    assert member.themes == service.themes[:2]  # in the programme's order, not the pressing order
    member = await _answer(service, member, None)
    assert (member.status, member.step, member.editing) == ("active", None, False)
    assert member.registered_at == fixed_clock().now()


async def test_a_region_with_several_zones_asks_which_one(service: RegistrationService) -> None:
    member = await service.consent(PERSON, None, "es")
    for value in ("Rosa", "US", "TX", "El Paso"):
        member = await _answer(service, member, value)
    assert member.step == "zone" and member.time_zone is None
    await _refused(service, member, "zone", "America/Los_Angeles", "error.choose_button")
    member = await _answer(service, member, "America/Denver")
    assert (member.step, member.time_zone) == ("association", "America/Denver")


async def test_each_step_refuses_what_it_does_not_accept_and_stays_where_it_was(
    service: RegistrationService,
) -> None:
    member = await service.consent(PERSON, None, "fr")
    await _refused(service, member, "name", "12345", "error.no_letters")
    await _refused(service, member, "name", "   ", "error.empty")
    await _refused(service, member, "name", None, "error.choose_button")  # not skippable
    await _refused(service, member, "country", "US", "error.stale")  # not the step asked
    member = await _answer(service, member, "Rosa")
    await _refused(service, member, "country", "SV", "error.choose_button")
    member = await _answer(service, member, "CA")
    await _refused(service, member, "region", "Atlantis", "error.region_unknown")
    member = await _answer(service, member, "Québec")  # a region may be typed by name
    assert member.region == "QC"
    member = await _answer(service, member, "Montréal")
    member = await _answer(service, member, "America/Toronto")
    assert member.step == "association"
    await _refused(service, member, "association", "not a number", "error.choose_button")
    await _refused(service, member, "association", "999", "error.choose_button")
    member = await service.extra_button(member, 0)  # "my association is not listed"
    assert member.step == "association_new"
    await _refused(service, member, "association_new", "", "error.empty")
    member = await _answer(service, member, "Salvadoriens de Laval")
    proposed = await service.association(member.association_id or 0)
    assert proposed is not None and proposed.status == "pending"
    await _refused(service, member, "sector", "astronaut", "error.choose_button")
    member = await _answer(service, member, service.sectors[0])
    await _refused(service, member, "themes", None, "error.themes_none")
    member = await _answer(service, await service.toggle_theme(member, service.themes[0]), None)
    await _refused(service, member, "email", "ana@@x.org", "error.email")
    member = await _answer(service, member, None)  # skipped
    other = SharedContact("+1 213 555 0100", PERSON + 1)
    await _refused(service, member, "phone", other, "error.phone_not_own")
    await _refused(service, member, "phone", "+1 213 555 0100", "error.choose_button")
    short = SharedContact("12345", PERSON)
    await _refused(service, member, "phone", short, "error.phone")
    assert (await _answer(service, member, None)).step == "summary"


async def test_a_proposed_association_cannot_be_chosen_by_its_number(
    service: RegistrationService,
) -> None:
    member = await service.extra_button(await _at_association(service), 0)
    member = await _answer(service, member, "Comité de Laval")
    assert member.step == "sector"
    member = await service.back(member)
    assert member.step == "association"
    pending = str(member.association_id)
    await _refused(service, member, "association", pending, "error.choose_button")


async def test_back_goes_to_the_previous_question_never_to_a_zone_nobody_was_asked(
    service: RegistrationService,
) -> None:
    member = await service.consent(PERSON, None, "en")
    assert (await service.back(member)).step == "name"  # nothing before the first question
    member = await _at_association(service)
    member = await service.back(member)
    assert member.step == "city"  # California's zone was never asked
    member = await _answer(service, member, "San Diego")
    member = await service.back(await service.extra_button(member, 0))
    assert member.step == "association"  # a detour goes back to the step it left
    member = await _at_association(service, "TX", PERSON + 1)
    assert (await service.back(member)).step == "zone"


async def test_an_edit_walks_only_its_group_and_returns_to_the_profile(
    service: RegistrationService,
) -> None:
    member = await _registered(service)
    edited = await service.edit(member, "name")
    assert (edited.step, edited.editing) == ("name", True)
    edited = await _answer(service, edited, "Rosa María")
    assert (edited.name, edited.step, edited.editing, edited.status) == (
        "Rosa María",
        None,
        False,
        "active",
    )
    edited = await service.edit(edited, "place")
    asked = [edited.step]
    for value in ("CA", "ON", "Toronto", "America/Toronto"):
        edited = await _answer(service, edited, value)
        asked.append(edited.step)
    assert asked == ["country", "region", "city", "zone", None]
    assert (edited.country, edited.region, edited.city, edited.time_zone) == (
        "CA",
        "ON",
        "Toronto",
        "America/Toronto",
    )
    with pytest.raises(InputError) as refusal:
        await service.edit(edited, "status")
    assert refusal.value.key == "error.choose_button"


async def test_cancelling_an_edit_puts_back_every_field_of_its_group(
    service: RegistrationService,
) -> None:
    member = await _registered(service)
    edited = await service.edit(member, "place")
    edited = await _answer(service, await _answer(service, edited, "CA"), "QC")
    assert (edited.country, edited.region, edited.time_zone) == ("CA", "QC", None)
    restored = await service.cancel_edit(edited)
    assert (restored.country, restored.region, restored.city, restored.time_zone) == (
        member.country,
        member.region,
        member.city,
        member.time_zone,
    )
    assert (restored.step, restored.editing, restored.edit_backup) == (None, False, None)
    edited = await service.edit(restored, "themes")
    edited = await service.toggle_theme(edited, service.themes[2])
    restored = await service.cancel_edit(edited)
    assert restored.themes == member.themes and restored.step is None


async def test_a_button_of_an_earlier_step_or_a_forged_one_changes_nothing(
    bot: BotUnderTest,
) -> None:
    person = bot.person(120, "Rosa", "es")
    await person.send("/start")
    await person.press("Español")
    await person.press("Acepto")
    await person.send("Rosa")
    countries = person.last()
    canada = next(b["callback_data"] for b in countries.buttons() if b["text"] == "Canadá")
    await person.press("Estados Unidos")
    replies = await person.press_data(countries.message_id, canada, forge=True)
    assert person.callback_answer() == "Ese botón no es válido o ha caducado."
    assert "Aquí está el paso actual:\n\n¿En qué provincia o estado?" in (replies[-1].text or "")
    regions = person.last()
    real = regions.buttons()[0]["callback_data"]
    for forged in (real.rsplit(":", 1)[0] + f":{2**53 + 1}", real.rsplit(":", 1)[0] + ":¹"):
        assert await person.press_data(regions.message_id, forged, forge=True) == []
        assert person.callback_answer() == "Ese botón no es válido o ha caducado."
    member = await bot.store.members.by_telegram_id(120)
    assert member is not None
    assert (member.country, member.region, member.step) == ("US", None, "region")
