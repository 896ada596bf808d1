"""SQLite against PostgreSQL, same run: registration capacity and responsiveness on each backend.

consultbot runs as `consultbot run` in its own process, once on the embedded SQLite file and once
on a PostgreSQL server this script starts itself (the distribution's binaries, a temp directory,
a Unix socket; fsync on, as deployed). Rounds alternate between the backends; medians are printed.
Run: .venv/bin/python -m bench.backends [--people 400] [--thinking-people 100] [--rounds 3]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics

from bench.common import percentile
from bench.registration import SCRIPT, run_one
from tests.postgres_server import PostgresServer


async def main(people: int, thinking_people: int, rounds: int) -> None:
    server = PostgresServer(durable=True)
    server.start()
    try:
        rates: dict[str, list[float]] = {"sqlite": [], "postgresql": []}
        p99s: dict[str, list[float]] = {"sqlite": [], "postgresql": []}
        for round_number in range(rounds):
            for backend in ("sqlite", "postgresql"):
                url = await server.database() if backend == "postgresql" else None
                elapsed, _ = await run_one("consultbot", people, None, url)
                rates[backend].append(people * len(SCRIPT) / elapsed)
                url = await server.database() if backend == "postgresql" else None
                _, crowd = await run_one("consultbot", thinking_people, (1.0, 3.0), url)
                p99s[backend].append(percentile(crowd.latencies, 0.99) * 1000)
                print(
                    f"round {round_number + 1} {backend:10} {rates[backend][-1]:7.0f} updates/s"
                    f"   thinking p99 {p99s[backend][-1]:6.1f} ms",
                    flush=True,
                )
        print(f"\ncapacity: {people} people registering at once; {thinking_people} thinking 1-3 s")
        for backend in ("sqlite", "postgresql"):
            print(
                f"  {backend:10} median {statistics.median(rates[backend]):7.0f} updates/s"
                f"   thinking p99 median {statistics.median(p99s[backend]):6.1f} ms"
            )
        ratio = statistics.median(rates["postgresql"]) / statistics.median(rates["sqlite"])
        print(f"  ratio postgresql / sqlite (updates/s): {ratio:.2f}")
    finally:
        server.stop()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--people", type=int, default=400)
    parser.add_argument("--thinking-people", type=int, default=100)
    parser.add_argument("--rounds", type=int, default=3)
    arguments = parser.parse_args()
    asyncio.run(main(arguments.people, arguments.thinking_people, arguments.rounds))
