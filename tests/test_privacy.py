"""A member's data: /mydata holds all of it; after /deleteme nothing ties the record to them."""

from __future__ import annotations

import json
import sqlite3

from storage.models import AudienceFilter
from tests.harness import TOKEN, BotUnderTest, wait_until_done

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
