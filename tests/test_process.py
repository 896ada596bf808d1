"""The installed command as an operator runs it: a real process, real signals."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from pathlib import Path

from tgemu import Emulator

TOKEN = "5150:process-test"


async def _wait_for_reply(emulator: Emulator, person: int, timeout: float = 30) -> str:
    deadline = asyncio.get_running_loop().time() + timeout
    while asyncio.get_running_loop().time() < deadline:
        chat = emulator.bot(TOKEN).chats.get(person)
        if chat:
            replies = [m for m in chat.messages.values() if m.direction == "out"]
            if replies:
                return replies[-1].text or ""
        await asyncio.sleep(0.1)
    raise AssertionError("the bot did not answer")


def _config(tmp_path: Path, base_url: str, database: Path, token: str = TOKEN) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(
        f'[telegram]\ntoken = "{token}"\nbase_url = "{base_url}"\npoll_timeout = 1\n'
        f'[storage]\npath = "{database}"\n',
        encoding="utf-8",
    )
    return path


async def _consultbot_run(config: Path) -> asyncio.subprocess.Process:
    """`consultbot run --config` as an operator starts it (stderr captured)."""
    return await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot.cli",
        "run",
        "--config",
        str(config),
        stderr=asyncio.subprocess.PIPE,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )


async def test_run_answers_start_and_exits_cleanly_on_sigterm(
    emulator: Emulator, tmp_path: Path
) -> None:
    database = tmp_path / "bot.db"
    process = await _consultbot_run(_config(tmp_path, emulator.base_url(), database))
    try:
        emulator.create_person(1, "Ana", "es")
        emulator.send_text(TOKEN, 1, "/start")
        assert "¡Bienvenido/a" in await _wait_for_reply(emulator, 1)
        process.send_signal(signal.SIGTERM)
        await asyncio.wait_for(process.wait(), 30)
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
    _, stderr = await process.communicate()
    log = stderr.decode()
    assert process.returncode == 0, log
    assert "Database closed" in log
    assert TOKEN not in log and "process-test" not in log
    # SQLite removes the WAL file when the last connection closes cleanly.
    assert not Path(f"{database}-wal").exists()  # noqa: ASYNC240


async def test_run_refuses_a_database_from_a_newer_version(
    emulator: Emulator, tmp_path: Path
) -> None:
    import sqlite3

    database = tmp_path / "bot.db"
    with sqlite3.connect(database) as connection:
        connection.execute("PRAGMA user_version = 999")
    process = await _consultbot_run(_config(tmp_path, emulator.base_url(), database))
    _, stderr = await asyncio.wait_for(process.communicate(), 60)
    assert process.returncode == 3
    assert "schema version 999" in stderr.decode()


async def test_standalone_emulator_answers_get_me(tmp_path: Path) -> None:
    import socket

    import httpx

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot.cli",
        "emulator",
        "--port",
        str(port),
        stdout=asyncio.subprocess.PIPE,
    )
    try:
        assert process.stdout is not None
        banner = await asyncio.wait_for(process.stdout.readline(), 30)
        assert f"http://127.0.0.1:{port}/bot" in banner.decode()
        async with httpx.AsyncClient() as client:
            answer = await client.get(f"http://127.0.0.1:{port}/bot1:x/getMe")
            people = await client.post(
                f"http://127.0.0.1:{port}/_emu/1:x/people", json={"id": 5, "first_name": "Ana"}
            )
        assert answer.json()["result"]["is_bot"] is True
        assert people.json()["result"]["first_name"] == "Ana"
    finally:
        process.send_signal(signal.SIGINT)
        await asyncio.wait_for(process.wait(), 30)


async def test_unreachable_api_and_rejected_token_are_explained_without_the_token(
    emulator: Emulator, tmp_path: Path
) -> None:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed_port = probe.getsockname()[1]
    cases = [
        (TOKEN, f"http://127.0.0.1:{closed_port}/bot", "cannot reach the Bot API"),
        ("not-a-token", emulator.base_url(), "Telegram rejected the token"),  # 401 Unauthorized
    ]
    for token, base_url, expected in cases:
        process = await _consultbot_run(_config(tmp_path, base_url, tmp_path / "x.db", token))
        _, stderr = await asyncio.wait_for(process.communicate(), 60)
        text = stderr.decode()
        assert process.returncode == 4, text
        assert expected in text and token not in text
