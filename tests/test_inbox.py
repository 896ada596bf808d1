"""The durable inbox drops only what can be a redelivery: an id seen long ago is a new update."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import timedelta
from pathlib import Path

from bot.clock import OffsetClock
from storage import open_database
from storage.db import Database
from tests.harness import TOKEN, BotUnderTest, bot_running, make_config
from tgemu import Emulator


def _replies(emulator: Emulator, chat_id: int) -> list[str]:
    chat = emulator.bot(TOKEN).chats.get(chat_id)
    if chat is None:
        return []
    return [m.text or "" for m in chat.messages.values() if m.direction == "out"]


async def _row(database: Database, update_id: int) -> tuple[str | None, str | None]:
    """(handled_at, confirmed_at) of a stored update, as the database holds them."""
    row = await database.fetch_one(
        "SELECT handled_at, confirmed_at FROM inbox WHERE update_id = ?", (update_id,)
    )
    assert row is not None, update_id
    return row[0], row[1]


async def _until(condition: Callable[[], bool | Awaitable[bool]], timeout: float = 10.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        met = condition()
        if met if isinstance(met, bool) else await met:
            return
        assert asyncio.get_running_loop().time() < deadline, "timed out"
        await asyncio.sleep(0.05)


async def _handled_and_confirmed(bot: BotUnderTest, update_id: int) -> bool:
    return all(await _row(bot.store.database, update_id))


async def _handled(bot: BotUnderTest, update_id: int) -> bool:
    return (await _row(bot.store.database, update_id))[0] is not None


async def _start_and_wait(bot: BotUnderTest, person: int, text: str) -> int:
    update_id = bot.emulator.send_text(TOKEN, person, text)
    await bot.processor.wait_done(update_id)
    return update_id


async def test_an_id_confirmed_long_ago_is_a_new_update(
    emulator: Emulator, database: Path | str
) -> None:
    config = make_config(database, emulator.base_url())
    emulator.create_person(8101, "Rosa", "es")
    async with bot_running(emulator, config, OffsetClock()) as bot:
        first = await _start_and_wait(bot, 8101, "/start")
        # The next getUpdates moves the offset past it: Telegram knows it arrived.
        await _until(lambda: _handled_and_confirmed(bot, first))
    answered = len(_replies(emulator, 8101))
    assert answered == 1
    # Telegram restarts its ids (after a week of silence, or a fresh emulator does): same id.
    emulator.bot(TOKEN).next_update_id = first
    async with bot_running(emulator, config, OffsetClock()) as bot:
        again = await _start_and_wait(bot, 8101, "/help")
        assert again == first
        await _until(lambda: len(_replies(emulator, 8101)) == answered + 1)
    assert "/language" in _replies(emulator, 8101)[-1]


async def test_an_unconfirmed_id_is_new_once_telegram_can_no_longer_resend_it(
    emulator: Emulator, database: Path | str
) -> None:
    config = make_config(database, emulator.base_url())
    emulator.create_person(8102, "Luis", "es")
    clock = OffsetClock()
    async with bot_running(emulator, config, clock) as bot:
        first = await _start_and_wait(bot, 8102, "/start")
        await _until(lambda: _handled(bot, first))
    opened = await open_database(str(database), clock)  # as a webhook run leaves it: unconfirmed
    try:
        await opened.execute("UPDATE inbox SET confirmed_at = NULL")
    finally:
        await opened.close()
    answered = len(_replies(emulator, 8102))
    # Within Telegram's 24 h the same id is a redelivery and is dropped...
    emulator.bot(TOKEN).redeliver(first)
    async with bot_running(emulator, config, clock) as bot:
        await asyncio.sleep(1.5)
        assert len(_replies(emulator, 8102)) == answered
    # ...after them it can only be a new update.
    clock.advance(timedelta(hours=25))
    emulator.bot(TOKEN).next_update_id = first
    async with bot_running(emulator, config, clock) as bot:
        await _start_and_wait(bot, 8102, "/help")
        await _until(lambda: len(_replies(emulator, 8102)) == answered + 1)
