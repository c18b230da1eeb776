"""System tables (schema `sys`): the catalog and the runtime's own figures as
relations anyone can query with SQL. They are refreshed into the serving store
just before a query that names them."""

from __future__ import annotations

import datetime as dt
import time
from typing import TYPE_CHECKING, Any, Callable

from planner import types as T
from planner.catalog import SYSTEM_TABLE, ColumnDef, Relation

if TYPE_CHECKING:
    from sqlstream.database import Database

Rows = Callable[["Database"], list[tuple]]

_TABLES: dict[str, tuple[list[tuple[str, T.DataType]], Rows]] = {}


def system_table(name: str, columns: list[tuple[str, T.DataType]]) -> Callable[[Rows], Rows]:
    def deco(fn: Rows) -> Rows:
        _TABLES[name] = (columns, fn)
        return fn
    return deco


def register_system_tables(db: "Database") -> None:
    db.duck.execute("CREATE SCHEMA IF NOT EXISTS sys")
    for i, (name, (cols, _fn)) in enumerate(_TABLES.items()):
        rel = Relation(-(i + 1), name, SYSTEM_TABLE, [ColumnDef(c, t) for c, t in cols],
                       schema="sys")
        if db.catalog.get(rel.key) is None:
            db.catalog.relations[rel.key] = rel
        col_sql = ", ".join(f'"{c}" {t.duckdb}' for c, t in cols)
        db.duck.execute(f'CREATE OR REPLACE TABLE sys."{name}" ({col_sql})')


def refresh(db: "Database", names: list[str]) -> None:
    """Recompute the named system tables from live figures."""
    for name in names:
        cols, fn = _TABLES[name]
        rows = db.run(_collect(db, fn))
        with db.serving.lock:
            cur = db.duck.cursor()
            try:
                cur.execute("BEGIN")
                cur.execute(f'DELETE FROM sys."{name}"')
                if rows:
                    marks = ", ".join("?" for _ in cols)
                    cur.executemany(f'INSERT INTO sys."{name}" VALUES ({marks})',
                                    [list(r) for r in rows])
                cur.execute("COMMIT")
            finally:
                cur.close()


async def _collect(db: "Database", fn: Rows) -> list[tuple]:
    # Read runtime figures on the engine loop, where they are written.
    return fn(db)


def _ts(t: float | None) -> dt.datetime | None:
    return None if t is None else dt.datetime.fromtimestamp(t, dt.timezone.utc)


@system_table("relations", [("id", T.INT32), ("name", T.VARCHAR), ("kind", T.VARCHAR),
                            ("definition", T.VARCHAR)])
def _relations(db: "Database") -> list[tuple]:
    return [(r.id, r.name, r.kind, r.definition) for r in db.catalog.relations.values()
            if r.kind != SYSTEM_TABLE]


@system_table("fragments", [("fragment_id", T.INT32), ("relation", T.VARCHAR),
                            ("operators", T.VARCHAR), ("parallelism", T.INT32),
                            ("upstream_fragment_ids", T.VARCHAR)])
def _fragments(db: "Database") -> list[tuple]:
    out = []
    assert db.runtime is not None
    for rt in db.runtime.relations.values():
        seen: dict[int, Any] = {}
        for a in rt.actors:
            seen.setdefault(a.fragment, a)
        for frag, a in seen.items():
            out.append((fragment_id(rt.relation.id, frag), rt.relation.name,
                        " -> ".join(reversed(a.operators)), a.parallelism, ""))
    return out


def fragment_id(rel_id: int, frag: int) -> int:
    return rel_id * 1000 + frag


@system_table("actors", [("actor_id", T.INT32), ("fragment_id", T.INT32),
                         ("relation", T.VARCHAR), ("operator", T.VARCHAR),
                         ("rows_in", T.INT64), ("rows_out", T.INT64)])
def _actors(db: "Database") -> list[tuple]:
    assert db.runtime is not None
    return [(a.id, fragment_id(rt.relation.id, a.fragment), rt.relation.name,
             a.operators[0] if a.operators else "", a.rows_in, a.rows_out)
            for rt in db.runtime.relations.values() for a in rt.actors]


@system_table("barrier_latency", [("epoch", T.INT64), ("kind", T.VARCHAR),
                                  ("injected_at", T.TIMESTAMPTZ), ("collected_at", T.TIMESTAMPTZ),
                                  ("committed_at", T.TIMESTAMPTZ), ("latency_ms", T.FLOAT64)])
def _barrier_latency(db: "Database") -> list[tuple]:
    assert db.runtime is not None
    return [(r.epoch, r.kind, _ts(r.injected_at), _ts(r.collected_at), _ts(r.committed_at),
             r.latency_ms) for r in db.runtime.barriers.history]


@system_table("state_tables", [("relation", T.VARCHAR), ("operator", T.VARCHAR),
                               ("rows", T.INT64), ("bytes", T.INT64)])
def _state_tables(db: "Database") -> list[tuple]:
    assert db.runtime is not None
    out = []
    for rt in db.runtime.relations.values():
        for a in rt.actors:
            for st in a.states:
                n = len(st)
                sample = next(iter(st.data.items()), None)
                per = len(repr(sample)) + 64 if sample is not None else 0
                out.append((rt.relation.name, st.table_id, n, n * per))
    return out


@system_table("ddl_progress", [("ddl_id", T.INT32), ("relation", T.VARCHAR),
                               ("progress", T.FLOAT64), ("rows_done", T.INT64),
                               ("started_at", T.TIMESTAMPTZ)])
def _ddl_progress(db: "Database") -> list[tuple]:
    assert db.runtime is not None
    out = []
    for rt in db.runtime.relations.values():
        if rt.relation.options.get("creating") and rt.backfill_total:
            out.append((rt.relation.id, rt.relation.name,
                        rt.backfill_sent / max(rt.backfill_total, 1), rt.backfill_sent,
                        _ts(rt.created_at)))
    return out


__all__ = ["register_system_tables", "refresh", "time"]
