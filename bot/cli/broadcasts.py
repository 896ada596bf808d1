"""``consultbot broadcast`` and ``consultbot broadcasts status|stop``: notices from the shell."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING, Any

from bot.cli.audience import add_audience_options, add_meeting_audience, checked_audience
from bot.cli.audience import meeting_answers as answers_of
from bot.cli.common import Refusal, add_config, explain, plural, run_with_services, say
from bot.config import LANGUAGES, check_time_zone
from bot.services.errors import InputError

if TYPE_CHECKING:
    from bot.context import Services
    from storage.models import Broadcast

CLI_ACTOR = "cli"
# The word the chat's status message uses for a notice stopped part-way ("bc.stopped"); the
# database calls it cancelled, like an abandoned draft.
STOPPED = "stopped"


def _texts(arguments: argparse.Namespace) -> dict[str, str]:
    """--text is the fallback language's version; --text-XX adds the other languages."""
    texts = {arguments.fallback: arguments.text}
    for language in LANGUAGES:
        version = getattr(arguments, f"text_{language}")
        if version is None:
            continue
        if language == arguments.fallback:
            raise Refusal(f"--text is already the {language} version; drop --text-{language}")
        texts[language] = version
    return texts


def broadcast(arguments: argparse.Namespace) -> int:
    """Queue a notice from the command line; the running bot's delivery worker sends it."""
    from bot.services.broadcasts import parse_quiet_hours, parse_send_time

    async def queue(services: Services) -> int:
        zone = arguments.zone or services.config.programme.default_time_zone
        try:
            check_time_zone(zone)
        except ValueError as error:
            raise Refusal(f"--zone: {error}") from None
        try:
            answers = answers_of(arguments)
        except ValueError as error:
            raise Refusal(str(error)) from None
        audience = await checked_audience(
            services, arguments, meeting_id=arguments.meeting, meeting_answers=answers
        )
        try:
            quiet = parse_quiet_hours(arguments.quiet) if arguments.quiet else None
        except InputError as error:
            raise Refusal(f"--quiet {arguments.quiet!r}: {explain(services, error)}") from None
        try:
            now = services.clock.now()
            send_at = parse_send_time(arguments.at, zone, now) if arguments.at else None
        except InputError as error:
            raise Refusal(f"--at {arguments.at!r}: {explain(services, error)}") from None
        created, count = await services.broadcasts.create_queued(
            CLI_ACTOR,
            _texts(arguments),
            arguments.fallback,
            audience,
            arguments.ack,
            quiet,
            send_at,
            zone,
        )
        say(f"notice #{created.id} queued for {plural(count, 'member')}")
        return 0

    return run_with_services(arguments, "broadcast", queue)


def status_word(notice: Broadcast) -> str:
    """The status as the chat says it: a queued notice that was cancelled was stopped."""
    return STOPPED if notice.status == "cancelled" else notice.status


def broadcasts_status(arguments: argparse.Namespace) -> int:
    """Print every recent notice with its delivery counts."""

    async def show(services: Services) -> int:
        # Drafts abandoned in chat are cancelled without ever being queued: not notices.
        recent = [item for item in await services.broadcasts.recent(50) if item.queued_at]
        say("id  status     total   sent  pending  blocked  failed  acked  created")
        for item in recent:
            counts = await services.broadcasts.counts(item.id)
            say(
                f"{item.id:<3} {status_word(item):<9} {counts.total:>6} {counts.sent:>6}"
                f" {counts.pending + counts.sending:>8} {counts.blocked:>8} {counts.failed:>7}"
                f" {counts.acknowledged:>6}  {item.created_at:%Y-%m-%d %H:%M} UTC"
            )
        return 0

    return run_with_services(arguments, "broadcasts", show)


def broadcasts_stop(arguments: argparse.Namespace) -> int:
    """Stop a queued notice; rows not yet sent stay unsent."""

    async def stop(services: Services) -> int:
        if await services.broadcasts.stop(arguments.id):
            say(f"notice #{arguments.id} {STOPPED}")
            return 0
        notice = await services.broadcasts.get(arguments.id)
        if notice is None or notice.queued_at is None:
            raise Refusal(f"there is no notice #{arguments.id}")
        raise Refusal(f"notice #{arguments.id} is {status_word(notice)}, not being delivered")

    return run_with_services(arguments, "broadcasts", stop)


def register(commands: Any) -> None:
    """Add `broadcast` and `broadcasts status|stop` to the CLI."""
    about = "queue a notice (the running bot delivers it)"
    sender = commands.add_parser("broadcast", help=about, description=about)
    add_config(sender)
    notice = sender.add_argument_group("notice")
    notice.add_argument("--text", required=True, help="the notice, in the --fallback language")
    for language, name in (("es", "Spanish"), ("en", "English"), ("fr", "French")):
        notice.add_argument(f"--text-{language}", metavar="TEXT", help=f"the {name} version")
    notice.add_argument(
        "--fallback",
        default="es",
        choices=LANGUAGES,
        help="language of --text, sent to those without their own version (default: es)",
    )
    notice.add_argument("--ack", action="store_true", help='add an "I have read this" button')
    add_meeting_audience(add_audience_options(sender))
    when = sender.add_argument_group("when")
    when.add_argument(
        "--quiet",
        metavar="HH:MM-HH:MM",
        help="deliver only in this window of each member's local time, e.g. 09:00-21:00",
    )
    when.add_argument(
        "--at", metavar="'YYYY-MM-DD HH:MM'", help="send then, in --zone (default: now)"
    )
    when.add_argument("--zone", help="time zone of --at (default: the programme's)")
    sender.set_defaults(handler=broadcast)

    notices = commands.add_parser("broadcasts", help="notices already queued")
    actions = notices.add_subparsers(dest="action", required=True)
    about = "delivery counts of the 50 latest notices"
    status = actions.add_parser("status", help=about, description=about)
    add_config(status)
    status.set_defaults(handler=broadcasts_status)
    about = "stop a notice being delivered (the batch in hand still goes out)"
    stop = actions.add_parser("stop", help=about, description=about)
    stop.add_argument("id", type=int, help="the notice's number (see broadcasts status)")
    add_config(stop)
    stop.set_defaults(handler=broadcasts_stop)
