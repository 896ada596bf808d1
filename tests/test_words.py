"""No inserted word leaves its language: a Spanish or French message carries no English code word.

The code inserts values into sentences: a language's name, a survey's status, a meeting answer, an
audit action, an evidence kind. Each must come from the reader's catalog ("Escribe el aviso en
español", "ouvert", "Sí, Tal vez", "exportación"), never as the stored code ("English", "open",
"yes, maybe", "export"). Checked three ways: the catalogs' own words, every value the code inserts,
and what people see in chat on the paths that insert them (a broadcast draft with language versions,
staff's /surveys and /results over an open survey, /audit after a grant and an export).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from bot.handlers.broadcast_screens import describe_audience
from bot.i18n import Texts
from bot.services.regions import REGIONS
from storage.models import AudienceFilter, Broadcast
from tests.harness import BotUnderTest, Person, add_coordinator, add_member
from tests.survey_fixture import ADMIN, Answered, example_form

ROOT = Path(__file__).resolve().parent.parent
# English words that were inserted raw into Spanish and French sentences (issue 21).
MARKERS = (
    "open",
    "closed",
    "draft",
    "yes",
    "maybe",
    "answer",
    "export",
    "exported",
    "grant",
    "revoke",
    "English",
    "French",
    "Spanish",
)
# Language names in the wrong language: the other languages' own names.
FOREIGN_NAMES = {"es": ("Français", "English"), "fr": ("Español", "English")}
# Messages that quote what staff type on the command line (codes, not words): the CLI's syntax.
TYPED_CODES = {
    "export.error.dataset",  # answers, answers-long, proposals… are --dataset values
    "clauses.error.kind",  # answer, proposal, meeting, record are the CLI's kinds
    "survey.admin.meeting_filter",  # --rsvp yes
}


def english_in(text: str, language: str) -> list[str]:
    """The English code words in a Spanish or French text (commands and <code> spans aside)."""
    shown = re.sub(r"<code>.*?</code>|/[a-z_]+|\{[^}]*\}|<[^>]+>", " ", text)
    words = dict.fromkeys([*MARKERS, *FOREIGN_NAMES[language]])
    found = [w for w in words if re.search(rf"(?<![\w-]){w}(?![\w-])", shown, re.IGNORECASE)]
    if language == "fr" and re.search(r"(?<![\w-])no(?![\w-])", shown):
        found.append("no")  # "no" as an answer; Spanish says it too, French says "non"
    return found


def test_the_check_catches_a_raw_code() -> None:
    assert english_in("La encuesta #3 ya está open", "es") == ["open"]
    assert english_in("Escribe el aviso en English", "es") == ["English"]
    assert english_in("réunion n° 3 : yes, maybe", "fr") == ["yes", "maybe"]
    assert english_in("Audiencia: reunión #1: no", "fr") == ["no"]
    assert english_in("Envía /export o <code>answer</code>", "es") == []


def test_catalog_texts_carry_no_english_code_words() -> None:
    texts = Texts.load()
    offences = []
    for language in ("es", "fr"):
        for key in sorted(texts.keys(language) - TYPED_CODES):
            for form in texts.forms(language, key):
                if found := english_in(form, language):
                    offences.append(f"{language} {key}: {found} in {form!r}")
    assert not offences, "\n".join(offences)


def _audit_actions() -> set[str]:
    """Every action the code writes to the audit log (from the sources: new ones count too)."""
    actions: set[str] = set()
    for folder in ("bot", "storage"):
        for path in (ROOT / folder).rglob("*.py"):
            source = path.read_text(encoding="utf-8")
            actions.update(re.findall(r"audit\.record\(\s*[\w.]+,\s*\"([a-z_.]+)\"", source))
            actions.update(re.findall(r"_audit\(\s*conn, \w+, \w+, \"([a-z_.]+)\"", source))
    return actions


def test_every_inserted_value_has_its_words_in_each_language() -> None:
    texts = Texts.load()
    actions = _audit_actions()
    assert {"grant", "revoke", "export", "meeting.create", "evidence_link"} <= actions
    families = {
        "language.name": ("es", "en", "fr"),
        "results.status": ("open", "closed"),
        "survey.admin.not_draft": ("open", "closed"),
        "mtg.answer": ("yes", "maybe", "no", "waitlist", "attended"),
        "evidence.kind": ("answer", "proposal", "meeting", "record"),
        "clauses.error.item": ("answer", "proposal", "meeting", "record"),
        "audit.action": tuple(sorted(actions)),
    }
    for language in ("es", "en", "fr"):
        for family, values in families.items():
            for value in values:
                key = f"{family}.{value}"
                assert texts.has(language, key), f"{language}: no {key}"
                if language != "en":
                    shown = texts.plain(language, key, id=1, ref=1)
                    assert not english_in(shown, language), (language, key, shown)


def test_a_meeting_audience_is_described_in_the_readers_words() -> None:
    texts = Texts.load()
    audience = AudienceFilter(meeting_id=3, meeting_answers=("yes", "maybe", "attended"))
    fields: dict[str, Any] = {"audience": audience}  # describe_audience reads the audience only
    draft = Broadcast.model_construct(**fields)
    assert describe_audience(texts, "es", draft) == "reunión #3: Sí, Tal vez, Asistieron"
    assert describe_audience(texts, "fr", draft) == "réunion n° 3 : Oui, Peut-être, Présents"
    assert describe_audience(texts, "en", draft) == "meeting #3: Yes, Maybe, Attended"


def _said(person: Person) -> list[str]:
    return [m.text or "" for m in person.transcript() if m.direction == "out"] + [
        b["text"] for m in person.transcript() if m.direction == "out" for b in m.buttons()
    ]


def assert_in_its_language(person: Person, language: str) -> None:
    offences = [(text, found) for text in _said(person) if (found := english_in(text, language))]
    assert not offences, offences


async def test_a_broadcast_draft_names_each_language_in_the_readers_language(
    bot: BotUnderTest,
) -> None:
    marisol = await add_coordinator(bot)
    await marisol.send("/broadcast")
    assert "Escribe el aviso en español." in marisol.last_text()
    await marisol.send("Reunión el sábado")
    assert "Versiones del aviso: español ✓, inglés —, francés —" in marisol.last_text()
    assert "la versión en español" in marisol.last_text()
    assert {"Agregar inglés", "Agregar francés"} <= set(marisol.buttons())
    await marisol.press("Agregar francés")
    assert "Escribe el aviso en francés." in marisol.last_text()
    await marisol.send("Réunion samedi")
    await marisol.press("Continuar")
    assert_in_its_language(marisol, "es")

    await add_member(bot, 310, "fr", name="Carlos", username="carlos")
    carlos = bot.person(310, "Carlos", "fr", username="carlos")
    await bot.person(ADMIN, "Admin", "en").send("/grant @carlos coordinator")
    await carlos.send("/broadcast")
    assert "Tapez l'avis en français." in carlos.last_text()
    await carlos.send("Réunion samedi")
    assert "français ✓, espagnol —, anglais —" not in carlos.last_text()
    assert "espagnol —, anglais —, français ✓" in carlos.last_text()
    assert {"Ajouter espagnol", "Ajouter anglais"} <= set(carlos.buttons())
    assert_in_its_language(carlos, "fr")


async def test_surveys_results_and_audit_speak_the_readers_language(answered: Answered) -> None:
    bot = answered.bot
    await add_member(bot, 950, "fr", name="Zoé", username="zoe")
    zoe = bot.person(950, "Zoé", "fr", username="zoe")
    admin = bot.person(ADMIN, "Admin", "es")
    await admin.send("/grant @zoe staff")
    assert "Rol staff dado a Zoé." in admin.last_text()

    # An open survey, listed and summarised for staff in French.
    await zoe.send("/surveys")
    assert "ouvert" in zoe.last_text()
    await zoe.send("/results")
    if "quel questionnaire" in zoe.last_text():
        await zoe.press("(v")
    assert "— ouvert" in zoe.last_text()
    # An export, then the audit log read in Spanish and in French.
    await zoe.send("/export")
    await zoe.press("Membres")
    await zoe.press("Tout (sans filtre)")
    await zoe.press("CSV")
    assert "L’exportation a été inscrite au journal d’audit." in zoe.last_text()
    assert_in_its_language(zoe, "fr")

    await admin.send("/audit")
    audit = admin.last_text()
    assert "rol otorgado" in audit and "exportación" in audit
    assert_in_its_language(admin, "es")
    admin_fr = bot.person(ADMIN, "Admin", "fr")
    await admin_fr.send("/audit")
    assert "rôle attribué" in admin_fr.last_text() and "exportation" in admin_fr.last_text()
    assert not english_in(admin_fr.last_text(), "fr")


def test_the_example_form_asks_no_status_question_and_knows_every_region() -> None:
    # The example form asks nothing that reads as a question about immigration status (a date of
    # arrival did), and offers every province or state the registration knows, plus "other".
    form = example_form()
    names = {question.name for question in form.questions}
    assert "arrival" not in names and "consular_visit" in names
    for language in ("es", "en", "fr"):
        labels = " ".join(question.label(language) or "" for question in form.questions)
        assert not re.search(r"llegaste|did you arrive|êtes-vous arrivé", labels, re.IGNORECASE)
    offered = {(c.name, dict(c.columns).get("country")) for c in form.choices("region")}
    known = {(region.code, region.country) for region in REGIONS}
    assert known | {("other_CA", "CA"), ("other_US", "US")} == offered
    assert ("TX", "US") in offered
