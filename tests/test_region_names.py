"""Provinces and states named in the member's own language; every typed form still found."""

from __future__ import annotations

import pytest

from bot.services.region_names import NAMES
from bot.services.regions import REGIONS
from tests.harness import BotUnderTest, Person

START = {"fr": ("Français", "J'accepte"), "es": ("Español", "Acepto")}
COUNTRY = {("fr", "CA"): "Canada", ("es", "CA"): "Canadá", ("es", "US"): "Estados Unidos"}
ASK_CITY = {"fr": "Dans quelle ville vivez-vous ?", "es": "¿En qué ciudad vives?"}
# The remaining questions, answered: no association, a sector, a theme, no e-mail, no phone.
FINISH = {
    "fr": ("Aucune", "Secteur privé", "transferts de fonds", "Terminé", "Passer", "Passer"),
    "es": ("Ninguna", "Sector privado", "remesas", "Listo", "Omitir", "Omitir"),
}


async def _to_region(person: Person, language: str, country: str) -> None:
    await person.send("/start")
    for label in START[language]:
        await person.press(label)
    await person.send("Rosa")
    await person.press(COUNTRY[(language, country)])


def test_every_region_has_a_french_and_a_spanish_name() -> None:
    assert set(NAMES) == {f"{place.country}-{place.code}" for place in REGIONS}
    assert len(REGIONS) == 13 + 51


async def test_french_member_reads_canadian_names_in_french(bot: BotUnderTest) -> None:
    carlos = bot.person(601, "Carlos", "fr")
    await _to_region(carlos, "fr", "CA")
    shown = carlos.buttons()
    for name in ("Colombie-Britannique", "Nouveau-Brunswick", "Terre-Neuve-et-Labrador"):
        assert name in shown
    for name in ("Nouvelle-Écosse", "Territoires du Nord-Ouest", "Île-du-Prince-Édouard"):
        assert name in shown
    assert "Québec" in shown and "Quebec" not in shown and "British Columbia" not in shown
    # In the order a French reader looks for them: Île-du-Prince-Édouard under I, not at the end.
    regions = shown[: shown.index("Yukon") + 1]
    assert regions.index("Colombie-Britannique") < regions.index("Île-du-Prince-Édouard")
    assert regions.index("Île-du-Prince-Édouard") < regions.index("Manitoba")
    await carlos.press("Québec")
    await carlos.send("Montréal")
    prompt = carlos.last_text()
    assert prompt.startswith("Québec : plus d'un fuseau horaire en usage.")
    await carlos.press("Montréal")
    for label in FINISH["fr"]:
        await carlos.press(label)
    assert "Lieu : Montréal, Québec (Canada)" in carlos.last_text()
    await carlos.press("Confirmer")
    await carlos.send("/profile")
    profile = carlos.last_text()
    assert "Votre profil" in profile and "Lieu : Montréal, Québec (Canada)" in profile


async def test_spanish_member_reads_us_names_in_spanish(bot: BotUnderTest) -> None:
    ana = bot.person(602, "Ana", "es")
    await _to_region(ana, "es", "US")
    first = ana.buttons()
    for name in ("Carolina del Norte", "Distrito de Columbia", "Hawái", "Dakota del Norte"):
        assert name in first
    assert not {"District of Columbia", "North Carolina", "Hawaii"} & set(first)
    await ana.press("Siguiente")
    assert {"Luisiana", "Misisipi", "Nueva Jersey", "Nueva York"} <= set(ana.buttons())
    assert "New York" not in ana.buttons()
    await ana.press("Siguiente")
    assert {"Nuevo México", "Pensilvania", "Virginia Occidental"} <= set(ana.buttons())
    assert "Pennsylvania" not in ana.buttons()
    await ana.send("dakota del norte")
    await ana.send("Bismarck")
    assert ana.last_text().startswith("En Dakota del Norte hay más de una zona horaria.")
    await ana.press("Bismarck")
    for label in FINISH["es"]:
        await ana.press(label)
    await ana.press("Confirmar")
    await ana.send("/profile")
    assert "Lugar: Bismarck, Dakota del Norte (Estados Unidos)" in ana.last_text()


async def test_spanish_member_in_canada_reads_spanish_names(bot: BotUnderTest) -> None:
    luis = bot.person(603, "Luis", "es")
    await _to_region(luis, "es", "CA")
    shown = luis.buttons()
    for name in ("Columbia Británica", "Terranova y Labrador", "Nueva Escocia", "Yukón"):
        assert name in shown
    assert {"Isla del Príncipe Eduardo", "Territorios del Noroeste", "Quebec"} <= set(shown)
    await luis.press("Territorios del Noroeste")
    await luis.send("Inuvik")
    assert luis.last_text().startswith("En Territorios del Noroeste hay más de una zona horaria.")


@pytest.mark.parametrize(
    ("language", "country", "typed", "code"),
    [
        ("fr", "CA", "Quebec", "QC"),
        ("fr", "CA", "Québec", "QC"),
        ("fr", "CA", "qc", "QC"),
        ("fr", "CA", "Columbia Británica", "BC"),
        ("es", "CA", "quebec", "QC"),
        ("es", "CA", "Île-du-Prince-Édouard", "PE"),
        ("es", "US", "Nueva York", "NY"),
        ("es", "US", "New York", "NY"),
        ("es", "US", "nuevo mexico", "NM"),
        ("es", "US", "Caroline du Nord", "NC"),
        ("es", "US", "NC", "NC"),
    ],
)
async def test_every_typed_form_is_still_found(
    bot: BotUnderTest, language: str, country: str, typed: str, code: str
) -> None:
    person = bot.person(610, "Rosa", language)
    await _to_region(person, language, country)
    await person.send(typed)
    assert ASK_CITY[language] in person.last_text()
    member = await bot.store.members.by_telegram_id(610)
    assert member is not None and member.region == code
