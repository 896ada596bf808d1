"""Write the example XLSForms: `python examples/make_example_form.py` (needs openpyxl)."""

from __future__ import annotations

import sys
from pathlib import Path

from openpyxl import Workbook

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))  # run as a script from anywhere: the bot's region list

from bot.services.regions import REGIONS  # noqa: E402

# The region choices are the registration's own provinces and states (bot/services/regions.py),
# so the form asks for nothing the profile could not hold; their Spanish and French names where
# they differ from the English one.
REGION_NAMES: dict[str, tuple[str, str]] = {
    "BC": ("Columbia Británica", "Colombie-Britannique"),
    "NB": ("Nuevo Brunswick", "Nouveau-Brunswick"),
    "NL": ("Terranova y Labrador", "Terre-Neuve-et-Labrador"),
    "NS": ("Nueva Escocia", "Nouvelle-Écosse"),
    "NT": ("Territorios del Noroeste", "Territoires du Nord-Ouest"),
    "PE": ("Isla del Príncipe Eduardo", "Île-du-Prince-Édouard"),
    "QC": ("Quebec", "Québec"),
    "DC": ("Distrito de Columbia", "District de Columbia"),
    "FL": ("Florida", "Floride"),
    "GA": ("Georgia", "Géorgie"),
    "HI": ("Hawái", "Hawaï"),
    "LA": ("Luisiana", "Louisiane"),
    "MI": ("Míchigan", "Michigan"),
    "MS": ("Misisipi", "Mississippi"),
    "MO": ("Misuri", "Missouri"),
    "NH": ("Nuevo Hampshire", "New Hampshire"),
    "NJ": ("Nueva Jersey", "New Jersey"),
    "NM": ("Nuevo México", "Nouveau-Mexique"),
    "NY": ("Nueva York", "État de New York"),
    "NC": ("Carolina del Norte", "Caroline du Nord"),
    "ND": ("Dakota del Norte", "Dakota du Nord"),
    "OR": ("Oregón", "Oregon"),
    "PA": ("Pensilvania", "Pennsylvanie"),
    "SC": ("Carolina del Sur", "Caroline du Sud"),
    "SD": ("Dakota del Sur", "Dakota du Sud"),
    "CA": ("California", "Californie"),
    "VA": ("Virginia", "Virginie"),
    "WA": ("Washington", "État de Washington"),
    "WV": ("Virginia Occidental", "Virginie-Occidentale"),
    "TX": ("Texas", "Texas"),
}


def _region_names(code: str, english: str) -> tuple[str, str, str]:
    """The (es, en, fr) labels of a province or state."""
    spanish, french = REGION_NAMES.get(code, (english, english))
    return spanish, english, french


ES, EN, FR = "Español (es)", "English (en)", "Français (fr)"

Row = tuple[object, ...]


def _tr(field: str) -> list[str]:
    return [f"{field}::{ES}", f"{field}::{EN}", f"{field}::{FR}"]


SURVEY_HEADER = [
    "type",
    "name",
    *_tr("label"),
    *_tr("hint"),
    "required",
    *_tr("required_message"),
    "relevant",
    "constraint",
    *_tr("constraint_message"),
    "choice_filter",
    "default",
    "parameters",
]
_NO_HINT = ("", "", "")
_NO_MSG = ("", "", "")


def q(
    type_: str,
    name: str,
    label: tuple[str, str, str] = ("", "", ""),
    hint: tuple[str, str, str] = _NO_HINT,
    required: str = "",
    required_message: tuple[str, str, str] = _NO_MSG,
    relevant: str = "",
    constraint: str = "",
    constraint_message: tuple[str, str, str] = _NO_MSG,
    choice_filter: str = "",
    default: str = "",
    parameters: str = "",
) -> Row:
    """One survey row in SURVEY_HEADER order."""
    return (
        type_,
        name,
        *label,
        *hint,
        required,
        *required_message,
        relevant,
        constraint,
        *constraint_message,
        choice_filter,
        default,
        parameters,
    )


SURVEY: list[Row] = [
    q("start", "start"),
    q("end", "end"),
    q("today", "today"),
    q("deviceid", "deviceid"),
    q(
        "note",
        "welcome",
        (
            "Gracias por participar en la consulta de la diáspora (ronda 1).",
            "Thank you for taking part in the diaspora consultation (round 1).",
            "Merci de participer à la consultation de la diaspora (ronde 1).",
        ),
    ),
    q(
        "acknowledge",
        "consent",
        (
            "Tus respuestas se guardan con un código en lugar de tu nombre. ¿Estás de acuerdo?",
            "Your answers are kept under a code instead of your name. Do you agree?",
            "Vos réponses sont conservées sous un code plutôt que votre nom. Êtes-vous d'accord ?",
        ),
        required="yes",
    ),
    q(
        "begin_group",
        "profile",
        ("Tu situación", "Your situation", "Votre situation"),
    ),
    q(
        "select_one country",
        "country",
        ("¿En qué país vives?", "Which country do you live in?", "Dans quel pays vivez-vous ?"),
        required="yes",
        required_message=(
            "Elige un país para continuar.",
            "Choose a country to continue.",
            "Choisissez un pays pour continuer.",
        ),
    ),
    q(
        "select_one region",
        "region",
        ("¿Provincia o estado?", "Province or state?", "Province ou État ?"),
        required="yes",
        choice_filter="country = ${country}",
    ),
    q(
        "integer",
        "years_abroad",
        (
            "¿Cuántos años llevas fuera del país?",
            "How many years have you lived abroad?",
            "Depuis combien d'années vivez-vous à l'étranger ?",
        ),
        (
            "En años completos. Solo para comparar opiniones según el tiempo fuera; no te"
            " preguntamos cuándo ni cómo llegaste, ni tu situación migratoria.",
            "In whole years. Only to compare views by time abroad; we do not ask when or how you"
            " arrived, nor your immigration status.",
            "En années complètes. Seulement pour comparer les avis selon le temps passé à"
            " l'étranger ; nous ne demandons ni quand ni comment vous êtes arrivé·e, ni votre"
            " statut migratoire.",
        ),
        required="yes",
        constraint=". >= 0 and . <= 80",
        constraint_message=(
            "Escribe un número entre 0 y 80.",
            "Type a number between 0 and 80.",
            "Tapez un nombre entre 0 et 80.",
        ),
    ),
    q("end_group", ""),
    q(
        "date",
        "consular_visit",
        (
            "¿Cuándo hiciste tu último trámite en un consulado? (AAAA-MM-DD o DD/MM/AAAA)",
            "When did you last use a consulate's services? (YYYY-MM-DD or DD/MM/YYYY)",
            "Quand avez-vous fait votre dernière démarche au consulat ? (AAAA-MM-JJ ou JJ/MM/AAAA)",
        ),
        (
            "Opcional. Para saber qué tan recientes son las experiencias con los consulados.",
            "Optional. To know how recent the experiences with the consulates are.",
            "Facultatif. Pour savoir si les expériences avec les consulats sont récentes.",
        ),
        constraint=". <= today()",
        constraint_message=(
            "La fecha no puede estar en el futuro.",
            "The date cannot be in the future.",
            "La date ne peut pas être dans le futur.",
        ),
    ),
    q(
        "select_multiple themes",
        "themes",
        (
            "¿Qué temas te importan? (hasta 3)",
            "Which themes matter to you? (up to 3)",
            "Quels thèmes comptent pour vous ? (jusqu'à 3)",
        ),
        required="yes",
        constraint="count-selected(.) <= 3",
        constraint_message=(
            "Elige como máximo 3 temas.",
            "Choose at most 3 themes.",
            "Choisissez au plus 3 thèmes.",
        ),
    ),
    q(
        "text",
        "vote_problem",
        (
            "¿Qué te impide votar desde el extranjero?",
            "What keeps you from voting from abroad?",
            "Qu'est-ce qui vous empêche de voter depuis l'étranger ?",
        ),
        relevant="selected(${themes}, 'vote')",
        constraint="string-length(.) <= 500",
        constraint_message=(
            "Máximo 500 caracteres.",
            "At most 500 characters.",
            "500 caractères au maximum.",
        ),
    ),
    q(
        "range",
        "services_rating",
        (
            "Califica los servicios consulares (1 = malo, 5 = muy bueno)",
            "Rate the consular services (1 = poor, 5 = very good)",
            "Notez les services consulaires (1 = mauvais, 5 = très bon)",
        ),
        parameters="start=1 end=5 step=1",
        default="3",
    ),
    q(
        "decimal",
        "remittance_share",
        (
            "¿Qué parte de tus ingresos envías a tu familia? (%)",
            "What share of your income do you send to family? (%)",
            "Quelle part de vos revenus envoyez-vous à votre famille ? (%)",
        ),
        constraint=". >= 0 and . <= 100",
        constraint_message=("Entre 0 y 100.", "Between 0 and 100.", "Entre 0 et 100."),
    ),
    q(
        "note",
        "thanks",
        ("¡Gracias!", "Thank you!", "Merci !"),
    ),
]

CHOICES_HEADER = ["list_name", "name", *_tr("label"), "country"]
CHOICES: list[Row] = [
    ("country", "CA", "Canadá", "Canada", "Canada", ""),
    ("country", "US", "Estados Unidos", "United States", "États-Unis", ""),
    *(
        ("region", region.code, *_region_names(region.code, region.name), region.country)
        for region in REGIONS
    ),
    (
        "region",
        "other_CA",
        "Otra provincia o territorio",
        "Another province or territory",
        "Autre province ou territoire",
        "CA",
    ),
    ("region", "other_US", "Otro estado", "Another state", "Autre État", "US"),
    ("themes", "vote", "Voto en el exterior", "Voting abroad", "Vote à l'étranger"),
    ("themes", "consular", "Servicios consulares", "Consular services", "Services consulaires"),
    ("themes", "remit", "Remesas", "Remittances", "Transferts d'argent"),
    ("themes", "return", "Retorno al país", "Return home", "Retour au pays"),
    ("themes", "invest", "Inversión", "Investment", "Investissement"),
]
SETTINGS_HEADER = ["form_id", "version", *_tr("form_title"), "default_language"]
SETTINGS: list[Row] = [
    (
        "consultation_round1",
        "2025-1",
        "Consulta de la diáspora — ronda 1",
        "Diaspora consultation — round 1",
        "Consultation de la diaspora — ronde 1",
        ES,
    )
]

KOBO_SURVEY_HEADER = ["type", "name", "label::English (en)", "calculation", "appearance"]
KOBO_SURVEY: list[Row] = [
    ("start", "start", "", "", ""),
    ("end", "end", "", "", ""),
    ("text", "household_id", "Household ID", "", ""),
    ("geopoint", "location", "Record the location", "", ""),
    ("image", "house_photo", "Take a photo of the house", "", ""),
    ("begin_repeat", "members", "Household members", "", ""),
    ("text", "member_name", "Name", "", ""),
    ("integer", "member_age", "Age", "", ""),
    ("end_repeat", "", "", "", ""),
    ("calculate", "member_count", "", "count(${member_name})", ""),
    ("select_one yes_no or_other", "water", "Access to water?", "", "minimal"),
]
KOBO_CHOICES_HEADER = ["list_name", "name", "label::English (en)"]
KOBO_CHOICES: list[Row] = [("yes_no", "yes", "Yes"), ("yes_no", "no", "No")]
KOBO_SETTINGS_HEADER = ["form_id", "version", "form_title"]
KOBO_SETTINGS: list[Row] = [("household_survey", "2024091301", "Household survey")]


def write(path: Path, sheets: list[tuple[str, list[str], list[Row]]]) -> None:
    """Write one workbook with the given (title, header, rows) sheets."""
    book = Workbook()
    first = True
    for title, header, rows in sheets:
        sheet = book.active if first else book.create_sheet()
        assert sheet is not None
        sheet.title = title
        sheet.append(header)
        for row in rows:
            sheet.append(list(row))
        first = False
    book.save(path)


def main() -> None:
    """Write both example forms next to this script."""
    write(
        HERE / "consultation_round1.xlsx",
        [
            ("survey", SURVEY_HEADER, SURVEY),
            ("choices", CHOICES_HEADER, CHOICES),
            ("settings", SETTINGS_HEADER, SETTINGS),
        ],
    )
    write(
        HERE / "kobo_unsupported.xlsx",
        [
            ("survey", KOBO_SURVEY_HEADER, KOBO_SURVEY),
            ("choices", KOBO_CHOICES_HEADER, KOBO_CHOICES),
            ("settings", KOBO_SETTINGS_HEADER, KOBO_SETTINGS),
        ],
    )


if __name__ == "__main__":
    main()
