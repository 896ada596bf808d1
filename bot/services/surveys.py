"""Surveys: open a loaded form to an audience, take a member's answers, write them to the record.

Loading a form and parsing it once per survey are `survey_loading.SurveyLoading`, which this service
extends; what a submit appends is `survey_record.record_entries`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from bot.services import survey_steps
from bot.services.errors import InputError
from bot.services.survey_loading import MAX_FILE_BYTES as MAX_FILE_BYTES
from bot.services.survey_loading import LoadOutcome as LoadOutcome
from bot.services.survey_loading import SurveyLoading
from bot.services.survey_record import record_entries
from bot.services.xlsform import Form
from storage.models import AudienceFilter, Conversation, Member, NoticeTarget
from storage.surveys import Participation, Survey, WorkingAnswer

MeetingFilter = Literal["attended", "rsvp_yes"]


@dataclass(frozen=True)
class ConversationMove:
    """Where a person's conversation moves once their answer is kept (written with it)."""

    telegram_id: int
    flow: str
    step: str
    state: Mapping[str, Any]


@dataclass(frozen=True)
class Session:
    """Where a member stands in a survey: the answers so far and what to ask next."""

    survey: Survey
    form: Form
    member_id: int
    language: str  # the form language the member sees
    values: dict[str, Any]
    answered: set[str]
    next_key: str | None
    submitted: bool = False
    # The stored answers as read for this session (labels included), for the review to show.
    stored: Mapping[str, WorkingAnswer] = field(default_factory=dict)
    # The invitation as read (its start noted), so a submit need not read it again.
    participation: Participation | None = None


@dataclass(frozen=True)
class MySurvey:
    survey: Survey
    title: str
    answered: int
    total: int
    submitted: bool


def parse_closing(text: str, zone: str) -> datetime:
    """'YYYY-MM-DD HH:MM' in an IANA zone, as an aware datetime."""
    try:
        tz = ZoneInfo(zone)
    except (ZoneInfoNotFoundError, ValueError):
        raise InputError("survey.admin.bad_zone", zone=zone) from None
    try:
        naive = datetime.strptime(text.strip(), "%Y-%m-%d %H:%M")  # noqa: DTZ007 - zone added
    except ValueError:
        raise InputError("survey.admin.bad_time", value=text) from None
    return naive.replace(tzinfo=tz)


class SurveysService(SurveyLoading):
    """Surveys from opening to the record: invitations, a member's answers, submits."""

    def default_zone(self) -> str:
        """The programme's zone, for times typed without one."""
        return self._config.programme.default_time_zone

    def today(self) -> date:
        return self._clock.now().date()

    # ---- opening and closing ----------------------------------------------------------------
    async def open(
        self,
        survey_id: int,
        audience: AudienceFilter,
        meeting_id: int | None = None,
        meeting_filter: MeetingFilter | None = None,
        closes_at: datetime | None = None,
        by: str | None = None,
    ) -> int:
        """Invite the audience (narrowed to a meeting's attendees or Yes answers); the count.
        An audience matching no member is refused and the survey stays a draft.
        `by` (the actor's pseudonym) puts the opening in the audit log."""
        now = self._clock.now()
        survey = await self._repository.get(survey_id)
        if survey is None:
            raise InputError("survey.admin.unknown", id=survey_id)
        if survey.status != "draft":
            # One key per status (open, closed): the status is said in the reader's words.
            raise InputError(f"survey.admin.not_draft.{survey.status}", id=survey_id)
        if closes_at is not None and closes_at <= now:
            raise InputError("survey.admin.closes_past")
        if (meeting_id is None) != (meeting_filter is None):
            raise InputError("survey.admin.meeting_filter")
        allowed: set[int] | None = None
        if meeting_id is not None and meeting_filter is not None:
            if await self.store.meetings.get(meeting_id) is None:
                raise InputError("survey.admin.no_meeting", id=meeting_id)
            answers = ["attended"] if meeting_filter == "attended" else ["yes"]
            found = await self.store.meetings.recipients(meeting_id, answers)
            allowed = {recipient.member_id for recipient in found}
        # A survey opened to nobody could never be opened again: an audience matching no
        # member is refused before anything changes, and the survey stays a draft.
        if not await self._matches_anyone(audience, allowed):
            raise InputError("survey.admin.nobody", id=survey_id)
        if not await self._repository.open(
            survey_id, audience, meeting_id, meeting_filter, closes_at, now
        ):
            raise InputError("survey.admin.not_draft.open", id=survey_id)
        invited = 0
        async for chunk in self.store.broadcasts.audience(audience):
            chosen = [r for r in chunk if allowed is None or r.member_id in allowed]
            if not chosen:
                continue
            await self._repository.invite(survey_id, [r.member_id for r in chosen], now)
            targets = [
                NoticeTarget(
                    member_id=r.member_id,
                    chat_id=r.telegram_id,
                    language=r.language,
                    due=now,
                    dedupe_key=f"survey_invite:{survey_id}:{r.member_id}",
                )
                for r in chosen
            ]
            await self.store.notices.enqueue("survey_invite", survey_id, targets)
            invited += len(chosen)
        if by is not None:
            detail = {"invited": invited, **({"meeting": meeting_id} if meeting_id else {})}
            await self.store.audit.record(by, "survey.open", f"survey:{survey_id}", detail)
        return invited

    async def _matches_anyone(self, audience: AudienceFilter, allowed: set[int] | None) -> bool:
        """Whether the audience (narrowed to `allowed` members) holds at least one member."""
        if allowed is None:
            return await self.store.broadcasts.audience_count(audience) > 0
        if not allowed:
            return False
        found = False
        async for chunk in self.store.broadcasts.audience(audience):  # read to the end
            found = found or any(r.member_id in allowed for r in chunk)
        return found

    async def close(self, survey_id: int, by: str | None = None) -> bool:
        """Close a survey: answers become read-only; invitations not yet sent are dropped."""
        closed = await self._repository.close(survey_id, self._clock.now())
        if closed:
            await self.store.notices.drop_pending("survey_invite", survey_id)
            if by is not None:
                await self.store.audit.record(by, "survey.close", f"survey:{survey_id}", {})
        return closed

    async def listing(self) -> list[Survey]:
        return await self._repository.listing()

    # ---- members ----------------------------------------------------------------------------
    async def mine(self, member: Member) -> list[MySurvey]:
        """The open surveys this member was invited to, with their progress."""
        found = []
        for survey, participation in await self._repository.open_for(member.id, self._clock.now()):
            form = await self.form(survey)
            session = await self._session(survey, form, member)
            # One count everywhere (docs/decisions.md): the most questions a member can be asked,
            # as the invitation and the CLI say it, not how many the answers so far make relevant.
            total = survey.question_count
            answered = sum(
                1
                for q in survey_steps.shown_answerable(form, session.values, self.today())
                if q.name in session.answered
            )
            title = form.title(session.language)
            found.append(
                MySurvey(survey, title, answered, total, participation.submitted_at is not None)
            )
        return found

    async def start(self, member: Member, survey_id: int) -> Session:
        """Check the member may answer, note the start, and say where they stand."""
        # The survey, the invitation and the answers in one trip to the database thread.
        found, invited, stored = await self._repository.with_answers(survey_id, member.id)
        survey, participation = self._answerable(found, invited)
        form = await self.form(survey)
        if participation.started_at is None:
            now = self._clock.now()
            if await self._repository.mark_started(survey_id, member.id, now):
                participation = participation.model_copy(update={"started_at": now})
            else:  # noted meanwhile by another update: read the time it holds
                participation = (await self.answerable(member, survey_id))[1]
        submitted = participation.submitted_at is not None
        session = await self._session(survey, form, member, submitted, stored)
        return replace(session, participation=participation)

    async def answerable(self, member: Member, survey_id: int) -> tuple[Survey, Participation]:
        """The survey and the member's invitation; InputError if closed or not theirs."""
        survey, participation = await self._repository.with_participation(survey_id, member.id)
        return self._answerable(survey, participation)

    def _answerable(
        self, survey: Survey | None, participation: Participation | None
    ) -> tuple[Survey, Participation]:
        if survey is None or participation is None or survey.status == "draft":
            raise InputError("survey.refused.not_invited")
        if not survey.answerable_at(self._clock.now()):
            raise InputError("survey.refused.closed")
        return survey, participation

    async def _session(
        self,
        survey: Survey,
        form: Form,
        member: Member,
        submitted: bool = False,
        stored: Mapping[str, WorkingAnswer] | None = None,
    ) -> Session:
        """Where the member stands, from their stored answers (read here unless given)."""
        if stored is None:
            stored = await self._repository.answers(survey.id, member.id)
        values: dict[str, Any] = {}
        for name, answer in stored.items():
            question = form.question(name)
            if question is not None and answer.value != "":
                values[name] = survey_steps.from_stored(question, answer.value)
        answered = set(stored)
        language = form.language_for(member.language)
        # An answer another edit made invalid is as if never given: it is asked again.
        for name in survey_steps.invalid_answers(form, values, language, self.today()):
            values.pop(name, None)
            answered.discard(name)
        following = survey_steps.next_unanswered(form, values, answered, self.today())
        return Session(
            survey, form, member.id, language, values, answered, following, submitted, stored
        )

    async def survey(self, survey_id: int) -> Survey | None:
        return await self._repository.get(survey_id)

    async def answers(self, survey_id: int, member_id: int) -> dict[str, WorkingAnswer]:
        """The member's working answers, by question name."""
        return await self._repository.answers(survey_id, member_id)

    async def counts(self, survey_id: int) -> tuple[int, int]:
        """How many members were invited, and how many answers are stored."""
        repository = self._repository
        return await repository.participant_count(survey_id), await repository.answer_count(
            survey_id
        )

    async def save(
        self,
        survey_id: int,
        form: Form,
        member_id: int,
        question: str,
        value: object,
        language: str,
        label: str | None = None,
    ) -> bool:
        """Keep one answer at once; False when the survey closed or is not the member's."""
        answer = self._working(form, question, value, language, label)
        return await self._repository.save_answer(survey_id, member_id, answer, answer.answered_at)

    async def save_and_move(
        self,
        survey_id: int,
        form: Form,
        member_id: int,
        question: str,
        value: object,
        language: str,
        label: str | None,
        move: ConversationMove,
    ) -> Conversation | None:
        """Keep one answer and move the person's conversation on, in one trip to the database
        (the answer row and the conversation were a survey answer's two writes); None, and the
        conversation left where it was, when the survey closed or is not the member's."""
        answer = self._working(form, question, value, language, label)
        write, moved = self.store.conversations.saving(
            move.telegram_id, move.flow, move.step, move.state
        )
        taken = await self._repository.save_answer(
            survey_id, member_id, answer, answer.answered_at, then=write
        )
        return moved if taken else None

    def _working(
        self, form: Form, question: str, value: object, language: str, label: str | None
    ) -> WorkingAnswer:
        asked = form.question(question)
        stored = survey_steps.to_stored(value)
        if label is None:
            label = survey_steps.value_label(form, asked, stored, language) if asked else stored
        return WorkingAnswer(
            question=question,
            value=stored,
            label=label,
            language=language,
            answered_at=self._clock.now(),
        )

    async def submit(self, member: Member, survey_id: int, session: Session | None = None) -> int:
        """Append the member's answers to the record (only what changed); the entries added.

        `session`: as `start` just gave it for this member and survey, so nothing is read again
        (the record's append checks once more that the survey is still answerable).
        """
        if session is None or session.participation is None or session.survey.id != survey_id:
            survey, participation = await self.answerable(member, survey_id)
            form = await self.form(survey)
            stored: Mapping[str, WorkingAnswer] = await self._repository.answers(
                survey_id, member.id
            )
            session = await self._session(survey, form, member, stored=stored)
        else:
            survey, participation, form = session.survey, session.participation, session.form
            stored = session.stored
        visible = survey_steps.shown(form, session.values, self.today())
        now = self._clock.now()
        entries = record_entries(
            survey,
            form,
            member,
            participation,
            stored,
            visible & session.answered,
            session.language,
            now,
        )
        added = await self._repository.submit(survey_id, member.id, member.pseudonym, entries, now)
        if added is None:
            raise InputError("survey.refused.closed")
        return added
