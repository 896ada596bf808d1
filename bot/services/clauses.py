"""Draft policy clauses, loaded from Markdown or TOML, and the evidence linked to each.

Markdown format: each clause starts with a level-2 heading `## <id> — <title>` (an em dash, `-`
or `:` separates the id from an optional title); inside it, each language's text follows a
level-3 heading naming the language code: `### es`, `### en`, `### fr`. Text before the first
clause heading is ignored (a preamble).

TOML format: `[[clause]]` tables with `id = "C1"` and `text.es = "..."`, `text.en`, `text.fr`.

Every clause needs a text in each of the programme's languages (es, en, fr) and a unique id;
otherwise loading refuses the whole file and nothing is stored.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from pathlib import Path

from bot.clock import Clock
from bot.services.errors import InputError, clean_text
from storage import Store
from storage.evidence import EVIDENCE_KINDS, Clause, Evidence, Item

LANGUAGES = ("es", "en", "fr")
SUFFIXES = (".md", ".toml")
MAX_FILE_BYTES = 1 << 20
NOTE_MAX = 500
_CLAUSE = re.compile(r"^##\s+([A-Za-z0-9][A-Za-z0-9._-]*)\s*(?:[—:-].*)?$")
_LANGUAGE = re.compile(r"^###\s+([a-z]{2})\s*$")
Parsed = list[tuple[str, dict[str, str]]]


class ClausesRefused(InputError):
    """Every reason a clauses file was refused (nothing stored); the first is the error's own."""

    def __init__(self, problems: list[InputError]) -> None:
        super().__init__(problems[0].key, **problems[0].values)
        self.problems = problems


def parse_markdown(text: str) -> tuple[Parsed, list[InputError]]:
    """(id, texts by language) per clause, in file order, and every malformed heading."""
    clauses: Parsed = []
    problems: list[InputError] = []
    language: str | None = None
    # After a malformed clause heading its sections belong to no clause (not to the one before).
    inside = False
    for number, line in enumerate(text.splitlines(), start=1):
        if line.startswith("## "):
            match = _CLAUSE.match(line.strip())
            language = None
            inside = match is not None
            if match is None:
                problems.append(InputError("clauses.error.heading", line=number))
                continue
            clauses.append((match.group(1), {}))
        elif line.startswith("### ") and inside:
            found = _LANGUAGE.match(line.strip())
            if found is None:
                problems.append(InputError("clauses.error.heading", line=number))
                language = None
                continue
            language = found.group(1)
            clauses[-1][1][language] = ""
        elif inside and language is not None:
            texts = clauses[-1][1]
            texts[language] = (texts[language] + "\n" + line).strip("\n")
    return [(cid, {k: v.strip() for k, v in texts.items()}) for cid, texts in clauses], problems


def parse_toml(text: str) -> tuple[Parsed, list[InputError]]:
    """(id, texts by language) per `[[clause]]` table, and what is wrong with the file."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        return [], [InputError("clauses.error.toml", problem=str(error))]
    clauses: Parsed = []
    for item in data.get("clause", []):
        texts = item.get("text", {}) if isinstance(item, dict) else {}
        if not isinstance(item, dict) or not item.get("id") or not isinstance(texts, dict):
            problem = "each [[clause]] needs id and text.*"
            return [], [InputError("clauses.error.toml", problem=problem)]
        clauses.append((str(item["id"]), {str(k): str(v).strip() for k, v in texts.items()}))
    return clauses, []


def check(clauses: Parsed) -> list[InputError]:
    """An empty file, every duplicate id and every clause missing a language."""
    if not clauses:
        return [InputError("clauses.error.empty")]
    problems: list[InputError] = []
    seen: set[str] = set()
    for clause_id, texts in clauses:
        if clause_id in seen:
            problems.append(InputError("clauses.error.duplicate", clause=clause_id))
        seen.add(clause_id)
        missing = [language for language in LANGUAGES if not texts.get(language)]
        if missing:
            problems.append(
                InputError("clauses.error.language", clause=clause_id, languages=", ".join(missing))
            )
    return problems


@dataclass(frozen=True)
class Page:
    """Items of one page, and how many there are in all."""

    items: list[Item]
    total: int
    page: int
    size: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.size))


class ClausesService:
    """Load clauses and link evidence to them (audited); the items staff browse to link."""

    def __init__(self, store: Store, clock: Clock) -> None:
        self._store = store
        self._clock = clock
        self._repository = store.evidence

    async def load(self, text: str, name: str, actor: str) -> int:
        """Load the text of a Markdown or TOML (name ends .toml) file; all of it or nothing."""
        toml = Path(name).suffix.lower() == ".toml"
        clauses, problems = parse_toml(text) if toml else parse_markdown(text)
        problems += check(clauses) if clauses or not problems else []
        if problems:
            raise ClausesRefused(problems)
        count = await self._repository.replace_clauses(clauses, name, self._clock.now())
        await self._store.audit.record(actor, "clauses_load", name, {"clauses": count})
        return count

    async def load_bytes(self, content: bytes, name: str, actor: str) -> int:
        """A file sent in chat: UTF-8 text of at most MAX_FILE_BYTES, then as `load`."""
        if len(content) > MAX_FILE_BYTES:
            raise ClausesRefused([InputError("clauses.error.size", limit="1 MB")])
        try:
            text = content.decode("utf-8-sig")
        except UnicodeDecodeError:
            raise ClausesRefused([InputError("clauses.error.encoding")]) from None
        return await self.load(text, name, actor)

    async def clauses(self) -> list[Clause]:
        return await self._repository.clauses()

    async def numbered(self, number: int) -> Clause | None:
        """A clause by the number its buttons carry."""
        return await self._repository.clause_numbered(number)

    async def counts(self) -> dict[str, int]:
        """How many items are linked to each clause."""
        return await self._repository.counts()

    async def link(self, clause_id: str, kind: str, ref: int, actor: str, note: str = "") -> bool:
        """Link an answer, proposal, meeting or record entry; False if already linked."""
        if await self._repository.clause(clause_id) is None:
            raise InputError("clauses.error.unknown", clause=clause_id)
        if kind not in EVIDENCE_KINDS:
            raise InputError("clauses.error.kind", kind=kind)
        if not await self._repository.item_exists(kind, ref):
            # One key per kind: "No existe la respuesta #3", never the code "answer".
            raise InputError(f"clauses.error.item.{kind}", ref=ref)
        note = clean_text(note, NOTE_MAX, need_letter=False) if note.strip() else ""
        now = self._clock.now()
        linked = await self._repository.link(clause_id, kind, ref, note, actor, now)
        if linked:
            await self._store.audit.record(
                actor, "evidence_link", f"clause:{clause_id}", {"kind": kind, "ref": ref}
            )
        return linked

    async def unlink(self, clause_id: str, evidence_id: int, actor: str) -> Evidence | None:
        """Remove one link (audited); None when the clause has no such link (any more)."""
        removed = await self._repository.unlink(clause_id, evidence_id)
        if removed is not None:
            await self._store.audit.record(
                actor,
                "evidence_unlink",
                f"clause:{clause_id}",
                {"kind": removed.kind, "ref": removed.ref},
            )
        return removed

    async def evidence(self, clause_id: str) -> list[Evidence]:
        if await self._repository.clause(clause_id) is None:
            raise InputError("clauses.error.unknown", clause=clause_id)
        return await self._repository.evidence_of(clause_id)

    async def linked(self, clause_id: str) -> list[tuple[Evidence, Item | None]]:
        """The clause's links, each with the item it points to (None if that is gone)."""
        links = await self.evidence(clause_id)
        items = await self._repository.items(links)
        return [(link, items.get((link.kind, link.ref))) for link in links]

    # ---- what staff browse to link ----------------------------------------------------------
    async def item(self, kind: str, ref: int) -> Item | None:
        """An item that could be linked (answer, proposal, meeting or record entry)."""
        return await self._repository.item(kind, ref)

    async def answers(self, survey_id: int, question: str, page: int, size: int) -> Page:
        """A page of a question's current answers (those an erasure emptied are left out)."""
        total, items = await self._repository.answers(survey_id, question, page * size, size)
        return Page(items, total, page, size)

    async def proposals(self, theme: str | None, page: int, size: int) -> Page:
        """A page of proposals, newest first (optionally of one theme)."""
        total, items = await self._repository.proposals(theme, page * size, size)
        return Page(items, total, page, size)

    async def proposal_themes(self) -> dict[str, int]:
        """The themes with proposals, and how many each has."""
        return await self._repository.proposal_themes()

    async def meetings(self, page: int, size: int) -> Page:
        """A page of meetings not cancelled, latest first."""
        total, items = await self._repository.meetings(page * size, size)
        return Page(items, total, page, size)
