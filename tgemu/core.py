"""The emulator's state: bots, people, chats, update queues, flood control and injected faults."""

from __future__ import annotations

import asyncio
import itertools
import math
import random
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

SEND_METHODS = frozenset(
    {
        "sendmessage",
        "senddocument",
        "sendphoto",
        "sendlocation",
        "sendcontact",
        "copymessage",
        "forwardmessage",
        "sendmediagroup",
        "sendpoll",
        "sendvideo",
        "sendaudio",
        "sendvoice",
        "sendsticker",
    }
)


class ApiError(Exception):
    """An answer with ok=false, as Telegram sends it."""

    def __init__(self, code: int, description: str, retry_after: int | None = None) -> None:
        super().__init__(description)
        self.code = code
        self.description = description
        self.retry_after = retry_after

    def payload(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "ok": False,
            "error_code": self.code,
            "description": self.description,
        }
        if self.retry_after is not None:
            body["parameters"] = {"retry_after": self.retry_after}
        return body


class TokenBucket:
    """Refills ``rate`` tokens a second up to ``burst``; ``take`` says how long to wait if empty."""

    def __init__(self, rate: float, burst: float) -> None:
        self.rate = rate
        self.burst = burst
        self.tokens = burst
        self.stamp = time.monotonic()

    def take(self) -> float:
        now = time.monotonic()
        self.tokens = min(self.burst, self.tokens + (now - self.stamp) * self.rate)
        self.stamp = now
        if self.tokens >= 1:
            self.tokens -= 1
            return 0.0
        return (1 - self.tokens) / self.rate


@dataclass
class Limits:
    """Flood control; None switches a limit off."""

    global_rate: float | None = 30.0
    per_chat_rate: float | None = 1.0
    per_chat_burst: float = 5.0
    paid_rate: float = 1000.0


@dataclass
class Faults:
    """Injected failures: the next N calls fail, a share of calls fail, or every answer is slow."""

    fail_next: int = 0
    fail_status: int = 502
    error_rate: float = 0.0
    flood_rate: float = 0.0
    delay_seconds: float = 0.0
    methods: frozenset[str] | None = None  # None: every method

    def applies(self, method: str) -> bool:
        return self.methods is None or method in self.methods


@dataclass
class Person:
    id: int
    first_name: str
    last_name: str | None = None
    username: str | None = None
    language_code: str | None = None

    def as_user(self) -> dict[str, Any]:
        user: dict[str, Any] = {"id": self.id, "is_bot": False, "first_name": self.first_name}
        for key in ("last_name", "username", "language_code"):
            if getattr(self, key):
                user[key] = getattr(self, key)
        return user

    def as_chat(self) -> dict[str, Any]:
        chat: dict[str, Any] = {"id": self.id, "type": "private", "first_name": self.first_name}
        if self.username:
            chat["username"] = self.username
        return chat


@dataclass
class Group:
    """A group, supergroup or channel the bot is in (ids are negative, as Telegram's)."""

    id: int
    title: str
    type: str = "group"  # "group", "supergroup" or "channel"

    def as_chat(self) -> dict[str, Any]:
        return {"id": self.id, "type": self.type, "title": self.title}


@dataclass
class ChatMessage:
    """One message in a chat, as both sides see it now (edits replace text and keyboard)."""

    message_id: int
    direction: str  # "in" (person -> bot) or "out" (bot -> person)
    date: int
    text: str | None = None
    html: str | None = None
    entities: list[dict[str, Any]] | None = None  # of the text, or of a document's caption
    reply_markup: dict[str, Any] | None = None
    document: dict[str, Any] | None = None
    # A photo's sizes, as Telegram lists them (the emulator keeps the one size it was sent).
    photo: list[dict[str, Any]] | None = None
    contact: dict[str, Any] | None = None
    location: dict[str, Any] | None = None
    deleted: bool = False
    edits: int = 0
    # What the person saw before each edit (text, reply markup), oldest first.
    earlier: list[tuple[str | None, dict[str, Any] | None]] = field(default_factory=list)

    def buttons(self) -> list[dict[str, Any]]:
        """The inline buttons, row by row, flattened."""
        if not self.reply_markup or "inline_keyboard" not in self.reply_markup:
            return []
        return [button for row in self.reply_markup["inline_keyboard"] for button in row]

    def edit(
        self,
        markup: dict[str, Any] | None,
        text: str | None = None,
        html: str | None = None,
        entities: list[dict[str, Any]] | None = None,
    ) -> None:
        """Show new buttons (and a new text if given), keeping what the old version showed."""
        self.earlier.append((self.text, self.reply_markup))
        if text is not None:
            self.text, self.html, self.entities = text, html, entities
        self.reply_markup = markup
        self.edits += 1

    def as_dict(self) -> dict[str, Any]:
        return {key: value for key, value in self.__dict__.items() if value not in (None, [])}


@dataclass(frozen=True)
class Shown:
    """One text a person saw from a bot: a message's text or caption, a button, a pop-up."""

    chat_id: int | None  # None: a pop-up (answerCallbackQuery) or the command menu
    message_id: int | None
    version: int  # 0 for the message as first sent, n after its n-th edit
    where: str  # "text", "button", "pop-up" or "commands"
    text: str


def _labels(markup: dict[str, Any] | None) -> list[str]:
    """The labels of inline and reply keyboard buttons."""
    rows = (markup or {}).get("inline_keyboard") or (markup or {}).get("keyboard") or []
    return [str(button.get("text", button)) for row in rows for button in row]


@dataclass
class Chat:
    person: Person
    messages: dict[int, ChatMessage] = field(default_factory=dict)
    events: list[dict[str, Any]] = field(default_factory=list)
    blocked: bool = False
    bucket: TokenBucket | None = None
    changed: asyncio.Event = field(default_factory=asyncio.Event)
    reply_keyboard: dict[str, Any] | None = None
    group: Group | None = None  # None: the private chat with `person`

    def as_chat(self) -> dict[str, Any]:
        return self.group.as_chat() if self.group is not None else self.person.as_chat()

    def notify(self, event: dict[str, Any]) -> None:
        self.events.append(event)
        self.changed.set()
        self.changed = asyncio.Event()


@dataclass
class Webhook:
    url: str
    secret_token: str | None


class BotState:
    """Everything one bot token owns: its identity, its update queue, its chats."""

    def __init__(self, token: str, bot_id: int, limits: Limits) -> None:
        self.token = token
        self.user = {
            "id": bot_id,
            "is_bot": True,
            "first_name": "Consultbot",
            "username": f"consult_{bot_id}_bot",
            "can_join_groups": False,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
        }
        self.limits = limits
        self.updates: list[dict[str, Any]] = []
        self.history: dict[int, dict[str, Any]] = {}  # every update ever queued, by id
        self.next_update_id = 1
        self.confirmed_update_id = 0
        self.updates_arrived = asyncio.Event()
        self.chats: dict[int, Chat] = {}
        self.commands: dict[str, list[dict[str, Any]]] = {}
        self.webhook: Webhook | None = None
        self.active_poll: asyncio.Event | None = None
        self.reset_buckets()
        self.files: dict[str, tuple[str, bytes]] = {}
        self.callback_answers: dict[str, dict[str, Any]] = {}
        self.sends = 0
        self.floods = 0
        self.calls: dict[str, int] = {}
        self.errors: list[tuple[str, int, str]] = []  # (method, status, description) answered
        self._message_ids = itertools.count(1)
        self._file_ids = itertools.count(1)

    def shown(self) -> Iterator[Shown]:
        """Every text people saw from this bot, deleted messages and replaced versions included."""
        for chat_id, chat in self.chats.items():
            for message in chat.messages.values():
                if message.direction != "out":
                    continue
                versions = [*message.earlier, (message.text, message.reply_markup)]
                for version, (text, markup) in enumerate(versions):
                    where = message.message_id
                    if text:
                        yield Shown(chat_id, where, version, "text", text)
                    for label in _labels(markup):
                        yield Shown(chat_id, where, version, "button", label)
        for answer in self.callback_answers.values():
            if answer.get("text"):
                yield Shown(None, None, 0, "pop-up", str(answer["text"]))
        for commands in self.commands.values():
            for command in commands:
                yield Shown(None, None, 0, "commands", str(command.get("description", "")))

    def typed(self) -> Iterator[str]:
        """Every text people sent this bot: messages, edits, captions, file and contact names."""
        for update in self.history.values():
            for kind in ("message", "edited_message", "channel_post"):
                message = update.get(kind) or {}
                yield from (message[key] for key in ("text", "caption") if message.get(key))
                if name := (message.get("document") or {}).get("file_name"):
                    yield str(name)
                if name := (message.get("contact") or {}).get("first_name"):
                    yield str(name)

    def reset_buckets(self) -> None:
        """Start flood control afresh from the current limits."""
        rate = self.limits.global_rate or 1.0
        self.global_bucket = TokenBucket(rate, max(1.0, rate))
        self.paid_bucket = TokenBucket(self.limits.paid_rate, self.limits.paid_rate)
        for chat in self.chats.values():
            chat.bucket = None

    def new_message_id(self) -> int:
        return next(self._message_ids)

    def store_file(self, name: str, content: bytes) -> dict[str, Any]:
        number = next(self._file_ids)
        file_id = f"file-{number}"
        self.files[file_id] = (name, content)
        return {"file_id": file_id, "file_unique_id": f"u{number}", "file_size": len(content)}

    def push_update(self, update: dict[str, Any]) -> int:
        update_id = self.next_update_id
        self.next_update_id += 1
        self.updates.append({"update_id": update_id, **update})
        self.history[update_id] = self.updates[-1]
        self.updates_arrived.set()
        return update_id

    def redeliver(self, update_id: int) -> None:
        """Queue an update again, as Telegram does when it never saw the offset confirm it."""
        self.updates.append(self.history[update_id])
        self.updates.sort(key=lambda update: int(update["update_id"]))
        self.updates_arrived.set()

    def pending_updates(self, offset: int | None, limit: int) -> list[dict[str, Any]]:
        if offset is not None:
            if offset < 0:
                self.updates = self.updates[offset:]
            else:
                self.updates = [u for u in self.updates if u["update_id"] >= offset]
                self.confirmed_update_id = max(self.confirmed_update_id, offset - 1)
        if not self.updates:
            self.updates_arrived.clear()
        return self.updates[:limit]

    def check_flood(self, method: str, chat_id: int | None, paid: bool) -> None:
        """Raise a 429 with retry_after when this send would exceed Telegram's limits."""
        if method not in SEND_METHODS:
            return
        waits = []
        if paid:
            waits.append(self.paid_bucket.take())
        elif self.limits.global_rate is not None:
            waits.append(self.global_bucket.take())
        chat = self.chats.get(chat_id) if chat_id is not None else None
        if chat is not None and self.limits.per_chat_rate is not None:
            if chat.bucket is None:
                chat.bucket = TokenBucket(self.limits.per_chat_rate, self.limits.per_chat_burst)
            waits.append(chat.bucket.take())
        wait = max(waits, default=0.0)
        if wait > 0:
            self.floods += 1
            retry_after = max(1, math.ceil(wait))
            raise ApiError(429, f"Too Many Requests: retry after {retry_after}", retry_after)


def roll(probability: float) -> bool:
    return probability > 0 and random.random() < probability
