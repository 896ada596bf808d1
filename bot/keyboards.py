"""Inline and reply keyboards; every button's data comes from bot.callbacks."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, KeyboardButton, ReplyKeyboardMarkup

from bot.callbacks import button_data
from bot.i18n import LANGUAGES, Texts
from bot.services import regions
from bot.services.zones import spoken_zone
from storage.models import Association, Member

REGION_PAGE_SIZE = 18
REGION_COLUMNS = 3


def _rows(
    buttons: Sequence[InlineKeyboardButton], columns: int
) -> list[list[InlineKeyboardButton]]:
    return [list(buttons[start : start + columns]) for start in range(0, len(buttons), columns)]


def _button(text: str, flow: str, action: str, argument: str | int = "") -> InlineKeyboardButton:
    return InlineKeyboardButton(text, callback_data=button_data(flow, action, argument))


def languages(texts: Texts, preselected: str, action: str) -> InlineKeyboardMarkup:
    """One button per language, the preselected one first and ticked."""
    ordered = [preselected, *[code for code in LANGUAGES if code != preselected]]
    buttons = []
    for code in ordered:
        label = texts.get(code, f"language.name.{code}")
        buttons.append(_button(("✓ " if code == preselected else "") + label, "lang", action, code))
    return InlineKeyboardMarkup([buttons])


def consent(texts: Texts, language: str) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        [
            [_button(texts.get(language, "button.accept"), "consent", "yes", language)],
            [_button(texts.get(language, "button.decline"), "consent", "no", language)],
        ]
    )


def with_back(
    texts: Texts, language: str, step: str, rows: list[list[InlineKeyboardButton]] | None = None
) -> InlineKeyboardMarkup:
    """Add a Back button that belongs to this step (pressed later, it is recognised as stale)."""
    back = _button(texts.get(language, "button.back"), "reg", "back", step)
    return InlineKeyboardMarkup([*(rows or []), [back]])


def countries(texts: Texts, language: str) -> InlineKeyboardMarkup:
    buttons = [
        _button(texts.get(language, f"country.{c}"), "reg", "country", c) for c in regions.COUNTRIES
    ]
    return with_back(texts, language, "country", [buttons])


def region_page_count(country: str) -> int:
    total = len(regions.regions_of(country))
    return max(1, -(-total // REGION_PAGE_SIZE))


def region_page(texts: Texts, language: str, country: str, page: int) -> InlineKeyboardMarkup:
    """One page of provinces/states, with paging buttons."""
    places = regions.regions_of(country)
    pages = region_page_count(country)
    page = min(max(page, 0), pages - 1)
    chunk = places[page * REGION_PAGE_SIZE : (page + 1) * REGION_PAGE_SIZE]
    rows = _rows(
        [_button(place.name, "reg", "region", place.code) for place in chunk], REGION_COLUMNS
    )
    paging = []
    if page > 0:
        paging.append(
            _button(texts.get(language, "button.previous_page"), "reg", "rpage", page - 1)
        )
    if page + 1 < pages:
        paging.append(_button(texts.get(language, "button.next_page"), "reg", "rpage", page + 1))
    if paging:
        rows.append(paging)
    return with_back(texts, language, "region", rows)


def zones(
    texts: Texts, language: str, choices: Sequence[str], now: datetime
) -> InlineKeyboardMarkup:
    """One button per candidate zone, labelled with the clock it shows now."""
    rows = []
    for index, zone in enumerate(choices):
        clock = regions.local_time(zone, now).strftime("%H:%M")
        label = texts.get(language, "zone.option", time=clock, label=spoken_zone(zone, language))
        rows.append([_button(label, "reg", "zone", index)])
    return with_back(texts, language, "zone", rows)


def associations(
    texts: Texts, language: str, choices: Sequence[Association]
) -> InlineKeyboardMarkup:
    rows = [
        [_button(association.name[:60], "reg", "assoc", association.id)] for association in choices
    ]
    rows.append(
        [
            _button(texts.get(language, "button.not_listed"), "reg", "assoc_new"),
            _button(texts.get(language, "button.no_association"), "reg", "assoc_none"),
        ]
    )
    return with_back(texts, language, "association", rows)


def sectors(texts: Texts, language: str, keys: Sequence[str]) -> InlineKeyboardMarkup:
    rows = [[_button(texts.label(language, "sector", key), "reg", "sector", key)] for key in keys]
    return with_back(texts, language, "sector", rows)


def themes(
    texts: Texts, language: str, keys: Sequence[str], chosen: Sequence[str]
) -> InlineKeyboardMarkup:
    rows = []
    for key in keys:
        tick = "☑️ " if key in chosen else "⬜ "
        rows.append([_button(tick + texts.label(language, "theme", key), "reg", "theme", key)])
    rows.append([_button(texts.get(language, "button.done"), "reg", "themes_done")])
    return with_back(texts, language, "themes", rows)


def optional_text(texts: Texts, language: str, step: str) -> InlineKeyboardMarkup:
    skip = _button(texts.get(language, "button.skip"), "reg", "skip", step)
    return with_back(texts, language, step, [[skip]])


def share_phone(texts: Texts, language: str) -> ReplyKeyboardMarkup:
    return ReplyKeyboardMarkup(
        [
            [KeyboardButton(texts.get(language, "button.share_phone"), request_contact=True)],
            [KeyboardButton(texts.get(language, "button.skip"))],
        ],
        resize_keyboard=True,
        one_time_keyboard=True,
    )


EDITABLE = ("name", "place", "association", "sector", "themes", "email", "phone")


def summary(texts: Texts, member: Member) -> InlineKeyboardMarkup:
    language = member.language
    edits = [
        _button(texts.get(language, f"button.edit.{field}"), "reg", "edit", field)
        for field in EDITABLE
    ]
    rows = _rows(edits, 2)
    if member.status == "registering":
        rows.append([_button(texts.get(language, "button.confirm"), "reg", "confirm")])
    else:
        rows.append([_button(texts.get(language, "button.done"), "prof", "done")])
    return InlineKeyboardMarkup(rows)


def delete_confirmation(texts: Texts, language: str) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        [
            [_button(texts.get(language, "button.delete_yes"), "del", "yes")],
            [_button(texts.get(language, "button.delete_no"), "del", "no")],
        ]
    )


def pending_association(
    texts: Texts, language: str, pending: Association, similar: Sequence[Association]
) -> InlineKeyboardMarkup:
    rows = [[_button(texts.get(language, "admin.button_approve"), "adm", "approve", pending.id)]]
    for target in similar:
        label = texts.plain(language, "admin.button_merge", name=target.name[:40])
        rows.append([_button(label, "adm", "merge", f"{pending.id}:{target.id}")])
    return InlineKeyboardMarkup(rows)
