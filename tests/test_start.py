"""A person's first contact: /start in their Telegram language, /help, restarts keep data."""

from __future__ import annotations

from tests.harness import BotUnderTest


async def test_spanish_speaker_is_welcomed_in_spanish(bot: BotUnderTest) -> None:
    ana = bot.person(1, "Ana", "es")
    replies = await ana.send("/start")
    assert len(replies) == 1
    assert "¡Bienvenido/a" in (replies[0].text or "")
    assert ana.buttons()[0] == "✓ Español"


async def test_french_speaker_is_welcomed_in_french(bot: BotUnderTest) -> None:
    carlos = bot.person(2, "Carlos", "fr-CA")
    await carlos.send("/start")
    assert "Bienvenue" in carlos.last_text()
    assert carlos.buttons()[0] == "✓ Français"


async def test_unknown_language_falls_back_to_spanish(bot: BotUnderTest) -> None:
    someone = bot.person(3, "Kim", "ko")
    await someone.send("/start")
    assert "¡Bienvenido/a" in someone.last_text()
    nobody = bot.person(4, "Nameless", None)
    await nobody.send("/help")
    assert "Comandos que puedes usar" in nobody.last_text()


async def test_help_in_english_lists_member_commands_only(bot: BotUnderTest) -> None:
    john = bot.person(5, "John", "en")
    await john.send("/help")
    text = john.last_text()
    assert "Commands you can use" in text and "/profile" in text
    assert "/grant" not in text


async def test_command_menus_are_published_per_language(bot: BotUnderTest) -> None:
    commands = bot.emulator.bot("4242:test-token").commands
    # "" (no language code): the menu of people whose Telegram speaks none of ours.
    assert {key.split(":")[-1] for key in commands if key.startswith("default")} == {
        "",
        "es",
        "en",
        "fr",
    }
    assert any(c["description"] == "borrar tus datos personales" for c in commands["default::es"])
    admin_menu = [c["command"] for c in commands["chat:9000:"]]  # the configured admin
    assert {"grant", "revoke", "pending", "broadcast"} <= set(admin_menu)


async def test_restart_on_the_same_file_keeps_the_data(bot: BotUnderTest) -> None:
    ana = bot.person(6, "Ana", "es")
    await ana.send("/start")
    await ana.press("Español")
    await ana.press("Acepto")
    await ana.send("Ana María")
    await bot.restart()
    member = await bot.store.members.by_telegram_id(6)
    assert member is not None and member.name == "Ana María" and member.step == "country"
