"""SHOW CREATE TABLE / MATERIALIZED VIEW / VIEW / SOURCE name: the statement that
creates the relation as it is now, with RisingWave's columns (`Name`, `Create Sql`).

Views and sources return the statement they were created with; a table created
with a column list is written out from the catalog (columns, NOT NULL, DEFAULT,
primary key, APPEND ONLY, ON CONFLICT)."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from planner import types as T
from planner.catalog import MATERIALIZED_VIEW, SOURCE, TABLE, VIEW, Relation
from planner.errors import SYNTAX_ERROR, UNDEFINED_TABLE, ProgrammingError
from planner.table_clauses import describe as describe_clauses
from sqlstream.result import Column, StatementResult

if TYPE_CHECKING:
    from sqlstream.session import Session

SHOW_CREATE = re.compile(r"^CREATE\s+(TABLE|MATERIALIZED\s+VIEW|VIEW|SOURCE|SINK|INDEX|FUNCTION)"
                         r"\s+(.+?)\s*;?$", re.IGNORECASE | re.DOTALL)
_KINDS = {"TABLE": TABLE, "MATERIALIZED VIEW": MATERIALIZED_VIEW, "VIEW": VIEW,
          "SOURCE": SOURCE}


def is_show_create(what: str) -> bool:
    return bool(re.match(r"^CREATE\b", what.strip(), re.IGNORECASE))


def show_create(session: Session, what: str) -> StatementResult:
    m = SHOW_CREATE.match(what.strip())
    if m is None:
        raise ProgrammingError(f'syntax error at or near "{what.strip()}": expected SHOW CREATE '
                               "{ TABLE | MATERIALIZED VIEW | VIEW | SOURCE } name",
                               SYNTAX_ERROR)
    kind = " ".join(m.group(1).upper().split())
    if kind not in _KINDS:
        from planner.errors import not_supported
        raise not_supported(f"SHOW CREATE {kind}")
    name = _name(m.group(2))
    with session.db.lock:
        rel = session.db.catalog.get(name)
        if rel is None or rel.kind != _KINDS[kind]:
            raise ProgrammingError(f'{_KINDS[kind]} "{name}" does not exist', UNDEFINED_TABLE)
        sql = create_sql(rel)
    return StatementResult("SHOW", [Column("Name", T.VARCHAR), Column("Create Sql", T.VARCHAR)],
                           [(f"{rel.schema}.{rel.name}", sql)])


_CREATE_HEAD = re.compile(r"^CREATE\s+OR\s+REPLACE\s+(VIEW)\s+|"
                          r"^(CREATE\s+(?:MATERIALIZED\s+VIEW|VIEW|TABLE|SOURCE))\s+IF\s+NOT\s+"
                          r"EXISTS\s+", re.IGNORECASE)


_SHOW_COLUMNS = re.compile(r"^COLUMNS\s+(?:FROM|IN)\s+([\w.\"]+)\s*;?$", re.IGNORECASE)


def is_show_columns(what: str) -> bool:
    return bool(re.match(r"^COLUMNS\b", what.strip(), re.IGNORECASE))


def show_columns(session: Session, what: str) -> StatementResult:
    """SHOW COLUMNS FROM name: RisingWave's columns Name, Type, Is Hidden and
    Description (the column's COMMENT)."""
    m = _SHOW_COLUMNS.match(what.strip())
    if m is None:
        raise ProgrammingError("syntax error: expected SHOW COLUMNS FROM name", SYNTAX_ERROR)
    name = _name(m.group(1))
    with session.db.lock:
        rel = session.db.catalog.get(name)
        if rel is None or rel.kind == "function":
            raise ProgrammingError(f'relation "{name}" does not exist', UNDEFINED_TABLE)
        comments = rel.options.get("column_comments") or {}
        rows = [(c.name, str(c.type), "true" if c.hidden else "false", comments.get(c.name))
                for c in rel.columns]
    cols = [Column(n, T.VARCHAR) for n in ("Name", "Type", "Is Hidden", "Description")]
    return StatementResult(f"SHOW {len(rows)}", cols, rows)


def _name(text: str) -> str:
    parts = [p.strip() for p in text.split(".")]
    parts = [p[1:-1].replace('""', '"') if p.startswith('"') else p.lower() for p in parts]
    if len(parts) > 1 and parts[-2] != "public":
        return f"{parts[-2]}.{parts[-1]}"
    return parts[-1]


def create_sql(rel: Relation) -> str:
    if rel.kind != TABLE or rel.definition:
        # the statement that creates it now: without OR REPLACE / IF NOT EXISTS
        return _CREATE_HEAD.sub(
            lambda m: f"CREATE {m.group(1)} " if m.group(1) else f"{m.group(2)} ",
            (rel.definition or "").strip().rstrip(";"), count=1)
    defaults = rel.options.get("defaults") or {}
    items = []
    for c in rel.visible_columns:
        item = f"{_ident(c.name)} {_type_sql(c.type)}"
        if not c.nullable and rel.column_index(c.name) not in rel.pk:
            item += " NOT NULL"
        if c.name in defaults:
            item += f" DEFAULT {defaults[c.name]}"
        items.append(item)
    keys = [rel.columns[i].name for i in rel.pk if not rel.columns[i].hidden]
    if keys:
        items.append(f"PRIMARY KEY ({', '.join(_ident(k) for k in keys)})")
    if wm := rel.options.get("watermark"):
        col, micros = _ident(wm[0]), int(wm[1])
        items.append(f"WATERMARK FOR {col} AS {col} - INTERVAL '{micros // 1_000_000}' SECOND"
                     if micros % 1_000_000 == 0 else
                     f"WATERMARK FOR {col} AS {col} - INTERVAL '{micros} microseconds'")
    sql = f"CREATE TABLE {_ident(rel.name)} ({', '.join(items)})"
    tail = describe_clauses(rel.options)
    return f"{sql} {tail}" if tail else sql


def _type_sql(t: T.DataType) -> str:
    return str(t)


def _ident(name: str) -> str:
    return name if re.match(r"^[a-z_][a-z0-9_]*$", name) else '"' + name.replace('"', '""') + '"'


__all__ = ["create_sql", "is_show_columns", "is_show_create", "show_columns", "show_create"]
