"""A CSV line built by the database itself: one expression per row, formula triggers neutralised."""

from __future__ import annotations

from collections.abc import Sequence

from storage.db import Dialect
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


def csv_line_sql(columns: Sequence[TextColumn], dialect: Dialect = "sqlite") -> str:
    """SQL for one RFC 4180 line (CRLF included) as a BLOB, built by a single printf call.

    Text cells are quoted with %w (which doubles inner double quotes; NULL becomes ""); typed text
    starting with a formula trigger gets a leading ', whoever typed it (members, or staff in a
    form's labels, id and version). One printf per row, rather than a || per
    cell, keeps this near `sqlite3 -csv`: each || copies the whole line built so far.
    """
    if dialect == "postgresql":
        return _postgres_line(columns)
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


# The same rule in PostgreSQL's regular expressions.
_PG_TRIGGER = (
    "({name} ~ '^[=+@\\t\\r-]' AND NOT ({name} ~ '^[+-]' AND substr({name}, 2) ~ '[0-9]'"
    " AND substr({name}, 2) !~ '[^0-9.,eE+-]'))"
)


def _postgres_line(columns: Sequence[TextColumn]) -> str:
    """The same line in PostgreSQL: concat_ws of quoted cells, as UTF-8 bytes."""
    cells: list[str] = []
    for column in columns:
        name = column.name
        if not column.text:
            cells.append(f"COALESCE(({name})::text, '')")
            continue
        quoted = f"replace(COALESCE(({name})::text, ''), '\"', '\"\"')"
        if column.from_user:
            mark = f"CASE WHEN {_PG_TRIGGER.format(name=name)} THEN '''' ELSE '' END"
            cells.append(f"'\"' || {mark} || {quoted} || '\"'")
        else:
            cells.append(f"'\"' || {quoted} || '\"'")
    return f"convert_to(concat_ws(',', {', '.join(cells)}) || E'\\r\\n', 'UTF8')"
