"""/results: pick a survey, read it as the summary sheet counts it, split it, see its charts.

Buttons: ``v1:res:<action>:<survey id>`` — ``s``/``a`` everyone, ``c`` by country, ``r`` by
province or state, ``t`` by sector, ``g`` the charts, ``h`` the charts stacked by country,
``w`` "what we heard" (its own flow, bot.handlers.what_we_heard). Every press re-checks who may
see the survey; anything else is answered as no longer valid.
"""

from __future__ import annotations

import asyncio
import html
from datetime import datetime
from zoneinfo import ZoneInfo

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Message, Update
from telegram.ext import Application, CallbackQueryHandler, CommandHandler

from bot.callbacks import ResultsAction, ResultsButton
from bot.context import BotContext
from bot.flows.steps import StepFlow
from bot.handlers.access import identify, refusal, refuse
from bot.handlers.proposals import send_parts
from bot.handlers.what_we_heard import register_what_we_heard, start_what_we_heard
from bot.i18n import Texts, format_number
from bot.services.permissions import Permission, allows
from bot.services.results import GroupBlock, QuestionBlock, Results, percent
from bot.services.results_charts import charts as chart_images
from storage.models import Member
from storage.record import GroupBy, SurveyHead

FLOW = "res"
_SPLITS: dict[str, GroupBy | None] = {
    "s": None,
    "a": None,
    "c": "country",
    "r": "region",
    "t": "sector",
}


def _button(label: str, action: ResultsAction, survey_id: int) -> InlineKeyboardButton:
    return InlineKeyboardButton(label, callback_data=ResultsButton(action, survey_id).encode())


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
        await refuse(context, message, user.id, language, Permission.VIEW_RESULTS.value)
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


# ---- the results as text --------------------------------------------------------------------
def render(results: Results, texts: Texts) -> list[str]:
    """The results as HTML blocks (a header, then one per question), every value escaped."""
    language, survey = results.language, results.survey
    head = texts.get(
        language,
        "results.header",
        title=_title(survey, language),
        version=survey.version,
        status=texts.plain(language, f"results.status.{survey.status}"),
    )
    if results.by is not None:
        by = texts.plain(language, f"results.by.{results.by}")
        head += "\n" + texts.get(language, "results.header.by", by=by)
    if results.submissions is None:
        head += "\n\n" + texts.get(language, "results.too_few", k=results.k)
    else:
        head += "\n\n" + texts.get(
            language, "results.people", count=results.submissions, k=results.k
        )
    return [head, *(_question(results, texts, question) for question in results.questions)]


def _question(results: Results, texts: Texts, question: QuestionBlock) -> str:
    language, k = results.language, results.k
    key = "results.question.multiple" if question.multiple else "results.question"
    lines = [texts.get(language, key, label=question.label)]
    skipped = "—" if question.skipped is None else format_number(question.skipped, language)
    if question.answered is None:
        lines.append(texts.get(language, "results.answered.hidden", skipped=skipped))
    else:
        lines.append(
            texts.get(language, "results.answered", count=question.answered, skipped=skipped)
        )
    if question.kind == "select":
        lines += _select(results, texts, question)
    elif question.kind == "number":
        lines += _numbers(results, texts, question)
    elif question.kind == "text":
        lines.append(texts.get(language, "results.text"))
    if question.kind == "select" and not results.too_few and _all_hidden(question):
        lines.append(texts.get(language, "results.all_hidden", k=k))
    return "\n".join(lines)


def _all_hidden(question: QuestionBlock) -> bool:
    return bool(question.groups) and all(o.suppressed for g in question.groups for o in g.options)


def _select(results: Results, texts: Texts, question: QuestionBlock) -> list[str]:
    language = results.language
    lines: list[str] = []
    if not question.groups and question.answered == 0:
        return [texts.get(language, "results.no_answers")]
    countries = {g.key: g for g in question.countries}
    above = ""
    for group in question.groups:
        if results.by == "region" and group.country != above:
            # The country above its provinces/states, with the sheet's own count.
            above = group.country
            country = countries.get(above)
            if country is not None:
                lines.append(_count_line(texts, language, "results.country", country))
        if results.by is not None:
            lines.append(_count_line(texts, language, "results.group", group))
        place = group.key if results.by == "country" else group.country
        lines += _options(texts, language, group, place)
    return lines


def _count_line(texts: Texts, language: str, key: str, group: GroupBlock) -> str:
    if group.respondents is None:
        return texts.get(language, f"{key}.hidden", group=group.label)
    return texts.get(language, key, group=group.label, count=group.respondents)


def _options(texts: Texts, language: str, group: GroupBlock, place: str) -> list[str]:
    """A group's options; provinces and states listed under their own country."""
    lines: list[str] = []
    home = ""
    for option in group.options:
        if place and option.home and option.home != place and not option.count:
            continue  # California is not counted under Canada
        if option.home and option.home != home and not place:
            home = option.home
            name = (
                texts.label(language, "country", home)
                if texts.has("es", f"country.{home}")
                else home
            )
            lines.append(texts.get(language, "results.home", country=name))
        indent = "  " if home and not place else ""
        if option.suppressed:
            line = texts.get(language, "results.option.hidden", label=option.label)
        else:
            line = texts.get(
                language,
                "results.option",
                label=option.label,
                count=format_number(option.count or 0, language),
                share=percent(option.share, language),
            )
        lines.append(indent + line)
    return lines


def _numbers(results: Results, texts: Texts, question: QuestionBlock) -> list[str]:
    language, k = results.language, results.k
    if not question.statistics:
        return [] if results.too_few else [texts.get(language, "results.stats.too_few", k=k)]
    figures = {
        name: format_number(round(value, 2), language) for name, value in question.statistics
    }
    lines = [texts.get(language, "results.stats", **figures)]
    bins = " · ".join(
        f"{label}: {'—' if count is None else format_number(count, language)}"
        for label, count in question.histogram
    )
    lines.append(texts.get(language, "results.histogram", bins=bins))
    if results.by is not None:
        lines.append(texts.get(language, "results.numbers.everyone"))
    return lines


def _markup(
    texts: Texts, language: str, survey_id: int, may_send: bool, by: GroupBy | None
) -> InlineKeyboardMarkup:
    splits: list[tuple[ResultsAction, str, GroupBy | None]] = [
        ("a", "results.button.all", None),
        ("c", "results.button.country", "country"),
    ]
    splits += [("r", "results.button.region", "region"), ("t", "results.button.sector", "sector")]
    row = [
        _button(texts.plain(language, key), action, survey_id)
        for action, key, split in splits
        if split != by
    ]
    # Charts follow the view: stacked by country when it is split by place.
    drawing: ResultsAction = "h" if by in ("country", "region") else "g"
    rows = [
        row[:2],
        row[2:],
        [_button(texts.plain(language, "results.button.charts"), drawing, survey_id)],
    ]
    if may_send:
        rows.append([_button(texts.plain(language, "results.button.heard"), "w", survey_id)])
    return InlineKeyboardMarkup(rows)


# ---- buttons ----------------------------------------------------------------------------------
async def on_button(update: Update, context: BotContext, heard: StepFlow) -> None:
    """A press on a results button: strict data, permissions checked again."""
    query, user = update.callback_query, update.effective_user
    if query is None or user is None:
        return
    member, language = await identify(update, context)
    notice = await _press(heard, query.data, query.message, context, member, language, user.id)
    await query.answer(notice)


async def _press(
    heard: StepFlow,
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
    press = ResultsButton.parse(data)
    if press is None or not isinstance(message, Message):
        return stale
    action = press.action
    grants = await services.permissions.grants(member, telegram_id)
    service = context.services.results
    survey = await service.survey(press.survey, grants)
    if survey is None:
        return stale
    may_send = allows(grants, Permission.SEND_NOTICES)
    if action in _SPLITS:
        by = _SPLITS[action]
        results = await service.results(survey, language, by)
        markup = _markup(texts, language, survey.id, may_send, by)
        await send_parts(message, render(results, texts), markup)
        return None
    if action in ("g", "h"):
        await _charts(
            message, context, survey, language, "country" if action == "h" else None, member
        )
        return None
    if not may_send:
        return await refusal(context, telegram_id, language, Permission.SEND_NOTICES.value, data)
    await start_what_we_heard(heard, message, context, survey, language, telegram_id)
    return None


async def _charts(
    message: Message,
    context: BotContext,
    survey: SurveyHead,
    language: str,
    by: GroupBy | None,
    member: Member | None,
) -> None:
    """A chart image per question, drawn by the chart processes while the bot answers others."""
    services = context.services
    texts = services.texts
    results = await services.results.results(survey, language, by)
    images, left = chart_images(results, texts)
    if not images:
        await message.chat.send_message(texts.get(language, "results.charts.none", k=results.k))
        return
    await message.chat.send_message(texts.get(language, "results.charts.drawing"))
    drawn = await asyncio.gather(*(services.charts.draw(image.spec) for image in images))
    zone = (member.time_zone if member else None) or services.config.programme.default_time_zone
    day = _day(services.clock.now(), zone)
    for image, png in zip(images, drawn, strict=True):
        await message.chat.send_photo(
            png,
            caption=html.escape(image.alt, quote=False),
            filename=f"{survey.form_id}_{image.question}_{day}.png",
        )
    if left:
        await message.chat.send_message(
            "\n".join(
                texts.get(language, "results.charts.without", question=q.label, k=results.k)
                for q in left
            )
        )


def _day(moment: datetime, zone: str) -> str:
    """The reader's local day, as files are named (<form_id>_<question>_<YYYY-MM-DD>)."""
    return moment.astimezone(ZoneInfo(zone)).date().isoformat()


def register_results(application: Application) -> None:  # type: ignore[type-arg]
    """/results, its buttons and the "what we heard" flow it starts."""
    heard = register_what_we_heard(application)

    async def pressed(update: Update, context: BotContext) -> None:
        await on_button(update, context, heard)

    application.add_handler(CommandHandler("results", show_surveys))
    application.add_handler(CallbackQueryHandler(pressed, pattern=f"^v1:{FLOW}:"))
