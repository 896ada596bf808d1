"""/results: pick a survey, read its suppressed counts, split them, send "what we heard" back.

Buttons: ``v1:res:<action>:<survey id>`` — ``s``/``a`` all, ``c`` by country, ``r`` by province or
state, ``t`` by sector, ``w`` preview "what we heard", ``y`` send it, ``n`` do not. Every press
re-checks who may see the survey; anything else is answered as no longer valid.
"""

from __future__ import annotations

import re

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Message, Update
from telegram.ext import Application, CallbackQueryHandler, CommandHandler

from bot.callbacks import MAX_ID
from bot.context import BotContext
from bot.handlers.access import actor_of, identify
from bot.handlers.proposals import send_parts
from bot.i18n import Markup, Texts
from bot.services.permissions import Permission, allows
from bot.services.results import Results, ResultsService, percent
from storage.models import Member
from storage.record import GroupBy, SurveyHead

FLOW = "res"
_DATA = re.compile(r"^v1:res:([sacrtwyn]):([0-9]{1,16})$")
_SPLITS: dict[str, GroupBy | None] = {
    "s": None,
    "a": None,
    "c": "country",
    "r": "region",
    "t": "sector",
}


def _button(label: str, action: str, survey_id: int) -> InlineKeyboardButton:
    return InlineKeyboardButton(label, callback_data=f"v1:{FLOW}:{action}:{survey_id}")


def _title(survey: SurveyHead, language: str) -> str:
    titles = survey.titles
    return titles.get(language) or titles.get(survey.default_language) or survey.form_id


async def show_surveys(update: Update, context: BotContext) -> None:
    """/results: the surveys this person may read results of, as buttons."""
    message, user = update.effective_message, update.effective_user
    if message is None or user is None:
        return
    texts = context.services.texts
    member, language = await identify(update, context)
    grants = await context.services.permissions.grants(member, user.id)
    service = context.services.results
    if service.viewable_themes(grants) == set():
        await message.chat.send_message(texts.get(language, "error.not_allowed"))
        return
    surveys = await service.surveys(grants)
    if not surveys:
        await message.chat.send_message(texts.get(language, "results.none"))
        return
    rows = [
        [
            _button(
                texts.plain(
                    language, "results.survey_button", title=_title(s, language), version=s.version
                )[:60],
                "s",
                s.id,
            )
        ]
        for s in surveys
    ]
    await message.chat.send_message(
        texts.get(language, "results.choose"), reply_markup=InlineKeyboardMarkup(rows)
    )


def render(results: Results, texts: Texts) -> list[str]:
    """The results as HTML blocks (one per question), every value escaped."""
    language, survey = results.language, results.survey
    head = texts.get(
        language,
        "results.header",
        title=_title(survey, language),
        version=survey.version,
        status=texts.plain(language, f"results.status.{survey.status}"),
        k=results.k,
    )
    if results.by is not None:
        by = texts.plain(language, f"results.by.{results.by}")
        head += "\n" + texts.get(language, "results.header.by", by=by)
    blocks = [head]
    for question in results.questions:
        key = "results.question.multiple" if question.multiple else "results.question"
        lines = [texts.get(language, key, label=question.label)]
        if not question.groups:
            lines.append(texts.get(language, "results.no_answers"))
        for group in question.groups:
            lines.append(_group_line(texts, language, group.label, group.respondents))
            for option in group.options:
                if option.suppressed:
                    lines.append(texts.get(language, "results.option.hidden", label=option.label))
                else:
                    lines.append(
                        texts.get(
                            language,
                            "results.option",
                            label=option.label,
                            count=option.count,
                            share=percent(option.share, language),
                        )
                    )
        blocks.append("\n".join(lines))
    return blocks


def _group_line(texts: Texts, language: str, label: str, respondents: int | None) -> str:
    if respondents is None:
        return texts.get(language, "results.group.hidden", group=label)
    return texts.get(language, "results.group", group=label, count=respondents)


def _markup(
    texts: Texts, language: str, survey_id: int, may_send: bool, by: GroupBy | None
) -> InlineKeyboardMarkup:
    splits = [("a", "results.button.all", None), ("c", "results.button.country", "country")]
    splits += [("r", "results.button.region", "region"), ("t", "results.button.sector", "sector")]
    row = [
        _button(texts.plain(language, key), action, survey_id)
        for action, key, split in splits
        if split != by
    ]
    rows = [row[:2], row[2:]]
    if may_send:
        rows.append([_button(texts.plain(language, "results.button.heard"), "w", survey_id)])
    return InlineKeyboardMarkup(rows)


async def on_button(update: Update, context: BotContext) -> None:
    """A press on a results button: strict data, permissions checked again."""
    query, user = update.callback_query, update.effective_user
    if query is None or user is None:
        return
    member, language = await identify(update, context)
    notice = await _press(query.data, query.message, context, member, language, user.id)
    await query.answer(notice)


async def _press(
    data: str | None,
    message: object,
    context: BotContext,
    member: Member | None,
    language: str,
    telegram_id: int,
) -> str | None:
    services = context.services
    texts = services.texts
    stale = texts.plain(language, "error.button_unknown")
    match = _DATA.match(data or "")
    if match is None or not isinstance(message, Message):
        return stale
    action, raw_id = match.groups()
    if int(raw_id) > MAX_ID:
        return stale
    grants = await services.permissions.grants(member, telegram_id)
    service = context.services.results
    survey = await service.survey(int(raw_id), grants)
    if survey is None:
        return stale
    may_send = allows(grants, Permission.SEND_NOTICES)
    if action in _SPLITS:
        by = _SPLITS[action]
        results = await service.results(survey, language, by)
        markup = _markup(texts, language, survey.id, may_send, by)
        await send_parts(message, render(results, texts), markup)
        return None
    if not may_send:
        return texts.plain(language, "error.not_allowed")
    if action == "w":
        return await _preview(message, context, service, survey, language)
    if message.reply_markup is None:
        # The preview was already answered (a double tap, or a replayed press).
        return stale
    await message.edit_reply_markup(None)
    if action == "n":
        await message.chat.send_message(texts.get(language, "results.heard.cancelled"))
        return None
    sent = await service.send_what_we_heard(survey, await actor_of(context, telegram_id))
    services.wake_delivery()
    await message.chat.send_message(
        texts.get(
            language,
            "results.heard.queued",
            notices=Markup(texts.get(language, "results.heard.notices", count=len(sent))),
            members=Markup(
                texts.get(language, "results.heard.members", count=sum(n for _, n in sent))
            ),
        )
    )
    return None


async def _preview(
    message: Message,
    context: BotContext,
    service: ResultsService,
    survey: SurveyHead,
    language: str,
) -> str | None:
    """Show what would go to each province or state, and ask to confirm."""
    texts = context.services.texts
    heard = await service.what_we_heard(survey)
    if not heard:
        await message.chat.send_message(
            texts.get(language, "results.heard.none", k=service.min_cell())
        )
        return None
    first = heard[0].texts.get(language) or next(iter(heard[0].texts.values()))
    markup = InlineKeyboardMarkup(
        [
            [
                _button(texts.plain(language, "results.heard.confirm"), "y", survey.id),
                _button(texts.plain(language, "results.heard.cancel"), "n", survey.id),
            ]
        ]
    )
    await message.chat.send_message(
        texts.get(
            language,
            "results.heard.preview",
            count=len(heard),
            regions=", ".join(h.label for h in heard),
            text=first,
        ),
        reply_markup=markup,
    )
    return None


def register_results(application: Application) -> None:  # type: ignore[type-arg]
    """/results and its buttons."""
    application.add_handler(CommandHandler("results", show_surveys))
    application.add_handler(CallbackQueryHandler(on_button, pattern=f"^v1:{FLOW}:"))
