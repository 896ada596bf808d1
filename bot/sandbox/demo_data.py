"""The sandbox's first start: associations, the demo's members, a meeting and an open survey.

Everything goes through the services the chat and the CLI use (the associations through the
same CSV import as `consultbot demo`), so the data is what a real programme would hold.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from bot.context import Services
from bot.sandbox.demo import DEMO_ASSOCIATIONS
from bot.services.meeting_rules import MeetingRequest
from bot.services.stepkit import SharedContact
from storage.models import AudienceFilter, Member

from .people import COORDINATOR, STAFF, SandboxPerson

logger = logging.getLogger(__name__)
EXAMPLE_FORM = DEMO_ASSOCIATIONS.parent / "consultation_round1.xlsx"
# Far enough ahead that "jump to 1 h before the next meeting" shows the reminders.
MEETING_IN_DAYS = 3


@dataclass(frozen=True)
class Seeded:
    associations: int
    members: int
    meeting_id: int
    survey_id: int | None


async def register(services: Services, person: SandboxPerson) -> Member:
    """Register a demo member step by step, as their answers in chat would (consent first)."""
    profile = person.profile
    if profile is None:
        raise ValueError(f"{person.name} has no profile to register")
    registration = services.registration
    member = await registration.consent(person.id, person.username, person.language)
    typed = {
        "name": person.name,
        "country": profile.country,
        "region": profile.region,
        "city": profile.city,
        "zone": person.zone,
        "sector": profile.sector,
    }
    for _ in range(len(typed) + 8):  # each answer moves one step; never loop for ever
        step = member.step
        if step is None or member.status == "active":
            return member
        if step == "association":
            choices = await registration.association_choices(member, profile.association)
            chosen = next((a for a in choices if a.name == profile.association), None)
            if chosen is None:  # no registry (examples/ not installed): "no association"
                member = await registration.extra_button(member, 1)
            else:
                member = await registration.answer(member, step, str(chosen.id))
        elif step == "themes":
            for theme in profile.themes:
                member = await registration.toggle_theme(member, theme)
            member = await registration.answer(member, step, "done")
        elif step == "phone":
            shared = SharedContact(person.phone, person.id)
            member = await registration.answer(member, step, shared)
        elif step == "email":
            member = await registration.answer(member, step, None)
        elif step == "summary":
            member = await registration.answer(member, step, "confirm")
        else:
            member = await registration.answer(member, step, typed[step])
    raise RuntimeError(f"registration of {person.name} did not finish (at {member.step})")


async def seed(services: Services, people: list[SandboxPerson]) -> Seeded:
    """Fill a new sandbox database; the invitations wait in the outbox for the bot to send."""
    added = 0
    if DEMO_ASSOCIATIONS.exists():  # examples/ comes with a clone, not with a wheel
        text = DEMO_ASSOCIATIONS.read_text(encoding="utf-8")
        added = (await services.registration.import_associations(text)).added
    members = [await register(services, person) for person in people if person.profile]
    coordinator = await services.roles.find_member(str(COORDINATOR.id))
    if coordinator is None:
        raise RuntimeError("the demo coordinator did not register")
    staff_actor = await services.people.actor_of(STAFF.id)
    await services.roles.grant(coordinator, "coordinator", "", staff_actor)
    meeting_id = await _meeting(services, await services.people.actor_of(COORDINATOR.id))
    survey_id = await _survey(services, staff_actor)
    logger.info("Sandbox demo data: %d members, meeting #%d", len(members), meeting_id)
    return Seeded(added, len(members), meeting_id, survey_id)


async def _meeting(services: Services, organiser: str) -> int:
    """A national meeting in a few days, 18:00 in Houston, with reminders 24 h and 1 h before."""
    zone = COORDINATOR.zone
    day = services.clock.now().astimezone(ZoneInfo(zone)) + timedelta(days=MEETING_IN_DAYS)
    request = MeetingRequest(
        titles={
            "es": "Consulta nacional: ronda 1",
            "en": "National consultation: round 1",
            "fr": "Consultation nationale : ronde 1",
        },
        descriptions={
            "es": "Presentamos el diagnóstico y escuchamos sus prioridades.",
            "en": "We present the diagnosis and hear your priorities.",
            "fr": "Nous présentons le diagnostic et écoutons vos priorités.",
        },
        kind="national",
        start=f"{day:%Y-%m-%d} 18:00",
        zone=zone,
        duration="90m",
        online_url="https://meet.example.org/consulta-ronda-1",
        reminders="24h,1h",
        audience=AudienceFilter(),
        round=services.config.programme.rounds[0] if services.config.programme.rounds else None,
    )
    meeting = await services.meetings.create(request, organiser)
    await services.meetings.invite(meeting)
    return meeting.id


async def _survey(services: Services, actor: str) -> int | None:
    """The example XLSForm, loaded and opened to every member for two weeks."""
    if not EXAMPLE_FORM.exists():
        return None
    round_ = services.config.programme.rounds[0] if services.config.programme.rounds else None
    outcome = await services.surveys.load_file(Path(EXAMPLE_FORM), actor, round_, None)
    if outcome.survey is None:
        logger.warning("The example form was refused: %s", "; ".join(outcome.errors))
        return None
    closes: datetime = services.clock.now() + timedelta(days=14)
    await services.surveys.open(outcome.survey.id, AudienceFilter(), closes_at=closes)
    return outcome.survey.id
