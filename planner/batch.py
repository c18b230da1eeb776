"""Batch queries: a SELECT over tables, views and system tables, translated to
DuckDB SQL with PostgreSQL's semantics kept (integer division, output column
names), after checking that every relation it names exists."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlglot import exp

from planner.batch_functions import rewrite_functions
from planner.batch_semantics import Scopes, apply_pg_semantics
from planner.binder import output_name, position_of
from planner.catalog import SINK, SOURCE, Catalog
from planner.corresponding import rewrite_corresponding
from planner.errors import (FEATURE_NOT_SUPPORTED, UNDEFINED_TABLE, NotSupportedError,
                            ProgrammingError)
from planner.external_access import check_query, check_table_name
from planner.views import expand_views

# PostgreSQL functions DuckDB knows under another name (same arguments, same result).
_RENAMED_FUNCTIONS = {"json_build_object": "json_object", "json_build_array": "json_array",
                      "jsonb_build_object": "json_object", "jsonb_build_array": "json_array",
                      "statement_timestamp": "get_current_timestamp",
                      "clock_timestamp": "get_current_timestamp"}

# The SQL-standard time keywords as DuckDB function calls: DuckDB reads a bare
# CURRENT_DATE as a column first, so `SELECT current_date` (named "current_date")
# would refer to its own output column.
_TIME_KEYWORDS: dict[type, str] = {
    exp.CurrentTimestamp: "get_current_timestamp", exp.CurrentDate: "current_date",
    exp.CurrentTime: "get_current_time", exp.Localtimestamp: "current_localtimestamp",
}

# Schemas answered by the serving store itself.
_PASSTHROUGH_SCHEMAS = ("pg_catalog", "information_schema", "_pg", "main")


@dataclass
class BatchQuery:
    sql: str
    system_tables: list[str] = field(default_factory=list)


def _cte_names(tree: exp.Expression) -> set[str]:
    return {c.alias for c in tree.find_all(exp.CTE)}


def translate(tree: exp.Expression, catalog: Catalog) -> BatchQuery:
    tree = expand_views(tree.copy(), catalog)
    tree = rewrite_corresponding(tree, lambda name: _column_names(catalog, name))
    check_query(tree, lambda name: _is_function(catalog, name))
    ctes = _cte_names(tree)
    system: list[str] = []
    scopes = Scopes()
    for table in tree.find_all(exp.Table):
        name, db = table.name, table.db
        if not name or isinstance(table.this, exp.Func):
            continue
        if db in _PASSTHROUGH_SCHEMAS or name.startswith("pg_") and not db:
            check_table_name(table)
            continue
        if not db and name in ctes:
            continue
        key = f"{db}.{name}" if db and db != "public" else name
        rel = catalog.get(key)
        if rel is None:
            raise ProgrammingError(f'relation "{key}" does not exist', UNDEFINED_TABLE,
                                   position_of(table))
        if rel.kind == SINK:
            raise ProgrammingError(f'"{rel.name}" is a sink, it holds no rows to read',
                                   "42809", position_of(table))
        if rel.kind == SOURCE:
            raise NotSupportedError(
                f'cannot read source "{rel.name}" in a batch query: a source stores '
                "nothing; create a materialized view over it, or create it as a table "
                "(CREATE TABLE ... WITH (connector = ...)) to keep its rows",
                FEATURE_NOT_SUPPORTED, position_of(table))
        if db == "public":  # the table, even beside a CTE of that name
            table.set("db", exp.to_identifier("main") if name in ctes else None)
        if rel.schema == "sys" and rel.name not in system:
            system.append(rel.name)
        scopes.add_table(table, {c.name: c.type for c in rel.columns})
    if isinstance(tree, exp.Select):
        _name_outputs(tree)  # before the rewrites below change how outputs would be named
    tree = apply_pg_semantics(tree, scopes)
    for node in list(tree.find_all(*_TIME_KEYWORDS, exp.Localtime)):
        if isinstance(node, exp.Localtime):
            node.replace(exp.cast(exp.Anonymous(this="current_localtimestamp"), "TIME"))
        else:
            node.replace(exp.Anonymous(this=_TIME_KEYWORDS[type(node)]))
    for cast in tree.find_all(exp.Cast):
        _bytea_hex_literal(cast)
    rewrite_functions(tree)
    for call in tree.find_all(exp.Anonymous):
        renamed = _RENAMED_FUNCTIONS.get(str(call.this).lower())
        if renamed is not None:
            call.set("this", renamed)
    return BatchQuery(tree.sql(dialect="duckdb"), system)


def _column_names(catalog: Catalog, name: str) -> list[str] | None:
    """The visible column names of a relation (None if there is none of that name)."""
    rel = catalog.get(name)
    return None if rel is None else [c.name for c in rel.columns if not c.hidden]


def _is_function(catalog: Catalog, name: str) -> bool:
    """Whether `name` is a user-defined function of the database."""
    rel = catalog.get(name)
    return rel is not None and rel.kind == "function"


def _bytea_hex_literal(cast: exp.Cast) -> None:
    """'\\x0001'::bytea is two bytes in PostgreSQL's hex format; DuckDB reads a BLOB
    literal byte by byte with \\xHH escapes, so spell it that way."""
    lit = cast.this
    if not (cast.to.is_type(exp.DataType.Type.VARBINARY, exp.DataType.Type.BINARY)
            and isinstance(lit, exp.Literal) and lit.is_string and lit.this.startswith("\\x")):
        return
    digits = lit.this[2:]
    try:
        data = bytes.fromhex(digits)
    except ValueError:
        raise ProgrammingError(f'invalid hexadecimal data in bytea literal "{lit.this}"',
                               "22P02", position_of(lit)) from None
    lit.set("this", "".join(f"\\x{b:02x}" for b in data))


def _name_outputs(sel: exp.Select) -> None:
    """Give unaliased output columns PostgreSQL's names (count, ?column?, ...)."""
    new = []
    for e in sel.expressions:
        if isinstance(e, (exp.Alias, exp.Column, exp.Star)) or (
                isinstance(e, exp.Column) and isinstance(e.this, exp.Star)):
            new.append(e)
            continue
        new.append(exp.alias_(e, output_name(e), quoted=True))
    sel.set("expressions", new)


__all__ = ["translate", "BatchQuery"]
