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


def meeting_ics(meeting: Meeting, language: str, programme: str, now: datetime) -> bytes:
    """The meeting as an iCalendar file (METHOD:PUBLISH; STATUS:CANCELLED once cancelled)."""
    zone = ZoneInfo(meeting.zone)
    start = meeting.start_at.astimezone(zone)
    end = start + timedelta(minutes=meeting.duration_minutes)
    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("method", "PUBLISH")
    event = Event()
    event.add("uid", meeting_uid(meeting.id, programme))
    event.add("dtstamp", now)
    event.add("sequence", meeting.sequence)
    event.add("dtstart", start)
    event.add("dtend", end)
    event.add("summary", localized(meeting.titles, language))
    description = localized(meeting.descriptions, language) if meeting.descriptions else ""
    if meeting.online_url:
        description = f"{description}\n\n{meeting.online_url}".strip()
        event.add("url", meeting.online_url)
    if description:
        event.add("description", description)
    if meeting.venue:
        event.add("location", meeting.venue)
    elif meeting.online_url:
        event.add("location", meeting.online_url)
    event.add("status", "CANCELLED" if meeting.status == "cancelled" else "CONFIRMED")
    calendar.add_component(event)
    # Only the transitions around the meeting: a VTIMEZONE since 1970 would weigh kilobytes.
    calendar.add_missing_timezones(
        first_date=(start - timedelta(days=366)).date(),
        last_date=(end + timedelta(days=366)).date(),
    )
    return bytes(calendar.to_ical())


def ics_filename(meeting: Meeting) -> str:
    return f"meeting-{meeting.id}.ics"
