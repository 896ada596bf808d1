"""Registration on the step engine: its table as engine steps, kept in the member row, in place.

The steps are `bot.services.registration_steps.REGISTRATION`; `StepFlow` dispatches every input
(typed text, a shared contact, each button). What is registration's own:
- `MemberTrack`: the person's place and answers live in the member row (the answers *are* the
  profile, and erasure must find them there), and `RegistrationService` decides what follows
  (edit groups, the time zone filled when a state has one). A button's number is its step's
  number in the table, so a press from any other step is stale.
- `registration_engine()`: the engine in place (a pressed question is edited into the next one,
  a refusal leads the question again, a stale press shows the current question again), with
  registration's keyboards, association search and /cancel passed in as hooks.
"""

from __future__ import annotations

import logging
from typing import Any

from telegram import (
    CallbackQuery,
    Message,
    ReplyKeyboardRemove,
)

from bot import keyboards
from bot.context import BotContext
from bot.flows.keyboards import close_keyboard as close_keyboard
from bot.flows.keyboards import edit_text as edit_text
from bot.flows.steps import Labels, StepFlow
from bot.handlers.profile_view import profile_text, render_profile
from bot.services import regions
from bot.services.errors import InputError
from bot.services.registration_steps import (
    BY_KEY,
    EDITABLE,
    FLOW,
    REGION_EXAMPLES,
    REGISTRATION,
    STEPS,
    ChoiceView,
    RegStep,
    seq_of,
)
from bot.services.stepkit import Choice, Step, StepView
from storage.models import Association, Conversation, Member

logger = logging.getLogger(__name__)


def _member(view_or_conversation: StepView | Conversation) -> Member:
    if isinstance(view_or_conversation, StepView):
        member = view_or_conversation.extra["member"]
    else:
        member = view_or_conversation.state["member"]
    assert isinstance(member, Member)
    return member


def _engine_step(declared: RegStep) -> Step:
    """One row of registration's table as an engine step."""

    def question(view: StepView) -> str:
        member = _member(view)
        if declared.kind == "review":
            title = "summary.title" if member.status == "registering" else "profile.title"
            return render_profile(view.texts, member, view.extra.get("association"), title)
        values: dict[str, str] = {}
        if declared.key == "zone":
            place = regions.region(member.country or "", member.region or "")
            values["region"] = place.name_in(view.language) if place else ""
        if declared.key == "region":
            values["example"] = REGION_EXAMPLES.get(member.country or "", REGION_EXAMPLES["US"])[0]
        return view.texts.get(view.language, declared.question, **values)

    def choices(view: StepView) -> list[Choice]:
        assert declared.choices is not None
        return list(declared.choices(view.extra["choices"]))

    typed = declared.typed

    def parse(text: str, view: StepView) -> str:
        assert typed is not None
        return typed(text, view.extra["choices"])

    return Step(
        key=declared.key,
        kind=declared.kind,
        question=question,
        parse=parse if typed is not None else None,
        choices=choices if declared.choices is not None else None,
        optional=declared.optional,
        columns=declared.columns,
        page_size=declared.page_size,
        extras=declared.extras,
        index_is_value=declared.index_is_value,
        searchable=declared.searchable,
        none_chosen_key="error.themes_none",
    )


class RegistrationSource:
    """Registration's table as engine steps, built once; a profile without a step is a review."""

    def __init__(self) -> None:
        self._steps = {declared.key: _engine_step(declared) for declared in REGISTRATION}

    def step(self, key: str, view: StepView) -> Step | None:
        """The step with this key; a step the table no longer has shows the profile to review."""
        found = self._steps.get(key)
        if found is None:
            if key:
                logger.warning("A member is at a step registration no longer has: %s", key)
            return self._steps["summary"]
        return found

    def first(self, view: StepView) -> str | None:
        return STEPS[0]

    def after(self, key: str, view: StepView) -> str | None:
        """The next step of the main path (unused: `MemberTrack` asks the service what follows)."""
        position = STEPS.index(key) + 1 if key in STEPS else len(STEPS)
        return STEPS[position] if position < len(STEPS) else None


class MemberTrack:
    """Registration's place is the member row: step, editing, and the profile fields themselves."""

    def of(self, member: Member, found: list[Association] | None = None) -> Conversation:
        """The member's place as the engine reads it (never stored: the member row is)."""
        state: dict[str, Any] = {
            "language": member.language,
            "seq": seq_of(member.step),
            "member": member,
        }
        if found is not None:
            state["found"] = found
        return Conversation.model_construct(
            telegram_id=member.telegram_id or 0,
            flow=FLOW,
            step=member.step or "",
            state=state,
            updated_at=member.updated_at,
        )

    async def load(self, context: BotContext, telegram_id: int) -> Conversation | None:
        member = await context.services.registration.member(telegram_id)
        return self.of(member) if member is not None else None

    async def view(
        self, context: BotContext, conversation: Conversation, shown: bool = True
    ) -> StepView:
        """The member, the lists the choices come from; the associations only to draw them."""
        services = context.services
        member = _member(conversation)
        found = conversation.state.get("found")
        if found is None and member.step == "association" and shown:
            # An association button carries its id: a press needs no list to be understood.
            found = await services.registration.association_choices(member)
        association = None
        if shown and member.step in (None, "summary") and member.association_id is not None:
            association = await services.registration.association(member.association_id)
        choices = ChoiceView(
            texts=services.texts,
            language=member.language,
            member=member,
            sectors=services.registration.sectors,
            themes=services.registration.themes,
            now=services.clock.now(),
            associations=found or [],
        )
        return StepView(
            language=member.language,
            texts=services.texts,
            values={"themes": list(member.themes)},
            extra={"member": member, "choices": choices, "association": association},
        )

    async def asked(self, context: BotContext, conversation: Conversation) -> Conversation:
        return conversation

    async def answer(
        self, context: BotContext, conversation: Conversation, step: Step, value: Any
    ) -> Conversation:
        registration = context.services.registration
        return self.of(await registration.answer(_member(conversation), step.key, value))

    async def toggle(
        self, context: BotContext, conversation: Conversation, step: Step, value: str
    ) -> Conversation:
        registration = context.services.registration
        return self.of(await registration.toggle_theme(_member(conversation), value))

    async def back(self, context: BotContext, conversation: Conversation) -> Conversation | None:
        return self.of(await context.services.registration.back(_member(conversation)))

    async def extra_button(
        self, context: BotContext, conversation: Conversation, step: Step, index: int
    ) -> Conversation:
        registration = context.services.registration
        return self.of(await registration.extra_button(_member(conversation), index))

    async def edit(
        self, context: BotContext, conversation: Conversation, index: int
    ) -> Conversation:
        if index >= len(EDITABLE):
            raise InputError("error.choose_button")
        services = context.services
        member = _member(conversation)
        edited = self.of(await services.registration.edit(member, EDITABLE[index]))
        # The person chose to edit their profile now: typed text must reach this question, not a
        # flow they left open (an export's or a survey's, which keep what they saved).
        await services.conversations.end(conversation.telegram_id)
        return edited

    async def jump(self, context: BotContext, conversation: Conversation, key: str) -> Conversation:
        raise InputError("error.choose_button")

    async def end(self, context: BotContext, conversation: Conversation) -> None:
        """Registration is paused, never ended: what was answered stays in the member row."""

    def can_go_back(self, conversation: Conversation, step: Step) -> bool:
        rule = BY_KEY[step.key].back if step.key in BY_KEY else "never"
        return rule == "always" or (rule == "editing" and _member(conversation).editing)


def _labels() -> Labels:
    return Labels(done="button.done", back="button.back", skip="button.skip", cancel=None)


# The member row holds every person's place (this keeps no state): one for the application.
MEMBERS = MemberTrack()


async def show_profile(message: Message, context: BotContext, conversation: Conversation) -> None:
    """No step to ask: the member's profile with its edit buttons."""
    member = _member(conversation)
    text = await profile_text(context, member, "profile.title")
    await message.chat.send_message(
        text, reply_markup=keyboards.summary(context.services.texts, member)
    )


async def _answered(
    message: Message,
    context: BotContext,
    before: Conversation,
    after: Conversation,
    pressed: CallbackQuery | None,
) -> Conversation | None:
    """After the phone step, say whether a number was kept; the last press says welcome."""
    texts = context.services.texts
    earlier, member = _member(before), _member(after)
    if earlier.step == "phone":
        key = "phone.received" if member.phone else "phone.skipped"
        await message.chat.send_message(
            texts.get(member.language, key), reply_markup=ReplyKeyboardRemove()
        )
    if earlier.status == "registering" and member.status == "active" and pressed is not None:
        done = texts.get(member.language, "registered.done", name=member.name or "")
        await edit_text(pressed, done, None)
        return None
    return after


def registration_engine() -> StepFlow:
    """The engine running registration: in the member row, each answer edited into the next step.

    Registration's own looks are hooks: the share-contact keyboard and the profile's edit buttons
    (`kind_markup`), associations searched by the service (`on_search`), /cancel leaving an edit
    or pausing (`on_cancelled`), the phone and welcome notes (`on_answer`); `in_place` edits a
    pressed question into the next one.
    """

    async def search(
        message: Message, context: BotContext, conversation: Conversation, text: str
    ) -> None:
        """The association step: the same choices, narrowed to what was typed."""
        member = _member(conversation)
        try:
            found = await context.services.registration.search_associations(member, text)
        except InputError as error:
            await engine.refuse(message, context, conversation, error)
            return
        narrowed = MEMBERS.of(member, found)
        view = await MEMBERS.view(context, narrowed)
        step = engine.source.step(member.step or "", view)
        assert step is not None
        key = "ask.association_results" if found else "ask.association_none_found"
        query = " ".join(text.split())[:40]
        markup = engine.markup(step, view, narrowed, seq_of(member.step))
        await message.chat.send_message(
            view.texts.get(member.language, key, query=query), reply_markup=markup
        )

    async def cancelled(message: Message, context: BotContext, conversation: Conversation) -> None:
        """/cancel: leave an edit (the old values come back) or pause registration."""
        member = _member(conversation)
        texts = context.services.texts
        # The phone step may have left the share-contact keyboard open; close it either way.
        if member.editing:
            after = await context.services.registration.cancel_edit(member)
            await message.chat.send_message(
                texts.get(after.language, "cancel.edit"), reply_markup=ReplyKeyboardRemove()
            )
            await engine.ask(message, context, MEMBERS.of(after))
            return
        await message.chat.send_message(
            texts.get(member.language, "cancel.paused"), reply_markup=ReplyKeyboardRemove()
        )

    engine = StepFlow(
        FLOW,
        RegistrationSource(),
        show_profile,
        on_cancelled=cancelled,
        on_answer=_answered,
        track=MEMBERS,
        labels=_labels(),
        navigation="stacked",
        in_place=True,
        kind_markup={
            "contact": lambda view, conversation: keyboards.share_phone(view.texts, view.language),
            "review": lambda view, conversation: keyboards.summary(
                view.texts, _member(conversation)
            ),
        },
        on_search=search,
    )
    return engine
