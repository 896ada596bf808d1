"""A survey on the step engine: one step per question shown, a review screen, submit.

Every answer is stored in the survey's working answers the moment it is given (the survey's
track, `survey_forms.SurveyTrack`), so a restart or a pause of a week resumes at the next question.
A long choice list (`survey_steps.long_list`) is shown a page at a time and searched by typing.
Review buttons are the engine's own extra action ``k`` tied to the screen's seq: index 0 submits,
index i + 1 edits question i of the form; the screen and the submit are `survey_review`. The flow
customises the engine through hooks only (review at the end, pause on /cancel, the extra buttons,
the form's rule on a press, a number typed on the review screen).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any

from telegram import CallbackQuery, InlineKeyboardButton, Message

from bot import flows
from bot.context import BotContext
from bot.flows.keyboards import Labels
from bot.flows.steps import Press, Step, StepFlow
from bot.handlers.chunks import close_buttons
from bot.handlers.survey_forms import FLOW, SurveyForms, SurveySource, SurveyTrack
from bot.handlers.survey_review import SUBMIT, show_review, submit
from bot.i18n import Texts
from bot.language import conversation_language
from bot.services import survey_steps
from bot.services.errors import InputError
from bot.services.surveys import Session, SurveysService
from bot.services.xlsform import Form
from storage.models import Conversation

__all__ = ["FLOW", "Survey"]


class Survey:
    """The survey flow: its engine (the form's steps on the survey's track) and its hooks."""

    def __init__(self) -> None:
        self.name = FLOW
        self.forms = SurveyForms()
        source = SurveySource(self.forms)
        self.engine = StepFlow(
            FLOW,
            source,
            self.review,
            on_cancelled=self.paused,
            on_extra=self.extra_action,
            extra_markup=self.default_button,
            check_press=self.check_press,
            describe=self.describe,
            track=SurveyTrack(self.forms, source),
            # Leaving a survey keeps its answers: the button says so, not "Cancel".
            labels=Labels(cancel="survey.button.pause"),
        )

    def plugged(self, commands: Mapping[str, flows.Command]) -> flows.Flow:
        """The flow to register: the engine, with a number typed on the review screen."""
        return flows.Flow(self.engine, commands=commands, on_text=self.on_text)

    # ---- what survey_review and /surveys ask of it ---------------------------------------------
    def service(self, context: BotContext) -> SurveysService:
        return self.forms.service(context)

    def today(self) -> date:
        return self.forms.today()

    async def ask(
        self,
        message: Message,
        context: BotContext,
        conversation: Conversation,
        lead: str = "",
        previous: Conversation | None = None,
    ) -> None:
        await self.engine.ask(message, context, conversation, lead, previous)

    # ---- hooks ----------------------------------------------------------------------------------
    async def on_text(
        self, message: Message, context: BotContext, conversation: Conversation
    ) -> None:
        """Typed answers; on the review screen a number edits that answer."""
        await self.forms.ready(context, conversation)
        if conversation.step == "" and (message.text or "").strip().isdigit():
            question = self.forms.numbered(conversation, int((message.text or "").strip()))
            if question is not None:
                await self.engine.jump(message, context, conversation, question.name)
                return
        await self.engine.on_text(message, context, conversation)

    def default_button(
        self, conversation: Conversation, texts: Texts, language: str
    ) -> list[list[InlineKeyboardButton]]:
        """A "Use: <default>" button under a typed question that has a default."""
        found = self.forms.current(conversation)
        if found is None:
            return []
        form, question = found
        if survey_steps.KINDS[question.type] in ("choice", "multi", "info"):
            return []
        values = dict(conversation.state.get("values", {}))
        lang = str(conversation.state.get("extra", {}).get("lang", language))
        default = survey_steps.default_for(form, question, values, lang, self.today())
        if default is None:
            return []
        seq = int(conversation.state.get("seq", 0))
        label = texts.plain(language, "survey.button.use_default", value=default[1])
        return [[InlineKeyboardButton(label, callback_data=Press(FLOW, seq, "k", 0).encode())]]

    def describe(self, conversation: Conversation) -> str:
        """The survey and question, as the log and the admins' alert name them."""
        extra = conversation.state.get("extra", {})
        form = self.forms.form_of(conversation)
        title = f" ({form.form_id} v{form.version})" if form is not None else ""
        return f"survey #{extra.get('survey', '?')}{title}, question {conversation.step}"

    async def check_press(
        self, context: BotContext, conversation: Conversation, step: Step, value: Any
    ) -> str | None:
        """The form's constraint on a pressed choice (at most 3, ...), before it is shown taken."""
        found = self.forms.current(conversation)
        if found is None or step.kind not in ("choice", "multi") or value is None:
            return None
        _, question = found
        try:
            self.forms.checked_press(context, conversation, question, value)
        except InputError as error:
            view = await self.engine.place.view(context, conversation, shown=False)
            return f"⚠️ {view.texts.plain(view.language, error.key, **error.values)}"
        return None

    async def stop_with(
        self, message: Message, context: BotContext, conversation: Conversation, key: str
    ) -> None:
        """End the survey's conversation with this reason (closed, not invited...)."""
        await context.services.conversations.end(conversation.telegram_id, FLOW)
        language = conversation_language(context, conversation)
        await message.chat.send_message(context.services.texts.get(language, key))

    # ---- starting, review, submit ----------------------------------------------------------
    async def open_session(
        self,
        message: Message,
        context: BotContext,
        telegram_id: int,
        language: str,
        session: Session,
    ) -> None:
        """Ask the next unanswered question, or show the review when all are answered."""
        extra = {"survey": session.survey.id, "member": session.member_id, "lang": session.language}
        state = {"language": language, "values": session.values, "extra": extra, "path": []}
        if session.next_key is not None and _answered_after(session, session.next_key):
            # A question asked again (an edit made its answer invalid): then back to the review.
            conversation = await context.services.conversations.save(
                telegram_id, FLOW, session.next_key, {**state, "seq": 0, "return_to": "review"}
            )
            await self.ask(message, context, conversation)
            return
        if session.next_key is not None:
            await self.engine.begin(
                message, context, telegram_id, language, extra, session.values, session.next_key
            )
            return
        conversation = await context.services.conversations.save(
            telegram_id, FLOW, "", {**state, "seq": 0}
        )
        await self.review(message, context, conversation)

    async def review(
        self, message: Message, context: BotContext, conversation: Conversation
    ) -> None:
        """Every answer with an edit button, and Submit; first any question still unanswered."""
        await show_review(self, message, context, conversation)

    async def extra_action(
        self,
        query: CallbackQuery,
        context: BotContext,
        conversation: Conversation,
        index: int | None,
    ) -> str | None:
        """Review: submit (0) or edit (position + 1); a question: use its default (0)."""
        message = query.message
        language = conversation_language(context, conversation)
        stale = context.services.texts.plain(language, "error.button_unknown")
        if not isinstance(message, Message) or index is None:
            return stale
        extra = conversation.state.get("extra", {})
        form = self.forms.cached(int(extra.get("survey", 0)))
        if form is None:
            return stale
        if conversation.step != "":
            return await self._use_default(message, context, conversation, form, index)
        if index == SUBMIT:
            await close_buttons(message)
            await submit(self, message, context, conversation)
            return None
        if index - 1 >= len(form.questions):
            return stale
        question = form.questions[index - 1]
        listed = survey_steps.shown_answerable(
            form, conversation.state.get("values", {}), self.today()
        )
        if question not in listed:
            return stale
        await close_buttons(message)
        await self.engine.jump(message, context, conversation, question.name)
        return None

    async def _use_default(
        self,
        message: Message,
        context: BotContext,
        conversation: Conversation,
        form: Form,
        index: int,
    ) -> str | None:
        found = self.forms.current(conversation)
        language = conversation_language(context, conversation)
        stale = context.services.texts.plain(language, "error.button_unknown")
        if found is None or index != 0:
            return stale
        _, question = found
        lang = str(conversation.state.get("extra", {}).get("lang", language))
        values = conversation.state.get("values", {})
        default = survey_steps.default_for(form, question, values, lang, self.today())
        step = self.engine.source.step(question.name, self.engine.view(context, conversation))
        if default is None or step is None:
            return stale
        await close_buttons(message)
        value = survey_steps.from_stored(question, default[0])
        await self.engine.answer(message, context, conversation, step, value)
        return None

    async def paused(
        self, message: Message, context: BotContext, conversation: Conversation
    ) -> None:
        """/cancel or ✖ in a survey: nothing is lost; /surveys continues."""
        language = conversation_language(context, conversation)
        await message.chat.send_message(context.services.texts.get(language, "survey.paused"))


def _answered_after(session: Session, key: str) -> bool:
    """Whether a question after `key` already holds an answer (so `key` is a re-ask)."""
    names = [q.name for q in session.form.questions]
    start = names.index(key) + 1 if key in names else len(names)
    return any(name in session.answered for name in names[start:])
