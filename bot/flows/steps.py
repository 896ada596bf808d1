"""One engine as code for steps declared as data: ask, validate, store, move on — for any flow.

A flow declares its steps once (`bot.services.stepkit.Step`: key, input kind, question, parser,
choices, next rule) and hands them to a `StepFlow`. The engine owns the flow's buttons,
``v1:<flow>:<seq>:<action>[:<index>]``, where ``seq`` numbers the question asked; a button from any
other question, or from a flow that is not the person's, is answered as no longer valid.
Actions: ``c`` choose, ``t`` toggle (``f`` among search results), ``d`` done (multi, info,
review), ``s`` skip, ``b`` back, ``x`` cancel, ``e`` edit (from a review), ``k`` a step's or the
flow's own extra button, ``p`` another page of a long list of choices.

This module is the answering half: typed text, shared contacts and presses, read and dispatched
in one place, and the track moved. What the person is shown — questions, keyboards, search
results, what happens when Telegram refuses a question — is `bot.flows.asking` (keyboards drawn by
`bot.flows.keyboards`). Where a person's place and answers are kept is the flow's `Track`: by
default their active conversation (`ConversationTrack`); registration keeps them in the member
row, because the answers *are* the profile (`bot.handlers.registration_flow.MemberTrack`). How a
flow looks and what it does beyond the steps (labels, the order of its navigation buttons,
whether an answered question is edited into the next one, a kind's own keyboard, what happens
after an answer) is declared by the fields and hooks the flow passes in — never by overriding
these methods — so the dispatch stays one piece of code.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from telegram import CallbackQuery, Message, ReplyKeyboardMarkup, ReplyKeyboardRemove, Update

from bot.context import BotContext
from bot.flows.asking import Answered as Answered
from bot.flows.asking import Extra as Extra
from bot.flows.asking import Finish as Finish
from bot.flows.asking import FlowStopped as FlowStopped
from bot.flows.asking import KindMarkup as KindMarkup
from bot.flows.asking import PressCheck as PressCheck
from bot.flows.asking import StepAsking
from bot.flows.keyboards import Labels as Labels
from bot.flows.keyboards import Markup as Markup
from bot.flows.keyboards import close_keyboard, close_question, edit_text, found_on, page_of
from bot.flows.keyboards import edit_markup as edit_markup
from bot.flows.tracks import Track as Track
from bot.language import conversation_language, language_of
from bot.services.errors import InputError
from bot.services.stepkit import Choice as Choice
from bot.services.stepkit import InputKind as InputKind
from bot.services.stepkit import Press as Press
from bot.services.stepkit import SharedContact
from bot.services.stepkit import Step as Step
from bot.services.stepkit import StepList as StepList
from bot.services.stepkit import StepSource as StepSource
from bot.services.stepkit import StepView as StepView
from storage.models import Conversation

logger = logging.getLogger(__name__)


@dataclass
class StepFlow(StepAsking):
    """The engine for one flow: what the person sends, read and dispatched; the track moved."""

    # ---- state ----------------------------------------------------------------------------
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

    # ---- moving on -----------------------------------------------------------------------
    async def advance(
        self,
        message: Message,
        context: BotContext,
        before: Conversation,
        after: Conversation,
        pressed: CallbackQuery | None,
    ) -> None:
        """After an answer: the flow's `on_answer` hook, then the next question, or finish."""
        if self.on_answer is not None:
            moved = await self.on_answer(message, context, before, after, pressed)
            if moved is None:
                return
            after = moved
        if self.in_place:
            await self._in_place(message, context, after, pressed)
            return
        if after.step == "":
            await self.on_complete(message, context, after)
            return
        await self.ask(message, context, after, previous=before)

    async def _in_place(
        self,
        message: Message,
        context: BotContext,
        after: Conversation,
        pressed: CallbackQuery | None,
    ) -> None:
        """The next question edited into the pressed one (a reply keyboard needs a new message)."""
        text, markup = await self.question(context, after)
        if text is None:
            await self.on_complete(message, context, after)
            return
        if pressed is not None and not isinstance(markup, ReplyKeyboardMarkup):
            await edit_text(pressed, text, markup)
            return
        if pressed is not None:
            await close_keyboard(pressed)
        await message.chat.send_message(text, reply_markup=markup)

    async def close(self, message: Message, chosen: str | None = None) -> None:
        """Take the buttons off an answered question (showing the choice) before moving on;
        in place, the pressed question becomes the next one instead."""
        if not self.in_place:
            await close_question(message, chosen)

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
            if step.kind == "choice" and step.parse is not None:
                # A choice's whole label (or name) answers; anything else is searched for.
                try:
                    value = step.parse(text, view)
                except InputError:
                    value = None
                if value is not None:
                    await self.answer(message, context, conversation, step, value)
                    return
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
        except FlowStopped as stopped:
            await self.place.end(context, conversation)
            language = conversation_language(context, conversation)
            await message.chat.send_message(context.services.texts.get(language, stopped.key))
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
        language = conversation_language(context, conversation)
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
                language = conversation_language(context, conversation)
            else:
                language = await language_of(context, user.id, user.language_code)
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
            await close_question(message)
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
            refused = await self.refused(context, conversation, step, choices[index].value)
            if refused is not None:
                return refused
            await self.close(message, choices[index].label)
            return await self.answer(
                message, context, conversation, step, choices[index].value, query
            )
        if action in ("t", "f") and step.kind == "multi":
            if index is None or index >= len(choices):
                return await self.stale(query, context, conversation)
            toggled = await self.place.toggle(context, conversation, step, choices[index].value)
            seq = int(toggled.state.get("seq", 0))
            toggled_view = await self.place.view(context, toggled)
            # The keyboard pressed is redrawn as it was: the same page, or the same results.
            if action == "f":
                found = found_on(message)
                redrawn = self.found_markup(step, toggled_view, toggled, seq, found)
            else:
                redrawn = self.markup(step, toggled_view, toggled, seq, page_of(step, index))
            await edit_markup(message, redrawn)
            return None
        if action == "d" and step.kind in ("multi", "info", "review"):
            if step.kind != "multi":
                await self.close(message)
                return await self.answer(message, context, conversation, step, True, query)
            done = list(view.values.get(step.key) or [])
            if not done and not step.optional:
                return view.texts.plain(view.language, step.none_chosen_key)
            # Checked before the tick is drawn: "✔ a, b, c, d" then "at most 3" would say both.
            refused = await self.refused(context, conversation, step, done)
            if refused is not None:
                return refused
            labels = [choice.label for choice in choices if choice.value in done]
            await self.close(message, ", ".join(labels) or None)
            return await self.answer(message, context, conversation, step, done, query)
        return await self.stale(query, context, conversation)

    async def refused(
        self, context: BotContext, conversation: Conversation, step: Step, value: Any
    ) -> str | None:
        """Why a pressed answer cannot be taken (shown as the press's notice, the question kept
        open with its ticks), or None: the flow's `check_press` hook (rules beyond the buttons)."""
        if self.check_press is None:
            return None
        return await self.check_press(context, conversation, step, value)

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
