"""Updates per second: consultbot's /start path against a bare python-telegram-bot echo bot.

Both run in this process against the same emulator (in its own process, flood limits off);
N people each send one message, queued at once; we time from the first to the last reply.
Run: .venv/bin/python -m bench.updates [--people 2000]
"""

from __future__ import annotations

import argparse
import asyncio
import time

from telegram import Update
from telegram.ext import Application, ContextTypes, MessageHandler, filters

from bench.common import EmulatorProcess, database_path, emulator_process, wait_for_sends
from bot.app import build_application
from bot.config import Config
from bot.runner import running


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


async def measure_consultbot(emulator: EmulatorProcess, people: int) -> float:
    token = "2:consultbot"
    config = Config.model_validate(
        {
            "telegram": {"token": token, "base_url": emulator.base_url, "poll_timeout": 1},
            "storage": {"path": str(database_path("updates.db"))},
        }
    )
    application = build_application(config)
    async with running(application, config):
        return await _drive(emulator, token, people, "/start")


async def _drive(emulator: EmulatorProcess, token: str, people: int, text: str) -> float:
    base = 10_000_000
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
        consultbot = await measure_consultbot(emulator, people)
    print(f"people (one update each)            {people}")
    print(f"bare PTB echo bot, sequential       {echo:8.0f} updates/s")
    print(f"bare PTB echo bot, 64 concurrent    {echo_concurrent:8.0f} updates/s")
    print(f"consultbot /start                   {consultbot:8.0f} updates/s")
    print(f"ratio consultbot / echo sequential  {consultbot / echo:8.2f}")
    print(f"ratio consultbot / echo concurrent  {consultbot / echo_concurrent:8.2f}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--people", type=int, default=2000)
    asyncio.run(main(parser.parse_args().people))
