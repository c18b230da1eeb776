"""The fixed schema and views of the differential test: each view as the engine
runs it and as DuckDB answers it over a mirror of the tables. Together the views
use every stream operator (project, filter, hash and global aggregates, the four
joins, semi and anti joins, distinct, union, top-N, group top-N, view on view)."""

from __future__ import annotations

TABLES: list[tuple[str, str]] = [
    ("t1", "CREATE TABLE t1 (k int PRIMARY KEY, g int, v int, s varchar, f double precision)"),
    ("t2", "CREATE TABLE t2 (g int, w int, s varchar)"),
    ("t3", "CREATE TABLE t3 (id int PRIMARY KEY, d date, ts timestamp, amt numeric(10,2), "
           "tag varchar)"),
]

# name -> (engine SQL, DuckDB SQL or None when the same text means the same in DuckDB).
# Differences kept to spelling: PostgreSQL's integer `/` is DuckDB's `//`, and
# PostgreSQL sorts NULLs first under DESC where DuckDB sorts them last.
VIEWS: dict[str, tuple[str, str | None]] = {
    "v_proj": (
        "SELECT k, v * 2 + 1 AS v2, upper(s) AS us, "
        "CASE WHEN v > 5 THEN 'big' WHEN v IS NULL THEN 'none' ELSE 'small' END AS sz, "
        "coalesce(v, -1) AS cv, v % 3 AS m, v / 2 AS half, length(s) AS len, "
        "f * 2.5 AS f2 FROM t1 WHERE (v IS NULL OR v <> 3) AND NOT (s = 'ab')",
        "SELECT k, v * 2 + 1 AS v2, upper(s) AS us, "
        "CASE WHEN v > 5 THEN 'big' WHEN v IS NULL THEN 'none' ELSE 'small' END AS sz, "
        "coalesce(v, -1) AS cv, v % 3 AS m, v // 2 AS half, length(s) AS len, "
        "f * 2.5 AS f2 FROM t1 WHERE (v IS NULL OR v <> 3) AND NOT (s = 'ab')"),
    "v_agg": (
        "SELECT g, count(*) AS n, count(v) AS nv, count(DISTINCT v) AS dv, sum(v) AS sv, "
        "avg(v) AS av, min(v) AS mn, max(s) AS mx, bool_and(v > 0) AS ba, "
        "bool_or(v > 5) AS bo, string_agg(s, ',' ORDER BY s DESC) AS sa, sum(f) AS sf "
        "FROM t1 GROUP BY g HAVING count(*) > 1 OR min(v) < 0", None),
    "v_agg2": (
        "SELECT s, g, count(*) AS n, max(w) AS mx, min(w) AS mn, sum(w) AS sw "
        "FROM t2 GROUP BY s, g", None),
    "v_glob": (
        "SELECT count(*) AS n, count(w) AS nw, sum(w) AS sw, min(w) AS mn, max(w) AS mx, "
        "count(DISTINCT g) AS dg, avg(w) AS aw FROM t2", None),
    "v_inner": (
        "SELECT t1.k, t1.v, t2.w, t2.s FROM t1 JOIN t2 ON t1.g = t2.g AND t1.v < t2.w", None),
    "v_left": (
        "SELECT t1.k, t1.v, t2.w FROM t1 LEFT JOIN t2 ON t1.g = t2.g AND t1.v < t2.w", None),
    "v_right": (
        "SELECT t1.k, t1.v, t2.g, t2.w FROM t1 RIGHT JOIN t2 ON t1.g = t2.g AND t1.v < t2.w",
        None),
    "v_full": (
        "SELECT t1.k, t1.v, t2.g, t2.w FROM t1 FULL JOIN t2 "
        "ON t1.g = t2.g AND t1.s = t2.s AND t1.v <> t2.w", None),
    "v_in": ("SELECT k, v FROM t1 WHERE g IN (SELECT g FROM t2 WHERE w > 0)", None),
    "v_exists": (
        "SELECT k, v FROM t1 WHERE EXISTS "
        "(SELECT 1 FROM t2 WHERE t2.g = t1.g AND t2.w > t1.v)", None),
    "v_nexists": (
        "SELECT k, g, v FROM t1 WHERE NOT EXISTS "
        "(SELECT 1 FROM t2 WHERE t2.g = t1.g AND t2.w > t1.v)", None),
    "v_distinct": ("SELECT DISTINCT g, s FROM t2", None),
    "v_unionall": ("SELECT g, v AS x FROM t1 UNION ALL SELECT g, w FROM t2", None),
    "v_union": ("SELECT g, s FROM t1 UNION SELECT g, s FROM t2", None),
    "v_topn": (
        "SELECT k, v, s FROM t1 ORDER BY v DESC, k LIMIT 3",
        "SELECT k, v, s FROM t1 ORDER BY v DESC NULLS FIRST, k LIMIT 3"),
    "v_gtopn": (
        "SELECT k, g, v FROM (SELECT k, g, v, row_number() OVER "
        "(PARTITION BY g ORDER BY v, k) AS rn FROM t1) sub WHERE rn <= 2", None),
    "v_onview": ("SELECT g, n * 10 AS n10, sv FROM v_agg WHERE n > 2 OR sv IS NULL", None),
    "v_join_view": (
        "SELECT a.g, a.n, d.s FROM v_agg a JOIN v_distinct d ON a.g = d.g", None),
    "v_expr": (
        "SELECT g, w, s || '-' || coalesce(s, 'n') AS c, nullif(w, 0) AS nz, "
        "w BETWEEN 0 AND 4 AS bt, s LIKE 'a%' AS lk, s ILIKE 'A%' AS ilk, w IN (1, 2, 3) AS inl, "
        "abs(w) AS ab, w % 4 AS md, substr(s, 1, 1) AS s1, replace(s, 'a', 'z') AS rp "
        "FROM t2 WHERE g IS NOT NULL OR w > 2", None),
    "v_join_agg": (
        "SELECT t2.s, count(*) AS n, sum(t1.v) AS sv, max(t1.k) AS mk, min(t2.w) AS mw "
        "FROM t1 JOIN t2 ON t1.g = t2.g GROUP BY t2.s", None),
    "v_left_agg": (
        "SELECT t1.g, count(t2.w) AS nw, count(*) AS n FROM t1 LEFT JOIN t2 ON t1.g = t2.g "
        "GROUP BY t1.g", None),
    "v_in_agg": (
        "SELECT k, v FROM t1 WHERE v IN (SELECT max(w) FROM t2 GROUP BY g)", None),
    "v_union_views": (
        "SELECT g FROM v_distinct UNION ALL SELECT g FROM v_gtopn", None),
    "w_time": (
        "SELECT date_trunc('month', ts) AS m, count(*) AS n, sum(amt) AS s, max(d) AS md, "
        "min(ts) AS mt, avg(amt) AS a FROM t3 GROUP BY date_trunc('month', ts)", None),
    "w_expr": (
        "SELECT id, extract(year FROM d) AS y, d + 1 AS d1, ts + interval '1 day' AS t1, "
        "amt * 2 AS a2, round(amt, 1) AS r, floor(amt) AS f, ceil(amt) AS c, lower(tag) AS lt, "
        "trim(tag) AS tt, position('a' IN tag) AS p, split_part(tag, '-', 2) AS sp, "
        "length(tag) AS l, concat(tag, id) AS ct FROM t3", None),
    "w_arith": (
        "SELECT id, CAST(amt AS int) AS ai, CAST(id AS varchar) AS si, amt / 4 AS q, "
        "amt + 100000000 AS big, id / 3 AS iq, id % 3 AS im FROM t3 WHERE amt IS NOT NULL",
        "SELECT id, CAST(amt AS int) AS ai, CAST(id AS varchar) AS si, amt / 4 AS q, "
        "amt + 100000000 AS big, id // 3 AS iq, id % 3 AS im FROM t3 WHERE amt IS NOT NULL"),
    "w_join_time": (
        "SELECT t3.id, t1.k, t3.amt FROM t3 JOIN t1 ON t3.id = t1.k AND t3.d > DATE '2024-01-01'",
        None),
}
