"""A survey's form as the step engine reads it: its steps, and the track that stores each answer.

`SurveyForms` keeps the running surveys service, whose parsed forms the engine reads
synchronously; `SurveySource` turns the form's questions into engine steps; `SurveyTrack` is the
active conversation that also stores every answer in the survey's working answers the moment it
is given (checked against the form first), so a restart or a pause of a week resumes at the next
question. The flow around them (review, submit, defaults) is `bot.handlers.survey_flow`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from bot.context import BotContext
from bot.flows.steps import Choice, FlowStopped, Step, StepView
from bot.flows.tracks import ConversationTrack
from bot.language import person_language
from bot.services import survey_steps
from bot.services.surveys import ConversationMove, SurveysService
from bot.services.xlsform import Form, Question
from storage.models import Conversation

FLOW = "svq"


@dataclass
class SurveyForms:
    """The running surveys service, kept: the engine reads its parsed forms synchronously."""

    running: SurveysService | None = None

    def service(self, context: BotContext) -> SurveysService:
        """The running surveys service (remembered for the synchronous reads)."""
        self.running = context.services.surveys
        return self.running

    def cached(self, survey_id: int) -> Form | None:
        return self.running.cached(survey_id) if self.running is not None else None

    def today(self) -> date:
        assert self.running is not None
        return self.running.today()

    async def ready(self, context: BotContext, conversation: Conversation | None) -> None:
        """Parse the conversation's form before the engine reads it synchronously."""
        service = self.service(context)
        if conversation is None or conversation.flow != FLOW:
            return
        survey_id = int(conversation.state.get("extra", {}).get("survey", 0))
        if service.cached(survey_id) is None:
            survey = await service.survey(survey_id)
            if survey is not None:
                await service.form(survey)

    def form_of(self, conversation: Conversation) -> Form | None:
        return self.cached(int(conversation.state.get("extra", {}).get("survey", 0)))

    def current(self, conversation: Conversation) -> tuple[Form, Question] | None:
        """The form and the question asked now (None on the review screen)."""
        form = self.form_of(conversation)
        question = form.question(conversation.step) if form and conversation.step else None
        return (form, question) if form is not None and question is not None else None

    def checked_press(
        self, context: BotContext, conversation: Conversation, question: Question, value: Any
    ) -> Any:
        """A pressed choice (or the choices ticked) checked by the form's rules against the
        other answers: the value to store; InputError with the form's message if refused."""
        form = self.form_of(conversation)
        assert form is not None, "a question is asked only from a parsed form"
        values = {
            k: v for k, v in conversation.state.get("values", {}).items() if k != question.name
        }
        language = person_language(context, conversation.state.get("extra", {}).get("lang"))
        raw = value if isinstance(value, str) else [str(item) for item in value]
        return survey_steps.check_answer(form, question, raw, values, language, self.today())

    def numbered(self, conversation: Conversation, number: int) -> Question | None:
        """The n-th answer of the review screen (1-based)."""
        form = self.form_of(conversation)
        if form is None:
            return None
        values = conversation.state.get("values", {})
        listed = survey_steps.shown_answerable(form, values, self.today())
        return listed[number - 1] if 1 <= number <= len(listed) else None


@dataclass
class SurveySource:
    """The engine's view of a form: the question with a key, the first one, the next one."""

    forms: SurveyForms

    def _form(self, view: StepView) -> Form | None:
        return self.forms.cached(int(view.extra.get("survey", 0)))

    def step(self, key: str, view: StepView) -> Step | None:
        """The step for the question named `key`."""
        form = self._form(view)
        question = form.question(key) if form is not None and key else None
        if form is None or question is None:
            return None
        return self.step_for(form, question, view)

    def first(self, view: StepView) -> str | None:
        """The first question shown."""
        form = self._form(view)
        if form is None:
            return None
        return survey_steps.first_key(form, view.values, self.forms.today())

    def after(self, key: str, view: StepView) -> str | None:
        """The next question shown, in form order."""
        form = self._form(view)
        if form is None:
            return None
        return survey_steps.key_after(form, key, view.values, self.forms.today())

    def step_for(self, form: Form, question: Question, view: StepView) -> Step:
        """One engine step for one question."""
        language = str(view.extra.get("lang", view.language))
        kind = survey_steps.KINDS[question.type]
        today = self.forms.today()

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


class SurveyTrack(ConversationTrack):
    """The active conversation, with the form parsed before it is read and every answer stored
    in the survey's working answers (checked against the form) before the conversation moves."""

    def __init__(self, forms: SurveyForms, source: SurveySource) -> None:
        super().__init__(FLOW, source)
        self.forms = forms

    async def load(self, context: BotContext, telegram_id: int) -> Conversation | None:
        found = await super().load(context, telegram_id)
        await self.forms.ready(context, found)
        return found

    async def view(
        self, context: BotContext, conversation: Conversation, shown: bool = True
    ) -> StepView:
        await self.forms.ready(context, conversation)
        return await super().view(context, conversation, shown)

    async def answer(
        self, context: BotContext, conversation: Conversation, step: Step, value: Any
    ) -> Conversation:
        """Check the answer against the form (InputError if the form refuses it), then store it
        in the survey's working answers and move the conversation, in one trip to the database
        (the flow stops, the conversation unmoved, if the survey closed meanwhile)."""
        found = self.forms.current(conversation)
        if found is None:
            return await super().answer(context, conversation, step, value)
        form, question = found
        extra = conversation.state.get("extra", {})
        language = person_language(context, extra.get("lang"))
        if step.kind in ("choice", "multi") and value is not None:
            value = self.forms.checked_press(context, conversation, question, value)
        label = None
        if step.kind == "info":
            value = "OK" if question.type == "acknowledge" else None
            if value is not None:
                shown = str(conversation.state.get("language", language))
                label = survey_steps.agreed_label(context.services.texts, shown)
        following, state = self.answered(context, conversation, step, value)
        survey_id, member_id = int(extra.get("survey", 0)), int(extra.get("member", 0))
        move = ConversationMove(conversation.telegram_id, self.name, following, state)
        moved = await self.forms.service(context).save_and_move(
            survey_id, form, member_id, question.name, value, language, label, move
        )
        if moved is None:
            raise FlowStopped("survey.refused.closed")
        self.numbered_next(conversation, state)
        return moved
