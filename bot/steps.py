"""One engine as code for steps declared as data: ask, validate, store, move on — for any flow.

A flow declares its steps once (`bot.services.stepkit.Step`: key, input kind, question, parser,
choices, next rule) and hands them to a `StepFlow`. The engine owns the flow's buttons,
``v1:<flow>:<seq>:<action>[:<index>]``, where ``seq`` numbers the question asked; a button from any
other question, or from a flow that is not the person's, is answered as no longer valid.
Actions: ``c`` choose, ``t`` toggle, ``d`` done (multi, info, review), ``s`` skip, ``b`` back,
``x`` cancel, ``e`` edit (from a review), ``k`` a step's or the flow's own extra button,
``p`` another page of a long list of choices.

Where a person's place and answers are kept is the flow's `Track`: by default their active
conversation (`ConversationTrack`); registration keeps them in the member row, because the answers
*are* the profile (`bot.handlers.registration_flow.MemberTrack`). How a flow looks (labels, the
order of its navigation buttons, whether an answered question is edited into the next one) is
decided by overridable methods, so the dispatch of inputs stays one piece of code — which is why
this module is longer than most: every input kind is read and dispatched here, in one place.
"""

from __future__ import annotations

import html
import logging
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from telegram import (
    CallbackQuery,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    Message,
    ReplyKeyboardMarkup,
    ReplyKeyboardRemove,
    Update,
)
from telegram.error import BadRequest
from telegram.ext import Application, CallbackQueryHandler

from bot.context import BotContext
from bot.conversation import FlowRoutes
from bot.i18n import Texts, pick_language
from bot.services.stepkit import Choice as Choice
from bot.services.stepkit import InputError, SharedContact
from bot.services.stepkit import InputKind as InputKind
from bot.services.stepkit import Press as Press
from bot.services.stepkit import Step as Step
from bot.services.stepkit import StepList as StepList
from bot.services.stepkit import StepSource as StepSource
from bot.services.stepkit import StepView as StepView
from bot.step_tracks import ConversationTrack, conversation_view
from bot.step_tracks import Track as Track
from storage.models import Conversation

logger = logging.getLogger(__name__)

Finish = Callable[[Message, BotContext, Conversation], Awaitable[None]]
Extra = Callable[[CallbackQuery, BotContext, Conversation, int | None], Awaitable[str | None]]
Markup = InlineKeyboardMarkup | ReplyKeyboardMarkup | None


@dataclass(frozen=True)
class Labels:
    """The catalog keys of the engine's own buttons (cancel None: no Cancel button)."""

    done: str = "steps.done"
    back: str = "steps.back"
    skip: str = "steps.skip"
    cancel: str | None = "steps.cancel"
    previous_page: str = "button.previous_page"
    next_page: str = "button.next_page"


@dataclass
class StepFlow:
    """The engine for one flow: its steps, where it keeps them, what follows them, its buttons."""

    name: str
    source: StepSource
    on_complete: Finish
    on_cancelled: Finish | None = None
    on_extra: Extra | None = None
    cancel_key: str = "steps.cancelled"
    extra_markup: Callable[[Conversation, Texts, str], list[list[InlineKeyboardButton]]] | None = (
        field(default=None)
    )
    track: Track | None = None
    labels: Labels = field(default_factory=Labels)
    # "row": Back, Skip and Cancel side by side; "stacked": Skip, then Back, each on its own row.
    navigation: Literal["row", "stacked"] = "row"

    def __post_init__(self) -> None:
        if self.track is None:
            self.track = ConversationTrack(self.name, self.source)

    @property
    def place(self) -> Track:
        """The flow's track (set in __post_init__)."""
        assert self.track is not None
        return self.track

    # ---- wiring ---------------------------------------------------------------------------
    def register(self, application: Application) -> None:  # type: ignore[type-arg]
        """Route this flow's buttons and free text to the engine."""
        application.add_handler(CallbackQueryHandler(self.on_button, pattern=f"^v1:{self.name}:"))
        application.bot_data.flows[self.name] = FlowRoutes(
            self.name, self.on_text, self.on_cancel, on_resume=self.ask
        )

    # ---- state ----------------------------------------------------------------------------
    def view(self, context: BotContext, conversation: Conversation) -> StepView:
        """The view of a flow kept in the active conversation (what its steps read)."""
        return conversation_view(context, conversation)

    async def begin(
        self,
        message: Message,
        context: BotContext,
        telegram_id: int,
        language: str,
        extra: Mapping[str, Any] | None = None,
        values: Mapping[str, Any] | None = None,
        at: str | None = None,
    ) -> Conversation:
        """Start (or restart) the flow in the person's active conversation; ask its first step.

        For conversation-kept flows only: registration starts with consent, in the member row.
        """
        state: dict[str, Any] = {
            "language": language,
            "values": dict(values or {}),
            "extra": dict(extra or {}),
            "path": [],
            "seq": 0,
        }
        placeholder = Conversation.model_validate(
            {
                "telegram_id": telegram_id,
                "flow": self.name,
                "step": "",
                "state": state,
                "updated_at": context.services.clock.now(),
            }
        )
        first = at or self.source.first(self.view(context, placeholder))
        conversation = await context.services.conversations.save(
            telegram_id, self.name, first or "", state
        )
        if first is None:
            await self.on_complete(message, context, conversation)
            return conversation
        await self.ask(message, context, conversation)
        return conversation

    # ---- asking ---------------------------------------------------------------------------
    async def ask(
        self, message: Message, context: BotContext, conversation: Conversation, lead: str = ""
    ) -> None:
        """Send the current question with its buttons (a new seq makes older buttons stale)."""
        text, markup = await self.question(context, conversation)
        if text is None:
            await self.on_complete(message, context, conversation)
            return
        await message.chat.send_message(f"{lead}\n\n{text}" if lead else text, reply_markup=markup)

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
        return InlineKeyboardButton(
            label, callback_data=Press(self.name, seq, action, index).encode()
        )

    def markup(
        self, step: Step, view: StepView, conversation: Conversation, seq: int, page: int = 0
    ) -> Markup:
        """A step's buttons, drawn from its declaration: choices, pages, extras, navigation."""
        texts, language, labels = view.texts, view.language, self.labels
        rows = self._choice_rows(step, view, seq, page)
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

    def _choice_rows(
        self, step: Step, view: StepView, seq: int, page: int
    ) -> list[list[InlineKeyboardButton]]:
        if step.choices is None or step.kind not in ("choice", "multi"):
            return []
        texts, language = view.texts, view.language
        choices = list(enumerate(step.choices(view)))
        total = len(choices)
        if step.page_size is not None:
            pages = max(1, -(-total // step.page_size))
            page = min(max(page, 0), pages - 1)
            choices = choices[page * step.page_size : (page + 1) * step.page_size]
        selected = set(view.values.get(step.key) or ()) if step.kind == "multi" else set()
        buttons = []
        for index, choice in choices:
            if step.kind == "multi":
                mark = "☑️ " if choice.value in selected else "⬜ "
                buttons.append(self.button(mark + choice.label, seq, "t", index))
            else:
                number = int(choice.value) if step.index_is_value else index
                buttons.append(self.button(choice.label, seq, "c", number))
        columns = max(1, step.columns)
        rows = [buttons[i : i + columns] for i in range(0, len(buttons), columns)]
        if step.page_size is not None:
            paging = []
            if page > 0:
                label = texts.plain(language, self.labels.previous_page)
                paging.append(self.button(label, seq, "p", page - 1))
            if (page + 1) * step.page_size < total:
                label = texts.plain(language, self.labels.next_page)
                paging.append(self.button(label, seq, "p", page + 1))
            if paging:
                rows.append(paging)
        return rows

    # ---- what a flow may show differently ----------------------------------------------------
    async def advance(
        self,
        message: Message,
        context: BotContext,
        before: Conversation,
        after: Conversation,
        pressed: CallbackQuery | None,
    ) -> None:
        """After an answer: ask the next question, or finish."""
        if after.step == "":
            await self.on_complete(message, context, after)
            return
        await self.ask(message, context, after)

    async def close(self, message: Message, chosen: str | None = None) -> None:
        """Take the buttons off an answered question (showing the choice) before moving on."""
        await _close(message, chosen)

    async def refuse(
        self, message: Message, context: BotContext, conversation: Conversation, error: InputError
    ) -> None:
        """Say why the answer was not taken, in the person's language, and ask again."""
        view = await self.place.view(context, conversation, shown=False)
        reason = view.texts.get(view.language, error.key, **error.values)
        await message.chat.send_message(f"⚠️ {reason}")
        await self.ask(message, context, conversation)

    async def buttons_only(
        self, message: Message, context: BotContext, conversation: Conversation, step: Step
    ) -> None:
        """Typed text where a button is expected: say so and ask again."""
        view = await self.place.view(context, conversation, shown=False)
        key = "steps.use_buttons" if step.kind != "info" else "steps.press_continue"
        await message.chat.send_message(view.texts.get(view.language, key))
        await self.ask(message, context, conversation)

    async def search(
        self, message: Message, context: BotContext, conversation: Conversation, text: str
    ) -> None:
        """Typed text at a searchable choice: a flow that searches shows what it narrows to.

        The default (no conversation-kept flow searches yet) asks the question again.
        """
        await self.ask(message, context, conversation)

    async def stale(
        self, query: CallbackQuery, context: BotContext, conversation: Conversation
    ) -> str:
        """A button of an earlier question: the pop-up that says so."""
        return context.services.texts.plain(
            str(conversation.state.get("language", "es")), "error.button_unknown"
        )

    # ---- answers --------------------------------------------------------------------------
    async def on_text(
        self, message: Message, context: BotContext, conversation: Conversation
    ) -> None:
        """Take typed text as the answer to the current question, or re-ask with the reason."""
        view = await self.place.view(context, conversation, shown=False)
        step = self.source.step(conversation.step, view)
        if step is None:
            await self.on_complete(message, context, conversation)
            return
        text = message.text or ""
        if step.searchable:
            await self.search(message, context, conversation, text)
            return
        skip = view.texts.plain(view.language, self.labels.skip)
        if step.kind == "contact" and step.optional and text.strip() == skip:
            # The share-contact keyboard's Skip arrives as typed text.
            await self.answer(message, context, conversation, step, None)
            return
        if step.parse is None:
            await self.buttons_only(message, context, conversation, step)
            return
        try:
            value = step.parse(text, view)
        except InputError as error:
            await self.refuse(message, context, conversation, error)
            return
        await self.answer(message, context, conversation, step, value)

    async def on_contact(
        self, message: Message, context: BotContext, conversation: Conversation
    ) -> None:
        """A phone shared with Telegram's button: the answer to a contact step, and only that."""
        view = await self.place.view(context, conversation, shown=False)
        step = self.source.step(conversation.step, view)
        contact = message.contact
        if step is None or step.kind != "contact" or contact is None:
            await self.refuse(message, context, conversation, InputError("error.text_expected"))
            return
        shared = SharedContact(contact.phone_number, contact.user_id)
        await self.answer(message, context, conversation, step, shared)

    async def answer(
        self,
        message: Message,
        context: BotContext,
        conversation: Conversation,
        step: Step,
        value: Any,
        pressed: CallbackQuery | None = None,
    ) -> str | None:
        """Store the answer at once, then ask the next question (or finish); a pop-up if refused."""
        try:
            after = await self.place.answer(context, conversation, step, value)
        except InputError as error:
            if pressed is not None:
                return await self.stale(pressed, context, conversation)
            await self.refuse(message, context, conversation, error)
            return None
        await self.advance(message, context, conversation, after, pressed)
        return None

    async def jump(
        self, message: Message, context: BotContext, conversation: Conversation, key: str
    ) -> None:
        """Ask one step again (an edit from the review screen), then come back to the review."""
        conversation = await self.place.jump(context, conversation, key)
        await self.ask(message, context, conversation)

    async def on_cancel(
        self, message: Message, context: BotContext, conversation: Conversation
    ) -> None:
        """/cancel: end the flow; what it already saved elsewhere stays."""
        await self.place.end(context, conversation)
        if self.on_cancelled is not None:
            await self.on_cancelled(message, context, conversation)
            return
        language = str(conversation.state.get("language", "es"))
        await message.chat.send_message(
            context.services.texts.get(language, self.cancel_key),
            reply_markup=ReplyKeyboardRemove(),
        )

    # ---- buttons --------------------------------------------------------------------------
    async def on_button(self, update: Update, context: BotContext) -> None:
        """A press on one of this flow's buttons: valid only for the question now asked."""
        query, user = update.callback_query, update.effective_user
        if query is None or user is None:
            return
        press = Press.parse(query.data)
        conversation = await self.place.load(context, user.id)
        if conversation is None or conversation.flow != self.name or press is None:
            if conversation is not None:
                language = str(conversation.state.get("language", "es"))
            else:
                language = await _language_of(context, user.id, user.language_code)
            await query.answer(context.services.texts.plain(language, "error.button_unknown"))
            return
        if press.seq != int(conversation.state.get("seq", -1)):
            await query.answer(await self.stale(query, context, conversation))
            return
        notice = await self._press(query, context, conversation, press)
        await query.answer(notice)

    async def _press(
        self, query: CallbackQuery, context: BotContext, conversation: Conversation, press: Press
    ) -> str | None:
        message = query.message
        if not isinstance(message, Message):
            return None
        view = await self.place.view(context, conversation, shown=False)
        step = self.source.step(conversation.step, view)
        action, index = press.action, press.index
        if action == "x" and self.labels.cancel is not None:
            await _close(message)
            await self.on_cancel(message, context, conversation)
            return None
        if action == "k" and step is not None and step.extras:
            if index is None or index >= len(step.extras):
                return await self.stale(query, context, conversation)
            return await self._moved(query, context, conversation, "extra", step, index)
        if action == "k" and self.on_extra is not None:
            return await self.on_extra(query, context, conversation, index)
        if step is None:
            return await self.stale(query, context, conversation)
        if action == "b":
            return await self._moved(query, context, conversation, "back", step, None)
        if action == "e" and step.kind == "review" and index is not None:
            return await self._moved(query, context, conversation, "edit", step, index)
        if action == "p" and step.page_size is not None:
            seq = int(conversation.state.get("seq", 0))
            drawn = await self.place.view(context, conversation)
            await edit_markup(message, self.markup(step, drawn, conversation, seq, index or 0))
            return None
        if action == "s" and step.optional:
            await self.close(message)
            return await self.answer(message, context, conversation, step, None, query)
        choices = list(step.choices(view)) if step.choices is not None else []
        if action == "c" and step.kind == "choice" and index is not None:
            if step.index_is_value:
                return await self.answer(message, context, conversation, step, str(index), query)
            if index >= len(choices):
                return await self.stale(query, context, conversation)
            await self.close(message, choices[index].label)
            return await self.answer(
                message, context, conversation, step, choices[index].value, query
            )
        if action == "t" and step.kind == "multi":
            if index is None or index >= len(choices):
                return await self.stale(query, context, conversation)
            toggled = await self.place.toggle(context, conversation, step, choices[index].value)
            seq = int(toggled.state.get("seq", 0))
            toggled_view = await self.place.view(context, toggled)
            await edit_markup(message, self.markup(step, toggled_view, toggled, seq))
            return None
        if action == "d" and step.kind in ("multi", "info", "review"):
            if step.kind != "multi":
                await self.close(message)
                return await self.answer(message, context, conversation, step, True, query)
            done = list(view.values.get(step.key) or [])
            if not done and not step.optional:
                return view.texts.plain(view.language, step.none_chosen_key)
            labels = [choice.label for choice in choices if choice.value in done]
            await self.close(message, ", ".join(labels) or None)
            return await self.answer(message, context, conversation, step, done, query)
        return await self.stale(query, context, conversation)

    async def _moved(
        self,
        query: CallbackQuery,
        context: BotContext,
        conversation: Conversation,
        move: Literal["back", "extra", "edit"],
        step: Step,
        index: int | None,
    ) -> str | None:
        """Back, a step's extra button or a review's edit: move the track, show where it led."""
        message = query.message
        assert isinstance(message, Message)
        try:
            if move == "back":
                after = await self.place.back(context, conversation)
            elif move == "extra":
                after = await self.place.extra_button(context, conversation, step, index or 0)
            else:
                after = await self.place.edit(context, conversation, index or 0)
        except InputError:
            after = None
        if after is None:
            return await self.stale(query, context, conversation)
        await self.close(message)
        await self.advance(message, context, conversation, after, query)
        return None


async def _language_of(context: BotContext, telegram_id: int, telegram_language: str | None) -> str:
    """The person's language when no conversation says it: their profile's, else Telegram's."""
    member = await context.services.registration.member(telegram_id)
    if member is not None:
        return member.language
    return pick_language(telegram_language, context.services.config.programme.default_language)


async def _close(message: Message, chosen: str | None = None) -> None:
    """Remove an answered question's buttons (it cannot be answered twice); show the choice."""
    try:
        if chosen and message.text_html:
            await message.edit_text(
                f"{message.text_html}\n\n✔ <b>{html.escape(chosen, quote=False)}</b>",
                reply_markup=None,
            )
        else:
            await message.edit_reply_markup(None)
    except BadRequest as error:
        logger.debug("Could not remove buttons: %s", error)


async def edit_markup(message: Message, markup: Markup) -> None:
    """Redraw a question's buttons in place (pressing twice quickly changes nothing)."""
    if markup is not None and not isinstance(markup, InlineKeyboardMarkup):
        return
    try:
        await message.edit_reply_markup(markup)
    except BadRequest as error:
        if "not modified" not in str(error):
            raise
