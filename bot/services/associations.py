"""The associations registry: CSV import, and admins' review of names members proposed."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass

from bot.services import regions
from storage import Store
from storage.models import Association

CSV_COLUMNS = ("name", "country", "province_state", "city", "kind")


@dataclass(frozen=True)
class ImportResult:
    added: int
    already_present: int
    problems: tuple[str, ...]


def parse_csv(text: str) -> tuple[list[tuple[str, str, str | None, str | None, str]], list[str]]:
    """Read rows (name, country, province_state, city, kind); return good rows and problems."""
    reader = csv.DictReader(io.StringIO(text))
    missing = [column for column in ("name", "country") if column not in (reader.fieldnames or [])]
    if missing:
        return [], [f"missing column(s): {', '.join(missing)} (expected {', '.join(CSV_COLUMNS)})"]
    rows, problems = [], []
    for line_number, row in enumerate(reader, start=2):
        name = " ".join((row.get("name") or "").split())
        country = (row.get("country") or "").strip().upper()
        region_text = (row.get("province_state") or "").strip()
        if not name:
            problems.append(f"line {line_number}: empty name")
            continue
        if country not in regions.COUNTRIES:
            problems.append(f"line {line_number}: country must be CA or US, got {country!r}")
            continue
        place = regions.find_region(country, region_text) if region_text else None
        if region_text and place is None:
            problems.append(f"line {line_number}: unknown province/state {region_text!r}")
            continue
        city = " ".join((row.get("city") or "").split()) or None
        kind = (row.get("kind") or "").strip() or "association"
        rows.append((name, country, place.code if place else None, city, kind))
    return rows, problems


async def import_csv(store: Store, text: str) -> ImportResult:
    rows, problems = parse_csv(text)
    added, present = await store.associations.add_many(rows)
    return ImportResult(added, present, tuple(problems))


async def pending_with_candidates(store: Store) -> list[tuple[Association, list[Association]]]:
    """Each pending name with up to three approved associations it might duplicate."""
    reviews = []
    for pending in await store.associations.pending():
        first_word = pending.name.split()[0] if pending.name.split() else ""
        candidates = await store.associations.search(pending.country, pending.region, first_word, 3)
        reviews.append((pending, candidates))
    return reviews


async def approve(store: Store, association_id: int, actor: str) -> bool:
    done = await store.associations.approve(association_id)
    if done:
        await store.audit.record(actor, "association.approve", f"association:{association_id}", {})
    return done


async def merge(store: Store, association_id: int, into_id: int, actor: str) -> bool:
    done = await store.associations.merge(association_id, into_id)
    if done:
        await store.audit.record(
            actor, "association.merge", f"association:{association_id}", {"into": into_id}
        )
    return done
