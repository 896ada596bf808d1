"""What /deleteme removes from the record besides the member row: the text the person typed.

Choices, numbers and dates stay under the pseudonym (the record needs them, and they name no
one). What a person wrote in their own words — a free-text answer, a proposal — can hold their
name, e-mail, @username or city, so it is emptied. The empty text is the record's existing "no
answer here": exports show an empty cell and key phrases skip it, with no marker to translate.
The record is otherwise append-only; erasure is the one change made to entries already written.
"""

from __future__ import annotations

import json
from collections.abc import Collection, Mapping

import aiosqlite

ERASED = ""


async def erase_typed_text(
    conn: aiosqlite.Connection,
    member_id: int,
    free_text: Mapping[int, Collection[str]],
) -> None:
    """Empty the member's free text, inside the caller's transaction.

    `free_text` names, for each survey whose form was read, its free-text questions. Answers to a
    survey not in it (its form could not be read) are all emptied: when in doubt, erase.
    """
    pseudonym = "(SELECT pseudonym FROM members WHERE id = :member)"
    for survey_id, questions in free_text.items():
        names = {"member": member_id, "survey": survey_id, "names": json.dumps(sorted(questions))}
        await conn.execute(
            "UPDATE survey_answers SET value = :erased, label = :erased WHERE member_id = :member"
            " AND survey_id = :survey AND question IN (SELECT value FROM json_each(:names))",
            {**names, "erased": ERASED},
        )
        await conn.execute(
            "UPDATE record_entries SET value = :erased, value_label = :erased"
            f" WHERE kind = 'answer' AND pseudonym = {pseudonym} AND survey_id = :survey"
            " AND question IN (SELECT value FROM json_each(:names))",
            {**names, "erased": ERASED},
        )
    known = {"member": member_id, "known": json.dumps(sorted(free_text)), "erased": ERASED}
    await conn.execute(
        "UPDATE survey_answers SET value = :erased, label = :erased WHERE member_id = :member"
        " AND survey_id NOT IN (SELECT value FROM json_each(:known))",
        known,
    )
    await conn.execute(
        "UPDATE record_entries SET value = :erased, value_label = :erased"
        f" WHERE kind = 'answer' AND pseudonym = {pseudonym}"
        " AND survey_id NOT IN (SELECT value FROM json_each(:known))",
        known,
    )
    # A proposal is all free text: its theme and provenance stay, so counts per theme hold and
    # evidence linked to it still points somewhere.
    await conn.execute(
        "UPDATE proposals SET text = :erased WHERE member_id = :member",
        {"member": member_id, "erased": ERASED},
    )
    await conn.execute(
        "UPDATE record_entries SET value = :erased, value_label = :erased"
        f" WHERE kind = 'proposal' AND pseudonym = {pseudonym}",
        {"member": member_id, "erased": ERASED},
    )
