"""RisingWave's clauses after a CREATE TABLE column list, which sqlglot does not
parse: `APPEND ONLY` (a table that takes only INSERT) and `ON CONFLICT action`
(what an INSERT of an existing primary key does):

- `OVERWRITE`: the new row replaces the old one;
- `IGNORE` (or `DO NOTHING`): the new row is dropped;
- `DO UPDATE IF NOT NULL`: the new row's non-NULL values replace the old ones.

Without the clause a duplicate key is an error (23505), as in PostgreSQL."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from planner.errors import SYNTAX_ERROR, ProgrammingError, not_supported

OVERWRITE = "overwrite"
IGNORE = "ignore"
UPDATE_IF_NOT_NULL = "do update if not null"

_HEAD = re.compile(r"^\s*CREATE\s+TABLE\b", re.IGNORECASE)
_APPEND = re.compile(r"\s*APPEND\s+ONLY\b", re.IGNORECASE)
_CONFLICT = re.compile(r"\s*ON\s+CONFLICT\s+(OVERWRITE|IGNORE|DO\s+NOTHING|DO\s+UPDATE\s+IF\s+"
                       r"NOT\s+NULL|DO\s+UPDATE\s+FULL)\b", re.IGNORECASE)
_VERSION = re.compile(r"\s*(WITH\s+VERSION\s+COLUMN)\b", re.IGNORECASE)
_CONFLICT_ANY = re.compile(r"\s*ON\s+CONFLICT\b\s*(\S*)", re.IGNORECASE)
_ACTIONS = {"OVERWRITE": OVERWRITE, "DO UPDATE FULL": OVERWRITE, "IGNORE": IGNORE,
            "DO NOTHING": IGNORE, "DO UPDATE IF NOT NULL": UPDATE_IF_NOT_NULL}


@dataclass
class TableClauses:
    text: str  # the statement without the clauses
    append_only: bool = False
    on_conflict: str | None = None


def _column_list_end(text: str) -> int | None:
    """Offset just after the parenthesis closing the column list, or None."""
    start = text.find("(")
    if start < 0:
        return None
    depth, i, n = 0, start, len(text)
    while i < n:
        c = text[i]
        if c in "'\"":
            j = text.find(c, i + 1)
            while j >= 0 and j + 1 < n and text[j + 1] == c:
                j = text.find(c, j + 2)
            if j < 0:
                return None
            i = j + 1
            continue
        if c == "(":
            depth += 1
        elif c == ")":
            depth -= 1
            if depth == 0:
                return i + 1
        i += 1
    return None


def split_table_clauses(text: str) -> TableClauses:
    """Cut APPEND ONLY / ON CONFLICT out of a CREATE TABLE statement.

    >>> c = split_table_clauses("CREATE TABLE t (a int PRIMARY KEY) ON CONFLICT IGNORE")
    >>> c.text, c.on_conflict
    ('CREATE TABLE t (a int PRIMARY KEY)', 'ignore')
    >>> split_table_clauses("CREATE TABLE t (a int) APPEND ONLY").append_only
    True
    """
    out = TableClauses(text)
    if not _HEAD.match(text) or re.match(r"^\s*CREATE\s+TABLE\s+[\w.\"]+\s+AS\b", text, re.IGNORECASE):
        return out
    end = _column_list_end(text)
    if end is None:
        return out
    rest = text[end:]
    while True:
        if m := _APPEND.match(rest):
            out.append_only = True
        elif m := _CONFLICT.match(rest):
            out.on_conflict = _ACTIONS[" ".join(m.group(1).upper().split())]
        elif m := _VERSION.match(rest):
            raise not_supported("WITH VERSION COLUMN", end + m.start(1) + 1)
        elif m := _CONFLICT_ANY.match(rest):
            raise ProgrammingError(
                f'syntax error at or near "{m.group(1) or "end of input"}": ON CONFLICT of a '
                "table takes OVERWRITE, IGNORE, DO NOTHING or DO UPDATE IF NOT NULL",
                SYNTAX_ERROR, end + m.start(1) + 1)
        else:
            break
        rest = rest[m.end():]
    out.text = text[:end] + rest
    return out


def resolve_conflict(policy: str, old: tuple, new: tuple) -> tuple | None:
    """The row a table keeps when `new` arrives with the key of `old`; None: keep `old`
    unchanged."""
    if policy == OVERWRITE:
        return new
    if policy == IGNORE:
        return None
    merged = tuple(n if n is not None else o for o, n in zip(old, new))
    return None if merged == old else merged


def describe(options: dict[str, Any]) -> str:
    """The clauses as SQL, for SHOW CREATE TABLE."""
    parts = []
    if options.get("append_only"):
        parts.append("APPEND ONLY")
    if options.get("on_conflict"):
        parts.append(f"ON CONFLICT {options['on_conflict'].upper()}")
    return " ".join(parts)


__all__ = [
    "IGNORE",
    "OVERWRITE",
    "UPDATE_IF_NOT_NULL",
    "TableClauses",
    "resolve_conflict",
    "split_table_clauses",
]
