"""Meetings, answers with capacity and waitlist, check-in, and the reminder rows."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from storage import meeting_answers as seats
from storage.audience import audience_sql, rsvp_member_ids_sql
from storage.db import Database, Row, from_db_time, to_db_time
from storage.meeting_reminders import ReminderRows, insert_reminders
from storage.models import (
    AudienceFilter,
    Meeting,
    Recipient,
    Rsvp,
    RsvpAnswer,
    RsvpCounts,
    RsvpOutcome,
)

_MEETING_FIELDS = frozenset(
    {
        "titles",
        "descriptions",
        "start_at",
        "zone",
        "local_start",
        "duration_minutes",
        "online_url",
        "venue",
        "capacity",
        "rsvp_deadline",
        "reminders",
        "audience",
        "round",
        "theme",
        "status",
        "minutes",
        "minutes_file_id",
    }
)


def _meeting(row: Row) -> Meeting:
    data = dict(row)
    for key in ("titles", "descriptions"):
        data[key] = json.loads(data[key])
    data["reminders"] = tuple(json.loads(data["reminders"]))
    data["audience"] = AudienceFilter.model_validate(json.loads(data["audience"]))
    for key in ("start_at", "created_at", "rsvp_deadline"):
        if data[key] is not None:
            data[key] = from_db_time(data[key])
    return Meeting.model_validate(data)


_rsvp = seats.to_rsvp


@dataclass(frozen=True)
class _Sql:
    """What differs between the backends: a meeting's end compared with an instant.

    SQLite's datetime() and PostgreSQL's timestamptz arithmetic, both to the whole second.
    """

    listing_since: str
    past_of_member: str


def _queries(ends: str, instant: str) -> _Sql:
    return _Sql(
        listing_since=f"SELECT * FROM meetings WHERE {ends.format(m='')} >= {instant}"
        " ORDER BY start_at, id LIMIT ?",
        past_of_member="SELECT m.* FROM meetings m JOIN rsvps r ON r.meeting_id = m.id"
        f" WHERE r.member_id = ? AND m.status != 'cancelled' AND {ends.format(m='m.')} < {instant}"
        " ORDER BY m.start_at DESC LIMIT ?",
    )


_SQLITE = _queries("datetime({m}start_at, '+' || {m}duration_minutes || ' minutes')", "datetime(?)")
_POSTGRES = _queries(
    "date_trunc('second', CAST({m}start_at AS timestamptz)"
    " + {m}duration_minutes * INTERVAL '1 minute')",
    "date_trunc('second', CAST(CAST(? AS TEXT) AS timestamptz))",
)


def _value(key: str, value: Any) -> Any:
    if key in ("titles", "descriptions"):
        return json.dumps(dict(value), ensure_ascii=False)
    if key == "reminders":
        return json.dumps(list(value))
    if key == "audience":
        return value.model_dump_json() if isinstance(value, AudienceFilter) else json.dumps(value)
    if isinstance(value, datetime):
        return to_db_time(value)
    return value


class MeetingsRepository(ReminderRows):
    """Meetings and their answers; the reminder rows' queries come from `ReminderRows`."""

    def __init__(self, database: Database) -> None:
        self._db = database
        self._sql = _POSTGRES if database.dialect == "postgresql" else _SQLITE

    async def create(
        self,
        fields: Mapping[str, Any],
        created_by: str,
        created_at: datetime,
        checkin_code: str,
        offsets: Iterable[int],
    ) -> Meeting:
        """Insert the meeting and its reminder rows in one transaction."""
        unknown = set(fields) - _MEETING_FIELDS - {"kind"}
        if unknown:
            raise ValueError(f"not a meeting field: {sorted(unknown)}")
        columns = [*fields, "created_by", "created_at", "checkin_code"]
        values = [_value(key, value) for key, value in fields.items()]
        values += [created_by, to_db_time(created_at), checkin_code]
        async with self._db.transaction() as conn:
            inserted = await conn.fetch_one(
                f"INSERT INTO meetings ({', '.join(columns)})"
                f" VALUES ({', '.join('?' for _ in columns)}) RETURNING id",
                values,
            )
            assert inserted is not None
            meeting_id = int(inserted[0])
            await insert_reminders(conn, meeting_id, fields["start_at"], offsets, created_at)
        created = await self.get(meeting_id)
        assert created is not None
        return created

    async def in_audience(self, audience: AudienceFilter, member_id: int) -> bool:
        """Whether the member is (still) among the meeting's invited audience."""
        sql, parameters = audience_sql(audience, self._db.dialect)
        row = await self._db.fetch_one(
            "SELECT 1 " + sql + " AND m.id = ?", (*parameters, member_id)
        )
        return row is not None

    async def recipient_by_actor(self, actor: str) -> Recipient | None:
        """The reachable member behind an actor pseudonym (operators have no chat of their own)."""
        row = await self._db.fetch_one(
            "SELECT id AS member_id, telegram_id, language, time_zone FROM members"
            " WHERE pseudonym = ? AND status = 'active' AND telegram_id IS NOT NULL",
            (actor,),
        )
        return Recipient.model_validate(dict(row)) if row else None

    async def code_exists(self, code: str) -> bool:
        row = await self._db.fetch_one("SELECT 1 FROM meetings WHERE checkin_code = ?", (code,))
        return row is not None

    async def get(self, meeting_id: int) -> Meeting | None:
        row = await self._db.fetch_one("SELECT * FROM meetings WHERE id = ?", (meeting_id,))
        return _meeting(row) if row else None

    async def by_code(self, code: str) -> Meeting | None:
        row = await self._db.fetch_one(
            "SELECT * FROM meetings WHERE checkin_code = ?", (code.strip().upper(),)
        )
        return _meeting(row) if row else None

    async def listing(self, since: datetime | None = None, limit: int = 100) -> list[Meeting]:
        """Meetings ending after `since` (all if None), soonest first."""
        if since is None:
            rows = await self._db.fetch_all(
                "SELECT * FROM meetings ORDER BY start_at, id LIMIT ?", (limit,)
            )
        else:
            rows = await self._db.fetch_all(self._sql.listing_since, (to_db_time(since), limit))
        return [_meeting(row) for row in rows]

    async def past_of_member(self, member_id: int, now: datetime, limit: int) -> list[Meeting]:
        """Meetings the member answered that have ended (not cancelled), latest first."""
        rows = await self._db.fetch_all(
            self._sql.past_of_member, (member_id, to_db_time(now), limit)
        )
        return [_meeting(row) for row in rows]

    async def answered_people(self, meeting_id: int) -> list[tuple[Rsvp, str | None]]:
        """Every answer with the member's name (None once erased): seats, line, maybe, no."""
        rows = await self._db.fetch_all(
            "SELECT r.*, m.name AS member_name FROM rsvps r JOIN members m ON m.id = r.member_id"
            " WHERE r.meeting_id = ? ORDER BY (r.answer = 'yes' AND r.waitlist_position IS NULL)"
            " DESC, r.waitlist_position IS NULL, r.waitlist_position, r.answer = 'no',"
            " lower(coalesce(m.name, '')), r.member_id",
            (meeting_id,),
        )
        people = []
        for row in rows:
            data = dict(row)
            name = data.pop("member_name")
            people.append((_rsvp(data), name))
        return people

    async def audience_names(self, audience: AudienceFilter) -> list[tuple[int, str]]:
        """(member id, name) of every invited member with a name, for a search by name."""
        sql, parameters = audience_sql(audience, self._db.dialect)
        rows = await self._db.fetch_all(
            "SELECT m.id, m.name " + sql + " AND m.name IS NOT NULL ORDER BY m.id", parameters
        )
        return [(int(row[0]), str(row[1])) for row in rows]

    async def update(self, meeting_id: int, fields: Mapping[str, Any]) -> Meeting:
        await self._db.update_columns("meetings", meeting_id, fields, _MEETING_FIELDS, _value)
        updated = await self.get(meeting_id)
        assert updated is not None
        return updated

    async def reschedule(
        self,
        meeting_id: int,
        fields: Mapping[str, Any],
        offsets: Iterable[int],
        now: datetime,
    ) -> Meeting:
        """New time: fields change, sequence +1, old pending reminders skipped, new ones added."""
        assignments = ", ".join(f"{key} = ?" for key in fields)
        values = [_value(key, value) for key, value in fields.items()]
        async with self._db.transaction() as conn:
            await conn.execute(
                f"UPDATE meetings SET {assignments}, sequence = sequence + 1 WHERE id = ?",
                (*values, meeting_id),
            )
            await conn.execute(
                "UPDATE meeting_reminders SET state = 'skipped' WHERE meeting_id = ?"
                " AND state = 'pending'",
                (meeting_id,),
            )
            await insert_reminders(conn, meeting_id, fields["start_at"], offsets, now)
        updated = await self.get(meeting_id)
        assert updated is not None
        return updated

    async def cancel(self, meeting_id: int) -> Meeting | None:
        """Cancelled, sequence +1, pending reminders skipped; None if it was not scheduled."""
        async with self._db.transaction() as conn:
            changed = await conn.execute(
                "UPDATE meetings SET status = 'cancelled', sequence = sequence + 1"
                " WHERE id = ? AND status = 'scheduled'",
                (meeting_id,),
            )
            await conn.execute(
                "UPDATE meeting_reminders SET state = 'skipped' WHERE meeting_id = ?"
                " AND state = 'pending'",
                (meeting_id,),
            )
        return await self.get(meeting_id) if changed else None

    # --- answers -----------------------------------------------------------------------------

    async def answer(
        self, meeting_id: int, member_id: int, answer: RsvpAnswer, now: datetime
    ) -> RsvpOutcome:
        """Record an answer in ONE transaction: seats, waitlist, promotion and capacity alerts."""
        return await seats.answer(self._db, meeting_id, member_id, answer, now)

    async def rsvp_of(self, meeting_id: int, member_id: int) -> Rsvp | None:
        row = await self._db.fetch_one(
            "SELECT * FROM rsvps WHERE meeting_id = ? AND member_id = ?", (meeting_id, member_id)
        )
        return _rsvp(row) if row else None

    async def rsvps_of_member(self, member_id: int) -> list[Rsvp]:
        rows = await self._db.fetch_all(
            "SELECT * FROM rsvps WHERE member_id = ? ORDER BY meeting_id", (member_id,)
        )
        return [_rsvp(row) for row in rows]

    async def waitlist_rank(self, meeting_id: int, member_id: int) -> int | None:
        row = await self._db.fetch_one(
            "SELECT (SELECT count(*) FROM rsvps w WHERE w.meeting_id = r.meeting_id"
            " AND w.waitlist_position IS NOT NULL AND w.waitlist_position <= r.waitlist_position)"
            " FROM rsvps r WHERE r.meeting_id = ? AND r.member_id = ?"
            " AND r.waitlist_position IS NOT NULL",
            (meeting_id, member_id),
        )
        return int(row[0]) if row else None

    async def counts(self, meeting_id: int) -> RsvpCounts:
        row = await self._db.fetch_one(
            "SELECT count(*) FILTER (WHERE answer = 'yes' AND waitlist_position IS NULL),"
            " count(*) FILTER (WHERE answer = 'maybe'), count(*) FILTER (WHERE answer = 'no'),"
            " count(*) FILTER (WHERE waitlist_position IS NOT NULL),"
            " count(*) FILTER (WHERE checked_in_at IS NOT NULL) FROM rsvps WHERE meeting_id = ?",
            (meeting_id,),
        )
        if row is None:
            return RsvpCounts()
        values = [int(row[index] or 0) for index in range(5)]
        return RsvpCounts(
            yes=values[0], maybe=values[1], no=values[2], waitlist=values[3], checked_in=values[4]
        )

    async def waitlist(self, meeting_id: int) -> list[Rsvp]:
        """Those waiting for a seat, first in line first."""
        rows = await self._db.fetch_all(
            "SELECT * FROM rsvps WHERE meeting_id = ? AND waitlist_position IS NOT NULL"
            " ORDER BY waitlist_position",
            (meeting_id,),
        )
        return [_rsvp(row) for row in rows]

    async def answers(self, meeting_id: int) -> list[Rsvp]:
        rows = await self._db.fetch_all(
            "SELECT * FROM rsvps WHERE meeting_id = ? ORDER BY answered_at, member_id",
            (meeting_id,),
        )
        return [_rsvp(row) for row in rows]

    async def recipients(self, meeting_id: int, answers: Sequence[str]) -> list[Recipient]:
        """Reachable members whose answer is one of `answers` (see rsvp_member_ids_sql)."""
        fragment, parameters = rsvp_member_ids_sql(meeting_id, answers)
        rows = await self._db.fetch_all(
            "SELECT m.id AS member_id, m.telegram_id, m.language, m.time_zone FROM members m"
            f" WHERE {fragment} AND m.status = 'active' AND m.telegram_id IS NOT NULL"
            " AND m.unreachable = 0 ORDER BY m.id",
            parameters,
        )
        return [Recipient.model_validate(dict(row)) for row in rows]

    async def check_in(
        self, meeting_id: int, member_id: int, by: str, now: datetime
    ) -> seats.CheckIn:
        """Attendance within the seats: a walk-in takes a free seat, else waits in line."""
        return await seats.check_in(self._db, meeting_id, member_id, by, now)

    async def undo_check_in(self, meeting_id: int, member_id: int) -> bool:
        """A mark made by mistake taken back (the seat stays); False if there was none."""
        changed = await self._db.execute(
            "UPDATE rsvps SET checked_in_at = NULL, checked_in_by = NULL"
            " WHERE meeting_id = ? AND member_id = ? AND checked_in_at IS NOT NULL",
            (meeting_id, member_id),
        )
        return changed > 0

    async def member_id_by_pseudonym(self, pseudonym: str) -> int | None:
        """The member behind a pseudonym an organiser typed (to mark attendance)."""
        row = await self._db.fetch_one(
            "SELECT id FROM members WHERE pseudonym = ? AND status = 'active'", (pseudonym,)
        )
        return int(row[0]) if row else None

    async def attendees(self, meeting_id: int) -> list[Rsvp]:
        rows = await self._db.fetch_all(
            "SELECT * FROM rsvps WHERE meeting_id = ? AND checked_in_at IS NOT NULL"
            " ORDER BY checked_in_at, member_id",
            (meeting_id,),
        )
        return [_rsvp(row) for row in rows]

    async def member_cities(self) -> list[str]:
        """Each city active members live in, as they spelled it (to read a typed audience)."""
        rows = await self._db.fetch_all(
            "SELECT DISTINCT city FROM members WHERE status = 'active' AND city IS NOT NULL"
            " ORDER BY city"
        )
        return [str(row[0]) for row in rows]
