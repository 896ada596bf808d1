"""A member's data: /mydata holds all of it; after /deleteme nothing ties the record to them,
not even for people who acted (sent notices, granted roles, proposed associations)."""

from __future__ import annotations

import json
import sqlite3
import struct
from dataclasses import dataclass
from pathlib import Path

from storage.models import AudienceFilter
from tests.harness import (
    TOKEN,
    BotUnderTest,
    Person,
    add_member,
    bot_running,
    make_config,
    wait_until_done,
)
from tgemu import Emulator

TELEGRAM_ID = 987654321
PHONE_DIGITS = "2135550199"


def _places_holding(database: str, needle: str) -> list[str]:
    """Every table.column of the database whose text contains the needle."""
    found = []
    with sqlite3.connect(database) as connection:
        tables = [
            row[0]
            for row in connection.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
        ]
        for table in tables:
            columns = [row[1] for row in connection.execute(f"PRAGMA table_info({table})")]
            for column in columns:
                hits = connection.execute(
                    f"SELECT count(*) FROM {table} WHERE CAST({column} AS TEXT) LIKE ?",
                    (f"%{needle}%",),
                ).fetchone()[0]
                if hits:
                    found.append(f"{table}.{column}")
    return found


async def test_mydata_is_complete_and_deleteme_leaves_no_link(bot: BotUnderTest) -> None:
    person = bot.person(TELEGRAM_ID, "Test", "en", username="private_person")
    await person.send("/start")
    await person.press("English")
    await person.press("I agree")
    await person.send("Ana Privada")
    await person.press("United States")
    await person.send("tx")
    await person.send("Houston")
    await person.press("Chicago")
    await person.press("None")
    await person.press("Private sector")
    await person.press("remittances")
    await person.press("Done")
    await person.send("ana.privada@example.org")
    await person.share_contact(f"+1 {PHONE_DIGITS}")
    await person.press("Confirm")
    admin = bot.person(9000, "Admin", "en")
    await admin.send("/grant @private_person staff")
    services = bot.application.bot_data.services  # type: ignore[union-attr]
    assert services is not None and services.delivery is not None
    created, _ = await services.broadcasts.create_queued(
        "test", {"en": "Hello"}, "en", AudienceFilter()
    )
    services.delivery.wake()
    await wait_until_done(bot, created.id)

    await person.send("/mydata")
    document = person.last().document
    assert document is not None
    data = json.loads(bot.emulator.bot(TOKEN).files[document["file_id"]][1])
    assert data["member"]["phone"] == f"+1{PHONE_DIGITS}"
    assert data["member"]["email"] == "ana.privada@example.org"
    assert [grant["role"] for grant in data["roles"]] == ["staff"]
    assert [entry["action"] for entry in data["role_changes"]] == ["grant"]
    assert data["notices_received"][0]["state"] == "sent"

    database = str(bot.config.storage.path)
    assert _places_holding(database, str(TELEGRAM_ID))  # before: the link exists
    await person.send("/deleteme")
    await person.press("Yes, erase")
    for needle in (
        str(TELEGRAM_ID),
        PHONE_DIGITS,
        "ana.privada",
        "Ana Privada",
        "private_person",
        "Houston",
    ):
        assert _places_holding(database, needle) == [], needle
    member = await bot.store.members.by_id(data["member"]["id"])
    assert member is not None and member.pseudonym == data["member"]["pseudonym"]
    assert (member.region, member.sector) == ("TX", "private")  # what the record keeps


# ---- erasure of people who acted ------------------------------------------------------------

ADMIN_ID = 876543219  # a config admin who also registered
COORDINATOR_ID = 765432198  # broadcast a notice, with its status message in their chat
PROPOSER_ID = 654321987  # proposed an association while registering


@dataclass(frozen=True)
class Someone:
    telegram_id: int
    name: str
    username: str
    city: str
    email: str
    phone_digits: str

    def needles(self) -> list[str]:
        return [
            str(self.telegram_id),
            self.name,
            self.username,
            self.city,
            self.email,
            self.phone_digits,
        ]


ADMIN = Someone(
    ADMIN_ID, "Adelina Qwertz", "adelina_admin", "Poughkeepsie", "adelina@ex.org", "7185550111"
)
COORDINATOR = Someone(
    COORDINATOR_ID,
    "Cornelio Zyxw",
    "cornelio_coord",
    "Schenectady",
    "cornelio@ex.org",
    "7185550122",
)
PROPOSER = Someone(
    PROPOSER_ID, "Prudencia Vbnm", "prudencia_prop", "Tonawanda", "prudencia@ex.org", "7185550133"
)


async def _register(person: Person, someone: Someone, proposed: str | None = None) -> None:
    await person.send("/start")
    await person.press("English")
    await person.press("I agree")
    await person.send(someone.name)
    await person.press("United States")
    await person.send("NY")
    await person.send(someone.city)
    if proposed is None:
        await person.press("None")
    else:
        await person.press("Not in the list")
        await person.send(proposed)
    await person.press("Government")
    await person.press("Consular")
    await person.press("Done")
    await person.send(someone.email)
    await person.share_contact(f"+1 {someone.phone_digits}")
    await person.press("Confirm")
    assert "Your registration is complete" in person.last_text()


async def _erase(person: Person) -> None:
    await person.send("/deleteme")
    await person.press("Yes, erase")


def _bytes_holding(path: Path, someone: Someone) -> list[str]:
    """Which of the person's values appear anywhere in a file's raw bytes."""
    if not path.exists():
        return []
    content = path.read_bytes()
    found = [needle for needle in someone.needles() if needle.encode("utf-8") in content]
    # SQLite stores the integer big-endian in 4 bytes (it is under 2**31).
    if struct.pack(">i", someone.telegram_id) in content:
        found.append(f"{someone.telegram_id} as an integer")
    return found


async def test_erasing_people_who_acted_leaves_nothing_in_any_column_or_byte(
    emulator: Emulator, database: Path
) -> None:
    config = make_config(
        database,
        emulator.base_url(),
        admins={"user_ids": [ADMIN_ID]},
        delivery={"rate_per_second": 500, "retry_base_seconds": 0.05},
    )
    async with bot_running(emulator, config) as bot:
        for telegram_id in range(700, 705):
            await add_member(bot, telegram_id, "en", country="US", region="NY", city="Albany")
        coordinator = bot.person(COORDINATOR_ID, "Cornelio", "en", username=COORDINATOR.username)
        await _register(coordinator, COORDINATOR)
        proposer = bot.person(PROPOSER_ID, "Prudencia", "en", username=PROPOSER.username)
        await _register(proposer, PROPOSER, proposed="Club Unidos del Norte")
        # The admin acts before registering (an operator actor) and after (a member actor).
        admin = bot.person(ADMIN_ID, "Adelina", "en", username=ADMIN.username)
        await admin.send(f"/grant @{COORDINATOR.username} coordinator")
        assert "granted" in admin.last_text()
        await _register(admin, ADMIN)
        await admin.send(f"/grant @{PROPOSER.username} staff")
        assert "granted" in admin.last_text()

        await coordinator.send("/broadcast")
        await coordinator.send("Meeting on Saturday in Albany.")
        await coordinator.press("Continue")
        await coordinator.press("Continue")
        await coordinator.press("Confirm sending")
        broadcast = (await bot.store.broadcasts.recent(1))[0]
        await wait_until_done(bot, broadcast.id)
        assert broadcast.status_chat_id == COORDINATOR_ID

        everyone = (ADMIN, COORDINATOR, PROPOSER)
        for someone in everyone:  # before: each of them is in the database
            assert _places_holding(str(database), str(someone.telegram_id)), someone.name
            assert _places_holding(str(database), someone.city), someone.name
        for person in (coordinator, proposer, admin):
            await _erase(person)

        for someone in everyone:
            for needle in someone.needles():
                assert _places_holding(str(database), needle) == [], (someone.name, needle)
        leaks = {
            (suffix, someone.name): _bytes_holding(Path(f"{database}{suffix}"), someone)
            for suffix in ("", "-wal")
            for someone in everyone
        }
        assert {place: found for place, found in leaks.items() if found} == {}
        # What the record keeps: the notice, the grants' audit, the proposed association.
        assert (await bot.store.broadcasts.get(broadcast.id)) is not None
        with sqlite3.connect(database) as connection:
            proposals = connection.execute(
                "SELECT status, region, city FROM associations WHERE name = ?",
                ("Club Unidos del Norte",),
            ).fetchall()
        assert proposals == [("pending", "NY", None)]
