"""Two bot processes on one PostgreSQL database: pacing shared, and a kill -9 of one of them.

The emulator (enforcing Telegram's 30 msg/s and 1 msg/s per chat) and the measurements live in
this process; PostgreSQL is started by the bench (durable settings). Process A is `consultbot
run` (it receives updates and delivers), process B is `consultbot run --deliver-only`. Phases:
  paced   N recipients, both delivering: notices/s against 30 and the 429 share
  kill    N recipients, B killed with SIGKILL mid-broadcast: A takes B's claims over once their
          lease (120 s) runs out; lost and duplicated notices, against the bound (B's batch)
Run: .venv/bin/python -m bench.workers [--recipients 1500] [--phases paced,kill]
"""

from __future__ import annotations

import argparse
import asyncio
import signal
import sys
import tempfile
import time
from pathlib import Path

from bench.broadcast import FIRST_ID, TOKEN, notices_in, queue_notice, wait_for
from tests.harness import storage_toml
from tests.postgres_server import PostgresServer
from tgemu import Emulator, Limits


def write_config(folder: Path, base_url: str, url: str) -> Path:
    path = folder / "config.toml"
    path.write_text(
        f'[telegram]\ntoken = "{TOKEN}"\nbase_url = "{base_url}"\npoll_timeout = 1\n'
        + storage_toml(url)
        + "[delivery]\nrate_per_second = 30\nmax_in_flight = 32\nretry_base_seconds = 0.2\n"
        '[logging]\nlevel = "WARNING"\n',
        encoding="utf-8",
    )
    return path


async def seed(url: str, people: int) -> None:
    """Load-test fixture: registered members bulk-loaded into the migrated database (registering
    people through the chat is what bench/registration.py measures, not this)."""
    from bot.clock import SystemClock
    from storage import Store

    store = await Store.open(url, SystemClock())
    now = "2026-11-27T00:00:00.000000+00:00"
    try:
        await store.database.execute_many(
            "INSERT INTO members (pseudonym, telegram_id, language, status, name, country, region,"
            " city, time_zone, sector, themes, created_at, updated_at)"
            " VALUES (?, ?, ?, 'active', 'P', 'US', 'TX', 'Houston', 'America/Chicago',"
            " 'academia', '[]', ?, ?)",
            [(f"m-w{n}", FIRST_ID + n, ("es", "en", "fr")[n % 3], now, now) for n in range(people)],
        )
    finally:
        await store.close()


async def start(config: Path, *extra: str) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot.cli", "run", "--config", str(config), *extra,
        stderr=asyncio.subprocess.DEVNULL,
    )  # fmt: skip


async def phase(server: PostgresServer, people: int, kill: bool) -> dict[str, float]:
    emulator = Emulator(Limits(global_rate=30.0, per_chat_rate=1.0, per_chat_burst=5))
    base_url = await emulator.start()
    url = await server.database()
    folder = Path(tempfile.mkdtemp(prefix="consultbot-workers-"))
    await seed(url, people)
    for n in range(people):
        emulator.create_person(FIRST_ID + n, "P", "es")
    config = write_config(folder, base_url, url)
    state = emulator.bot(TOKEN)
    receiving = await start(config)
    delivering = await start(config, "--deliver-only")
    try:
        await wait_for(lambda: state.calls.get("getupdates", 0) > 0, 60)
        await asyncio.sleep(2)  # B's delivery worker is up
        marker = "Aviso de los dos procesos"
        await asyncio.to_thread(queue_notice, config, marker)
        await wait_for(lambda: state.sends > 0, 60)
        started = time.perf_counter()
        if kill:
            await asyncio.sleep(10)
            delivering.send_signal(signal.SIGKILL)
            await delivering.wait()
        await wait_for(lambda: sum(1 for c in notices_in(emulator, marker, people) if c) >= people,
                       3600)  # fmt: skip
        elapsed = time.perf_counter() - started
        counts = notices_in(emulator, marker, people)
    finally:
        for process in (receiving, delivering):
            if process.returncode is None:
                process.send_signal(signal.SIGTERM)
                await process.wait()
        await emulator.stop()
    return {
        "rate": people / elapsed,
        "floods_share": state.floods / max(1, state.sends + state.floods),
        "lost": sum(1 for c in counts if c == 0),
        "duplicated": sum(c - 1 for c in counts if c > 1),
        "elapsed": elapsed,
    }


async def main(people: int, phases: list[str]) -> None:
    server = PostgresServer(durable=True)
    server.start()
    try:
        if "paced" in phases:
            result = await phase(server, people, kill=False)
            print(
                f"paced, 2 workers: {people} notices at {result['rate']:.1f}/s = "
                f"{result['rate'] / 30:.2f} of 30 msg/s; 429 share {result['floods_share']:.2%}; "
                f"lost {result['lost']:.0f}, duplicated {result['duplicated']:.0f}"
            )
        if "kill" in phases:
            result = await phase(server, people, kill=True)
            print(
                f"kill -9 of the deliver-only worker 10 s in: all {people} delivered in "
                f"{result['elapsed']:.0f} s (its claims taken over after the 120 s lease); "
                f"lost {result['lost']:.0f}, duplicated {result['duplicated']:.0f} "
                f"(bound: one claimed batch, 7 at 30 msg/s)"
            )
    finally:
        server.stop()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--recipients", type=int, default=1500)
    parser.add_argument("--phases", default="paced,kill")
    arguments = parser.parse_args()
    asyncio.run(main(arguments.recipients, arguments.phases.split(",")))
