"""One error handler: the person is told, the admins' chat is alerted, nothing leaks."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from tests.harness import TOKEN, bot_running, make_config
from tgemu import Emulator


async def test_a_failing_handler_is_reported_to_the_person_and_the_admins(
    emulator: Emulator, database: Path, caplog: pytest.LogCaptureFixture
) -> None:
    config = make_config(
        database, emulator.base_url(), admins={"user_ids": [9000], "chat_id": 9000}
    )
    async with bot_running(emulator, config) as bot:
        admin = bot.person(9000, "Admin", "en")
        ana = bot.person(1, "Ana", "es")
        emulator.faults.fail_next = 1
        emulator.faults.fail_status = 500
        emulator.faults.methods = frozenset({"sendmessage"})
        with caplog.at_level(logging.ERROR):
            await ana.send("/start")
        assert "Algo salió mal de nuestro lado" in ana.last_text()
        assert admin.last_text().startswith("⚠️ Error en consultbot: NetworkError")
        assert any(record.exc_info for record in caplog.records)
        assert TOKEN not in caplog.text and "test-token" not in caplog.text
        # The bot keeps working afterwards.
        await ana.send("/start")
        assert "¡Bienvenido/a" in ana.last_text()


async def test_locations_and_documents_are_explained_not_crashed_on(
    emulator: Emulator, database: Path
) -> None:
    config = make_config(database, emulator.base_url())
    async with bot_running(emulator, config) as bot:
        ana = bot.person(2, "Ana", "en")
        before = len(ana.transcript())
        emulator.send_location(TOKEN, 2, 34.05, -118.24)
        update_id = emulator.send_document(TOKEN, 2, "notes.txt", b"hello")
        await bot.processor.wait_done(update_id)
        replies = [m for m in ana.transcript()[before:] if m.direction == "out"]
        assert len(replies) == 2 and all("Choose your language" in (m.text or "") for m in replies)
        assert emulator.bot(TOKEN).errors == []
