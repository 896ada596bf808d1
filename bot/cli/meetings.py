"""``consultbot meetings ...``: create, list, show, reschedule, cancel, attendance."""

from __future__ import annotations

import argparse
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from bot.cli.audience import (
    add_audience_options,
    add_meeting_audience,
    checked_audience,
    describe_audience,
    known_round,
    meeting_answers,
)
from bot.cli.common import Refusal, columns, plural, run_with_services, say, subcommand_maker

if TYPE_CHECKING:
    from bot.context import Services
    from bot.services.meetings import MeetingsService
    from storage.models import AudienceFilter, Meeting

CLI_ACTOR = "cli"
_say = say
# Re-exported: `broadcast` and the tests build the meeting audience options from here too.
__all__ = ["add_meeting_audience", "meeting_answers", "register"]


def _run(
    arguments: argparse.Namespace,
    action: Callable[[Services, MeetingsService], Awaitable[int]],
) -> int:
    """Run one action with the services and the meetings service."""

    def with_meetings(services: Services) -> Awaitable[int]:
        return action(services, services.meetings)

    return run_with_services(arguments, "meetings", with_meetings)


async def existing(meetings: MeetingsService, meeting_id: int) -> Meeting:
    """The meeting with this number, or the one refusal for a number that does not exist."""
    meeting = await meetings.get(meeting_id)
    if meeting is None:
        raise Refusal(f"there is no meeting #{meeting_id}")
    return meeting


def create(arguments: argparse.Namespace) -> int:
    """Create a meeting and queue its invitations (the running bot delivers them)."""
    from bot.services.meetings import MeetingRequest

    titles = {"es": arguments.title, "en": arguments.title_en, "fr": arguments.title_fr}
    descriptions = {
        "es": arguments.description,
        "en": arguments.description_en,
        "fr": arguments.description_fr,
    }
    try:
        answers = meeting_answers(arguments)
    except ValueError as error:
        _say(f"meetings: invalid audience ({error})", error=True)
        return 2

    def request(audience: AudienceFilter, round_: str | None) -> MeetingRequest:
        return MeetingRequest(
            titles={language: text for language, text in titles.items() if text},
            descriptions={language: text for language, text in descriptions.items() if text},
            kind=arguments.kind,
            start=arguments.start,
            zone=arguments.zone,
            duration=arguments.duration,
            online_url=arguments.online_url,
            venue=arguments.venue,
            capacity=arguments.capacity,
            rsvp_deadline=arguments.rsvp_deadline,
            reminders=arguments.reminders,
            audience=audience,
            round=round_,
            # The first --theme is the meeting's theme; all of them narrow the audience.
            theme=arguments.theme[0] if arguments.theme else None,
        )

    async def action(services: Services, meetings: MeetingsService) -> int:
        rounds = services.config.programme.rounds
        round_ = known_round(arguments.round, rounds) if arguments.round else None
        audience = await checked_audience(
            services, arguments, meeting_id=arguments.meeting, meeting_answers=answers
        )
        meeting = await meetings.create(request(audience, round_), CLI_ACTOR)
        invited = await meetings.invite(meeting)
        _say(str(meeting.id))
        _say(
            f"meeting #{meeting.id} created; invitations queued for {plural(invited, 'member')};"
            f" check-in code {meeting.checkin_code}",
            error=True,
        )
        return 0

    return _run(arguments, action)


def listing(arguments: argparse.Namespace) -> int:
    """Upcoming meetings (all with --all), with answer counts."""

    async def action(services: Services, meetings: MeetingsService) -> int:
        since = None if arguments.all else services.clock.now()
        found = await meetings.listing(since, 500)
        rows: list[list[object]] = []
        for meeting in found:
            counts = await meetings.counts(meeting.id)
            rows.append(
                [
                    meeting.id,
                    meeting.status,
                    meeting.kind,
                    meeting.local_start,
                    meeting.zone,
                    f"{counts.yes}/{meeting.capacity}" if meeting.capacity else counts.yes,
                    counts.maybe,
                    counts.waitlist,
                    meeting.titles.get("es") or _first(meeting.titles),
                ]
            )
        headers = ("id", "status", "kind", "start", "zone", "yes", "maybe", "waiting", "title")
        for line in columns(headers, rows):
            _say(line)
        return 0

    return _run(arguments, action)


def show(arguments: argparse.Namespace) -> int:
    """One meeting: details, answer counts and the waitlist in order."""

    async def action(services: Services, meetings: MeetingsService) -> int:
        meeting = await existing(meetings, arguments.id)
        counts = await meetings.counts(meeting.id)
        _say(
            f"meeting #{meeting.id} ({meeting.kind}, {meeting.status}, sequence {meeting.sequence})"
        )
        for language, title in meeting.titles.items():
            _say(f"  title[{language}]: {title}")
        _say(
            f"  start: {meeting.local_start} {meeting.zone} ({meeting.start_at:%Y-%m-%d %H:%M} UTC)"
        )
        _say(f"  duration: {meeting.duration_minutes} min")
        _say(f"  venue: {meeting.venue or '-'}   link: {meeting.online_url or '-'}")
        _say(
            f"  capacity: {meeting.capacity or 'unlimited'}   check-in code: {meeting.checkin_code}"
        )
        _say(f"  reminders (minutes before): {', '.join(map(str, meeting.reminders)) or '-'}")
        _say(f"  audience: {describe_audience(meeting.audience)}")
        _say(
            f"  answers: yes {counts.yes}, maybe {counts.maybe}, no {counts.no},"
            f" waitlist {counts.waitlist}, checked in {counts.checked_in}"
        )
        waiting = await meetings.waitlist(meeting.id)
        for rank, rsvp in enumerate(waiting, start=1):
            member = await services.people.member_by_id(rsvp.member_id)
            who = member.pseudonym if member else f"member {rsvp.member_id}"
            _say(f"  waitlist {rank}: {who} (since {rsvp.answered_at:%Y-%m-%d %H:%M:%S} UTC)")
        if meeting.minutes:
            _say(f"  minutes: {meeting.minutes}")
        return 0

    return _run(arguments, action)


def reschedule(arguments: argparse.Namespace) -> int:
    """Move a meeting; those who may come are told, reminders follow the new time."""

    async def action(services: Services, meetings: MeetingsService) -> int:
        await existing(meetings, arguments.id)
        moved = await meetings.reschedule(
            arguments.id, arguments.start, arguments.zone, CLI_ACTOR, arguments.duration
        )
        _say(
            f"meeting #{moved.id} now starts {moved.local_start} {moved.zone}"
            f" (sequence {moved.sequence})"
        )
        return 0

    return _run(arguments, action)


def cancel(arguments: argparse.Namespace) -> int:
    """Cancel a meeting; those who may come receive a cancellation with its .ics."""

    async def action(services: Services, meetings: MeetingsService) -> int:
        await existing(meetings, arguments.id)
        cancelled = await meetings.cancel(arguments.id, CLI_ACTOR)
        _say(f"meeting #{cancelled.id} cancelled")
        return 0

    return _run(arguments, action)


def attendance(arguments: argparse.Namespace) -> int:
    """Who checked in (and mark more with --mark PSEUDONYM)."""

    async def action(services: Services, meetings: MeetingsService) -> int:
        meeting = await existing(meetings, arguments.id)
        for pseudonym in arguments.mark:
            person = await meetings.recipient_by_actor(pseudonym)
            if person is None:
                raise Refusal(f"--mark {pseudonym}: no member has that pseudonym")
            await meetings.mark_attendance(meeting.id, person.member_id, CLI_ACTOR)
        attendees = await meetings.attendees(meeting.id)
        _say(f"meeting #{meeting.id}: {len(attendees)} attended")
        for rsvp in attendees:
            member = await services.people.member_by_id(rsvp.member_id)
            who = member.pseudonym if member else f"member {rsvp.member_id}"
            at = f"{rsvp.checked_in_at:%Y-%m-%d %H:%M} UTC" if rsvp.checked_in_at else ""
            _say(f"  {who}  {at}  by {rsvp.checked_in_by}")
        return 0

    return _run(arguments, action)


def _first(values: dict[str, str]) -> str:
    return next(iter(values.values()), "")


def register(subparsers: Any, parent: argparse.ArgumentParser | None = None) -> None:
    """Add `meetings create|list|show|reschedule|cancel|attendance` to the CLI."""
    meetings = subparsers.add_parser("meetings", help="consultation meetings")
    command = subcommand_maker(meetings.add_subparsers(dest="action", required=True), parent)
    number = "the meeting's number (see meetings list)"

    maker = command("create", "create a meeting and queue its invitations; prints its id")
    about = maker.add_argument_group("meeting")
    about.add_argument("--title", required=True, help="the title (Spanish, or the only one)")
    about.add_argument("--title-en", metavar="TEXT", help="the title in English")
    about.add_argument("--title-fr", metavar="TEXT", help="the title in French")
    about.add_argument("--description", help="what it is about (Spanish, or the only one)")
    about.add_argument("--description-en", metavar="TEXT", help="the description in English")
    about.add_argument("--description-fr", metavar="TEXT", help="the description in French")
    about.add_argument(
        "--kind",
        required=True,
        choices=("national", "local", "thematic"),
        help="national, local (one place) or thematic (one thematic group)",
    )
    about.add_argument("--online-url", metavar="URL", help="the video call's https:// link")
    about.add_argument("--venue", help="where it takes place, for those who come in person")
    about.add_argument("--capacity", type=int, help="seats; later Yes answers wait for one")
    about.add_argument(
        "--round", help="the consultation round: its number or name in programme.rounds"
    )
    when = maker.add_argument_group("when")
    when.add_argument("--start", required=True, help="organiser's wall clock: '2026-12-05 10:00'")
    when.add_argument("--zone", required=True, help="IANA zone of --start, e.g. America/Chicago")
    when.add_argument("--duration", required=True, help="90m, 1h30m, 2h")
    when.add_argument("--rsvp-deadline", help="answers close then, same zone: '2026-12-04 18:00'")
    when.add_argument("--reminders", help="offsets before the start: 24h,1h (d, h, m)")
    audience = add_audience_options(maker, "; the first one is also the meeting's theme")
    add_meeting_audience(audience)
    maker.set_defaults(handler=create)
    lister = command("list", "upcoming meetings with answer counts")
    lister.add_argument("--all", action="store_true", help="past and cancelled ones too")
    lister.set_defaults(handler=listing)
    shower = command("show", "one meeting: details, its audience, counts and waitlist order")
    shower.add_argument("id", type=int, help=number)
    shower.set_defaults(handler=show)
    mover = command("reschedule", "move a meeting (those who may come are told)")
    mover.add_argument("id", type=int, help=number)
    mover.add_argument("--start", required=True, help="the new start: '2026-12-12 11:00'")
    mover.add_argument("--zone", help="IANA zone of --start (default: the meeting's)")
    mover.add_argument("--duration", help="a new duration: 90m, 1h30m, 2h (default: unchanged)")
    mover.set_defaults(handler=reschedule)
    canceller = command("cancel", "cancel a meeting (those who may come are told)")
    canceller.add_argument("id", type=int, help=number)
    canceller.set_defaults(handler=cancel)
    register_attendance = command("attendance", "who checked in; --mark records attendance")
    register_attendance.add_argument("id", type=int, help=number)
    register_attendance.add_argument(
        "--mark",
        nargs="+",
        action="extend",
        default=[],
        metavar="PSEUDONYM",
        help="record these members as present (--mark a b, or --mark a --mark b)",
    )
    register_attendance.set_defaults(handler=attendance)
