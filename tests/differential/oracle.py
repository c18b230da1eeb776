"""DuckDB as the oracle: a mirror database receiving the same DML as the engine,
and a multiset comparison of view contents that tolerates float rounding."""

from __future__ import annotations

import decimal
import math
from collections import Counter
from typing import Any, Iterable

import duckdb


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
