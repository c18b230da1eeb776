"""Where the shell's statements run: the embedded engine or a server over the wire.

Both backends offer the same small surface (execute, cancel, catalog
metadata, quiet reads of system tables) so the shell never asks which one it
has. Quiet reads use a second session/connection so they can run while a
statement is busy, and return None on any failure: system tables may not
exist (yet), and the shell must not break because of them.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Any, Protocol

from planner import types as T
from planner.errors import Error, OperationalError
from sqlstream.result import Column, StatementResult


@dataclass(slots=True)
class ColumnMeta:
    name: str
    type: str
    nullable: bool = True


@dataclass(slots=True)
class RelationMeta:
    """One relation as the shell shows and completes it."""

    schema: str
    name: str
    kind: str                      # table | materialized view | source | view | system table
    columns: list[ColumnMeta] = field(default_factory=list)
    primary_key: list[str] = field(default_factory=list)
    definition: str | None = None

    @property
    def qualified(self) -> str:
        return f"{self.schema}.{self.name}"


class Backend(Protocol):
    label: str

    def execute(self, sql: str) -> list[StatementResult]: ...
    def cancel(self) -> None: ...
    def relations(self) -> list[RelationMeta]: ...
    def quiet_query(self, sql: str) -> StatementResult | None: ...
    def catalog_version(self) -> int | None: ...
    def close(self) -> None: ...


class LocalBackend:
    """The embedded engine: a `Database` and one session for the user's statements."""

    def __init__(self, data_dir: str | None, **settings: Any) -> None:
        from sqlstream.session import Database

        self.db = Database.open(data_dir, **settings)
        self.session = self.db.session()
        self._monitor: Any = None
        self._monitor_lock = threading.Lock()
        self.label = data_dir if data_dir is not None else "memory"

    def execute(self, sql: str) -> list[StatementResult]:
        return self.session.execute(sql)

    def cancel(self) -> None:
        self.session.cancel()

    def catalog_version(self) -> int | None:
        version = getattr(self.db, "catalog_version", None)
        return version if isinstance(version, int) else None

    def relations(self) -> list[RelationMeta]:
        snapshot = getattr(self.db, "catalog_snapshot", None)
        if snapshot is not None:
            try:
                return [_from_info(info) for info in snapshot()]
            except Exception:  # noqa: BLE001 - completion must never break the shell
                return []
        return self._relations_from_duck()

    def _relations_from_duck(self) -> list[RelationMeta]:
        """Catalog read straight from the serving store when the engine offers no snapshot."""
        try:
            cur = self.db.duck.cursor()
            tables = cur.execute(
                "SELECT table_schema, table_name, table_type FROM information_schema.tables "
                "WHERE table_schema NOT IN ('information_schema', 'pg_catalog') "
                "ORDER BY table_schema, table_name").fetchall()
            cols = cur.execute(
                "SELECT table_schema, table_name, column_name, data_type, is_nullable "
                "FROM information_schema.columns ORDER BY table_schema, table_name, "
                "ordinal_position").fetchall()
        except Exception:  # noqa: BLE001
            return []
        return _assemble(tables, cols)

    def quiet_query(self, sql: str) -> StatementResult | None:
        with self._monitor_lock:
            try:
                if self._monitor is None:
                    self._monitor = self.db.session()
                results = self._monitor.execute(sql)
            except Exception:  # noqa: BLE001 - missing system tables are normal
                return None
        return results[-1] if results else None

    def close(self) -> None:
        for s in (self._monitor, self.session):
            if s is not None:
                try:
                    s.close()
                except Exception:  # noqa: BLE001
                    pass
        self.db.close()


def _schema_of(schema: str) -> str:
    return "public" if schema == "main" else schema


def _assemble(tables: list[tuple], cols: list[tuple]) -> list[RelationMeta]:
    by_name: dict[tuple[str, str], RelationMeta] = {}
    for schema, name, table_type in tables:
        kind = {"BASE TABLE": "table", "VIEW": "view", "LOCAL TEMPORARY": "table"}.get(
            str(table_type).upper(), str(table_type).lower())
        if _schema_of(schema) == "sys":
            kind = "system table"
        by_name[(schema, name)] = RelationMeta(_schema_of(schema), name, kind)
    for schema, table, column, dtype, nullable in cols:
        rel = by_name.get((schema, table))
        if rel is not None:
            rel.columns.append(ColumnMeta(column, _type_name(str(dtype)),
                                          str(nullable).upper() != "NO"))
    return list(by_name.values())


def _type_name(raw: str) -> str:
    """A type as PostgreSQL spells it, from DuckDB's or PostgreSQL's spelling."""
    t = T.type_from_name(raw.lower())
    if t is None:
        for cand in T.ALL_TYPES:
            if cand.duckdb.upper() == raw.upper():
                return cand.name
        return raw.lower()
    return str(t)


def _from_info(info: Any) -> RelationMeta:
    return RelationMeta(
        schema=info.schema, name=info.name, kind=info.kind,
        columns=[ColumnMeta(c.name, str(c.type), bool(c.nullable)) for c in info.columns],
        primary_key=list(info.primary_key or []), definition=info.definition)


_OID_TYPES = {t.pg_oid: t for t in T.ALL_TYPES}


class RemoteBackend:
    """A `sqlstream serve` server (or any PostgreSQL server) over the wire, in autocommit."""

    def __init__(self, url: str) -> None:
        import psycopg

        self._psycopg = psycopg
        try:
            self.conn = psycopg.connect(url, autocommit=True)
        except psycopg.Error as e:
            raise OperationalError(f"could not connect to server: {e}".strip(), "08001") from None
        self.url = url
        self._monitor: Any = None
        self._monitor_lock = threading.Lock()
        info = self.conn.info
        self.label = f"{info.user}@{info.host}:{info.port}/{info.dbname}"

    def execute(self, sql: str) -> list[StatementResult]:
        return self._run(self.conn, sql)

    def _run(self, conn: Any, sql: str) -> list[StatementResult]:
        psycopg = self._psycopg
        try:
            with conn.cursor() as cur:
                cur.execute(sql)
                results = []
                while True:
                    results.append(_wire_result(cur))
                    if not cur.nextset():
                        break
                return results
        except psycopg.Error as e:
            raise _wire_error(e) from None

    def cancel(self) -> None:
        cancel = getattr(self.conn, "cancel_safe", None) or self.conn.cancel
        try:
            cancel()
        except Exception:  # noqa: BLE001 - nothing to cancel is fine
            pass

    def catalog_version(self) -> int | None:
        return None

    def relations(self) -> list[RelationMeta]:
        with self._monitor_lock:
            try:
                conn = self._monitor_conn()
                with conn.cursor() as cur:
                    tables = cur.execute(
                        "SELECT table_schema, table_name, table_type FROM "
                        "information_schema.tables WHERE table_schema NOT IN "
                        "('information_schema', 'pg_catalog') ORDER BY 1, 2").fetchall()
                    cols = cur.execute(
                        "SELECT table_schema, table_name, column_name, data_type, is_nullable "
                        "FROM information_schema.columns WHERE table_schema NOT IN "
                        "('information_schema', 'pg_catalog') "
                        "ORDER BY table_schema, table_name, ordinal_position").fetchall()
            except Exception:  # noqa: BLE001
                return []
        rels = _assemble(tables, cols)
        self._add_matviews(rels)
        return rels

    def _add_matviews(self, rels: list[RelationMeta]) -> None:
        """Materialized views: PostgreSQL lists them only in pg_matviews."""
        known = {(r.schema, r.name): r for r in rels}
        result = self.quiet_query("SELECT schemaname, matviewname, definition FROM pg_matviews")
        if result is None:
            return
        for schema, name, definition in result.rows:
            rel = known.get((schema, name))
            if rel is None:
                rel = RelationMeta(schema, name, "materialized view")
                rels.append(rel)
            rel.kind, rel.definition = "materialized view", definition

    def _monitor_conn(self) -> Any:
        if self._monitor is None or self._monitor.closed:
            self._monitor = self._psycopg.connect(self.url, autocommit=True)
        return self._monitor

    def quiet_query(self, sql: str) -> StatementResult | None:
        with self._monitor_lock:
            try:
                results = self._run(self._monitor_conn(), sql)
            except Exception:  # noqa: BLE001
                return None
        return results[-1] if results else None

    def close(self) -> None:
        for conn in (self._monitor, self.conn):
            if conn is not None:
                try:
                    conn.close()
                except Exception:  # noqa: BLE001
                    pass


def _wire_result(cur: Any) -> StatementResult:
    tag = cur.statusmessage or ""
    if cur.description is None:
        return StatementResult(tag)
    cols = [Column(d.name, _OID_TYPES.get(d.type_code, T.VARCHAR)) for d in cur.description]
    return StatementResult(tag, cols, [tuple(r) for r in cur.fetchall()])


def _wire_error(e: Any) -> Error:
    diag = getattr(e, "diag", None)
    message = (diag.message_primary if diag is not None else None) or str(e).strip()
    position = None
    if diag is not None and diag.statement_position:
        try:
            position = int(diag.statement_position)
        except ValueError:
            position = None
    sqlstate = getattr(e, "sqlstate", None) or "XX000"
    return Error(message, sqlstate, position,
                 detail=diag.message_detail if diag is not None else None,
                 hint=diag.message_hint if diag is not None else None)
