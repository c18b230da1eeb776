"""COMMENT ON TABLE / VIEW / MATERIALIZED VIEW / SOURCE / COLUMN ... IS 'text' | NULL.

Comments are kept in the relation's catalog options (`comment`, and
`column_comments` by column name) and shown as PostgreSQL shows them: in
pg_description, through obj_description() / col_description() and psql's \\d+."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from planner.catalog import MATERIALIZED_VIEW, SOURCE, SYSTEM_TABLE, TABLE, VIEW
from planner.errors import (
    SYNTAX_ERROR,
    UNDEFINED_COLUMN,
    UNDEFINED_TABLE,
    ProgrammingError,
    not_supported,
)
from sqlstream.result import StatementResult

if TYPE_CHECKING:
    from sqlstream.session import Session

_NAME = r'(?:"(?:[^"]|"")+"|[A-Za-z_][\w$]*)'
COMMENT = re.compile(r"^COMMENT\s+ON\s+(TABLE|VIEW|MATERIALIZED\s+VIEW|SOURCE|COLUMN)\s+"
                     rf"((?:{_NAME}\s*\.\s*)*{_NAME})\s+IS\s+(NULL|'(?:[^']|'')*')\s*;?\s*$",
                     re.IGNORECASE | re.DOTALL)
_START = re.compile(r"^COMMENT\b", re.IGNORECASE)
_KINDS = {"TABLE": TABLE, "VIEW": VIEW, "MATERIALIZED VIEW": MATERIALIZED_VIEW,
          "SOURCE": SOURCE}


def is_comment(text: str) -> bool:
    return bool(_START.match(text))


def _parts(name: str) -> list[str]:
    out = []
    for m in re.finditer(_NAME, name):
        p = m.group(0)
        out.append(p[1:-1].replace('""', '"') if p.startswith('"') else p.lower())
    return out


def comment(session: Session, text: str) -> StatementResult:
    m = COMMENT.match(text.strip())
    other = re.match(r"^COMMENT\s+ON\s+(\w+)", text, re.IGNORECASE)
    if m is None and other and other.group(1).upper() not in ("TABLE", "VIEW", "MATERIALIZED",
                                                                "SOURCE", "COLUMN"):
        raise not_supported(f"COMMENT ON {other.group(1).upper()}", 1)
    if m is None:
        raise ProgrammingError("syntax error in COMMENT: expected COMMENT ON { TABLE | VIEW | "
                               "MATERIALIZED VIEW | SOURCE | COLUMN } name IS 'text' | NULL",
                               SYNTAX_ERROR, 1)
    kind = " ".join(m.group(1).upper().split())
    parts = _parts(m.group(2))
    value = None if m.group(3).upper() == "NULL" else m.group(3)[1:-1].replace("''", "'")
    if value == "":
        value = None  # as PostgreSQL: an empty comment removes it
    db = session.db
    with db.lock:
        column = None
        if kind == "COLUMN":
            if len(parts) < 2:
                raise ProgrammingError("column name must be qualified", "42601", 1)
            parts, column = parts[:-1], parts[-1]
        name = parts[-1]
        if len(parts) > 1 and parts[-2] not in ("public",):
            name = f"{parts[-2]}.{name}"
        rel = db.catalog.get(name)
        if rel is None or rel.kind == SYSTEM_TABLE:
            raise ProgrammingError(f'relation "{name}" does not exist', UNDEFINED_TABLE)
        if kind != "COLUMN" and rel.kind != _KINDS[kind]:
            raise ProgrammingError(f'"{rel.name}" is not a {_KINDS[kind]}', "42809")
        if column is not None:
            i = rel.column_index(column)
            if i is None or rel.columns[i].hidden:
                raise ProgrammingError(f'column "{column}" of relation "{rel.name}" does not '
                                       "exist", UNDEFINED_COLUMN)
            comments = dict(rel.options.get("column_comments") or {})
            _set(comments, column, value)
            _set(rel.options, "column_comments", comments or None)
        else:
            _set(rel.options, "comment", value)
        db.catalog.version += 1
        db.run(db.persist_catalog())
    return StatementResult("COMMENT")


def _set(d: dict, key: str, value: object) -> None:
    if value is None:
        d.pop(key, None)
    else:
        d[key] = value


__all__ = ["comment", "is_comment"]
