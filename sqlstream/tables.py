"""Table features beyond the column list: APPEND ONLY, a table's ON CONFLICT
action, column DEFAULT values and CREATE TABLE AS. The catalog keeps them in the
table's options: `append_only`, `on_conflict`, `defaults` (column -> SQL)."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from planner.catalog import Relation
from planner.column_defaults import compile_default
from planner.create_table_as import ctas_parts
from planner.errors import DUPLICATE_TABLE, ProgrammingError, not_supported
from planner.table_clauses import TableClauses, resolve_conflict
from sqlstream.result import StatementResult

if TYPE_CHECKING:
    from sqlstream.session import Session


def options_of(clauses: TableClauses) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if clauses.append_only:
        out["append_only"] = True
    if clauses.on_conflict:
        out["on_conflict"] = clauses.on_conflict
    return out


def check_options(options: dict[str, Any], has_pk: bool) -> None:
    if options.get("append_only") and has_pk:
        raise not_supported("PRIMARY KEY on an APPEND ONLY table (its rows have no key)", 1)
    if options.get("watermark") and not options.get("append_only"):
        raise not_supported("WATERMARK on a table that is not APPEND ONLY (a watermark needs "
                            "rows that are never updated or deleted)", 1)
    if options.get("on_conflict") and not has_pk:
        raise ProgrammingError("ON CONFLICT of a table needs a primary key: without one no "
                               "two rows conflict", "42P10")


def is_append_only(rel: Relation) -> bool:
    return bool(rel.options.get("append_only"))


def refuse_change(rel: Relation, verb: str) -> None:
    """UPDATE and DELETE are refused on an append-only table."""
    if is_append_only(rel):
        raise not_supported(f'{verb} on append-only table "{rel.name}" (it takes INSERT only)')


def defaults_of(rel: Relation) -> dict[int, Callable[[], Any]]:
    """Column index -> a function giving the column's DEFAULT value now."""
    out = {}
    for name, sql in (rel.options.get("defaults") or {}).items():
        i = rel.column_index(name)
        if i is not None:
            out[i] = compile_default(sql, rel.columns[i].type)
    return out


def blank_row(width: int, defaults: dict[int, Callable[[], Any]]) -> list[Any]:
    """A row of NULLs and DEFAULT values, before the INSERT's own values go in."""
    row: list[Any] = [None] * width
    for i, f in defaults.items():
        row[i] = f()
    return row


def has_conflict_action(rel: Relation) -> bool:
    """Whether the table has an ON CONFLICT action; without one a duplicate key is a
    unique violation, as in PostgreSQL."""
    return bool(rel.options.get("on_conflict"))


def on_conflict(rel: Relation, old: tuple, new: tuple) -> tuple | None:
    """What the table's ON CONFLICT action makes of `new` meeting `old`: the row to
    keep, or None to keep `old` as it is."""
    return resolve_conflict(rel.options["on_conflict"], old, new)


def create_table_as(session: Session, tree: Any, clauses: TableClauses) -> StatementResult:
    """CREATE TABLE name [(columns)] AS query: a table typed by the query's columns,
    filled with its rows."""
    from planner import types as T
    from planner.catalog import ROW_ID, TABLE, ColumnDef
    from sqlstream import dml
    from sqlstream.ddl import _deploy_and_persist, _parallelism
    from sqlstream.views import query_columns
    db = session.db
    name, names, query, insert = ctas_parts(tree)
    with db.lock:
        if db.catalog.get(name) is not None:
            if tree.args.get("exists"):
                return StatementResult("CREATE TABLE AS", notices=[
                    f'relation "{name}" already exists, skipping'])
            raise ProgrammingError(f'relation "{name}" already exists', DUPLICATE_TABLE)
        cols = query_columns(session, query, names)
        options = options_of(clauses)
        check_options(options, False)
        cols.append(ColumnDef(ROW_ID, T.INT64, False, hidden=True))
        rel = Relation(db.catalog.allocate_id(), name, TABLE, cols, [len(cols) - 1],
                       parallelism=_parallelism(session), options=options)
        db.catalog.add(rel)
        db.run(_deploy_and_persist(db, rel))
    result = dml.insert(session, insert)
    if session.settings.get("implicit_flush"):
        db.flush()
    n = result.tag.split()[-1]
    return StatementResult(f"SELECT {n}")


__all__ = ["check_options", "create_table_as", "defaults_of", "has_conflict_action",
           "is_append_only", "on_conflict", "options_of", "refuse_change"]
