"""What a submit appends to the record: one entry per question of the form, and its metadata.

Pure (no storage): the storage appends only the entries that differ from the member's current
ones, so submitting again unchanged appends nothing.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from bot.services.xlsform import Form
from storage.models import Member
from storage.surveys import AnswerEntry, Participation, Survey, WorkingAnswer


def record_entries(
    survey: Survey,
    form: Form,
    member: Member,
    participation: Participation,
    stored: Mapping[str, WorkingAnswer],
    kept: set[str],
    language: str,
    now: datetime,
) -> list[AnswerEntry]:
    """Every answerable question (its stored answer if `kept`, else '') and every metadata field.

    `kept`: the questions shown whose answer still passes the form's rules.
    """

    def entry(question: str, label: str, value: str, value_label: str, at: datetime) -> AnswerEntry:
        return AnswerEntry(
            pseudonym=member.pseudonym,
            survey_id=survey.id,
            form_id=survey.form_id,
            form_version=survey.version,
            question=question,
            question_label=label,
            value=value,
            value_label=value_label,
            language=language,
            at=at,
            round=survey.round,
            meeting_id=survey.meeting_id,
            theme=survey.theme,
            country=member.country,
            region=member.region,
            sector=member.sector,
            association_id=member.association_id,
        )

    entries: list[AnswerEntry] = []
    for question in form.answerable_questions():
        answer = stored.get(question.name) if question.name in kept else None
        entries.append(
            entry(
                question.name,
                question.label(language),
                answer.value if answer else "",
                answer.label if answer else "",
                answer.answered_at if answer else now,
            )
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
        entries.append(entry(meta.name, "", value, value, last))
    return entries
