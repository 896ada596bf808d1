"""Survey invitations, rendered at send time: title, questions, closing time, a Start button."""

from __future__ import annotations

from typing import TYPE_CHECKING

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bot.callbacks import SurveyStart
from bot.clock import Clock
from bot.delivery.render import NoticeRenderer, RenderedNotice
from bot.i18n import Texts, format_meeting_time
from storage.models import OutboxRow
from storage.surveys import Survey

if TYPE_CHECKING:
    from bot.context import Services
    from bot.services.people import PeopleService
    from bot.services.surveys import SurveysService


def start_data(survey_id: int) -> str:
    """The Start button's data (handled by bot/handlers/surveys.py)."""
    return SurveyStart(survey_id).encode()


def survey_title(survey: Survey, language: str) -> str:
    """The title in the member's language, else the form's default, else the form_id."""
    titles = survey.titles
    for code in (language, survey.default_language, ""):
        if titles.get(code):
            return titles[code]
    return next((text for text in titles.values() if text), survey.form_id)


class SurveyInviteRenderer:
    """An invitation; skipped when the survey closed before it could be sent."""

    def __init__(
        self,
        surveys: SurveysService,
        people: PeopleService,
        texts: Texts,
        clock: Clock,
        default_zone: str,
    ) -> None:
        self._surveys = surveys
        self._people = people
        self._texts = texts
        self._clock = clock
        self._zone = default_zone

    async def render(self, row: OutboxRow) -> RenderedNotice | None:
        """Title, number of questions, closing time in the member's zone, Start."""
        if row.ref is None:
            return None
        survey = await self._surveys.survey(row.ref)
        if survey is None or not survey.answerable_at(self._clock.now()):
            return None
        language = row.language
        texts = self._texts
        # texts.get escapes the values it inserts: the title is passed as written.
        lines = [texts.get(language, "survey.invite.title", title=survey_title(survey, language))]
        lines.append(texts.get(language, "survey.invite.questions", count=survey.question_count))
        if survey.closes_at is not None:
            member = await self._people.member_by_id(row.member_id)
            zone = (member.settled_zone if member else None) or self._zone
            when = format_meeting_time(survey.closes_at, zone, language)
            lines.append(texts.get(language, "survey.invite.closes", when=when))
        lines.append(texts.get(language, "survey.invite.how"))
        label = texts.plain(language, "survey.button.start_invite")
        markup = InlineKeyboardMarkup(
            [[InlineKeyboardButton(label, callback_data=start_data(survey.id))]]
        )
        return RenderedNotice("\n".join(lines), markup)


def survey_renderers(services: Services) -> dict[str, NoticeRenderer]:
    """The notice kinds surveys add to the delivery worker."""
    return {
        "survey_invite": SurveyInviteRenderer(
            services.surveys,
            services.people,
            services.texts,
            services.clock,
            services.config.programme.default_time_zone,
        )
    }
