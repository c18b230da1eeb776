"""DuckDB as the oracle: a mirror database receiving the same DML as the engine,
and a multiset comparison of view contents that tolerates float rounding."""

from __future__ import annotations

import decimal
import math
from collections import Counter
from typing import Any, Iterable

import duckdb

import sqlstream


class Mirror:
    """An in-memory DuckDB holding the same tables, and the views as DuckDB views."""

    def __init__(self, tables: Iterable[str],
                 views: dict[str, tuple[str, str | None]] | None = None) -> None:
        self.duck = duckdb.connect()
        for ddl in tables:
            self.duck.execute(ddl)
        for name, (engine_sql, duck_sql) in (views or {}).items():
            self.duck.execute(f"CREATE VIEW {name} AS {duck_sql or engine_sql}")

    def execute(self, sql: str) -> Exception | None:
        """Run one statement; return the error instead of raising it."""
        try:
            self.duck.execute(sql)
        except duckdb.Error as exc:
            return exc
        return None

    def rows(self, query: str) -> list[tuple]:
        return self.duck.execute(query).fetchall()

    def close(self) -> None:
        self.duck.close()


def _norm(v: Any) -> Any:
    if isinstance(v, (float, decimal.Decimal)):
        return float(v)
    return v


def _sort_key(row: tuple) -> tuple:
    out = []
    for v in row:
        if v is None:
            out.append((0, ""))
        elif isinstance(v, float):
            out.append((1, round(v, 3)))
        else:
            out.append((1, v))
    return tuple(out)


def _close(a: Any, b: Any) -> bool:
    if isinstance(a, float) and isinstance(b, float):
        return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-9)
    if isinstance(a, bool) or isinstance(b, bool):
        return a is b
    return bool(a == b)


def same_multiset(got: list[tuple], want: list[tuple]) -> bool:
    """Equal as multisets of rows, floats and decimals compared with a tolerance."""
    if len(got) != len(want):
        return False
    g = sorted((tuple(_norm(v) for v in r) for r in got), key=_sort_key)
    w = sorted((tuple(_norm(v) for v in r) for r in want), key=_sort_key)
    return all(len(a) == len(b) and all(_close(x, y) for x, y in zip(a, b))
               for a, b in zip(g, w))


def describe_difference(got: list[tuple], want: list[tuple]) -> str:
    """Rows only in one side (exact counts), for a readable failure message."""
    gc = Counter(tuple(_norm(v) for v in r) for r in got)
    wc = Counter(tuple(_norm(v) for v in r) for r in want)
    extra = sorted((gc - wc).elements(), key=_sort_key)
    missing = sorted((wc - gc).elements(), key=_sort_key)
    return f"engine has {len(got)} rows, oracle {len(want)}; " \
           f"only in engine: {extra[:20]}; only in oracle: {missing[:20]}"


def run_program(tables: list[tuple[str, str]], views: dict[str, tuple[str, str | None]],
                statements: list[str], parallelism: int, **engine_settings: int) -> None:
    """Apply the statements to a fresh engine and to a mirror of `tables` (name,
    DDL) and `views` (name -> engine SQL, DuckDB SQL or None); after each FLUSH
    every table and view must hold the oracle's rows, and a statement must fail
    on both or on neither."""
    conn = sqlstream.connect(barrier_interval_ms=50, **engine_settings)
    mirror = Mirror([ddl for _name, ddl in tables], views)
    names = [*(name for name, _ddl in tables), *views]
    try:
        conn.execute(f"SET streaming_parallelism = {parallelism}")
        for _name, ddl in tables:
            conn.execute(ddl)
        for name, (sql, _duck) in views.items():
            conn.execute(f"CREATE MATERIALIZED VIEW {name} AS {sql}")
        for i, stmt in enumerate(statements):
            if stmt == "FLUSH":
                conn.execute("FLUSH")
                _check(conn, mirror, names, statements[:i + 1])
                continue
            engine_error: Exception | None = None
            try:
                conn.execute(stmt)
            except sqlstream.Error as exc:
                engine_error = exc
            oracle_error = mirror.execute(stmt)
            assert (engine_error is None) == (oracle_error is None), (
                f"{stmt}: engine error {engine_error!r}, oracle error {oracle_error!r}")
    finally:
        conn.close()
        mirror.close()


def _check(conn: sqlstream.Connection, mirror: Mirror, names: list[str],
           history: list[str]) -> None:
    for name in names:
        got = conn.execute(f"SELECT * FROM {name}").fetchall()
        want = mirror.rows(f"SELECT * FROM {name}")
        assert same_multiset(got, want), (
            f"view {name} differs after:\n  " + "\n  ".join(history) + "\n"
            + describe_difference(got, want))
