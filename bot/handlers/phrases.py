"""/phrases by buttons: a survey's free-text question, or a theme's proposals → a grouping
(country, province/state, sector) → the recurring key phrases of each group.

Only questions people answered in their own words are offered (never choices or metadata); groups
under k answers show nothing. A focal point is offered their own themes' proposals and the surveys
of their themes, as /results offers them.
"""

from __future__ import annotations

from typing import Any

from telegram import Message, Update
from telegram.ext import Application

from bot import flows
from bot.context import BotContext
from bot.flows.steps import Choice, Step, StepFlow, StepList, StepView
from bot.handlers.access import identify, refuse
from bot.handlers.chunks import split_message
from bot.handlers.evidence_screens import cut_words
from bot.language import conversation_language
from bot.services.errors import InputError
from bot.services.exports import GroupPhrases
from bot.services.permissions import Permission, allows, themes_of
from bot.services.regions import region as find_region
from storage.models import Conversation

FLOW = "phrases"
GROUPINGS = ("country", "region", "sector")
THEMES = "themes"
SURVEYS_SHOWN = 20


def _sources(view: StepView) -> list[Choice]:
    """The surveys with free-text questions, then the themes' proposals."""
    found = [
        Choice(f"s{survey_id}", f"📋 #{survey_id} {title}")
        for survey_id, title, _ in _surveys(view)
    ]
    if view.extra.get("themes"):
        found.append(Choice(THEMES, view.texts.plain(view.language, "phrases.source.themes")))
    return found


def _surveys(view: StepView) -> list[tuple[int, str, list[list[str]]]]:
    return [(int(s[0]), str(s[1]), list(s[2])) for s in view.extra.get("surveys", [])]


def _after_source(view: StepView) -> str:
    return "theme" if view.values.get("source") == THEMES else "question"


def _survey_questions(view: StepView) -> list[tuple[str, str]]:
    """(name, label) of the chosen survey's free-text questions."""
    chosen = str(view.values.get("source", ""))
    for survey_id, _, questions in _surveys(view):
        if f"s{survey_id}" == chosen:
            return [(str(name), str(label)) for name, label in questions]
    return []


def _questions(view: StepView) -> list[Choice]:
    return [Choice(name, f"✍ {label}") for name, label in _survey_questions(view)]


def _question_asked(view: StepView) -> str:
    chosen = str(view.values.get("source", ""))
    title = next((t for i, t, _ in _surveys(view) if f"s{i}" == chosen), "")
    return view.texts.get(view.language, "phrases.ask.question", survey=title)


def _themes(view: StepView) -> list[Choice]:
    return [Choice(key, label) for key, label in view.extra.get("themes", [])]


def _groupings(view: StepView) -> list[Choice]:
    return [Choice(by, view.texts.plain(view.language, f"export.filter.{by}")) for by in GROUPINGS]


def _asked(key: str) -> Any:
    return lambda view: view.texts.get(view.language, key)


STEPS = StepList(
    [
        Step(
            "source", "choice", _asked("phrases.ask.source"), choices=_sources, next=_after_source
        ),
        Step("question", "choice", _question_asked, choices=_questions, next=lambda view: "by"),
        Step("theme", "choice", _asked("phrases.ask.theme"), choices=_themes),
        Step("by", "choice", _asked("phrases.ask.by"), choices=_groupings, columns=3),
    ]
)


async def phrases_command(update: Update, context: BotContext, engine: StepFlow) -> None:
    """/phrases: what may be read (surveys' free-text questions, themes' proposals) as buttons."""
    message, user = update.effective_message, update.effective_user
    if message is None or user is None:
        return
    services = context.services
    member, language = await identify(update, context)
    grants = await services.permissions.grants(member, user.id)
    every = allows(grants, Permission.VIEW_RESULTS)
    themes = [
        theme
        for theme in services.config.programme.thematic_groups
        if every or (theme in themes_of(grants) and allows(grants, Permission.VIEW_RESULTS, theme))
    ]
    if not themes and not every:
        await refuse(context, message, user.id, language, Permission.VIEW_RESULTS.value)
        return
    surveys = []
    for survey in await services.surveys.listing():
        if survey.status == "draft" or not allows(grants, Permission.VIEW_RESULTS, survey.theme):
            continue
        try:
            form = await services.surveys.form(survey)
        except RuntimeError:  # a stored form that no longer parses has no questions to offer
            continue
        shown = form.language_for(language)
        questions = [
            [q.name, cut_words(q.label(shown) or q.name, 56)]
            for q in form.answerable_questions()
            if q.type == "text"
        ]
        if questions:
            title = survey.titles.get(language) or survey.titles.get(survey.default_language)
            surveys.append([survey.id, cut_words(title or survey.form_id, 48), questions])
    if not surveys and not themes:
        await message.chat.send_message(services.texts.get(language, "phrases.nothing"))
        return
    labelled = [[t, services.texts.label(language, "theme", t)] for t in themes]
    extra = {"surveys": surveys[:SURVEYS_SHOWN], "themes": labelled}
    await engine.begin(message, context, user.id, language, extra=extra)


def _group_label(context: BotContext, language: str, by: str, group: str) -> str:
    """A group as staff read it: Canada, Quebec, Diaspora association (not CA, CA-QC, a key)."""
    texts = context.services.texts
    if by == "country" and texts.has(language, f"country.{group}"):
        return texts.plain(language, f"country.{group}")
    if by == "region":
        country, _, code = group.partition("-")
        found = find_region(country, code)
        return found.name_in(language) if found else group
    if by == "sector" and group != "?":
        return texts.label(language, "sector", group)
    return group


def _lines(
    context: BotContext, language: str, groups: dict[str, GroupPhrases], k: int, by: str
) -> list[str]:
    """A line per group: its phrases with counts, and one example of the top phrase."""
    texts = context.services.texts
    lines = []
    for key, result in groups.items():
        group = _group_label(context, language, by, key)
        if result.suppressed:
            lines.append(texts.get(language, "phrases.suppressed", group=group, k=k))
            continue
        shown = ", ".join(f"{p.phrase} ({p.count})" for p in result.phrases) or "—"
        lines.append(texts.get(language, "phrases.group", group=group, phrases=shown))
        if result.phrases and result.phrases[0].examples:
            pseudonym, example = result.phrases[0].examples[0]
            lines.append(
                texts.get(language, "phrases.example", text=example[:160], pseudonym=pseudonym)
            )
    if not groups:
        lines.append(texts.get(language, "phrases.empty"))
    return lines


async def _show(message: Message, context: BotContext, conversation: Conversation) -> None:
    """Every step answered: the key phrases per group, in the reader's language."""
    services = context.services
    await services.conversations.end(conversation.telegram_id, FLOW)
    language = conversation_language(context, conversation)
    values = dict(conversation.state.get("values", {}))
    view = StepView(language, services.texts, values, conversation.state.get("extra", {}))
    by = str(values.get("by", "country"))
    by = by if by in GROUPINGS else "country"
    shown_by = services.texts.plain(language, f"phrases.by.{by}")
    source = str(values.get("source", ""))
    member = await services.registration.member(conversation.telegram_id)
    # The rights are read again now: a right revoked while the buttons were pressed is gone.
    grants = await services.permissions.grants(member, conversation.telegram_id)
    try:
        if source == THEMES:
            theme = str(values.get("theme", ""))
            if theme not in {choice.value for choice in _themes(view)}:
                raise InputError("error.button_unknown")
            if not allows(grants, Permission.VIEW_RESULTS, theme):
                raise InputError("staff.refused")
            groups = await services.exports.key_phrases(by, theme=theme)
            shown = services.texts.label(language, "theme", theme)
            title = services.texts.get(language, "phrases.theme_title", theme=shown, by=shown_by)
        else:
            question = str(values.get("question", ""))
            label = dict(_survey_questions(view)).get(question)
            if label is None:
                raise InputError("error.button_unknown")
            survey_id = int(source[1:])
            survey = await services.surveys.survey(survey_id)
            if survey is None or not allows(grants, Permission.VIEW_RESULTS, survey.theme):
                raise InputError("staff.refused")
            groups = await services.exports.key_phrases(by, survey_id=survey_id, question=question)
            title = services.texts.get(language, "phrases.title", question=label, by=shown_by)
    except InputError as error:
        if error.key == "staff.refused":
            what = Permission.VIEW_RESULTS.value
            await refuse(context, message, conversation.telegram_id, language, what)
        else:
            await message.chat.send_message(services.texts.get(language, error.key))
        return
    k = services.exports.min_cell
    for part in split_message([title, *_lines(context, language, groups, k, by)]):
        await message.chat.send_message(part)


def phrases_flow() -> flows.Flow:
    """/phrases: its steps and buttons."""
    engine = StepFlow(FLOW, STEPS, _show, cancel_key="phrases.cancelled")

    async def phrases(update: Update, context: BotContext) -> None:
        await phrases_command(update, context, engine)

    return flows.Flow(engine, commands={"phrases": phrases})


def register_phrases(application: Application) -> None:  # type: ignore[type-arg]
    """/phrases and its buttons."""
    flows.register(application, phrases_flow())
