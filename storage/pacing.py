"""The send budget several bot processes share: Telegram counts sends per token, not per process."""

from __future__ import annotations

from storage.db import Database

# Reserve `seconds` of sending time after the next free slot; give back how long to wait for it.
# The database server's clock is the one clock every worker shares.
_RESERVE = (
    "UPDATE send_budget SET next_slot = GREATEST(next_slot,"
    " extract(epoch FROM clock_timestamp())) + CAST(? AS DOUBLE PRECISION) WHERE id = 1"
    " RETURNING next_slot - CAST(? AS DOUBLE PRECISION) - extract(epoch FROM clock_timestamp())"
)


class SendBudgetRepository:
    """Windows of sending time, handed out in turn to the workers that deliver notices."""

    def __init__(self, database: Database) -> None:
        self._db = database

    async def reserve(self, seconds: float) -> float:
        """Book `seconds` of sending; the seconds to wait before the booked window starts."""
        # Alone on its database (one process writes an SQLite file) its own pacer is the budget.
        if not self._db.shared or seconds <= 0:
            return 0.0
        row = await self._db.write_returning(_RESERVE, (seconds, seconds))
        return max(0.0, float(row[0])) if row else 0.0
