"""The survey half of an export job: forms read once, then answers, summaries, dictionaries.

Each survey's stored form is parsed once per job (`SurveyParts`); the wide answers table, the
summary sheet, the key-phrase sheets and the data dictionary all read that one parse, so they
agree on every question's type, label and choices.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, replace
from typing import Any

from bot.services.exports import form_table
from bot.services.exports.dictionary import FormDictionary, form_dictionary
from bot.services.exports.form_table import FormColumn, answer_columns, columns_of, form_of
from bot.services.exports.keyphrases import TextItem, key_phrases
from bot.services.exports.sheets import KeyphraseSheet
from bot.services.exports.summary import SurveySummary, summarise
from bot.services.exports.tables import Dataset
from bot.services.exports.words import Words
from storage.exports import ExportFilters, ExportReader

Counted = Callable[[Iterable[Mapping[str, Any]]], Iterator[Mapping[str, Any]]]


@dataclass(frozen=True)
class SurveyParts:
    """One survey as the export sees it: ids, title, the form's columns and languages."""

    survey_id: int
    form_id: str
    title: str
    fields: list[FormColumn]
    languages: tuple[str, ...]
    # How sheets and the dictionary name it: the form_id, with the survey's id when two
    # versions of one form are exported together.
    name: str = ""

    @property
    def dataset(self) -> str:
        return f"answers_{self.name or self.form_id}"


def survey_ids(reader: ExportReader, filters: ExportFilters) -> list[int]:
    """The surveys an export covers: the one asked for, else those with answers."""
    if filters.survey_id is not None:
        return [filters.survey_id]
    return reader.survey_ids(filters)


def parts_of(reader: ExportReader, ids: list[int], language: str) -> list[SurveyParts]:
    """The surveys' parts, each named so that no two share a sheet."""
    found = [_parts(reader, survey_id, language) for survey_id in ids]
    forms = [survey.form_id for survey in found]
    return [
        replace(s, name=s.form_id if forms.count(s.form_id) == 1 else f"{s.form_id}_{s.survey_id}")
        for s in found
    ]


def _parts(reader: ExportReader, survey_id: int, language: str) -> SurveyParts:
    """Read and parse one survey's stored form (a form that no longer parses: what was seen)."""
    survey = reader.survey(survey_id)
    if survey is None:
        observed = reader.question_labels(survey_id)
        return SurveyParts(
            survey_id, str(survey_id), str(survey_id), columns_of(None, observed), ()
        )
    form = form_of(survey.definition, survey.form_id)
    fields = columns_of(form, reader.question_labels(survey_id) if form is None else ())
    title = form.title(language) if form is not None else survey.titles.get(language, "")
    languages = form.languages if form is not None else ()
    return SurveyParts(survey_id, survey.form_id, title or survey.form_id, fields, languages)


def wide_datasets(
    reader: ExportReader,
    parts: list[SurveyParts],
    filters: ExportFilters,
    options: tuple[bool, str, str, str],
    counted: Counted,
) -> list[Dataset]:
    """One answers table per survey (one row per submission); options: labels, language,
    multi, zone."""
    labels, language, multi, zone = options
    datasets = []
    for survey in parts:
        columns = answer_columns(survey.fields, labels, language, multi, zone)
        narrowed = filters.model_copy(update={"survey_id": survey.survey_id})
        grouped = reader.rows(
            form_table.submissions_sql(*reader.answers_sql(narrowed, None), survey.fields)
        )
        rows = form_table.submissions(grouped, survey.fields, labels, language, multi, zone)
        datasets.append(Dataset(survey.dataset, columns, counted(rows)))
    if not datasets:
        columns = answer_columns([], labels, language, multi, zone)
        datasets.append(Dataset("answers", columns, []))
    return datasets


def summaries(
    reader: ExportReader,
    parts: list[SurveyParts],
    filters: ExportFilters,
    words: Words,
    k: int,
) -> tuple[list[SurveySummary], list[KeyphraseSheet]]:
    """A summary per survey and a key-phrase sheet per free-text question.

    The counts come grouped by SQL (question, value, country), never a row per answer.
    """
    found: list[SurveySummary] = []
    sheets: list[KeyphraseSheet] = []
    language = words.language
    for survey in parts:
        narrowed = filters.model_copy(update={"survey_id": survey.survey_id})
        sql, parameters = reader.answers_sql(narrowed)
        grouped = reader.rows(
            (
                "SELECT question, value, country, COUNT(*) AS n "
                f"FROM ({sql}) AS q GROUP BY question, value, country "
                # PostgreSQL may hash the groups: the order SQLite's grouping gives, said.
                "ORDER BY question, value NULLS FIRST, country NULLS FIRST",
                parameters,
            )
        )
        counts = [
            (str(r["question"]), str(r["value"] or ""), r["country"], int(r["n"])) for r in grouped
        ]
        total = reader.rows(
            (f"SELECT COUNT(DISTINCT pseudonym) AS n FROM ({sql}) AS q", parameters)
        )
        people = int(next(iter(total))["n"])
        found.append(
            summarise(survey.name, survey.title, survey.fields, counts, people, language, words, k)
        )
        for field in survey.fields:
            if field.type != "text" or field.metadata:
                continue
            texts = [
                TextItem(str(r["value"]), words.country(r["country"]), str(r["pseudonym"]))
                for r in reader.texts(narrowed, field.name)
                if r["value"]
            ]
            title = field.name if len(parts) == 1 else f"{survey.survey_id} {field.name}"
            groups = key_phrases(texts, min_group_size=k)
            heading = f"{field.label(language)} ({field.path})"
            sheets.append(KeyphraseSheet(title, words("export.phrases.group"), groups, k, heading))
    return found, sheets


def dictionaries(parts: list[SurveyParts], words: Words) -> list[FormDictionary]:
    """The data dictionary of each survey."""
    return [form_dictionary(s.name, s.fields, s.languages, words) for s in parts]
