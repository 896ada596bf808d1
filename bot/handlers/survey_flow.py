"""A survey on the step engine: one step per question shown, a review screen, submit.

Every answer is stored in the survey's working answers the moment it is given (the engine also
keeps it in the conversation), so a restart or a pause of a week resumes at the next question.
A long choice list (`survey_steps.long_list`) is shown a page at a time and searched by typing.
Review buttons are the engine's own extra action ``k`` tied to the screen's seq: index 0 submits,
index i + 1 edits question i of the form; the screen and the submit are `survey_review`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from telegram import CallbackQuery, InlineKeyboardButton, Message, Update

from bot.context import BotContext
from bot.flows.steps import Choice, Finish, Press, Step, StepFlow, StepSource, StepView
from bot.handlers.chunks import close_buttons
from bot.handlers.survey_review import SUBMIT, show_review, submit
from bot.i18n import Texts
from bot.language import conversation_language, person_language
from bot.services import survey_steps
from bot.services.errors import InputError
from bot.services.surveys import Session, SurveysService
from bot.services.xlsform import Form, Question
from storage.models import Conversation

FLOW = "svq"


async def _noop(message: Message, context: BotContext, conversation: Conversation) -> None:
    """Replaced in __post_init__ (the dataclass needs a value)."""


@dataclass
class SurveySource:
    """The engine's view of a form: the question with a key, the first one, the next one."""

    flow: SurveyFlow | None = None

    def _form(self, view: StepView) -> Form | None:
        if self.flow is None:
            return None
        return self.flow.cached_form(int(view.extra.get("survey", 0)))

    def step(self, key: str, view: StepView) -> Step | None:
        """The step for the question named `key`."""
        form = self._form(view)
        question = form.question(key) if form is not None and key else None
        if form is None or question is None or self.flow is None:
            return None
        return self.flow.step_for(form, question, view)

    def first(self, view: StepView) -> str | None:
        """The first question shown."""
        form = self._form(view)
        if form is None or self.flow is None:
            return None
        return survey_steps.first_key(form, view.values, self.flow.today())

    def after(self, key: str, view: StepView) -> str | None:
        """The next question shown, in form order."""
        form = self._form(view)
        if form is None or self.flow is None:
            return None
        return survey_steps.key_after(form, key, view.values, self.flow.today())


@dataclass
class SurveyFlow(StepFlow):
    """The engine for surveys, storing each answer at once and ending on a review screen."""

    name: str = FLOW
    source: StepSource = field(default_factory=SurveySource)
    on_complete: Finish = _noop
    _service: SurveysService | None = None

    def __post_init__(self) -> None:
        super().__post_init__()
        if isinstance(self.source, SurveySource):
            self.source.flow = self
        self.on_complete = self.review
        self.on_cancelled = self.paused
        self.on_extra = self.extra_action
        self.extra_markup = self.default_button

    # ---- the service and its forms --------------------------------------------------------
    def service(self, context: BotContext) -> SurveysService:
        """The running surveys service (kept: the engine reads its parsed forms synchronously)."""
        self._service = context.services.surveys
        return self._service

    def cached_form(self, survey_id: int) -> Form | None:
        return self._service.cached(survey_id) if self._service is not None else None

    def today(self) -> date:
        assert self._service is not None
        return self._service.today()

    async def _ready(self, context: BotContext, conversation: Conversation | None) -> None:
        """Parse the conversation's form before the engine reads it synchronously."""
        service = self.service(context)
        if conversation is None or conversation.flow != self.name:
            return
        survey_id = int(conversation.state.get("extra", {}).get("survey", 0))
        if service.cached(survey_id) is None:
            survey = await service.survey(survey_id)
            if survey is not None:
                await service.form(survey)

    async def on_button(self, update: Update, context: BotContext) -> None:
        """Make sure the form is parsed, then let the engine take the press."""
        if update.effective_user is not None:
            found = await context.services.conversations.get(update.effective_user.id)
            await self._ready(context, found)
        await super().on_button(update, context)

    async def on_text(
        self, message: Message, context: BotContext, conversation: Conversation
    ) -> None:
        """Typed answers; on the review screen a number edits that answer."""
        await self._ready(context, conversation)
        if conversation.step == "" and (message.text or "").strip().isdigit():
            number = int((message.text or "").strip())
            question = self._numbered(conversation, number)
            if question is not None:
                await self.jump(message, context, conversation, question.name)
                return
        await super().on_text(message, context, conversation)

    # ---- steps ------------------------------------------------------------------------------
    def step_for(self, form: Form, question: Question, view: StepView) -> Step:
        """One engine step for one question."""
        language = str(view.extra.get("lang", view.language))
        kind = survey_steps.KINDS[question.type]
        today = self.today()

        def others(values: Any) -> dict[str, Any]:
            return {k: v for k, v in values.items() if k != question.name}

        def text(v: StepView) -> str:
            default = survey_steps.default_for(form, question, others(v.values), language, today)
            label = default[1] if default and kind not in ("choice", "multi") else None
            return survey_steps.question_html(form, question, language, v.language, v.texts, label)

        def parse(raw: str, v: StepView) -> object:
            return survey_steps.check_answer(form, question, raw, others(v.values), language, today)

        def choices(v: StepView) -> Sequence[Choice]:
            items = survey_steps.choice_items(form, question, others(v.values), language, today)
            return [Choice(name, survey_steps.short(label, 60)) for name, label in items]

        with_choices = kind in ("choice", "multi")
        paged = with_choices and survey_steps.long_list(form, question)
        return Step(
            key=question.name,
            kind=kind,
            question=text,
            parse=parse if kind != "info" else None,
            choices=choices if with_choices else None,
            optional=question.answerable and not question.required,
            columns=2 if with_choices and len(form.choices(question.list_name or "")) > 6 else 1,
            confirm_key="steps.agree" if question.type == "acknowledge" else "steps.continue",
            page_size=survey_steps.PAGE_SIZE if paged else None,
            searchable=paged,
        )

    def default_button(
        self, conversation: Conversation, texts: Texts, language: str
    ) -> list[list[InlineKeyboardButton]]:
        """A "Use: <default>" button under a typed question that has a default."""
        found = self._current(conversation)
        if found is None:
            return []
        form, question = found
        if survey_steps.KINDS[question.type] in ("choice", "multi", "info"):
            return []
        values = {k: v for k, v in conversation.state.get("values", {}).items()}
        lang = str(conversation.state.get("extra", {}).get("lang", language))
        default = survey_steps.default_for(form, question, values, lang, self.today())
        if default is None:
            return []
        seq = int(conversation.state.get("seq", 0))
        label = texts.plain(language, "survey.button.use_default", value=default[1])
        return [[InlineKeyboardButton(label, callback_data=Press(FLOW, seq, "k", 0).encode())]]

    def where(self, conversation: Conversation) -> str:
        """The survey and question, as the log and the admins' alert name them."""
        extra = conversation.state.get("extra", {})
        form = self.cached_form(int(extra.get("survey", 0)))
        title = f" ({form.form_id} v{form.version})" if form is not None else ""
        return f"survey #{extra.get('survey', '?')}{title}, question {conversation.step}"

    def _current(self, conversation: Conversation) -> tuple[Form, Question] | None:
        extra = conversation.state.get("extra", {})
        form = self.cached_form(int(extra.get("survey", 0)))
        question = form.question(conversation.step) if form and conversation.step else None
        return (form, question) if form is not None and question is not None else None

    def _numbered(self, conversation: Conversation, number: int) -> Question | None:
        """The n-th answer of the review screen (1-based)."""
        extra = conversation.state.get("extra", {})
        form = self.cached_form(int(extra.get("survey", 0)))
        if form is None:
            return None
        listed = survey_steps.shown_answerable(
            form, conversation.state.get("values", {}), self.today()
        )
        return listed[number - 1] if 1 <= number <= len(listed) else None

    # ---- answers ----------------------------------------------------------------------------
    async def answer(
        self,
        message: Message,
        context: BotContext,
        conversation: Conversation,
        step: Step,
        value: Any,
        pressed: CallbackQuery | None = None,
    ) -> str | None:
        """Check a button answer against the form, store it at once, then move on."""
        extra = conversation.state.get("extra", {})
        service = self.service(context)
        survey_id, member_id = int(extra.get("survey", 0)), int(extra.get("member", 0))
        language = person_language(context, extra.get("lang"))
        found = self._current(conversation)
        if found is None:
            return await super().answer(message, context, conversation, step, value, pressed)
        form, question = found
        values = {k: v for k, v in conversation.state.get("values", {}).items() if k != step.key}
        if step.kind in ("choice", "multi") and value is not None:
            raw = value if isinstance(value, str) else [str(item) for item in value]
            try:
                value = survey_steps.check_answer(
                    form, question, raw, values, language, self.today()
                )
            except InputError as error:
                texts, member_language = context.services.texts, self.view(context, conversation)
                reason = texts.get(member_language.language, error.key, **error.values)
                await message.chat.send_message(f"⚠️ {reason}")
                await self.ask(message, context, conversation)
                return None
        label = None
        if step.kind == "info":
            value = "OK" if question.type == "acknowledge" else None
            if value is not None:
                label = survey_steps.agreed_label(
                    context.services.texts, str(conversation.state.get("language", language))
                )
        saved = await service.save(
            survey_id, form, member_id, question.name, value, language, label
        )
        if not saved:
            await self.stop_with(message, context, conversation, "survey.refused.closed")
            return None
        return await super().answer(message, context, conversation, step, value, pressed)

    async def refused(
        self, context: BotContext, conversation: Conversation, step: Step, value: Any
    ) -> str | None:
        """The form's constraint on a pressed choice (at most 3, ...), before it is shown taken."""
        found = self._current(conversation)
        if found is None or step.kind not in ("choice", "multi") or value is None:
            return None
        form, question = found
        values = {k: v for k, v in conversation.state.get("values", {}).items() if k != step.key}
        language = person_language(context, conversation.state.get("extra", {}).get("lang"))
        raw = value if isinstance(value, str) else [str(item) for item in value]
        try:
            survey_steps.check_answer(form, question, raw, values, language, self.today())
        except InputError as error:
            view = await self.place.view(context, conversation, shown=False)
            return f"⚠️ {view.texts.plain(view.language, error.key, **error.values)}"
        return None

    async def stop_with(
        self, message: Message, context: BotContext, conversation: Conversation, key: str
    ) -> None:
        """End the survey's conversation with this reason (closed, not invited...)."""
        await context.services.conversations.end(conversation.telegram_id, self.name)
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
                telegram_id, self.name, session.next_key, {**state, "seq": 0, "return_to": "review"}
            )
            await self.ask(message, context, conversation)
            return
        if session.next_key is not None:
            await self.begin(
                message, context, telegram_id, language, extra, session.values, session.next_key
            )
            return
        conversation = await context.services.conversations.save(
            telegram_id, self.name, "", {**state, "seq": 0}
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
        form = self.cached_form(int(extra.get("survey", 0)))
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
        await self.jump(message, context, conversation, question.name)
        return None

    async def _use_default(
        self,
        message: Message,
        context: BotContext,
        conversation: Conversation,
        form: Form,
        index: int,
    ) -> str | None:
        found = self._current(conversation)
        language = conversation_language(context, conversation)
        stale = context.services.texts.plain(language, "error.button_unknown")
        if found is None or index != 0:
            return stale
        _, question = found
        lang = str(conversation.state.get("extra", {}).get("lang", language))
        values = conversation.state.get("values", {})
        default = survey_steps.default_for(form, question, values, lang, self.today())
        step = self.source.step(question.name, self.view(context, conversation))
        if default is None or step is None:
            return stale
        await close_buttons(message)
        value = survey_steps.from_stored(question, default[0])
        await self.answer(message, context, conversation, step, value)
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
