"""/evidence for staff, by buttons: a clause → its evidence (each item can be unlinked) → where
the evidence is (survey answers by question, a theme's proposals, meetings) → an item, read with
its text and provenance → a note, typed or skipped → linked.

`/evidence C1` opens clause C1 directly. The screens are `bot.handlers.evidence_screens`; the
buttons' data is `bot.callbacks.EvidenceButton`. This module checks the right again at every
press, draws what it leads to, links and unlinks. While a note is awaited the person's
conversation is this flow's, so their next text is the note.
"""

from __future__ import annotations

from telegram import CallbackQuery, Message, Update
from telegram.error import BadRequest
from telegram.ext import Application, CallbackQueryHandler, CommandHandler

from bot import flows
from bot.callbacks import EvidenceButton, int_value
from bot.context import BotContext
from bot.handlers.access import identify, refusal, refuse
from bot.handlers.evidence_screens import (
    KIND_LETTERS,
    Screen,
    Viewer,
    answers_screen,
    clause_list,
    clause_screen,
    meetings_screen,
    note_screen,
    proposals_screen,
    question_screen,
    source_screen,
    survey_screen,
    themes_screen,
    unlink_screen,
)
from bot.language import conversation_language, person_language
from bot.services.errors import InputError
from bot.services.permissions import Permission
from storage.evidence import Clause
from storage.models import Conversation, Member

FLOW = "evidence"
_KINDS = {letter: kind for kind, letter in KIND_LETTERS.items()}  # a button's letter: its kind
LAST_PAGE = 10**6


async def _viewer(context: BotContext, member: Member | None, language: str) -> Viewer:
    zone = (
        member.time_zone if member else None
    ) or context.services.config.programme.default_time_zone
    return Viewer(context, language, zone)


async def _allowed(context: BotContext, member: Member | None, telegram_id: int) -> bool:
    return await context.services.permissions.allows(member, telegram_id, Permission.EXPORT)


async def _show(message: Message, screen: Screen, edit: bool = True) -> None:
    text, markup = screen
    if not edit:
        await message.chat.send_message(text, reply_markup=markup)
        return
    try:
        await message.edit_text(text, reply_markup=markup)
    except BadRequest as error:
        if "not modified" not in str(error):
            raise


async def evidence_command(update: Update, context: BotContext) -> None:
    """/evidence: the clauses as buttons; /evidence C1: that clause and its evidence."""
    message, user = update.effective_message, update.effective_user
    if message is None or user is None:
        return
    services = context.services
    member, language = await identify(update, context)
    if not await _allowed(context, member, user.id):
        await refuse(context, message, user.id, language, Permission.EXPORT.value)
        return
    await services.conversations.end(user.id, FLOW)
    viewer = await _viewer(context, member, language)
    typed = (message.text or "").split()[1:2]
    clauses = await services.clauses.clauses() if typed else []
    wanted = next((c for c in clauses if c.id.casefold() == typed[0].casefold()), None)
    if wanted is not None:
        await _show(message, await clause_screen(viewer, wanted, 0), edit=False)
        return
    await _show(message, await clause_list(viewer, 0), edit=False)


async def on_press(update: Update, context: BotContext) -> None:
    """An /evidence button: the right is checked again, then the screen it leads to is drawn."""
    query, user = update.callback_query, update.effective_user
    if query is None or user is None:
        return
    services = context.services
    member, language = await identify(update, context)
    if not await _allowed(context, member, user.id):
        await query.answer(
            await refusal(context, user.id, language, Permission.EXPORT.value, query.data)
        )
        return
    press = EvidenceButton.parse(query.data)
    if press is None or not isinstance(query.message, Message):
        await query.answer(services.texts.plain(language, "error.button_unknown"))
        return
    # Any press but picking an item leaves a note unasked: the next text typed is not a note.
    if press.action != "k":
        await services.conversations.end(user.id, FLOW)
    viewer = await _viewer(context, member, language)
    await query.answer(await _act(query, query.message, viewer, press))


async def _act(
    query: CallbackQuery, message: Message, viewer: Viewer, press: EvidenceButton
) -> str | None:
    """Draw what the press leads to; a pop-up's text when there is nothing to draw."""
    services = viewer.context.services
    stale = viewer.label("error.button_unknown")
    numbers, action, kind = press.numbers, press.action, _KINDS.get(press.letter or "")
    if action == "l":
        await _show(message, await clause_list(viewer, numbers[0]))
        return None
    clause = await services.clauses.numbered(numbers[0])
    if clause is None:
        return stale
    screen: Screen | None
    if action == "c":
        screen = await clause_screen(viewer, clause, numbers[1])
    elif action == "s":
        screen = source_screen(viewer, clause)
    elif action == "v":
        screen = await survey_screen(viewer, clause)
        if screen is None:
            return viewer.label("evidence.no_surveys")
    elif action == "q":
        screen = await question_screen(viewer, clause, numbers[1])
    elif action == "a":
        screen = await answers_screen(viewer, clause, numbers[1], numbers[2], numbers[3])
    elif action == "t":
        counts = await services.clauses.proposal_themes()
        if not counts:
            return viewer.label("evidence.no_proposals")
        screen = themes_screen(viewer, clause, counts)
    elif action == "p":
        screen = await proposals_screen(viewer, clause, numbers[1], numbers[2])
    elif action == "m":
        screen = await meetings_screen(viewer, clause, numbers[1])
    elif action == "k" and kind is not None:
        return await _pick(query, message, viewer, clause, kind, numbers[1])
    elif action == "n" and kind is not None:
        return await _link(message, viewer, clause, kind, numbers[1], "", query.from_user.id)
    elif action == "u":
        screen = await unlink_screen(viewer, clause, numbers[1])
    elif action == "U":
        actor = await services.people.actor_of(query.from_user.id)
        if await services.clauses.unlink(clause.id, numbers[1], actor) is None:
            return stale
        await _show(message, await clause_screen(viewer, clause, 0))
        return viewer.label("evidence.unlinked", clause=clause.id)
    else:
        return stale
    if screen is None:
        return stale
    await _show(message, screen)
    return None


async def _pick(
    query: CallbackQuery, message: Message, viewer: Viewer, clause: Clause, kind: str, ref: int
) -> str | None:
    """An item tapped: unless already linked, ask for a note (typed next, or skipped)."""
    services = viewer.context.services
    item = await services.clauses.item(kind, ref)
    if item is None:
        return viewer.label("error.button_unknown")
    if any(e.kind == kind and e.ref == ref for e in await services.clauses.evidence(clause.id)):
        return viewer.label("evidence.already", clause=clause.id)
    state = {"language": viewer.language, "clause": clause.number, "kind": kind, "ref": ref}
    await services.conversations.save(query.from_user.id, FLOW, "note", state)
    await _show(message, await note_screen(viewer, clause, item))
    return None


async def _link(
    message: Message,
    viewer: Viewer,
    clause: Clause,
    kind: str,
    ref: int,
    note: str,
    telegram_id: int,
    typed: bool = False,
) -> str | None:
    """Link the item with its note, then show the clause's evidence with it."""
    services = viewer.context.services
    actor = await services.people.actor_of(telegram_id)
    try:
        linked = await services.clauses.link(clause.id, kind, ref, actor, note)
    except InputError as error:
        reason = viewer.text(error.key, **error.values)
        if typed:  # a note too long, or with control characters: typed again
            await message.chat.send_message(f"⚠️ {reason}")
            return None
        return viewer.label(error.key, **error.values)
    await services.conversations.end(telegram_id, FLOW)
    done = viewer.text("evidence.linked" if linked else "evidence.already", clause=clause.id)
    text, markup = await clause_screen(viewer, clause, LAST_PAGE)
    await _show(message, (f"{done}\n\n{text}", markup), edit=not typed)
    return None


async def on_note(message: Message, context: BotContext, conversation: Conversation) -> None:
    """The note typed for the item picked: link it with the note."""
    services = context.services
    state = conversation.state
    member = await services.registration.member(conversation.telegram_id)
    language = person_language(context, state.get("language"))
    clause_number, ref = (
        int_value(str(state.get("clause", ""))),
        int_value(str(state.get("ref", ""))),
    )
    kind = str(state.get("kind", ""))
    clause = await services.clauses.numbered(clause_number) if clause_number is not None else None
    allowed = await _allowed(context, member, conversation.telegram_id)
    if clause is None or ref is None or kind not in KIND_LETTERS or not allowed:
        # An old conversation, a clause gone, or a right revoked while typing: nothing linked.
        await services.conversations.end(conversation.telegram_id, FLOW)
        await message.chat.send_message(services.texts.get(language, "evidence.closed"))
        return
    viewer = await _viewer(context, member, language)
    await _link(
        message, viewer, clause, kind, ref, message.text or "", conversation.telegram_id, True
    )


async def on_cancel(message: Message, context: BotContext, conversation: Conversation) -> None:
    """/cancel while a note is awaited: nothing is linked."""
    await context.services.conversations.end(conversation.telegram_id, FLOW)
    language = conversation_language(context, conversation)
    await message.chat.send_message(context.services.texts.get(language, "evidence.closed"))


def register_evidence(application: Application) -> None:  # type: ignore[type-arg]
    """/evidence, its buttons (v1:evd:) and the note typed while linking."""
    application.add_handler(CommandHandler("evidence", evidence_command))
    application.add_handler(CallbackQueryHandler(on_press, pattern="^v1:evd:"))
    flows.register(application, flows.Flow(name=FLOW, on_text=on_note, on_cancel=on_cancel))
