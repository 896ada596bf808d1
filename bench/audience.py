"""Choosing an audience among 100,000 members: the place as it stands outside an edit, and its cost.

A member halfway through changing their place is counted where they lived before the edit
(storage/audience.py reads the edit's backup while `editing`). That makes each place filter a CASE
expression rather than a plain column. This measures the count a broadcast or a meeting takes of
its audience — by country, by province/state, by city — with today's SQL against the same filter
on the plain columns (the peer: the SQL before the change), in the same run, on SQLite.
Run: .venv/bin/python -m bench.audience [--members 100000] [--repeats 20]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
from pathlib import Path

from bench.broadcast import seed_rows
from bot.clock import SystemClock
from storage import Store
from storage.audience import audience_sql
from storage.models import AudienceFilter

FILTERS = {
    "country": AudienceFilter(countries=("US",)),
    "province/state": AudienceFilter(regions=("US-TX",)),
    "city": AudienceFilter(cities=("Houston",)),
}


def plain_sql(audience: AudienceFilter) -> tuple[str, list[object]]:
    """The peer: the same filter on the plain columns, as the SQL read them before."""
    clauses, parameters = ["m.status = 'active'", "m.unreachable = 0"], []
    if audience.countries:
        clauses.append("m.country IN (?)")
        parameters.extend(audience.countries)
    if audience.regions:
        clauses.append("m.country || '-' || m.region IN (?)")
        parameters.extend(audience.regions)
    if audience.cities:
        clauses.append("lower(m.city) IN (?)")
        parameters.extend(city.lower() for city in audience.cities)
    return "FROM members m WHERE " + " AND ".join(clauses), list(parameters)


async def timed(store: Store, sql: str, parameters: list[object], repeats: int) -> float:
    """The median milliseconds of `SELECT count(*)` over `repeats` runs."""
    samples = []
    for _ in range(repeats):
        started = time.perf_counter()
        row = await store.database.fetch_one(f"SELECT count(*) {sql}", parameters)
        samples.append((time.perf_counter() - started) * 1000)
        assert row is not None and int(row[0]) > 0
    return statistics.median(samples)


async def main(members: int, repeats: int) -> None:
    with tempfile.TemporaryDirectory() as folder:
        database = Path(folder) / "audience.db"
        store = await Store.open(database, SystemClock())  # migrated, empty
        await store.close()
        seed_rows(database, members)
        store = await Store.open(database, SystemClock())
        try:
            print(f"{members:,} members, SQLite, median of {repeats} counts")
            for name, audience in FILTERS.items():
                settled = await timed(store, *audience_sql(audience), repeats)
                plain = await timed(store, *plain_sql(audience), repeats)
                print(
                    f"  {name:15} settled place {settled:7.1f} ms   plain columns {plain:7.1f} ms"
                    f"   ratio {settled / plain:4.2f}"
                )
        finally:
            await store.close()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--members", type=int, default=100_000)
    parser.add_argument("--repeats", type=int, default=20)
    arguments = parser.parse_args()
    asyncio.run(main(arguments.members, arguments.repeats))
