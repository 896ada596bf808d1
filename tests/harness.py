"""Drive the real Application against the emulator, as people would: type, press, read."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bot.app import build_application
from bot.clock import Clock, ManualClock
from bot.config import Config
from bot.context import ConsultApplication, Services
from bot.runner import running
from bot.updates import PerChatUpdateProcessor
from storage import Store
from storage.db import is_postgres_url
from tgemu import ChatMessage, Emulator

TOKEN = "4242:test-token"
WAIT_SECONDS = 10.0


def fixed_clock() -> ManualClock:
    """A clock standing still at a fixed instant, for tests that open the store themselves."""
    return ManualClock(datetime(2026, 11, 28, 15, 0, tzinfo=UTC))


class TrackingProcessor(PerChatUpdateProcessor):
    """The production processor, also remembering which updates have been fully handled."""

    def __init__(self) -> None:
        super().__init__()
        self.done: set[int] = set()
        self._changed = asyncio.Condition()

    async def do_process_update(self, update: object, coroutine: Any) -> None:
        try:
            await super().do_process_update(update, coroutine)
        finally:
            update_id = getattr(update, "update_id", None)
            async with self._changed:
                if update_id is not None:
                    self.done.add(update_id)
                self._changed.notify_all()

    async def wait_done(self, update_id: int, timeout: float = WAIT_SECONDS) -> None:
        async with self._changed:
            await asyncio.wait_for(self._changed.wait_for(lambda: update_id in self.done), timeout)


def storage_settings(database: Path | str) -> dict[str, str]:
    """The [storage] settings for `database`: a PostgreSQL URL, or an SQLite file (`sqlite:`
    optional), as a test or a benchmark names it."""
    target = str(database)
    return {"url": target} if is_postgres_url(target) else {"path": target.removeprefix("sqlite:")}


def storage_toml(database: Path | str) -> str:
    """The [storage] section of a configuration file for `consultbot` on `database`."""
    ((key, value),) = storage_settings(database).items()
    return f'[storage]\n{key} = "{value}"\n'


def make_config(database: Path | str, base_url: str, **sections: dict[str, Any]) -> Config:
    """The bot's configuration on `database`: an SQLite file, or a PostgreSQL URL."""
    data: dict[str, Any] = {
        "telegram": {"token": TOKEN, "base_url": base_url, "poll_timeout": 1},
        "storage": storage_settings(database),
    }
    for name, values in sections.items():
        data[name] = {**data.get(name, {}), **values}
    return Config.model_validate(data)


class BotUnderTest:
    """The running bot: its application, its processor, and a way to restart it."""

    def __init__(
        self, emulator: Emulator, config: Config, clock: Clock | None = None, receive: bool = True
    ) -> None:
        self.emulator = emulator
        self.config = config
        self.clock = clock
        # False: a second process that only delivers (`consultbot run --deliver-only`).
        self.receive = receive
        self.processor = TrackingProcessor()
        self.application: ConsultApplication | None = None
        self._stack: AsyncExitStack | None = None

    async def start(self) -> None:
        self.processor = TrackingProcessor()
        self.application = build_application(self.config, self.processor, clock=self.clock)
        self._stack = AsyncExitStack()
        await self._stack.enter_async_context(
            running(self.application, self.config, receive=self.receive)
        )

    async def stop(self) -> None:
        if self._stack is not None:
            await self._stack.aclose()
            self._stack = None

    async def restart(self) -> None:
        await self.stop()
        await self.start()

    @property
    def services(self) -> Services:
        assert self.application is not None and self.application.bot_data.services is not None
        return self.application.bot_data.services

    @property
    def store(self) -> Store:
        return self.services.store

    def person(
        self,
        user_id: int,
        first_name: str = "Test",
        language_code: str | None = None,
        username: str | None = None,
    ) -> Person:
        self.emulator.create_person(user_id, first_name, language_code, username)
        return Person(self, user_id)


class Person:
    """One person in their Telegram app: what they send, press and see."""

    def __init__(self, bot: BotUnderTest, user_id: int) -> None:
        self.bot = bot
        self.id = user_id

    @property
    def _state(self) -> Any:
        return self.bot.emulator.bot(TOKEN)

    def _events(self) -> int:
        chat = self._state.chats.get(self.id)
        return len(chat.events) if chat else 0

    async def _settle(self, update_id: int, before: int) -> list[ChatMessage]:
        await self.bot.processor.wait_done(update_id)
        chat = self._state.chats[self.id]
        changed: list[int] = []
        for event in chat.events[before:]:
            if event["kind"] in ("out", "edit") and event["message_id"] not in changed:
                changed.append(event["message_id"])
        return [chat.messages[key] for key in changed]

    async def send(self, text: str) -> list[ChatMessage]:
        """Type and send a text; return the bot messages sent or edited in answer."""
        before = self._events()
        return await self._settle(self.bot.emulator.send_text(TOKEN, self.id, text), before)

    async def share_contact(self, phone: str, owner_id: int | None = None) -> list[ChatMessage]:
        before = self._events()
        update_id = self.bot.emulator.send_contact(TOKEN, self.id, phone, owner_id)
        return await self._settle(update_id, before)

    async def press(self, label: str, phone: str = "+1 555 010 0000") -> list[ChatMessage]:
        """Press the button with this label (exact, else unique substring) on the newest message.

        A reply-keyboard button sends its text, or the person's own contact if it asks for one.
        """
        newest = self.last()
        for row in (newest.reply_markup or {}).get("keyboard", []):
            for button in row:
                if label.casefold() in button["text"].casefold():
                    if button.get("request_contact"):
                        return await self.share_contact(phone)
                    return await self.send(button["text"])
        for message in reversed(self.transcript()):
            if message.direction != "out" or not message.buttons():
                continue
            buttons = message.buttons()
            exact = [b for b in buttons if b["text"] == label]
            partial = [b for b in buttons if label.casefold() in b["text"].casefold()]
            chosen = exact or partial
            if len(chosen) != 1:
                raise AssertionError(
                    f"{len(chosen)} buttons match {label!r} on the newest keyboard: "
                    f"{[b['text'] for b in buttons]}"
                )
            return await self.press_data(message.message_id, chosen[0]["callback_data"])
        raise AssertionError("no message with buttons in the chat")

    async def press_data(
        self, message_id: int, data: str, forge: bool = False
    ) -> list[ChatMessage]:
        before = self._events()
        update_id = self.bot.emulator.press(TOKEN, self.id, message_id, data, forge=forge)
        return await self._settle(update_id, before)

    def transcript(self) -> list[ChatMessage]:
        return self.bot.emulator.transcript(TOKEN, self.id)

    def last(self) -> ChatMessage:
        """The newest message from the bot."""
        return [m for m in self.transcript() if m.direction == "out" and not m.deleted][-1]

    def last_text(self) -> str:
        return self.last().text or ""

    def buttons(self) -> list[str]:
        return [button["text"] for button in self.last().buttons()]

    def callback_answer(self) -> str | None:
        answers = self._state.callback_answers
        return answers[max(answers, key=int)].get("text") if answers else None


@asynccontextmanager
async def bot_running(
    emulator: Emulator, config: Config, clock: Clock | None = None, receive: bool = True
) -> AsyncIterator[BotUnderTest]:
    bot = BotUnderTest(emulator, config, clock, receive)
    await bot.start()
    try:
        yield bot
    finally:
        await bot.stop()


# ---- factories: people and notices put straight in the database ---------------------------------


async def add_member(bot: BotUnderTest, telegram_id: int, language: str, **fields: Any) -> int:
    """A registered member straight in the database (their registration is tested elsewhere)."""
    bot.emulator.create_person(telegram_id, f"Member {telegram_id}", language)
    store = bot.store
    member = await store.members.create_with_consent(
        telegram_id, fields.pop("username", None), language, "2026-11", "test", "name"
    )
    profile = {
        "status": "active",
        "step": None,
        "name": f"Member {telegram_id}",
        "country": "US",
        "region": "TX",
        "city": "Houston",
        "time_zone": "America/Chicago",
        "sector": "diaspora-association",
        "themes": ("protection",),
        **fields,
    }
    await store.members.update(member.id, profile)
    return member.id


async def add_coordinator(bot: BotUnderTest, telegram_id: int = 300) -> Person:
    """Marisol, a Spanish-speaking member made coordinator by the config admin (9000)."""
    await add_member(bot, telegram_id, "es", name="Marisol", username="marisol")
    marisol = bot.person(telegram_id, "Marisol", "es", username="marisol")
    admin = bot.person(9000, "Admin", "en")
    await admin.send("/grant @marisol coordinator")
    assert "granted" in admin.last_text()
    return marisol


def notices(bot: BotUnderTest, telegram_id: int, marker: str) -> list[str]:
    """The texts the bot sent this person that contain the marker."""
    chat = bot.emulator.bot(TOKEN).chats.get(telegram_id)
    if chat is None:
        return []
    return [
        m.text or ""
        for m in chat.messages.values()
        if m.direction == "out" and marker in (m.text or "")
    ]


async def wait_until_done(bot: BotUnderTest, broadcast_id: int, timeout: float = 30) -> None:
    """Wait for the delivery worker to finish a notice; fail with its counts if it does not."""
    deadline = asyncio.get_running_loop().time() + timeout
    while asyncio.get_running_loop().time() < deadline:
        broadcast = await bot.store.broadcasts.get(broadcast_id)
        if broadcast is not None and broadcast.status == "done":
            return
        await asyncio.sleep(0.05)
    raise AssertionError(
        f"broadcast {broadcast_id} not done: {await bot.store.broadcasts.counts(broadcast_id)}"
    )
