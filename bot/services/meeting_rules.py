"""What a meeting's fields may hold and the small rules every part of meetings reads."""

from __future__ import annotations

import re
import secrets
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from urllib.parse import urlparse

from bot.services.errors import InputError, clean_text
from storage.models import AudienceFilter, Meeting, NoticeTarget, Recipient, Rsvp, RsvpOutcome

CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, no 1/I: read aloud without doubt
CODE_LENGTH = 8
TITLE_MAX = 200
DESCRIPTION_MAX = 2000
VENUE_MAX = 200
URL_MAX = 500
DURATION_MAX_MINUTES = 24 * 60
DEFAULT_REMINDERS: tuple[int, ...] = (24 * 60, 60)
CHECKIN_OPENS = timedelta(minutes=30)
# Reminders this close to the start carry the check-in code and the "I'm here" button.
CHECKIN_REMINDER_MAX = 60
KINDS = ("national", "local", "thematic")
# Who hears of a change or a cancellation: everyone who may come.
CONCERNED = ("yes", "maybe", "waitlist")
REMINDED = ("yes", "maybe")
# Who is told that minutes were added: those who came, and those who held a seat.
MINUTES_TOLD = ("attended", "yes")
# What may stand between the characters of a typed code: spaces and any kind of dash.
_CODE_SEPARATORS = re.compile(r"[\s\-‐‑‒–—―_.]+")
# A scheme typed by the organiser ("javascript:", "mailto:"): never made into a web link.
_SCHEME = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.\-]*:(?!\d)")


def meeting_end(meeting: Meeting) -> datetime:
    return meeting.start_at + timedelta(minutes=meeting.duration_minutes)


def has_ended(meeting: Meeting, now: datetime) -> bool:
    """Over: nothing left to reschedule or cancel; shown as held (or with its minutes)."""
    return now >= meeting_end(meeting)


def notice_targets(
    recipients: Sequence[Recipient], key: str | None, now: datetime
) -> list[NoticeTarget]:
    """One notice per person, due now; `key` (per person) keeps a retried notice from doubling."""
    return [
        NoticeTarget(
            member_id=person.member_id,
            chat_id=person.telegram_id,
            language=person.language,
            due=now,
            dedupe_key=f"{key}:{person.member_id}" if key else None,
        )
        for person in recipients
    ]


def new_checkin_code() -> str:
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))


def normalise_code(text: str) -> str:
    """A code as typed ('abcd-efgh', 'ABCD EFGH') in the stored form ('ABCDEFGH')."""
    return _CODE_SEPARATORS.sub("", text or "").upper()


def looks_like_code(text: str) -> bool:
    """Whether typed text could be a check-in code (spaces, dashes and case aside)."""
    code = normalise_code(text)
    return len(code) == CODE_LENGTH and all(char in CODE_ALPHABET for char in code)


def link_visible(meeting: Meeting, rsvp: Rsvp | None) -> bool:
    """With a capacity the link is a seat: only confirmed people get it (no Maybe/No/line)."""
    return meeting.capacity is None or (rsvp is not None and rsvp.confirmed)


def clean_url(text: str | None) -> str | None:
    """A web link with a host, or None; 'zoom.us/j/1' gets https://, other schemes are refused."""
    if text is None or not text.strip():
        return None
    url = text.strip()
    if "://" not in url:
        if _SCHEME.match(url):
            raise InputError("meeting.error.link")
        url = "https://" + url
    parsed = urlparse(url)
    try:
        host = parsed.hostname
    except ValueError:
        raise InputError("meeting.error.link") from None
    if (
        parsed.scheme.lower() not in ("http", "https")
        or not host
        or "." not in host.strip(".")
        or len(url) > URL_MAX
        or any(char.isspace() or unicodedata.category(char) == "Cc" for char in url)
    ):
        raise InputError("meeting.error.link")
    return url


def clean_description(text: str) -> str:
    """Several lines allowed; each line validated like other free text."""
    lines = [
        clean_text(line, DESCRIPTION_MAX, need_letter=False) if line.strip() else ""
        for line in text.strip().splitlines()
    ]
    cleaned = "\n".join(lines)
    if len(cleaned) > DESCRIPTION_MAX:
        raise InputError("error.too_long", maximum=DESCRIPTION_MAX)
    return cleaned


@dataclass(frozen=True)
class MeetingRequest:
    """What an organiser typed (chat or CLI), before any validation."""

    titles: Mapping[str, str]
    kind: str
    start: str
    zone: str
    duration: str | int
    descriptions: Mapping[str, str] = field(default_factory=dict)
    online_url: str | None = None
    venue: str | None = None
    capacity: int | None = None
    rsvp_deadline: str | None = None
    reminders: str | Sequence[int] | None = None
    audience: AudienceFilter = field(default_factory=AudienceFilter)
    round: str | None = None
    theme: str | None = None


@dataclass(frozen=True)
class RsvpResult:
    """An accepted answer and what it set in motion."""

    meeting: Meeting
    outcome: RsvpOutcome
    # Held a confirmed seat before this answer (a Yes taken back gets a cancelled .ics).
    was_confirmed: bool = False

    @property
    def waitlisted(self) -> bool:
        return self.outcome.waitlist_rank is not None

    @property
    def gave_up_seat(self) -> bool:
        return self.was_confirmed and self.outcome.rsvp.answer == "no"
