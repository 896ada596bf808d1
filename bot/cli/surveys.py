"""``consultbot surveys ...``: load an XLSForm, open it to an audience, close it, list them."""

from __future__ import annotations

import argparse
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bot.cli.audience import add_audience_options, checked_audience, known, known_round
from bot.cli.common import plural, run_with_services, say, subcommand_maker
from bot.services.errors import InputError

if TYPE_CHECKING:
    from bot.context import Services
    from bot.services.surveys import SurveysService

CLI_ACTOR = "cli"
NOBODY = "survey.admin.nobody"  # the service's refusal of an audience matching no member
_say = say


def _run(arguments: argparse.Namespace, action: Callable[[SurveysService], Awaitable[int]]) -> int:
    """Run one action with the surveys service."""
    return run_with_services(arguments, "surveys", lambda services: action(services.surveys))


def load(arguments: argparse.Namespace) -> int:
    """Validate a form file; store it as a draft survey, or print every error."""
    path = Path(arguments.file)
    if not path.is_file():
        _say(f"surveys: no such file: {path}", error=True)
        return 2

    async def action(services: Services) -> int:
        programme = services.config.programme
        round_ = known_round(arguments.round, programme.rounds) if arguments.round else None
        theme = (
            known("theme", arguments.theme, programme.thematic_groups) if arguments.theme else None
        )
        outcome = await services.surveys.load_file(path, CLI_ACTOR, round_, theme)
        for warning in outcome.warnings:
            _say(f"warning: {warning}", error=True)
        if outcome.survey is None:
            for problem in outcome.errors:
                _say(f"error: {problem}", error=True)
            count = plural(len(outcome.errors), "error")
            _say(f"surveys: {path.name} refused ({count}); nothing stored")
            return 1
        survey = outcome.survey
        _say(
            f"survey #{survey.id} loaded: {survey.form_id} version {survey.version}, "
            f"up to {survey.question_count} questions "
            f"(draft; open it with: surveys open {survey.id})"
        )
        return 0

    return run_with_services(arguments, "surveys", action)


def no_survey(survey_id: int) -> int:
    """The one refusal for a survey number that does not exist (results, open, close): exit 1."""
    _say(f"surveys: there is no survey #{survey_id}", error=True)
    return 1


def open_survey(arguments: argparse.Namespace) -> int:
    """Open a draft survey to an audience and queue its invitations."""
    from bot.services.surveys import MeetingFilter, parse_closing

    meeting_filter: MeetingFilter | None = None
    if arguments.attended:
        meeting_filter = "attended"
    elif arguments.rsvp == "yes":
        meeting_filter = "rsvp_yes"

    async def action(services: Services) -> int:
        audience = await checked_audience(services, arguments)
        service = services.surveys
        if await service.survey(arguments.id) is None:
            return no_survey(arguments.id)
        zone = arguments.zone or service.default_zone()
        closes = parse_closing(arguments.closes, zone) if arguments.closes else None
        try:
            invited = await service.open(
                arguments.id, audience, arguments.meeting, meeting_filter, closes
            )
        except InputError as error:
            if error.key != NOBODY:
                raise
            # Nothing was opened: the survey can be opened later, to an audience with people.
            _say(
                f"surveys: no member matches this audience; survey #{arguments.id} is still"
                " a draft (nothing was sent)",
                error=True,
            )
            return 1
        _say(f"survey #{arguments.id} open; {plural(invited, 'member')} invited")
        return 0

    return run_with_services(arguments, "surveys", action)


def close(arguments: argparse.Namespace) -> int:
    """Close a survey: answers become read-only."""

    async def action(service: SurveysService) -> int:
        survey = await service.survey(arguments.id)
        if survey is None:
            return no_survey(arguments.id)
        if not await service.close(arguments.id):
            state = "still a draft" if survey.status == "draft" else f"already {survey.status}"
            _say(f"surveys: survey #{arguments.id} is {state}, not open", error=True)
            return 1
        _say(f"survey #{arguments.id} closed")
        return 0

    return _run(arguments, action)


def listing(arguments: argparse.Namespace) -> int:
    """Every survey with its status, invitations, submissions and the answers they hold."""

    async def action(services: Services) -> int:
        service = services.surveys
        submitted = await services.results.submissions()
        _say(
            "id  status  form_id / version                      invited  submissions  answers"
            "  closes (UTC)"
        )
        for survey in await service.listing():
            invited, _ = await service.counts(survey.id)
            submissions, answers = submitted.get(survey.id, (0, 0))
            closes = f"{survey.closes_at:%Y-%m-%d %H:%M}" if survey.closes_at else "-"
            name = f"{survey.form_id} / {survey.version}"
            _say(
                f"{survey.id:<3} {survey.status:<7} {name:<38} {invited:>7} {submissions:>12}"
                f" {answers:>8}  {closes}"
            )
        _say("submissions: members who submitted; answers: the single answers they submitted")
        return 0

    return run_with_services(arguments, "surveys", action)


def register(subparsers: Any, parent: argparse.ArgumentParser | None = None) -> Any:
    """Add `surveys load|open|close|list`; returns the surveys subparsers for more commands."""
    surveys = subparsers.add_parser("surveys", help="surveys from XLSForm")
    commands = surveys.add_subparsers(dest="action", required=True)
    command = subcommand_maker(commands, parent)
    number = "the survey's number (see surveys list)"

    loader = command("load", "validate an XLSForm (.xlsx) and store it as a draft survey")
    loader.add_argument("file", help="the XLSForm .xlsx file")
    loader.add_argument(
        "--round", help="the consultation round: its number or name in programme.rounds"
    )
    loader.add_argument("--theme", help="the thematic group (a key from the config)")
    loader.set_defaults(handler=load)
    opener = command("open", "open a draft survey to an audience and queue invitations")
    opener.add_argument("id", type=int, help=number)
    audience = add_audience_options(opener)
    audience.add_argument(
        "--meeting", type=int, metavar="ID", help="only people of this meeting (with a filter)"
    )
    who = audience.add_mutually_exclusive_group()
    who.add_argument("--attended", action="store_true", help="those checked in at --meeting")
    who.add_argument("--rsvp", choices=("yes",), help="those who answered Yes to --meeting")
    when = opener.add_argument_group("when")
    when.add_argument(
        "--closes",
        metavar="'YYYY-MM-DD HH:MM'",
        help="closing time, in --zone, e.g. '2026-12-20 18:00'",
    )
    when.add_argument("--zone", help="time zone of --closes (default: the programme's)")
    opener.set_defaults(handler=open_survey)
    closer = command("close", "close a survey (answers become read-only)")
    closer.add_argument("id", type=int, help=number)
    closer.set_defaults(handler=close)
    command("list", "every survey with invitations, submissions and answers").set_defaults(
        handler=listing
    )
    return commands
