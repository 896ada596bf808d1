"""A survey's review screen: every answer with an edit button, then Submit; and the submit.

The screen's buttons are the engine's extra action ``k`` tied to the screen's seq (index 0
submits, index i + 1 edits question i of the form); `Survey.extra_action` dispatches them.
"""

from __future__ import annotations

import html
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Protocol

from babel.dates import format_date
from babel.numbers import format_decimal
from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Message

from bot.context import BotContext
from bot.handlers.chunks import split_message
from bot.i18n import babel_locale
from bot.language import conversation_language
from bot.services import survey_steps
from bot.services.errors import InputError
from bot.services.stepkit import Press
from bot.services.surveys import SurveysService
from storage.models import Conversation
from storage.survey_models import WorkingAnswer


class SurveyFlow(Protocol):
    """What the review needs of the survey's flow (a protocol: the flow imports this module)."""

    name: str

    def service(self, context: BotContext) -> SurveysService: ...

    def today(self) -> date: ...

    async def ask(
        self,
        message: Message,
        context: BotContext,
        conversation: Conversation,
        lead: str = "",
        previous: Conversation | None = None,
    ) -> None: ...

    async def stop_with(
        self, message: Message, context: BotContext, conversation: Conversation, key: str
    ) -> None: ...


SUBMIT = 0
NUMBER_TYPES = frozenset({"integer", "decimal", "range"})
REVIEW_TEXT_MAX = 3800
EDIT_BUTTONS_MAX = 90


def shown_answer(kind: str, answer: WorkingAnswer | None, language: str) -> str:
    """An answer as the member reads it: numbers and dates in their language ("12,5" in French,
    "15 de marzo de 2019"); what is stored stays canonical ("12.5", "2019-03-15")."""
    if answer is None:
        return ""
    if answer.value and kind in NUMBER_TYPES:
        try:
            number = Decimal(answer.value)
        except InvalidOperation:
            return answer.label or answer.value
        if not number.is_finite():
            return answer.label or answer.value
        # Every digit typed, no thousands separator (a year stays "2019").
        return str(
            format_decimal(
                number,
                locale=babel_locale(language),
                decimal_quantization=False,
                group_separator=False,
            )
        )
    if answer.value and kind == "date":
        try:
            day = date.fromisoformat(answer.value)
        except ValueError:
            return answer.label or answer.value
        return str(format_date(day, format="long", locale=babel_locale(language)))
    return answer.label or ""


async def show_review(
    flow: SurveyFlow, message: Message, context: BotContext, conversation: Conversation
) -> None:
    """Every answer with an edit button, and Submit; first any question still unanswered."""
    texts, services = context.services.texts, context.services
    language = conversation_language(context, conversation)
    extra = conversation.state.get("extra", {})
    member = await services.registration.member(conversation.telegram_id)
    if member is None:
        await flow.stop_with(message, context, conversation, "survey.refused.not_invited")
        return
    try:
        session = await flow.service(context).start(member, int(extra.get("survey", 0)))
    except InputError as error:
        await flow.stop_with(message, context, conversation, error.key)
        return
    form, today = session.form, flow.today()
    pending = survey_steps.next_unanswered(
        form, session.values, session.answered, today, answerable_only=True
    )
    state = {**conversation.state, "values": session.values}
    if pending is not None:
        conversation = await services.conversations.save(
            conversation.telegram_id, flow.name, pending, state
        )
        await flow.ask(message, context, conversation)
        return
    seq = int(conversation.state.get("seq", 0)) + 1
    conversation = await services.conversations.save(
        conversation.telegram_id, flow.name, "", {**state, "seq": seq}
    )
    stored = session.stored  # as the session read them: no second read
    listed = survey_steps.shown_answerable(form, session.values, today)
    positions = {q.name: i for i, q in enumerate(form.questions)}
    lines = []
    for number, question in enumerate(listed, start=1):
        answer = stored.get(question.name)
        shown_value = shown_answer(question.type, answer, language)
        if question.type == "acknowledge" and answer and answer.value:
            shown_value = survey_steps.agreed_label(texts, language)
        value = html.escape(survey_steps.short(shown_value, 80), quote=False) or "—"
        label = html.escape(survey_steps.short(question.label(session.language), 70), quote=False)
        lines.append(f"{number}. {label}\n    <b>{value}</b>")
    # texts.get escapes what it inserts: the title goes in as written.
    head = texts.get(language, "survey.review.header", title=form.title(session.language))
    buttons = [
        InlineKeyboardButton(
            texts.plain(language, "survey.button.edit", number=number),
            callback_data=Press(flow.name, seq, "k", positions[q.name] + 1).encode(),
        )
        for number, q in enumerate(listed[:EDIT_BUTTONS_MAX], start=1)
    ]
    rows = [buttons[i : i + 5] for i in range(0, len(buttons), 5)]
    submit_key = "survey.button.resubmit" if session.submitted else "survey.button.submit"
    # The hint names the button shown: "Submit", or "Submit changes" after a first submission.
    button = texts.plain(language, submit_key).removeprefix("✅").strip()
    foot = texts.get(language, "survey.review.hint", button=button)
    rows.append(
        [
            InlineKeyboardButton(
                texts.plain(language, submit_key),
                callback_data=Press(flow.name, seq, "k", SUBMIT).encode(),
            ),
            InlineKeyboardButton(
                texts.plain(language, "survey.button.pause"),
                callback_data=Press(flow.name, seq, "x", None).encode(),
            ),
        ]
    )
    chunks = split_message([head, *lines], REVIEW_TEXT_MAX)
    for chunk in chunks[:-1]:
        await message.chat.send_message(chunk)
    await message.chat.send_message(
        f"{chunks[-1]}\n\n{foot}", reply_markup=InlineKeyboardMarkup(rows)
    )


async def submit(
    flow: SurveyFlow, message: Message, context: BotContext, conversation: Conversation
) -> None:
    """Append the answers to the record (an answer an edit made invalid is asked first)."""
    services = context.services
    language = conversation_language(context, conversation)
    extra = conversation.state.get("extra", {})
    member = await services.registration.member(conversation.telegram_id)
    session = None
    if member is not None:
        # An answer an edit made invalid is asked again first (the review does that).
        try:
            session = await flow.service(context).start(member, int(extra.get("survey", 0)))
        except InputError:
            session = None
        if session is not None and survey_steps.next_unanswered(
            session.form, session.values, session.answered, flow.today(), answerable_only=True
        ):
            await show_review(flow, message, context, conversation)
            return
    if member is None:
        await services.conversations.end(conversation.telegram_id, flow.name)
        return
    try:
        # The session just read: the submit reads nothing again.
        added = await flow.service(context).submit(member, int(extra.get("survey", 0)), session)
    except InputError as error:
        await services.conversations.end(conversation.telegram_id, flow.name)
        await message.chat.send_message(services.texts.get(language, error.key))
        return
    # Ended once recorded: a crash in between replays the submit, which records nothing twice,
    # and an ended conversation tells a replay that the answers are in (storage/inbox.py).
    await services.conversations.end(conversation.telegram_id, flow.name)
    key = "survey.submitted" if added else "survey.submitted_unchanged"
    await message.chat.send_message(services.texts.get(language, key, count=added))
