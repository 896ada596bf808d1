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
    assert "This is for the consultation team only" in ana.last_text()
    await ana.send("/pending")
    assert "This is for the consultation team only" in ana.last_text()
    member = await bot.store.members.by_telegram_id(201)
    assert member is not None and await bot.store.roles.of_member(member.id) == []
    # Only the two refusals are recorded (issue 20): nothing was granted.
    assert [e.action for e in await bot.store.audit.recent()] == ["refused", "refused"]


async def test_forged_and_stale_buttons_get_a_polite_answer(bot: BotUnderTest) -> None:
    ana = bot.person(202, "Ana", "en")
    await ana.send("/start")
    message_id = ana.last().message_id
    for forged in [
        "v2:lang:start:en",
        "v1:lang:start:de",
        "garbage",
        "v1:adm:approve:1",
        "v1:reg:12:d",
        "v1:consent:yes:xx",
        "v1:reg:5:c:99",
    ]:
        await ana.press_data(message_id, forged, forge=True)
        assert ana.callback_answer() in (
            "That button is not valid or has expired.",
            "This is for the consultation team only, and your role does not include it.",
        ), forged
    assert await bot.store.members.by_telegram_id(202) is None
    await ana.press("English")
    await ana.press("I agree")
    await ana.send("Ana")
    member = await bot.store.members.by_telegram_id(202)
    assert member is not None and member.step == "country"
    # A button of a later step, forged now, is stale: the current question is asked again.
    await ana.press_data(ana.last().message_id, "v1:reg:8:c:0", forge=True)
    assert ana.callback_answer() == "That button is not valid or has expired."
    assert "Which country do you live in?" in ana.last_text()
    after = await bot.store.members.by_telegram_id(202)
    assert after is not None and after.sector is None and after.step == "country"
    # The current step's own number, with an action the step does not offer (cancel, a page, an
    # extra, an edit, skip, toggle, done): refused, and nothing moves.
    for action in ("x", "p:1", "k:0", "e:0", "s", "t:0", "d", "c:2"):
        await ana.press_data(ana.last().message_id, f"v1:reg:2:{action}", forge=True)
        assert ana.callback_answer() == "That button is not valid or has expired.", action
        assert "Which country do you live in?" in ana.last_text()
    unchanged = await bot.store.members.by_telegram_id(202)
    assert unchanged is not None and unchanged.step == "country" and unchanged.country is None
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


async def test_a_forged_acknowledgement_of_a_notice_not_received_is_refused(
    bot: BotUnderTest,
) -> None:
    from datetime import UTC, datetime

    from storage.models import AudienceFilter

    reader = bot.person(210, "Rosa", "en", username="rosa")
    await _register(reader, "Rosa")
    services = bot.application.bot_data.services  # type: ignore[union-attr]
    assert services is not None
    # A notice scheduled far ahead: queued for Rosa, not yet sent to her.
    created, count = await services.broadcasts.create_queued(
        "test",
        {"en": "Later"},
        "en",
        AudienceFilter(),
        True,
        None,
        datetime(2099, 1, 1, tzinfo=UTC),
    )
    assert count == 1
    await reader.press_data(reader.last().message_id, f"v1:ack:yes:{created.id}", forge=True)
    assert reader.callback_answer() != "Thank you for confirming!"
    assert reader.callback_answer() == "That button is not valid or has expired."
    counts = await bot.store.broadcasts.counts(created.id)
    assert (counts.acknowledged, counts.pending) == (0, 1)


async def test_an_old_profile_done_button_cannot_skip_registration(bot: BotUnderTest) -> None:
    luis = bot.person(211, "Luis", "en")
    await _register(luis, "Luis")
    await luis.send("/profile")
    profile_message = luis.last()
    done = next(b for b in profile_message.buttons() if b["text"] == "Done")
    await luis.send("/deleteme")
    await luis.press("Yes")
    await luis.send("/start")
    await luis.press("English")
    await luis.press("I agree")  # registering again: the name is asked now
    asked = luis.last_text()
    await luis.press_data(profile_message.message_id, done["callback_data"])
    assert luis.callback_answer() == "That button is not valid or has expired."
    assert luis.last_text() == asked  # still at the same question, not at the summary
    member = await bot.store.members.by_telegram_id(211)
    assert member is not None and member.status == "registering" and member.step == "name"
    # Even a forged Confirm cannot activate an incomplete profile.
    await luis.press_data(profile_message.message_id, "v1:reg:12:d", forge=True)
    member = await bot.store.members.by_telegram_id(211)
    assert member is not None and member.status == "registering"


async def test_a_focal_point_needs_a_valid_theme(bot: BotUnderTest) -> None:
    fiona = bot.person(212, "Fiona", "en", username="fiona")
    await _register(fiona, "Fiona")
    admin = bot.person(9000, "Admin", "en")
    for forgotten in ("/grant @fiona focal_point", "/grant @fiona focal_point theme:protecion"):
        await admin.send(forgotten)
        assert "needs its thematic group" in admin.last_text()
    member = await bot.store.members.by_telegram_id(212)
    assert member is not None and await bot.store.roles.of_member(member.id) == []
    await admin.send("/grant @fiona focal_point protection")
    roles = await bot.store.roles.of_member(member.id)
    assert [(grant.role, grant.scope) for grant in roles] == [("focal_point", "theme:protection")]


def test_a_scoped_role_without_its_scope_allows_nothing() -> None:
    from bot.services.permissions import Permission, allows

    assert not allows([("focal_point", "")], Permission.VIEW_PROPOSALS, "protection")
    assert not allows([("focal_point", "")], Permission.VIEW_PROPOSALS, None)
    assert allows([("focal_point", "theme:protection")], Permission.VIEW_PROPOSALS, "protection")
    assert not allows([("focal_point", "theme:protection")], Permission.VIEW_PROPOSALS, "vote")
