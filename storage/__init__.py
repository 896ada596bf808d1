"""Everything consultbot keeps, in one SQLite file; SQL lives only in this package."""

from __future__ import annotations

from pathlib import Path

from storage.associations import AssociationsRepository
from storage.broadcasts import BroadcastsRepository
from storage.conversations import ActorsRepository, ConversationsRepository
from storage.db import Clock, Database, DatabaseTooNewError, is_postgres_url
from storage.evidence import EvidenceRepository
from storage.exports import ExportsRepository
from storage.inbox import InboxRepository
from storage.meetings import MeetingsRepository
from storage.members import MembersRepository
from storage.notices import NoticesRepository
from storage.pacing import SendBudgetRepository
from storage.personal import PersonalDataRepository
from storage.record import RecordRepository
from storage.roles import AuditRepository, RolesRepository
from storage.sqlite import SqliteDatabase
from storage.surveys import SurveysRepository


async def open_database(target: str, clock: Clock) -> Database:
    """The backend `target` names: a postgresql:// URL, or an SQLite file (`sqlite:` optional)."""
    if is_postgres_url(target):
        # Imported here so an SQLite deployment never needs asyncpg loaded.
        from storage.postgres import PostgresDatabase

        return await PostgresDatabase.open(target, clock)
    return await SqliteDatabase.open(Path(target.removeprefix("sqlite:")), clock)


class Store:
    """The repositories over one open database."""

    def __init__(self, database: Database) -> None:
        self.database = database
        self.members = MembersRepository(database)
        self.associations = AssociationsRepository(database)
        self.roles = RolesRepository(database)
        self.audit = AuditRepository(database)
        self.broadcasts = BroadcastsRepository(database)
        self.meetings = MeetingsRepository(database)
        self.inbox = InboxRepository(database)
        self.notices = NoticesRepository(database)
        self.send_budget = SendBudgetRepository(database)
        self.conversations = ConversationsRepository(database)
        self.actors = ActorsRepository(database)
        self.surveys = SurveysRepository(database)
        self.record = RecordRepository(database)
        self.evidence = EvidenceRepository(database)
        self.exports = ExportsRepository(database)
        self.personal = PersonalDataRepository(database)

    @classmethod
    async def open(cls, target: Path | str, clock: Clock) -> Store:
        """Open and migrate the database at `target` — a PostgreSQL URL, or an SQLite file's
        path — every instant storage stamps is read from `clock`."""
        return cls(await open_database(str(target), clock))

    async def close(self) -> None:
        await self.database.close()


__all__ = ["DatabaseTooNewError", "Store"]
