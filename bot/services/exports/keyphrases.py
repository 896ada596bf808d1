"""Recurring key phrases in free-text answers, per group (country, province/state, sector...).

Phrases are word n-grams (1 to 3 content words) matched without accents or case, so "Acceso a la
salud" and "acceso a la salud" count together; stop words (the union of the shipped Spanish,
English and French lists, since answers mix languages) are dropped, but may sit *inside* a phrase:
"acceso a la salud" is the bigram acceso+salud and is shown in its most frequent written form.
N-grams never cross punctuation. TF-IDF (scikit-learn's default formula, computed here: see tfidf)
weighs them over all answers (min_df 2 when the terms allow it); each group ranks phrases by
summed TF-IDF over its answers.
Only phrases found in at least two answers of a group are kept (a phrase must recur), and a phrase
contained in (or containing) a better-ranked one found in as many answers is left out as a repeat.
Groups with fewer than min_group_size answers are suppressed: neither their phrases nor their size.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path

_WORD = re.compile(r"[^\W_]+")
# Between two words, anything but spaces, apostrophes and hyphens ends a phrase.
_BREAK = re.compile(r"[^\s'’\-]")
_MAX_BRIDGE = 3
_MAX_WORDS = 3
LANGUAGES = ("es", "en", "fr")


@dataclass(frozen=True, slots=True)
class TextItem:
    """One free-text answer: its text, the group it counts in, and its author's pseudonym."""

    text: str
    group: str
    pseudonym: str


@dataclass(frozen=True, slots=True)
class Phrase:
    """A recurring phrase: its written form, answers of the group holding it, a few examples."""

    phrase: str
    count: int
    examples: tuple[tuple[str, str], ...]


@dataclass(frozen=True, slots=True)
class GroupPhrases:
    """A group's key phrases; a suppressed group shows neither phrases nor its number of answers."""

    answers: int | None
    suppressed: bool
    phrases: tuple[Phrase, ...]


def fold(word: str) -> str:
    """Lower-case a word and strip its accents, for matching."""
    decomposed = unicodedata.normalize("NFKD", word.casefold())
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


@cache
def stop_words() -> frozenset[str]:
    """The union of the shipped stop lists, accent-folded."""
    folder = Path(__file__).with_name("stopwords")
    words: set[str] = set()
    for language in LANGUAGES:
        for line in (folder / f"{language}.txt").read_text(encoding="utf-8").splitlines():
            if (word := line.strip()) and not word.startswith("#"):
                words.update(fold(part) for part in _WORD.findall(word))
    return frozenset(words)


def _ngrams(text: str, stops: frozenset[str]) -> list[tuple[str, str]]:
    """The (folded key, written form) of each 1-3 content-word n-gram of text, in order."""
    runs: list[list[tuple[str, int, int]]] = [[]]
    bridge = 0
    last_end = 0
    for match in _WORD.finditer(text):
        word = fold(match.group())
        if _BREAK.search(text, last_end, match.start()) or bridge > _MAX_BRIDGE:
            runs.append([])
            bridge = 0
        last_end = match.end()
        if word in stops or len(word) < 2 or word.isdigit():
            bridge += 1
            continue
        runs[-1].append((word, match.start(), match.end()))
        bridge = 0
    grams: list[tuple[str, str]] = []
    for run in runs:
        for i in range(len(run)):
            for n in range(1, _MAX_WORDS + 1):
                if i + n > len(run):
                    break
                words = run[i : i + n]
                key = " ".join(word for word, _, _ in words)
                grams.append((key, text[words[0][1] : words[-1][2]].lower()))
    return grams


def key_phrases(
    texts: Sequence[TextItem],
    language_hint: str | None = None,
    top: int = 10,
    min_group_size: int = 5,
    examples: int = 3,
) -> dict[str, GroupPhrases]:
    """Rank recurring phrases per group by summed TF-IDF; small groups are suppressed.

    language_hint is checked but does not narrow the stop words: answers often mix languages.
    """
    if language_hint is not None and language_hint not in LANGUAGES:
        raise ValueError(f"unknown language {language_hint!r}")
    items = [item for item in texts if item.text.strip()]
    stops = stop_words()
    docs = [_ngrams(item.text, stops) for item in items]
    forms: dict[str, Counter[str]] = {}
    for grams in docs:
        for key, form in grams:
            forms.setdefault(key, Counter())[form] += 1
    members: dict[str, list[int]] = {}
    for index, item in enumerate(items):
        members.setdefault(item.group, []).append(index)
    matrix, vocabulary = tfidf([[key for key, _ in grams] for grams in docs])
    result: dict[str, GroupPhrases] = {}
    for group in sorted(members):
        rows = members[group]
        if len(rows) < min_group_size:
            result[group] = GroupPhrases(None, True, ())
            continue
        phrases: list[Phrase] = []
        if vocabulary:
            scores: dict[str, float] = {}
            present: Counter[str] = Counter()
            for row in rows:
                for key, weight in matrix[row].items():
                    scores[key] = scores.get(key, 0.0) + weight
                    present[key] += 1
            ranked = sorted(
                (key for key in scores if present[key] >= 2),
                key=lambda key: (-round(scores[key], 9), -key.count(" "), key),
            )
            chosen: list[tuple[str, int]] = []
            for key in ranked:
                count = present[key]
                if any(_repeat(key, other) and count == n for other, n in chosen):
                    continue
                chosen.append((key, count))
                if len(chosen) == top:
                    break
            for key, count in chosen:
                form = min(forms[key].items(), key=lambda pair: (-pair[1], pair[0]))[0]
                holders = [r for r in rows if any(k == key for k, _ in docs[r])][:examples]
                shown = tuple((items[r].pseudonym, items[r].text) for r in holders)
                phrases.append(Phrase(form, count, shown))
        result[group] = GroupPhrases(len(rows), False, tuple(phrases))
    return result


def _repeat(key: str, other: str) -> bool:
    """Whether one phrase is the other or sits inside it, word for word."""
    a, b = f" {key} ", f" {other} "
    return a in b or b in a


def tfidf(docs: list[list[str]]) -> tuple[list[dict[str, float]], list[str]]:
    """TF-IDF weights per document, as scikit-learn's TfidfVectorizer computes them by default.

    Raw counts times the smoothed idf ln((1 + n) / (1 + df)) + 1, each document scaled to unit
    length (l2); terms in fewer than two documents are dropped when any term is in two or more
    (min_df 2, else 1). Computed here rather than with scikit-learn: importing it and SciPy alone
    adds ~85 MB to the process, more than half of an export's memory budget.
    """
    df: Counter[str] = Counter()
    for doc in docs:
        df.update(set(doc))
    min_df = 2 if len(docs) >= 2 and any(n >= 2 for n in df.values()) else 1
    kept = sorted(term for term, n in df.items() if n >= min_df)
    total = len(docs)
    idf = {term: math.log((1 + total) / (1 + df[term])) + 1 for term in kept}
    weights: list[dict[str, float]] = []
    for doc in docs:
        counts = Counter(term for term in doc if term in idf)
        raw = {term: n * idf[term] for term, n in counts.items()}
        norm = math.sqrt(sum(w * w for w in raw.values())) or 1.0
        weights.append({term: w / norm for term, w in raw.items()})
    return weights, kept
