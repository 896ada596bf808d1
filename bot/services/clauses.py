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
from pathlib import Path

from bot.clock import Clock
from bot.services.registration import InputError
from storage import Store
from storage.exports import EVIDENCE_KINDS, Clause, Evidence, ExportsRepository

LANGUAGES = ("es", "en", "fr")
_CLAUSE = re.compile(r"^##\s+([A-Za-z0-9][A-Za-z0-9._-]*)\s*(?:[—:-].*)?$")
_LANGUAGE = re.compile(r"^###\s+([a-z]{2})\s*$")


def parse_markdown(text: str) -> list[tuple[str, dict[str, str]]]:
    """(id, texts by language) per clause, in file order; InputError for a malformed heading."""
    clauses: list[tuple[str, dict[str, str]]] = []
    language: str | None = None
    for number, line in enumerate(text.splitlines(), start=1):
        if line.startswith("## "):
            match = _CLAUSE.match(line.strip())
            if match is None:
                raise InputError("clauses.error.heading", line=number)
            clauses.append((match.group(1), {}))
            language = None
        elif line.startswith("### ") and clauses:
            found = _LANGUAGE.match(line.strip())
            if found is None:
                raise InputError("clauses.error.heading", line=number)
            language = found.group(1)
            clauses[-1][1][language] = ""
        elif clauses and language is not None:
            texts = clauses[-1][1]
            texts[language] = (texts[language] + "\n" + line).strip("\n")
    return [(cid, {k: v.strip() for k, v in texts.items()}) for cid, texts in clauses]


def parse_toml(text: str) -> list[tuple[str, dict[str, str]]]:
    """(id, texts by language) per `[[clause]]` table."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise InputError("clauses.error.toml", problem=str(error)) from error
    clauses = []
    for item in data.get("clause", []):
        texts = item.get("text", {}) if isinstance(item, dict) else {}
        if not isinstance(item, dict) or not item.get("id") or not isinstance(texts, dict):
            raise InputError("clauses.error.toml", problem="each [[clause]] needs id and text.*")
        clauses.append((str(item["id"]), {str(k): str(v).strip() for k, v in texts.items()}))
    return clauses


def check(clauses: list[tuple[str, dict[str, str]]]) -> None:
    """Refuse an empty file, a duplicate id or a clause missing a language."""
    if not clauses:
        raise InputError("clauses.error.empty")
    seen: set[str] = set()
    for clause_id, texts in clauses:
        if clause_id in seen:
            raise InputError("clauses.error.duplicate", clause=clause_id)
        seen.add(clause_id)
        missing = [language for language in LANGUAGES if not texts.get(language)]
        if missing:
            raise InputError(
                "clauses.error.language", clause=clause_id, languages=", ".join(missing)
            )


class ClausesService:
    """Load clauses and link evidence to them (audited)."""

    def __init__(self, store: Store, clock: Clock) -> None:
        self._store = store
        self._clock = clock
        self._repository = ExportsRepository(store.database)

    async def load(self, text: str, name: str, actor: str) -> int:
        """Load the text of a Markdown or TOML (name ends .toml) file; all of it or nothing."""
        toml = Path(name).suffix.lower() == ".toml"
        clauses = parse_toml(text) if toml else parse_markdown(text)
        check(clauses)
        count = await self._repository.replace_clauses(clauses, name, self._clock.now())
        await self._store.audit.record(actor, "clauses_load", name, {"clauses": count})
        return count

    async def clauses(self) -> list[Clause]:
        return await self._repository.clauses()

    async def link(self, clause_id: str, kind: str, ref: int, actor: str, note: str = "") -> bool:
        """Link an answer, proposal, meeting or record entry; False if already linked."""
        if await self._repository.clause(clause_id) is None:
            raise InputError("clauses.error.unknown", clause=clause_id)
        if kind not in EVIDENCE_KINDS:
            raise InputError("clauses.error.kind", kind=kind)
        if not await self._repository.item_exists(kind, ref):
            raise InputError("clauses.error.item", kind=kind, ref=ref)
        linked = await self._repository.link(clause_id, kind, ref, note, actor, self._clock.now())
        if linked:
            await self._store.audit.record(
                actor, "evidence_link", f"clause:{clause_id}", {"kind": kind, "ref": ref}
            )
        return linked

    async def evidence(self, clause_id: str) -> list[Evidence]:
        if await self._repository.clause(clause_id) is None:
            raise InputError("clauses.error.unknown", clause=clause_id)
        return await self._repository.evidence_of(clause_id)
