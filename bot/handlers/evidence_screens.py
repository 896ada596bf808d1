"""What /evidence shows: clauses, a clause with its evidence, and the items to link, page by page.

Every item is shown by what it says (an answer's text or its choices in the reader's language, a
proposal's text, a meeting's title and date) and where it came from (province/state, country,
sector, day), never by who said it. Buttons: ``v1:evd:<action>[:<part>...]``, built and parsed
by `bot.callbacks.EvidenceButton`; each screen is built from the database when drawn.
"""

from __future__ import annotations

import html
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from babel.dates import format_date
from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bot.callbacks import EvidenceAction, EvidenceButton
from bot.context import BotContext
from bot.i18n import Markup, babel_locale, format_meeting_time
from bot.services.clauses import Page
from bot.services.ics import localized
from bot.services.regions import region as find_region
from bot.services.survey_steps import value_label
from bot.services.xlsform import Form
from storage.evidence import Clause, Item

CLAUSES_PER_PAGE = 8
LINKS_PER_PAGE = 6
ITEMS_PER_PAGE = 5
CLAUSE_SHOWN = 1200
TEXT_SHOWN = 280
# Questions whose answers can be read as evidence: what people typed, and what they chose.
BROWSED_TYPES = ("text", "select_one", "select_multiple")
KIND_LETTERS = {"answer": "a", "proposal": "p", "meeting": "m", "record": "r"}
Screen = tuple[str, InlineKeyboardMarkup | None]


def _button(label: str, action: EvidenceAction, *parts: int | str) -> InlineKeyboardButton:
    """A button labelled `label` that does `action` with its parts (see EvidenceButton)."""
    return InlineKeyboardButton(label, callback_data=EvidenceButton.of(action, *parts).encode())


def cut_words(text: str, limit: int) -> str:
    """One line of at most `limit` characters, cut between words with "…" when shortened."""
    flat = " ".join(text.split())
    if len(flat) <= limit:
        return flat
    head = flat[: limit - 1]
    space = head.rfind(" ")
    # A single very long word is cut where it must be; otherwise at the last space.
    if space > limit // 3:
        head = head[:space]
    return head.rstrip(" ,;:.-—") + "…"


def browsed_questions(form: Form, language: str) -> list[tuple[str, str, str]]:
    """(name, type, label) of the questions whose answers can be linked, in the form's order."""
    shown = form.language_for(language)
    return [
        (q.name, q.type, q.label(shown) or q.name)
        for q in form.answerable_questions()
        if q.type in BROWSED_TYPES
    ]


@dataclass
class Viewer:
    """The staff member a screen is drawn for, and the forms read while drawing it."""

    context: BotContext
    language: str
    zone: str
    forms: dict[int, Form | None] = field(default_factory=dict)

    def text(self, key: str, **values: object) -> str:
        return self.context.services.texts.get(self.language, key, **values)

    def label(self, key: str, **values: object) -> str:
        return self.context.services.texts.plain(self.language, key, **values)

    def button(
        self, key: str, action: EvidenceAction, *parts: int | str, **values: object
    ) -> list[InlineKeyboardButton]:
        return [_button(self.label(key, **values), action, *parts)]

    async def form(self, survey_id: int | None) -> Form | None:
        """A survey's form (once per screen); None if it is gone or no longer parses."""
        if survey_id is None:
            return None
        if survey_id not in self.forms:
            surveys = self.context.services.surveys
            survey = await surveys.survey(survey_id)
            try:
                self.forms[survey_id] = await surveys.form(survey) if survey else None
            except RuntimeError:
                self.forms[survey_id] = None
        return self.forms[survey_id]

    def clause_text(self, clause: Clause) -> str:
        texts = clause.texts
        return texts.get(self.language) or next(iter(texts.values()), "")

    def provenance(self, item: Item) -> str:
        """Where an item came from, as plain text: Quebec, Canada · Academia · 10 Mar 2026."""
        texts = self.context.services.texts
        place = []
        if item.country and item.region:
            found = find_region(item.country, item.region)
            place.append(found.name_in(self.language) if found else item.region)
        if item.country:
            key = f"country.{item.country}"
            has = texts.has(self.language, key)
            place.append(texts.plain(self.language, key) if has else item.country)
        parts = [", ".join(place)]
        if item.sector:
            parts.append(texts.label(self.language, "sector", item.sector))
        if item.at is not None and item.kind != "meeting":
            local = item.at.astimezone(ZoneInfo(self.zone))
            parts.append(
                str(format_date(local, format="medium", locale=babel_locale(self.language)))
            )
        return " · ".join(part for part in parts if part)

    async def describe(self, item: Item, limit: int = TEXT_SHOWN, asked: bool = True) -> str:
        """An item as one or two lines of HTML: what it says, then where it came from.

        `asked`: an answer names its question (not on a page of one question's answers)."""
        if item.kind in ("answer", "record"):
            form = await self.form(item.survey_id)
            question = form.question(item.question) if form is not None else None
            if form is not None and question is not None:
                shown = form.language_for(self.language)
                answer = value_label(form, question, item.text, shown)
                question_label = question.label(shown) or item.question
            else:
                answer, question_label = item.label or item.text, item.question
            head = self.text(
                "evidence.item.answer" if asked else "evidence.item.said",
                text=cut_words(answer, limit),
                question=cut_words(question_label, 80),
            )
        elif item.kind == "proposal":
            theme = self.context.services.texts.label(self.language, "theme", item.theme or "")
            head = self.text(
                "evidence.item.proposal", text=cut_words(item.text, limit), theme=theme
            )
        else:
            when = ""
            if item.at is not None:
                when = format_meeting_time(item.at, item.zone or self.zone, self.language)
            title = cut_words(localized(item.titles, self.language), 80)
            head = self.text("evidence.item.meeting", id=item.ref, title=title, when=when)
        place = self.provenance(item)
        return head + (f"\n    {html.escape(place, quote=False)}" if place else "")


def _paging(
    viewer: Viewer, page: int, pages: int, action: EvidenceAction, *parts: int
) -> list[InlineKeyboardButton]:
    row: list[InlineKeyboardButton] = []
    if page > 0:
        row += viewer.button("button.previous_page", action, *parts, page - 1)
    if page + 1 < pages:
        row += viewer.button("button.next_page", action, *parts, page + 1)
    return row


def _markup(rows: list[list[InlineKeyboardButton]]) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup([row for row in rows if row])


async def clause_list(viewer: Viewer, page: int) -> Screen:
    """Every clause as a button (its text cut between words), with how many items it has."""
    services = viewer.context.services
    clauses = await services.clauses.clauses()
    if not clauses:
        return viewer.text("evidence.no_clauses"), None
    counts = await services.clauses.counts()
    pages = max(1, -(-len(clauses) // CLAUSES_PER_PAGE))
    page = min(max(page, 0), pages - 1)
    rows: list[list[InlineKeyboardButton]] = []
    for clause in clauses[page * CLAUSES_PER_PAGE : (page + 1) * CLAUSES_PER_PAGE]:
        count = counts.get(clause.id, 0)
        label = viewer.label(
            "evidence.button.clause",
            clause=clause.id,
            text=cut_words(viewer.clause_text(clause), 40),
            count=count,
        )
        rows.append([_button(label, "c", clause.number, 0)])
    rows.append(_paging(viewer, page, pages, "l"))
    text = viewer.text("evidence.ask.clause")
    if pages > 1:
        text += "\n" + viewer.text("evidence.page", page=page + 1, pages=pages)
    return text, _markup(rows)


async def clause_screen(viewer: Viewer, clause: Clause, page: int) -> Screen:
    """The clause in full and its evidence, a page at a time, each item with an unlink button."""
    services = viewer.context.services
    linked = await services.clauses.linked(clause.id)
    pages = max(1, -(-len(linked) // LINKS_PER_PAGE))
    page = min(max(page, 0), pages - 1)
    text = cut_words(viewer.clause_text(clause), CLAUSE_SHOWN)
    lines = [viewer.text("evidence.clause", clause=clause.id, text=text), ""]
    if not linked:
        lines.append(viewer.text("evidence.none", clause=clause.id))
    else:
        lines.append(viewer.text("evidence.count", count=len(linked)))
    unlink: list[InlineKeyboardButton] = []
    start = page * LINKS_PER_PAGE
    for number, (link, item) in enumerate(linked[start : start + LINKS_PER_PAGE], start + 1):
        if item is None:
            kind = viewer.label(f"evidence.kind.{link.kind}")
            shown = viewer.text("evidence.item.gone", kind=kind, ref=link.ref)
        else:
            shown = await viewer.describe(item, 160)
        lines.append(f"<b>{number}.</b> {shown}")
        if link.note:
            lines.append("    " + viewer.text("evidence.item.note", note=link.note))
        unlink += viewer.button(
            "evidence.button.unlink", "u", clause.number, link.id, number=number
        )
    rows = [unlink[i : i + 3] for i in range(0, len(unlink), 3)]
    rows.append(_paging(viewer, page, pages, "c", clause.number))
    rows.append(viewer.button("evidence.button.link", "s", clause.number))
    rows.append(viewer.button("evidence.button.clauses", "l", 0))
    return "\n".join(lines), _markup(rows)


def source_screen(viewer: Viewer, clause: Clause) -> Screen:
    """Where the evidence comes from: survey answers, proposals or meetings."""
    number = clause.number
    rows = [
        viewer.button("evidence.source.survey", "v", number),
        viewer.button("evidence.source.proposal", "t", number),
        viewer.button("evidence.source.meeting", "m", number, 0),
        viewer.button("steps.back", "c", number, 0),
    ]
    return viewer.text("evidence.ask.source", clause=clause.id), _markup(rows)


async def survey_screen(viewer: Viewer, clause: Clause) -> Screen | None:
    """The surveys that were opened (a draft has no answers); None when there are none."""
    surveys = [s for s in await viewer.context.services.surveys.listing() if s.status != "draft"]
    if not surveys:
        return None
    rows: list[list[InlineKeyboardButton]] = []
    for survey in surveys[:20]:
        title = localized(survey.titles, viewer.language) or survey.form_id
        label = f"#{survey.id} {cut_words(title, 48)}"
        rows.append([_button(label, "q", clause.number, survey.id)])
    rows.append(viewer.button("steps.back", "s", clause.number))
    return viewer.text("evidence.ask.survey"), _markup(rows)


async def question_screen(viewer: Viewer, clause: Clause, survey_id: int) -> Screen | None:
    """The survey's typed-text and choice questions; None if the survey cannot be read."""
    survey = await viewer.context.services.surveys.survey(survey_id)
    form = await viewer.form(survey_id)
    if survey is None or form is None:
        return None
    rows: list[list[InlineKeyboardButton]] = []
    for index, (_, kind, label) in enumerate(browsed_questions(form, viewer.language)):
        icon = "✍ " if kind == "text" else "☑ "
        rows.append([_button(icon + cut_words(label, 56), "a", clause.number, survey_id, index, 0)])
    rows.append(viewer.button("steps.back", "v", clause.number))
    title = localized(survey.titles, viewer.language) or survey.form_id
    return viewer.text("evidence.ask.question", survey=cut_words(title, 80)), _markup(rows)


async def _item_page(
    viewer: Viewer, clause: Clause, found: Page, title: str, empty_key: str
) -> tuple[str, list[list[InlineKeyboardButton]]]:
    """A page of items, numbered, with a button per number to link it (✓ when linked)."""
    linked = {(e.kind, e.ref) for e in await viewer.context.services.clauses.evidence(clause.id)}
    lines = [title]
    if found.pages > 1:
        lines.append(viewer.text("evidence.page", page=found.page + 1, pages=found.pages))
    if not found.items:
        lines.append(viewer.text(empty_key))
    else:
        lines.append(viewer.text("evidence.pick", clause=clause.id))
    picks: list[InlineKeyboardButton] = []
    for number, item in enumerate(found.items, found.page * found.size + 1):
        mark = "✓ " if (item.kind, item.ref) in linked else ""
        shown = await viewer.describe(item, asked=False)
        lines.append(f"\n<b>{number}.</b> {mark}{shown}")
        letter = KIND_LETTERS[item.kind]
        label = viewer.label("evidence.button.pick", number=number)
        picks.append(_button(label, "k", clause.number, letter, item.ref))
    return "\n".join(lines), [picks]


async def answers_screen(
    viewer: Viewer, clause: Clause, survey_id: int, index: int, page: int
) -> Screen | None:
    """A question's answers, a page at a time; None if the question is not (any more) there."""
    form = await viewer.form(survey_id)
    questions = browsed_questions(form, viewer.language) if form is not None else []
    if not 0 <= index < len(questions):
        return None
    name, _, label = questions[index]
    found = await viewer.context.services.clauses.answers(survey_id, name, page, ITEMS_PER_PAGE)
    if found.items == [] and found.total and page:
        found = await viewer.context.services.clauses.answers(survey_id, name, 0, ITEMS_PER_PAGE)
    title = viewer.text("evidence.answers.title", question=cut_words(label, 80), count=found.total)
    text, rows = await _item_page(viewer, clause, found, title, "evidence.answers.none")
    rows.append(_paging(viewer, found.page, found.pages, "a", clause.number, survey_id, index))
    rows.append(viewer.button("steps.back", "q", clause.number, survey_id))
    return text, _markup(rows)


def themes_screen(viewer: Viewer, clause: Clause, counts: dict[str, int]) -> Screen:
    """The themes that have proposals, with how many (by their index in the programme)."""
    themes = viewer.context.services.config.programme.thematic_groups
    rows: list[list[InlineKeyboardButton]] = []
    for index, theme in enumerate(themes):
        if counts.get(theme):
            name = viewer.context.services.texts.label(viewer.language, "theme", theme)
            label = viewer.label("evidence.button.theme", theme=name, count=counts[theme])
            rows.append([_button(label, "p", clause.number, index, 0)])
    rows.append(viewer.button("steps.back", "s", clause.number))
    return viewer.text("evidence.ask.theme"), _markup(rows)


async def proposals_screen(viewer: Viewer, clause: Clause, index: int, page: int) -> Screen | None:
    """A theme's proposals with their text, newest first, a page at a time."""
    themes = viewer.context.services.config.programme.thematic_groups
    if not 0 <= index < len(themes):
        return None
    theme = themes[index]
    found = await viewer.context.services.clauses.proposals(theme, page, ITEMS_PER_PAGE)
    name = viewer.context.services.texts.label(viewer.language, "theme", theme)
    title = viewer.text("evidence.proposals.title", theme=name, count=found.total)
    text, rows = await _item_page(viewer, clause, found, title, "evidence.no_proposals")
    rows.append(_paging(viewer, found.page, found.pages, "p", clause.number, index))
    rows.append(viewer.button("steps.back", "t", clause.number))
    return text, _markup(rows)


async def meetings_screen(viewer: Viewer, clause: Clause, page: int) -> Screen:
    """Meetings (not cancelled), latest first, a page at a time."""
    found = await viewer.context.services.clauses.meetings(page, ITEMS_PER_PAGE)
    title = viewer.text("evidence.meetings.title", count=found.total)
    text, rows = await _item_page(viewer, clause, found, title, "evidence.meetings.none")
    rows.append(_paging(viewer, found.page, found.pages, "m", clause.number))
    rows.append(viewer.button("steps.back", "s", clause.number))
    return text, _markup(rows)


async def note_screen(viewer: Viewer, clause: Clause, item: Item) -> Screen:
    """The item about to be linked, and the request for a note (or link without one)."""
    letter = KIND_LETTERS[item.kind]
    text = viewer.text(
        "evidence.ask.note", clause=clause.id, item=Markup(await viewer.describe(item))
    )
    rows = [
        viewer.button("evidence.button.no_note", "n", clause.number, letter, item.ref),
        viewer.button("steps.cancel", "c", clause.number, 0),
    ]
    return text, _markup(rows)


async def unlink_screen(viewer: Viewer, clause: Clause, evidence_id: int) -> Screen | None:
    """Are you sure? The item to unlink; None when the link is gone."""
    for link, item in await viewer.context.services.clauses.linked(clause.id):
        if link.id != evidence_id:
            continue
        kind = viewer.label(f"evidence.kind.{link.kind}")
        shown = (
            await viewer.describe(item)
            if item is not None
            else viewer.text("evidence.item.gone", kind=kind, ref=link.ref)
        )
        text = viewer.text("evidence.ask.unlink", clause=clause.id, item=Markup(shown))
        rows = [
            viewer.button("evidence.button.unlink_yes", "U", clause.number, link.id),
            viewer.button("steps.back", "c", clause.number, 0),
        ]
        return text, _markup(rows)
    return None
