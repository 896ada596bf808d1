"""/propose (a member writes to a thematic group) and /proposals (focal points and staff read)."""

from __future__ import annotations

from collections.abc import Sequence

from telegram import InlineKeyboardMarkup, Message, Update
from telegram.ext import Application

from bot import flows
from bot.context import BotContext
from bot.flows.steps import Choice, Step, StepFlow, StepList, StepView
from bot.handlers.access import identify, refuse
from bot.handlers.chunks import split_message
from bot.i18n import format_meeting_time
from bot.language import conversation_language
from bot.services.errors import InputError
from bot.services.permissions import Permission
from bot.services.proposals import MAX_TEXT, MIN_TEXT, clean_proposal
from storage.models import Conversation

FLOW = "propose"
CHUNK = 3800
PREVIEW = 600


def _theme_label(view: StepView, key: str) -> str:
    return view.texts.label(view.language, "theme", key)


def _themes(view: StepView) -> list[Choice]:
    return [Choice(key, _theme_label(view, key)) for key in view.extra.get("themes", [])]


def _confirm_choices(view: StepView) -> list[Choice]:
    return [
        Choice("send", view.texts.plain(view.language, "prop.button.send")),
        Choice("edit", view.texts.plain(view.language, "prop.button.edit")),
    ]


def _parse_text(raw: str, view: StepView) -> str:
    return clean_proposal(raw)


def _steps() -> StepList:
    return StepList(
        [
            Step(
                "theme",
                "choice",
                question=lambda v: v.texts.get(v.language, "prop.ask_theme"),
                choices=_themes,
            ),
            Step(
                "text",
                "text",
                question=lambda v: v.texts.get(
                    v.language,
                    "prop.ask_text",
                    theme=_theme_label(v, str(v.values.get("theme", ""))),
                    minimum=MIN_TEXT,
                    maximum=MAX_TEXT,
                ),
                parse=_parse_text,
            ),
            Step(
                "confirm",
                "choice",
                question=lambda v: v.texts.get(
                    v.language,
                    "prop.confirm",
                    theme=_theme_label(v, str(v.values.get("theme", ""))),
                    text=str(v.values.get("text", "")),
                ),
                choices=_confirm_choices,
                columns=2,
                next=lambda v: "text" if v.values.get("confirm") == "edit" else None,
            ),
        ]
    )


async def _complete(message: Message, context: BotContext, conversation: Conversation) -> None:
    """Store the confirmed proposal, end the flow and thank the member."""
    services = context.services
    values = conversation.state.get("values", {})
    language = conversation_language(context, conversation)
    await services.conversations.end(conversation.telegram_id, FLOW)
    member = await services.registration.member(conversation.telegram_id)
    if values.get("confirm") != "send" or member is None:
        await message.chat.send_message(services.texts.get(language, "prop.cancelled"))
        return
    try:
        proposal = await context.services.proposals.submit(
            member, str(values.get("theme", "")), str(values.get("text", ""))
        )
    except InputError as error:
        await message.chat.send_message(services.texts.get(language, error.key, **error.values))
        return
    theme = services.texts.label(language, "theme", proposal.theme)
    await message.chat.send_message(
        services.texts.get(language, "prop.sent", id=proposal.id, theme=theme)
    )


def propose_flow() -> StepFlow:
    return StepFlow(FLOW, _steps(), _complete, cancel_key="prop.cancelled")


async def start_propose(update: Update, context: BotContext, flow: StepFlow) -> None:
    """/propose: registered members choose a theme, write, confirm."""
    message, user = update.effective_message, update.effective_user
    if message is None or user is None:
        return
    member, language = await identify(update, context)
    if member is None or member.status != "active":
        await message.chat.send_message(
            context.services.texts.get(language, "profile.not_registered")
        )
        return
    themes = list(context.services.config.programme.thematic_groups)
    await flow.begin(message, context, user.id, member.language, extra={"themes": themes})


async def list_proposals(update: Update, context: BotContext) -> None:
    """/proposals [THEME]: the latest proposals the person may read, with no pseudonym: a code shown
    beside a text could be matched with a name seen elsewhere."""
    message, user = update.effective_message, update.effective_user
    if message is None or user is None:
        return
    services = context.services
    texts = services.texts
    member, language = await identify(update, context)
    grants = await services.permissions.grants(member, user.id)
    theme = context.args[0].strip() if context.args else None
    try:
        found = await context.services.proposals.latest(grants, theme)
    except InputError as error:
        await message.chat.send_message(texts.get(language, error.key, **error.values))
        return
    if found is None:
        await refuse(context, message, user.id, language, Permission.VIEW_PROPOSALS.value)
        return
    if not found:
        await message.chat.send_message(texts.get(language, "prop.list.empty"))
        return
    zone = (member.time_zone if member else None) or services.config.programme.default_time_zone
    parts = [texts.get(language, "prop.list.header", count=len(found))]
    for proposal in found:
        text = proposal.text if len(proposal.text) <= PREVIEW else proposal.text[:PREVIEW] + "…"
        parts.append(
            texts.get(
                language,
                "prop.list.item",
                id=proposal.id,
                theme=texts.label(language, "theme", proposal.theme),
                date=format_meeting_time(proposal.created_at, zone, language),
                text=text,
            )
        )
    await send_parts(message, parts)


async def send_parts(
    message: Message, parts: Sequence[str], markup: InlineKeyboardMarkup | None = None
) -> None:
    """Send blocks joined into as few messages as fit Telegram's limit; buttons on the last."""
    chunks = split_message(parts, CHUNK, separator="\n\n")
    for index, chunk in enumerate(chunks):
        last = index == len(chunks) - 1
        await message.chat.send_message(chunk, reply_markup=markup if last else None)


def register_proposals(application: Application) -> None:  # type: ignore[type-arg]
    """/propose (its step flow and buttons) and /proposals."""
    engine = propose_flow()

    async def propose(update: Update, context: BotContext) -> None:
        await start_propose(update, context, engine)

    flows.register(
        application,
        flows.Flow(engine, commands={"propose": propose, "proposals": list_proposals}),
    )
