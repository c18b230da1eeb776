"""pg_catalog and information_schema for PostgreSQL clients (psql's \\d, drivers'
introspection), built as DuckDB tables and macros in schema `_pg` from the engine's
catalog. `planner.pg_compat.rewrite` points client queries at them."""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass, field
from typing import Any, Sequence

from planner import pg_compat
from planner import types as T
from planner.errors import ProgrammingError
from sqlstream.pgwire.catalog_tables import DDL, MACROS, NAMESPACES, TYPE_ROWS, relkind
from sqlstream.result import Column, StatementResult

SCHEMA = pg_compat.CATALOG_SCHEMA
FUNCTION = "function"  # the catalog kind of a Python UDF (sqlstream.udf)
FIRST_OID = 16384


@dataclass(frozen=True, slots=True)
class Rel:
    """The part of a catalog entry the pg_catalog tables need."""

    id: int
    schema: str
    name: str
    kind: str
    columns: list[tuple[str, T.DataType, bool]]
    primary_key: list[str]
    definition: str | None
    comments: dict[int, str] = field(default_factory=dict)
    defaults: dict[int, str] = field(default_factory=dict)


def snapshot(db: Any) -> list[Rel]:
    """The engine's relations; from DuckDB's own catalog when the engine keeps none."""
    if hasattr(db, "catalog_snapshot"):
        return [Rel(r.id, r.schema, r.name, r.kind,
                    [(c.name, c.type, c.nullable) for c in r.columns],
                    list(r.primary_key), r.definition, dict(getattr(r, "comments", {})),
                    dict(getattr(r, "defaults", {})))
                for r in db.catalog_snapshot()]
    cur = db.duck.cursor()
    rels: list[Rel] = []
    tables = cur.execute(
        "SELECT table_schema, table_name, table_type FROM information_schema.tables "
        "WHERE table_schema IN ('main', 'sys') ORDER BY table_schema, table_name").fetchall()
    for i, (schema, name, ttype) in enumerate(tables):
        cols = cur.execute(
            "SELECT column_name, data_type, is_nullable = 'YES' FROM information_schema.columns "
            "WHERE table_schema = ? AND table_name = ? ORDER BY ordinal_position",
            [schema, name]).fetchall()
        rels.append(Rel(i + 1, "public" if schema == "main" else schema, name,
                        "table" if ttype == "BASE TABLE" else "materialized view",
                        [(c, duck_type(t), bool(n)) for c, t, n in cols], [], None))
    return rels


_VIEW_HEAD = re.compile(r"^\s*CREATE\s+(?:OR\s+REPLACE\s+)?(?:MATERIALIZED\s+)?VIEW\s+"
                        r"(?:IF\s+NOT\s+EXISTS\s+)?[\w.\"]+\s*(?:\([^)]*\))?\s*AS\s+", re.I)


def _view_query(definition: str) -> str:
    """The query of a CREATE [MATERIALIZED] VIEW statement, as pg_get_viewdef and
    pg_views / pg_matviews show a view's definition."""
    m = _VIEW_HEAD.match(definition)
    return definition[m.end():].strip().rstrip(";") if m else definition


def duck_type(name: str) -> T.DataType:
    """Our type for a DuckDB type name (result columns of catalog queries)."""
    upper = name.upper()
    for t in T.ALL_TYPES:
        if t.duckdb == upper:
            return t
    if upper.startswith("DECIMAL"):
        return T.DECIMAL
    return {"HUGEINT": T.DECIMAL, "UBIGINT": T.DECIMAL, "UINTEGER": T.INT64,
            "TINYINT": T.INT16, "UTINYINT": T.INT16, "USMALLINT": T.INT32,
            "TIMESTAMP WITH TIME ZONE": T.TIMESTAMPTZ, "FLOAT": T.FLOAT32,
            "REAL": T.FLOAT32}.get(upper, T.VARCHAR)


def relation_columns(db: Any) -> dict[str, list[tuple[str, T.DataType]]]:
    """name -> [(column, type)] of every user-visible relation (for param inference)."""
    return {r.name: [(c, t) for c, t, _ in r.columns] for r in snapshot(db)}


class PgCatalog:
    """The `_pg` schema of the serving store; `refresh()` rebuilds it when the engine's
    catalog version moved."""

    def __init__(self, db: Any) -> None:
        self.db = db
        self._lock = threading.Lock()
        self._built_version: object = None
        self._created = False

    def _version(self) -> object:
        version = getattr(self.db, "catalog_version", None)
        if version is not None:
            return version
        # Without a version counter, DuckDB's own catalog contents stand in for it.
        cur = self.db.duck.cursor()
        return tuple(cur.execute(
            "SELECT table_schema, table_name, column_name, data_type FROM "
            "information_schema.columns WHERE table_schema IN ('main', 'sys') "
            "ORDER BY ALL").fetchall())

    def refresh(self) -> None:
        with self._lock:
            version = self._version()
            if self._created and version == self._built_version:
                return
            cur = self.db.duck.cursor()
            cur.execute("BEGIN")
            try:
                if not self._created:
                    cur.execute(f"CREATE SCHEMA IF NOT EXISTS {SCHEMA}")
                    for ddl in DDL:
                        cur.execute(ddl)
                    for macro in MACROS:
                        cur.execute(macro)
                self._fill(cur, snapshot(self.db))
                cur.execute("COMMIT")
            except Exception:
                cur.execute("ROLLBACK")
                raise
            self._created = True
            self._built_version = version

    def _fill(self, cur: Any, rels: list[Rel]) -> None:
        for table in ("pg_class", "pg_attribute", "pg_index", "pg_constraint", "pg_defs",
                      "pg_namespace", "pg_type", "type_names", "pg_proc", pg_compat.KINDS_TABLE,
                      "pg_description", "pg_attrdef"):
            cur.execute(f"DELETE FROM {SCHEMA}.{table}")
        cur.executemany(f"INSERT INTO {SCHEMA}.pg_namespace VALUES (?, ?, 10, NULL)",
                        [[oid, name] for name, oid in NAMESPACES.items()])
        cur.executemany(f"INSERT INTO {SCHEMA}.pg_type VALUES "
                        f"(?, ?, 11, 10, ?, true, ?, ?, false, true, ',', 0, ?, ?, "
                        f"?, ?, ?, ?, 0, 0, 0, 'i', 'p', false, 0, -1, 0, 0, NULL, NULL, NULL)",
                        [r[:11] for r in TYPE_ROWS])
        cur.executemany(f"INSERT INTO {SCHEMA}.type_names VALUES (?, ?)",
                        [[r[0], r[11]] for r in TYPE_ROWS])
        classes, attrs, indexes, constraints, defs = [], [], [], [], []
        descriptions, attrdefs = [], []
        procs, kinds = [], []
        for r in rels:
            oid = FIRST_OID + 2 * r.id
            if r.kind == FUNCTION:  # a Python UDF: a pg_proc row, never a relation
                procs.append([oid, r.name, NAMESPACES.get(r.schema, NAMESPACES["public"]),
                              10, 13, "f", False, _type_oid(self._returns(r.name)),
                              " ".join(str(_type_oid(t)) for _n, t, _ in r.columns),
                              len(r.columns)])
                continue
            ns = NAMESPACES.get(r.schema, NAMESPACES["public"])
            has_pk = bool(r.primary_key)
            classes.append([oid, r.name, ns, relkind(r.kind), len(r.columns), has_pk])
            kinds.append([oid, r.kind])
            for num, (name, t, nullable) in enumerate(r.columns, start=1):
                attrs.append([oid, name, _type_oid(t), t.pg_len, num,
                              _typmod(t), not nullable or name in r.primary_key])
            if r.definition:
                defs.append([oid, _view_query(r.definition) if r.kind in (
                    "view", "materialized view") else r.definition])
            descriptions += [[oid, 1259, num, text] for num, text in r.comments.items()]
            attrdefs += [[oid * 1000 + num, oid, num, sql] for num, sql in r.defaults.items()]
            if has_pk:
                idx = oid + 1
                # in the key's own order, as PostgreSQL's indkey and conkey are
                numbers = {c[0]: i + 1 for i, c in enumerate(r.columns)}
                keys = [numbers[k] for k in r.primary_key if k in numbers]
                cols = ", ".join(r.primary_key)
                classes.append([idx, f"{r.name}_pkey", ns, "i", len(keys), False])
                # int2vector / oidvector columns as lists: clients unnest them
                zeros = [0] * len(keys)
                indexes.append([idx, oid, len(keys), len(keys), keys, zeros, zeros, zeros])
                constraints.append([idx, f"{r.name}_pkey", ns, oid, idx, keys])
                defs.append([idx, f"CREATE UNIQUE INDEX {r.name}_pkey ON {r.schema}.{r.name} "
                                  f"USING btree ({cols})"])
                defs.append([-idx, f"PRIMARY KEY ({cols})"])
        _insert(cur, "pg_class", "(oid, relname, relnamespace, relkind, relnatts, relhasindex)",
                classes)
        _insert(cur, "pg_attribute",
                "(attrelid, attname, atttypid, attlen, attnum, atttypmod, attnotnull)", attrs)
        _insert(cur, "pg_index", "(indexrelid, indrelid, indnatts, indnkeyatts, indkey, "
                "indcollation, indclass, indoption)", indexes)
        _insert(cur, "pg_constraint",
                "(oid, conname, connamespace, conrelid, conindid, conkey)", constraints)
        _insert(cur, "pg_defs", "(oid, def)", defs)
        _insert(cur, pg_compat.KINDS_TABLE, "(oid, kind)", kinds)
        _insert(cur, "pg_description", "(objoid, classoid, objsubid, description)",
                descriptions)
        _insert(cur, "pg_attrdef", "(oid, adrelid, adnum, adbin)", attrdefs)
        cur.execute(f"UPDATE {SCHEMA}.pg_attribute SET atthasdef = true WHERE (attrelid, attnum) "
                    f"IN (SELECT adrelid, adnum FROM {SCHEMA}.pg_attrdef)")
        _insert(cur, "pg_proc", "(oid, proname, pronamespace, proowner, prolang, prokind, "
                "proretset, prorettype, proargtypes, pronargs)", procs)

    def _returns(self, name: str) -> T.DataType:
        """A function's result type, from the engine's catalog entry."""
        from sqlstream.udf import user_function
        catalog = getattr(self.db, "catalog", None)
        func = user_function(catalog.get(name)) if catalog is not None else None
        return func.result if func is not None else T.VARCHAR

    def answer(self, sql: str, params: Sequence[Any] | None) -> StatementResult | None:
        """Run a catalog query directly (used while the engine does not route catalog
        queries itself); None when sql is not a catalog query."""
        duck_sql = pg_compat.catalog_query_to_duckdb(sql)
        if duck_sql is None:
            return None
        self.refresh()
        cur = self.db.duck.cursor()
        try:
            cur.execute(duck_sql, list(params) if params else None)
        except Exception as e:  # noqa: BLE001 - DuckDB's errors become SQL errors
            raise ProgrammingError(str(e).split("\n")[0], "42000") from None
        desc = cur.description or []
        rows = cur.fetchall()
        cols = [Column(d[0], duck_type(str(d[1]))) for d in desc]
        return StatementResult(f"SELECT {len(rows)}", cols, rows)


def _type_oid(t: T.DataType) -> int:
    return 25 if t.pg_oid == 705 else t.pg_oid


def _typmod(t: T.DataType) -> int:
    if t.name == "numeric" and t.precision is not None:
        return ((t.precision << 16) | (t.scale or 0)) + 4
    return -1


def _insert(cur: Any, table: str, cols: str, rows: list[list[Any]]) -> None:
    if rows:
        marks = ", ".join("?" * len(rows[0]))
        cur.executemany(f"INSERT INTO {SCHEMA}.{table} {cols} VALUES ({marks})", rows)
