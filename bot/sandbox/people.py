"""Who is on the sandbox's page: the demo's four people and anyone added (kept beside the file)."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

LANGUAGES = ("es", "en", "fr")
# Zones offered when adding a person: where the diaspora lives, and the staff's own.
ZONES = (
    "America/Los_Angeles",
    "America/Denver",
    "America/Chicago",
    "America/New_York",
    "America/Toronto",
    "America/Vancouver",
    "America/Edmonton",
    "America/Halifax",
    "America/El_Salvador",
)
FIRST_ADDED_ID = 2001


@dataclass(frozen=True)
class Profile:
    """What a demo member answers at registration (the services apply it as the chat would)."""

    country: str
    region: str
    city: str
    association: str
    sector: str
    themes: tuple[str, ...]


@dataclass(frozen=True)
class SandboxPerson:
    """One Telegram account on the page: who they are, where, and in which language."""

    id: int
    name: str
    language: str
    zone: str
    role: str  # what the page says about them: "member", "coordinator", "staff · admin", "new"
    place: str
    username: str | None = None
    phone: str = "+1 555 010 0000"
    profile: Profile | None = field(default=None, compare=False)

    def as_json(self) -> dict[str, Any]:
        """What the page needs (never the registration script)."""
        shown = asdict(self)
        shown.pop("profile")
        return shown


DEMO_PEOPLE: tuple[SandboxPerson, ...] = (
    SandboxPerson(
        1001, "Ana", "es", "America/Los_Angeles", "member", "Los Ángeles, CA",
        "ana_la", "+1 213 555 0100",
        Profile(
            "US", "CA", "Los Ángeles", "Asociación Salvadoreña de Los Ángeles",
            "diaspora-association", ("investment-remittances", "consular-services"),
        ),
    ),
    SandboxPerson(
        1002, "Marie", "fr", "America/Toronto", "member", "Montréal, QC",
        "marie_mtl", "+1 514 555 0142",
        Profile(
            "CA", "QC", "Montréal", "Association des Salvadoriens de Montréal", "academia",
            ("skills-knowledge", "civic-participation"),
        ),
    ),
    SandboxPerson(
        1003, "Daniel", "en", "America/Chicago", "coordinator", "Houston, TX",
        "daniel_hou", "+1 713 555 0177",
        Profile(
            "US", "TX", "Houston", "Casa Cuscatlán de Houston", "civil-society",
            ("protection", "civic-participation"),
        ),
    ),
    # Staff work from San Salvador: a configured admin, who needs no member profile.
    SandboxPerson(
        1004, "Rosa", "es", "America/El_Salvador", "staff · admin", "San Salvador",
        "rosa_staff", "+503 2555 0100",
    ),
)  # fmt: skip
STAFF = DEMO_PEOPLE[3]
COORDINATOR = DEMO_PEOPLE[2]


def roster_path(database: Path) -> Path:
    return database.with_name(database.name + ".people.json")


def load_roster(database: Path) -> list[SandboxPerson] | None:
    """The people of an earlier run on this database, or None for a database never used."""
    path = roster_path(database)
    if not path.exists():
        return None
    added = json.loads(path.read_text(encoding="utf-8"))
    return [*DEMO_PEOPLE, *(SandboxPerson(**person) for person in added)]


def save_roster(database: Path, people: list[SandboxPerson]) -> None:
    """Keep the people added on the page (the demo's four are always there)."""
    added = [person.as_json() for person in people if person not in DEMO_PEOPLE]
    roster_path(database).write_text(json.dumps(added, ensure_ascii=False), encoding="utf-8")


def new_person(people: list[SandboxPerson], name: str, language: str, zone: str) -> SandboxPerson:
    """A person added on the page, not registered yet: they start with /start like anyone."""
    name = " ".join(name.split())[:40]
    if not name:
        raise ValueError("a name is needed")
    if language not in LANGUAGES:
        raise ValueError(f"language must be one of {', '.join(LANGUAGES)}")
    try:
        ZoneInfo(zone)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"unknown time zone {zone!r}") from None
    number = max([FIRST_ADDED_ID - 1, *(person.id for person in people)]) + 1
    city = zone.rsplit("/", 1)[-1].replace("_", " ")
    return SandboxPerson(
        number, name, language, zone, "new", city, phone=f"+1 555 01{number % 100:02d} {number}"
    )
