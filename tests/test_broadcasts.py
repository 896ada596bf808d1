"""Notices: composed in chat, delivered in each member's language, blocked members skipped."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from bot.clock import ManualClock, OffsetClock
from bot.services.broadcasts import first_allowed
from storage.models import AudienceFilter
from tests.harness import (
    TOKEN,
    BotUnderTest,
    Person,
    add_coordinator,
    add_member,
    bot_running,
    make_config,
    notices,
    storage_toml,
    wait_until_done,
)
from tgemu import Emulator


async def _coordinator(bot: BotUnderTest) -> Person:
    marisol = await add_coordinator(bot)
    menu = bot.emulator.bot(TOKEN).commands["chat:300:"]
    assert {"command": "broadcast", "description": "enviar un aviso a miembros"} in menu
    return marisol


async def test_coordinator_sends_to_texas_diaspora_associations(bot: BotUnderTest) -> None:
    await add_member(bot, 301, "es")  # Texas, diaspora association
    await add_member(bot, 302, "en")  # Texas, diaspora association
    await add_member(bot, 303, "fr")  # Texas, diaspora association: no French version
    await add_member(bot, 304, "es", sector="academia")  # Texas, not in the segment
    await add_member(bot, 305, "es", region="CA", time_zone="America/Los_Angeles")
    marisol = await _coordinator(bot)

    await marisol.send("/broadcast")
    assert "Escribe el aviso en español" in marisol.last_text()
    await marisol.send("La reunión del sábado se mueve al <domingo> & a las 10:00.")
    await marisol.press("Agregar inglés")
    await marisol.send("Saturday's meeting moves to Sunday at 10:00.")
    assert "español ✓, inglés ✓, francés —" in marisol.last_text()
    await marisol.press("Continuar")
    assert "todos los miembros" in marisol.last_text()
    await marisol.press("Provincia/estado")
    await marisol.send("TX")
    await marisol.press("Sector")
    await marisol.press("Asociación de la diáspora")
    await marisol.press("Volver a la audiencia")
    audience_text = marisol.last_text()
    assert "Provincia/estado = US-TX" in audience_text and "Destinatarios ahora: 4" in audience_text
    await marisol.press("Continuar")
    preview = marisol.last_text()
    assert "&lt;domingo&gt;" not in preview and "<domingo> & a las 10:00" in preview
    assert "Destinatarios: 4" in preview  # Marisol herself is a Texan diaspora association member
    await marisol.press("He leído esto")
    await marisol.press("Confirmar envío")

    broadcast = (await bot.store.broadcasts.recent(1))[0]
    await wait_until_done(bot, broadcast.id)
    assert notices(bot, 301, "domingo") == [
        "📢 Aviso · Consulta a la diáspora\n\n"
        "La reunión del sábado se mueve al <domingo> & a las 10:00."
    ]
    assert len(notices(bot, 302, "Sunday at 10:00")) == 1
    assert len(notices(bot, 303, "domingo")) == 1  # the fallback (Spanish) version
    assert notices(bot, 304, "domingo") == [] and notices(bot, 305, "domingo") == []

    # The member acknowledges; the coordinator's status message ends as the delivery report.
    reader = Person(bot, 301)
    await reader.press("He leído esto")
    assert reader.callback_answer() == "¡Gracias por confirmar!"
    counts = await bot.store.broadcasts.counts(broadcast.id)
    assert (counts.sent, counts.acknowledged, counts.pending) == (4, 1, 0)
    status = [m for m in marisol.transcript() if m.message_id == broadcast.status_message_id]
    assert status[0].text is not None and "terminado: enviados 4 de 4" in status[0].text
    assert status[0].buttons() == []  # no Stop button once delivered
    await marisol.send("/broadcasts")
    assert f"Aviso #{broadcast.id} terminado: enviados 4 de 4" in marisol.last_text()


async def test_everyone_and_a_blocked_member_is_marked_and_skipped(bot: BotUnderTest) -> None:
    for telegram_id in range(310, 320):
        await add_member(bot, telegram_id, "en", region="CA", country="US")
    bot.emulator.block(TOKEN, 315)
    marisol = await _coordinator(bot)
    await marisol.send("/broadcast")
    await marisol.send("Round 1 opens on Monday.")
    await marisol.press("Continuar")
    await marisol.press("Continuar")
    assert "Destinatarios: 11" in marisol.last_text()
    await marisol.press("Confirmar envío")
    broadcast = (await bot.store.broadcasts.recent(1))[0]
    await wait_until_done(bot, broadcast.id)
    counts = await bot.store.broadcasts.counts(broadcast.id)
    assert (counts.sent, counts.blocked, counts.failed) == (10, 1, 0)
    blocked = await bot.store.members.by_telegram_id(315)
    assert blocked is not None and blocked.unreachable
    # The next notice skips them; writing to the bot again makes them reachable.
    assert await bot.store.broadcasts.audience_count(AudienceFilter()) == 10
    bot.emulator.block(TOKEN, 315, blocked=False)
    await Person(bot, 315).send("/help")
    again = await bot.store.members.by_telegram_id(315)
    assert again is not None and not again.unreachable


async def test_faults_lose_nothing_and_duplicate_nothing(bot: BotUnderTest) -> None:
    for telegram_id in range(1000, 1200):
        await add_member(bot, telegram_id, "es")
    bot.emulator.faults.error_rate = 0.05
    bot.emulator.faults.flood_rate = 0.05  # about ten of each among ~220 calls
    bot.emulator.faults.methods = frozenset({"sendmessage"})
    services = bot.application.bot_data.services  # type: ignore[union-attr]
    assert services is not None and services.delivery is not None
    created, count = await services.broadcasts.create_queued(
        "test", {"es": "Aviso con fallos"}, "es", AudienceFilter()
    )
    services.delivery.wake()
    assert count == 200
    await wait_until_done(bot, created.id, timeout=60)
    received = [
        len(notices(bot, telegram_id, "Aviso con fallos")) for telegram_id in range(1000, 1200)
    ]
    assert received == [1] * 200
    counts = await bot.store.broadcasts.counts(created.id)
    assert (counts.sent, counts.failed) == (200, 0)
    errors = bot.emulator.bot(TOKEN).errors
    assert any(code == 502 for _, code, _ in errors) and any(code == 429 for _, code, _ in errors)


async def test_a_member_chatting_during_a_broadcast_is_answered(
    emulator: Emulator, database: Path, running_clock: OffsetClock
) -> None:
    # 50 notices a second for 200 members: about four seconds of delivery to chat during.
    config = make_config(database, emulator.base_url(), delivery={"rate_per_second": 50})
    async with bot_running(emulator, config, running_clock) as bot:
        for telegram_id in range(2000, 2200):
            await add_member(bot, telegram_id, "es")
        created, _ = await bot.services.broadcasts.create_queued(
            "test", {"es": "Aviso largo"}, "es", AudienceFilter()
        )
        bot.services.wake_delivery()
        deadline = asyncio.get_running_loop().time() + 10
        while (await bot.store.broadcasts.counts(created.id)).sent < 10:
            assert asyncio.get_running_loop().time() < deadline, "delivery never started"
            await asyncio.sleep(0.02)
        chatty = bot.person(2999, "Chatty", "fr")
        started = asyncio.get_running_loop().time()
        await chatty.send("/start")
        answered_after = asyncio.get_running_loop().time() - started
        during = await bot.store.broadcasts.counts(created.id)
        assert "Bienvenue" in chatty.last_text()
        assert answered_after < 2
        assert during.pending > 0, "the notice had finished before the member was answered"
        await wait_until_done(bot, created.id)


def test_quiet_hours_move_delivery_into_the_members_window() -> None:
    # 03:00 UTC is 21:00 the day before in Chicago (CST): outside 09:00-21:00.
    due = datetime(2026, 12, 5, 3, 0, tzinfo=UTC)
    moved = first_allowed(due, "America/Chicago", "09:00", "21:00")
    assert moved == datetime(2026, 12, 5, 15, 0, tzinfo=UTC)  # 09:00 CST
    inside = datetime(2026, 12, 5, 16, 0, tzinfo=UTC)  # 10:00 CST
    assert first_allowed(inside, "America/Chicago", "09:00", "21:00") == inside
    # A window across midnight, and no window at all.
    assert first_allowed(due, "America/Chicago", "20:00", "08:00") == due
    assert first_allowed(due, "America/Chicago", None, None) == due


async def test_association_filter_and_a_scheduled_notice(
    emulator: Emulator, database: Path, running_clock: OffsetClock
) -> None:
    clock = ManualClock(running_clock.now())
    config = make_config(database, emulator.base_url(), admins={"user_ids": [9000]})
    async with bot_running(emulator, config, clock) as bot:
        casa = await bot.store.associations.add("Casa Cuscatlán", "US", "TX", "Houston")
        await add_member(bot, 320, "es", association_id=casa.id)
        await add_member(bot, 321, "es")
        marisol = await _coordinator(bot)
        await marisol.send("/broadcast")
        await marisol.send("Reunión de la Casa")
        await marisol.press("Continuar")
        await marisol.press("Asociación")
        await marisol.send("cuscat")
        await marisol.press("Casa Cuscatlán")
        assert "Destinatarios ahora: 1" in marisol.last_text()
        await marisol.press("Continuar")
        await marisol.press("Cuándo: ahora")
        await marisol.press("En una fecha y hora")
        assert "hora central (Chicago)" in marisol.last_text()  # as people say it
        await marisol.send("algún día a las seis")
        assert "No entendemos esa fecha" in marisol.last_text()
        past = (clock.now() - timedelta(hours=1)).astimezone(ZoneInfo("America/Chicago"))
        await marisol.send(past.strftime("%Y-%m-%d %H:%M"))  # past by the clock, not by the OS
        assert "ya pasó" in marisol.last_text()
        await marisol.send("2099-12-05 18:00")
        assert "5 dic 2099, 6:00\u202fp.\u202fm., hora central (Chicago)" in marisol.last_text()
        assert "🕒 Cuándo: 5 dic 2099, 6:00\u202fp.\u202fm. ▸" in marisol.buttons()
        await marisol.press("Confirmar envío")
        scheduled = (await bot.store.broadcasts.recent(1))[0]
        assert scheduled.send_at == datetime(2099, 12, 6, 0, 0, tzinfo=UTC)

        # The worker is alive: a notice due now goes out while the scheduled one waits.
        due_now, _ = await bot.services.broadcasts.create_queued(
            "test", {"es": "Aviso de hoy"}, "es", AudienceFilter()
        )
        bot.services.wake_delivery()
        await wait_until_done(bot, due_now.id)
        assert len(notices(bot, 321, "Aviso de hoy")) == 1
        counts = await bot.store.broadcasts.counts(scheduled.id)
        assert (counts.pending, counts.sent) == (1, 0)
        assert notices(bot, 320, "Reunión de la Casa") == []

        # Time reaches the scheduled instant and keeps moving (a resend to a chat that got a
        # message less than a second ago is put back a second later, by this clock).
        clock.set(datetime(2099, 12, 6, 0, 0, tzinfo=UTC))
        for _ in range(200):
            if (await bot.store.broadcasts.counts(scheduled.id)).sent == 1:
                break
            clock.advance(timedelta(seconds=1))
            bot.services.wake_delivery()
            await asyncio.sleep(0.05)
        await wait_until_done(bot, scheduled.id)
        assert len(notices(bot, 320, "Reunión de la Casa")) == 1
        assert notices(bot, 321, "Reunión de la Casa") == []


async def test_the_sending_time_is_a_choice_and_one_button_sends(bot: BotUnderTest) -> None:
    await add_member(bot, 322, "es")
    marisol = await _coordinator(bot)
    await marisol.send("/broadcast")
    await marisol.send("Aviso con hora")
    await marisol.press("Continuar")
    await marisol.press("Continuar")
    senders = [label for label in marisol.buttons() if "nviar" in label or "Confirmar" in label]
    assert senders == ["✅ Confirmar envío"]
    assert "🕒 Cuándo: ahora ▸" in marisol.buttons()
    await marisol.press("Cuándo: ahora")
    assert "Nada se envía hasta que toques" in marisol.last_text()
    assert marisol.buttons() == [
        "✓ ⚡ Ahora, al confirmar",
        "📅 En una fecha y hora…",
        "◂ Volver a la vista previa",
    ]
    await marisol.press("Ahora, al confirmar")
    assert "Aviso con hora" in marisol.last_text()  # back at the preview, nothing sent
    assert await bot.store.broadcasts.recent(1) == []
    assert notices(bot, 322, "Aviso con hora") == []
    await marisol.press("Confirmar envío")
    broadcast = (await bot.store.broadcasts.recent(1))[0]
    await wait_until_done(bot, broadcast.id)
    assert len(notices(bot, 322, "Aviso con hora")) == 1


async def test_a_member_cannot_broadcast_and_cancel_drops_the_draft(bot: BotUnderTest) -> None:
    await add_member(bot, 330, "en")
    member = Person(bot, 330)
    await member.send("/broadcast")
    assert "for the consultation team only" in member.last_text()
    marisol = await _coordinator(bot)
    await marisol.send("/broadcast")
    await marisol.send("Borrador")
    sender = await bot.store.actors.of(300)
    draft = await bot.store.broadcasts.draft_of(sender)
    assert draft is not None and draft.texts == {"es": "Borrador"}
    await marisol.send("/cancel")
    assert "Aviso cancelado" in marisol.last_text()
    assert await bot.store.broadcasts.draft_of(sender) is None
    await marisol.send("hola")  # no draft any more: plain text gets the help
    assert "Comandos que puedes usar" in marisol.last_text()


async def test_cli_broadcast_is_delivered_by_the_running_bot(
    bot: BotUnderTest, tmp_path: Any, capsys: Any
) -> None:
    from bot.cli import main

    def consultbot(arguments: list[str]) -> int:
        return main(arguments, clock=bot.clock)  # the clock the running bot reads

    for telegram_id in (340, 341):
        await add_member(bot, telegram_id, "fr", country="CA", region="QC", city="Montréal")
    await add_member(bot, 342, "en")
    # The CLI opens the database the running bot uses: its file, or its PostgreSQL URL.
    config = tmp_path / "cli.toml"
    config.write_text(
        f'[telegram]\ntoken = "{TOKEN}"\n' + storage_toml(bot.config.storage.target),
        encoding="utf-8",
    )
    arguments = [
        "broadcast",
        "--config",
        str(config),
        "--text",
        "Avis du Québec",
        "--fallback",
        "fr",
        "--region",
        "CA-QC",
        "--ack",
        "--quiet",
        "00:00-23:59",
    ]
    assert await asyncio.to_thread(consultbot, arguments) == 0
    assert "queued for 2 members" in capsys.readouterr().out
    broadcast = (await bot.store.broadcasts.recent(1))[0]
    await wait_until_done(bot, broadcast.id)
    assert len(notices(bot, 340, "Avis du Québec")) == 1 and notices(bot, 342, "Avis") == []
    assert (
        await asyncio.to_thread(consultbot, ["broadcasts", "status", "--config", str(config)]) == 0
    )
    table = capsys.readouterr().out
    assert f"{broadcast.id:<3} done" in table and "     2      2" in table


async def test_the_sender_can_stop_a_notice_being_delivered(
    emulator: Any, database: Any, running_clock: OffsetClock
) -> None:
    config = make_config(
        database,
        emulator.base_url(),
        admins={"user_ids": [9000]},
        delivery={"rate_per_second": 20},
    )
    async with bot_running(emulator, config, running_clock) as bot:
        for telegram_id in range(3000, 3100):
            await add_member(bot, telegram_id, "es")
        marisol = await _coordinator(bot)
        await add_member(bot, 301, "es", username="otro")
        await Person(bot, 9000).send("/grant @otro coordinator")
        await marisol.send("/broadcast")
        await marisol.send("Aviso equivocado")
        await marisol.press("Continuar")
        await marisol.press("Continuar")
        await marisol.press("Confirmar envío")
        status = marisol.last()
        assert "⏹ Detener el envío" in [b["text"] for b in status.buttons()]
        other = Person(bot, 301)  # another coordinator forging the stop button in their own chat
        await other.send("/help")
        await other.press_data(
            other.last().message_id, status.buttons()[0]["callback_data"], forge=True
        )
        assert (
            other.callback_answer()
            == "Esto es solo para el equipo de la consulta, y tu rol no lo incluye."
        )
        await asyncio.sleep(0.5)
        await marisol.press("Detener el envío")
        assert "detenido" in marisol.last_text() and marisol.last().buttons() == []
        broadcast = (await bot.store.broadcasts.recent(1))[0]
        assert broadcast.status == "cancelled"
        before = (await bot.store.broadcasts.counts(broadcast.id)).sent
        await asyncio.sleep(1.5)
        after = await bot.store.broadcasts.counts(broadcast.id)
        assert after.sent - before <= 7 and after.pending > 50  # at most the batch in hand


async def test_the_text_can_be_changed_from_the_preview(bot: BotUnderTest) -> None:
    marisol = await _coordinator(bot)
    await marisol.send("/broadcast")
    await marisol.send("Primer texto con eror")
    await marisol.press("Continuar")
    await marisol.press("Continuar")
    assert "Primer texto con eror" in marisol.last_text()
    await marisol.press("Volver a los textos")
    await marisol.press("Cambiar Español")
    await marisol.send("Primer texto corregido")
    await marisol.press("Continuar")
    await marisol.press("Continuar")
    assert "Primer texto corregido" in marisol.last_text() and "eror" not in marisol.last_text()
