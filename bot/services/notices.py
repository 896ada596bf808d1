"""The outbox as the delivery worker sees it: claim what is due, record what became of it, and
remember who refused our notices. Rendering reads the domain services (meetings, surveys…)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from storage import Store
from storage.models import OutboxRow, SendResult


class NoticesService:
    """The delivery worker's reads and writes; nothing else sends bulk messages."""

    def __init__(self, store: Store) -> None:
        self._store = store

    async def reset_in_flight(self, now: datetime) -> int:
        """Sends claimed by a process that died before recording them go back to pending."""
        return await self._store.notices.reset_in_flight(now)

    @property
    def shared(self) -> bool:
        """Whether other bot processes may deliver from the same outbox."""
        return self._store.notices.shared

    async def claim_due(self, now: datetime, limit: int) -> list[OutboxRow]:
        """Mark up to `limit` due rows as in flight by this process; return them, oldest first."""
        return await self._store.notices.claim_due(now, limit)

    async def reserve_sending(self, seconds: float) -> float:
        """Book `seconds` of the bot's sending time shared by every worker; seconds to wait."""
        return await self._store.send_budget.reserve(seconds)

    async def record(self, results: Sequence[SendResult]) -> None:
        """Store what became of each row sent (or put back for later)."""
        await self._store.notices.record(results)

    async def next_due(self) -> datetime | None:
        """When the next pending row is due (None: nothing is waiting)."""
        return await self._store.notices.next_due()

    async def mark_unreachable(self, telegram_id: int) -> None:
        """The member blocked the bot (403): no more notices until they write again."""
        await self._store.members.set_unreachable(telegram_id, True)
