"""Meeting notices, rendered at send time from the meeting as it is then, in the member's zone."""

from __future__ import annotations

import html
from collections.abc import Mapping
from datetime import timedelta
from typing import Literal

from babel.units import format_unit
from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bot.callbacks import MeetingButton, RsvpButton
from bot.clock import Clock
from bot.delivery.render import NoticeRenderer, RenderedNotice
from bot.i18n import Markup, Texts
from bot.services import timefmt
from bot.services.ics import ics_filename, localized, meeting_ics
from bot.services.meeting_rules import CHECKIN_REMINDER_MAX, link_visible
from bot.services.meetings import MeetingsService
from bot.services.people import PeopleService
from storage.db import to_db_time
from storage.models import Meeting, Member, OutboxRow, Rsvp

# Minutes longer than this are cut (at a word) in the notice; /meetings shows them whole.
MINUTES_SHOWN = 3000
ANSWER_CODES: dict[str, Literal["y", "m", "n"]] = {"yes": "y", "maybe": "m", "no": "n"}
CODE_ANSWERS = {code: answer for answer, code in ANSWER_CODES.items()}


def rsvp_data(meeting_id: int, answer: str) -> str:
    """Callback data of an answer button: v1:rsvp:<meeting>:<y|m|n>."""
    return RsvpButton(meeting_id, ANSWER_CODES[answer]).encode()


def parse_rsvp_data(data: str) -> tuple[int, str] | None:
    """(meeting id, answer) from an answer button's data; None if forged or malformed."""
    press = RsvpButton.parse(data)
    return (press.meeting, CODE_ANSWERS[press.answer]) if press is not None else None


def meeting_button(label: str, meeting_id: int, action: str) -> InlineKeyboardButton:
    """A button of /meetings' own (v1:mtg:<meeting>:<action>), also on notices."""
    return InlineKeyboardButton(label, callback_data=MeetingButton(meeting_id, action).encode())


def checkin_button(texts: Texts, language: str, meeting_id: int) -> InlineKeyboardButton:
    return meeting_button(texts.plain(language, "mtg.button.here"), meeting_id, "h")


def percent(part: int, whole: int) -> int:
    """A share in whole percent, halves rounded up (2 of 3 -> 67), never by float rounding."""
    return (200 * part + whole) // (2 * whole) if whole else 0


def rsvp_keyboard(
    texts: Texts, language: str, meeting_id: int, closed: bool = False
) -> InlineKeyboardMarkup:
    """Yes / Maybe / No; once answers are closed, only giving up one's place (still accepted)."""
    if closed:
        label = texts.plain(language, "meeting.button.cant_come")
        return InlineKeyboardMarkup(
            [[InlineKeyboardButton(label, callback_data=rsvp_data(meeting_id, "no"))]]
        )
    buttons = [
        InlineKeyboardButton(
            texts.plain(language, f"meeting.button.{answer}"),
            callback_data=rsvp_data(meeting_id, answer),
        )
        for answer in ("yes", "maybe", "no")
    ]
    return InlineKeyboardMarkup([buttons])


def time_left_minutes(left: timedelta) -> int:
    """Minutes until the start as a person would say them: a 24 h reminder sent a few seconds or
    minutes late still says "24 h", not "23 h 59 min" (5-minute steps past the hour)."""
    minutes = max(round(left.total_seconds() / 60), 1)
    return 5 * round(minutes / 5) if minutes > 60 else minutes


def format_duration(minutes: int, language: str) -> str:
    """90 -> '1 h 30 min' in the language."""
    hours, rest = divmod(minutes, 60)
    parts = []
    if hours:
        parts.append(format_unit(hours, "duration-hour", length="short", locale=language))
    if rest or not hours:
        parts.append(format_unit(rest, "duration-minute", length="short", locale=language))
    return " ".join(str(part) for part in parts)


def meeting_facts(
    texts: Texts,
    meeting: Meeting,
    language: str,
    zone: str,
    rsvp: Rsvp | None = None,
    show_link: bool | None = None,
) -> list[str]:
    """Date and time in the reader's zone (and the organiser's), place, link, duration.

    The link is shown as `link_visible` says for this reader unless `show_link` decides.
    """
    when = timefmt.format_meeting_moment(meeting.start_at, zone, language)
    if zone != meeting.zone and (
        meeting.start_at.astimezone(timefmt.zone_info(zone)).utcoffset()
        != meeting.start_at.astimezone(timefmt.zone_info(meeting.zone)).utcoffset()
    ):
        organiser = texts.get(
            language,
            "meeting.notice.organiser_time",
            time=timefmt.format_clock(meeting.start_at, meeting.zone, language),
            city=timefmt.zone_city(meeting.zone, language),
        )
        when = f"{html.escape(when, quote=False)} {organiser}"
        lines = [texts.get(language, "meeting.notice.when", when=Markup(when))]
    else:
        lines = [texts.get(language, "meeting.notice.when", when=when)]
    lines.append(
        texts.get(
            language,
            "meeting.notice.duration",
            duration=format_duration(meeting.duration_minutes, language),
        )
    )
    if meeting.venue:
        lines.append(texts.get(language, "meeting.notice.venue", venue=meeting.venue))
    if meeting.online_url:
        if show_link if show_link is not None else link_visible(meeting, rsvp):
            lines.append(texts.get(language, "meeting.notice.link", url=meeting.online_url))
        else:
            lines.append(texts.get(language, "meeting.notice.link_for_seats"))
    if meeting.descriptions:
        lines.append("")
        lines.append(html.escape(localized(meeting.descriptions, language), quote=False))
    if rsvp is not None:
        lines.append("")
        lines.append(texts.get(language, f"meeting.notice.your_answer.{rsvp.answer}"))
    return lines


class MeetingNoticeRenderer:
    """One kind of meeting notice; the kind decides the heading, the checks and the extras."""

    def __init__(
        self,
        meetings: MeetingsService,
        people: PeopleService,
        texts: Texts,
        programme: str,
        clock: Clock,
        kind: str,
    ) -> None:
        self._meetings = meetings
        self._people = people
        self._texts = texts
        self._programme = programme
        self._clock = clock
        self._kind = kind

    async def render(self, row: OutboxRow) -> RenderedNotice | None:
        """The notice as of now; None (skipped) once it would be wrong or pointless."""
        if row.ref is None:
            return None
        meeting = await self._meetings.get(row.ref)
        member = await self._people.member_by_id(row.member_id)
        if meeting is None or member is None or member.status != "active":
            return None
        rsvp = await self._meetings.rsvp_of(meeting.id, member.id)
        now = self._clock.now()
        if self._kind == "meeting_cancel":
            return self._cancel(meeting, row.language)
        if self._kind == "meeting_minutes":
            return self._minutes(meeting, row.language)
        if meeting.status != "scheduled" or (
            self._kind != "capacity_alert" and now >= meeting.start_at
        ):
            return None
        if self._kind == "capacity_alert":
            return await self._capacity(meeting, row)
        if self._kind == "meeting_reminder":
            if row.payload.get("start") and row.payload["start"] != _iso(meeting):
                return None
            if rsvp is None or rsvp.answer == "no" or rsvp.waitlist_position is not None:
                return None
        if self._kind == "waitlist_promoted" and (rsvp is None or not rsvp.confirmed):
            return None
        offset = row.payload.get("offset") if self._kind == "meeting_reminder" else None
        return await self._meeting_notice(
            meeting, member, rsvp, row.language, int(offset) if offset is not None else None
        )

    async def _meeting_notice(
        self,
        meeting: Meeting,
        member: Member,
        rsvp: Rsvp | None,
        language: str,
        offset: int | None = None,
    ) -> RenderedNotice:
        texts = self._texts
        title = localized(meeting.titles, language)
        heading = {
            "meeting_invite": "meeting.invite.title",
            "meeting_reminder": "meeting.reminder.title",
            "meeting_update": "meeting.update.title",
            "waitlist_promoted": "meeting.promoted.title",
        }[self._kind]
        lines = [texts.get(language, heading, title=title)]
        if self._kind == "waitlist_promoted":
            lines.append(texts.get(language, "meeting.promoted.body"))
        if self._kind == "meeting_reminder":
            left = time_left_minutes(meeting.start_at - self._clock.now())
            lines.append(
                texts.get(language, "meeting.reminder.in", offset=format_duration(left, language))
            )
        lines.append("")
        zone = member.settled_zone or meeting.zone
        lines.extend(meeting_facts(texts, meeting, language, zone, rsvp))
        if rsvp is not None and rsvp.waitlist_position is not None:
            rank = await self._meetings.waitlist_rank(meeting.id, member.id)
            lines.append(texts.get(language, "meeting.notice.waitlist", position=rank or 1))
        if self._kind == "meeting_invite":
            lines.extend(await self._seats(meeting, language, zone))
        deadline = meeting.rsvp_deadline
        closed = deadline is not None and self._clock.now() > deadline
        keyboard = rsvp_keyboard(texts, language, meeting.id, closed)
        if offset is not None and offset <= CHECKIN_REMINDER_MAX:
            # The last reminder is read at the door: the code and "I'm here" come with it.
            # Online only: no door to arrive at; "I'm here" is pressed on joining the call.
            code_key = "meeting.reminder.code" if meeting.venue else "meeting.reminder.code_online"
            lines.append(texts.get(language, code_key, code=meeting.checkin_code))
            keyboard = InlineKeyboardMarkup(
                [*keyboard.inline_keyboard, [checkin_button(texts, language, meeting.id)]]
            )
        lines.append("")
        lines.append(
            texts.get(language, "meeting.notice.ask_closed" if closed else "meeting.notice.ask")
        )
        document = None
        # A changed time or a newly confirmed seat is when a calendar entry is worth sending.
        if self._kind in ("meeting_update", "waitlist_promoted"):
            data = meeting_ics(
                meeting,
                language,
                self._programme,
                self._clock.now(),
                with_link=link_visible(meeting, rsvp),
            )
            document = (ics_filename(meeting), data)
        return RenderedNotice("\n".join(lines), keyboard, document)

    async def _seats(self, meeting: Meeting, language: str, zone: str) -> list[str]:
        lines = []
        if meeting.capacity is not None:
            counts = await self._meetings.counts(meeting.id)
            left = meeting.capacity - counts.yes
            if left > 0:
                lines.append(
                    self._texts.get(
                        language, "meeting.notice.seats_left", left=left, capacity=meeting.capacity
                    )
                )
            else:
                lines.append(self._texts.get(language, "meeting.notice.full"))
        if meeting.rsvp_deadline is not None:
            when = timefmt.format_meeting_moment(meeting.rsvp_deadline, zone, language)
            lines.append(self._texts.get(language, "meeting.notice.deadline", when=when))
        return lines

    def _cancel(self, meeting: Meeting, language: str) -> RenderedNotice:
        title = localized(meeting.titles, language)
        text = "\n".join(
            [
                self._texts.get(language, "meeting.cancel.title", title=title),
                self._texts.get(language, "meeting.cancel.body"),
            ]
        )
        data = meeting_ics(meeting, language, self._programme, self._clock.now())
        return RenderedNotice(text, None, (ics_filename(meeting), data))

    async def _capacity(self, meeting: Meeting, row: OutboxRow) -> RenderedNotice | None:
        level = row.payload.get("level", meeting.alert_level)
        if int(level) < meeting.alert_level:
            # A higher level was reached before this one went out; its own alert follows. Sent
            # now, with today's counts, both would say the same "5 of 5 (100 %)".
            return None
        counts = await self._meetings.counts(meeting.id)
        text = self._texts.get(
            row.language,
            "meeting.capacity_alert",
            title=localized(meeting.titles, row.language),
            confirmed=counts.yes,
            count=meeting.capacity or 0,
            level=percent(counts.yes, meeting.capacity or 0) if meeting.capacity else level,
        )
        return RenderedNotice(text)

    def _minutes(self, meeting: Meeting, language: str) -> RenderedNotice | None:
        """Minutes added: their text, and a button for the file when there is one."""
        if not meeting.minutes and not meeting.minutes_file_id:
            return None
        title = localized(meeting.titles, language)
        lines = [self._texts.get(language, "meeting.minutes.title", title=title)]
        if meeting.minutes:
            text = meeting.minutes
            if len(text) > MINUTES_SHOWN:
                text = text[:MINUTES_SHOWN].rsplit(" ", 1)[0] + " …"
            lines += ["", html.escape(text, quote=False)]
        markup = None
        if meeting.minutes_file_id:
            label = self._texts.plain(language, "mtg.button.minutes_file")
            markup = InlineKeyboardMarkup([[meeting_button(label, meeting.id, "f")]])
        return RenderedNotice("\n".join(lines), markup)


def _iso(meeting: Meeting) -> str:
    return to_db_time(meeting.start_at)


KINDS = (
    "meeting_minutes",
    "meeting_invite",
    "meeting_reminder",
    "meeting_update",
    "meeting_cancel",
    "waitlist_promoted",
    "capacity_alert",
)


def renderers(
    meetings: MeetingsService, people: PeopleService, texts: Texts, programme: str, clock: Clock
) -> Mapping[str, NoticeRenderer]:
    """Every meeting notice kind and its renderer, for the composition root's table."""
    return {
        kind: MeetingNoticeRenderer(meetings, people, texts, programme, clock, kind)
        for kind in KINDS
    }
