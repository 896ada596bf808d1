"""A CSV line built by SQLite itself: one printf per row, formula triggers neutralised."""

from __future__ import annotations

from collections.abc import Sequence

from storage.models import Model

# SQL-built CSV lines fetched at once: a few MB, few Python calls per 100,000 rows.
CSV_CHUNK = 20000


class TextColumn(Model):
    """A column of a SQL-built CSV line: SQL name, whether it is text, whether users typed it."""

    name: str
    text: bool = True
    from_user: bool = False


# A cell Excel would read as a formula: it starts with a trigger and is not a plain signed number
# ("-5", "+3.5" stay numbers). The same rule as bot/services/exports/safety.neutralise.
_TRIGGER = (
    "(substr({name}, 1, 1) IN ('=', '+', '-', '@', char(9), char(13)) AND NOT ("
    "substr({name}, 1, 1) IN ('+', '-') AND substr({name}, 2) GLOB '*[0-9]*'"
    " AND substr({name}, 2) NOT GLOB '*[^0-9.,eE+-]*'))"
)


def csv_line_sql(columns: Sequence[TextColumn]) -> str:
    """SQL for one RFC 4180 line (CRLF included) as a BLOB, built by a single printf call.

    Text cells are quoted with %w (which doubles inner double quotes; NULL becomes ""); typed text
    starting with a formula trigger gets a leading ', whoever typed it (members, or staff in a
    form's labels, id and version). One printf per row, rather than a || per
    cell, keeps this near `sqlite3 -csv`: each || copies the whole line built so far.
    """
    formats: list[str] = []
    arguments: list[str] = []
    for column in columns:
        name = column.name
        if not column.text:
            formats.append("%s")
        elif column.from_user:
            formats.append('"%s%w"')
            arguments.append(f"iif({_TRIGGER.format(name=name)}, '''', '')")
        else:  # our own codes and names (pseudonyms, regions, dates): never a formula
            formats.append('"%w"')
        arguments.append(f"ifnull({name}, '')")
    line = ",".join(formats)
    return f"CAST(printf('{line}', {', '.join(arguments)}) || char(13, 10) AS BLOB)"
