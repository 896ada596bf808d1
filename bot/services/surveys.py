"""Surveys: load an XLSForm, open it to an audience, take answers, write them to the record."""

from __future__ import annotations

import asyncio
import json
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from bot.clock import Clock
from bot.config import Config
from bot.i18n import Texts
from bot.services import survey_steps
from bot.services.errors import InputError
from bot.services.xlsform import Form, FormError, ParsedForm, parse_sheets
from bot.services.xlsform.limits import FILE_BYTES, describe, refusal
from bot.services.xlsform.model import FormSummary
from bot.services.xlsform.sandbox import read_form_file
from storage import Store
from storage.models import AudienceFilter, Member, NoticeTarget
from storage.surveys import (
    AnswerEntry,
    Participation,
    Survey,
    WorkingAnswer,
)

MAX_FILE_BYTES = FILE_BYTES
MeetingFilter = Literal["attended", "rsvp_yes"]


@dataclass(frozen=True)
class LoadOutcome:
    """A stored survey, or every reason the file was refused (nothing stored then)."""

    survey: Survey | None
    errors: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    # The errors that have a catalog key (limits of the file and of Telegram), by their text.
    keyed: dict[str, FormError] = field(default_factory=dict)

    @classmethod
    def refused(
        cls, errors: Sequence[FormError | str], warnings: list[str] | None = None
    ) -> LoadOutcome:
        """Nothing stored, for these reasons."""
        keyed = {str(e): e for e in errors if isinstance(e, FormError) and e.key}
        return cls(None, [str(error) for error in errors], warnings or [], keyed)

    def messages(self, texts: Texts, language: str) -> list[str]:
        """The errors as plain text, in `language` where the catalogs have them."""
        return [
            describe(self.keyed[error], texts, language) if error in self.keyed else error
            for error in self.errors
        ]


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


class SurveysService:
    def __init__(self, store: Store, config: Config, clock: Clock) -> None:
        self.store = store
        self._repository = store.surveys
        self._config = config
        self._clock = clock
        # Parsed forms by survey id: a stored form never changes (a new version is a new row).
        self._forms: dict[int, Form] = {}

    def default_zone(self) -> str:
        """The programme's zone, for times typed without one."""
        return self._config.programme.default_time_zone

    def today(self) -> date:
        return self._clock.now().date()

    # ---- loading ----------------------------------------------------------------------------
    async def load_file(
        self,
        path: Path,
        created_by: str,
        round_: str | None = None,
        theme: str | None = None,
        source_name: str | None = None,
    ) -> LoadOutcome:
        """Read and validate an .xlsx form; store it as a draft survey only if it is valid."""
        source = source_name or path.name
        if path.suffix.lower() == ".xls":
            return LoadOutcome(None, [f"{source}: old .xls files are not read; save as .xlsx"])
        # Read and checked in a separate process with memory and time limits; this thread waits.
        read = await asyncio.to_thread(read_form_file, path, source)
        if read.summary is None:
            errors = self._refusals(read.errors or ["the form could not be read"], theme)
            return LoadOutcome.refused(errors, read.warnings)
        # The Form itself is built when a member first needs it (form()), not here.
        return await self._store(
            read.sheets, read.summary, None, source, created_by, round_, theme, read.warnings
        )

    async def load_bytes(
        self,
        name: str,
        content: bytes,
        created_by: str,
        round_: str | None = None,
        theme: str | None = None,
    ) -> LoadOutcome:
        """A form sent as a file (e.g. to the bot in chat)."""
        if len(content) > MAX_FILE_BYTES:
            limit = f"{MAX_FILE_BYTES / (1 << 20):,.1f}"
            return LoadOutcome.refused(
                [refusal(name, "", None, None, "survey.load.file_size", limit=limit)]
            )
        with tempfile.TemporaryDirectory() as folder:
            path = Path(folder) / "form.xlsx"
            await asyncio.to_thread(path.write_bytes, content)
            return await self.load_file(path, created_by, round_, theme, source_name=name)

    async def load_sheets(
        self,
        sheets: dict[str, list[dict[str, str]]],
        source: str,
        created_by: str,
        round_: str | None = None,
        theme: str | None = None,
    ) -> LoadOutcome:
        """Validate sheets (cells as text) and store them as a new draft survey."""
        parsed: ParsedForm = await asyncio.to_thread(parse_sheets, sheets, source)
        form = parsed.form
        if form is None or parsed.errors:
            errors = self._refusals(parsed.errors or ["the form could not be read"], theme)
            return LoadOutcome.refused(errors, parsed.warnings)
        summary = form.summary()
        return await self._store(
            sheets, summary, form, source, created_by, round_, theme, parsed.warnings
        )

    def _refusals(
        self, errors: Sequence[FormError | str], theme: str | None
    ) -> list[FormError | str]:
        """The form's errors and the options' (all at once)."""
        found = list(errors)
        if theme is not None and theme not in self._config.programme.thematic_groups:
            known = ", ".join(self._config.programme.thematic_groups)
            found.append(f"--theme {theme!r} is not a thematic group ({known})")
        return found

    async def _store(
        self,
        sheets: dict[str, list[dict[str, str]]],
        summary: FormSummary,
        form: Form | None,
        source: str,
        created_by: str,
        round_: str | None,
        theme: str | None,
        warnings: list[str],
    ) -> LoadOutcome:
        """Store a checked form as a new draft survey (unless the options or the version clash)."""
        if refused := self._refusals([], theme):
            return LoadOutcome.refused(refused, warnings)
        existing = await self._repository.by_form(summary.form_id, summary.version)
        if existing is not None:
            problem = (
                f"{source}: form_id {summary.form_id!r} version {summary.version!r} is already "
                f"loaded as survey #{existing.id}; change the version in the settings sheet"
            )
            return LoadOutcome(None, [problem], warnings)
        survey = await self._repository.create(
            summary.form_id,
            summary.version,
            dict(summary.titles),
            summary.default_language,
            json.dumps(sheets, ensure_ascii=False),
            source,
            round_,
            theme,
            created_by,
            self._clock.now(),
            summary.questions,
        )
        if survey is None:  # loaded by someone else meanwhile
            return LoadOutcome(None, [f"{source}: this form version is already loaded"])
        await self.store.audit.record(
            created_by, "survey.load", f"survey:{survey.id}", {"source": source}
        )
        if form is not None:
            self._forms[survey.id] = form
        return LoadOutcome(survey, [], warnings)

    async def form(self, survey: Survey) -> Form:
        """The survey's form, parsed once."""
        cached = self._forms.get(survey.id)
        if cached is not None:
            return cached
        definition = await self._repository.definition(survey.id)
        # A 5,000-row form takes a good part of a second to parse: not on the event loop.
        parsed = await asyncio.to_thread(_parse_stored, definition or "{}", survey.source_name)
        if parsed.form is None:
            raise RuntimeError(f"survey {survey.id}: stored form no longer parses")
        self._forms[survey.id] = parsed.form
        return parsed.form

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
        survey, participation = await self.answerable(member, survey_id)
        form = await self.form(survey)
        if participation.started_at is None:
            await self._repository.mark_started(survey_id, member.id, self._clock.now())
        return await self._session(survey, form, member, participation.submitted_at is not None)

    async def answerable(self, member: Member, survey_id: int) -> tuple[Survey, Participation]:
        """The survey and the member's invitation; InputError if closed or not theirs."""
        survey = await self._repository.get(survey_id)
        participation = (
            await self._repository.participation(survey_id, member.id) if survey else None
        )
        if survey is None or participation is None or survey.status == "draft":
            raise InputError("survey.refused.not_invited")
        if not survey.answerable_at(self._clock.now()):
            raise InputError("survey.refused.closed")
        return survey, participation

    async def _session(
        self, survey: Survey, form: Form, member: Member, submitted: bool = False
    ) -> Session:
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
        return Session(survey, form, member.id, language, values, answered, following, submitted)

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

    def cached(self, survey_id: int) -> Form | None:
        """The form if it was parsed already (for code that cannot wait)."""
        return self._forms.get(survey_id)

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
        asked = form.question(question)
        stored = survey_steps.to_stored(value)
        if label is None:
            label = survey_steps.value_label(form, asked, stored, language) if asked else stored
        now = self._clock.now()
        answer = WorkingAnswer(
            question=question, value=stored, label=label, language=language, answered_at=now
        )
        return await self._repository.save_answer(survey_id, member_id, answer, now)

    async def submit(self, member: Member, survey_id: int) -> int:
        """Append the member's answers to the record (only what changed); the entries added."""
        survey, participation = await self.answerable(member, survey_id)
        form = await self.form(survey)
        now = self._clock.now()
        stored = await self._repository.answers(survey_id, member.id)
        session = await self._session(survey, form, member)
        visible = survey_steps.shown(form, session.values, self.today())
        entries: list[AnswerEntry] = []

        def entry(question: str, label: str, value: str, value_label: str, at: datetime) -> None:
            entries.append(
                AnswerEntry(
                    pseudonym=member.pseudonym,
                    survey_id=survey.id,
                    form_id=survey.form_id,
                    form_version=survey.version,
                    question=question,
                    question_label=label,
                    value=value,
                    value_label=value_label,
                    language=session.language,
                    at=at,
                    round=survey.round,
                    meeting_id=survey.meeting_id,
                    theme=survey.theme,
                    country=member.country,
                    region=member.region,
                    sector=member.sector,
                    association_id=member.association_id,
                )
            )

        for question in form.answerable_questions():
            answer = stored.get(question.name)
            kept = (
                answer is not None
                and question.name in visible
                and question.name in session.answered
            )
            entry(
                question.name,
                question.label(session.language),
                answer.value if kept and answer else "",
                answer.label if kept and answer else "",
                answer.answered_at if kept and answer else now,
            )
        # From the answers, not the submit time, so submitting again unchanged appends nothing.
        last = max((a.answered_at for a in stored.values()), default=now)
        for meta in form.metadata:
            value = ""
            if meta.type == "start" and participation.started_at is not None:
                value = participation.started_at.isoformat(timespec="seconds")
            elif meta.type == "end":
                value = last.isoformat(timespec="seconds")
            elif meta.type == "today":
                value = last.date().isoformat()
            entry(meta.name, "", value, value, last)
        added = await self._repository.submit(survey_id, member.id, member.pseudonym, entries, now)
        if added is None:
            raise InputError("survey.refused.closed")
        return added


def _parse_stored(definition: str, source: str) -> ParsedForm:
    """A stored form, as accepted under the limits of its day (see parse_sheets)."""
    return parse_sheets(json.loads(definition), source, limits=False)
