"""Session: statement dispatch. Splits the text into statements, runs each one
(DDL, DML, queries, utility commands) and returns one result per statement.

A session has its own settings; the engine (`Database`) is shared."""

from __future__ import annotations

import ctypes
import ctypes.util
import re
import threading
from contextlib import contextmanager
from typing import Any, Iterator, Sequence

from sqlglot import exp

from planner import types as T
from planner.errors import (Error, InternalError, OperationalError, ProgramLimitError,
                            ProgrammingError, not_supported)
from planner.external_access import check_statement
from planner.parse import Statement, bind_parameters, own_tree, shared_tree, split_statements
from planner.expressions.udf import user_functions
from sqlstream import comments, ddl, dml, query, show_create, udf
from sqlstream.database import Database
from sqlstream.deadline import WATCHDOG, Deadline
from sqlstream.result import Column, StatementResult
from sqlstream.settings import DATABASE_SETTINGS, SETTINGS, parse_value, show_value
from sqlstream.settings import apply as apply_setting
from sqlstream.setting_names import canonical, database_wide, is_pg_parameter, unrecognized

try:  # PostgreSQL catalog compatibility, from the wire-protocol layer
    from planner import pg_compat
except ImportError:  # pragma: no cover
    pg_compat = None  # type: ignore[assignment]

__all__ = ["Database", "Session"]

_TXN = re.compile(r"^(BEGIN|START\s+TRANSACTION|COMMIT|END|ROLLBACK|ABORT|SAVEPOINT|RELEASE"
                  r"|DISCARD|DEALLOCATE|RESET|CLOSE|UNLISTEN|LISTEN)\b", re.I)
_TXN_TAGS = {"BEGIN": "BEGIN", "START": "START TRANSACTION", "COMMIT": "COMMIT", "END": "COMMIT",
             "ROLLBACK": "ROLLBACK", "ABORT": "ROLLBACK", "SAVEPOINT": "SAVEPOINT",
             "RELEASE": "RELEASE", "DISCARD": "DISCARD ALL", "DEALLOCATE": "DEALLOCATE",
             "RESET": "RESET", "CLOSE": "CLOSE CURSOR", "UNLISTEN": "UNLISTEN",
             "LISTEN": "LISTEN"}
_SET = re.compile(r"^SET\s+(?:SESSION\s+|LOCAL\s+)?([\w.]+)\s*(?:=|\bTO\b)\s*(.+?)\s*$",
                  re.I | re.S)
_SET_TZ = re.compile(r"^SET\s+(?:SESSION\s+|LOCAL\s+)?TIME\s+ZONE\s+(.+?)\s*$", re.I | re.S)
# SET forms that name no parameter: transaction characteristics, NAMES, SCHEMA, ROLE.
_SET_OTHER = re.compile(r"^SET\s+(?:(?:SESSION|LOCAL)\s+)?(?:TRANSACTION|SESSION\s+CHARACTERISTICS"
                        r"|NAMES|SCHEMA|ROLE|SESSION\s+AUTHORIZATION)\b\s*(.*?)\s*$",
                        re.I | re.S)
_RESET = re.compile(r"^RESET\s+([\w.]+)\s*$", re.I)
_ALTER_SYSTEM = re.compile(r"^ALTER\s+SYSTEM\s+(?:SET\s+([\w.]+)\s*(?:=|\bTO\b)\s*(.+?)"
                           r"|RESET\s+([\w.]+))\s*$", re.I | re.S)
_SHOW = re.compile(r"^SHOW\s+(.+?)\s*$", re.I | re.S)
_FLUSH = re.compile(r"^FLUSH\s*$", re.I)
_EXPLAIN = re.compile(r"^EXPLAIN\s+(.*)$", re.I | re.S)
_DESCRIBE = re.compile(r"^(?:DESCRIBE|DESC)\s+([\w.\"]+)\s*$", re.I)

# Session-level settings every PostgreSQL client may ask for.
_CLIENT_DEFAULTS = {
    "server_version": "15.0.0", "server_encoding": "UTF8", "client_encoding": "UTF8",
    "datestyle": "ISO, MDY", "intervalstyle": "postgres", "timezone": "UTC",
    "standard_conforming_strings": "on", "transaction_isolation": "read committed",
    "search_path": '"$user", public', "application_name": "", "integer_datetimes": "on",
    "max_identifier_length": "63", "default_transaction_isolation": "read committed",
    "transaction_read_only": "off", "is_superuser": "on", "lc_collate": "C",
    "extra_float_digits": "1",
}


# After a statement this long, the heap memory its text, tokens and tree took is given
# back to the system (the allocator would keep it for the process otherwise).
_LARGE_STATEMENT = 1 << 20


def release_memory() -> None:
    """Return freed heap memory to the system (glibc's malloc_trim; elsewhere nothing)."""
    global _trim
    if _trim is None:
        try:
            _trim = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6").malloc_trim
        except (OSError, AttributeError):
            _trim = False
    if _trim:
        _trim(0)


_trim: Any = None


class Session:
    def __init__(self, db: Database) -> None:
        self.db = db
        self.settings: dict[str, Any] = {k: v for k, v in db.settings.items()}
        self.client_settings: dict[str, str] = dict(_CLIENT_DEFAULTS)
        self.closed = False
        self._cancel = threading.Event()
        # Python UDFs are arbitrary code: the wire server turns this off unless it was
        # started with --allow-udf-over-network.
        self.allow_udf = True
        # Folders posix_fs sources may read below; None: any folder. The wire server sets
        # the roots it was started with (--allow-fs-root), none by default.
        self.fs_roots: tuple[str, ...] | None = None
        self.running_cursor: Any = None
        # The wire server sends a SELECT's rows as DuckDB produces them; embedded use
        # gets them as a list.
        self.stream_results = False
        self._clock: Deadline | None = None
        self._timed_out = False

    # ------------------------------------------------------------ public API
    def execute(self, sql: str, params: Sequence[Any] | None = None) -> list[StatementResult]:
        if self.closed:
            raise OperationalError("the session is closed", "08003")
        try:
            if self._clock is not None:  # the caller runs the statement clock
                return self._execute_all(sql, params)
            with self.statement_clock():
                results = self._execute_all(sql, params)
                return results if self.stream_results else [r.materialize() for r in results]
        finally:
            if len(sql) >= _LARGE_STATEMENT:
                release_memory()

    def _execute_all(self, sql: str, params: Sequence[Any] | None) -> list[StatementResult]:
        results: list[StatementResult] = []
        for stmt in split_statements(sql):
            self.check_cancel()
            for r in results:  # only the last statement's rows may stay unread
                r.materialize()
            try:
                with user_functions(udf.lookup(self.db)):
                    results.append(self._execute_one(stmt, params))
            except Error as e:
                for r in results:
                    r.close()
                if e.position is not None:
                    e.position += stmt.offset
                raise
            except RecursionError:
                # A shape the token checks do not bound: PostgreSQL's answer to any too
                # deep recursion.
                raise ProgramLimitError("stack depth limit exceeded", "54001") from None
            except MemoryError:
                raise OperationalError("out of memory", "53200") from None
        return results

    @contextmanager
    def statement_clock(self) -> Iterator[None]:
        """One statement's run: a cancel request from before it is forgotten, and it
        is cancelled when it runs longer than `statement_timeout`. Everything inside,
        reading a streamed result's rows too, counts; nested clocks are the outer one."""
        if self._clock is not None:
            yield
            return
        self._cancel.clear()
        self._timed_out = False
        ms = int(self.settings.get("statement_timeout") or 0)
        self._clock = WATCHDOG.arm(ms / 1000, self._time_out) if ms > 0 else Deadline(0, _no_op)
        try:
            yield
        finally:
            self._clock.disarm()
            self._clock = None

    def _time_out(self) -> None:
        self._timed_out = True
        self.cancel()

    def cancel_error(self) -> OperationalError:
        """The error of a statement cancelled by cancel() or by its timeout."""
        if self._timed_out:
            return OperationalError("canceling statement due to statement timeout", "57014")
        return OperationalError("canceling statement due to user request", "57014")

    def check_cancel(self) -> None:
        if self._cancel.is_set():
            raise self.cancel_error()

    def cancel(self) -> None:
        """Interrupt the running statement (thread-safe): a query running in DuckDB is
        interrupted, a FLUSH stops waiting; the statement fails with 57014."""
        self._cancel.set()
        cur = self.running_cursor
        if cur is not None:
            try:
                cur.interrupt()
            except Exception:  # noqa: BLE001 - the cursor may have just closed
                pass

    @property
    def cancelled(self) -> bool:
        return self._cancel.is_set()

    def close(self) -> None:
        self.closed = True
        self.cancel()

    # ------------------------------------------------------------ dispatch
    def _execute_one(self, stmt: Statement, params: Sequence[Any] | None) -> StatementResult:
        text = stmt.text
        if _FLUSH.match(text):
            self._flush()
            return StatementResult("FLUSH")
        if m := _RESET.match(text):
            if m.group(1).upper() == "ALL":  # every session value back to the database's
                self.settings = dict(self.db.settings)
                self.client_settings = dict(_CLIENT_DEFAULTS)
                return StatementResult("RESET")
            return self._set(m.group(1).lower(), "DEFAULT", "RESET")
        if m := _TXN.match(text):
            return StatementResult(_TXN_TAGS[m.group(1).split()[0].upper()])
        if m := _SET_TZ.match(text):
            self.client_settings["timezone"] = m.group(1).strip("'\"")
            return StatementResult("SET")
        if m := _SET.match(text):
            return self._set(m.group(1).lower(), m.group(2))
        if m := _SET_OTHER.match(text):
            return StatementResult("SET")
        if m := _ALTER_SYSTEM.match(text):
            if m.group(3):
                return self._alter_system(m.group(3), "DEFAULT")
            return self._alter_system(m.group(1), m.group(2))
        if m := _SHOW.match(text):
            return self._show(m.group(1))
        if m := _DESCRIBE.match(text):
            return ddl.describe(self, m.group(1).strip('"'))
        if m := _EXPLAIN.match(text):
            return ddl.explain(self, m.group(1), params)
        if comments.is_comment(text):
            return comments.comment(self, text)
        check_statement(text)
        if re.match(r"^(CREATE|DROP|ALTER)\s", text, re.I):
            return ddl.execute(self, text, params)
        if pg_compat is not None and re.match(r"^\s*(SELECT|WITH)\b", text, re.I):
            text = pg_compat.preprocess_sql(text)
        shared = shared_tree(text)
        if isinstance(shared, (exp.Insert, exp.Update, exp.Delete)) and \
                dml.binds_in_parts(shared):
            # No copy of the statement: its parameters are bound where they are used.
            fn = {exp.Insert: dml.insert, exp.Update: dml.update}.get(type(shared), dml.delete)
            return self._dml(fn, shared, list(params) if params else None)
        tree = bind_parameters(own_tree(text, shared), list(params) if params else None)
        if isinstance(tree, (exp.Select, exp.Union, exp.Subquery, exp.Except, exp.Intersect,
                             exp.Values)):
            return query.select(self, tree, text)
        if isinstance(tree, exp.Insert):
            return self._dml(dml.insert, tree)
        if isinstance(tree, exp.Update):
            return self._dml(dml.update, tree)
        if isinstance(tree, exp.Delete):
            return self._dml(dml.delete, tree)
        if isinstance(tree, exp.Describe):
            return ddl.describe(self, tree.this.name)
        raise not_supported(f"{tree.key.upper()} statement", 1)

    def _dml(self, fn: Any, tree: exp.Expression, params: list | None = None
             ) -> StatementResult:
        try:
            result = fn(self, tree, params)
        finally:
            # Acknowledged only once logged; waited for outside the database lock, so
            # other sessions' statements are logged in the same write.
            self.db.wait_durable()
        if self.settings.get("implicit_flush"):
            self._flush()
        return result

    def _flush(self) -> None:
        try:
            self.db.flush(self._cancel)
        except OperationalError:
            if self._cancel.is_set():
                raise self.cancel_error() from None
            raise

    # ------------------------------------------------------------ SET / SHOW
    def _set(self, name: str, value: str, tag: str = "SET") -> StatementResult:
        name = canonical(name)
        if name in SETTINGS:
            if name in DATABASE_SETTINGS:
                raise database_wide(name)
            default = value.strip().upper() == "DEFAULT"  # the database's value
            self.settings[name] = self.db.settings[name] if default else _setting_value(
                name, value)
            return StatementResult(tag)
        if not is_pg_parameter(name):
            raise unrecognized(name)
        if value.strip().upper() == "DEFAULT":
            if name in _CLIENT_DEFAULTS:
                self.client_settings[name] = _CLIENT_DEFAULTS[name]
            else:
                self.client_settings.pop(name, None)
            return StatementResult(tag)
        self.client_settings[name] = value.strip().strip("'\"")
        return StatementResult(tag)

    def _alter_system(self, name: str, value: str) -> StatementResult:
        """Change a setting for the whole database: a database-wide setting takes effect
        at once for every session; a session setting becomes the default of sessions
        opened from now on. It lasts until the database is closed."""
        name = canonical(name)
        if name not in SETTINGS:
            if is_pg_parameter(name):
                raise not_supported(f'ALTER SYSTEM of PostgreSQL parameter "{name}"')
            raise unrecognized(name)
        v = _setting_value(name, value)
        self.db.settings[name] = v
        if name in DATABASE_SETTINGS:
            apply_setting(self.db, name, v)
        return StatementResult("ALTER SYSTEM")

    def _show(self, what: str) -> StatementResult:
        key = re.sub(r"\s+", " ", what.strip().lower())
        if show_create.is_show_create(what):
            return show_create.show_create(self, what)
        if show_create.is_show_columns(what):
            return show_create.show_columns(self, what)
        if key in ("tables", "materialized views", "sources", "views", "functions"):
            return ddl.show_relations(self, key)
        if key == "all":
            rows = [(k, show_value(self._effective(k), k), d) for k, (_v, d) in SETTINGS.items()]
            return StatementResult(f"SHOW {len(rows)}", [Column("name", T.VARCHAR),
                                                         Column("setting", T.VARCHAR),
                                                         Column("description", T.VARCHAR)], rows)
        if canonical(key) in SETTINGS:
            return StatementResult("SHOW", [Column(key, T.VARCHAR)],
                                   [(show_value(self._effective(canonical(key)), canonical(key)),)])
        name = key.replace(" ", "_")
        # PostgreSQL's SQL-standard spellings of two settings
        name = {"time_zone": "timezone",
                "transaction_isolation_level": "transaction_isolation"}.get(name, name)
        if name in self.client_settings:
            return StatementResult("SHOW", [Column(name, T.VARCHAR)],
                                   [(self.client_settings[name],)])
        raise unrecognized(what.strip())

    def _effective(self, name: str) -> Any:
        """The value in force: the database's for a database-wide setting, else the
        session's own."""
        if name in DATABASE_SETTINGS:
            return self.db.settings[name]
        return self.settings[name]


def _setting_value(name: str, value: str) -> Any:
    if value.strip().upper() == "DEFAULT":
        return SETTINGS[name][0]
    try:
        return parse_value(name, value)
    except ValueError as e:
        raise ProgrammingError(str(e), "22023") from None


def _no_op() -> None:
    pass


__all__ += ["InternalError"]
