""" "What we heard", on the step engine: choose questions, choose the place, read, edit, send.

Steps: ``questions`` (tick the results to share; profile questions are not offered) → ``place``
(everyone, or one province/state with enough people) → ``preview`` (the card in each language,
then the three texts; Send, or ✏️ a language) → ``text_<lang>`` (the replacement, typed) → back to
the preview. Entering the preview for a place drafts its texts and draws its cards; the cards are
sent to the staff member there (so they see what goes) and their Telegram file ids ride on the
notices, so members get the same images without another upload.
"""

from __future__ import annotations

import asyncio
from typing import Any

from telegram import CallbackQuery, Message
from telegram.ext import Application

from bot import flows
from bot.context import BotContext
from bot.flows.steps import StepFlow
from bot.handlers.access import actor_of, refuse
from bot.i18n import LANGUAGES, Markup
from bot.language import person_language
from bot.services import results_heard
from bot.services.permissions import Permission, allows
from bot.services.results_heard import HEARD_MAX, Place, place_label
from bot.services.stepkit import Choice, Step, StepList, StepView
from storage.models import Conversation
from storage.record import SurveyHead

FLOW = "heard"
EDIT = "text_"


def _language_name(view: StepView, code: str) -> str:
    return view.texts.plain(view.language, f"language.name.{code}")


def _questions(view: StepView) -> list[Choice]:
    return [Choice(name, label) for name, label in view.extra.get("questions", [])]


def _places(view: StepView) -> list[Choice]:
    return [
        Choice(
            key,
            view.texts.plain(
                view.language, "results.heard.place_button", place=label, count=int(people)
            ),
        )
        for key, label, people in view.extra.get("places", [])
    ]


def _place_name(view: StepView) -> str:
    chosen = view.values.get("place")
    return next((label for key, label, _ in view.extra.get("places", []) if key == chosen), "")


def _preview(view: StepView) -> str:
    texts, language = view.texts, view.language
    versions = []
    for code in LANGUAGES:
        typed = view.values.get(f"{EDIT}{code}")
        text = typed or view.extra.get("drafts", {}).get(code, "")
        key = "results.heard.version.edited" if typed else "results.heard.version"
        versions.append(texts.get(language, key, name=_language_name(view, code), text=text))
    return texts.get(
        language,
        "results.heard.preview",
        place=_place_name(view),
        versions=Markup("\n\n".join(versions)),
    )


def _preview_choices(view: StepView) -> list[Choice]:
    send = Choice("send", view.texts.plain(view.language, "results.heard.send"))
    edits = [
        Choice(
            code,
            view.texts.plain(view.language, "results.heard.edit", name=_language_name(view, code)),
        )
        for code in LANGUAGES
    ]
    return [send, *edits]


def _after_preview(view: StepView) -> str | None:
    chosen = str(view.values.get("preview", ""))
    return f"{EDIT}{chosen}" if chosen in LANGUAGES else None


def _edit_step(code: str) -> Step:
    return Step(
        f"{EDIT}{code}",
        "text",
        question=lambda v: v.texts.get(
            v.language,
            "results.heard.ask_text",
            name=_language_name(v, code),
            maximum=HEARD_MAX,
        ),
        parse=lambda raw, _: results_heard.edited(raw),
        next=lambda _: "preview",
    )


def _steps() -> StepList:
    return StepList(
        [
            Step(
                "questions",
                "multi",
                question=lambda v: v.texts.get(v.language, "results.heard.ask_questions"),
                choices=_questions,
            ),
            Step(
                "place",
                "choice",
                question=lambda v: v.texts.get(v.language, "results.heard.ask_place"),
                choices=_places,
                page_size=8,
            ),
            Step(
                "preview",
                "choice",
                question=_preview,
                choices=_preview_choices,
                columns=2,
                next=_after_preview,
            ),
            *(_edit_step(code) for code in LANGUAGES),
        ]
    )


async def _prepare_preview(
    message: Message,
    context: BotContext,
    before: Conversation,
    after: Conversation,
    pressed: CallbackQuery | None,
) -> Conversation | None:
    """Draft the texts and draw the cards as the preview is first shown (None: it cannot be)."""
    if after.step == "preview" and before.step == "place":
        prepared = await _prepare(message, context, after)
        if prepared is None:
            await context.services.conversations.end(after.telegram_id, FLOW)
        return prepared
    return after


async def _survey(context: BotContext, conversation: Conversation) -> SurveyHead | None:
    """The survey, if the person may still read its results and send notices."""
    services = context.services
    member = await services.registration.member(conversation.telegram_id)
    grants = await services.permissions.grants(member, conversation.telegram_id)
    if not allows(grants, Permission.SEND_NOTICES):
        return None
    return await services.results.survey(int(conversation.state["extra"]["survey"]), grants)


async def _prepare(
    message: Message, context: BotContext, conversation: Conversation
) -> Conversation | None:
    """Draft the chosen place's texts, send its cards, keep both for the preview and the send."""
    services = context.services
    state = conversation.state
    language = person_language(context, state.get("language"))
    survey = await _survey(context, conversation)
    if survey is None:
        what = Permission.SEND_NOTICES.value
        await refuse(context, message, conversation.telegram_id, language, what)
        return None
    values = dict(state.get("values", {}))
    extra = dict(state.get("extra", {}))
    key = str(values.get("place", ""))
    people = next((int(n) for k, _, n in extra.get("places", []) if k == key), 0)
    answers = await services.results.answers(survey)
    chosen = [str(name) for name in values.get("questions") or []]
    drafted = results_heard.draft(services.results, survey, answers, chosen, Place(key, people))
    cards = await asyncio.gather(*(services.charts.draw(drafted.cards[code]) for code in LANGUAGES))
    ids: dict[str, str] = {}
    for code, png in zip(LANGUAGES, cards, strict=True):
        caption = services.texts.get(
            language,
            "results.heard.card_caption",
            name=services.texts.plain(language, f"language.name.{code}"),
        )
        sent = await message.chat.send_photo(
            png, caption=caption, filename=f"{survey.form_id}_heard_{code}.png"
        )
        ids[code] = sent.photo[-1].file_id
    # A new place starts from its own drafts: earlier edits were about another place.
    for code in LANGUAGES:
        values.pop(f"{EDIT}{code}", None)
    extra.update(drafts=drafted.texts, cards=ids)
    return await services.conversations.save(
        conversation.telegram_id,
        FLOW,
        conversation.step,
        {**state, "values": values, "extra": extra},
    )


async def _complete(message: Message, context: BotContext, conversation: Conversation) -> None:
    """Send the notice as shown (with the edits) to the place's members, or nothing."""
    services = context.services
    state: dict[str, Any] = conversation.state
    language = person_language(context, state.get("language"))
    values, extra = state.get("values", {}), state.get("extra", {})
    await services.conversations.end(conversation.telegram_id, FLOW)
    survey = await _survey(context, conversation)
    if values.get("preview") != "send" or survey is None:
        await message.chat.send_message(services.texts.get(language, "results.heard.cancelled"))
        return
    place = str(values.get("place", ""))
    texts = {
        code: str(values.get(f"{EDIT}{code}") or extra.get("drafts", {}).get(code, ""))
        for code in LANGUAGES
    }
    actor = await actor_of(context, conversation.telegram_id)
    count = await results_heard.send(services.results, place, texts, extra.get("cards", {}), actor)
    await services.roles.record_audit(
        actor, "results.heard", f"survey:{survey.id}", {"place": place, "members": count}
    )
    services.wake_delivery()
    await message.chat.send_message(
        services.texts.get(
            language,
            "results.heard.sent",
            count=count,
            place=place_label(services.texts, language, place),
        )
    )


def heard_flow() -> StepFlow:
    """The engine asking "what we heard"; built once by `register_what_we_heard`."""
    return StepFlow(
        FLOW,
        _steps(),
        _complete,
        on_answer=_prepare_preview,
        cancel_key="results.heard.cancelled",
    )


async def start_what_we_heard(
    engine: StepFlow,
    message: Message,
    context: BotContext,
    survey: SurveyHead,
    language: str,
    telegram_id: int,
) -> None:
    """From /results: offer the survey's results to share, if it has any and a place to share."""
    services = context.services
    texts, service = services.texts, services.results
    answers = await service.answers(survey)
    results = service.compute(survey, answers, language)
    offered = results_heard.questions(results)
    if not offered:
        await message.chat.send_message(texts.get(language, "results.heard.no_questions"))
        return
    places = results_heard.places(answers, service.min_cell())
    if not places:
        await message.chat.send_message(
            texts.get(language, "results.heard.no_place", k=service.min_cell())
        )
        return
    extra = {
        "survey": survey.id,
        "questions": [[q.name, q.label[:60]] for q in offered],
        "places": [[p.key, place_label(texts, language, p.key), p.people] for p in places],
    }
    await engine.begin(message, context, telegram_id, language, extra=extra)


def register_what_we_heard(application: Application) -> StepFlow:  # type: ignore[type-arg]
    """The flow's buttons and typed texts; the engine goes back to /results, which starts it."""
    engine = heard_flow()
    flows.register(application, flows.Flow(engine))
    return engine
