"""KoBo-style survey columns: one row per submission, a column per question, multi-selects split.

The survey definition is read tolerantly (it is JSON written by the survey flow): questions with a
name, type, labels per language, group names and a choice list; what it lacks is filled from the
labels recorded with the answers, so an export never fails on an unfamiliar definition.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from bot.services.exports import Column

META = (
    ("_id", "_id", "number"),
    ("_survey", "_survey", "number"),
    ("_pseudonym", "_pseudonym", "text"),
    ("_submitted", "_submission_time", "text"),
    ("_round", "_round", "text"),
    ("_language", "_language", "text"),
    ("_country", "_country", "text"),
    ("_region", "_region", "text"),
    ("_sector", "_sector", "text"),
)


@dataclass(frozen=True)
class QuestionInfo:
    name: str
    type: str
    labels: Mapping[str, str]
    groups: tuple[str, ...] = ()
    choices: tuple[tuple[str, Mapping[str, str]], ...] = ()

    @property
    def path(self) -> str:
        """The KoBo header: group names then the question name, joined with '/'."""
        return "/".join((*self.groups, self.name))

    @property
    def multiple(self) -> bool:
        return self.type == "select_multiple"

    def label(self, language: str) -> str:
        return _pick(self.labels, language) or self.name

    def choice_label(self, value: str, language: str) -> str:
        for name, labels in self.choices:
            if name == value:
                return _pick(labels, language) or value
        return value


def _pick(texts: Mapping[str, str], language: str) -> str:
    """The text in `language`, else the untranslated one, else any."""
    for code in (language, ""):
        if texts.get(code):
            return texts[code]
    return next((text for text in texts.values() if text), "")


def _texts(value: Any) -> dict[str, str]:
    """Labels in any of the shapes a definition may use: dict, pairs, {'items': pairs}, text."""
    if isinstance(value, dict):
        if "items" in value and isinstance(value["items"], list):
            return _texts(value["items"])
        return {str(k): str(v) for k, v in value.items() if isinstance(v, str)}
    if isinstance(value, list):
        return {str(p[0]): str(p[1]) for p in value if isinstance(p, list | tuple) and len(p) == 2}
    if isinstance(value, str):
        return {"": value}
    return {}


def _choice_lists(value: Any) -> dict[str, list[tuple[str, dict[str, str]]]]:
    pairs: list[Any] = list(value.items()) if isinstance(value, dict) else list(value or [])
    lists: dict[str, list[tuple[str, dict[str, str]]]] = {}
    for pair in pairs:
        if not isinstance(pair, list | tuple) or len(pair) != 2:
            continue
        name, choices = pair
        for choice in choices if isinstance(choices, list) else []:
            if isinstance(choice, dict) and choice.get("name") is not None:
                labels = _texts(choice.get("labels", choice.get("label")))
                lists.setdefault(str(name), []).append((str(choice["name"]), labels))
    return lists


def questions_of(definition: str, observed: Iterable[tuple[str, str, str]]) -> list[QuestionInfo]:
    """The answerable questions in form order, completed by labels seen in the record."""
    seen: dict[str, dict[str, str]] = {}
    for question, language, label in observed:
        if label:
            seen.setdefault(question, {}).setdefault(language, label)
        else:
            seen.setdefault(question, {})
    try:
        data = json.loads(definition or "{}")
    except ValueError:
        data = {}
    found: list[QuestionInfo] = []
    if isinstance(data, dict):
        lists = _choice_lists(data.get("choice_lists", data.get("choices")))
        for item in data.get("questions") or []:
            if not isinstance(item, dict) or not item.get("name"):
                continue
            kind = str(item.get("type", "text")).split()[0]
            if kind == "note":
                continue
            name = str(item["name"])
            labels = _texts(item.get("labels", item.get("label"))) or seen.get(name, {})
            groups = tuple(
                str(g.get("name")) if isinstance(g, dict) else str(g)
                for g in item.get("groups") or []
            )
            list_name = item.get("list_name") or (
                str(item.get("type", "")).split()[1]
                if len(str(item.get("type", "")).split()) > 1
                else None
            )
            choices = tuple(lists.get(str(list_name), [])) if list_name else ()
            found.append(QuestionInfo(name, kind, labels, groups, choices))
    known = {question.name for question in found}
    found += [
        QuestionInfo(name, "text", labels) for name, labels in seen.items() if name not in known
    ]
    return found


def answer_columns(
    questions: list[QuestionInfo], labels: bool, language: str, multi: str
) -> list[Column]:
    """The columns of the wide answers table, KoBo style."""
    columns = [Column(key, header, kind=kind) for key, header, kind in META]  # type: ignore[arg-type]
    for question in questions:
        choices = tuple((name, _pick(texts, language) or name) for name, texts in question.choices)
        header = question.label(language) if labels else question.path
        columns.append(
            Column(
                question.path,
                header,
                description=question.label(language),
                from_user=question.type == "text" or labels,
                choices=choices,
            )
        )
        if question.multiple and multi == "split":
            for name, label in choices:
                columns.append(
                    Column(
                        f"{question.path}/{name}",
                        f"{header}/{label if labels else name}",
                        description=f"{question.label(language)}: {label} (1 chosen, 0 not)",
                        kind="number",
                    )
                )
    return columns


def submissions(
    answers: Iterable[Mapping[str, Any]],
    questions: list[QuestionInfo],
    labels: bool,
    language: str,
    multi: str,
) -> Iterator[dict[str, Any]]:
    """Group answers (ordered by survey, member) into one row per submission."""
    by_name = {question.name: question for question in questions}
    row: dict[str, Any] | None = None
    current: tuple[Any, Any] | None = None
    number = 0
    for answer in answers:
        key = (answer["survey_id"], answer["pseudonym"])
        if key != current:
            if row is not None:
                yield row
            number += 1
            current = key
            row = {
                "_id": number,
                "_survey": answer["survey_id"],
                "_pseudonym": answer["pseudonym"],
                "_round": answer["round"],
            }
            for question in questions:
                if question.multiple and multi == "split" and question.choices:
                    for name, _ in question.choices:
                        row[f"{question.path}/{name}"] = 0
        assert row is not None
        row["_submitted"] = max(str(row.get("_submitted") or ""), str(answer["at"]))
        for field in ("language", "country", "region", "sector"):
            row[f"_{field}"] = answer[field]
        found = by_name.get(str(answer["question"]))
        if found is None:
            continue
        question = found
        value = str(answer["value"])
        if question.multiple:
            chosen = value.split()
            if multi == "split":
                for name in chosen:
                    row[f"{question.path}/{name}"] = 1
            shown = [question.choice_label(v, language) for v in chosen] if labels else chosen
            row[question.path] = "; ".join(shown) if labels else " ".join(shown)
        elif labels and question.choices:
            row[question.path] = question.choice_label(value, language)
        elif labels and answer.get("value_label") and question.type != "text":
            row[question.path] = answer["value_label"]
        else:
            row[question.path] = value
    if row is not None:
        yield row
