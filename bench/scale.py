"""Issue 19's scale, on each backend: 100,000 members and 1,000,000 record entries.

Builds the consultation once on SQLite (the example form loaded by the surveys service, as staff
load it, and its answers; members bulk-loaded — registering 100,000 people through the chat is
what bench/registration.py measures), moves it to PostgreSQL with `consultbot db copy` (timed,
counts checked), then on each backend, alternating rounds:
  export    `consultbot export answers-long --format csv` of every answer: seconds, peak RSS
  register  N more people registering at once through the chat while the database holds all that
            (the bot as `consultbot run`): updates/s; and M people thinking 1-3 s: reply p99
PostgreSQL is started by the bench (durable settings, a Unix socket).
Run: .venv/bin/python -m bench.scale [--members 100000] [--entries 1000000] [--people 300]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.broadcast import seed_rows
from bench.common import percentile
from bench.export import build
from bench.registration import SCRIPT, run_one
from tests.harness import TOKEN, storage_toml
from tests.postgres_server import PostgresServer

FIRST_MEMBER = 50_000_000
MEASURED = """
import resource, sys
from bot.cli import main
code = main(sys.argv[1:])
peak = max(resource.getrusage(who).ru_maxrss for who in (resource.RUSAGE_SELF,
           resource.RUSAGE_CHILDREN))
print(f"PEAK {peak}", file=sys.stderr)
sys.exit(code)
"""


def config_file(folder: Path, target: str, name: str) -> Path:
    path = folder / f"{name}.toml"
    path.write_text(f'[telegram]\ntoken = "{TOKEN}"\n' + storage_toml(target), encoding="utf-8")
    return path


def export(folder: Path, target: str, name: str) -> tuple[float, float]:
    """(seconds, peak RSS in MB) of the answers-long CSV of every answer."""
    out = folder / f"{name}.csv"
    config = config_file(folder, target, name)
    arguments = ["export", "answers-long", "--format", "csv", "--out", str(out)]
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-c", MEASURED, *arguments, "--config", str(config)],
        capture_output=True,
        text=True,
        check=False,
    )
    seconds = time.perf_counter() - started
    if done.returncode != 0:
        raise RuntimeError(done.stderr)
    peak = next(line for line in done.stderr.splitlines() if line.startswith("PEAK"))
    return seconds, int(peak.split()[1]) / 1024


async def main(members: int, entries: int, people: int, thinking: int, rounds: int) -> None:
    folder = Path(tempfile.mkdtemp(prefix="consultbot-scale-"))
    database = folder / "scale.db"
    started = time.perf_counter()
    await asyncio.to_thread(build, database, entries)
    await asyncio.to_thread(seed_rows, database, members, FIRST_MEMBER)
    print(f"built on SQLite: {members} members, {entries} entries in "
          f"{time.perf_counter() - started:.0f} s", flush=True)  # fmt: skip
    server = PostgresServer(durable=True)
    server.start()
    try:
        url = await server.database()
        started = time.perf_counter()
        command = [sys.executable, "-m", "bot.cli", "db", "copy", "--from", f"sqlite:{database}"]
        copied = await asyncio.to_thread(
            subprocess.run, [*command, "--to", url], capture_output=True, text=True, check=True
        )
        print(f"db copy to PostgreSQL: {time.perf_counter() - started:.0f} s; "
              f"{copied.stdout.strip().splitlines()[-1]}", flush=True)  # fmt: skip
        targets = {"sqlite": str(database), "postgresql": url}
        figures: dict[str, dict[str, list[float]]] = {
            name: {"export s": [], "export MB": [], "updates/s": [], "p99 ms": []}
            for name in targets
        }
        next_id = 20_000_000
        for round_number in range(rounds):
            for name, target in targets.items():
                seconds, peak = await asyncio.to_thread(
                    export, folder, target, f"{name}-{round_number}"
                )
                storage = target if name == "postgresql" else f"sqlite:{target}"
                elapsed, _ = await run_one("consultbot", people, None, storage, next_id)
                next_id += people
                _, crowd = await run_one("consultbot", thinking, (1.0, 3.0), storage, next_id)
                next_id += thinking
                row = figures[name]
                row["export s"].append(seconds)
                row["export MB"].append(peak)
                row["updates/s"].append(people * len(SCRIPT) / elapsed)
                row["p99 ms"].append(percentile(crowd.latencies, 0.99) * 1000)
                print(f"round {round_number + 1} {name:10} export {seconds:5.1f} s {peak:5.0f} MB"
                      f"  registration {row['updates/s'][-1]:5.0f} updates/s"
                      f"  thinking p99 {row['p99 ms'][-1]:6.1f} ms", flush=True)  # fmt: skip
        print(f"\n{members} members, {entries} record entries; medians of {rounds} rounds")
        for name, row in figures.items():
            print(f"  {name:10} " + "  ".join(
                f"{key} {statistics.median(values):7.1f}" for key, values in row.items()
            ))  # fmt: skip
        for key in ("export s", "updates/s"):
            ratio = statistics.median(figures["postgresql"][key]) / statistics.median(
                figures["sqlite"][key]
            )
            print(f"  ratio postgresql / sqlite, {key}: {ratio:.2f}")
    finally:
        server.stop()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--members", type=int, default=100_000)
    parser.add_argument("--entries", type=int, default=1_000_000)
    parser.add_argument("--people", type=int, default=300)
    parser.add_argument("--thinking-people", type=int, default=100)
    parser.add_argument("--rounds", type=int, default=2)
    arguments = parser.parse_args()
    asyncio.run(
        main(
            arguments.members,
            arguments.entries,
            arguments.people,
            arguments.thinking_people,
            arguments.rounds,
        )
    )
