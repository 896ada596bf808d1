"""Composing a notice: every typed sub-step has a way back and /cancel there only leaves it, a
search that finds nothing says so, a time typed on the When screen is taken (its zone named as
people say it), /broadcast offers the draft not yet sent, and dropped drafts are no notices."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from storage.models import Broadcast
from tests.harness import BotUnderTest, Person, add_coordinator, add_member, wait_until_done
from tests.test_surveys_admin_chat import members, staff_member, upload

AUDIENCE_BUTTONS = [
    "País",
    "Provincia/estado",
    "Ciudad",
    "Sector",
    "Tema",
    "Rol",
    "Asociación",
    "Quitar filtros",
    "Continuar ▸",
]
WHEN_BUTTONS = ["✓ ⚡ Ahora, al confirmar", "📅 En una fecha y hora…", "◂ Volver a la vista previa"]


async def _draft(bot: BotUnderTest) -> Broadcast:
    draft = await bot.services.broadcasts.draft(await bot.store.actors.of(300))
    assert draft is not None
    return draft


async def _at_audience(bot: BotUnderTest, text: str = "Aviso de prueba") -> Person:
    await add_member(bot, 301, "es")  # Houston, Texas
    await add_member(bot, 302, "es", region="CA", city="Los Angeles")
    marisol = await add_coordinator(bot)
    await marisol.send("/broadcast")
    await marisol.send(text)
    await marisol.press("Continuar")
    assert marisol.buttons() == AUDIENCE_BUTTONS
    return marisol


async def test_a_typed_filter_has_a_way_back_and_cancel_leaves_only_that_step(
    bot: BotUnderTest,
) -> None:
    marisol = await _at_audience(bot)
    await marisol.press("Provincia/estado")
    assert "Escribe las provincias o estados" in marisol.last_text()
    assert marisol.buttons() == ["◂ Volver a la audiencia"]
    # The refusal names what was typed and mentions no button that is not there.
    await marisol.send("zz")
    refused = marisol.last_text()
    assert "No reconocemos «zz» como provincia o estado" in refused
    assert "botón" not in refused
    assert marisol.buttons() == ["◂ Volver a la audiencia"]
    await marisol.press("Volver a la audiencia")
    assert "Destinatarios ahora: 3" in marisol.last_text()
    assert marisol.buttons() == AUDIENCE_BUTTONS
    draft = await _draft(bot)
    assert (draft.step, draft.texts, draft.audience.regions) == (
        "audience",
        {"es": "Aviso de prueba"},
        (),
    )
    # Typed text is no longer the draft's once it shows buttons again.
    assert await bot.store.conversations.get(300) is None

    # /cancel in a typed step leaves that step, never the notice.
    await marisol.press("Ciudad")
    assert marisol.buttons() == ["◂ Volver a la audiencia"]
    await marisol.send("/cancel")
    assert marisol.last_text().startswith("Paso cancelado; el aviso sigue guardado como borrador.")
    assert "Destinatarios ahora: 3" in marisol.last_text()
    assert marisol.buttons() == AUDIENCE_BUTTONS
    draft = await _draft(bot)
    assert (draft.status, draft.step, draft.audience.cities) == ("draft", "audience", ())

    # And the step still works after it: the filter is typed, the audience narrowed.
    await marisol.press("Ciudad")
    await marisol.send("Houston")
    assert "Destinatarios ahora: 2" in marisol.last_text()  # Marisol lives in Houston too
    assert (await _draft(bot)).audience.cities == ("Houston",)
    await marisol.press("Continuar")
    assert "Aviso de prueba" in marisol.last_text() and "Destinatarios: 2" in marisol.last_text()


async def test_an_association_search_that_finds_nothing_says_so(bot: BotUnderTest) -> None:
    await bot.store.associations.add("Casa Cuscatlán", "US", "TX", "Houston")
    marisol = await _at_audience(bot)
    await marisol.press("Asociación")
    assert marisol.buttons() == ["◂ Volver a la audiencia"]
    await marisol.send("Comité Morazán")
    nothing = marisol.last_text()
    assert "Ninguna asociación coincide con «Comité Morazán»" in nothing
    assert "Escribe otra parte del nombre o vuelve a la audiencia" in nothing
    assert "Marca los valores" not in nothing
    assert marisol.buttons() == ["◂ Volver a la audiencia"]
    # Typing again searches again.
    await marisol.send("cuscatlan")
    assert "Marca los valores" in marisol.last_text()
    assert marisol.buttons() == ["⬜ Casa Cuscatlán", "◂ Volver a la audiencia"]
    await marisol.press("Volver a la audiencia")
    assert marisol.buttons() == AUDIENCE_BUTTONS
    assert (await _draft(bot)).step == "audience"


async def test_a_time_typed_on_the_when_screen_is_the_sending_time(bot: BotUnderTest) -> None:
    marisol = await _at_audience(bot)
    await marisol.press("Continuar")
    await marisol.press("Cuándo: ahora")
    when = marisol.last_text()
    # The zone as people say it, never the IANA key; and the screen invites typing the time.
    assert "hora central (Chicago)" in when and "America/" not in when
    assert "escribe aquí el día y la hora" in when
    assert marisol.buttons() == WHEN_BUTTONS

    await marisol.send("algún día a las seis")
    assert "No entendemos esa fecha" in marisol.last_text()
    assert marisol.buttons() == WHEN_BUTTONS
    await marisol.send("mañana 9h")
    preview = marisol.last_text()
    assert preview.startswith("Vista previa")
    assert "hora central (Chicago)" in preview and "America/" not in preview
    chicago = ZoneInfo("America/Chicago")
    tomorrow = bot.services.clock.now().astimezone(chicago).date() + timedelta(days=1)
    expected = datetime.combine(tomorrow, time(9, 0), tzinfo=chicago).astimezone(UTC)
    assert (await _draft(bot)).send_at == expected
    assert await bot.store.conversations.get(300) is None

    # The typed sub-step has its way back, and /cancel there goes back to When, time kept.
    await marisol.press("Cuándo:")
    await marisol.press("En una fecha y hora")
    assert "hora central (Chicago)" in marisol.last_text()
    assert marisol.buttons() == ["◂ Volver a «Cuándo»"]
    await marisol.send("/cancel")
    assert marisol.last_text().startswith("Paso cancelado")
    assert "¿Cuándo se envía el aviso?" in marisol.last_text()
    draft = await _draft(bot)
    assert (draft.status, draft.step, draft.send_at) == ("draft", "schedule", expected)
    await marisol.press("En una fecha y hora")
    await marisol.press("Volver a «Cuándo»")
    assert "¿Cuándo se envía el aviso?" in marisol.last_text()
    await marisol.press("Volver a la vista previa")
    assert marisol.last_text().startswith("Vista previa")


async def test_broadcast_again_offers_the_draft_not_yet_sent(bot: BotUnderTest) -> None:
    marisol = await _at_audience(bot, "Aviso uno")
    await marisol.press("Provincia/estado")
    await marisol.send("TX")
    first = await _draft(bot)

    await marisol.send("/broadcast")
    offer = marisol.last_text()
    assert "Tienes un aviso sin enviar" in offer and "«Aviso uno»" in offer
    assert "US-TX" in offer
    assert marisol.buttons() == ["▸ Retomar ese aviso", "✚ Empezar uno nuevo"]
    await marisol.press("Retomar ese aviso")
    assert "Destinatarios ahora: 2" in marisol.last_text()
    assert marisol.buttons() == AUDIENCE_BUTTONS
    assert (await _draft(bot)).id == first.id

    # Resumed in a typed step: asked again below, and what is typed is the draft's.
    await marisol.press("Ciudad")
    await marisol.send("/broadcast")
    await marisol.press("Retomar ese aviso")
    assert "Escribe las ciudades" in marisol.last_text()
    assert marisol.buttons() == ["◂ Volver a la audiencia"]
    await marisol.send("Houston")
    assert (await _draft(bot)).audience.cities == ("Houston",)

    await marisol.send("/broadcast")
    await marisol.press("Empezar uno nuevo")
    assert "Escribe el aviso en español" in marisol.last_text()
    fresh = await _draft(bot)
    assert fresh.id != first.id and fresh.texts == {}
    dropped = await bot.store.broadcasts.get(first.id)
    assert dropped is not None and dropped.status == "cancelled"
    await marisol.send("Aviso dos")
    assert (await _draft(bot)).texts == {"es": "Aviso dos"}


async def test_dropped_drafts_are_not_listed_as_notices(bot: BotUnderTest) -> None:
    marisol = await _at_audience(bot, "Borrador descartado")
    await marisol.press("Continuar")
    await marisol.press("Cancelar")
    assert "Aviso cancelado" in marisol.last_text()
    await marisol.send("/broadcasts")
    assert marisol.last_text() == "Todavía no hay avisos."

    await marisol.send("/broadcast")
    await marisol.send("Aviso enviado")
    await marisol.press("Continuar")
    await marisol.press("Continuar")
    await marisol.press("Confirmar envío")
    sent = (await bot.store.broadcasts.recent(5))[0]
    await wait_until_done(bot, sent.id)
    await marisol.send("/broadcasts")
    listing = marisol.last_text()
    assert f"#{sent.id}" in listing
    assert "detenido" not in listing and f"#{sent.id - 1}" not in listing
    assert [b.id for b in await bot.store.broadcasts.recent(5)] == [sent.id]


async def test_a_survey_borrowing_the_audience_has_the_same_way_back(bot: BotUnderTest) -> None:
    await members(bot)
    sam = await staff_member(bot)
    await upload(bot, sam)
    await sam.press("Open #1 for members")
    await sam.press("Province/state")
    assert "Type the provinces or states" in sam.last_text()
    assert sam.buttons() == ["◂ Back to the audience"]
    await sam.send("Narnia")
    refused = sam.last_text()
    assert "We don't recognize “Narnia” as a province or state" in refused
    assert "button" not in refused
    assert sam.buttons() == ["◂ Back to the audience"]
    await sam.press("Back to the audience")
    assert "Recipients now: 4" in sam.last_text()
    await sam.press("Association")
    await sam.send("Morazán")
    assert "No association matches “Morazán”" in sam.last_text()
    assert sam.buttons() == ["◂ Back to the audience"]


async def test_adding_a_version_can_be_left_without_losing_the_notice(bot: BotUnderTest) -> None:
    marisol = await add_coordinator(bot)
    await marisol.send("/broadcast")
    # The first text has nothing to go back to: /cancel there is the way out (it says so).
    assert "/cancel para salir" in marisol.last_text() and marisol.buttons() == []
    await marisol.send("Aviso en español")
    await marisol.press("Agregar inglés")
    assert "Escribe el aviso en inglés" in marisol.last_text()
    assert marisol.buttons() == ["◂ Volver a los textos"]
    await marisol.send("/cancel")
    assert marisol.last_text().startswith("Paso cancelado")
    assert "español ✓, inglés —" in marisol.last_text()
    draft = await _draft(bot)
    assert (draft.status, draft.step, draft.texts) == (
        "draft",
        "versions",
        {"es": "Aviso en español"},
    )
    await marisol.press("Agregar inglés")
    await marisol.press("Volver a los textos")
    assert "español ✓, inglés —" in marisol.last_text()
    await marisol.press("Agregar inglés")
    await marisol.send("Notice in English")
    assert "español ✓, inglés ✓" in marisol.last_text()
