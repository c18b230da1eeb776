"""What a statement may reach outside the database: nothing.

Batch queries run in DuckDB, whose own functions read files (`read_text`, `read_csv`,
`glob`), run SQL given as text (`query`), show its settings (`duckdb_settings`,
`current_setting`) and whose statements attach databases, load extensions and write
files (`ATTACH`, `LOAD`, `COPY ... TO 'file'`). A query may use only the database's own
relations, scalar functions and the table functions in `TABLE_FUNCTIONS`; the rest is
refused with 42501 (insufficient_privilege), as PostgreSQL refuses `pg_read_file` to
an ordinary role. The serving store also runs DuckDB with external access disabled;
this check is what gives the client a clear error.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from sqlglot import exp

from planner.binder import position_of
from planner.errors import INSUFFICIENT_PRIVILEGE, UNDEFINED_FUNCTION, ProgrammingError

# Table functions a query may call in FROM (PostgreSQL's set-returning functions).
TABLE_FUNCTIONS = ("generate_series", "range", "unnest", "generate_subscripts", "json_each",
                   "json_tree")
_TABLE_FUNCTION_NODES = (exp.GenerateSeries, exp.ExplodingGenerateSeries, exp.Unnest)

# DuckDB functions that reach files, settings, extensions or run SQL given as text.
# A name here is refused wherever it is called; any other table function not in
# TABLE_FUNCTIONS does not exist as far as a client can tell.
_DENIED = frozenset((
    "glob", "query", "query_table", "sniff_csv", "current_setting", "getvariable",
    "getenv", "json_execute_serialized_sql", "which_secret", "import_database",
    "copy_database", "checkpoint", "force_checkpoint", "database_list", "database_size",
    "storage_info", "metadata_info", "table_info", "show", "show_databases", "show_tables",
    "show_tables_expanded", "summary", "seq_scan", "arrow_scan", "arrow_scan_dumb",
    "python_arrow_scan", "pandas_scan", "python_map_function", "extension_versions",
    "platform", "user_agent", "functions", "collations", "histogram_values",
    "test_all_types", "test_vector_types", "load_extension", "install_extension",
    "register_external_resource", "create_external_resource", "add_parquet_key",
    "sqlite_scan", "sqlite_attach", "postgres_scan", "postgres_attach", "mysql_scan",
    "iceberg_scan", "delta_scan",
))
_DENIED_PREFIXES = ("read_", "duckdb_", "pragma_", "parquet_", "iceberg_", "delta_",
                    "sqlite_", "postgres_", "mysql_", "enable_", "disable_",
                    "json_execute")
# Schemas whose functions are the database's own (PostgreSQL catalog macros).
_OWN_SCHEMAS = ("_pg",)
# Characters of a file path or URL: DuckDB reads a quoted "name.csv" as that file.
_PATHLIKE = re.compile(r"[/\\.:*?]")


def _denied(name: str) -> bool:
    return name in _DENIED or name.startswith(_DENIED_PREFIXES)


def _refuse(name: str, node: exp.Expression) -> ProgrammingError:
    return ProgrammingError(
        f"permission denied for function {name}: queries cannot read files, load "
        "extensions or read the serving store's settings", INSUFFICIENT_PRIVILEGE,
        position_of(node))


def _name(node: exp.Expression) -> str:
    if isinstance(node, exp.Anonymous):  # quoted or not: DuckDB ignores the case
        return node.name.lower()
    if isinstance(node, (exp.GenerateSeries, exp.ExplodingGenerateSeries)):
        return "generate_series"
    return node.sql_name().lower() if isinstance(node, exp.Func) else node.key


def _own(node: exp.Expression) -> bool:
    """A call qualified by one of the database's own schemas (`_pg.current_setting`)."""
    parent = node.parent
    if isinstance(parent, exp.Dot) and parent.expression is node:
        return isinstance(parent.this, exp.Identifier) and parent.this.name in _OWN_SCHEMAS
    if isinstance(parent, exp.Table) and parent.this is node:
        return parent.db in _OWN_SCHEMAS and not parent.catalog
    return False


def check_table_function(table: exp.Table) -> None:
    """A function in FROM must be one of TABLE_FUNCTIONS."""
    func = table.this
    if not (isinstance(func, exp.Expression) and isinstance(func, exp.Func)) \
            or isinstance(func, _TABLE_FUNCTION_NODES) or _own(func):
        return
    name = _name(func)
    if _denied(name):
        raise _refuse(name, func)
    if name not in TABLE_FUNCTIONS or table.db or table.catalog:
        qualified = ".".join(p for p in (table.catalog, table.db, name) if p)
        raise ProgrammingError(f"function {qualified} does not exist", UNDEFINED_FUNCTION,
                               position_of(func))


def check_table_name(table: exp.Table) -> None:
    """A name not found in the catalog must not make DuckDB read a file
    (`FROM "data.csv"`) or show its internals (`FROM main.duckdb_settings`)."""
    if isinstance(table.this, exp.Identifier) and _PATHLIKE.search(table.name):
        raise ProgrammingError(
            f'permission denied for relation "{table.name}": queries cannot read files',
            INSUFFICIENT_PRIVILEGE, position_of(table))
    if table.name.lower().startswith(("duckdb_", "sqlite_", "pragma_")):
        raise ProgrammingError(f'relation "{table.name}" does not exist', "42P01",
                               position_of(table))


def check_query(tree: exp.Expression,
                own_function: Callable[[str], bool] | None = None) -> None:
    """Refuse a query that calls a function outside the database (42501);
    `own_function(name)` tells the database's own (user-defined) functions."""
    for table in tree.find_all(exp.Table):
        check_table_function(table)
    for func in tree.walk():
        if not (isinstance(func, exp.Expression) and isinstance(func, exp.Func)):
            continue
        if isinstance(func, exp.Anonymous) or type(func).__name__.startswith("Read"):
            name = _name(func)
            if _denied(name) and not _own(func) \
                    and not (own_function is not None and own_function(name)):
                raise _refuse(name, func)


# Statements of DuckDB (and PostgreSQL's COPY with a file or program) that reach
# files, extensions or other databases.
_STATEMENT = re.compile(
    r"^\s*(ATTACH|DETACH|INSTALL|FORCE\s+INSTALL|LOAD|PRAGMA|EXPORT|IMPORT|CALL|USE"
    r"|CHECKPOINT|FORCE\s+CHECKPOINT|VACUUM|UPDATE\s+EXTENSIONS)\b", re.IGNORECASE)
_COPY_FILE = re.compile(r"^\s*COPY\b.*\b(?:TO|FROM)\s+(?:PROGRAM\b|E?')", re.IGNORECASE | re.DOTALL)


def check_statement(text: str) -> None:
    """Refuse statements that would attach, load, or copy to or from a file (42501)."""
    if _COPY_FILE.match(text):
        raise ProgrammingError(
            "permission denied to COPY to or from a file or program: use COPY ... TO "
            "STDOUT or FROM STDIN", INSUFFICIENT_PRIVILEGE, 1)
    if m := _STATEMENT.match(text):
        word = " ".join(m.group(1).upper().split())
        raise ProgrammingError(
            f"permission denied for {word}: statements cannot attach databases, load "
            "extensions or touch files", INSUFFICIENT_PRIVILEGE, 1)


__all__ = ["TABLE_FUNCTIONS", "check_query", "check_statement", "check_table_name"]
