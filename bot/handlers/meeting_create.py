"""/newmeeting: a guided flow with sensible defaults, a preview of the invitation, one confirm."""

from __future__ import annotations

import html
from datetime import datetime
from typing import Any

from telegram import CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup, Message, Update

from bot import flows
from bot.context import BotContext
from bot.delivery.meeting_notices import meeting_facts
from bot.flows.steps import Press, StepFlow
from bot.handlers.access import identify, refuse
from bot.handlers.chunks import close_buttons
from bot.language import conversation_language
from bot.services import timefmt
from bot.services.errors import InputError
from bot.services.ics import localized
from bot.services.meeting_steps import (
    EDITS,
    LANGUAGES,
    STEP_OF_ERROR,
    TRANSLATED,
    Now,
    audience_step,
    places_of,
    places_text,
    request_of,
    steps,
)
from bot.services.permissions import Permission, allows, themes_of
from storage.models import Conversation, Meeting

FLOW = "newmtg"
# What is said back after a date is typed: the date as understood, in words.
_UNDERSTOOD = {"when": "mtgc.understood.when", "deadline": "mtgc.understood.deadline"}


def preview_meeting(fields: dict[str, Any], created_by: str, now: datetime) -> Meeting:
    """An unsaved meeting from validated fields, to show exactly what members will read."""
    return Meeting.model_validate(
        {
            **fields,
            "id": 0,
            "status": "scheduled",
            "sequence": 0,
            "checkin_code": "-",
            "created_by": created_by,
            "created_at": now,
            "minutes": None,
            "minutes_file_id": None,
            "alert_level": 0,
        }
    )


async def echo_date(
    message: Message,
    context: BotContext,
    before: Conversation,
    after: Conversation,
    pressed: CallbackQuery | None,
) -> Conversation:
    """Say back a typed date as understood (in words) before the next question."""
    key = _UNDERSTOOD.get(before.step)
    values = after.state.get("values", {})
    if key is not None and pressed is None and values.get(before.step):
        language = conversation_language(context, after)
        zone = str(values.get("zone") or "UTC")
        moment = timefmt.parse_local(str(values[before.step]), zone)
        now = context.services.clock.now()
        when = timefmt.format_meeting_moment(
            moment, zone, language, with_year=moment.year != now.year
        )
        await message.chat.send_message(context.services.texts.get(language, key, when=when))
    return after


class NewMeeting:
    """The /newmeeting flow: its steps, the review screen and the one write at the end."""

    def __init__(self, now: Now) -> None:
        self.flow = StepFlow(
            FLOW,
            steps(now),
            self.review,
            on_extra=self.on_extra,
            on_answer=self.on_answer,
            cancel_key="mtgc.cancelled",
        )

    async def on_answer(
        self,
        message: Message,
        context: BotContext,
        before: Conversation,
        after: Conversation,
        pressed: CallbackQuery | None,
    ) -> Conversation | None:
        """What one answer cannot tell alone, checked as it is given (the same question asked
        again if refused): a place or a link once both were asked, places members live in."""
        values = dict(after.state.get("values", {}))
        extra = dict(after.state.get("extra", {}))
        step, error = before.step, None
        asked_both = step == "venue" or "venue" in before.state.get("path", [])
        if (
            step in ("venue", "link")
            and asked_both
            and not (values.get("venue") or values.get("link"))
        ):
            error = InputError("meeting.error.where")
        if step == "places":
            typed = places_of(values.get("places"))
            places, unknown = await context.services.meetings.known_places(typed)
            kept = ", ".join([*places["regions"], *places["cities"]])
            extra.pop("places_kept", None)
            if unknown:
                extra.update({"places_kept": kept} if kept else {})
                error = InputError("mtgc.error.place_unknown", places=", ".join(unknown))
            values[step] = places
        if error is not None:
            values.pop(step, None)
            state = {**before.state, "values": values, "extra": extra, "seq": after.state["seq"]}
            again = await context.services.conversations.save(before.telegram_id, FLOW, step, state)
            await self.flow.refuse(message, context, again, error)
            return None
        if step == "places":
            after = await context.services.conversations.save(
                after.telegram_id,
                FLOW,
                after.step,
                {**after.state, "values": values, "extra": extra},
            )
        return await echo_date(message, context, before, after, pressed)

    async def review(
        self, message: Message, context: BotContext, conversation: Conversation
    ) -> None:
        """Validate everything, then show the invitation as members will see it, and the choices."""
        services = context.services
        texts = services.texts
        language = conversation_language(context, conversation)
        values = dict(conversation.state.get("values", {}))
        needed = audience_step(values)
        if needed != "kind" and not values.get(needed):
            # The kind was changed from the preview: who is invited is asked for the new one.
            await self.flow.jump(message, context, conversation, needed)
            return
        request = request_of(values, language)
        try:
            fields, _ = services.meetings.validate(request)
        except InputError as error:
            await message.chat.send_message(f"⚠️ {texts.get(language, error.key, **error.values)}")
            step = STEP_OF_ERROR.get(error.key, "title")
            await self.flow.jump(message, context, conversation, step)
            return
        meeting = preview_meeting(fields, "-", services.clock.now())
        organiser = await services.people.actor_of(conversation.telegram_id)
        count = await services.meetings.audience_size(meeting.audience, organiser)
        lines = [texts.get(language, "mtgc.preview.header"), ""]
        lines.append(
            texts.get(language, "meeting.invite.title", title=localized(meeting.titles, language))
        )
        lines.append("")
        # As a member without a seat reads it: with a capacity, the link is for confirmed people.
        lines.extend(meeting_facts(texts, meeting, language, meeting.zone))
        if meeting.capacity is not None:
            lines.append(
                texts.get(
                    language,
                    "meeting.notice.seats_left",
                    left=meeting.capacity,
                    capacity=meeting.capacity,
                )
            )
        if meeting.rsvp_deadline is not None:
            when = timefmt.format_meeting_moment(meeting.rsvp_deadline, meeting.zone, language)
            lines.append(texts.get(language, "meeting.notice.deadline", when=when))
        lines += ["", texts.get(language, "meeting.notice.ask"), "", "―――"]
        lines.extend(self._organiser_notes(context, meeting, language))
        if values.get("kind") == "local":
            lines.append(
                texts.get(language, "mtgc.preview.places", places=places_text(values.get("places")))
            )
        # Nobody to invite: said, and no Create (as /broadcast offers no Send to nobody).
        lines.append(
            texts.get(language, "mtgc.preview.count", count=count)
            if count
            else texts.get(language, "mtgc.preview.nobody")
        )
        seq = int(conversation.state.get("seq", 0))
        typed = message.from_user is not None and not message.from_user.is_bot
        if typed and conversation.state.get("review_seq") == seq:
            # Typed at the preview, where nothing is asked: say where changes are made.
            await message.chat.send_message(texts.get(language, "mtgc.preview.use_buttons"))
        state = {**conversation.state, "seq": seq + 1, "review_seq": seq + 1}
        await services.conversations.save(conversation.telegram_id, FLOW, "", state)
        await message.chat.send_message(
            "\n".join(lines), reply_markup=self._markup(context, language, seq + 1, count > 0)
        )

    def _organiser_notes(self, context: BotContext, meeting: Meeting, language: str) -> list[str]:
        """What only the organiser reads under the preview: versions, link, reminders."""
        texts = context.services.texts
        lines = []
        for other in LANGUAGES:
            if other == language or not (
                meeting.titles.get(other) or meeting.descriptions.get(other)
            ):
                continue
            lines.append(
                texts.get(
                    language,
                    "mtgc.preview.version",
                    lang_name=texts.plain(language, f"language.name.{other}"),
                    title=meeting.titles.get(other) or "—",
                )
            )
            if meeting.descriptions.get(other):
                lines.append(html.escape(meeting.descriptions[other], quote=False))
        if meeting.online_url and meeting.capacity is not None:
            lines.append(texts.get(language, "mtgc.preview.link_confirmed", url=meeting.online_url))
        if meeting.reminders:
            reminders = timefmt.offsets_in_words(meeting.reminders, language)
            lines.append(texts.get(language, "mtgc.preview.reminders", reminders=reminders))
        else:
            lines.append(texts.get(language, "mtgc.preview.no_reminders"))
        return lines

    def _markup(
        self, context: BotContext, language: str, seq: int, create: bool
    ) -> InlineKeyboardMarkup:
        texts = context.services.texts

        def button(key: str, action: str, index: int | None = None, **values: Any) -> Any:
            data = Press(FLOW, seq, action, index).encode()
            return InlineKeyboardButton(texts.plain(language, key, **values), callback_data=data)

        rows = [[button("mtgc.button.create", "k", 0)]] if create else []
        edits = [button(key, "k", index + 1) for index, (_, key) in enumerate(EDITS)]
        rows.extend(edits[i : i + 2] for i in range(0, len(edits), 2))
        for index, (_, label) in enumerate(TRANSLATED):
            rows.append(
                [
                    button(
                        label,
                        "k",
                        len(EDITS) + 1 + index * len(LANGUAGES) + LANGUAGES.index(other),
                        lang_name=texts.plain(language, f"language.name.{other}"),
                    )
                    for other in LANGUAGES
                    if other != language
                ]
            )
        rows.append([button("steps.cancel", "x")])
        return InlineKeyboardMarkup(rows)

    async def on_extra(
        self,
        query: CallbackQuery,
        context: BotContext,
        conversation: Conversation,
        index: int | None,
    ) -> str | None:
        message = query.message
        if not isinstance(message, Message) or index is None or conversation.step != "":
            return context.services.texts.plain(
                conversation_language(context, conversation), "error.button_unknown"
            )
        translations = len(TRANSLATED) * len(LANGUAGES)
        if 1 <= index <= len(EDITS):
            await close_buttons(message)
            step = EDITS[index - 1][0]
            if step == "audience":
                step = audience_step(conversation.state.get("values", {}))
            await self.flow.jump(message, context, conversation, step)
            return None
        if len(EDITS) < index <= len(EDITS) + translations:
            await close_buttons(message)
            prefix, place = divmod(index - len(EDITS) - 1, len(LANGUAGES))
            step = f"{TRANSLATED[prefix][0]}_{LANGUAGES[place]}"
            await self.flow.jump(message, context, conversation, step)
            return None
        if index == 0:
            await close_buttons(message)
            await self.create(message, context, conversation)
            return None
        return None

    async def create(
        self, message: Message, context: BotContext, conversation: Conversation
    ) -> None:
        """The only write: meeting, reminders, invitations — once the organiser said so."""
        services = context.services
        texts = services.texts
        language = conversation_language(context, conversation)
        request = request_of(dict(conversation.state.get("values", {})), language)
        member = await services.registration.member(conversation.telegram_id)
        if not await may_create(
            context, member, conversation.telegram_id, request.kind, request.theme
        ):
            await services.conversations.end(conversation.telegram_id, FLOW)
            await refuse(
                context,
                message,
                conversation.telegram_id,
                language,
                Permission.MANAGE_MEETINGS.value,
            )
            return
        actor = await services.people.actor_of(conversation.telegram_id)
        try:
            fields, _ = services.meetings.validate(request)
            if not await services.meetings.audience_size(fields["audience"], actor):
                await self.review(message, context, conversation)  # says nobody would be invited
                return
            meeting = await services.meetings.create(request, actor)
        except InputError as error:
            await message.chat.send_message(f"⚠️ {texts.get(language, error.key, **error.values)}")
            await self.review(message, context, conversation)
            return
        await services.conversations.end(conversation.telegram_id, FLOW)
        invited = await services.meetings.invite(meeting)
        services.wake_delivery()
        await message.chat.send_message(
            texts.get(
                language,
                "mtgc.created",
                id=meeting.id,
                count=invited,
                code=meeting.checkin_code,
            )
        )


async def may_create(
    context: BotContext, member: Any, telegram_id: int, kind: str, theme: str | None
) -> bool:
    """Coordinators, staff and admins any kind; focal points thematic meetings of their theme."""
    grants = await context.services.permissions.grants(member, telegram_id)
    if allows(grants, Permission.MANAGE_MEETINGS):
        return True
    return kind == "thematic" and theme is not None and theme in themes_of(grants)


def new_meeting_flow(now: Now) -> flows.Flow:
    """/newmeeting: its steps, review screen and buttons."""
    engine = NewMeeting(now).flow

    async def new_meeting(update: Update, context: BotContext) -> None:
        await start_new_meeting(update, context, engine)

    return flows.Flow(engine, commands={"newmeeting": new_meeting})


async def start_new_meeting(update: Update, context: BotContext, flow: StepFlow) -> None:
    """/newmeeting: only those who may organise; focal points are offered their own themes."""
    message, user = update.effective_message, update.effective_user
    if message is None or user is None:
        return
    services = context.services
    member, language = await identify(update, context)
    grants = await services.permissions.grants(member, user.id)
    if allows(grants, Permission.MANAGE_MEETINGS):
        kinds = ["national", "local", "thematic"]
        themes = list(services.config.programme.thematic_groups)
    else:
        themes = sorted(themes_of(grants) & set(services.config.programme.thematic_groups))
        kinds = ["thematic"] if themes else []
    if not kinds:
        await refuse(context, message, user.id, language, Permission.MANAGE_MEETINGS.value)
        return
    zone = (member.time_zone if member else None) or services.config.programme.default_time_zone
    await message.chat.send_message(services.texts.get(language, "mtgc.intro"))
    await flow.begin(
        message,
        context,
        user.id,
        language,
        extra={
            "kinds": kinds,
            "themes": themes,
            "zone": zone,
            "region": f"{member.country}-{member.region}" if member and member.region else None,
            "city": member.city if member else None,
        },
        values={"zone": zone},
    )
