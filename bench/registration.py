"""Registration under load: capacity (1,000 people at once), responsiveness (200 thinking).

The emulator and the simulated people run in this process; consultbot runs as `consultbot run` in
its own process, exactly as deployed. The peer is a bare python-telegram-bot echo bot (also its own
process) driven by the same people with the same number of actions, each waiting for its answer.
Run: .venv/bin/python -m bench.registration [--people 1000] [--thinking-people 200]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import random
import resource
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from bench.common import percentile
from tests.harness import storage_toml
from tgemu import ChatMessage, Emulator, Limits

# The peer does the least Telegram expects for each kind of action: a text gets one reply (with a
# button to press next); a press is answered and its message edited, as consultbot does.
ECHO_BOT = """
import os
from telegram import InlineKeyboardButton, InlineKeyboardMarkup
from telegram.ext import Application, CallbackQueryHandler, MessageHandler, filters
def keyboard(n):
    return InlineKeyboardMarkup([[InlineKeyboardButton("echo", callback_data=f"echo:{n}")]])
async def echo(update, context):
    message = update.effective_message
    await message.reply_text(message.text, reply_markup=keyboard(0))
async def pressed(update, context):
    query = update.callback_query
    await query.answer()
    n = int(query.data.split(":")[1]) + 1
    await query.edit_message_text(f"pressed {n}", reply_markup=keyboard(n))
builder = Application.builder().token(os.environ["TOKEN"]).base_url(os.environ["BASE_URL"])
if os.environ.get("TRANSPORT") == "aiohttp":
    from bot.transport import AiohttpRequest
    builder = builder.request(AiohttpRequest(16)).get_updates_request(AiohttpRequest(1, 10))
app = builder.build()
app.add_handler(CallbackQueryHandler(pressed))
app.add_handler(MessageHandler(filters.TEXT, echo))
app.run_polling(poll_interval=0.0, timeout=1)
"""


def _button(chat_messages: list[ChatMessage], label: str) -> tuple[int, str] | None:
    for message in reversed(chat_messages):
        if message.direction == "out" and message.buttons():
            for button in message.buttons():
                if label in button["text"]:
                    return message.message_id, button["callback_data"]
            return None
    return None


def _latest_text(chat_messages: list[ChatMessage]) -> str:
    outs = [m for m in chat_messages if m.direction == "out"]
    return outs[-1].text or "" if outs else ""


# (kind, argument, what shows the bot has answered)
SCRIPT: list[tuple[str, str, tuple[str, str]]] = [
    ("send", "/start", ("button", "Español")),
    ("press", "Español", ("button", "Acepto")),
    ("press", "Acepto", ("text", "¿Cómo quieres")),
    ("send", "Ana", ("button", "Estados Unidos")),
    ("press", "Estados Unidos", ("button", "California")),
    ("press", "California", ("text", "¿En qué ciudad")),
    ("send", "Los Ángeles", ("button", "Ninguna")),
    ("press", "Ninguna", ("button", "Gobierno")),
    ("press", "Gobierno", ("button", "remesas")),
    ("press", "remesas", ("button", "☑️")),
    ("press", "Listo", ("button", "Omitir")),
    ("press", "Omitir", ("text", "comparte tu teléfono")),
    ("send", "Omitir", ("button", "Confirmar")),
    ("press", "Confirmar", ("text", "¡Listo,")),
]


class People:
    """Simulated people acting in the emulator and timing the bot's answers."""

    def __init__(self, emulator: Emulator, token: str) -> None:
        self.emulator = emulator
        self.token = token
        self.latencies: list[float] = []

    async def _until(
        self, person: int, satisfied: Callable[[], bool], timeout: float = 120
    ) -> None:
        chat = self.emulator.bot(self.token).chats[person]
        deadline = time.perf_counter() + timeout
        while not satisfied():
            remaining = deadline - time.perf_counter()
            if remaining <= 0:
                raise TimeoutError(f"person {person}: {_latest_text(self._messages(person))!r}")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(chat.changed.wait(), remaining)

    def _messages(self, person: int) -> list[ChatMessage]:
        return self.emulator.transcript(self.token, person)

    async def register(self, person: int, thinking: tuple[float, float] | None) -> None:
        """Walk the whole registration, waiting for each answer before the next action."""
        self.emulator.create_person(person, "P", "es")
        for kind, argument, (wait_kind, marker) in SCRIPT:
            if thinking:
                await asyncio.sleep(random.uniform(*thinking))
            started = time.perf_counter()
            if kind == "send":
                self.emulator.send_text(self.token, person, argument)
            else:
                found = _button(self._messages(person), argument)
                if found is None:
                    raise RuntimeError(
                        f"no button {argument!r}: {_latest_text(self._messages(person))!r}"
                    )
                self.emulator.press(self.token, person, found[0], found[1])

            def answered(wait_kind: str = wait_kind, marker: str = marker) -> bool:
                messages = self._messages(person)
                if wait_kind == "button":
                    return _button(messages, marker) is not None
                return marker in _latest_text(messages)

            await self._until(person, answered)
            self.latencies.append(time.perf_counter() - started)

    async def echo(self, person: int, thinking: tuple[float, float] | None) -> None:
        """The script's sends and presses against the echo bot, each waiting for its answer."""
        self.emulator.create_person(person, "P", "es")
        for step, (kind, _, _) in enumerate(SCRIPT):
            if thinking:
                await asyncio.sleep(random.uniform(*thinking))
            started = time.perf_counter()
            if kind == "send" or _button(self._messages(person), "echo") is None:
                expected = f"step {step}"
                self.emulator.send_text(self.token, person, expected)
            else:
                message_id, data = _button(self._messages(person), "echo") or (0, "")
                self.emulator.press(self.token, person, message_id, data)
                expected = f"pressed {int(data.split(':')[1]) + 1}"
            await self._until(
                person, lambda expected=expected: _latest_text(self._messages(person)) == expected
            )
            self.latencies.append(time.perf_counter() - started)


async def _start_consultbot(
    base_url: str, token: str, folder: Path, storage_url: str | None = None
) -> asyncio.subprocess.Process:
    config = folder / "config.toml"
    # An existing database (a PostgreSQL URL, sqlite:PATH), or a fresh file.
    storage = storage_toml(storage_url or folder / "bench.db")
    config.write_text(
        f'[telegram]\ntoken = "{token}"\nbase_url = "{base_url}"\npoll_timeout = 1\n'
        f'{storage}[logging]\nlevel = "WARNING"\n',
        encoding="utf-8",
    )
    return await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot.cli", "run", "--config", str(config)
    )


async def _start_echo(base_url: str, token: str, transport: str) -> asyncio.subprocess.Process:
    environment = {**os.environ, "TOKEN": token, "BASE_URL": base_url, "TRANSPORT": transport}
    return await asyncio.create_subprocess_exec(sys.executable, "-c", ECHO_BOT, env=environment)


async def _wait_polling(emulator: Emulator, token: str) -> None:
    while emulator.bot(token).calls.get("getupdates", 0) == 0:
        await asyncio.sleep(0.05)


async def run_one(
    kind: str,
    people: int,
    thinking: tuple[float, float] | None,
    storage_url: str | None = None,
    first_id: int = 20_000_000,
) -> tuple[float, People]:
    """Run `people` through consultbot (on SQLite, or on `storage_url`) or an echo peer."""
    emulator = Emulator(Limits(global_rate=None, per_chat_rate=None))
    base_url = await emulator.start()
    token = f"77:{kind}"
    # A database used by an earlier run remembers its update ids; Telegram never hands them out
    # again within days, so neither does this emulator.
    emulator.bot(token).next_update_id = first_id * 20
    with tempfile.TemporaryDirectory() as folder:
        if kind == "consultbot":
            process = await _start_consultbot(base_url, token, Path(folder), storage_url)
        else:
            transport = "aiohttp" if kind == "echo-aiohttp" else "httpx"
            process = await _start_echo(base_url, token, transport)
        try:
            await _wait_polling(emulator, token)
            crowd = People(emulator, token)
            action = crowd.register if kind == "consultbot" else crowd.echo
            started = time.perf_counter()
            await asyncio.gather(*(action(first_id + n, thinking) for n in range(people)))
            elapsed = time.perf_counter() - started
        finally:
            process.terminate()
            await process.wait()
            await emulator.stop()
    return elapsed, crowd


def _children_cpu() -> float:
    """CPU seconds of the bot processes started here and waited for."""
    used = resource.getrusage(resource.RUSAGE_CHILDREN)
    return used.ru_utime + used.ru_stime


async def main(people: int, thinking_people: int) -> None:
    actions = len(SCRIPT)
    print(f"capacity: {people} people at once, {actions} actions each, no pause")
    echo_time, _ = await run_one("echo", people, None)
    same_transport_time, _ = await run_one("echo-aiohttp", people, None)
    cpu_before = _children_cpu()
    bot_time, _ = await run_one("consultbot", people, None)
    bot_cpu = (_children_cpu() - cpu_before) / (people * actions)
    echo_rate, bot_rate = people * actions / echo_time, people * actions / bot_time
    same_rate = people * actions / same_transport_time
    print(f"  bare PTB echo bot (httpx, PTB default)  {echo_rate:8.0f} updates/s")
    print(f"  bare PTB echo bot on our aiohttp transport {same_rate:5.0f} updates/s")
    print(
        f"  consultbot                              {bot_rate:8.0f} updates/s"
        f"  {people / bot_time:6.1f} registrations/s"
    )
    print(f"  consultbot's CPU per update             {bot_cpu * 1000:8.2f} ms")
    print(f"  ratio consultbot / echo (PTB default)   {bot_rate / echo_rate:8.2f}")
    print(f"  ratio consultbot / echo (same transport){bot_rate / same_rate:8.2f}")
    print(f"responsiveness: {thinking_people} people, 1-3 s thinking between actions")
    _, echo_crowd = await run_one("echo", thinking_people, (1.0, 3.0))
    _, crowd = await run_one("consultbot", thinking_people, (1.0, 3.0))
    for name, group in (("bare PTB echo bot", echo_crowd), ("consultbot", crowd)):
        p50, p99 = percentile(group.latencies, 0.5) * 1000, percentile(group.latencies, 0.99) * 1000
        print(
            f"  {name:22} p50 {p50:6.1f} ms   p99 {p99:6.1f} ms   ({len(group.latencies)} actions)"
        )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--people", type=int, default=1000)
    parser.add_argument("--thinking-people", type=int, default=200)
    arguments = parser.parse_args()
    asyncio.run(main(arguments.people, arguments.thinking_people))
