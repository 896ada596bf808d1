"""Calendar files (.ics) for meetings: one VEVENT, a stable UID, the organiser's zone."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from icalendar import Calendar, Event

from storage.models import Meeting

PRODID = "-//consultbot//meetings//EN"


def slug(text: str) -> str:
    """A UID-safe form of the programme name: lower case, runs of other characters as '-'."""
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-") or "consultbot"


def meeting_uid(meeting_id: int, programme: str) -> str:
    """The same UID for every version of the meeting, so calendars update instead of duplicating."""
    return f"meeting-{meeting_id}@{slug(programme)}"


def localized(values: dict[str, str], language: str) -> str:
    """The text in the language, else Spanish, else any."""
    return values.get(language) or values.get("es") or next(iter(values.values()), "")


def meeting_ics(
    meeting: Meeting,
    language: str,
    programme: str,
    now: datetime,
    with_link: bool = True,
    cancelled_for_attendee: bool = False,
) -> bytes:
    """The meeting as an iCalendar file (METHOD:PUBLISH; STATUS:CANCELLED once cancelled).

    `with_link` False leaves the online link out (a capacity's link is for confirmed seats);
    `cancelled_for_attendee` is the file for someone who took back their Yes: METHOD:CANCEL and
    STATUS:CANCELLED with the same UID and SEQUENCE, so their calendar drops the event while the
    meeting goes on for everyone else.
    """
    zone = ZoneInfo(meeting.zone)
    start = meeting.start_at.astimezone(zone)
    end = start + timedelta(minutes=meeting.duration_minutes)
    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("method", "CANCEL" if cancelled_for_attendee else "PUBLISH")
    event = Event()
    event.add("uid", meeting_uid(meeting.id, programme))
    event.add("dtstamp", now)
    event.add("sequence", meeting.sequence)
    event.add("dtstart", start)
    event.add("dtend", end)
    event.add("summary", localized(meeting.titles, language))
    description = localized(meeting.descriptions, language) if meeting.descriptions else ""
    url = meeting.online_url if with_link else None
    if url:
        description = f"{description}\n\n{url}".strip()
        event.add("url", url)
    if description:
        event.add("description", description)
    if meeting.venue:
        event.add("location", meeting.venue)
    elif url:
        event.add("location", url)
    cancelled = cancelled_for_attendee or meeting.status == "cancelled"
    event.add("status", "CANCELLED" if cancelled else "CONFIRMED")
    calendar.add_component(event)
    # Only the transitions around the meeting: a VTIMEZONE since 1970 would weigh kilobytes.
    calendar.add_missing_timezones(
        first_date=(start - timedelta(days=366)).date(),
        last_date=(end + timedelta(days=366)).date(),
    )
    return bytes(calendar.to_ical())


def ics_filename(meeting: Meeting) -> str:
    return f"meeting-{meeting.id}.ics"
