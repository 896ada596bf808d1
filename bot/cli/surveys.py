"""``consultbot surveys ...``: load an XLSForm, open it to an audience, close it, list them."""

from __future__ import annotations

import argparse
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bot.cli.audience import add_audience_options, checked_audience
from bot.cli.common import run_with_services, say, subcommand_maker

if TYPE_CHECKING:
    from bot.context import Services
    from bot.services.surveys import SurveysService

CLI_ACTOR = "cli"
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

    async def action(service: SurveysService) -> int:
        outcome = await service.load_file(path, CLI_ACTOR, arguments.round, arguments.theme)
        for warning in outcome.warnings:
            _say(f"warning: {warning}", error=True)
        if outcome.survey is None:
            for problem in outcome.errors:
                _say(f"error: {problem}", error=True)
            _say(f"surveys: {path.name} refused ({len(outcome.errors)} errors); nothing stored")
            return 1
        survey = outcome.survey
        _say(
            f"survey #{survey.id} loaded: {survey.form_id} version {survey.version}, "
            f"up to {survey.question_count} questions "
            f"(draft; open it with: surveys open {survey.id})"
        )
        return 0

    return _run(arguments, action)


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
        zone = arguments.zone or service.default_zone()
        closes = parse_closing(arguments.closes, zone) if arguments.closes else None
        invited = await service.open(
            arguments.id, audience, arguments.meeting, meeting_filter, closes
        )
        _say(f"survey #{arguments.id} open; {invited} members invited")
        return 0

    return run_with_services(arguments, "surveys", action)


def close(arguments: argparse.Namespace) -> int:
    """Close a survey: answers become read-only."""

    async def action(service: SurveysService) -> int:
        closed = await service.close(arguments.id)
        _say(f"survey #{arguments.id} {'closed' if closed else 'was not open'}")
        return 0 if closed else 1

    return _run(arguments, action)


def listing(arguments: argparse.Namespace) -> int:
    """Every survey with its status, invitations and answers."""

    async def action(service: SurveysService) -> int:
        _say("id  status  form_id / version                      invited  answers  closes (UTC)")
        for survey in await service.listing():
            invited, answers = await service.counts(survey.id)
            closes = f"{survey.closes_at:%Y-%m-%d %H:%M}" if survey.closes_at else "-"
            name = f"{survey.form_id} / {survey.version}"
            _say(
                f"{survey.id:<3} {survey.status:<7} {name:<38} {invited:>7} {answers:>8}  {closes}"
            )
        return 0

    return _run(arguments, action)


def register(subparsers: Any, parent: argparse.ArgumentParser | None = None) -> Any:
    """Add `surveys load|open|close|list`; returns the surveys subparsers for more commands."""
    surveys = subparsers.add_parser("surveys", help="surveys from XLSForm")
    commands = surveys.add_subparsers(dest="action", required=True)
    command = subcommand_maker(commands, parent)
    number = "the survey's number (see surveys list)"

    loader = command("load", "validate an XLSForm (.xlsx) and store it as a draft survey")
    loader.add_argument("file", help="the XLSForm .xlsx file")
    loader.add_argument("--round", help="the consultation round these answers belong to")
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
    command("list", "every survey with invitations and answers").set_defaults(handler=listing)
    return commands
