"""Registration and profile rules: steps, their order, and what each step accepts. No Telegram."""

from __future__ import annotations

import json
import re
from typing import Any

from bot.clock import Clock
from bot.config import Config
from bot.i18n import Texts
from bot.services import associations, members, regions
from bot.services.errors import InputError, clean_text
from bot.services.registration_steps import (
    BY_KEY,
    EDIT_FIELDS,
    EDIT_GROUPS,
    REGION_EXAMPLES,
    STEPS,
    group_of,
)
from bot.services.stepkit import SharedContact
from storage import Store
from storage.models import Association, Member

_EMAIL = re.compile(
    r"^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]{1,64}@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}$"
)
NAME_MAX = 80
ASSOCIATION_MAX = 120


def clean_email(text: str | None) -> str:
    if text is None or not text.strip():
        raise InputError("error.empty")
    candidate = text.strip()
    if len(candidate) > 254 or not _EMAIL.match(candidate):
        raise InputError("error.email")
    return candidate.lower()


def profile_complete(member: Member) -> bool:
    """Whether every required answer of registration is there."""
    required = (member.name, member.country, member.region, member.city, member.time_zone)
    has_association = member.association_id is not None or member.association_none
    return all(required) and has_association and bool(member.sector) and bool(member.themes)


def steps_for(member: Member) -> tuple[str, ...]:
    """The steps this member walks now: the whole path, or one edit group."""
    if member.editing and member.step is not None:
        current = group_of(member.step)
        for group in EDIT_GROUPS.values():
            if current in group:
                return group
    return STEPS


class RegistrationService:
    """Moves a member through the steps, storing every accepted answer at once."""

    def __init__(self, store: Store, config: Config, clock: Clock) -> None:
        self._store = store
        self._config = config
        self._clock = clock

    @property
    def notice_version(self) -> str:
        return self._config.programme.privacy_notice_version

    @property
    def sectors(self) -> tuple[str, ...]:
        return self._config.programme.sectors

    @property
    def themes(self) -> tuple[str, ...]:
        return self._config.programme.thematic_groups

    async def member(self, telegram_id: int) -> Member | None:
        """The live (not deleted) member behind a Telegram id."""
        member = await self._store.members.by_telegram_id(telegram_id)
        return member if member and member.status != "deleted" else None

    async def consent(self, telegram_id: int, username: str | None, language: str) -> Member:
        existing = await self.member(telegram_id)
        if existing is not None:
            return existing
        return await self._store.members.create_with_consent(
            telegram_id, username, language, self.notice_version, "telegram", STEPS[0]
        )

    async def _advance(self, member: Member, fields: dict[str, Any]) -> Member:
        """Store the answer and move to the next step of the current path."""
        path = steps_for(member)
        current = group_of(member.step or "")
        index = path.index(current) if current in path else -1
        following = path[index + 1] if index + 1 < len(path) else None
        if following is not None and BY_KEY[following].auto_single:
            country, code = (
                fields.get("country", member.country),
                fields.get("region", member.region),
            )
            place = regions.region(country or "", code or "")
            if place is not None and len(place.zones) == 1:
                fields["time_zone"] = place.zones[0]
                following = path[index + 2] if index + 2 < len(path) else None
        if following is None:
            fields.update(self._finish_edit(member))
        else:
            fields["step"] = following
        return await self._store.members.update(member.id, fields)

    def _finish_edit(self, member: Member) -> dict[str, Any]:
        if member.status == "active":
            return {"step": None, "editing": False, "edit_backup": None}
        return {"step": "summary", "editing": False, "edit_backup": None}

    async def back(self, member: Member) -> Member:
        """Return to the previous step (skipping an automatic time zone)."""
        if member.step is not None and group_of(member.step) != member.step:
            return await self._store.members.update(member.id, {"step": group_of(member.step)})
        path = steps_for(member)
        index = path.index(member.step) if member.step in path else 0
        if index == 0:
            return await self.cancel_edit(member) if member.editing else member
        previous = path[index - 1]
        if BY_KEY[previous].auto_single:
            place = regions.region(member.country or "", member.region or "")
            if place is not None and len(place.zones) == 1:
                previous = path[index - 2]
        return await self._store.members.update(member.id, {"step": previous})

    async def set_name(self, member: Member, text: str | None) -> Member:
        return await self._advance(member, {"name": clean_text(text, NAME_MAX)})

    async def set_country(self, member: Member, country: str) -> Member:
        if country not in regions.COUNTRIES:
            raise InputError("error.choose_button")
        fields: dict[str, Any] = {"country": country}
        if country != member.country:
            # Region and zone belong to the country; an association may span borders, so it stays.
            fields.update({"region": None, "time_zone": None})
        return await self._advance(member, fields)

    async def set_region(self, member: Member, code_or_name: str | None) -> Member:
        if member.country is None:
            raise InputError("error.choose_button")
        text = (code_or_name or "").strip()
        place = regions.region(member.country, text) or regions.find_region(member.country, text)
        if place is None:
            first, second = REGION_EXAMPLES.get(member.country, REGION_EXAMPLES["US"])
            raise InputError("error.region_unknown", first=first, second=second)
        fields: dict[str, Any] = {"region": place.code}
        if place.code != member.region:
            fields["time_zone"] = None
        return await self._advance(member, fields)

    async def set_city(self, member: Member, text: str | None) -> Member:
        return await self._advance(member, {"city": clean_text(text, NAME_MAX)})

    def zone_choices(self, member: Member) -> tuple[str, ...]:
        place = regions.region(member.country or "", member.region or "")
        return place.zones if place else ()

    async def set_zone(self, member: Member, zone: str) -> Member:
        if zone not in self.zone_choices(member):
            raise InputError("error.choose_button")
        return await self._advance(member, {"time_zone": zone})

    async def association_choices(self, member: Member, search: str = "") -> list[Association]:
        return await self._store.associations.search(member.country or "US", member.region, search)

    async def search_associations(self, member: Member, text: str | None) -> list[Association]:
        return await self.association_choices(member, clean_text(text, ASSOCIATION_MAX, False))

    async def set_association(self, member: Member, association_id: int) -> Member:
        association = await self._store.associations.by_id(association_id)
        if association is None or association.status != "approved":
            raise InputError("error.choose_button")
        return await self._advance(
            member, {"association_id": association.id, "association_none": False}
        )

    async def ask_new_association(self, member: Member) -> Member:
        return await self._store.members.update(member.id, {"step": "association_new"})

    async def propose_association(self, member: Member, text: str | None) -> Member:
        """Keep a typed association name as pending, for an admin to approve or merge."""
        name = clean_text(text, ASSOCIATION_MAX)
        association = await self._store.associations.add(
            name,
            member.country or "US",
            member.region,
            member.city,
            status="pending",
            proposed_by=member.id,
        )
        return await self._advance(
            member, {"association_id": association.id, "association_none": False}
        )

    async def set_no_association(self, member: Member) -> Member:
        return await self._advance(member, {"association_id": None, "association_none": True})

    async def set_sector(self, member: Member, sector: str) -> Member:
        if sector not in self.sectors:
            raise InputError("error.choose_button")
        return await self._advance(member, {"sector": sector})

    async def toggle_theme(self, member: Member, theme: str) -> Member:
        if theme not in self.themes:
            raise InputError("error.choose_button")
        chosen = list(member.themes)
        if theme in chosen:
            chosen.remove(theme)
        else:
            chosen.append(theme)
        ordered = tuple(key for key in self.themes if key in chosen)
        return await self._store.members.update(member.id, {"themes": ordered})

    async def finish_themes(self, member: Member) -> Member:
        if not member.themes:
            raise InputError("error.themes_none")
        return await self._advance(member, {})

    async def set_email(self, member: Member, text: str | None) -> Member:
        return await self._advance(member, {"email": clean_email(text)})

    async def skip(self, member: Member) -> Member:
        """Skip an optional step (email or phone), clearing what it held."""
        if member.step == "email":
            return await self._advance(member, {"email": None})
        if member.step == "phone":
            return await self._advance(member, {"phone": None})
        raise InputError("error.choose_button")

    async def set_phone(self, member: Member, phone: str, owner_id: int | None) -> Member:
        """Accept a phone only from Telegram's share-contact button, and only the member's own."""
        if owner_id != member.telegram_id:
            raise InputError("error.phone_not_own")
        digits = "".join(ch for ch in phone if ch.isdigit())
        if not 7 <= len(digits) <= 15:
            raise InputError("error.phone")
        return await self._advance(member, {"phone": "+" + digits})

    # ---- one entry for every answer; which setter applies comes from the step's declaration ----
    async def answer(self, member: Member, key: str, value: Any) -> Member:
        """The answer to the member's current step `key` (typed, chosen, shared or skipped)."""
        if key != member.step and not (key == "summary" and member.step is None):
            raise InputError("error.stale")
        step = BY_KEY.get(key)
        if step is None:
            raise InputError("error.choose_button")
        if value is None and step.optional:
            return await self.skip(member)
        setter = step.setter
        if setter == "review":
            return await self.confirm(member)
        if setter == "themes":
            return await self.finish_themes(member)
        if setter == "phone" and isinstance(value, SharedContact):
            return await self.set_phone(member, value.phone, value.owner_id)
        if not isinstance(value, str):
            raise InputError("error.choose_button")
        if setter == "association":
            if not value.isdigit():
                raise InputError("error.choose_button")
            return await self.set_association(member, int(value))
        text_setters = {
            "name": self.set_name,
            "country": self.set_country,
            "region": self.set_region,
            "city": self.set_city,
            "zone": self.set_zone,
            "association_new": self.propose_association,
            "sector": self.set_sector,
            "email": self.set_email,
        }
        found = text_setters.get(setter)
        if found is None:
            raise InputError("error.choose_button")
        return await found(member, value)

    async def extra_button(self, member: Member, index: int) -> Member:
        """One of a step's own extra buttons (the association step's 'not listed' and 'none')."""
        if member.step == "association" and index == 0:
            return await self.ask_new_association(member)
        if member.step == "association" and index == 1:
            return await self.set_no_association(member)
        raise InputError("error.choose_button")

    async def edit(self, member: Member, field: str) -> Member:
        if field not in EDIT_GROUPS:
            raise InputError("error.choose_button")
        backup = {name: getattr(member, name) for name in EDIT_FIELDS[field]}
        if "themes" in backup:
            backup["themes"] = list(backup["themes"])
        return await self._store.members.update(
            member.id,
            {"step": EDIT_GROUPS[field][0], "editing": True, "edit_backup": json.dumps(backup)},
        )

    async def confirm(self, member: Member) -> Member:
        if member.status != "registering" or member.step != "summary":
            raise InputError("error.stale")
        if not profile_complete(member):
            # Never an active member without the place, zone, sector and themes the record needs.
            raise InputError("error.stale")
        return await self._store.members.update(
            member.id,
            {
                "status": "active",
                "step": None,
                "editing": False,
                "registered_at": self._clock.now(),
            },
        )

    async def set_language(self, member: Member, language: str) -> Member:
        return await self._store.members.update(member.id, {"language": language})

    async def cancel_edit(self, member: Member) -> Member:
        """Leave an edit and put back what the edited fields held before it began."""
        restored: dict[str, Any] = json.loads(member.edit_backup) if member.edit_backup else {}
        if "themes" in restored:
            restored["themes"] = tuple(restored["themes"])
        return await self._store.members.update(
            member.id, {**restored, **self._finish_edit(member)}
        )

    # ---- the member's own data and the associations registry, for handlers -----------------

    async def association(self, association_id: int) -> Association | None:
        return await self._store.associations.by_id(association_id)

    async def personal_data(self, member: Member, texts: Texts) -> dict[str, Any]:
        """Everything stored about the member, in their language, as one JSON document (/mydata)."""
        return await members.personal_data(self._store, texts, member, self._clock.now())

    async def erase(self, member: Member) -> None:
        """Withdraw consent, cut every link to the person, empty what they typed (/deleteme)."""
        await members.erase(self._store, member, self.notice_version)

    async def import_associations(self, text: str) -> associations.ImportResult:
        """Load associations from CSV text into the registry (already present ones are kept)."""
        return await associations.import_csv(self._store, text)

    async def pending_associations(self) -> list[tuple[Association, list[Association]]]:
        """Each proposed name with the approved associations it might duplicate."""
        return await associations.pending_with_candidates(self._store)

    async def approve_association(self, association_id: int, actor: str) -> bool:
        return await associations.approve(self._store, association_id, actor)

    async def merge_association(self, association_id: int, into_id: int, actor: str) -> bool:
        return await associations.merge(self._store, association_id, into_id, actor)
