"""Registration end to end: Ana (es, Los Angeles), Carlos (fr, Montréal), someone in El Paso."""

from __future__ import annotations

import json

from bot.services.associations import import_csv
from tests.harness import TOKEN, BotUnderTest, Person

REGISTRY = """name,country,province_state,city,kind
Comité Salvadoreño de Los Ángeles,US,CA,Los Angeles,hometown
Asociación Salvadoreña de Houston,US,TX,Houston,association
Association des Salvadoriens de Montréal,CA,QC,Montréal,association
Red Académica Salvadoreña en Canadá,CA,ON,Toronto,academic
"""


async def _import_registry(bot: BotUnderTest) -> None:
    result = await import_csv(bot.store, REGISTRY)
    assert (result.added, result.problems) == (4, ())


async def _begin(person: Person, language_label: str, accept_label: str) -> None:
    await person.send("/start")
    await person.press(language_label)
    await person.press(accept_label)


async def test_ana_registers_in_spanish_from_los_angeles(bot: BotUnderTest) -> None:
    await _import_registry(bot)
    ana = bot.person(101, "Ana", "es", username="ana_la")
    await ana.send("/start")
    await ana.press("Español")
    assert "Aviso de privacidad" in ana.last_text()
    await ana.press("Acepto")
    assert "¿Cómo quieres que te llamemos?" in ana.last_text()
    await ana.send("Ana")
    await ana.press("Estados Unidos")
    assert "provincia o estado" in ana.last_text()
    await ana.press("California")
    await ana.send("Los Ángeles")
    # California has one zone: the bot asks for the association next, no zone question.
    assert "asociación" in ana.last_text()
    assert ana.buttons()[0] == "Comité Salvadoreño de Los Ángeles"
    await ana.press("Comité Salvadoreño de Los Ángeles")
    await ana.press("Asociación de la diáspora")
    await ana.press("remesas")
    assert "☑️ Inversión de la diáspora y remesas" in ana.buttons()
    await ana.press("Listo")
    await ana.press("Omitir")
    assert "comparte tu teléfono" in ana.last_text()
    assert "keyboard" in (ana.last().reply_markup or {})
    replies = await ana.share_contact("+1 (213) 555-0100")
    assert "Teléfono guardado" in (replies[0].text or "")
    summary = ana.last_text()
    assert "Revisa tus datos" in summary
    assert "Los Ángeles, California (Estados Unidos)" in summary
    # The zone as people say it, in their language; never the IANA key.
    assert "Zona horaria: hora del Pacífico (Los Ángeles)" in summary
    assert "America/" not in summary
    await ana.press("Confirmar")
    assert "¡Listo, Ana!" in ana.last_text()

    member = await bot.store.members.by_telegram_id(101)
    assert member is not None
    assert member.status == "active" and member.step is None
    assert (member.country, member.region, member.city) == ("US", "CA", "Los Ángeles")
    assert member.time_zone == "America/Los_Angeles"
    assert member.sector == "diaspora-association"
    assert member.themes == ("investment-remittances",)
    assert member.phone == "+12135550100" and member.email is None
    association = await bot.store.associations.by_id(member.association_id or 0)
    assert association is not None and association.name == "Comité Salvadoreño de Los Ángeles"
    consent = await bot.store.members.consent_history(member.id)
    assert [(event.action, event.channel) for event in consent] == [("accept", "telegram")]


async def test_carlos_registers_in_french_from_montreal_and_becomes_focal_point(
    bot: BotUnderTest,
) -> None:
    await _import_registry(bot)
    carlos = bot.person(102, "Carlos", "fr", username="carlos_mtl")
    await carlos.send("/start")
    assert carlos.buttons()[0] == "✓ Français"
    await carlos.press("Français")
    await carlos.press("J'accepte")
    await carlos.send("Carlos")
    await carlos.press("Canada")
    await carlos.send("québec")  # typed, lower case, with the accent
    await carlos.send("Montréal")
    # Quebec has two zones: the member picks the clock that matches.
    assert "plus d'un fuseau horaire" in carlos.last_text()
    await carlos.press("Montréal")  # Quebec's eastern time, named by a city of Quebec
    await carlos.send("montréal")  # search the registry by typing
    assert "Résultats pour « montréal »" in carlos.last_text()
    await carlos.press("Association des Salvadoriens de Montréal")
    await carlos.press("Milieu universitaire")
    await carlos.press("Compétences")
    await carlos.press("Terminé")
    await carlos.send("carlos@universite.ca")
    await carlos.press("Passer")  # the phone reply keyboard's skip button is sent as text
    assert "Vérifiez vos informations" in carlos.last_text()
    await carlos.press("Confirmer")
    assert "C'est fait, Carlos" in carlos.last_text()

    member = await bot.store.members.by_telegram_id(102)
    assert member is not None and member.language == "fr"
    assert (member.region, member.time_zone, member.sector) == ("QC", "America/Toronto", "academia")
    assert member.email == "carlos@universite.ca" and member.phone is None

    admin = bot.person(9000, "Admin", "en")
    await admin.send("/start")  # the admin needs no profile to use admin commands
    await admin.send("/grant @carlos_mtl focal_point theme:skills-knowledge")
    assert "Role focal_point granted to Carlos" in admin.last_text()
    roles = await bot.store.roles.of_member(member.id)
    assert [(grant.role, grant.scope) for grant in roles] == [
        ("focal_point", "theme:skills-knowledge")
    ]
    audit = await bot.store.audit.recent()
    # The actor is a pseudonym (an operator's, since admin 9000 has no profile), never the id.
    assert audit[0].action == "grant" and audit[0].actor == await bot.store.actors.of(9000)
    assert audit[0].actor.startswith("op-") and "9000" not in audit[0].actor


async def test_el_paso_member_chooses_mountain_time(bot: BotUnderTest) -> None:
    person = bot.person(103, "Luis", "es")
    await _begin(person, "Español", "Acepto")
    await person.send("Luis")
    await person.press("Estados Unidos")
    await person.press("Siguiente")
    assert "Página" not in person.last_text()  # paging edits the keyboard in place
    await person.press("Siguiente")
    await person.press("Texas")
    await person.send("El Paso")
    assert "En Texas hay más de una zona horaria" in person.last_text()
    labels = person.buttons()
    # Named by Texan cities, never Chicago or Denver, which are elsewhere.
    assert any(label.endswith("— hora central (Houston)") for label in labels)
    assert any(label.endswith("— hora de las Montañas Rocosas (El Paso)") for label in labels)
    await person.press("El Paso")
    await person.press("Ninguna")
    await person.press("Sociedad civil")
    await person.press("Protección")
    await person.press("Listo")
    await person.press("Omitir")
    await person.press("Omitir")
    await person.press("Confirmar")
    member = await bot.store.members.by_telegram_id(103)
    assert member is not None and member.status == "active"
    assert (member.region, member.time_zone, member.association_none) == (
        "TX",
        "America/Denver",
        True,
    )


async def _register_quickly(bot: BotUnderTest, person: Person) -> None:
    await _begin(person, "English", "I agree")
    await person.send("<b>Ana")
    await person.press("United States")
    await person.send("tx")
    await person.send("Houston")
    await person.press("Houston")
    await person.press("None")
    await person.press("Private sector")
    await person.press("remittances")
    await person.press("Done")
    await person.press("Skip")
    await person.press("Skip")
    await person.press("Confirm")


async def test_names_with_html_are_escaped_and_kept(bot: BotUnderTest) -> None:
    person = bot.person(104, "Test", "en")
    await _register_quickly(bot, person)
    await person.send("/profile")
    assert "Name: <b>Ana" in person.last_text()  # shown literally, not as bold
    assert "&lt;b&gt;Ana" in (person.last().html or "")
    member = await bot.store.members.by_telegram_id(104)
    assert member is not None and member.name == "<b>Ana"


async def test_profile_edit_place_and_email(bot: BotUnderTest) -> None:
    person = bot.person(105, "Test", "en")
    await _register_quickly(bot, person)
    await person.send("/profile")
    await person.press("Edit place")
    await person.press("Canada")
    await person.send("BC")
    await person.send("Vancouver")
    assert "more than one time zone" in person.last_text()
    await person.press("Vancouver")
    assert "Your profile" in person.last_text()
    await person.press("Edit email")
    await person.send("not-an-email")
    assert "does not look valid" in person.last_text()
    await person.send("someone@example.org")
    await person.press("Done")
    assert "Changes saved" in person.last_text()
    member = await bot.store.members.by_telegram_id(105)
    assert member is not None
    assert (member.country, member.region, member.city) == ("CA", "BC", "Vancouver")
    assert member.time_zone == "America/Vancouver" and member.email == "someone@example.org"
    assert member.status == "active" and member.step is None
    assert member.association_none  # moving country keeps what they said about their association


async def test_editing_the_profile_takes_typed_text_back_from_a_flow_left_open(
    bot: BotUnderTest,
) -> None:
    person = bot.person(110, "Test", "en")
    await _register_quickly(bot, person)
    await person.send("/profile")
    profile = person.last()
    await person.send("/propose")  # a guided flow now owns typed text
    assert await bot.store.conversations.get(110) is not None
    edit_name = next(b for b in profile.buttons() if b["text"] == "Edit name")
    await person.press_data(profile.message_id, edit_name["callback_data"])
    # The profile message becomes the question (edited in place).
    (asked,) = [m for m in person.transcript() if m.message_id == profile.message_id]
    assert "What name should we call you?" in (asked.text or "")
    await person.send("Ana María")
    member = await bot.store.members.by_telegram_id(110)
    assert member is not None and member.name == "Ana María" and member.step is None
    assert await bot.store.conversations.get(110) is None
    assert "Your profile" in person.last_text()


async def test_back_returns_to_the_previous_step(bot: BotUnderTest) -> None:
    person = bot.person(106, "Test", "es")
    await _begin(person, "Español", "Acepto")
    await person.send("Rosa")
    await person.send("Canada")  # typed works as well as the button
    await person.press("Atrás")
    assert "¿En qué país vives?" in person.last_text()
    await person.press("Estados Unidos")
    member = await bot.store.members.by_telegram_id(106)
    assert member is not None and member.step == "region" and member.country == "US"


async def test_registration_resumes_after_a_restart_mid_flow(bot: BotUnderTest) -> None:
    person = bot.person(107, "Test", "es")
    await _begin(person, "Español", "Acepto")
    await person.send("Marta")
    await person.press("Estados Unidos")
    await bot.restart()
    # The region buttons sent before the restart still work.
    await person.press("Siguiente")
    await person.press("Siguiente")
    await person.press("Texas")
    await bot.restart()
    await person.send("/start")
    assert "Continuemos tu registro" in person.last_text()
    assert "¿En qué ciudad vives?" in person.last_text()
    await person.send("Houston")
    member = await bot.store.members.by_telegram_id(107)
    assert member is not None
    assert (member.name, member.region, member.city, member.step) == (
        "Marta",
        "TX",
        "Houston",
        "zone",
    )


async def test_consent_buttons_pressed_again_after_accepting_are_stale(bot: BotUnderTest) -> None:
    person = bot.person(114, "Test", "en")
    await person.send("/start")
    await person.press("English")
    notice = person.last()
    await person.press("I agree")
    # Its buttons are gone from the screen; a late tap (or a replay) still arrives.
    await person.press_data(notice.message_id, "v1:consent:no:en", forge=True)
    assert person.callback_answer() == "That button is not valid or has expired."
    assert "We have stored nothing" not in person.last_text()
    member = await bot.store.members.by_telegram_id(114)
    assert member is not None and member.status == "registering"


async def test_declining_consent_stores_nothing(bot: BotUnderTest) -> None:
    person = bot.person(108, "Test", "fr")
    await person.send("/start")
    await person.press("Français")
    await person.press("Je refuse")
    assert "Nous n'avons rien conservé" in person.last_text()
    assert await bot.store.members.by_telegram_id(108) is None


async def test_mydata_sends_everything_as_json(bot: BotUnderTest) -> None:
    person = bot.person(109, "Test", "en")
    await _register_quickly(bot, person)
    await person.send("/mydata")
    document = person.last().document
    assert document is not None and document["file_name"] == "consultbot-my-data.json"
    content = bot.emulator.bot("4242:test-token").files[document["file_id"]][1]
    sections = json.loads(content)["sections"]
    (profile,) = sections["profile"]["items"]
    assert profile["name"] == "<b>Ana"
    assert profile["time_zone"] == "America/Chicago"
    assert [event["action"] for event in sections["consent_history"]["items"]] == ["accept"]


async def test_deleteme_erases_identity_and_allows_a_new_registration(bot: BotUnderTest) -> None:
    person = bot.person(110, "Test", "en")
    await _register_quickly(bot, person)
    before = await bot.store.members.by_telegram_id(110)
    assert before is not None
    await person.send("/deleteme")
    await person.press("No, keep them")
    assert await bot.store.members.by_telegram_id(110) is not None
    await person.send("/deleteme")
    await person.press("Yes, erase")
    assert "your personal data was erased" in person.last_text()
    assert await bot.store.members.by_telegram_id(110) is None
    erased = await bot.store.members.by_id(before.id)
    assert erased is not None and erased.status == "deleted"
    assert (erased.telegram_id, erased.name, erased.city, erased.email, erased.phone) == (
        None,
        None,
        None,
        None,
        None,
    )
    assert erased.pseudonym == before.pseudonym
    history = await bot.store.members.consent_history(before.id)
    assert [event.action for event in history] == ["accept", "withdraw"]
    await person.send("/start")
    assert "Choose your language" in person.last_text()
    await person.press("English")
    await person.press("I agree")
    again = await bot.store.members.by_telegram_id(110)
    assert again is not None and again.id != before.id and again.pseudonym != before.pseudonym


async def test_language_command_switches_the_conversation(bot: BotUnderTest) -> None:
    person = bot.person(111, "Test", "en")
    await _register_quickly(bot, person)
    await person.send("/language")
    await person.press("Français")
    assert "Langue modifiée" in person.last_text()
    await person.send("/help")
    assert "Commandes que vous pouvez utiliser" in person.last_text()


async def test_cancel_pauses_registration_and_abandons_an_edit(bot: BotUnderTest) -> None:
    person = bot.person(112, "Test", "en")
    await _register_quickly(bot, person)
    await person.send("/profile")
    await person.press("Edit phone")
    assert "keyboard" in (person.last().reply_markup or {})
    replies = await person.send("/cancel")
    assert "Edit canceled" in (replies[0].text or "")
    assert replies[0].reply_markup == {"remove_keyboard": True}
    assert "Your profile" in person.last_text() and "No phone" not in person.last_text()
    member = await bot.store.members.by_telegram_id(112)
    assert member is not None and member.step is None and member.status == "active"
    newcomer = bot.person(113, "New", "es")
    await _begin(newcomer, "Español", "Acepto")
    await newcomer.send("Rosa")
    await newcomer.send("/cancel")
    assert "Registro en pausa" in newcomer.last_text()
    paused = await bot.store.members.by_telegram_id(113)
    assert paused is not None and paused.name == "Rosa" and paused.step == "country"


async def test_cancelling_a_half_done_place_edit_puts_the_old_place_back(bot: BotUnderTest) -> None:
    person = bot.person(115, "Test", "en")
    await _register_quickly(bot, person)  # Houston, Texas, America/Chicago
    await person.send("/profile")
    await person.press("Edit place")
    await person.press("Canada")
    replies = await person.send("/cancel")
    assert "Edit canceled" in (replies[0].text or "")
    member = await bot.store.members.by_telegram_id(115)
    assert member is not None
    assert (member.country, member.region, member.city, member.time_zone) == (
        "US",
        "TX",
        "Houston",
        "America/Chicago",
    )
    assert member.step is None and not member.editing and member.edit_backup is None
    await bot.restart()  # the backup lived in the database, not in memory
    await person.send("/profile")
    await person.press("Edit themes")
    await person.press("Protection")
    await bot.restart()
    await person.send("/cancel")
    again = await bot.store.members.by_telegram_id(115)
    assert again is not None and again.themes == ("investment-remittances",)


async def test_a_step_the_table_no_longer_has_shows_the_profile_to_review(
    bot: BotUnderTest,
) -> None:
    person = bot.person(111, "Test", "en")
    await _register_quickly(bot, person)
    member = await bot.store.members.by_telegram_id(111)
    assert member is not None
    # A member row left at a step a newer release removed (or a hand-edited database).
    await bot.store.members.update(member.id, {"step": "favourite_colour", "editing": True})
    await person.send("hello")
    assert "Your profile" in person.last_text()
    assert any(b["text"] == "Edit name" for b in person.last().buttons())
    assert bot.emulator.bot(TOKEN).errors == []
