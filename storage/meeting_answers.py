"""Seats in one transaction each: answers (waitlist, promotion, alerts) and check-ins.

Every change of who holds a seat runs in one write transaction (`BEGIN IMMEDIATE` on SQLite, the
write lock on PostgreSQL), so two people pressing at once can never both take the last seat,
whether they answer Yes or check in at the door.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from storage.db import Database, Transaction, from_db_time, to_db_time
from storage.models import Rsvp, RsvpAnswer, RsvpOutcome

ALERT_LEVELS = (50, 80, 100)


@dataclass(frozen=True)
class CheckIn:
    """What a check-in did: checked in (fresh or again), or put in line for a seat."""

    rsvp: Rsvp
    fresh: bool  # newly checked in by this call
    waitlist_rank: int | None  # not checked in: the meeting is full, this is their place in line
    alert_crossed: int | None  # a walk-in seat made the meeting cross 50/80/100 %

    @property
    def checked_in(self) -> bool:
        return self.rsvp.checked_in_at is not None


def to_rsvp(row: Any) -> Rsvp:
    data = dict(row)
    for key in ("answered_at", "checked_in_at"):
        if data[key] is not None:
            data[key] = from_db_time(data[key])
    return Rsvp.model_validate(data)


async def _one(conn: Transaction, sql: str, parameters: Sequence[Any]) -> Any:
    rows = await conn.fetch_all(sql, parameters)
    return rows[0] if rows else None


async def _row(conn: Transaction, meeting_id: int, member_id: int) -> Any:
    return await _one(
        conn,
        "SELECT * FROM rsvps WHERE meeting_id = ? AND member_id = ?",
        (meeting_id, member_id),
    )


async def answer(
    database: Database, meeting_id: int, member_id: int, answer: RsvpAnswer, now: datetime
) -> RsvpOutcome:
    """Record an answer in ONE transaction: seats, waitlist, promotion and capacity alerts."""
    moment = to_db_time(now)
    async with database.transaction() as conn:
        meeting = await _one(
            conn, "SELECT capacity, alert_level FROM meetings WHERE id = ?", (meeting_id,)
        )
        if meeting is None:
            raise LookupError(f"meeting {meeting_id} does not exist")
        capacity: int | None = meeting["capacity"]
        existing = await _row(conn, meeting_id, member_id)
        previous: RsvpAnswer | None = existing["answer"] if existing else None
        was_confirmed = existing is not None and (
            existing["answer"] == "yes" and existing["waitlist_position"] is None
        )
        promoted: int | None = None
        if answer == "yes" and previous == "yes":
            position = existing["waitlist_position"] if existing else None
        else:
            position = None
            full = (
                answer == "yes"
                and capacity is not None
                and await _confirmed(conn, meeting_id) >= capacity
            )
            if full:
                position = await _next_position(conn, meeting_id)
            await conn.execute(
                "INSERT INTO rsvps (meeting_id, member_id, answer, waitlist_position,"
                " answered_at) VALUES (?, ?, ?, ?, ?) ON CONFLICT (meeting_id, member_id)"
                " DO UPDATE SET answer = excluded.answer,"
                " waitlist_position = excluded.waitlist_position,"
                " answered_at = excluded.answered_at",
                (meeting_id, member_id, answer, position, moment),
            )
            if was_confirmed and answer != "yes" and capacity is not None:
                promoted = await _promote_first(conn, meeting_id)
        confirmed = await _confirmed(conn, meeting_id)
        crossed = await _alert(conn, meeting_id, confirmed, capacity, meeting["alert_level"])
        row = await _row(conn, meeting_id, member_id)
        rank = await _rank(conn, meeting_id, row["waitlist_position"])
    return RsvpOutcome(
        rsvp=to_rsvp(row),
        previous=previous,
        waitlist_rank=rank,
        promoted_member_id=promoted,
        confirmed=confirmed,
        capacity=capacity,
        alert_crossed=crossed,
    )


async def check_in(
    database: Database, meeting_id: int, member_id: int, by: str, now: datetime
) -> CheckIn:
    """Check in within the seats, in ONE transaction.

    A confirmed seat (or a meeting without capacity) checks in. Anyone else — no answer, Maybe,
    No, or waiting — takes a free seat as a walk-in if there is one; when the meeting is full
    they are put (or stay) in line and are NOT checked in, so attendance never exceeds capacity.
    """
    moment = to_db_time(now)
    async with database.transaction() as conn:
        meeting = await _one(
            conn, "SELECT capacity, alert_level FROM meetings WHERE id = ?", (meeting_id,)
        )
        if meeting is None:
            raise LookupError(f"meeting {meeting_id} does not exist")
        capacity: int | None = meeting["capacity"]
        existing = await _row(conn, meeting_id, member_id)
        if existing is not None and existing["checked_in_at"] is not None:
            return CheckIn(to_rsvp(existing), False, None, None)
        seated = existing is not None and (
            existing["answer"] == "yes" and existing["waitlist_position"] is None
        )
        if not seated and capacity is not None and await _confirmed(conn, meeting_id) >= capacity:
            if existing is None or existing["waitlist_position"] is None:
                await conn.execute(
                    "INSERT INTO rsvps (meeting_id, member_id, answer, waitlist_position,"
                    " answered_at) VALUES (?, ?, 'yes', ?, ?) ON CONFLICT (meeting_id, member_id)"
                    " DO UPDATE SET answer = 'yes', waitlist_position = excluded.waitlist_position,"
                    " answered_at = excluded.answered_at",
                    (meeting_id, member_id, await _next_position(conn, meeting_id), moment),
                )
            row = await _row(conn, meeting_id, member_id)
            rank = await _rank(conn, meeting_id, row["waitlist_position"])
            return CheckIn(to_rsvp(row), False, rank, None)
        # Coming through the door is a Yes: the seat is theirs from now on.
        await conn.execute(
            "INSERT INTO rsvps (meeting_id, member_id, answer, answered_at, checked_in_at,"
            " checked_in_by) VALUES (?, ?, 'yes', ?, ?, ?) ON CONFLICT (meeting_id, member_id)"
            " DO UPDATE SET answer = 'yes', waitlist_position = NULL,"
            " checked_in_at = excluded.checked_in_at, checked_in_by = excluded.checked_in_by",
            (meeting_id, member_id, moment, moment, by),
        )
        crossed = None
        if not seated:
            confirmed = await _confirmed(conn, meeting_id)
            crossed = await _alert(conn, meeting_id, confirmed, capacity, meeting["alert_level"])
        row = await _row(conn, meeting_id, member_id)
    return CheckIn(to_rsvp(row), True, None, crossed)


async def _rank(conn: Transaction, meeting_id: int, position: int | None) -> int | None:
    """The place in line (1: next in) of a waitlist position; None when not waiting."""
    if position is None:
        return None
    ahead = await _one(
        conn,
        "SELECT count(*) FROM rsvps WHERE meeting_id = ?"
        " AND waitlist_position IS NOT NULL AND waitlist_position <= ?",
        (meeting_id, position),
    )
    return int(ahead[0])


async def _next_position(conn: Transaction, meeting_id: int) -> int:
    last = await _one(
        conn,
        "SELECT coalesce(max(waitlist_position), 0) FROM rsvps WHERE meeting_id = ?",
        (meeting_id,),
    )
    return int(last[0]) + 1


async def _confirmed(conn: Transaction, meeting_id: int) -> int:
    row = await _one(
        conn,
        "SELECT count(*) FROM rsvps WHERE meeting_id = ? AND answer = 'yes'"
        " AND waitlist_position IS NULL",
        (meeting_id,),
    )
    return int(row[0])


async def _promote_first(conn: Transaction, meeting_id: int) -> int | None:
    first = await _one(
        conn,
        "SELECT member_id FROM rsvps WHERE meeting_id = ? AND waitlist_position IS NOT NULL"
        " ORDER BY waitlist_position LIMIT 1",
        (meeting_id,),
    )
    if first is None:
        return None
    await conn.execute(
        "UPDATE rsvps SET waitlist_position = NULL WHERE meeting_id = ? AND member_id = ?",
        (meeting_id, first["member_id"]),
    )
    return int(first["member_id"])


async def _alert(
    conn: Transaction, meeting_id: int, confirmed: int, capacity: int | None, level: int
) -> int | None:
    """The highest alert level newly reached; stored so each level is announced once."""
    if capacity is None:
        return None
    reached = [mark for mark in ALERT_LEVELS if confirmed * 100 >= mark * capacity]
    if not reached or reached[-1] <= level:
        return None
    await conn.execute(
        "UPDATE meetings SET alert_level = ? WHERE id = ?", (reached[-1], meeting_id)
    )
    return reached[-1]
