"""Who someone is to the programme: the pseudonym that stands for them, their member row, reach."""

from __future__ import annotations

from storage import Store
from storage.models import Member


class PeopleService:
    """Identity questions handlers and the CLI ask (who-did-it is always a pseudonym)."""

    def __init__(self, store: Store) -> None:
        self._store = store

    async def actor_of(self, telegram_id: int) -> str:
        """The pseudonym recorded as 'who did it' (a member's, or an operator's for an admin)."""
        return await self._store.actors.of(telegram_id)

    async def member_by_id(self, member_id: int) -> Member | None:
        return await self._store.members.by_id(member_id)

    async def mark_reachable(self, telegram_id: int) -> None:
        """A member who blocked the bot and wrote again can receive notices again."""
        await self._store.members.set_unreachable(telegram_id, False)

    async def first_group_notice(self, chat_id: int) -> bool:
        """True the first time a group is told to write privately; False ever after."""
        return await self._store.inbox.first_group_notice(chat_id)

    async def highest_update_id(self) -> int:
        """The largest Telegram update id this database has kept (0 when none)."""
        return await self._store.inbox.highest_update_id()
