"""How the step engine draws a question's choices as buttons, and takes buttons off again.

A short list shows every choice; a long one (a step with ``page_size``) a page at a time with
arrows to the pages either side, and a search shows what it found. Telegram draws at most 100
inline buttons and about 10 kB of keyboard (it answers "reply markup is too long"), so a long
list is never drawn whole. Button data is the engine's, ``v1:<flow>:<seq>:<action>[:<index>]``
(`bot.services.stepkit.Press`); a choice's index is its position in the whole list, so a press
means the same whichever page or search showed it.
"""

from __future__ import annotations

import html
import logging
from collections.abc import Sequence
from dataclasses import dataclass

from telegram import (
    CallbackQuery,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    Message,
    ReplyKeyboardMarkup,
)
from telegram.error import BadRequest

from bot.services.stepkit import Press, Step, StepView

logger = logging.getLogger(__name__)

Markup = InlineKeyboardMarkup | ReplyKeyboardMarkup | None
Rows = list[list[InlineKeyboardButton]]
# What a closed question shows of a long multiple choice (the whole answer is in the review).
CHOSEN_SHOWN = 300


@dataclass(frozen=True)
class Labels:
    """The catalog keys of the engine's own buttons (cancel None: no Cancel button)."""

    done: str = "steps.done"
    back: str = "steps.back"
    skip: str = "steps.skip"
    cancel: str | None = "steps.cancel"
    previous_page: str = "button.previous_page"
    next_page: str = "button.next_page"


def engine_button(
    flow: str, label: str, seq: int, action: str, index: int | None = None
) -> InlineKeyboardButton:
    """One of a flow's buttons, numbered for the question it belongs to."""
    return InlineKeyboardButton(label, callback_data=Press(flow, seq, action, index).encode())


def page_of(step: Step, position: int) -> int:
    """The page a choice is drawn on (0 for a list drawn whole)."""
    return position // step.page_size if step.page_size else 0


def choice_rows(
    flow: str,
    labels: Labels,
    step: Step,
    view: StepView,
    seq: int,
    page: int = 0,
    found: Sequence[int] | None = None,
) -> Rows:
    """A step's choices as rows of buttons: the page asked for, or only the positions `found`.

    A multiple choice ticks what is chosen; its toggles are ``t`` on a page and ``f`` among
    search results, so a toggle redraws the keyboard the person was looking at.
    """
    if step.choices is None or step.kind not in ("choice", "multi"):
        return []
    choices = list(enumerate(step.choices(view)))
    total = len(choices)
    paged = found is None and step.page_size is not None
    if found is not None:
        choices = [choices[position] for position in found if 0 <= position < total]
    elif step.page_size is not None:
        pages = max(1, -(-total // step.page_size))
        page = min(max(page, 0), pages - 1)
        choices = choices[page * step.page_size : (page + 1) * step.page_size]
    selected = set(view.values.get(step.key) or ()) if step.kind == "multi" else set()
    toggle = "f" if found is not None else "t"
    buttons = []
    for index, choice in choices:
        if step.kind == "multi":
            mark = "☑️ " if choice.value in selected else "⬜ "
            buttons.append(engine_button(flow, mark + choice.label, seq, toggle, index))
        else:
            number = int(choice.value) if step.index_is_value else index
            buttons.append(engine_button(flow, choice.label, seq, "c", number))
    columns = max(1, step.columns)
    rows = [buttons[i : i + columns] for i in range(0, len(buttons), columns)]
    if paged and step.page_size is not None:
        texts, language = view.texts, view.language
        arrows = []
        if page > 0:
            label = texts.plain(language, labels.previous_page)
            arrows.append(engine_button(flow, label, seq, "p", page - 1))
        if (page + 1) * step.page_size < total:
            label = texts.plain(language, labels.next_page)
            arrows.append(engine_button(flow, label, seq, "p", page + 1))
        if arrows:
            rows.append(arrows)
    return rows


def found_on(message: Message) -> list[int]:
    """The positions of the choices a search result shows (read from its own buttons)."""
    markup = message.reply_markup
    if markup is None:
        return []
    found = []
    for row in markup.inline_keyboard:
        for button in row:
            press = Press.parse(
                button.callback_data if isinstance(button.callback_data, str) else None
            )
            if press is not None and press.action == "f" and press.index is not None:
                found.append(press.index)
    return found


async def close_question(message: Message, chosen: str | None = None) -> None:
    """Remove an answered question's buttons (it cannot be answered twice); show the choice."""
    if chosen and len(chosen) > CHOSEN_SHOWN:
        chosen = chosen[: CHOSEN_SHOWN - 1] + "…"
    try:
        if chosen and message.text_html:
            await message.edit_text(
                f"{message.text_html}\n\n✔ <b>{html.escape(chosen, quote=False)}</b>",
                reply_markup=None,
            )
            return
    except BadRequest as error:
        # The question and the choice together too long to show: at least take the buttons off.
        logger.debug("Could not show the choice: %s", error)
    try:
        await message.edit_reply_markup(None)
    except BadRequest as error:
        logger.debug("Could not remove buttons: %s", error)


async def edit_markup(message: Message, markup: Markup) -> None:
    """Redraw a question's buttons in place (pressing twice quickly changes nothing)."""
    if markup is not None and not isinstance(markup, InlineKeyboardMarkup):
        return
    try:
        await message.edit_reply_markup(markup)
    except BadRequest as error:
        if "not modified" not in str(error):
            raise


async def close_keyboard(query: CallbackQuery) -> None:
    """Take the buttons off a pressed message so they cannot be pressed twice."""
    if isinstance(query.message, Message) and query.message.reply_markup is not None:
        await edit_markup(query.message, None)


async def edit_text(query: CallbackQuery, text: str, markup: InlineKeyboardMarkup | None) -> None:
    """Turn the pressed message into this text (pressing twice quickly changes nothing)."""
    try:
        await query.edit_message_text(text, reply_markup=markup)
    except BadRequest as error:
        if "not modified" not in str(error):
            raise
