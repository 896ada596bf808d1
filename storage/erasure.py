"""What /deleteme removes from the record besides the member row: the text the person typed.

Choices, numbers and dates stay under the pseudonym (the record needs them, and they name no
one). What a person wrote in their own words — a free-text answer, a proposal — can hold their
name, e-mail, @username or city, so it is emptied. The empty text is the record's existing "no
answer here": exports show an empty cell and key phrases skip it, with no marker to translate.
The record is otherwise append-only; erasure is the one change made to entries already written.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping

from storage.db import Transaction

ERASED = ""


async def erase_typed_text(
    conn: Transaction,
    member_id: int,
    free_text: Mapping[int, Collection[str]],
) -> None:
    """Empty the member's free text, inside the caller's transaction.

    `free_text` names, for each survey whose form was read, its free-text questions. Answers to a
    survey not in it (its form could not be read) are all emptied: when in doubt, erase.
    """
    pseudonym = "(SELECT pseudonym FROM members WHERE id = ?)"
    for survey_id, questions in free_text.items():
        names = sorted(questions)
        if not names:
            continue
        listed = _placeholders(names)
        await conn.execute(
            "UPDATE survey_answers SET value = ?, label = ? WHERE member_id = ?"
            f" AND survey_id = ? AND question IN ({listed})",
            (ERASED, ERASED, member_id, survey_id, *names),
        )
        await conn.execute(
            "UPDATE record_entries SET value = ?, value_label = ?"
            f" WHERE kind = 'answer' AND pseudonym = {pseudonym} AND survey_id = ?"
            f" AND question IN ({listed})",
            (ERASED, ERASED, member_id, survey_id, *names),
        )
    known = sorted(free_text)
    # NOT IN () is not SQL: with no survey read, a survey id nobody has stands in.
    unread = f"survey_id NOT IN ({_placeholders(known) if known else '-1'})"
    await conn.execute(
        f"UPDATE survey_answers SET value = ?, label = ? WHERE member_id = ? AND {unread}",
        (ERASED, ERASED, member_id, *known),
    )
    await conn.execute(
        "UPDATE record_entries SET value = ?, value_label = ?"
        f" WHERE kind = 'answer' AND pseudonym = {pseudonym} AND {unread}",
        (ERASED, ERASED, member_id, *known),
    )
    # A proposal is all free text: its theme and provenance stay, so counts per theme hold and
    # evidence linked to it still points somewhere.
    await conn.execute(
        "UPDATE proposals SET text = ? WHERE member_id = ?",
        (ERASED, member_id),
    )
    await conn.execute(
        "UPDATE record_entries SET value = ?, value_label = ?"
        f" WHERE kind = 'proposal' AND pseudonym = {pseudonym}",
        (ERASED, ERASED, member_id),
    )


def _placeholders(values: Collection[object]) -> str:
    return ", ".join("?" for _ in values)
