"""Update processing: concurrent across people, strictly in order within one chat, bounded.

A slot (one of ``max_concurrent_updates``) is held only by an update that is running: updates
waiting behind the same chat's previous one wait on that chat's lock, outside the slots, so one
person's flood never holds up anyone else. A chat's backlog is bounded; beyond it updates are
dropped, and the person is told once (until the backlog drains) to slow down.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from telegram import Update
from telegram.ext import BaseUpdateProcessor

from storage.db import UpdateScope, current_update

logger = logging.getLogger(__name__)

MAX_BACKLOG = 20  # updates of one chat running or waiting; more are dropped
UNBOUNDED = 1_000_000

Hook = Callable[[object], Awaitable[None]]


def chat_key(update: object) -> int | None:
    if isinstance(update, Update):
        if update.effective_chat is not None:
            return update.effective_chat.id
        if update.effective_user is not None:
            return update.effective_user.id
    return None


@dataclass
class _ChatQueue:
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    holders: int = 0  # running plus waiting
    warned: bool = False  # told to slow down during this backlog


class PerChatUpdateProcessor(BaseUpdateProcessor):
    """One person's updates run one after another (their steps depend on each other);
    different people's run concurrently, so one slow answer never holds up everyone."""

    def __init__(self, max_concurrent_updates: int = 8, max_backlog: int = MAX_BACKLOG) -> None:
        # The base class takes its semaphore before do_process_update, i.e. before the chat's
        # lock, so waiting updates would hold slots; it gets a bound never reached (so its
        # max_concurrent_updates reads UNBOUNDED), and the real slots are taken after the lock.
        super().__init__(UNBOUNDED)
        self.slots = max_concurrent_updates  # updates that may run at once
        self._slots = asyncio.Semaphore(max_concurrent_updates)
        self._chats: dict[int, _ChatQueue] = {}
        self.max_backlog = max_backlog
        self.dropped = 0
        # Set by the runner once services exist: told when an update is finished (handled,
        # failed or dropped), and when a chat first goes over its backlog.
        self.on_done: Callable[[int], Awaitable[None]] | None = None
        self.on_overflow: Hook | None = None

    async def do_process_update(self, update: object, coroutine: Awaitable[Any]) -> None:
        # Finished means handled, failed (the error handler has run) or dropped; cancelled
        # (stopped midway) is not, so the update is handled again at the next start.
        key = chat_key(update)
        if key is None:
            async with self._slots:
                await self._run(update, coroutine)
        else:
            await self._in_chat_order(key, update, coroutine)

    async def _run(self, update: object, coroutine: Awaitable[Any]) -> None:
        """Handle the update, then tell `on_done` while still holding the slot.

        Holding the slot until the update is marked bounds what a kill -9 can replay: at most
        one answered-but-unmarked update per slot.
        """
        try:
            await _in_scope(update, coroutine)
        except Exception:
            await self._finished(update)
            raise
        await self._finished(update)

    async def _in_chat_order(self, key: int, update: object, coroutine: Awaitable[Any]) -> None:
        chat = self._chats.setdefault(key, _ChatQueue())
        if chat.holders >= self.max_backlog:
            self.dropped += 1
            if inspect.iscoroutine(coroutine):
                coroutine.close()  # never started: nothing to undo
            if not chat.warned and self.on_overflow is not None:
                chat.warned = True
                await self._tell(self.on_overflow, update)
            await self._finished(update)
            return
        chat.holders += 1
        try:
            async with chat.lock, self._slots:
                await self._run(update, coroutine)
        finally:
            chat.holders -= 1
            if chat.holders == 0:
                del self._chats[key]

    async def _tell(self, hook: Hook, update: object) -> None:
        try:
            await hook(update)
        except Exception:
            logger.warning("Could not tell a flooding person to slow down", exc_info=True)

    async def _finished(self, update: object) -> None:
        update_id = getattr(update, "update_id", None)
        if self.on_done is None or not isinstance(update_id, int):
            return
        try:
            await self.on_done(update_id)
        except Exception:
            # Not marked: it will be handled again after a restart, which beats losing it.
            logger.exception("Could not mark update %s handled", update_id)

    def backlog(self, key: int) -> int:
        """Updates of this chat running or waiting (0 if none)."""
        chat = self._chats.get(key)
        return chat.holders if chat else 0

    async def initialize(self) -> None:
        """Nothing to open."""

    async def shutdown(self) -> None:
        """Nothing to close."""


async def _in_scope(update: object, coroutine: Awaitable[Any]) -> None:
    """Run the handlers with the update known to storage and the transport (exactly-once)."""
    update_id = getattr(update, "update_id", None)
    token = current_update.set(UpdateScope(update_id) if isinstance(update_id, int) else None)
    try:
        await coroutine
    finally:
        current_update.reset(token)
