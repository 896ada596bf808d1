"""Broadcast delivery: pacing at Telegram's limit, raw throughput, memory, faults and kill -9.

consultbot runs as `consultbot run` in its own process (as deployed); the emulator, the simulated
chatting members and the measurements live in this process. Phases (each prints its figures):
  paced      N recipients, emulator enforcing 30 msg/s (+1/s per chat): rate/30 and 429 share
  chatting   M recipients at 30 msg/s while 50 members chat: reply p50/p99, notice and total rates
  unlimited  N recipients, no limits: consultbot vs a bare PTB send loop vs the emulator alone
  memory     100,000 recipients queued: the delivering process's peak RSS
  faults     5% 502 + 1% random 429: lost and duplicated notices
  kill       kill -9 at 3 random points: lost and duplicated notices, against the bound
Run: .venv/bin/python -m bench.broadcast [--recipients 10000] [--phases paced,chatting,...]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import random
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from telegram import Bot

from bench.common import percentile
from tgemu import Emulator, Limits

TOKEN = "8080:broadcast-bench"
FIRST_ID = 30_000_000
BLASTER = """
import asyncio, sys, time, aiohttp
async def main(url, total, workers):
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=workers)) as session:
        queue = iter(range(total))
        async def worker():
            for n in queue:
                async with session.post(url, json={"chat_id": int(sys.argv[4]) + n, "text": "x"}) as r:
                    await r.read()
        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(workers)))
        print(total / (time.perf_counter() - started))
asyncio.run(main(sys.argv[1], int(sys.argv[2]), int(sys.argv[3])))
"""


async def open_store(database: Path) -> None:
    from bot.clock import SystemClock
    from storage import Store

    store = await Store.open(database, SystemClock())
    await store.close()


def write_config(folder: Path, base_url: str, rate: float) -> Path:
    path = folder / "config.toml"
    path.write_text(
        f'[telegram]\ntoken = "{TOKEN}"\nbase_url = "{base_url}"\npoll_timeout = 1\n'
        f'[storage]\npath = "{folder / "bench.db"}"\n'
        f"[delivery]\nrate_per_second = {rate}\nmax_in_flight = 32\nretry_base_seconds = 0.2\n"
        f'[logging]\nlevel = "WARNING"\n',
        encoding="utf-8",
    )
    return path


async def start_bot(config: Path) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot.cli",
        "run",
        "--config",
        str(config),
        stderr=asyncio.subprocess.DEVNULL,
    )


def queue_notice(config: Path, text: str) -> None:
    subprocess.run(
        [sys.executable, "-m", "bot.cli", "broadcast", "--config", str(config), "--text", text],
        check=True,
        capture_output=True,
    )


def notices_in(emulator: Emulator, marker: str, people: int) -> list[int]:
    chats = emulator.bot(TOKEN).chats
    counts = []
    for n in range(people):
        chat = chats.get(FIRST_ID + n)
        counts.append(
            0
            if chat is None
            else sum(
                1
                for m in chat.messages.values()
                if m.direction == "out" and marker in (m.text or "")
            )
        )
    return counts


async def wait_for(predicate, timeout: float) -> None:  # type: ignore[no-untyped-def]
    deadline = time.perf_counter() + timeout
    while not predicate():
        if time.perf_counter() > deadline:
            raise TimeoutError
        await asyncio.sleep(0.02)


class Setup:
    """A fresh emulator + database + config for one phase."""

    def __init__(self, limits: Limits, people: int, rate: float) -> None:
        self.limits = limits
        self.people = people
        self.rate = rate
        self.folder = Path(tempfile.mkdtemp(prefix="consultbot-bench-"))

    async def __aenter__(self) -> Setup:
        self.emulator = Emulator(self.limits)
        self.base_url = await self.emulator.start()
        await open_store(self.folder / "bench.db")
        seed_rows(self.folder / "bench.db", self.people)
        for n in range(self.people):
            self.emulator.create_person(FIRST_ID + n, "P", "es")
        self.config = write_config(self.folder, self.base_url, self.rate)
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.emulator.stop()

    @property
    def state(self):  # type: ignore[no-untyped-def]
        return self.emulator.bot(TOKEN)


def seed_rows(database: Path, people: int, first_id: int = FIRST_ID) -> None:
    """Load-test fixture: registered members bulk-inserted into the migrated database (registering
    100,000 people through the chat is what bench/registration.py measures, not this)."""
    connection = sqlite3.connect(database)
    now = "2026-11-27T00:00:00.000000+00:00"
    zones = ("America/Chicago", "America/Los_Angeles", "America/New_York", "America/Toronto")
    connection.executemany(
        "INSERT INTO members (pseudonym, telegram_id, language, status, name, country, region,"
        " city, time_zone, sector, themes, created_at, updated_at)"
        " VALUES (?, ?, ?, 'active', 'P', 'US', 'TX', 'Houston', ?, 'academia', '[]', ?, ?)",
        (
            (
                f"m-bench{first_id + n}",
                first_id + n,
                ("es", "en", "fr")[n % 3],
                zones[n % 4],
                now,
                now,
            )
            for n in range(people)
        ),
    )
    connection.commit()
    connection.close()


async def paced(people: int, chatters: int) -> dict[str, float]:
    """Deliver to `people` at 30 msg/s (emulator enforcing it); optionally with members chatting."""
    async with Setup(
        Limits(global_rate=30.0, per_chat_rate=1.0, per_chat_burst=5), people, 30
    ) as s:
        bot = await start_bot(s.config)
        try:
            await wait_for(lambda: s.state.calls.get("getupdates", 0) > 0, 30)
            latencies: list[float] = []
            stop = asyncio.Event()
            chat_tasks = [
                asyncio.ensure_future(chat(s.emulator, 40_000_000 + n, latencies, stop))
                for n in range(chatters)
            ]
            floods_before = s.state.floods
            sends_before = s.state.sends
            queue_notice(s.config, "Aviso del consejo")

            def notices() -> int:
                return s.state.sends - sends_before - replies(s.emulator, chatters)

            await wait_for(lambda: notices() > 0, 30)
            started = time.perf_counter()
            await wait_for(lambda: notices() >= people, 3600)
            elapsed = time.perf_counter() - started
            stop.set()
            await asyncio.gather(*chat_tasks)
            total_sends = s.state.sends - sends_before
            floods = s.state.floods - floods_before
        finally:
            bot.send_signal(signal.SIGTERM)
            await bot.wait()
    result = {
        "notice_rate": people / elapsed,
        "total_rate": total_sends / elapsed,
        "floods_share": floods / max(1, total_sends + floods),
    }
    if latencies:
        result["p50_ms"] = percentile(latencies, 0.5) * 1000
        result["p99_ms"] = percentile(latencies, 0.99) * 1000
        result["replies"] = len(latencies)
    return result


def replies(emulator: Emulator, chatters: int) -> int:
    chats = emulator.bot(TOKEN).chats
    return sum(
        sum(1 for m in chats[40_000_000 + n].messages.values() if m.direction == "out")
        for n in range(chatters)
        if 40_000_000 + n in chats
    )


async def chat(
    emulator: Emulator, person: int, latencies: list[float], stop: asyncio.Event
) -> None:
    """A member who keeps asking for /help every 2–5 s and times the answer."""
    emulator.create_person(person, "Chatty", "es")
    while not stop.is_set():
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), random.uniform(2.0, 5.0))
        if stop.is_set():
            return
        chat_state = emulator.bot(TOKEN).chats.get(person)
        before = len(chat_state.events) if chat_state else 0
        started = time.perf_counter()
        emulator.send_text(TOKEN, person, "/help")
        chat_state = emulator.bot(TOKEN).chats[person]
        while not any(e["kind"] == "out" for e in chat_state.events[before:]):
            await asyncio.wait_for(chat_state.changed.wait(), 30)
        latencies.append(time.perf_counter() - started)


async def unlimited(people: int) -> dict[str, float]:
    """No flood limits: how fast the engine drains the outbox, against bare loops."""
    async with Setup(Limits(global_rate=None, per_chat_rate=None), people, 10_000) as s:
        # A bare python-telegram-bot send_message loop (PTB defaults), same emulator, same run.
        async with Bot(TOKEN, base_url=s.base_url) as bare:
            started = time.perf_counter()
            for n in range(people):
                await bare.send_message(FIRST_ID + n, "bare loop")
            bare_rate = people / (time.perf_counter() - started)
        # The emulator alone: a raw aiohttp client with 32 connections, in another process.
        blaster = await asyncio.create_subprocess_exec(
            sys.executable,
            "-c",
            BLASTER,
            f"{s.base_url}{TOKEN}/sendMessage",
            str(people),
            "32",
            str(FIRST_ID),
            stdout=asyncio.subprocess.PIPE,
        )
        out, _ = await blaster.communicate()
        emulator_rate = float(out.decode().strip())
        bot = await start_bot(s.config)
        try:
            await wait_for(lambda: s.state.calls.get("getupdates", 0) > 0, 30)
            before = s.state.sends
            queue_notice(s.config, "Aviso rápido")
            await wait_for(lambda: s.state.sends > before, 60)
            started = time.perf_counter()
            await wait_for(lambda: s.state.sends - before >= people, 3600)
            engine_rate = people / (time.perf_counter() - started)
        finally:
            bot.send_signal(signal.SIGTERM)
            await bot.wait()
    return {"engine": engine_rate, "bare_loop": bare_rate, "emulator_alone": emulator_rate}


async def memory(people: int) -> dict[str, float]:
    """Peak RSS of the delivering process with `people` rows queued (and delivered)."""
    async with Setup(Limits(global_rate=None, per_chat_rate=None), people, 10_000) as s:
        queue_notice(s.config, "Aviso para todos")
        bot = await start_bot(s.config)
        try:
            await wait_for(lambda: s.state.sends >= people, 3600)
            status = Path(f"/proc/{bot.pid}/status").read_text()
            peak_kb = int(
                next(line for line in status.splitlines() if line.startswith("VmHWM")).split()[1]
            )
        finally:
            bot.send_signal(signal.SIGTERM)
            await bot.wait()
    return {"peak_rss_mb": peak_kb / 1024}


async def faults(people: int) -> dict[str, float]:
    async with Setup(Limits(global_rate=None, per_chat_rate=None), people, 500) as s:
        s.emulator.faults.error_rate = 0.05
        s.emulator.faults.flood_rate = 0.01
        s.emulator.faults.methods = frozenset({"sendmessage"})
        queue_notice(s.config, "Aviso con fallos")
        bot = await start_bot(s.config)
        try:
            await wait_for(
                lambda: min(notices_in(s.emulator, "Aviso con fallos", people)) >= 1, 600
            )
        finally:
            bot.send_signal(signal.SIGTERM)
            await bot.wait()
        received = notices_in(s.emulator, "Aviso con fallos", people)
        errors = s.state.errors
    return {
        "lost": sum(1 for count in received if count == 0),
        "duplicates": sum(count - 1 for count in received if count > 1),
        "injected_502": sum(1 for _, code, _ in errors if code == 502),
        "injected_429": sum(1 for _, code, _ in errors if code == 429),
    }


async def kills(people: int) -> dict[str, float]:
    rate = 300
    async with Setup(Limits(global_rate=None, per_chat_rate=None), people, rate) as s:
        queue_notice(s.config, "Aviso durable")
        points = sorted(random.sample(range(people // 10, people * 9 // 10), 3))
        for point in points:
            bot = await start_bot(s.config)
            await wait_for(lambda point=point: s.state.sends >= point, 600)
            bot.send_signal(signal.SIGKILL)
            await bot.wait()
        bot = await start_bot(s.config)
        try:
            await wait_for(lambda: min(notices_in(s.emulator, "Aviso durable", people)) >= 1, 600)
        finally:
            bot.send_signal(signal.SIGTERM)
            await bot.wait()
        received = notices_in(s.emulator, "Aviso durable", people)
    claim = max(4, min(64, rate // 4))
    return {
        "lost": sum(1 for count in received if count == 0),
        "duplicates": sum(count - 1 for count in received if count > 1),
        "bound": 3 * claim,
        "kill_points": ",".join(map(str, points)),  # type: ignore[dict-item]
    }


async def main(recipients: int, phases: list[str]) -> None:
    if "paced" in phases:
        result = await paced(recipients, 0)
        print(f"paced: {recipients} recipients, emulator enforcing 30 msg/s and 1/s per chat")
        print(
            f"  achieved {result['notice_rate']:.2f} msg/s = {result['notice_rate'] / 30:.3f} of 30;"
            f" 429s {result['floods_share'] * 100:.2f}% of sends"
        )
    if "chatting" in phases:
        count = max(1000, recipients // 5)
        result = await paced(count, 50)
        print(f"chatting: {count} recipients at 30 msg/s while 50 members chat (/help every 2-5 s)")
        print(
            f"  replies p50 {result['p50_ms']:.0f} ms, p99 {result['p99_ms']:.0f} ms ({result['replies']:.0f} replies);"
            f" notices {result['notice_rate']:.1f}/s, all sends {result['total_rate']:.1f}/s"
            f" = {result['total_rate'] / 30:.3f} of 30; 429s {result['floods_share'] * 100:.2f}%"
        )
    if "unlimited" in phases:
        result = await unlimited(recipients)
        print(f"unlimited: {recipients} recipients, no flood limits")
        print(f"  consultbot engine   {result['engine']:7.0f} msg/s")
        print(
            f"  bare PTB send loop  {result['bare_loop']:7.0f} msg/s   ratio {result['engine'] / result['bare_loop']:.2f}"
        )
        print(
            f"  emulator alone      {result['emulator_alone']:7.0f} msg/s   (32 raw aiohttp senders)"
        )
    if "memory" in phases:
        result = await memory(100_000)
        print(
            f"memory: 100,000 recipients queued and delivered; peak RSS {result['peak_rss_mb']:.0f} MB"
        )
    if "faults" in phases:
        result = await faults(2000)
        print(
            f"faults: 2,000 recipients, 5% 502 + 1% random 429 on sendMessage: lost {result['lost']},"
            f" duplicates {result['duplicates']} (injected: {result['injected_502']} x 502, {result['injected_429']} x 429)"
        )
    if "kill" in phases:
        result = await kills(3000)
        print(
            f"kill: 3,000 recipients, kill -9 after {result['kill_points']} sends: lost {result['lost']},"
            f" duplicates {result['duplicates']} (bound {result['bound']})"
        )


if __name__ == "__main__":
    os.environ.setdefault("PTB_TIMEDELTA", "1")
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--recipients", type=int, default=10_000)
    parser.add_argument("--phases", default="paced,chatting,unlimited,memory,faults,kill")
    arguments = parser.parse_args()
    asyncio.run(main(arguments.recipients, arguments.phases.split(",")))
