"""The chats as the page sees them (a snapshot, then what changed) and what people do in them."""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass, field
from typing import Any

from tgemu.core import Chat

from . import view
from .runtime import TOKEN, Sandbox

MAX_DOCUMENT = 20 * 1024 * 1024  # what a bot may download from Telegram
# While a press waits for the bot's answer (a pop-up changes no chat), look this often.
POP_UP_POLL = 0.05
# A press the bot has not answered by then is no longer waited for (Telegram's own limit).
UNANSWERED_SECONDS = 15.0


@dataclass
class Cursor:
    """How far the page has read: the sandbox's generation, each chat's events, pop-ups."""

    generation: int = 0
    events: dict[int, int] = field(default_factory=dict)
    toasts: int = 0
    clock: str = ""
    people: int = 0

    @classmethod
    def of(cls, data: dict[str, Any]) -> Cursor:
        events = {int(key): int(value) for key, value in dict(data.get("events", {})).items()}
        return cls(
            int(data.get("generation", 0)),
            events,
            int(data.get("toasts", 0)),
            str(data.get("clock", "")),
            int(data.get("people", 0)),
        )

    def as_json(self) -> dict[str, Any]:
        return {
            "generation": self.generation,
            "events": {str(key): value for key, value in self.events.items()},
            "toasts": self.toasts,
            "clock": self.clock,
            "people": self.people,
        }


class Chats:
    """Reads the emulator's chats for the page and acts in them as the people."""

    def __init__(self, sandbox: Sandbox) -> None:
        self.sandbox = sandbox
        self.toasts: list[dict[str, Any]] = []
        # callback query id -> (who pressed, when): presses the bot has not answered yet
        self._pressed: dict[str, tuple[int, float]] = {}
        self._dismissed: dict[int, int] = {}  # person -> id() of a one-time keyboard used
        self._generation = 0

    def _chat(self, person_id: int) -> Chat:
        emulator = self.sandbox.emu()
        return emulator.chat(emulator.bot(TOKEN), person_id)

    def _fresh(self) -> None:
        """A new generation (start or reset) begins with no pop-ups and no presses."""
        if self._generation != self.sandbox.generation:
            self._generation = self.sandbox.generation
            self.toasts, self._pressed, self._dismissed = [], {}, {}

    def clock(self) -> dict[str, Any]:
        offset = self.sandbox.clock.offset
        return {"now": self.sandbox.clock.now().isoformat(), "offset": offset.total_seconds()}

    def keyboard(self, person_id: int) -> dict[str, Any] | None:
        markup = self._chat(person_id).reply_keyboard
        if markup is None or self._dismissed.get(person_id) == id(markup):
            return None
        return view.reply_keyboard(markup)

    def cursor(self) -> Cursor:
        return Cursor(
            self.sandbox.generation,
            {p.id: len(self._chat(p.id).events) for p in self.sandbox.people},
            len(self.toasts),
            str(self.sandbox.clock.offset.total_seconds()),
            len(self.sandbox.people),
        )

    def snapshot(self) -> dict[str, Any]:
        """Everything the page shows, for its first load (or after a reset)."""
        self._fresh()
        bot_time = self.sandbox.clock.bot_time
        chats = {}
        for person in self.sandbox.people:
            messages = self._chat(person.id).messages
            chats[str(person.id)] = [
                view.message(messages[key], bot_time) for key in sorted(messages)
            ]
        return {
            "people": [person.as_json() for person in self.sandbox.people],
            "chats": chats,
            "keyboards": {str(p.id): self.keyboard(p.id) for p in self.sandbox.people},
            "clock": self.clock(),
            "cursor": self.cursor().as_json(),
        }

    async def updates(self, since: Cursor, timeout: float) -> dict[str, Any]:
        """What changed after `since`, as soon as something did (or {} after `timeout`)."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            if self.sandbox.emulator is None:  # a reset is under way: wait for the new chats
                if loop.time() >= deadline or self.sandbox.closing:
                    return {"reload": True}
                await asyncio.sleep(POP_UP_POLL)
                continue
            self._fresh()
            self._collect_pop_ups()
            now = self.cursor()
            if now.generation != since.generation:
                return {"reload": True}
            if now != since or loop.time() >= deadline or self.sandbox.closing:
                return self._changes(since, now)
            slice_ = POP_UP_POLL if self._pressed else deadline - loop.time()
            await self._wait(min(slice_, deadline - loop.time()))

    async def _wait(self, seconds: float) -> None:
        signals = [self._chat(p.id).changed for p in self.sandbox.people]
        waits = [asyncio.ensure_future(e.wait()) for e in [*signals, self.sandbox.changed]]
        try:
            await asyncio.wait(waits, timeout=max(seconds, 0), return_when=asyncio.FIRST_COMPLETED)
        finally:
            for waiting in waits:
                waiting.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await asyncio.gather(*waits, return_exceptions=True)

    def _changes(self, since: Cursor, now: Cursor) -> dict[str, Any]:
        bot_time = self.sandbox.clock.bot_time
        chats: dict[str, list[dict[str, Any]]] = {}
        for person in self.sandbox.people:
            chat = self._chat(person.id)
            touched = sorted(
                {event["message_id"] for event in chat.events[since.events.get(person.id, 0) :]}
            )
            if touched:
                chats[str(person.id)] = [
                    view.message(chat.messages[key], bot_time)
                    for key in touched
                    if key in chat.messages
                ]
        answer: dict[str, Any] = {
            "chats": chats,
            "keyboards": {str(p.id): self.keyboard(p.id) for p in self.sandbox.people},
            "toasts": self.toasts[since.toasts :],
            "clock": self.clock(),
            "cursor": now.as_json(),
        }
        if now.people != since.people:
            answer["people"] = [person.as_json() for person in self.sandbox.people]
        return answer

    def _collect_pop_ups(self) -> None:
        """Pop-ups the bot answered a press with (answerCallbackQuery), for the presser's panel."""
        answers = self.sandbox.emu().bot(TOKEN).callback_answers
        now = asyncio.get_running_loop().time()
        for query_id, (person_id, pressed_at) in list(self._pressed.items()):
            answer = answers.get(query_id)
            if answer is None:
                if now - pressed_at > UNANSWERED_SECONDS:  # Telegram gives up too
                    del self._pressed[query_id]
                continue
            del self._pressed[query_id]
            if answer.get("text"):
                self.toasts.append(
                    {
                        "person": person_id,
                        "text": str(answer["text"]),
                        "alert": bool(answer.get("show_alert")),
                    }
                )
                self.sandbox.bump()

    # ---- acting as a person ------------------------------------------------------------------
    def send(self, person_id: int, text: str) -> None:
        self.sandbox.person(person_id)
        if not text.strip():
            raise ValueError("nothing to send")
        self.sandbox.emu().send_text(TOKEN, person_id, text[:4096])

    def press(self, person_id: int, message_id: int, data: str) -> None:
        """Press an inline button the message shows (the emulator refuses any other)."""
        self.sandbox.person(person_id)
        emulator = self.sandbox.emu()
        update_id = emulator.press(TOKEN, person_id, message_id, data)
        query = emulator.bot(TOKEN).history[update_id]["callback_query"]
        self._pressed[str(query["id"])] = (person_id, asyncio.get_running_loop().time())

    def reply_button(self, person_id: int, text: str) -> None:
        """A reply-keyboard button: sends its label, or the person's own contact if it asks."""
        person = self.sandbox.person(person_id)
        markup = self._chat(person_id).reply_keyboard
        shown = view.reply_keyboard(markup)
        if markup is None or shown is None:
            raise LookupError("no keyboard is shown")
        button = next((b for row in shown["rows"] for b in row if b["text"] == text), None)
        if button is None:
            raise LookupError(f"the keyboard has no button {text!r}")
        if shown["one_time"]:
            self._dismissed[person_id] = id(markup)
        if button["contact"]:
            self.sandbox.emu().send_contact(TOKEN, person_id, person.phone)
        else:
            self.sandbox.emu().send_text(TOKEN, person_id, text)

    def send_document(self, person_id: int, name: str, content: bytes, caption: str) -> None:
        self.sandbox.person(person_id)
        if not content or len(content) > MAX_DOCUMENT:
            raise ValueError("the file is empty or larger than 20 MB")
        self.sandbox.emu().send_document(TOKEN, person_id, name, content, caption or None)

    def file(self, file_id: str) -> tuple[str, bytes]:
        """A file the bot sent or a person uploaded: its name and its bytes."""
        files = self.sandbox.emu().bot(TOKEN).files
        if file_id not in files:
            raise LookupError("no such file")
        name, content = files[file_id]
        return str(name), content
