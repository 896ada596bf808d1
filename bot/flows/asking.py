"""The step engine's asking half: a flow's declaration, and what the person is shown.

A question's text and buttons (`bot.flows.keyboards` draws them), sent with a fresh question
number; what a search found; a refusal's reason; and what happens when Telegram refuses to show
a question (a text or keyboard too long): the person is never left on a question they did not
see — they go back to the one they last saw, are told, and the admins' chat is alerted.
The answering half — typed text, contacts and presses, dispatched — is `bot.flows.steps.StepFlow`.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from telegram import CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup, Message
from telegram.error import BadRequest, TelegramError

from bot.context import BotContext
from bot.flows.keyboards import (
    Labels,
    Markup,
    Rows,
    choice_rows,
    close_keyboard,
    engine_button,
)
from bot.flows.tracks import ConversationTrack, Track, conversation_view
from bot.i18n import Texts
from bot.language import conversation_language
from bot.services.errors import InputError
from bot.services.stepkit import Step, StepSource, StepView, search_choices
from storage.models import Conversation

logger = logging.getLogger(__name__)

Finish = Callable[[Message, BotContext, Conversation], Awaitable[None]]
# After an answer is stored, before the next question: say something, prepare the conversation,
# or stop the flow (None). Called with the conversation before and after, and the press if any.
Answered = Callable[
    [Message, BotContext, Conversation, Conversation, CallbackQuery | None],
    Awaitable[Conversation | None],
]
# Why a pressed answer cannot be taken (the press's pop-up, the question kept open), or None.
PressCheck = Callable[[BotContext, Conversation, Step, Any], Awaitable[str | None]]
Extra = Callable[[CallbackQuery, BotContext, Conversation, int | None], Awaitable[str | None]]
# A step kind's own keyboard (registration: the share-contact keyboard, the profile's edit buttons).
KindMarkup = Callable[[StepView, Conversation], Markup]
# Typed text at a searchable step, when the flow searches elsewhere (a service) than its choices.
Search = Callable[[Message, BotContext, Conversation, str], Awaitable[None]]
# How many choices a search shows when the step has no page size of its own.
FOUND_SHOWN = 8


class FlowStopped(Exception):
    """Raised by a track or hook: the flow ends here, and the person is told ``key``."""

    def __init__(self, key: str) -> None:
        super().__init__(key)
        self.key = key


@dataclass
class StepAsking:
    """A flow's declaration (steps, track, buttons, hooks) and how its questions are shown."""

    name: str
    source: StepSource
    on_complete: Finish
    on_cancelled: Finish | None = None
    on_extra: Extra | None = None
    on_answer: Answered | None = None
    check_press: PressCheck | None = None
    # How the log and the admins' alert name the flow and question (default: flow and step).
    describe: Callable[[Conversation], str] | None = None
    cancel_key: str = "steps.cancelled"
    extra_markup: Callable[[Conversation, Texts, str], list[list[InlineKeyboardButton]]] | None = (
        field(default=None)
    )
    track: Track | None = None
    labels: Labels = field(default_factory=Labels)
    # "row": Back, Skip and Cancel side by side; "stacked": Skip, then Back, each on its own row.
    navigation: Literal["row", "stacked"] = "row"
    # True: a pressed question is edited into the next one (one message per question), a refusal
    # leads the question asked again, and a stale press shows the current question again.
    in_place: bool = False
    kind_markup: Mapping[str, KindMarkup] = field(default_factory=dict)
    on_search: Search | None = None

    def __post_init__(self) -> None:
        if self.track is None:
            self.track = ConversationTrack(self.name, self.source)

    @property
    def place(self) -> Track:
        """The flow's track (set in __post_init__)."""
        assert self.track is not None
        return self.track

    def view(self, context: BotContext, conversation: Conversation) -> StepView:
        """The view of a flow kept in the active conversation (what its steps read)."""
        return conversation_view(context, conversation)

    # ---- asking ---------------------------------------------------------------------------
    async def ask(
        self,
        message: Message,
        context: BotContext,
        conversation: Conversation,
        lead: str = "",
        previous: Conversation | None = None,
    ) -> None:
        """Send the current question with its buttons (a new seq makes older buttons stale).

        ``previous``: where the person was before this move, to go back to if Telegram refuses
        the question.
        """
        text, markup = await self.question(context, conversation)
        if text is None:
            await self.on_complete(message, context, conversation)
            return
        try:
            await message.chat.send_message(
                f"{lead}\n\n{text}" if lead else text, reply_markup=markup
            )
        except BadRequest as error:
            await self.undelivered(message, context, conversation, previous, error)

    async def question(
        self, context: BotContext, conversation: Conversation
    ) -> tuple[str | None, Markup]:
        """The current step's text and buttons, numbered anew (None when there is no step)."""
        view = await self.place.view(context, conversation)
        step = self.source.step(conversation.step, view)
        if step is None:
            return None, None
        conversation = await self.place.asked(context, conversation)
        seq = int(conversation.state.get("seq", 0))
        return step.question(view), self.markup(step, view, conversation, seq)

    def button(
        self, label: str, seq: int, action: str, index: int | None = None
    ) -> InlineKeyboardButton:
        """One of this flow's buttons, numbered for the question it belongs to."""
        return engine_button(self.name, label, seq, action, index)

    def markup(
        self, step: Step, view: StepView, conversation: Conversation, seq: int, page: int = 0
    ) -> Markup:
        """A step's buttons, drawn from its declaration: choices, pages, extras, navigation."""
        if step.kind in self.kind_markup:
            return self.kind_markup[step.kind](view, conversation)
        rows = choice_rows(self.name, self.labels, step, view, seq, page)
        return self._keyboard(step, view, conversation, seq, rows)

    def found_markup(
        self, step: Step, view: StepView, conversation: Conversation, seq: int, found: list[int]
    ) -> Markup:
        """What a search found, as the step's buttons (with Done, Back, Skip... as on a page)."""
        rows = choice_rows(self.name, self.labels, step, view, seq, found=found)
        return self._keyboard(step, view, conversation, seq, rows)

    def _keyboard(
        self, step: Step, view: StepView, conversation: Conversation, seq: int, rows: Rows
    ) -> Markup:
        texts, language, labels = view.texts, view.language, self.labels
        if step.kind == "multi":
            rows.append([self.button(texts.plain(language, labels.done), seq, "d")])
        if step.kind == "info":
            rows.append([self.button(texts.plain(language, step.confirm_key), seq, "d")])
        if step.extras:
            extras = [
                self.button(texts.plain(language, key), seq, "k", index)
                for index, key in enumerate(step.extras)
            ]
            rows.append(extras)
        if self.extra_markup is not None:
            rows.extend(self.extra_markup(conversation, texts, language))
        back = self.place.can_go_back(conversation, step)
        skip = self.button(texts.plain(language, labels.skip), seq, "s")
        previous = self.button(texts.plain(language, labels.back), seq, "b")
        if self.navigation == "stacked":
            rows.extend(
                [button] for button, shown in ((skip, step.optional), (previous, back)) if shown
            )
        else:
            navigation = [previous] if back else []
            navigation += [skip] if step.optional else []
            if labels.cancel is not None:
                navigation.append(self.button(texts.plain(language, labels.cancel), seq, "x"))
            if navigation:
                rows.append(navigation)
        return InlineKeyboardMarkup(rows) if rows else None

    async def refuse(
        self, message: Message, context: BotContext, conversation: Conversation, error: InputError
    ) -> None:
        """Say why the answer was not taken, in the person's language, and ask again."""
        view = await self.place.view(context, conversation, shown=False)
        reason = view.texts.get(view.language, error.key, **error.values)
        if self.in_place:
            await self.ask(message, context, conversation, lead=f"⚠️ {reason}")
            return
        await message.chat.send_message(f"⚠️ {reason}")
        await self.ask(message, context, conversation)

    async def buttons_only(
        self, message: Message, context: BotContext, conversation: Conversation, step: Step
    ) -> None:
        """Typed text where a button is expected: say so and ask again."""
        if self.in_place:
            await self.refuse(message, context, conversation, InputError("error.choose_button"))
            return
        view = await self.place.view(context, conversation, shown=False)
        if step.kind == "info":
            # The button's own words ("I agree", "Continue"), without its mark.
            button = view.texts.plain(view.language, step.confirm_key).strip("✅▸◂ ")
            text = view.texts.get(view.language, "steps.press_continue", button=button)
        else:
            text = view.texts.get(view.language, "steps.use_buttons")
        await message.chat.send_message(text)
        await self.ask(message, context, conversation)

    async def search(
        self, message: Message, context: BotContext, conversation: Conversation, text: str
    ) -> None:
        """Typed text at a searchable choice: the choices whose label holds it, as buttons.

        The question's own buttons stay valid (same seq): a choice means the same from either.
        """
        if self.on_search is not None:
            await self.on_search(message, context, conversation, text)
            return
        view = await self.place.view(context, conversation)
        step = self.source.step(conversation.step, view)
        if step is None or step.choices is None:
            await self.ask(message, context, conversation)
            return
        found = search_choices(step.choices(view), text)
        shown = found[: step.page_size or FOUND_SHOWN]
        query = " ".join(text.split())[:40]
        texts, language = view.texts, view.language
        if not found:
            await message.chat.send_message(texts.get(language, "steps.search.none", query=query))
            return
        key = "steps.search.found" if len(shown) == len(found) else "steps.search.first"
        seq = int(conversation.state.get("seq", 0))
        await message.chat.send_message(
            texts.get(language, key, query=query, count=len(found), shown=len(shown)),
            reply_markup=self.found_markup(step, view, conversation, seq, shown),
        )

    async def undelivered(
        self,
        message: Message,
        context: BotContext,
        conversation: Conversation,
        previous: Conversation | None,
        error: BadRequest,
    ) -> None:
        """Telegram refused the question (too long to show): never leave the person on it.

        Logged and told to the admins' chat like any unhandled error. The person goes back to
        the question they last saw, asked again under an apology, so what they type next
        answers a question they can read; with none to go back to (a first question, a
        second refusal), the flow is paused — what it saved stays.
        """
        where = self.where(conversation)
        logger.error("Telegram refused %s: %s", where, error, exc_info=error)
        await alert_admins(context, f"{where}: {type(error).__name__}: {error}")
        texts = context.services.texts
        language = conversation_language(context, conversation)
        track = self.place
        # Only a conversation can be put back; a track of its own (registration's member row)
        # asks the catalog's questions, which Telegram shows.
        if (
            previous is not None
            and previous.step not in ("", conversation.step)
            and isinstance(track, ConversationTrack)
        ):
            restored = await track.rewind(context, previous, conversation)
            lead = texts.get(language, "steps.undelivered.back")
            await self.ask(message, context, restored, lead=lead)
            return
        await self.place.end(context, conversation)
        await message.chat.send_message(texts.get(language, "steps.undelivered.paused"))

    def where(self, conversation: Conversation) -> str:
        """The flow and question, as the log and the admins' alert name them."""
        if self.describe is not None:
            return self.describe(conversation)
        return f"flow {self.name}, question {conversation.step}"

    async def stale(
        self, query: CallbackQuery, context: BotContext, conversation: Conversation
    ) -> str:
        """A button of an earlier question: the pop-up that says so (in place: the question now
        asked is shown again under a short note)."""
        if self.in_place:
            language = conversation_language(context, conversation)
            await close_keyboard(query)
            if isinstance(query.message, Message) and conversation.step:
                lead = context.services.texts.get(language, "error.stale")
                await self.ask(query.message, context, conversation, lead=lead)
        return context.services.texts.plain(
            conversation_language(context, conversation), "error.button_unknown"
        )


async def alert_admins(context: BotContext, summary: str) -> None:
    """Tell the admins' chat (if configured), as the error handler does for unhandled errors."""
    services = context.services
    chat_id = services.config.admins.chat_id
    if chat_id is None:
        return
    language = services.config.programme.default_language
    alert = services.texts.get(language, "admin.error_alert", error=summary[:500])
    try:
        await context.bot.send_message(chat_id, f"⚠️ {alert}")
    except TelegramError:
        logger.warning("Could not alert the admins' chat")
