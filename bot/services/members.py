"""A member's rights over their own data: a full copy (/mydata), and erasure (/deleteme).

The copy holds every row that points at the person — by member id, Telegram id or pseudonym —
in their language: section headings from the catalogs, question and choice labels from the
form, meeting titles in their language. Erasure cuts every link to the person and empties what
they typed (free-text answers, proposals); choices and numbers stay under the pseudonym.
"""

from __future__ import annotations

import asyncio
import json
import logging
from datetime import datetime
from typing import Any

from bot.i18n import Texts
from bot.services.ics import localized
from bot.services.survey_steps import value_label
from bot.services.xlsform import Form, parse_sheets
from storage import Store
from storage.models import Member
from storage.personal import Row
from storage.surveys import Survey

logger = logging.getLogger(__name__)

# The survey question types whose answer is the person's own words (the rest are choices,
# numbers, dates and acknowledgements, which stay under the pseudonym after erasure).
FREE_TEXT_TYPES = frozenset({"text"})
# What the person did as staff: shown only when there is something, so a member's copy is not
# a list of empty staff sections.
ACTS = (
    "broadcasts",
    "meetings",
    "surveys",
    "roles_granted",
    "check_ins_recorded",
    "evidence_linked",
    "audit",
)


def _read_form(definition: str, source: str) -> Form | None:
    """A stored form, parsed as at load (None if it no longer parses)."""
    return parse_sheets(json.loads(definition), source, limits=False).form


async def _forms(store: Store, survey_ids: list[int]) -> dict[int, tuple[Survey, Form | None]]:
    """Each survey with its parsed form (off the event loop: a big form takes a while)."""
    repository = store.surveys
    found: dict[int, tuple[Survey, Form | None]] = {}
    for survey_id in survey_ids:
        survey = await repository.get(survey_id)
        definition = await repository.definition(survey_id)
        if survey is None or definition is None:
            continue
        try:
            form = await asyncio.to_thread(_read_form, definition, survey.source_name)
        except ValueError:
            form = None
        if form is None:
            logger.warning("survey %d: stored form does not parse", survey_id)
        found[survey_id] = (survey, form)
    return found


def _labels(form: Form | None, language: str, question: str, value: str) -> tuple[str, str]:
    """(question label, value label) in the person's language, or ('', '') if unknown."""
    asked = form.question(question) if form is not None else None
    if form is None or asked is None:
        return "", ""
    shown_in = form.language_for(language)
    return asked.label(shown_in), value_label(form, asked, value, shown_in)


async def _surveys(
    store: Store, member: Member, forms: dict[int, tuple[Survey, Form | None]]
) -> list[Row]:
    repository = store.surveys
    items: list[Row] = []
    for survey_id, (survey, form) in forms.items():
        participation = await repository.participation(survey_id, member.id)
        answers = []
        for name, answer in (await repository.answers(survey_id, member.id)).items():
            label, value_label = _labels(form, member.language, name, answer.value)
            answers.append(
                {
                    "question": name,
                    "question_label": label,
                    "value": answer.value,
                    "value_label": value_label or answer.label,
                    "answered_at": answer.answered_at.isoformat(),
                }
            )
        language = form.language_for(member.language) if form else member.language
        items.append(
            {
                "survey_id": survey_id,
                "title": form.title(language) if form else localized(survey.titles, language),
                "form_id": survey.form_id,
                "version": survey.version,
                "status": survey.status,
                "invited_at": participation.invited_at.isoformat() if participation else None,
                "started_at": _iso(participation.started_at if participation else None),
                "submitted_at": _iso(participation.submitted_at if participation else None),
                "answers": answers,
            }
        )
    return items


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment is not None else None


def _record(
    texts: Texts,
    language: str,
    entries: list[Row],
    forms: dict[int, tuple[Survey, Form | None]],
) -> list[Row]:
    """The record entries, with question and choice labels and themes in the person's language."""
    items = []
    for entry in entries:
        item = dict(entry)
        survey, form = forms.get(int(entry["survey_id"] or 0), (None, None))
        if entry["question"]:
            label, value_label = _labels(form, language, entry["question"], entry["value"])
            item["question_label"] = label or entry["question_label"]
            item["value_label"] = value_label or entry["value_label"]
        if survey is not None:
            item["survey_title"] = (
                form.title(form.language_for(language))
                if form
                else localized(survey.titles, language)
            )
        if entry["theme"]:
            item["theme_label"] = texts.label(language, "theme", entry["theme"])
        items.append(item)
    return items


async def _meetings(store: Store, member: Member) -> list[Row]:
    """Their answers to invitations: seat or place in line, check-in and attendance."""
    items = []
    for rsvp in await store.meetings.rsvps_of_member(member.id):
        meeting = await store.meetings.get(rsvp.meeting_id)
        place = await store.meetings.waitlist_rank(rsvp.meeting_id, member.id)
        items.append(
            {
                "meeting_id": rsvp.meeting_id,
                "title": localized(meeting.titles, member.language) if meeting else "",
                "start_at": meeting.start_at.isoformat() if meeting else None,
                "zone": meeting.zone if meeting else None,
                "meeting_status": meeting.status if meeting else None,
                "answer": rsvp.answer,
                "answered_at": rsvp.answered_at.isoformat(),
                "waitlist_place": place,
                "attended": rsvp.checked_in_at is not None,
                "checked_in_at": _iso(rsvp.checked_in_at),
                # Their own check-in (by code or button) or an organiser's mark; never who.
                "marked_by_organiser": (
                    rsvp.checked_in_by is not None and rsvp.checked_in_by != member.pseudonym
                ),
            }
        )
    return items


async def personal_data(
    store: Store, texts: Texts, member: Member, now: datetime
) -> dict[str, Any]:
    """Everything stored about the member, as one JSON-ready document in their language."""
    language = member.language
    reader = store.personal
    forms = await _forms(store, await reader.survey_ids(member.id, member.pseudonym))
    operators = await reader.operator_pseudonyms(member.telegram_id)
    pseudonyms = [member.pseudonym, *(str(row["pseudonym"]) for row in operators)]
    association = (
        await store.associations.by_id(member.association_id) if member.association_id else None
    )
    conversation = await store.conversations.get(member.telegram_id) if member.telegram_id else None
    proposals = await reader.proposals(member.id)
    for proposal in proposals:
        proposal["theme_label"] = texts.label(language, "theme", proposal["theme"])
    sections: dict[str, list[Any]] = {
        "profile": [member.model_dump(mode="json")],
        "association": [association.model_dump(mode="json")] if association else [],
        "consent_history": [
            event.model_dump(mode="json")
            for event in await store.members.consent_history(member.id)
        ],
        "roles": [
            grant.model_dump(mode="json") for grant in await store.roles.of_member(member.id)
        ],
        "role_changes": [
            entry.model_dump(mode="json")
            for entry in await store.audit.about(f"member:{member.id}")
        ],
        "notices_received": await reader.notices(member.id),
        "surveys": await _surveys(store, member, forms),
        "record": _record(texts, language, await reader.record_entries(pseudonyms), forms),
        "proposals": proposals,
        "meetings": await _meetings(store, member),
        "conversation": [conversation.model_dump(mode="json")] if conversation else [],
        "associations_proposed": await reader.associations_proposed(member.id),
        "operator": operators,
    }
    acts = await reader.acts(member.id, member.telegram_id, pseudonyms)
    sections.update({f"acts.{kind}": acts[kind] for kind in ACTS if acts.get(kind)})
    return {
        "title": texts.plain(language, "mydata.title"),
        "language": language,
        "pseudonym": member.pseudonym,
        "generated_at": now.isoformat(),
        "sections": {
            key: {"heading": texts.plain(language, f"mydata.section.{key}"), "items": items}
            for key, items in sections.items()
        },
    }


async def free_text_questions(store: Store, member: Member) -> dict[int, frozenset[str]]:
    """For each survey the member answered whose form reads, its free-text questions."""
    reader = store.personal
    forms = await _forms(store, await reader.survey_ids(member.id, member.pseudonym))
    return {
        survey_id: frozenset(q.name for q in form.questions if q.type in FREE_TEXT_TYPES)
        for survey_id, (_, form) in forms.items()
        if form is not None
    }


async def erase(store: Store, member: Member, notice_version: str) -> None:
    """Withdraw consent, cut every link to the person and empty what they typed."""
    free_text = await free_text_questions(store, member)
    await store.members.erase(member.id, notice_version, "telegram", free_text)
