"""Opening a survey in chat: the audience with /broadcast's own screens, then a closing date and a
preview on the step engine (flow ``svyopen``), then open.

The audience is kept on a broadcast draft that is never sent: the filters, their typed values and
the live count are the notices' own, and Continue on those screens comes back here
(`FlowRoutes.on_audience`). The closing date is typed as the staff member says it ("viernes
18h", "Dec 12 6pm"), read on their own zone's clock by the meetings' parser; the preview shows
who, how many and until when; Open invites them (a meeting's attendees or Yes answers become the
survey's meeting, so their answers carry it in the record).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from telegram import Message
from telegram.ext import Application

from bot import flows
from bot.context import BotContext
from bot.flows.steps import Choice, Step, StepFlow, StepList, StepView
from bot.handlers.broadcast_screens import TEXT_STEPS, describe_audience, show_audience
from bot.handlers.broadcasts import receive_text
from bot.handlers.chunks import close_buttons
from bot.i18n import Markup
from bot.language import conversation_language, person_language
from bot.services import timefmt, typed_dates
from bot.services.errors import InputError
from bot.services.ics import localized
from bot.services.permissions import Permission
from bot.services.surveys import MeetingFilter
from storage.models import AudienceFilter, Broadcast, Conversation, Member
from storage.surveys import Survey

FLOW = "svyopen"
AUDIENCE = "audience"  # the step while /broadcast's audience screens are shown
# Who of a meeting's people a survey goes to: those checked in, or those who said Yes
# (the survey's meeting filter, and the answers the audience filter counts).
MEETING_WHO: dict[str, tuple[MeetingFilter, str]] = {
    "a": ("attended", "attended"),
    "y": ("rsvp_yes", "yes"),
}
Now = Callable[[], datetime]


def title_of(survey: Survey, language: str) -> str:
    return localized(survey.titles, language) or survey.form_id


def zone_of(context: BotContext, member: Member | None) -> str:
    """The staff member's zone (the programme's for an operator without a profile)."""
    own = member.time_zone if member else None
    return own or context.services.config.programme.default_time_zone


async def begin_opening(
    message: Message,
    context: BotContext,
    member: Member | None,
    language: str,
    telegram_id: int,
    survey: Survey,
    audience: AudienceFilter | None = None,
) -> str | None:
    """Show /broadcast's audience screens for this survey (a pop-up's text if it cannot open)."""
    services = context.services
    texts = services.texts
    if survey.status != "draft":
        return texts.plain(language, "survey.open.not_draft", id=survey.id)
    zone = zone_of(context, member)
    actor = await services.people.actor_of(telegram_id)
    # The audience lives on a draft notice that is never sent (one draft per person, as for
    # /broadcast): the filters, their typed values and the count are the notices' own.
    draft = await services.broadcasts.start_draft(actor, language, zone, message.chat.id)
    draft = await services.broadcasts.update(
        draft, step=AUDIENCE, audience=audience or AudienceFilter()
    )
    extra = {
        "survey": survey.id,
        "draft": draft.id,
        "zone": zone,
        "title": title_of(survey, language),
    }
    previous = await services.conversations.get(telegram_id)
    seq = int(previous.state.get("seq", 0)) + 1 if previous and previous.flow == FLOW else 0
    state = {"language": language, "values": {}, "extra": extra, "path": [], "seq": seq}
    await services.conversations.save(telegram_id, FLOW, AUDIENCE, state)
    await message.chat.send_message(
        texts.get(language, "survey.open.audience", id=survey.id, title=extra["title"])
    )
    await show_audience(message, context, draft)
    return None


class Opening:
    """The steps after the audience (closing date, preview) on the engine, and their wiring."""

    def __init__(self, now: Now) -> None:
        self.now = now
        self.flow = StepFlow(
            FLOW,
            StepList(
                [
                    Step(
                        "closes", "text", self._ask_closes, parse=self._parse_closes, optional=True
                    ),
                    Step("confirm", "choice", self._preview, choices=self._confirm_choices),
                ]
            ),
            self._complete,
            on_cancelled=self._cancelled,
        )

    def _ask_closes(self, view: StepView) -> str:
        zone = str(view.extra.get("zone", "UTC"))
        example = typed_dates.typing_example(self.now(), zone, view.language)
        return view.texts.get(view.language, "survey.open.ask_closes", zone=zone, example=example)

    def _parse_closes(self, text: str, view: StepView) -> str:
        """The closing date as said ('viernes 18h', 'Dec 12 6pm'), on the staff member's clock."""
        now = self.now()
        moment = typed_dates.parse_when(
            text, str(view.extra.get("zone", "UTC")), now, view.language
        )
        if moment <= now:
            raise InputError("survey.admin.closes_past")
        return moment.isoformat()

    def _preview(self, view: StepView) -> str:
        texts, language, extra = view.texts, view.language, view.extra
        closes = view.values.get("closes")
        if closes:
            moment = datetime.fromisoformat(str(closes))
            when = timefmt.format_meeting_moment(
                moment, str(extra.get("zone", "UTC")), language, moment.year != self.now().year
            )
            closing = texts.get(language, "survey.open.closes_at", when=when)
        else:
            closing = texts.get(language, "survey.open.no_closing")
        return texts.get(
            language,
            "survey.open.preview",
            id=extra.get("survey"),
            title=extra.get("title", ""),
            audience=Markup(str(extra.get("audience", ""))),
            count=int(extra.get("count", 0)),
            closes=Markup(closing),
        )

    def _confirm_choices(self, view: StepView) -> list[Choice]:
        label = view.texts.plain
        return [
            Choice(
                "open",
                label(
                    view.language, "survey.open.button.open", count=int(view.extra.get("count", 0))
                ),
            ),
            Choice(AUDIENCE, label(view.language, "survey.open.button.audience")),
        ]

    # ---- the audience screens hand back here ---------------------------------------------------
    async def take_audience(
        self, message: Message, context: BotContext, conversation: Conversation, draft: Broadcast
    ) -> bool:
        """Continue on the audience screens: on to the closing date, with the count as it is now."""
        extra = dict(conversation.state.get("extra", {}))
        if extra.get("draft") != draft.id:
            return False
        services = context.services
        language = conversation_language(context, conversation)
        extra["count"] = await services.broadcasts.recipient_count(draft)
        extra["audience"] = describe_audience(services.texts, language, draft)
        await close_buttons(message)
        # The question numbers go on (not the engine's begin, which starts them again), so a
        # button of an earlier preview is stale, never the answer to this one.
        state = {**conversation.state, "values": {}, "path": [], "extra": extra}
        moved = await services.conversations.save(conversation.telegram_id, FLOW, "closes", state)
        await self.flow.ask(message, context, moved)
        return True

    async def on_text(
        self, message: Message, context: BotContext, conversation: Conversation
    ) -> None:
        """Typed text: a filter's values while the audience is shown (as /broadcast takes them)."""
        if conversation.step != AUDIENCE:
            await self.flow.on_text(message, context, conversation)
            return
        draft = await self._draft(context, conversation)
        language = conversation_language(context, conversation)
        if draft is None or draft.step not in TEXT_STEPS:
            await message.chat.send_message(
                context.services.texts.get(language, "survey.open.use_buttons")
            )
            return
        await receive_text(message, context, draft)

    async def on_resume(
        self, message: Message, context: BotContext, conversation: Conversation
    ) -> None:
        """After a restart: the audience screens again, or the question that was asked."""
        if conversation.step == AUDIENCE:
            draft = await self._draft(context, conversation)
            if draft is not None:
                await show_audience(message, context, draft)
            return
        await self.flow.ask(message, context, conversation)

    async def _draft(self, context: BotContext, conversation: Conversation) -> Broadcast | None:
        """The draft holding this opening's audience, while it is still the person's draft."""
        draft_id = conversation.state.get("extra", {}).get("draft")
        draft = await context.services.broadcasts.get(int(draft_id or 0))
        actor = await context.services.people.actor_of(conversation.telegram_id)
        if draft is None or draft.status != "draft" or draft.created_by != actor:
            return None
        return draft

    async def _cancelled(
        self, message: Message, context: BotContext, conversation: Conversation
    ) -> None:
        """/cancel or ✖: nothing opens; the borrowed draft is dropped."""
        draft = await self._draft(context, conversation)
        if draft is not None:
            await context.services.broadcasts.update(draft, status="cancelled")
        await context.services.conversations.end(conversation.telegram_id, FLOW)
        language = conversation_language(context, conversation)
        survey = conversation.state.get("extra", {}).get("survey")
        await message.chat.send_message(
            context.services.texts.get(language, "survey.open.cancelled", id=survey)
        )

    async def _complete(
        self, message: Message, context: BotContext, conversation: Conversation
    ) -> None:
        """Confirmed: open the survey to the audience (or go back to the audience screens)."""
        services = context.services
        texts = services.texts
        state = conversation.state
        language = person_language(context, state.get("language"))
        values, extra = dict(state.get("values", {})), dict(state.get("extra", {}))
        draft = await self._draft(context, conversation)
        if draft is None or conversation.step != "":
            await services.conversations.end(conversation.telegram_id, FLOW)
            await message.chat.send_message(texts.get(language, "survey.open.expired"))
            return
        if values.get("confirm") != "open":
            await self._back_to_audience(message, context, conversation, draft)
            return
        member = await services.registration.member(conversation.telegram_id)
        if not await services.permissions.allows(
            member, conversation.telegram_id, Permission.LOAD_SURVEYS
        ):
            await self._cancelled(message, context, conversation)
            return
        audience, meeting_id, meeting_filter = split_meeting(draft.audience)
        closes = datetime.fromisoformat(str(values["closes"])) if values.get("closes") else None
        survey_id = int(extra.get("survey", 0))
        try:
            invited = await services.surveys.open(
                survey_id,
                audience,
                meeting_id,
                meeting_filter,
                closes,
                by=await services.people.actor_of(conversation.telegram_id),
            )
        except InputError as error:
            if error.key == "survey.admin.nobody":
                # The service's rule: nobody matches (any more), the survey stays a draft.
                await message.chat.send_message(texts.get(language, "survey.open.nobody"))
                await self._back_to_audience(message, context, conversation, draft)
                return
            await self._finish(context, conversation, draft)
            await message.chat.send_message("⚠️ " + texts.get(language, error.key, **error.values))
            return
        await self._finish(context, conversation, draft)
        services.wake_delivery()
        await message.chat.send_message(
            texts.get(
                language,
                "survey.open.done",
                id=survey_id,
                title=extra.get("title", ""),
                count=invited,
            )
        )

    async def _back_to_audience(
        self, message: Message, context: BotContext, conversation: Conversation, draft: Broadcast
    ) -> None:
        """The audience screens again: what was confirmed for the old audience no longer counts."""
        state = conversation.state
        again = {**state, "seq": int(state.get("seq", 0)) + 1, "values": {}, "path": []}
        await context.services.conversations.save(conversation.telegram_id, FLOW, AUDIENCE, again)
        await show_audience(message, context, draft)

    async def _finish(
        self, context: BotContext, conversation: Conversation, draft: Broadcast
    ) -> None:
        """The opening is over: its borrowed draft is dropped (only its audience was used)."""
        await context.services.broadcasts.update(draft, status="cancelled")
        await context.services.conversations.end(conversation.telegram_id, FLOW)

    def plugged(self) -> flows.Flow:
        """The engine's steps, plus the audience screens' text, restart and Continue."""
        return flows.Flow(
            self.flow,
            on_text=self.on_text,
            on_resume=self.on_resume,
            on_audience=self.take_audience,
        )


def split_meeting(
    audience: AudienceFilter,
) -> tuple[AudienceFilter, int | None, MeetingFilter | None]:
    """A meeting's attendees or Yes answers become the survey's meeting (its answers then carry
    the meeting in the record); the rest of the filter stays the audience."""
    answers = audience.meeting_answers or ("yes",)
    found = next((kind for kind, shown in MEETING_WHO.values() if (shown,) == answers), None)
    if audience.meeting_id is None or found is None:
        return audience, None, None
    rest = audience.model_copy(update={"meeting_id": None, "meeting_answers": ()})
    return rest, audience.meeting_id, found


def register_opening(application: Application) -> None:  # type: ignore[type-arg]
    """The opening flow: its engine steps, and the audience screens' text and Continue."""

    def now() -> datetime:
        services = application.bot_data.services
        assert services is not None
        moment: datetime = services.clock.now()
        return moment

    flows.register(application, Opening(now).plugged())
