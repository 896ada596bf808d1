"""Who an audience filter selects: SQL fragments shared by broadcasts and meetings."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from storage.db import Dialect
from storage.models import AudienceFilter


@dataclass(frozen=True)
class _Sql:
    """What differs between the backends: reading a member's themes (a JSON array as text)."""

    # Members whose themes include one of the values in `{values}` ("?, ?, ...").
    any_theme: str
    # A field as it stood before an edit still under way (`{field}`), else NULL.
    before_edit: str


_SQLITE = _Sql(
    any_theme="EXISTS (SELECT 1 FROM json_each(m.themes) WHERE json_each.value IN ({values}))",
    before_edit="json_extract(m.edit_backup, '$.{field}')",
)
_POSTGRES = _Sql(
    any_theme="EXISTS (SELECT 1 FROM json_array_elements_text(CAST(m.themes AS json)) AS t(value)"
    " WHERE t.value IN ({values}))",
    before_edit="(CAST(m.edit_backup AS json) ->> '{field}')",
)


def _settled(sql: _Sql, field: str) -> str:
    """The member's `field` as it stands outside an edit: a member halfway through changing
    their place still lives where they said they did until they confirm the change."""
    before = sql.before_edit.format(field=field)
    return f"(CASE WHEN m.editing = 1 THEN COALESCE({before}, m.{field}) ELSE m.{field} END)"


_BY_DIALECT: dict[Dialect, _Sql] = {"sqlite": _SQLITE, "postgresql": _POSTGRES}


def rsvp_member_ids_sql(meeting_id: int, answers: Sequence[str]) -> tuple[str, list[Any]]:
    """An SQL fragment `m.id IN (...)` for audiences: members who answered one of `answers`.

    Answer 'yes' means a confirmed seat (not waitlisted); 'waitlist' selects waitlisted Yes;
    'attended' selects those checked in. Use it with the members table aliased as `m`.
    """
    clauses: list[str] = []
    for answer in answers:
        if answer == "yes":
            clauses.append("(r.answer = 'yes' AND r.waitlist_position IS NULL)")
        elif answer == "waitlist":
            clauses.append("(r.answer = 'yes' AND r.waitlist_position IS NOT NULL)")
        elif answer in ("maybe", "no"):
            clauses.append(f"r.answer = '{answer}'")
        elif answer == "attended":
            clauses.append("r.checked_in_at IS NOT NULL")
        else:
            raise ValueError(f"unknown answer {answer!r}")
    condition = " OR ".join(clauses) or "1 = 0"
    return (
        f"m.id IN (SELECT r.member_id FROM rsvps r WHERE r.meeting_id = ? AND ({condition}))",
        [meeting_id],
    )


def audience_sql(audience: AudienceFilter, dialect: Dialect = "sqlite") -> tuple[str, list[Any]]:
    """`FROM members m WHERE ...` and its parameters: the reachable members `audience` selects.

    `dialect` is the backend's (`Database.dialect`): a themes filter reads JSON differently.
    """
    sql = _BY_DIALECT[dialect]
    clauses = [
        "m.status = 'active'",
        "m.telegram_id IS NOT NULL",
        "m.unreachable = 0",
    ]
    parameters: list[Any] = []

    def any_of(column: str, values: Sequence[Any]) -> None:
        clauses.append(f"{column} IN ({', '.join('?' for _ in values)})")
        parameters.extend(values)

    if audience.countries:
        any_of(_settled(sql, "country"), audience.countries)
    if audience.regions:
        any_of(f"{_settled(sql, 'country')} || '-' || {_settled(sql, 'region')}", audience.regions)
    if audience.cities:
        any_of(f"lower({_settled(sql, 'city')})", [city.lower() for city in audience.cities])
    if audience.association_ids:
        any_of("m.association_id", audience.association_ids)
    if audience.sectors:
        any_of("m.sector", audience.sectors)
    if audience.themes:
        clauses.append(sql.any_theme.format(values=", ".join("?" for _ in audience.themes)))
        parameters.extend(audience.themes)
    if audience.roles:
        clauses.append(
            "EXISTS (SELECT 1 FROM roles r WHERE r.member_id = m.id AND r.role IN"
            f" ({', '.join('?' for _ in audience.roles)}))"
        )
        parameters.extend(audience.roles)
    if audience.meeting_id is not None:
        fragment, values = rsvp_member_ids_sql(
            audience.meeting_id, audience.meeting_answers or ("yes",)
        )
        clauses.append(fragment)
        parameters.extend(values)
    return "FROM members m WHERE " + " AND ".join(clauses), parameters
