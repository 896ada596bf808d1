"""Typing an association's name in registration ignores accents and case (issue 20)."""

from __future__ import annotations

from bot.services.associations import import_csv
from tests.harness import BotUnderTest

REGISTRY = """name,country,province_state,city,kind
Asociación Cuscatlán de Toronto,CA,ON,Toronto,hometown
Comité Ñuñoa Salvadoreño,CA,ON,Ottawa,association
Red Académica Salvadoreña en Canadá,CA,ON,Toronto,academic
"""


async def test_typed_search_finds_names_without_accents_or_case(bot: BotUnderTest) -> None:
    assert (await import_csv(bot.store, REGISTRY)).added == 3
    rosa = bot.person(121, "Rosa", "es")
    await rosa.send("/start")
    await rosa.press("Español")
    await rosa.press("Acepto")
    await rosa.send("Rosa")
    await rosa.press("Canadá")
    await rosa.send("Ontario")
    await rosa.send("Toronto")
    await rosa.press("(Toronto)")
    await rosa.send("CUSCATLAN")
    assert rosa.buttons()[0] == "Asociación Cuscatlán de Toronto"
    assert "Red Académica" not in " ".join(rosa.buttons())
    await rosa.send("nunoa")
    assert rosa.buttons()[0] == "Comité Ñuñoa Salvadoreño"
    await rosa.send("academica salvadorena")
    assert rosa.buttons()[0] == "Red Académica Salvadoreña en Canadá"
    await rosa.press("Red Académica Salvadoreña en Canadá")
    member = await bot.store.members.by_telegram_id(121)
    assert member is not None and member.association_id is not None
    chosen = await bot.store.associations.by_id(member.association_id)
    assert chosen is not None and chosen.name == "Red Académica Salvadoreña en Canadá"
