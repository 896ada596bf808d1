"""Inline and reply keyboards: classic buttons via bot.callbacks, registration's via the engine."""

from __future__ import annotations

from collections.abc import Sequence

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, KeyboardButton, ReplyKeyboardMarkup

from bot.callbacks import button_data
from bot.i18n import LANGUAGES, Texts
from bot.services.registration_steps import EDITABLE, FLOW, SEQ
from bot.services.stepkit import Press
from storage.models import Association, Member


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
        # Each language named in itself (the catalogs write it in running-text case: "español").
        name = texts.get(code, f"language.name.{code}")
        label = name[:1].upper() + name[1:]
        buttons.append(_button(("✓ " if code == preselected else "") + label, "lang", action, code))
    return InlineKeyboardMarkup([buttons])


def consent(texts: Texts, language: str) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        [
            [_button(texts.get(language, "button.accept"), "consent", "yes", language)],
            [_button(texts.get(language, "button.decline"), "consent", "no", language)],
        ]
    )


def share_phone(texts: Texts, language: str) -> ReplyKeyboardMarkup:
    return ReplyKeyboardMarkup(
        [
            [KeyboardButton(texts.get(language, "button.share_phone"), request_contact=True)],
            [KeyboardButton(texts.get(language, "button.skip"))],
        ],
        resize_keyboard=True,
        one_time_keyboard=True,
    )


def step_button(
    text: str, step: str, action: str, index: int | None = None
) -> InlineKeyboardButton:
    """A registration button in the step engine's format, numbered for the step it belongs to."""
    data = Press(FLOW, SEQ[step], action, index).encode()
    return InlineKeyboardButton(text, callback_data=data)


def summary(texts: Texts, member: Member) -> InlineKeyboardMarkup:
    language = member.language
    edits = [
        step_button(texts.get(language, f"button.edit.{group}"), "summary", "e", index)
        for index, group in enumerate(EDITABLE)
    ]
    rows = _rows(edits, 2)
    if member.status == "registering":
        rows.append([step_button(texts.get(language, "button.confirm"), "summary", "d")])
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
