"""Schema, views and DML of the NaN differential test (test_nan_views.py): a double
precision column holding NaN, -0.0, 0.0, +/-Infinity and NULL under views that group,
deduplicate, join, order and compare on it.

PostgreSQL treats every NaN as equal to every other NaN and larger than every other
number (sorting, max/min, =, <, >, GROUP BY, DISTINCT, joins, set operations, IN);
DuckDB, the oracle, does the same. DuckDB's ORDER BY ... DESC puts NULLs last where
PostgreSQL puts them first, so the top-N views spell NULLS FIRST/LAST out."""

from __future__ import annotations

import math
from collections import Counter
from typing import Any

import duckdb
from hypothesis import strategies as st

import sqlstream

TABLES: list[tuple[str, str]] = [
    ("f", "CREATE TABLE f (id int PRIMARY KEY, g int, x double precision)"),
    ("h", "CREATE TABLE h (y double precision)"),
]

# name -> (engine SQL, DuckDB SQL or None for the same text)
VIEWS: dict[str, tuple[str, str | None]] = {
    "v_group": ("SELECT x, count(*) AS c FROM f GROUP BY x", None),
    "v_group_g": ("SELECT g, max(x) AS mx, min(x) AS mn, count(DISTINCT x) AS cd, "
                  "count(x) AS cn FROM f GROUP BY g", None),
    "v_extremes": ("SELECT max(x) AS mx, min(x) AS mn, count(DISTINCT x) AS cd FROM f", None),
    "v_sum": ("SELECT g, sum(x) AS s, avg(x) AS a FROM f GROUP BY g", None),
    "v_distinct": ("SELECT DISTINCT x FROM f", None),
    "v_join": ("SELECT f.id, h.y FROM f JOIN h ON f.x = h.y", None),
    "v_top_desc": ("SELECT x FROM f ORDER BY x DESC NULLS LAST LIMIT 3", None),
    "v_top_desc_nf": ("SELECT x FROM f ORDER BY x DESC NULLS FIRST LIMIT 3", None),
    "v_top_asc": ("SELECT x FROM f ORDER BY x ASC LIMIT 3", None),
    "v_top_asc_nf": ("SELECT x FROM f ORDER BY x ASC NULLS FIRST LIMIT 4", None),
    "v_union": ("SELECT x FROM f UNION SELECT y FROM h", None),
    "v_eq_nan": ("SELECT id FROM f WHERE x = 'NaN'::float8", None),
    "v_ne_nan": ("SELECT id FROM f WHERE x <> 'NaN'::float8", None),
    "v_lt_nan": ("SELECT id FROM f WHERE x < 'NaN'::float8", None),
    "v_ge_nan": ("SELECT id FROM f WHERE x >= 'NaN'::float8", None),
    "v_gt_1": ("SELECT id FROM f WHERE x > 1", None),
    "v_le_1": ("SELECT id FROM f WHERE x <= 1", None),
    "v_in": ("SELECT id FROM f WHERE x IN (1.5, 'NaN'::float8)", None),
    "v_semi": ("SELECT id FROM f WHERE x IN (SELECT y FROM h)", None),
    "v_anti": ("SELECT id FROM f WHERE NOT EXISTS (SELECT 1 FROM h WHERE h.y = f.x)", None),
    "v_computed": ("SELECT x * 0 AS z, count(*) AS c FROM f GROUP BY x * 0", None),
    "v_diff": ("SELECT id, x - x AS z FROM f", None),
    "v_diff_cmp": ("SELECT id FROM f WHERE x - x > 1", None),
    "v_greatest": ("SELECT id, greatest(x, 1.5) AS gx, least(x, 1.5) AS lx FROM f", None),
    "v_distinct_from": ("SELECT id FROM f WHERE x IS NOT DISTINCT FROM 'NaN'::float8", None),
    "v_nullif": ("SELECT id, nullif(x, 'NaN'::float8) AS n FROM f", None),
    "v_rank": ("SELECT id, rank() OVER (PARTITION BY g ORDER BY x) AS rk, "
               "dense_rank() OVER (ORDER BY x DESC NULLS FIRST) AS dr FROM f", None),
    "v_win_extremes": ("SELECT id, max(x) OVER (PARTITION BY g) AS mx, "
                       "min(x) OVER (PARTITION BY g) AS mn FROM f", None),
    "v_win_sum": ("SELECT id, sum(x) OVER (ORDER BY id ROWS BETWEEN 1 PRECEDING AND "
                  "CURRENT ROW) AS s, avg(x) OVER (ORDER BY id ROWS BETWEEN CURRENT ROW "
                  "AND 1 FOLLOWING) AS a FROM f", None),
    "v_win_running": ("SELECT id, sum(x) OVER (PARTITION BY g ORDER BY x) AS s FROM f", None),
}

# Literals as the DML writes them; 'inf'::float8 - 'inf'::float8 computes a NaN.
XS = st.sampled_from(["'NaN'::float8", "'NaN'", "'Infinity'::float8", "'-Infinity'::float8",
                      "-0.0", "0.0", "NULL", "1.5", "2.0",
                      "'inf'::float8 - 'inf'::float8"])
YS = st.sampled_from(["'NaN'::float8", "'Infinity'", "0.0", "-0.0", "1.5", "NULL"])
IDS = st.integers(0, 7)
GS = st.sampled_from(["0", "1", "NULL"])


@st.composite
def insert_f(draw: st.DrawFn) -> str:
    rows = draw(st.lists(st.tuples(IDS, GS, XS), min_size=1, max_size=5))
    rows = list({r[0]: r for r in rows}.values())
    return ("INSERT INTO f VALUES " + ", ".join(f"({i}, {g}, {x})" for i, g, x in rows)
            + " ON CONFLICT (id) DO NOTHING")


@st.composite
def insert_h(draw: st.DrawFn) -> str:
    ys = draw(st.lists(YS, min_size=1, max_size=3))
    return "INSERT INTO h VALUES " + ", ".join(f"({y})" for y in ys)


@st.composite
def change_f(draw: st.DrawFn) -> str:
    where = draw(st.sampled_from([f"id = {draw(IDS)}", "x = 'NaN'::float8", "x > 1",
                                  "x IS NULL", "x < 0"]))
    if draw(st.booleans()):
        return f"DELETE FROM f WHERE {where}"
    sets = draw(st.sampled_from(["x = x * 0", f"x = {draw(XS)}", "g = 1 - g", "x = -x"]))
    return f"UPDATE f SET {sets} WHERE {where}"


@st.composite
def change_h(draw: st.DrawFn) -> str:
    return f"DELETE FROM h WHERE y = {draw(YS)}"


STATEMENT = st.one_of(insert_f(), insert_f(), insert_h(), change_f(), change_h(),
                      st.just("FLUSH"))
PROGRAM = st.lists(STATEMENT, min_size=3, max_size=20).map(lambda s: s + ["FLUSH"])


def _norm(v: Any) -> Any:
    """A value spelled so that NaN meets NaN and -0.0 meets 0.0 (floats rounded)."""
    if isinstance(v, bool) or v is None:
        return v
    if isinstance(v, (int, float)) or type(v).__name__ == "Decimal":
        f = float(v)
        if math.isnan(f):
            return "NaN"
        if math.isinf(f):
            return "Infinity" if f > 0 else "-Infinity"
        return round(f, 9) + 0.0
    return v


def rows_of(rows: list[tuple]) -> Counter:
    return Counter(tuple(_norm(v) for v in r) for r in rows)


def run_program(statements: list[str], parallelism: int, views: dict | None = None,
                **engine_settings: Any) -> None:
    """Apply the statements to a fresh engine and to DuckDB; after each FLUSH every view
    holds the oracle's rows and a statement fails on both or on neither."""
    views = VIEWS if views is None else views
    conn = sqlstream.connect(barrier_interval_ms=50, **engine_settings)
    duck = duckdb.connect()
    try:
        conn.execute(f"SET streaming_parallelism = {parallelism}")
        for _name, ddl in TABLES:
            conn.execute(ddl)
            duck.execute(ddl)
        for name, (sql, duck_sql) in views.items():
            conn.execute(f"CREATE MATERIALIZED VIEW {name} AS {sql}")
            duck.execute(f"CREATE VIEW {name} AS {duck_sql or sql}")
        for i, stmt in enumerate(statements):
            if stmt == "FLUSH":
                conn.execute("FLUSH")
                check(conn, duck, [n for n, _ in TABLES] + list(views), statements[:i + 1])
                continue
            engine_error = oracle_error = None
            try:
                conn.execute(stmt)
            except sqlstream.Error as exc:
                engine_error = exc
            try:
                duck.execute(stmt)
            except duckdb.Error as exc:
                oracle_error = exc
            assert (engine_error is None) == (oracle_error is None), (
                f"{stmt}: engine error {engine_error!r}, oracle error {oracle_error!r}")
    finally:
        conn.close()
        duck.close()


def check(conn: Any, duck: Any, names: list[str], history: list[str]) -> None:
    bad = []
    for name in names:
        got = rows_of(conn.execute(f"SELECT * FROM {name}").fetchall())
        want = rows_of(duck.execute(f"SELECT * FROM {name}").fetchall())
        if got != want:
            bad.append(f"{name}: only in engine {sorted((got - want).elements(), key=repr)}, "
                       f"only in oracle {sorted((want - got).elements(), key=repr)}")
    assert not bad, "after:\n  " + "\n  ".join(history) + "\n" + "\n".join(bad)
