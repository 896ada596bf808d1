"""/evidence by buttons (clause → its evidence → link an item: kind by button, number typed) or
typed (/evidence C1, /evidence C1 answer 42), and /phrases of a free-text question or a theme."""

from __future__ import annotations

from typing import Any

from telegram import Message, Update
from telegram.ext import Application, CommandHandler

from bot.callbacks import int_value
from bot.context import BotContext
from bot.handlers.chunks import split_message
from bot.services.exports import GroupPhrases
from bot.services.permissions import Permission
from bot.services.regions import region as find_region
from bot.services.registration import InputError
from bot.steps import Choice, Step, StepFlow, StepList, StepView
from storage.exports import Evidence
from storage.models import Conversation

FLOW = "evidence"
KINDS = ("answer", "proposal", "meeting")
_SHOWN_CLAUSES = 30
_GROUPINGS = ("country", "region", "sector")


def _clause_choices(view: StepView) -> list[Choice]:
    return [Choice(cid, f"{cid} — {text}"[:60]) for cid, text in view.extra.get("clauses", [])]


def _parse_clause(text: str, view: StepView) -> str:
    typed = text.strip().casefold()
    for choice in _clause_choices(view):
        if choice.value.casefold() == typed:
            return choice.value
    raise InputError("clauses.error.unknown", clause=text.strip()[:20])


def _clause_question(view: StepView) -> str:
    clause = str(view.values.get("clause", ""))
    text = dict(view.extra.get("clauses", [])).get(clause, "")
    items = view.extra.get("evidence", {}).get(clause, [])
    texts, language = view.texts, view.language
    head = texts.get(language, "evidence.clause", clause=clause, text=text)
    if not items:
        return head + "\n" + texts.get(language, "evidence.none", clause=clause)
    listed = texts.get(language, "evidence.list", clause=clause, items=", ".join(items))
    return head + "\n" + listed + "\n" + texts.get(language, "evidence.next")


def _kind_choices(view: StepView) -> list[Choice]:
    return [Choice(k, view.texts.plain(view.language, f"evidence.kind.{k}")) for k in KINDS]


def _ref_question(view: StepView) -> str:
    kind = str(view.values.get("kind", "answer"))
    return view.texts.get(view.language, f"evidence.ask.{kind}")


def _parse_ref(text: str, view: StepView) -> int:
    number = int_value(text.strip().lstrip("#"))
    if number is None:
        raise InputError("evidence.error.number")
    return number


STEPS = StepList(
    [
        Step(
            "clause",
            "choice",
            lambda view: view.texts.get(view.language, "evidence.ask.clause"),
            parse=_parse_clause,
            choices=_clause_choices,
        ),
        Step(
            "action",
            "choice",
            _clause_question,
            choices=lambda view: [
                Choice("link", view.texts.plain(view.language, "evidence.action.link"))
            ],
        ),
        Step(
            "kind",
            "choice",
            lambda view: view.texts.get(view.language, "evidence.ask.kind"),
            choices=_kind_choices,
            columns=3,
        ),
        Step("ref", "text", _ref_question, parse=_parse_ref),
    ]
)


def _shown(items: list[Evidence], language: str, context: BotContext) -> list[str]:
    texts = context.services.texts
    return [f"{texts.plain(language, f'evidence.kind.{e.kind}')} #{e.ref}" for e in items]


async def _language(context: BotContext, telegram_id: int) -> str:
    member = await context.services.registration.member(telegram_id)
    return member.language if member else context.services.config.programme.default_language


async def _allowed(
    context: BotContext, telegram_id: int, permission: Permission, **kw: Any
) -> bool:
    services = context.services
    member = await services.registration.member(telegram_id)
    return await services.permissions.allows(member, telegram_id, permission, **kw)


async def _finish(message: Message, context: BotContext, conversation: Conversation) -> None:
    """Link the item typed; an unknown one is explained and its number asked again."""
    services = context.services
    values = dict(conversation.state.get("values", {}))
    language = str(conversation.state.get("language", "es"))
    clauses = services.clauses
    clause, kind = str(values.get("clause")), str(values.get("kind"))
    try:
        actor = await services.people.actor_of(conversation.telegram_id)
        linked = await clauses.link(clause, kind, int(values.get("ref", 0)), actor)
    except InputError as error:
        await message.chat.send_message(
            "⚠️ " + services.texts.get(language, error.key, **error.values)
        )
        extra = dict(conversation.state.get("extra", {}))
        await EVIDENCE_FLOW.begin(
            message, context, conversation.telegram_id, language, extra, values, at="ref"
        )
        return
    await services.conversations.end(conversation.telegram_id, FLOW)
    items = _shown(await clauses.evidence(clause), language, context)
    key = "evidence.linked" if linked else "evidence.already"
    text = services.texts.get(language, key, clause=clause)
    listed = services.texts.get(language, "evidence.list", clause=clause, items=", ".join(items))
    await message.chat.send_message(text + "\n" + listed)


EVIDENCE_FLOW = StepFlow(FLOW, STEPS, _finish, cancel_key="evidence.closed")


async def _start_buttons(message: Message, context: BotContext, telegram_id: int) -> None:
    services = context.services
    language = await _language(context, telegram_id)
    clauses = services.clauses
    found = (await clauses.clauses())[:_SHOWN_CLAUSES]
    if not found:
        await message.chat.send_message(services.texts.get(language, "evidence.no_clauses"))
        return
    listed, evidence = [], {}
    for clause in found:
        text = clause.texts.get(language) or next(iter(clause.texts.values()), "")
        listed.append([clause.id, text[:80]])
        evidence[clause.id] = _shown(await clauses.evidence(clause.id), language, context)
    extra = {"clauses": listed, "evidence": evidence}
    await EVIDENCE_FLOW.begin(message, context, telegram_id, language, extra)


async def evidence_command(update: Update, context: BotContext) -> None:
    """/evidence: buttons; /evidence C1 lists; /evidence C1 answer|proposal|meeting ID links."""
    message, user = update.effective_message, update.effective_user
    if message is None or user is None:
        return
    services = context.services
    language = await _language(context, user.id)
    if not await _allowed(context, user.id, Permission.EXPORT):
        await message.chat.send_message(services.texts.get(language, "export.not_allowed"))
        return
    clauses = services.clauses
    words = (message.text or "").split()[1:]
    try:
        if not words:
            await _start_buttons(message, context, user.id)
        elif len(words) == 1:
            linked = _shown(await clauses.evidence(words[0]), language, context)
            key = "evidence.list" if linked else "evidence.none"
            await message.chat.send_message(
                services.texts.get(language, key, clause=words[0], items=", ".join(linked))
            )
        elif len(words) == 3 and (ref := int_value(words[2])) is not None:
            actor = await services.people.actor_of(user.id)
            linked_now = await clauses.link(words[0], words[1], ref, actor)
            key = "evidence.linked" if linked_now else "evidence.already"
            await message.chat.send_message(services.texts.get(language, key, clause=words[0]))
        else:
            raise InputError("evidence.bad")
    except InputError as error:
        await message.chat.send_message(
            "⚠️ " + services.texts.get(language, error.key, **error.values)
        )


def _group_label(context: BotContext, language: str, by: str, group: str) -> str:
    """A group as staff read it: Canada, Quebec, Diaspora association (not CA, CA-QC, a key)."""
    texts = context.services.texts
    if by == "country" and texts.has(language, f"country.{group}"):
        return texts.plain(language, f"country.{group}")
    if by == "region":
        country, _, code = group.partition("-")
        found = find_region(country, code)
        return found.name if found else group
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


async def phrases_command(update: Update, context: BotContext) -> None:
    """/phrases SURVEY QUESTION [by] or /phrases THEME [by]: recurring key phrases per group."""
    message, user = update.effective_message, update.effective_user
    if message is None or user is None:
        return
    services = context.services
    language = await _language(context, user.id)
    words = (message.text or "").split()[1:]
    # Anything digit-like is meant as a survey number, even one int() or SQLite would refuse.
    survey = bool(words) and words[0].isdigit()
    survey_id = int_value(words[0]) if survey else None
    theme = None if survey or not words else words[0]
    if not await _allowed(context, user.id, Permission.VIEW_RESULTS, theme=theme):
        await message.chat.send_message(services.texts.get(language, "export.not_allowed"))
        return
    if not words or (survey and (len(words) < 2 or survey_id is None)):
        await message.chat.send_message(services.texts.get(language, "phrases.usage"))
        return
    themes = services.config.programme.thematic_groups
    if theme is not None and theme not in themes:
        await message.chat.send_message(
            services.texts.get(language, "phrases.error.theme", themes=", ".join(themes))
        )
        return
    rest = words[2:] if survey else words[1:]
    by = rest[0] if rest and rest[0] in _GROUPINGS else "country"
    k = services.exports.min_cell
    if theme is not None:
        groups = await services.exports.key_phrases(by, theme=theme)
    else:
        groups = await services.exports.key_phrases(by, survey_id=survey_id, question=words[1])
    shown_by = services.texts.plain(language, f"phrases.by.{by}")
    if theme is not None:
        shown_theme = services.texts.label(language, "theme", theme)
        title = services.texts.get(language, "phrases.theme_title", theme=shown_theme, by=shown_by)
    else:
        title = services.texts.get(language, "phrases.title", question=words[1], by=shown_by)
    for part in split_message([title, *_lines(context, language, groups, k, by)]):
        await message.chat.send_message(part)


def register_evidence(application: Application) -> None:  # type: ignore[type-arg]
    """Add /evidence (typed and by buttons) and /phrases."""
    application.add_handler(CommandHandler("evidence", evidence_command))
    application.add_handler(CommandHandler("phrases", phrases_command))
    EVIDENCE_FLOW.register(application)
