"""Where a flow keeps a person's place and answers: the `Track` the step engine reads and moves.

The default is the person's active conversation (`ConversationTrack`: step, answers, path and the
question number in the conversations table). Registration keeps its place in the member row
instead (`bot.handlers.registration_flow.MemberTrack`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

from bot.context import BotContext
from bot.language import person_language
from bot.services.errors import InputError
from bot.services.stepkit import Step, StepSource, StepView
from storage.models import Conversation


class Track(Protocol):
    """Where a flow keeps a person's place and answers; the engine reads and moves it only here."""

    async def load(self, context: BotContext, telegram_id: int) -> Conversation | None:
        """The person's place in this flow (None: they are not in it)."""
        ...

    async def view(
        self, context: BotContext, conversation: Conversation, shown: bool = True
    ) -> StepView:
        """What the steps read: language, texts, answers so far, the flow's data.

        ``shown=False``: the view only dispatches an input, nothing is drawn from it, so data a
        track fetches for display alone may be left out.
        """
        ...

    async def asked(self, context: BotContext, conversation: Conversation) -> Conversation:
        """A question is being shown: number it, so buttons of other questions become stale.

        A conversation numbers every asking anew; registration numbers by step (a button of the
        same step asked again after a refusal stays valid, and means the same).
        """
        ...

    async def answer(
        self, context: BotContext, conversation: Conversation, step: Step, value: Any
    ) -> Conversation:
        """Store the answer and move on (step "" once complete); InputError if it is refused."""
        ...

    async def toggle(
        self, context: BotContext, conversation: Conversation, step: Step, value: str
    ) -> Conversation:
        """Tick or untick one choice of a multiple choice."""
        ...

    async def back(self, context: BotContext, conversation: Conversation) -> Conversation | None:
        """Return to the previous question (None: there is none)."""
        ...

    async def extra_button(
        self, context: BotContext, conversation: Conversation, step: Step, index: int
    ) -> Conversation:
        """One of the step's own extra buttons."""
        ...

    async def edit(
        self, context: BotContext, conversation: Conversation, index: int
    ) -> Conversation:
        """An edit button of a review step."""
        ...

    async def jump(self, context: BotContext, conversation: Conversation, key: str) -> Conversation:
        """Ask one step again, then come back to the review."""
        ...

    async def end(self, context: BotContext, conversation: Conversation) -> None:
        """Leave the flow."""
        ...

    def can_go_back(self, conversation: Conversation, step: Step) -> bool:
        """Whether the question shows a Back button."""
        ...


def conversation_view(context: BotContext, conversation: Conversation) -> StepView:
    """The view of a flow kept in the active conversation."""
    state = conversation.state
    return StepView(
        language=person_language(context, state.get("language")),
        texts=context.services.texts,
        values=state.get("values", {}),
        extra=state.get("extra", {}),
    )


class OffersNoExtraButtons:
    """A track whose questions carry no buttons of their own and no edit links: such a press
    is forged or stale."""

    async def extra_button(
        self, context: BotContext, conversation: Conversation, step: Step, index: int
    ) -> Conversation:
        raise InputError("error.button_unknown")

    async def edit(
        self, context: BotContext, conversation: Conversation, index: int
    ) -> Conversation:
        raise InputError("error.button_unknown")


@dataclass
class ConversationTrack(OffersNoExtraButtons):
    """The default track: the person's active conversation (step, answers, path, seq)."""

    name: str
    source: StepSource
    # Per person, the question number an answer's move already wrote for the question asked
    # next: that asking then needs no write of its own (one write fewer on every answer).
    _numbered: dict[int, int] = field(default_factory=dict, repr=False)

    async def load(self, context: BotContext, telegram_id: int) -> Conversation | None:
        return await context.services.conversations.get(telegram_id)

    async def view(
        self, context: BotContext, conversation: Conversation, shown: bool = True
    ) -> StepView:
        return conversation_view(context, conversation)

    async def move(
        self, context: BotContext, conversation: Conversation, step: str, **changes: Any
    ) -> Conversation:
        """Save the conversation at `step` with these changes to its state."""
        state = {**conversation.state, **changes}
        return await context.services.conversations.save(
            conversation.telegram_id, self.name, step, state
        )

    async def asked(self, context: BotContext, conversation: Conversation) -> Conversation:
        seq = int(conversation.state.get("seq", 0))
        if self._numbered.pop(conversation.telegram_id, None) == seq:
            return conversation  # numbered by the answer's move, in the same write
        return await self.move(context, conversation, conversation.step, seq=seq + 1)

    async def answer(
        self, context: BotContext, conversation: Conversation, step: Step, value: Any
    ) -> Conversation:
        following, state = self.answered(context, conversation, step, value)
        moved = await context.services.conversations.save(
            conversation.telegram_id, self.name, following, state
        )
        self.numbered_next(conversation, state)
        return moved

    def answered(
        self, context: BotContext, conversation: Conversation, step: Step, value: Any
    ) -> tuple[str, dict[str, Any]]:
        """Where an answer leads ("" once complete) and the state it leaves; nothing written.

        A track that stores the answer elsewhere too (a survey's working answers) writes this
        move in the same trip, then calls `numbered_next`.
        """
        values = {**conversation.state.get("values", {}), step.key: value}
        if value is None:
            values.pop(step.key, None)
        with_answer = conversation.model_copy(
            update={"state": {**conversation.state, "values": values}}
        )
        following = self.source.after(step.key, conversation_view(context, with_answer))
        path = [*conversation.state.get("path", []), step.key]
        if conversation.state.get("return_to") is not None and following is not None:
            # Editing from the review screen: come straight back to it.
            following = None
        seq = int(conversation.state.get("seq", 0)) + 1
        return following or "", {**conversation.state, "values": values, "path": path, "seq": seq}

    def numbered_next(self, conversation: Conversation, state: dict[str, Any]) -> None:
        """The move just written numbered the next question: its asking writes nothing."""
        self._numbered[conversation.telegram_id] = int(state["seq"])

    async def rewind(
        self, context: BotContext, previous: Conversation, current: Conversation
    ) -> Conversation:
        """Back to the question last shown (`previous`), after Telegram refused the next one.

        The answers given since stay (the person gave them; a survey has stored them already);
        the question number goes on from the latest stored, as after any question asked.
        """
        stored = await self.load(context, previous.telegram_id)
        latest = stored if stored is not None and stored.flow == self.name else current
        state = {
            **previous.state,
            "values": current.state.get("values", {}),
            "seq": int(latest.state.get("seq", 0)),
        }
        return await context.services.conversations.save(
            previous.telegram_id, self.name, previous.step, state
        )

    async def toggle(
        self, context: BotContext, conversation: Conversation, step: Step, value: str
    ) -> Conversation:
        chosen = list(conversation.state.get("values", {}).get(step.key) or [])
        chosen = [item for item in chosen if item != value] if value in chosen else [*chosen, value]
        values = {**conversation.state.get("values", {}), step.key: chosen}
        return await self.move(context, conversation, conversation.step, values=values)

    async def back(self, context: BotContext, conversation: Conversation) -> Conversation | None:
        path = list(conversation.state.get("path", []))
        if not path:
            return None
        previous = path.pop()
        return await self.move(context, conversation, previous, path=path)

    async def jump(self, context: BotContext, conversation: Conversation, key: str) -> Conversation:
        return await self.move(context, conversation, key, return_to="review")

    async def end(self, context: BotContext, conversation: Conversation) -> None:
        await context.services.conversations.end(conversation.telegram_id, self.name)

    def can_go_back(self, conversation: Conversation, step: Step) -> bool:
        return bool(conversation.state.get("path"))
