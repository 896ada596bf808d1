"""Proposals: a member's free text to a thematic group, kept in the record with its provenance."""

from __future__ import annotations

import unicodedata

from bot.clock import Clock
from bot.config import Config
from bot.services.errors import InputError, clean_text
from bot.services.permissions import Permission, allows, themes_of
from storage import Store
from storage.models import Member
from storage.record import Proposal

MIN_TEXT = 3
MAX_TEXT = 2000
LATEST = 20


def clean_proposal(text: str | None) -> str:
    """Validate a proposal: 3–2,000 characters with a letter; line breaks kept."""
    if text is None or not text.strip():
        raise InputError("error.empty")
    # The length first, of the text as typed: a long single line would otherwise be refused by the
    # line check below without saying how long the proposal is.
    typed = len(text.strip())
    if typed > MAX_TEXT:
        raise InputError("prop.error.length", minimum=MIN_TEXT, maximum=MAX_TEXT, length=typed)
    lines = [
        clean_text(line, MAX_TEXT, need_letter=False) if line.strip() else ""
        for line in text.strip().splitlines()
    ]
    cleaned = unicodedata.normalize("NFC", "\n".join(lines))
    if not MIN_TEXT <= len(cleaned) <= MAX_TEXT:
        raise InputError(
            "prop.error.length", minimum=MIN_TEXT, maximum=MAX_TEXT, length=len(cleaned)
        )
    if not any(unicodedata.category(char).startswith("L") for char in cleaned):
        raise InputError("prop.error.no_letters")
    return cleaned


class ProposalsService:
    def __init__(self, store: Store, config: Config, clock: Clock) -> None:
        self._record = store.record
        self._config = config
        self._clock = clock

    def themes(self) -> tuple[str, ...]:
        return self._config.programme.thematic_groups

    def current_round(self) -> str | None:
        """The round proposals are filed under: the latest configured one."""
        rounds = self._config.programme.rounds
        return rounds[-1] if rounds else None

    async def submit(self, member: Member, theme: str, text: str) -> Proposal:
        """Store a member's proposal (and its record entry) for a configured theme."""
        if member.status != "active":
            raise InputError("profile.not_registered")
        if theme not in self.themes():
            raise InputError(
                "prop.list.unknown_theme", theme=theme, themes=", ".join(self.themes())
            )
        return await self._record.add_proposal(
            member,
            theme,
            clean_proposal(text),
            member.language,
            self._clock.now(),
            self.current_round(),
        )

    @staticmethod
    def viewable_themes(grants: list[tuple[str, str]]) -> set[str] | None:
        """None: every theme; else the themes this person may read (may be empty)."""
        if allows(grants, Permission.VIEW_PROPOSALS):
            return None
        return {t for t in themes_of(grants) if allows(grants, Permission.VIEW_PROPOSALS, t)}

    async def latest(
        self, grants: list[tuple[str, str]], theme: str | None = None, limit: int = LATEST
    ) -> list[Proposal] | None:
        """The latest proposals this person may read (of `theme` if given); None: not allowed."""
        allowed = self.viewable_themes(grants)
        if allowed is not None and (not allowed or (theme is not None and theme not in allowed)):
            return None
        if theme is not None and theme not in self.themes():
            raise InputError(
                "prop.list.unknown_theme", theme=theme, themes=", ".join(self.themes())
            )
        wanted = {theme} if theme is not None else allowed
        return await self._record.proposals(wanted, limit)
