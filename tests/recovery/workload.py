"""The recovery test's workload: schema, views and a deterministic (seeded)
sequence of DML statements, shared by the writer subprocess and the test that
computes the expected state from the same list."""

from __future__ import annotations

import random

TABLES = [
    "CREATE TABLE t1 (k int PRIMARY KEY, g int, v int)",
    "CREATE TABLE t2 (g int, w int)",
]

# name -> (engine SQL, DuckDB SQL or None when the text is the same)
VIEWS: dict[str, tuple[str, str | None]] = {
    "v_agg": ("SELECT g, count(*) AS n, sum(v) AS sv, min(v) AS mn, max(v) AS mx "
              "FROM t1 GROUP BY g", None),
    "v_join": ("SELECT t1.k, t1.v, t2.w FROM t1 JOIN t2 ON t1.g = t2.g", None),
    "v_glob": ("SELECT count(*) AS n, sum(w) AS sw FROM t2", None),
    "v_topn": ("SELECT k, v FROM t1 ORDER BY v, k LIMIT 5", None),
    "v_over": ("SELECT g, n FROM v_agg WHERE n > 1", None),
}

# Created while the writer may be killed (the backfill scenario).
LATE_VIEW = ("v_late", "SELECT g, count(*) AS n, sum(w) AS sw FROM t2 GROUP BY g")

BIG_INSERT = "INSERT INTO t2 SELECT i % 50, i % 101 FROM generate_series(1, {n}) AS s(i)"

MODES = ("dml", "backfill", "large")


def program(seed: int, count: int, mode: str = "dml", big: int = 20000) -> list[str]:
    """Every statement the writer runs after its setup, in order. `backfill` puts a
    large insert and then a CREATE MATERIALIZED VIEW (with a long backfill) in the
    middle; `large` puts one large INSERT ... SELECT there."""
    stmts = statements(seed, count)
    half = len(stmts) // 2
    middle: list[str] = []
    if mode == "backfill":
        middle = [BIG_INSERT.format(n=big),
                  f"CREATE MATERIALIZED VIEW {LATE_VIEW[0]} AS {LATE_VIEW[1]}"]
    elif mode == "large":
        middle = [BIG_INSERT.format(n=big)]
    return stmts[:half] + middle + stmts[half:]


def statements(seed: int, count: int, flush_every: int = 10) -> list[str]:
    """DML that never fails: t1 upserts by key, deletes and updates by key range;
    t2 plain inserts, updates and deletes; a FLUSH every `flush_every` statements."""
    rnd = random.Random(seed)
    out: list[str] = []
    for i in range(count):
        if flush_every and i % flush_every == flush_every - 1:
            out.append("FLUSH")
            continue
        kind = rnd.random()
        if kind < 0.35:
            keys = rnd.sample(range(60), rnd.randint(1, 4))
            rows = ", ".join(f"({k}, {rnd.randint(0, 5)}, {_val(rnd)})" for k in keys)
            out.append(f"INSERT INTO t1 VALUES {rows} "
                       "ON CONFLICT (k) DO UPDATE SET g = excluded.g, v = excluded.v")
        elif kind < 0.6:
            rows = ", ".join(f"({rnd.randint(0, 5)}, {_val(rnd)})"
                             for _ in range(rnd.randint(1, 5)))
            out.append(f"INSERT INTO t2 VALUES {rows}")
        elif kind < 0.7:
            lo = rnd.randint(0, 59)
            out.append(f"DELETE FROM t1 WHERE k BETWEEN {lo} AND {lo + rnd.randint(0, 3)}")
        elif kind < 0.8:
            out.append(f"UPDATE t1 SET v = v + {rnd.randint(1, 3)} WHERE g = {rnd.randint(0, 5)}")
        elif kind < 0.9:
            out.append(f"DELETE FROM t2 WHERE w = {rnd.randint(0, 20)}")
        else:
            out.append(f"UPDATE t2 SET w = w - 1 WHERE g = {rnd.randint(0, 5)}")
    return out


def _val(rnd: random.Random) -> str:
    return "NULL" if rnd.random() < 0.1 else str(rnd.randint(0, 20))
