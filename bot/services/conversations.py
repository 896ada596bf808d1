"""Active conversations: one per person, the flow that owns their free text, Back and /cancel."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from storage import Store
from storage.models import Conversation


class ConversationsService:
    """Start, move and end a person's active conversation (kept in the database across restarts)."""

    def __init__(self, store: Store) -> None:
        self._store = store

    async def get(self, telegram_id: int) -> Conversation | None:
        return await self._store.conversations.get(telegram_id)

    async def save(
        self, telegram_id: int, flow: str, step: str, state: Mapping[str, Any]
    ) -> Conversation:
        """Start or move the person's conversation; it replaces whatever flow they were in."""
        return await self._store.conversations.save(telegram_id, flow, step, state)

    async def end(self, telegram_id: int, flow: str | None = None) -> bool:
        """End the person's conversation (only if it belongs to `flow`, when given)."""
        return await self._store.conversations.end(telegram_id, flow)
