"""/mydata as a person reads it: labelled lines in their language beside the full JSON copy.

The JSON (bot/services/members.py) is the portable copy, with the database's own field names and
codes. This summary says the same things in words: the profile as /profile shows it (region and
time zone named in the member's language, sector and themes by their labels), when the privacy
notice was accepted or withdrawn, the meetings, surveys and proposals they answered or sent.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from babel.dates import format_date

from bot.context import BotContext
from bot.handlers.chunks import split_message
from bot.handlers.profile_view import profile_text
from bot.i18n import Texts, babel_locale
from bot.services import timefmt
from storage.models import Member

Row = dict[str, Any]


def _when(value: object) -> datetime | None:
    """A stored instant, whether the backend gave a datetime or its ISO text."""
    if isinstance(value, datetime):
        moment = value
    elif isinstance(value, str) and value:
        moment = datetime.fromisoformat(value)
    else:
        return None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def _day(texts: Texts, language: str, zone: str, value: object) -> str:
    """'5 de diciembre de 2026' in the member's zone; '—' if there is no date."""
    moment = _when(value)
    if moment is None:
        return texts.plain(language, "value.none")
    local = moment.astimezone(timefmt.zone_info(zone))
    return str(format_date(local, "long", locale=babel_locale(language)))


def _items(document: Row, section: str) -> list[Row]:
    found = document.get("sections", {}).get(section, {}).get("items", [])
    return [item for item in found if isinstance(item, dict)]


def _section(texts: Texts, language: str, heading: str, lines: list[str]) -> list[str]:
    return [
        "",
        texts.get(language, heading),
        *(lines or [texts.get(language, "mydata.summary.none")]),
    ]


def _consents(texts: Texts, language: str, zone: str, document: Row) -> list[str]:
    return [
        texts.get(
            language,
            f"mydata.summary.consent.{event['action']}",
            version=event["notice_version"],
            date=_day(texts, language, zone, event["at"]),
        )
        for event in _items(document, "consent_history")
        if event.get("action") in ("accept", "withdraw")
    ]


def _meeting_answer(texts: Texts, language: str, meeting: Row) -> str:
    if meeting.get("waitlist_place"):
        answer = texts.plain(language, "mydata.summary.waitlist", place=meeting["waitlist_place"])
    else:
        answer = texts.plain(language, f"mtg.answer.{meeting['answer']}")
    if meeting.get("attended"):
        answer += ", " + texts.plain(language, "mydata.summary.attended")
    return answer


def _meetings(texts: Texts, language: str, zone: str, document: Row) -> list[str]:
    lines = []
    for meeting in _items(document, "meetings"):
        start = _when(meeting.get("start_at"))
        when = (
            timefmt.format_meeting_moment(start, zone, language, with_year=True)
            if start is not None
            else texts.plain(language, "value.none")
        )
        lines.append(
            texts.get(
                language,
                "mydata.summary.meeting",
                title=meeting.get("title") or texts.plain(language, "value.none"),
                when=when,
                answer=_meeting_answer(texts, language, meeting),
            )
        )
    return lines


def _surveys(texts: Texts, language: str, zone: str, document: Row) -> list[str]:
    lines = []
    for survey in _items(document, "surveys"):
        title = survey.get("title") or texts.plain(language, "value.none")
        if survey.get("submitted_at"):
            date = _day(texts, language, zone, survey["submitted_at"])
            lines.append(
                texts.get(language, "mydata.summary.survey.submitted", title=title, date=date)
            )
        elif survey.get("started_at") or survey.get("answers"):
            lines.append(texts.get(language, "mydata.summary.survey.open", title=title))
    return lines


def _proposals(texts: Texts, language: str, zone: str, document: Row) -> list[str]:
    return [
        texts.get(
            language,
            "mydata.summary.proposal",
            theme=proposal.get("theme_label") or proposal.get("theme"),
            date=_day(texts, language, zone, proposal.get("created_at")),
        )
        for proposal in _items(document, "proposals")
    ]


async def summary_messages(context: BotContext, member: Member, document: Row) -> list[str]:
    """The summary as HTML messages Telegram accepts, the file's announcement last."""
    texts = context.services.texts
    language = member.language
    zone = member.settled_zone or context.services.config.programme.default_time_zone
    lines = [await profile_text(context, member, "mydata.summary.title")]
    for heading, part in (
        ("mydata.summary.consents", _consents),
        ("mydata.summary.meetings", _meetings),
        ("mydata.summary.surveys", _surveys),
        ("mydata.summary.proposals", _proposals),
    ):
        lines += _section(texts, language, heading, part(texts, language, zone, document))
    lines += ["", texts.get(language, "mydata.summary.file")]
    return split_message(lines)
