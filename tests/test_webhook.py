"""Webhook mode: Telegram (the emulator) posts updates; the secret token is checked."""

from __future__ import annotations

import socket
from pathlib import Path

import httpx

from tests.harness import bot_running, make_config
from tgemu import Emulator


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def test_webhook_mode_answers_and_refuses_a_wrong_secret(
    emulator: Emulator, database: Path
) -> None:
    port = _free_port()
    url = f"http://127.0.0.1:{port}/telegram"
    config = make_config(
        database,
        emulator.base_url(),
        telegram={
            "mode": "webhook",
            "webhook_url": url,
            "webhook_port": port,
            "webhook_secret_token": "s3cret-token",
        },
    )
    async with bot_running(emulator, config) as bot:
        assert emulator.bot("4242:test-token").webhook is not None
        ana = bot.person(1, "Ana", "fr")
        replies = await ana.send("/start")
        assert "Bienvenue" in (replies[0].text or "")
        update = {
            "update_id": 999,
            "message": {
                "message_id": 1,
                "date": 0,
                "chat": {"id": 1, "type": "private"},
                "text": "/start",
            },
        }
        async with httpx.AsyncClient() as client:
            forged = await client.post(
                url, json=update, headers={"X-Telegram-Bot-Api-Secret-Token": "guess"}
            )
            missing = await client.post(url, json=update)
        assert (forged.status_code, missing.status_code) == (403, 403)
