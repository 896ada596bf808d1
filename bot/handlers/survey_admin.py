"""Staff manage surveys in chat: /surveys lists them with Open and Close buttons ("close now"
asks first), an uploaded form gets "Open for members…", and /meetings offers a survey to a
meeting's attendees or Yes answers. Opening itself is `bot.handlers.survey_opening`.

Buttons: ``v1:sva:o|c|C|k:<survey>`` (open, close?, close now, keep open), ``v1:sva:m:<meeting>``
(a survey for its people), ``v1:sva:w:<meeting>:<a|y>`` (attended or said Yes),
``v1:sva:d:<meeting>:<a|y>:<survey>`` (that draft survey) — `bot.callbacks.SurveyAdmin`.
"""

from __future__ import annotations

from typing import Any

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Message, Update
from telegram.ext import Application, CallbackQueryHandler

from bot.callbacks import MeetingWho, SurveyAdmin
from bot.context import BotContext
from bot.handlers.access import identify, refusal
from bot.handlers.survey_opening import (
    MEETING_WHO,
    begin_opening,
    register_opening,
    title_of,
    zone_of,
)
from bot.services import timefmt
from bot.services.ics import localized
from bot.services.permissions import Permission
from storage.models import AudienceFilter, Member

SHOWN = 10


def button(label: str, press: SurveyAdmin) -> InlineKeyboardButton:
    return InlineKeyboardButton(label, callback_data=press.encode())


def open_button(context: BotContext, language: str, survey_id: int) -> InlineKeyboardButton:
    """'Open for members…' under a survey just loaded (and in /surveys)."""
    label = context.services.texts.plain(language, "survey.admin.button.open", id=survey_id)
    return button(label, SurveyAdmin("o", survey_id))


def meeting_survey_button(
    context: BotContext, language: str, meeting_id: int
) -> InlineKeyboardButton:
    """/meetings' '📋 Survey for those who attended / said Yes'."""
    label = context.services.texts.plain(language, "survey.admin.button.meeting")
    return button(label, SurveyAdmin("m", meeting_id))


# ---- /surveys for staff -------------------------------------------------------------------


async def show_managed(
    message: Message, context: BotContext, member: Member | None, language: str
) -> None:
    """The latest surveys with their state, an Open button for drafts, Close for open ones."""
    services = context.services
    texts = services.texts
    zone, now = zone_of(context, member), services.clock.now()
    surveys = (await services.surveys.listing())[:SHOWN]
    if not surveys:
        await message.chat.send_message(texts.get(language, "survey.admin.none"))
        return
    lines, rows = [texts.get(language, "survey.admin.header")], []
    for survey in surveys:
        invited, _ = await services.surveys.counts(survey.id)
        values: dict[str, Any] = {
            "id": survey.id,
            "title": title_of(survey, language),
            "count": invited,
        }
        if survey.status == "draft":
            lines.append(texts.get(language, "survey.admin.line.draft", **values))
            rows.append([open_button(context, language, survey.id)])
            continue
        closes = survey.closes_at
        if closes is not None:
            values["when"] = timefmt.format_meeting_moment(
                closes, zone, language, closes.year != now.year
            )
        if survey.answerable_at(now):
            key = "survey.admin.line.open_until" if closes is not None else "survey.admin.line.open"
            label = texts.plain(language, "survey.admin.button.close", id=survey.id)
            rows.append([button(label, SurveyAdmin("c", survey.id))])
        elif survey.status == "open" and closes is not None:
            key = "survey.admin.line.ended"
        else:
            key = "survey.admin.line.closed"
        lines.append(texts.get(language, key, **values))
    await message.chat.send_message("\n".join(lines), reply_markup=InlineKeyboardMarkup(rows))


# ---- the buttons --------------------------------------------------------------------------


async def on_press(update: Update, context: BotContext) -> None:
    """A survey-admin button: the right to load and open surveys is checked at every press."""
    query, user = update.callback_query, update.effective_user
    if query is None or user is None:
        return
    services = context.services
    member, language = await identify(update, context)
    if not await services.permissions.allows(member, user.id, Permission.LOAD_SURVEYS):
        await query.answer(
            await refusal(context, user.id, language, Permission.LOAD_SURVEYS.value, query.data)
        )
        return
    press = SurveyAdmin.parse(query.data)
    message = query.message
    if press is None or not isinstance(message, Message):
        await query.answer(services.texts.plain(language, "error.button_unknown"))
        return
    await query.answer(await _act(message, context, member, language, user.id, press))


async def _act(
    message: Message,
    context: BotContext,
    member: Member | None,
    language: str,
    telegram_id: int,
    press: SurveyAdmin,
) -> str | None:
    services = context.services
    texts = services.texts
    stale = texts.plain(language, "error.button_unknown")
    first = press.target
    if press.action == "m":
        return await _meeting_who(message, context, language, first)
    if press.action == "w" and press.who is not None:
        return await _meeting_surveys(message, context, language, first, press.who)
    survey = await services.surveys.survey(press.survey if press.survey is not None else first)
    if survey is None:
        return stale
    if press.action == "o":
        return await begin_opening(message, context, member, language, telegram_id, survey)
    if press.action == "d" and press.who is not None:
        meeting = await services.meetings.get(first)
        if meeting is None:
            return stale
        audience = AudienceFilter(
            meeting_id=meeting.id, meeting_answers=(MEETING_WHO[press.who][1],)
        )
        return await begin_opening(
            message, context, member, language, telegram_id, survey, audience
        )
    title = title_of(survey, language)
    if press.action == "c":
        if not survey.answerable_at(services.clock.now()):
            return texts.plain(language, "survey.admin.not_open", id=survey.id)
        rows = [
            [
                button(
                    texts.plain(language, "survey.admin.button.close_now"),
                    SurveyAdmin("C", survey.id),
                )
            ],
            [
                button(
                    texts.plain(language, "survey.admin.button.keep"), SurveyAdmin("k", survey.id)
                )
            ],
        ]
        await message.chat.send_message(
            texts.get(language, "survey.admin.close_confirm", id=survey.id, title=title),
            reply_markup=InlineKeyboardMarkup(rows),
        )
        return None
    if press.action == "k":
        await message.edit_text(texts.get(language, "survey.admin.kept", id=survey.id, title=title))
        return None
    # "C": close now, confirmed.
    if not await services.surveys.close(survey.id, by=await services.people.actor_of(telegram_id)):
        return texts.plain(language, "survey.admin.not_open", id=survey.id)
    invited, _ = await services.surveys.counts(survey.id)
    await message.edit_text(
        texts.get(language, "survey.admin.closed", id=survey.id, title=title, count=invited)
    )
    return None


async def _meeting_who(
    message: Message, context: BotContext, language: str, meeting_id: int
) -> str | None:
    """A survey for a meeting's people: those who attended, or those who said Yes?"""
    services = context.services
    texts = services.texts
    meeting = await services.meetings.get(meeting_id)
    if meeting is None:
        return texts.plain(language, "error.button_unknown")
    counts = await services.meetings.counts(meeting.id)
    rows = [
        [
            button(
                texts.plain(language, "survey.admin.who.attended", count=counts.checked_in),
                SurveyAdmin("w", meeting.id, "a"),
            )
        ],
        [
            button(
                texts.plain(language, "survey.admin.who.yes", count=counts.yes),
                SurveyAdmin("w", meeting.id, "y"),
            )
        ],
    ]
    title = localized(meeting.titles, language)
    await message.chat.send_message(
        texts.get(language, "survey.admin.meeting_who", id=meeting.id, title=title),
        reply_markup=InlineKeyboardMarkup(rows),
    )
    return None


async def _meeting_surveys(
    message: Message, context: BotContext, language: str, meeting_id: int, who: MeetingWho
) -> str | None:
    """Which draft survey goes to them (only a draft can be opened)."""
    services = context.services
    texts = services.texts
    drafts = [s for s in await services.surveys.listing() if s.status == "draft"][:SHOWN]
    if not drafts:
        return texts.plain(language, "survey.admin.no_drafts")
    rows = [
        [button(f"#{s.id} {title_of(s, language)}"[:60], SurveyAdmin("d", meeting_id, who, s.id))]
        for s in drafts
    ]
    await message.edit_text(
        texts.get(language, "survey.admin.which_draft"), reply_markup=InlineKeyboardMarkup(rows)
    )
    return None


def register_survey_admin(application: Application) -> None:  # type: ignore[type-arg]
    """The survey-admin buttons (v1:sva:) and the opening flow (svyopen)."""
    register_opening(application)
    application.add_handler(CallbackQueryHandler(on_press, pattern="^v1:sva:"))
