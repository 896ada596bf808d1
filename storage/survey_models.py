"""The surveys' models: a survey, a member's invitation, a working answer, a record entry."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from storage.models import AudienceFilter, Model

SurveyStatus = Literal["draft", "open", "closed"]


class Survey(Model):
    id: int
    form_id: str
    version: str
    titles: dict[str, str]
    default_language: str
    source_name: str
    round: str | None
    theme: str | None
    status: SurveyStatus
    audience: AudienceFilter
    meeting_id: int | None
    meeting_filter: Literal["attended", "rsvp_yes"] | None
    closes_at: datetime | None
    created_by: str
    created_at: datetime
    opened_at: datetime | None
    closed_at: datetime | None
    question_count: int

    def answerable_at(self, now: datetime) -> bool:
        """Open and not past its closing time."""
        return self.status == "open" and (self.closes_at is None or self.closes_at > now)


class Participation(Model):
    survey_id: int
    member_id: int
    invited_at: datetime
    started_at: datetime | None
    submitted_at: datetime | None
    answered: int = 0


class WorkingAnswer(Model):
    question: str
    value: str  # '' for a skipped question or a note seen
    label: str
    language: str
    answered_at: datetime


@dataclass(frozen=True)
class AnswerEntry:
    """One answer to append to the record, with the provenance it had when submitted."""

    pseudonym: str
    survey_id: int
    form_id: str
    form_version: str
    question: str
    question_label: str
    value: str
    value_label: str
    language: str
    at: datetime
    round: str | None
    meeting_id: int | None
    theme: str | None
    country: str | None
    region: str | None
    sector: str | None
    association_id: int | None
