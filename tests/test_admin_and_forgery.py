"""Privileged commands and forged buttons are refused; admins review proposed associations."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.cli import main
from tests.harness import TOKEN, BotUnderTest, Person


async def _register(person: Person, name: str, association_step: str = "None") -> None:
    await person.send("/start")
    await person.press("English")
    await person.press("I agree")
    await person.send(name)
    await person.press("United States")
    await person.send("NY")
    await person.send("Brooklyn")
    if association_step == "None":
        await person.press("None")
    else:
        await person.press("Not in the list")
        await person.send(association_step)
    await person.press("Government")
    await person.press("Consular")
    await person.press("Done")
    await person.press("Skip")
    await person.press("Skip")
    await person.press("Confirm")


async def test_a_member_using_grant_is_refused(bot: BotUnderTest) -> None:
    ana = bot.person(201, "Ana", "es", username="ana")
    await _register(ana, "Ana")
    await ana.send("/grant @ana admin")
    assert "You are not allowed to use that command" in ana.last_text()
    await ana.send("/pending")
    assert "You are not allowed to use that command" in ana.last_text()
    member = await bot.store.members.by_telegram_id(201)
    assert member is not None and await bot.store.roles.of_member(member.id) == []
    assert await bot.store.audit.recent() == []


async def test_forged_and_stale_buttons_get_a_polite_answer(bot: BotUnderTest) -> None:
    ana = bot.person(202, "Ana", "en")
    await ana.send("/start")
    message_id = ana.last().message_id
    for forged in [
        "v2:lang:start:en",
        "v1:lang:start:de",
        "garbage",
        "v1:adm:approve:1",
        "v1:reg:confirm",
        "v1:consent:yes:xx",
        "v1:reg:zone:99",
    ]:
        await ana.press_data(message_id, forged, forge=True)
        assert ana.callback_answer() in (
            "That button is not valid or has expired.",
            "You are not allowed to use that command.",
        ), forged
    assert await bot.store.members.by_telegram_id(202) is None
    await ana.press("English")
    await ana.press("I agree")
    await ana.send("Ana")
    member = await bot.store.members.by_telegram_id(202)
    assert member is not None and member.step == "country"
    # A button of a later step, forged now, is stale: the current question is asked again.
    await ana.press_data(ana.last().message_id, "v1:reg:sector:academia", forge=True)
    assert ana.callback_answer() == "That button is not valid or has expired."
    assert "Which country do you live in?" in ana.last_text()
    after = await bot.store.members.by_telegram_id(202)
    assert after is not None and after.sector is None and after.step == "country"
    assert bot.emulator.bot(TOKEN).errors == []


async def test_admin_grants_revokes_and_reviews_associations(bot: BotUnderTest) -> None:
    carlos = bot.person(203, "Carlos", "es", username="carlos")
    await _register(carlos, "Carlos", association_step="Casa Cuscatlán NY")
    member = await bot.store.members.by_telegram_id(203)
    assert member is not None and member.association_id is not None
    proposed = await bot.store.associations.by_id(member.association_id)
    assert proposed is not None and proposed.status == "pending"

    admin = bot.person(9000, "Admin", "en")
    await admin.send("/grant @carlos coordinator")
    assert "Role coordinator granted to Carlos" in admin.last_text()
    await admin.send("/grant @carlos coordinator")
    assert "already had" in admin.last_text()
    await admin.send("/revoke 203 coordinator")
    assert "Role coordinator revoked from Carlos" in admin.last_text()
    await admin.send("/grant @nobody staff")
    assert "can't find a registered member" in admin.last_text()
    await admin.send("/grant @carlos emperor")
    assert "Usage: /grant" in admin.last_text()
    actions = [entry.action for entry in await bot.store.audit.recent()]
    assert actions == ["revoke", "grant"]

    await admin.send("/pending")
    assert "Casa Cuscatlán NY" in admin.last_text()
    await admin.press("Approve")
    assert "approved" in admin.last_text()
    approved = await bot.store.associations.by_id(proposed.id)
    assert approved is not None and approved.status == "approved"
    await admin.send("/pending")
    assert "There are no pending associations" in admin.last_text()


async def test_merge_moves_members_to_the_existing_association(bot: BotUnderTest) -> None:
    existing = await bot.store.associations.add("Casa Cuscatlán", "US", "NY", "New York")
    rosa = bot.person(204, "Rosa", "en", username="rosa")
    await _register(rosa, "Rosa", association_step="Casa Cuscatlan New York")
    admin = bot.person(9000, "Admin", "en")
    await admin.send("/pending")
    await admin.press("Merge into Casa Cuscatlán")
    assert "merged into" in admin.last_text()
    member = await bot.store.members.by_telegram_id(204)
    assert member is not None and member.association_id == existing.id


def test_associations_import_cli(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = tmp_path / "config.toml"
    config.write_text(
        f'[telegram]\ntoken = "1:x"\n[storage]\npath = "{tmp_path / "c.db"}"\n', encoding="utf-8"
    )
    registry = tmp_path / "associations.csv"
    registry.write_text(
        "name,country,province_state,city,kind\n"
        "Comité de Los Ángeles,US,California,Los Angeles,hometown\n"
        "Asociación de Houston,US,TX,Houston,association\n"
        "Broken,MX,,,\n"
        "Nowhere,US,Atlantis,,\n",
        encoding="utf-8",
    )
    # Skipped rows make the exit status 1 so a script notices; the good rows are imported.
    assert main(["associations", "import", str(registry), "--config", str(config)]) == 1
    out = capsys.readouterr()
    assert "imported 2, already present 0" in out.out
    assert "country must be CA or US" in out.err and "unknown province/state" in out.err
    assert main(["associations", "import", str(registry), "--config", str(config)]) == 1
    assert "imported 0, already present 2" in capsys.readouterr().out
