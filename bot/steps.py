"""Steps as data, one engine as code: ask, validate, store, move on — for any guided flow.

A flow declares its steps once (`Step`: key, input kind, question, parser, choices, next rule) and
hands them to a `StepFlow`. The engine keeps everything in the person's active conversation (so a
restart resumes at the same question) and owns the flow's buttons:
``v1:<flow>:<seq>:<action>[:<index>]``, where ``seq`` numbers the question asked; a button from any
other question, or from a flow that is not the active one, is answered as no longer valid.
Actions: ``c`` choose, ``t`` toggle, ``d`` done (multi), ``s`` skip, ``b`` back, ``x`` cancel,
``e`` edit (jump to a step from the review screen), ``k`` an extra action of the flow's own,
``p`` show another page of a long list of choices (registration's regions).
"""

from __future__ import annotations

import html
import logging
import re
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

from telegram import (
    CallbackQuery,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    Message,
    ReplyKeyboardRemove,
    Update,
)
from telegram.error import BadRequest
from telegram.ext import Application, CallbackQueryHandler

from bot.context import BotContext
from bot.conversation import FlowRoutes
from bot.i18n import Texts, pick_language
from bot.services.registration import InputError
from storage.models import Conversation

logger = logging.getLogger(__name__)

InputKind = Literal["choice", "multi", "text", "number", "date", "datetime", "info"]
MAX_INDEX = 10_000
_DATA = re.compile(r"^v1:([a-z_]{1,12}):([0-9]{1,9}):([a-z])(?::([0-9]{1,16}))?$")
# An index may be an id (registration's association buttons); JSON numbers are exact to 2**53.
MAX_PRESS_INDEX = 2**53


@dataclass(frozen=True)
class Choice:
    value: str
    label: str  # plain text, already in the person's language


@dataclass(frozen=True)
class StepView:
    """What a step reads: the person's language, the texts, the answers so far, the flow's data."""

    language: str
    texts: Texts
    values: Mapping[str, Any]
    extra: Mapping[str, Any]


@dataclass(frozen=True)
class Step:
    """One question: how it is asked, what it accepts, and what comes after it."""

    key: str
    kind: InputKind
    question: Callable[[StepView], str]
    parse: Callable[[str, StepView], Any] | None = None
    choices: Callable[[StepView], Sequence[Choice]] | None = None
    optional: bool = False
    columns: int = 1
    # The label of an info step's button ("Continue"; "I agree" for an acknowledgement).
    confirm_key: str = "steps.continue"
    # The key of the next step (None: the flow is complete); default: the next in order.
    next: Callable[[StepView], str | None] | None = None


class StepSource(Protocol):
    def step(self, key: str, view: StepView) -> Step | None:
        """The step with this key (None if unknown)."""
        ...

    def first(self, view: StepView) -> str | None:
        """The key of the first step to ask."""
        ...

    def after(self, key: str, view: StepView) -> str | None:
        """The key of the step after `key`, or None when the flow is complete."""
        ...


class StepList:
    """Steps in a fixed order, each optionally choosing what comes next."""

    def __init__(self, steps: Sequence[Step]) -> None:
        self._steps = list(steps)
        self._index = {step.key: position for position, step in enumerate(self._steps)}

    def step(self, key: str, view: StepView) -> Step | None:
        """The step with this key."""
        position = self._index.get(key)
        return self._steps[position] if position is not None else None

    def first(self, view: StepView) -> str | None:
        """The first step."""
        return self._steps[0].key if self._steps else None

    def after(self, key: str, view: StepView) -> str | None:
        """The declared next step, or the following one in order."""
        step = self.step(key, view)
        if step is not None and step.next is not None:
            return step.next(view)
        position = self._index.get(key, len(self._steps)) + 1
        return self._steps[position].key if position < len(self._steps) else None


@dataclass(frozen=True)
class Press:
    """A parsed engine button: which question it belongs to, what it does, and its index."""

    flow: str
    seq: int
    action: str
    index: int | None

    @classmethod
    def parse(cls, data: str | None) -> Press | None:
        """Strictly decode button data; None for anything this engine did not issue."""
        match = _DATA.match(data or "")
        if match is None:
            return None
        flow, seq, action, index = match.groups()
        if index is not None and int(index) > MAX_PRESS_INDEX:
            return None
        return cls(flow, int(seq), action, int(index) if index is not None else None)

    def encode(self) -> str:
        tail = f":{self.index}" if self.index is not None else ""
        return f"v1:{self.flow}:{self.seq}:{self.action}{tail}"


Finish = Callable[[Message, BotContext, Conversation], Awaitable[None]]
Extra = Callable[[CallbackQuery, BotContext, Conversation, int | None], Awaitable[str | None]]


@dataclass
class StepFlow:
    """The engine for one flow: its steps, what happens when they are done, and its buttons."""

    name: str
    source: StepSource
    on_complete: Finish
    on_cancelled: Finish | None = None
    on_extra: Extra | None = None
    cancel_key: str = "steps.cancelled"
    extra_markup: Callable[[Conversation, Texts, str], list[list[InlineKeyboardButton]]] | None = (
        field(default=None)
    )

    # ---- wiring ---------------------------------------------------------------------------
    def register(self, application: Application) -> None:  # type: ignore[type-arg]
        """Route this flow's buttons and free text to the engine."""
        application.add_handler(CallbackQueryHandler(self.on_button, pattern=f"^v1:{self.name}:"))
        application.bot_data.flows[self.name] = FlowRoutes(
            self.name, self.on_text, self.on_cancel, on_resume=self.ask
        )

    # ---- state ----------------------------------------------------------------------------
    def view(self, context: BotContext, conversation: Conversation) -> StepView:
        state = conversation.state
        return StepView(
            language=str(state.get("language", "es")),
            texts=context.services.texts,
            values=state.get("values", {}),
            extra=state.get("extra", {}),
        )

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
        """Start (or restart) the flow for this person and ask its first question."""
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
        conversation = await context.services.store.conversations.save(
            telegram_id, self.name, first or "", state
        )
        if first is None:
            await self.on_complete(message, context, conversation)
            return conversation
        await self.ask(message, context, conversation)
        return conversation

    async def _move(
        self, context: BotContext, conversation: Conversation, step: str, **changes: Any
    ) -> Conversation:
        state = {**conversation.state, **changes}
        return await context.services.store.conversations.save(
            conversation.telegram_id, self.name, step, state
        )

    # ---- asking ---------------------------------------------------------------------------
    async def ask(self, message: Message, context: BotContext, conversation: Conversation) -> None:
        """Send the current question with its buttons (a new seq makes older buttons stale)."""
        view = self.view(context, conversation)
        step = self.source.step(conversation.step, view)
        if step is None:
            await self.on_complete(message, context, conversation)
            return
        seq = int(conversation.state.get("seq", 0)) + 1
        conversation = await self._move(context, conversation, conversation.step, seq=seq)
        text = step.question(view)
        markup = self._markup(step, view, conversation, seq)
        await message.chat.send_message(text, reply_markup=markup)

    def _button(
        self, label: str, seq: int, action: str, index: int | None = None
    ) -> InlineKeyboardButton:
        return InlineKeyboardButton(
            label, callback_data=Press(self.name, seq, action, index).encode()
        )

    def _markup(
        self, step: Step, view: StepView, conversation: Conversation, seq: int
    ) -> InlineKeyboardMarkup:
        texts, language = view.texts, view.language
        rows: list[list[InlineKeyboardButton]] = []
        if step.choices is not None and step.kind in ("choice", "multi"):
            chosen = view.values.get(step.key) if step.kind == "multi" else None
            selected = set(chosen or ())
            buttons = []
            for index, choice in enumerate(step.choices(view)):
                if step.kind == "multi":
                    mark = "☑️ " if choice.value in selected else "⬜ "
                    buttons.append(self._button(mark + choice.label, seq, "t", index))
                else:
                    buttons.append(self._button(choice.label, seq, "c", index))
            columns = max(1, step.columns)
            rows.extend(buttons[i : i + columns] for i in range(0, len(buttons), columns))
            if step.kind == "multi":
                rows.append([self._button(texts.plain(language, "steps.done"), seq, "d")])
        if step.kind == "info":
            rows.append([self._button(texts.plain(language, step.confirm_key), seq, "d")])
        if self.extra_markup is not None:
            rows.extend(self.extra_markup(conversation, texts, language))
        navigation = []
        if conversation.state.get("path"):
            navigation.append(self._button(texts.plain(language, "steps.back"), seq, "b"))
        if step.optional:
            navigation.append(self._button(texts.plain(language, "steps.skip"), seq, "s"))
        navigation.append(self._button(texts.plain(language, "steps.cancel"), seq, "x"))
        rows.append(navigation)
        return InlineKeyboardMarkup(rows)

    # ---- answers --------------------------------------------------------------------------
    async def on_text(
        self, message: Message, context: BotContext, conversation: Conversation
    ) -> None:
        """Take typed text as the answer to the current question, or re-ask with the reason."""
        view = self.view(context, conversation)
        step = self.source.step(conversation.step, view)
        if step is None:
            await self.on_complete(message, context, conversation)
            return
        texts, language = view.texts, view.language
        if step.parse is None:
            key = "steps.use_buttons" if step.kind != "info" else "steps.press_continue"
            await message.chat.send_message(texts.get(language, key))
            await self.ask(message, context, conversation)
            return
        try:
            value = step.parse(message.text or "", view)
        except InputError as error:
            reason = texts.get(language, error.key, **error.values)
            await message.chat.send_message(f"⚠️ {reason}")
            await self.ask(message, context, conversation)
            return
        await self.answer(message, context, conversation, step, value)

    async def answer(
        self,
        message: Message,
        context: BotContext,
        conversation: Conversation,
        step: Step,
        value: Any,
    ) -> None:
        """Store the answer at once, then ask the next question (or finish)."""
        values = {**conversation.state.get("values", {}), step.key: value}
        if value is None:
            values.pop(step.key, None)
        conversation = conversation.model_copy(
            update={"state": {**conversation.state, "values": values}}
        )
        view = self.view(context, conversation)
        following = self.source.after(step.key, view)
        path = [*conversation.state.get("path", []), step.key]
        if conversation.state.get("return_to") is not None and following is not None:
            # Editing from the review screen: come straight back to it.
            following = None
        conversation = await self._move(
            context, conversation, following or "", values=values, path=path
        )
        if following is None:
            await self.on_complete(message, context, conversation)
            return
        await self.ask(message, context, conversation)

    async def jump(
        self, message: Message, context: BotContext, conversation: Conversation, key: str
    ) -> None:
        """Ask one step again (an edit from the review screen), then come back to the review."""
        conversation = await self._move(context, conversation, key, return_to="review")
        await self.ask(message, context, conversation)

    async def on_cancel(
        self, message: Message, context: BotContext, conversation: Conversation
    ) -> None:
        """/cancel: end the flow; what it already saved elsewhere stays."""
        await context.services.store.conversations.end(conversation.telegram_id, self.name)
        if self.on_cancelled is not None:
            await self.on_cancelled(message, context, conversation)
            return
        language = str(conversation.state.get("language", "es"))
        await message.chat.send_message(
            context.services.texts.get(language, self.cancel_key),
            reply_markup=ReplyKeyboardRemove(),
        )

    async def on_button(self, update: Update, context: BotContext) -> None:
        """A press on one of this flow's buttons: valid only for the question now asked."""
        query, user = update.callback_query, update.effective_user
        if query is None or user is None:
            return
        press = Press.parse(query.data)
        conversation = await context.services.store.conversations.get(user.id)
        if conversation is not None:
            language = str(conversation.state.get("language", "es"))
        else:
            language = await _language_of(context, user.id, user.language_code)
        stale = context.services.texts.plain(language, "error.button_unknown")
        if (
            press is None
            or conversation is None
            or conversation.flow != self.name
            or press.seq != int(conversation.state.get("seq", -1))
        ):
            await query.answer(stale)
            return
        notice = await self._press(query, context, conversation, press)
        await query.answer(notice)

    async def _press(
        self, query: CallbackQuery, context: BotContext, conversation: Conversation, press: Press
    ) -> str | None:
        message = query.message
        if not isinstance(message, Message):
            return None
        stale = context.services.texts.plain(
            str(conversation.state.get("language", "es")), "error.button_unknown"
        )
        view = self.view(context, conversation)
        step = self.source.step(conversation.step, view)
        if press.action == "x":
            await _close(message)
            await self.on_cancel(message, context, conversation)
            return None
        if press.action == "k" and self.on_extra is not None:
            return await self.on_extra(query, context, conversation, press.index)
        if step is None:
            return stale
        if press.action == "b":
            return await self._back(message, context, conversation)
        if press.action == "s" and step.optional:
            await _close(message)
            await self.answer(message, context, conversation, step, None)
            return None
        choices = list(step.choices(view)) if step.choices is not None else []
        if press.action == "c" and step.kind == "choice":
            if press.index is None or press.index >= len(choices):
                return stale
            await _close(message, choices[press.index].label)
            await self.answer(message, context, conversation, step, choices[press.index].value)
            return None
        if press.action == "t" and step.kind == "multi":
            if press.index is None or press.index >= len(choices):
                return stale
            chosen = list(view.values.get(step.key) or [])
            value = choices[press.index].value
            chosen = (
                [item for item in chosen if item != value] if value in chosen else [*chosen, value]
            )
            values = {**view.values, step.key: chosen}
            conversation = await self._move(context, conversation, conversation.step, values=values)
            seq = int(conversation.state.get("seq", 0))
            markup = self._markup(step, self.view(context, conversation), conversation, seq)
            try:
                await message.edit_reply_markup(markup)
            except BadRequest as error:
                if "not modified" not in str(error):
                    raise
            return None
        if press.action == "d" and step.kind in ("multi", "info"):
            done: list[Any] | bool = (
                list(view.values.get(step.key) or []) if step.kind == "multi" else True
            )
            if step.kind == "multi" and not done and not step.optional:
                return context.services.texts.plain(view.language, "steps.choose_one")
            picked = done if isinstance(done, list) else []
            labels = [choice.label for choice in choices if choice.value in picked]
            await _close(message, ", ".join(labels) or None)
            await self.answer(message, context, conversation, step, done)
            return None
        return stale

    async def _back(
        self, message: Message, context: BotContext, conversation: Conversation
    ) -> str | None:
        path = list(conversation.state.get("path", []))
        if not path:
            return context.services.texts.plain(
                str(conversation.state.get("language", "es")), "error.button_unknown"
            )
        previous = path.pop()
        await _close(message)
        conversation = await self._move(context, conversation, previous, path=path)
        await self.ask(message, context, conversation)
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
