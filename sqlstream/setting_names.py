"""Which names SET, SHOW, ALTER SYSTEM and connect() accept.

sqlstream's own settings (`settings.SETTINGS`) are checked and typed; the standard
PostgreSQL parameters that drivers and tools set when they connect (psycopg, asyncpg,
JDBC, SQLAlchemy, psql) are accepted and kept per session as text; any other name is
refused as PostgreSQL refuses it (42704), with the nearest known name as a hint."""

from __future__ import annotations

import difflib
from typing import Any, Iterable

from planner.errors import ProgrammingError
from sqlstream.settings import DATABASE_SETTINGS, SETTINGS

UNDEFINED_OBJECT = "42704"
CANT_CHANGE_NOW = "55P02"

# Other spellings of sqlstream's settings (RisingWave's session variable names).
ALIASES = {"rw_implicit_flush": "implicit_flush"}

# PostgreSQL's client-facing parameters: accepted by SET and shown by SHOW, with no
# effect on the engine beyond what the session does with them.
PG_PARAMETERS = (
    "application_name", "array_nulls", "backslash_quote", "bytea_output",
    "check_function_bodies", "client_encoding", "client_min_messages", "cursor_tuple_fraction",
    "datestyle", "default_tablespace", "default_text_search_config",
    "default_transaction_deferrable", "default_transaction_isolation",
    "default_transaction_read_only", "default_with_oids", "enable_bitmapscan",
    "enable_hashagg", "enable_hashjoin", "enable_indexonlyscan", "enable_indexscan",
    "enable_material", "enable_mergejoin", "enable_nestloop", "enable_partition_pruning",
    "enable_seqscan", "enable_sort", "escape_string_warning", "extra_float_digits",
    "from_collapse_limit", "geqo", "gin_fuzzy_search_limit", "idle_in_transaction_session_timeout",
    "idle_session_timeout", "integer_datetimes", "intervalstyle", "is_superuser",
    "jit", "join_collapse_limit", "lc_collate", "lc_ctype", "lc_messages", "lc_monetary",
    "lc_numeric", "lc_time", "lock_timeout", "log_statement", "maintenance_work_mem",
    "max_identifier_length", "max_parallel_workers_per_gather", "plan_cache_mode",
    "quote_all_identifiers", "random_page_cost", "role", "row_security", "search_path",
    "server_encoding", "server_version", "server_version_num", "session_authorization",
    "session_replication_role", "standard_conforming_strings", "statement_timeout",
    "synchronous_commit", "tcp_keepalives_count", "tcp_keepalives_idle",
    "tcp_keepalives_interval", "temp_buffers", "temp_tablespaces", "timezone",
    "transaction_deferrable", "transaction_isolation", "transaction_read_only",
    "transform_null_equals", "work_mem", "xmlbinary", "xmloption",
)


def canonical(name: str) -> str:
    """The setting's own name for an alias; any other name unchanged (lower case)."""
    low = name.lower()
    return ALIASES.get(low, low)


def is_pg_parameter(name: str) -> bool:
    # A dotted name is a custom parameter (`myapp.tenant`), which PostgreSQL accepts too.
    return name in PG_PARAMETERS or "." in name


def nearest(name: str, known: Iterable[str]) -> str | None:
    best = difflib.get_close_matches(name.lower(), list(known), n=1, cutoff=0.0)
    return best[0] if best else None


def unrecognized(name: str, known: Iterable[str] | None = None) -> ProgrammingError:
    """PostgreSQL's error for a name no setting has, with the nearest name as a hint."""
    if known is None:
        known = [*SETTINGS, *ALIASES, *PG_PARAMETERS]
    near = nearest(name, known)
    return ProgrammingError(f'unrecognized configuration parameter "{name}"', UNDEFINED_OBJECT,
                            hint=f'Perhaps you meant "{near}".' if near else None)


def database_wide(name: str) -> ProgrammingError:
    """A plain SET of a setting that belongs to the whole database."""
    return ProgrammingError(
        f'parameter "{name}" is a database-wide setting and cannot be changed with SET',
        CANT_CHANGE_NOW,
        detail="It applies to every session of the database, not only this one.",
        hint=f"Use ALTER SYSTEM SET {name} = ... to change it for the whole database.")


def check_options(options: dict[str, Any]) -> None:
    """connect()'s keyword options must each name one of sqlstream's settings."""
    for key in options:
        if canonical(key) not in SETTINGS:
            near = nearest(key, [*SETTINGS, *ALIASES])
            raise ProgrammingError(
                f'unrecognized configuration parameter "{key}" given to connect(); '
                f'perhaps you meant "{near}"', UNDEFINED_OBJECT,
                hint=f"The options of connect() are: {', '.join(SETTINGS)}.")


__all__ = ["ALIASES", "DATABASE_SETTINGS", "PG_PARAMETERS", "canonical", "check_options",
           "database_wide", "is_pg_parameter", "unrecognized"]
