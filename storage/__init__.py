"""Everything consultbot keeps, in one SQLite file; SQL lives only in this package."""

from __future__ import annotations

from pathlib import Path

from storage.associations import AssociationsRepository
from storage.broadcasts import BroadcastsRepository
from storage.conversations import ActorsRepository, ConversationsRepository
from storage.db import Clock, Database, DatabaseTooNewError
from storage.evidence import EvidenceRepository
from storage.exports import ExportsRepository
from storage.inbox import InboxRepository
from storage.meetings import MeetingsRepository
from storage.members import MembersRepository
from storage.notices import NoticesRepository
from storage.personal import PersonalDataRepository
from storage.record import RecordRepository
from storage.roles import AuditRepository, RolesRepository
from storage.surveys import SurveysRepository


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
        self.conversations = ConversationsRepository(database)
        self.actors = ActorsRepository(database)
        self.surveys = SurveysRepository(database)
        self.record = RecordRepository(database)
        self.evidence = EvidenceRepository(database)
        self.exports = ExportsRepository(database)
        self.personal = PersonalDataRepository(database)

    @classmethod
    async def open(cls, path: Path, clock: Clock) -> Store:
        """Open the database; every instant storage stamps is read from `clock`."""
        return cls(await Database.open(path, clock))

    async def close(self) -> None:
        await self.database.close()


__all__ = ["DatabaseTooNewError", "Store"]
