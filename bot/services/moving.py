"""Moving a consultation to another database (`consultbot db copy`)."""

from __future__ import annotations

from bot.clock import Clock
from storage import Store
from storage.copy import Copied, CopyRefusedError, copy_database

__all__ = ["Copied", "CopyRefusedError", "copy_consultation"]


async def copy_consultation(source: str, destination: str, clock: Clock) -> list[Copied]:
    """Open both databases (migrating the destination), copy every table, count both sides."""
    origin = await Store.open(source, clock)
    try:
        target = await Store.open(destination, clock)
        try:
            return await copy_database(origin.database, target.database)
        finally:
            await target.close()
    finally:
        await origin.close()
