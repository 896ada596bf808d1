"""A member's profile as they read it: every stored value escaped, the zone as people say it."""

from __future__ import annotations

from bot.context import BotContext
from bot.i18n import Texts
from bot.services import regions
from bot.services.zones import member_zone
from storage.models import Association, Member


def render_profile(
    texts: Texts, member: Member, association_found: Association | None, title_key: str
) -> str:
    """The profile as HTML under a title (the association already looked up)."""
    language = member.language
    none = texts.get(language, "value.none")

    def line(field: str, value: str | None) -> str:
        # "Nom :" in French, "Name:" elsewhere: the catalog places the colon; get() escapes value.
        label = texts.plain(language, f"field.{field}")
        return texts.get(language, "field.line", field=label, value=value or none)

    found = regions.region(member.country or "", member.region or "")
    place_parts = [member.city, found.name_in(language) if found else None]
    place = ", ".join(part for part in place_parts if part)
    if member.country:
        place = f"{place} ({texts.get(language, f'country.{member.country}')})"
    association = texts.get(language, "value.no_association") if member.association_none else None
    if member.association_id is not None and association_found is not None:
        association = association_found.name
        if association_found.status == "pending":
            association += " " + texts.get(language, "value.pending")
    themes = ", ".join(texts.label(language, "theme", key) for key in member.themes)
    lines = [
        texts.get(language, title_key),
        "",
        line("name", member.name),
        line("place", place or None),
        line(
            "zone",
            member_zone(member.time_zone, language, member.country, member.region)
            if member.time_zone
            else None,
        ),
        line("association", association),
        line("sector", texts.label(language, "sector", member.sector) if member.sector else None),
        line("themes", themes or None),
        line("email", member.email),
        line("phone", member.phone),
        line("language", texts.get(language, f"language.name.{language}")),
    ]
    return "\n".join(lines)


async def profile_text(context: BotContext, member: Member, title_key: str) -> str:
    """The member's profile as HTML, their association looked up."""
    association = None
    if member.association_id is not None:
        association = await context.services.registration.association(member.association_id)
    return render_profile(context.services.texts, member, association, title_key)
