"""Hostile and unlucky people: forged buttons, edits, groups, floods, and updates across a crash."""

from __future__ import annotations

import asyncio
import json
import logging
from contextlib import AsyncExitStack
from pathlib import Path
from typing import Any

import pytest

from bot.app import build_application
from bot.callbacks import parse
from bot.i18n import Texts
from bot.runner import running
from bot.transport import AiohttpRequest
from storage import Store
from storage.db import UpdateScope, current_update
from tests.harness import (
    TOKEN,
    BotUnderTest,
    TrackingProcessor,
    bot_running,
    fixed_clock,
    make_config,
)
from tgemu import Emulator

TEXTS = Texts.load()


def _errors(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]


async def _all_marked_handled(bot: BotUnderTest, timeout: float = 5.0) -> None:
    """Handled marks are written in batches a few ms apart: wait until none is pending."""
    deadline = asyncio.get_running_loop().time() + timeout
    while await bot.store.inbox.unhandled():
        assert asyncio.get_running_loop().time() < deadline, await bot.store.inbox.unhandled()
        await asyncio.sleep(0.01)


def _out(emulator: Emulator, chat_id: int) -> list[str]:
    chat = emulator.bot(TOKEN).chats.get(chat_id)
    if chat is None:
        return []
    return [m.text or "" for m in chat.messages.values() if m.direction == "out"]


async def _register(bot: BotUnderTest, telegram_id: int, name: str) -> None:
    bot.emulator.create_person(telegram_id, name, "es")
    member = await bot.store.members.create_with_consent(
        telegram_id, None, "es", "2026-11", "test", "name"
    )
    await bot.store.members.update(
        member.id,
        {"status": "active", "step": None, "name": name, "email": "secret@example.org"},
    )


# ---- 2: forged button data -----------------------------------------------------------------


def test_only_ascii_bounded_numbers_parse() -> None:
    for data in (
        "v1:ack:yes:²",
        "v1:ack:yes:12345678901234567890",
        "v1:reg:zone:٣",
        "v1:adm:merge:1:²",
        f"v1:bc:stop:{2**53 + 1}",
    ):
        assert parse(data) is None, data
    assert parse("v1:ack:yes:42") is not None
    callback = parse(f"v1:adm:approve:{2**53}")
    assert callback is not None and callback.int_argument() == 2**53
    toggle = parse("v1:bc:toggle:3:city:Montréal")
    assert toggle is not None and toggle.int_argument() is None


async def test_forged_numbers_get_the_polite_pop_up_and_no_traceback(
    bot: BotUnderTest, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING)
    await _register(bot, 7001, "Rosa")
    rosa = bot.person(7001, "Rosa", "es")
    await rosa.send("/help")
    message_id = rosa.last().message_id
    unknown = TEXTS.plain("es", "error.button_unknown")
    forged = [
        "v1:ack:yes:²",
        "v1:ack:yes:12345678901234567890",
        "v1:reg:3:p:²",
        "v1:reg:5:c:99999999999999999999",
        "v1:reg:6:c:12345678901234567890",
        "v1:reg:6:c:¹",
    ]
    for data in forged:
        await rosa.press_data(message_id, data, forge=True)
        assert rosa.callback_answer() == unknown, data
    admin = bot.person(9000, "Admin", "es")
    await admin.send("/help")
    for data in ("v1:bc:stop:²", "v1:bc:stop:99999999999999999999", "v1:adm:merge:1:²"):
        await admin.press_data(admin.last().message_id, data, forge=True)
        assert admin.callback_answer() == TEXTS.plain("es", "error.button_unknown"), data
    unexpected = TEXTS.plain("es", "error.unexpected")
    assert unexpected not in _out(bot.emulator, 7001) + _out(bot.emulator, 9000)
    assert _errors(caplog) == []
    await rosa.send("/help")  # still answering
    assert "/profile" in rosa.last_text()


# ---- 4: edited messages ----------------------------------------------------------------------


async def test_an_edited_name_is_not_taken_as_the_city(bot: BotUnderTest) -> None:
    ana = bot.person(7101, "Ana", "es")
    await ana.send("/start")
    await ana.press("Español")
    await ana.press("Acepto")
    await ana.send("Ana")
    name_id = next(
        m.message_id for m in ana.transcript() if m.direction == "in" and m.text == "Ana"
    )
    await ana.press("Estados Unidos")
    await ana.press("California")
    asked = ana.last_text()
    update_id = bot.emulator.edit_text(TOKEN, 7101, name_id, "Toronto")
    await bot.processor.wait_done(update_id)
    member = await bot.store.members.by_telegram_id(7101)
    assert member is not None
    assert member.name == "Ana" and member.city is None and member.step == "city"
    assert ana.last_text() == TEXTS.plain("es", "hostile.edited_kept")
    await ana.send("Los Ángeles")
    member = await bot.store.members.by_telegram_id(7101)
    assert member is not None and member.city == "Los Ángeles"
    assert asked != ana.last_text()


# ---- 5: groups and channels -----------------------------------------------------------------


async def _in_group(bot: BotUnderTest, user_id: int, group_id: int, text: str) -> None:
    await bot.processor.wait_done(bot.emulator.send_text(TOKEN, user_id, text, chat_id=group_id))


async def test_in_a_group_nothing_personal_and_one_hint_to_write_privately(
    bot: BotUnderTest, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING)
    group = -1_001_234
    bot.emulator.create_group(group, "Diáspora", "supergroup")
    await _register(bot, 7201, "Marta")
    bot.emulator.create_person(7202, "Nuevo", "en")
    for user_id, text in [
        (7202, "/start"),
        (7201, "/profile"),
        (7201, "/mydata"),
        (7202, "/start"),
        (7201, "hola"),
        (7201, "/deleteme"),
    ]:
        await _in_group(bot, user_id, group, text)
    said = _out(bot.emulator, group)
    assert len(said) == 1, said
    username = bot.emulator.bot(TOKEN).user["username"]
    assert f"https://t.me/{username}" in said[0]
    documents = [
        m for m in bot.emulator.bot(TOKEN).chats[group].messages.values() if m.document is not None
    ]
    assert documents == []
    assert "Marta" not in said[0] and "secret@example.org" not in said[0]
    assert await bot.store.members.by_telegram_id(7202) is None  # no registration begun
    # A button pressed in the group gets a pop-up, never a flow.
    messages = bot.emulator.bot(TOKEN).chats[group].messages.values()
    message_id = next(m.message_id for m in messages if m.direction == "out")
    update_id = bot.emulator.press(TOKEN, 7201, message_id, "v1:del:yes", forge=True, chat_id=group)
    await bot.processor.wait_done(update_id)
    answers = bot.emulator.bot(TOKEN).callback_answers
    assert answers[max(answers, key=int)]["text"] == TEXTS.plain("es", "hostile.group_button")
    marta = await bot.store.members.by_telegram_id(7201)
    assert marta is not None and marta.status == "active"
    # Channel posts are ignored.
    channel = -1_009_999
    bot.emulator.create_group(channel, "Noticias", "channel")
    await bot.processor.wait_done(bot.emulator.post_in_channel(TOKEN, channel, "/start"))
    assert _out(bot.emulator, channel) == []
    assert _errors(caplog) == []


async def test_the_admins_alert_chat_gets_no_chatter(emulator: Emulator, database: Path) -> None:
    alert_chat = -1_000_777
    config = make_config(
        database, emulator.base_url(), admins={"user_ids": [9000], "chat_id": alert_chat}
    )
    emulator.create_group(alert_chat, "Admins", "supergroup")
    emulator.create_person(9000, "Admin", "es")
    async with bot_running(emulator, config) as bot:
        for text in ("/start", "/profile", "hola"):
            await _in_group(bot, 9000, alert_chat, text)
    assert _out(emulator, alert_chat) == []
    assert _out(emulator, 9000) == []


# ---- 6: floods ------------------------------------------------------------------------------


async def test_a_flood_neither_delays_others_nor_loses_replies_under_429(
    bot: BotUnderTest, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING)
    emulator = bot.emulator
    emulator.limits.global_rate = 30.0
    emulator.limits.per_chat_rate = 5.0
    emulator.limits.per_chat_burst = 5.0
    emulator.bot(TOKEN).reset_buckets()
    flooder = 7300
    emulator.create_person(flooder, "Flood", "es")
    others = list(range(7301, 7306))
    for person in others:
        emulator.create_person(person, "Otra", "es")
    flood_ids = [emulator.send_text(TOKEN, flooder, f"hola {n}") for n in range(200)]
    started = asyncio.get_running_loop().time()
    other_ids = [emulator.send_text(TOKEN, person, "/start") for person in others]
    for update_id in other_ids:
        await bot.processor.wait_done(update_id)
    others_took = asyncio.get_running_loop().time() - started
    # Everyone else was answered while the flooder's backlog was still being worked through.
    assert bot.processor.backlog(flooder) > 0
    assert others_took < 2.0, others_took
    for person in others:
        assert any("Bienvenido" in text for text in _out(emulator, person)), person
    for update_id in flood_ids:
        await bot.processor.wait_done(update_id, timeout=30)
    replies = _out(emulator, flooder)
    slow_down = TEXTS.plain("es", "hostile.slow_down")
    assert replies.count(slow_down) == 1
    answered = len(replies) - 1
    assert 20 <= answered <= 30, answered
    assert bot.processor.dropped == 200 - answered
    assert bot.application is not None
    request = bot.application.bot.request
    assert isinstance(request, AiohttpRequest) and request.floods_waited > 0
    assert emulator.bot(TOKEN).floods > 0
    assert _errors(caplog) == []


# ---- 8: the durable inbox -------------------------------------------------------------------


class HoldingProcessor(TrackingProcessor):
    """Receives updates but never gets to handle them: the process dies first."""

    def __init__(self) -> None:
        super().__init__()
        self.held: list[asyncio.Task[Any]] = []

    async def do_process_update(self, update: object, coroutine: Any) -> None:
        task = asyncio.current_task()
        assert task is not None
        self.held.append(task)
        try:
            await asyncio.Event().wait()
        finally:
            coroutine.close()


async def test_an_update_is_stored_as_telegram_sent_it(emulator: Emulator, database: Path) -> None:
    config = make_config(database, emulator.base_url())
    emulator.create_person(7404, "Inés", "es")
    holding = HoldingProcessor()
    application = build_application(config, holding)
    async with running(application, config):
        update_id = emulator.send_text(TOKEN, 7404, "Hola <b>ñandú</b> 🌵")
        assert application.bot_data.services is not None
        store = application.bot_data.services.store
        for _ in range(200):
            row = await store.database.fetch_one(
                "SELECT payload FROM inbox WHERE update_id = ?", (update_id,)
            )
            if row is not None and holding.held:
                break
            await asyncio.sleep(0.02)
        for task in holding.held:
            task.cancel()
    assert row is not None
    assert json.loads(row[0]) == emulator.bot(TOKEN).history[update_id]
    assert "ñandú" in row[0]  # stored as text, not \\u-escaped


async def test_updates_stored_before_a_crash_are_handled_once_after_it(
    emulator: Emulator, database: Path
) -> None:
    config = make_config(database, emulator.base_url())
    people = [7401, 7402, 7403]
    for person in people:
        emulator.create_person(person, "P", "es")
    holding = HoldingProcessor()
    application = build_application(config, holding)
    stack = AsyncExitStack()
    await stack.enter_async_context(running(application, config))
    update_ids = [emulator.send_text(TOKEN, person, "/start") for person in people]
    assert application.bot_data.services is not None
    inbox = application.bot_data.services.store.inbox
    for _ in range(200):
        if len(await inbox.unhandled()) == len(people) and len(holding.held) == len(people):
            break
        await asyncio.sleep(0.02)
    assert await inbox.unhandled() == update_ids
    # Abrupt end: nothing handled, and Telegram has been told the updates arrived.
    for task in holding.held:
        task.cancel()
    await stack.aclose()
    assert all(_out(emulator, person) == [] for person in people)
    assert emulator.bot(TOKEN).updates == []
    # Telegram delivers one of them again anyway (it never saw the offset move).
    emulator.bot(TOKEN).redeliver(update_ids[0])
    async with bot_running(emulator, config) as bot:
        for update_id in update_ids:
            await bot.processor.wait_done(update_id)
        await _all_marked_handled(bot)
        # And again, after it was handled.
        emulator.bot(TOKEN).redeliver(update_ids[1])
        await asyncio.sleep(1.5)
    for person in people:
        replies = _out(emulator, person)
        assert len(replies) == 1 and "Bienvenido" in replies[0], (person, replies)


async def test_kill_9_right_after_people_write_loses_no_message(
    emulator: Emulator, tmp_path: Path
) -> None:
    from tests.test_process import TOKEN as PROCESS_TOKEN
    from tests.test_process import _config, _consultbot_run

    config = _config(tmp_path, emulator.base_url(), tmp_path / "kill.db")
    people = list(range(7500, 7540))
    for person in people:
        emulator.create_person(person, "P", "es")
    state = emulator.bot(PROCESS_TOKEN)

    def replies(person: int) -> int:
        chat = state.chats.get(person)
        return sum(1 for m in chat.messages.values() if m.direction == "out") if chat else 0

    async def wait_until(condition: Any, timeout: float = 30) -> None:
        deadline = asyncio.get_running_loop().time() + timeout
        while not condition():
            assert asyncio.get_running_loop().time() < deadline, "timed out"
            await asyncio.sleep(0.005)

    process = await _consultbot_run(config)
    try:
        emulator.send_text(PROCESS_TOKEN, people[0], "/start")
        await wait_until(lambda: replies(people[0]) == 1, 60)
        before = state.sends
        for person in people[1:]:
            emulator.send_text(PROCESS_TOKEN, person, "/start")
        await wait_until(lambda: state.sends >= before + 3)
    finally:
        process.kill()
        await process.wait()
    answered_before_kill = state.sends - before
    process = await _consultbot_run(config)
    try:
        await wait_until(lambda: all(replies(person) >= 1 for person in people), 60)
        await asyncio.sleep(1.0)
    finally:
        process.terminate()
        await process.wait()
    duplicates = sum(replies(person) - 1 for person in people)
    print(f"answered before kill -9: {answered_before_kill}; duplicates: {duplicates}")
    # No message is lost. A reply that was on its way to Telegram at the instant of the kill
    # (accepted by Telegram, not yet recorded by the bot) may go out again: at most one per
    # processing slot. Answers are never applied twice (next test).
    assert duplicates <= 8, duplicates


async def test_an_answer_taken_before_a_crash_is_not_taken_again(
    emulator: Emulator, database: Path
) -> None:
    """The crash came after the name was stored and the step moved, before the reply went out."""
    import json

    config = make_config(database, emulator.base_url())
    async with bot_running(emulator, config) as bot:
        ana = bot.person(7601, "Ana", "es")
        await ana.send("/start")
        await ana.press("Español")
        await ana.press("Acepto")
        assert "llamemos" in ana.last_text()
    # While the bot is down, Ana sends her name; we play the part of the crashed run: it had
    # stored the update, taken the answer (step moved, marked applied) and replied nothing.
    update_id = emulator.send_text(TOKEN, 7601, "Ana María")
    state = emulator.bot(TOKEN)
    payload = state.history[update_id]
    state.updates = [u for u in state.updates if u["update_id"] != update_id]
    store = await Store.open(database, fixed_clock())
    try:
        member = await store.members.by_telegram_id(7601)
        assert member is not None
        await store.database.execute(
            "INSERT INTO inbox (update_id, payload, received_at) VALUES (?, ?, ?)",
            (update_id, json.dumps(payload), "2026-11-28T00:00:00+00:00"),
        )
        token = current_update.set(UpdateScope(update_id))
        try:  # the step moves as the handler moved it, noting the update that moved it
            await store.members.update(member.id, {"name": "Ana María", "step": "country"})
        finally:
            current_update.reset(token)
    finally:
        await store.close()
    before = len(_out(emulator, 7601))
    async with bot_running(emulator, config) as bot:
        await bot.processor.wait_done(update_id)
        replies = _out(emulator, 7601)[before:]
        # Asked for the country once; "Ana María" was not taken as a country.
        assert replies == ["¿En qué país vives?"], replies
        member = await bot.store.members.by_telegram_id(7601)
        assert member is not None and (member.name, member.step) == ("Ana María", "country")
        await _all_marked_handled(bot)
