"""Updates per second: consultbot's /start path against a bare python-telegram-bot echo bot.

Both run in this process against the same emulator (in its own process, flood limits off);
N people each send one message, queued at once; we time from the first to the last reply.
consultbot runs twice: with the durable inbox (every update stored before it is confirmed,
marked when handled) and without it (PTB's Updater, as before), to price the inbox.
Then a flood: one person sends 200 messages, then others write /start; we time each other
person's reply (in-process emulator with flood limits on, so replies meet real 429s).
Run: .venv/bin/python -m bench.updates [--people 2000]
"""

from __future__ import annotations

import argparse
import asyncio
import time

from telegram import Update
from telegram.ext import Application, ContextTypes, MessageHandler, filters

from bench.common import (
    EmulatorProcess,
    database_path,
    emulator_process,
    percentile,
    wait_for_sends,
)
from bot.app import build_application
from bot.config import Config
from bot.runner import running
from tgemu import Emulator, Limits


async def _echo(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    if update.effective_message is not None and update.effective_message.text:
        await update.effective_message.reply_text(update.effective_message.text)


async def measure_echo(emulator: EmulatorProcess, people: int, concurrent: bool) -> float:
    token = f"1:echo-{int(concurrent)}"
    builder = Application.builder().token(token).base_url(emulator.base_url)
    if concurrent:
        builder = builder.concurrent_updates(64).connection_pool_size(64)
    application = builder.build()
    application.add_handler(MessageHandler(filters.ALL, _echo))
    async with application:
        await application.start()
        assert application.updater is not None
        await application.updater.start_polling(poll_interval=0.0, timeout=1)
        rate = await _drive(emulator, token, people, "/start")
        await application.updater.stop()
        await application.stop()
    return rate


async def measure_consultbot(emulator: EmulatorProcess, people: int, durable: bool) -> float:
    token = f"2:consultbot-{int(durable)}"
    config = Config.model_validate(
        {
            "telegram": {"token": token, "base_url": emulator.base_url, "poll_timeout": 1},
            "storage": {"path": str(database_path(f"updates-{int(durable)}.db"))},
        }
    )
    application = build_application(config)
    async with running(application, config, durable=durable):
        return await _drive(emulator, token, people, "/start", 20_000_000 * (1 + durable))


async def measure_flood(others: int, flood: int = 200) -> list[float]:
    """Seconds from each other person's /start to its reply, while one person floods."""
    token = "3:flood"
    emulator = Emulator(Limits(global_rate=30.0, per_chat_rate=1.0))
    await emulator.start()
    config = Config.model_validate(
        {
            "telegram": {"token": token, "base_url": emulator.base_url(), "poll_timeout": 1},
            "storage": {"path": str(database_path("flood.db"))},
        }
    )
    application = build_application(config)
    try:
        async with running(application, config):
            state = emulator.bot(token)
            flooder = 30_000_000
            emulator.create_person(flooder, "F", "es")
            for n in range(flood):
                emulator.send_text(token, flooder, f"hola {n}")
            sent: dict[int, float] = {}
            for n in range(others):
                person = flooder + 1 + n
                emulator.create_person(person, "P", "es")
                emulator.send_text(token, person, "/start")
                sent[person] = time.perf_counter()
            answered: dict[int, float] = {}
            deadline = time.perf_counter() + 60
            while len(answered) < others and time.perf_counter() < deadline:
                for person in sent:
                    chat = state.chats.get(person)
                    if person not in answered and chat and len(chat.messages) > 1:
                        answered[person] = time.perf_counter()
                await asyncio.sleep(0.001)
            return [answered.get(p, float("inf")) - sent[p] for p in sent]
    finally:
        await emulator.stop()


async def _drive(
    emulator: EmulatorProcess, token: str, people: int, text: str, base: int = 10_000_000
) -> float:
    before = (await emulator.stats(token))["sends"]
    await emulator.batch(
        token, people=[{"id": base + n, "language_code": "es"} for n in range(people)]
    )
    started = time.perf_counter()
    await emulator.batch(token, texts=[{"user_id": base + n, "text": text} for n in range(people)])
    finished = await wait_for_sends(emulator, token, before + people)
    return people / (finished - started)


async def main(people: int) -> None:
    async with emulator_process() as emulator:
        echo = await measure_echo(emulator, people, concurrent=False)
        echo_concurrent = await measure_echo(emulator, people, concurrent=True)
        plain = await measure_consultbot(emulator, people, durable=False)
        consultbot = await measure_consultbot(emulator, people, durable=True)
    waits = await measure_flood(others=20)
    print(f"people (one update each)            {people}")
    print(f"bare PTB echo bot, sequential       {echo:8.0f} updates/s")
    print(f"bare PTB echo bot, 64 concurrent    {echo_concurrent:8.0f} updates/s")
    print(f"consultbot /start, no inbox (before){plain:8.0f} updates/s")
    print(f"consultbot /start, durable inbox    {consultbot:8.0f} updates/s")
    print(f"ratio inbox / no inbox              {consultbot / plain:8.2f}")
    print(
        f"flood (1 person x 200, 20 others):  others' reply p50 {percentile(waits, 0.5) * 1000:.1f}"
        f" ms, p99 {percentile(waits, 0.99) * 1000:.1f} ms, max {max(waits) * 1000:.1f} ms"
    )
    print(f"ratio consultbot / echo sequential  {consultbot / echo:8.2f}")
    print(f"ratio consultbot / echo concurrent  {consultbot / echo_concurrent:8.2f}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--people", type=int, default=2000)
    asyncio.run(main(parser.parse_args().people))
