"""Schema, DML strategies and views of the broader differential test
(test_more_views.py): view shapes the first test does not cover (three-table
and self joins, outer joins with NULL keys and non-equi ON conditions,
aggregate-then-join, DISTINCT aggregates, text and timestamp min/max, NOT IN
with NULLs, top-N with ties and OFFSET, views on views, primary key updates).

Top-N views with ties project only their sort columns (and the partition
column), so any choice among tied rows gives the same multiset."""

from __future__ import annotations

from hypothesis import strategies as st

from tests.differential.dml import lit

TABLES: list[tuple[str, str]] = [
    ("a", "CREATE TABLE a (id int PRIMARY KEY, k int, x int, s varchar, ts timestamp, "
          "n numeric(10,2), r double precision, b boolean)"),
    ("b", "CREATE TABLE b (id int PRIMARY KEY, k int, y int, s varchar)"),
    ("c", "CREATE TABLE c (k int, z int)"),
]

IDS = st.integers(0, 6)
KS = st.one_of(st.none(), st.integers(0, 3))
XS = st.one_of(st.none(), st.integers(-8, 8))
SS = st.sampled_from([None, "a", "ab", "Ab", "b", "ba", "", "x_y", "12"])
TSS = st.sampled_from([None, "2024-01-01 00:00:00", "2024-01-01 10:30:00",
                       "2023-12-31 23:59:59", "2024-02-29 12:00:00", "2024-03-01 00:00:01.5"])
NS = st.sampled_from([None, "0.00", "2.50", "-1.25", "3.35", "0.05", "-0.50", "10.99"])
RS = st.sampled_from([None, 0.0, 1.5, -0.25, 2.75, 1e-3])
BS = st.sampled_from([None, True, False])


def _ts(v: str | None) -> str:
    return "NULL" if v is None else f"TIMESTAMP '{v}'"


def _a_row(r: tuple) -> str:
    i, k, x, s, ts, n, f, b = r
    return (f"({i}, {lit(k)}, {lit(x)}, {lit(s)}, {_ts(ts)}, {n or 'NULL'}, {lit(f)}, "
            f"{lit(b).upper()})")


@st.composite
def insert_a(draw: st.DrawFn) -> str:
    rows = draw(st.lists(st.tuples(IDS, KS, XS, SS, TSS, NS, RS, BS), min_size=1, max_size=4))
    rows = list({r[0]: r for r in rows}.values())
    conflict = draw(st.sampled_from(["", " ON CONFLICT (id) DO NOTHING",
                                     " ON CONFLICT (id) DO UPDATE SET x = excluded.x, "
                                     "k = excluded.k"]))
    return "INSERT INTO a VALUES " + ", ".join(_a_row(r) for r in rows) + conflict


@st.composite
def insert_b(draw: st.DrawFn) -> str:
    rows = draw(st.lists(st.tuples(IDS, KS, XS, SS), min_size=1, max_size=4))
    rows = list({r[0]: r for r in rows}.values())
    values = ", ".join(f"({i}, {lit(k)}, {lit(y)}, {lit(s)})" for i, k, y, s in rows)
    return f"INSERT INTO b VALUES {values} ON CONFLICT (id) DO NOTHING"


@st.composite
def insert_c(draw: st.DrawFn) -> str:
    rows = draw(st.lists(st.tuples(KS, XS), min_size=1, max_size=4))
    return "INSERT INTO c VALUES " + ", ".join(f"({lit(k)}, {lit(z)})" for k, z in rows)


@st.composite
def where_a(draw: st.DrawFn) -> str:
    return draw(st.sampled_from([
        f"id = {draw(IDS)}", f"id > {draw(IDS)}", "k IS NULL", f"k = {draw(st.integers(0, 3))}",
        f"x < {draw(st.integers(-8, 8))}", "x IS NULL", f"s = {lit(draw(SS))}", "b", "TRUE"]))


@st.composite
def update_a(draw: st.DrawFn) -> str:
    sets = draw(st.sampled_from([
        "x = x + 3", "x = -x", f"x = {lit(draw(XS))}", f"k = {lit(draw(KS))}",
        f"s = {lit(draw(SS))}", f"ts = {_ts(draw(TSS))}", "ts = ts + interval '1 hour'",
        "n = n * 2", f"n = {draw(NS) or 'NULL'}", "r = r - 1.5", "b = NOT b",
        f"b = {lit(draw(BS)).upper()}", f"k = {lit(draw(KS))}, x = {lit(draw(XS))}",
        # a primary key change: a delete and an insert downstream (or 23505 in both)
        f"id = {draw(IDS)}", "id = id + 10"]))
    return f"UPDATE a SET {sets} WHERE {draw(where_a())}"


@st.composite
def update_b(draw: st.DrawFn) -> str:
    sets = draw(st.sampled_from([
        "y = y - 2", f"y = {lit(draw(XS))}", f"k = {lit(draw(KS))}", f"s = {lit(draw(SS))}",
        f"id = {draw(IDS)}"]))
    where = draw(st.sampled_from([f"id = {draw(IDS)}", "k IS NULL", f"y > {draw(XS) or 0}",
                                  "TRUE"]))
    return f"UPDATE b SET {sets} WHERE {where}"


@st.composite
def change_c(draw: st.DrawFn) -> str:
    where = draw(st.sampled_from([f"k = {draw(st.integers(0, 3))}", "k IS NULL",
                                  f"z > {draw(st.integers(-8, 8))}", "z IS NULL", "TRUE"]))
    if draw(st.booleans()):
        return f"DELETE FROM c WHERE {where}"
    sets = draw(st.sampled_from(["z = z + 1", f"k = {lit(draw(KS))}", "z = NULL"]))
    return f"UPDATE c SET {sets} WHERE {where}"


@st.composite
def delete_a(draw: st.DrawFn) -> str:
    return f"DELETE FROM a WHERE {draw(where_a())}"


@st.composite
def delete_b(draw: st.DrawFn) -> str:
    where = draw(st.sampled_from([f"id = {draw(IDS)}", "k IS NULL", f"k = {draw(KS) or 0}",
                                  "TRUE"]))
    return f"DELETE FROM b WHERE {where}"


STATEMENT = st.one_of(insert_a(), insert_a(), insert_b(), insert_c(), update_a(), update_a(),
                      update_b(), change_c(), delete_a(), delete_b(), st.just("FLUSH"))
PROGRAM = st.lists(STATEMENT, min_size=4, max_size=30).map(lambda s: s + ["FLUSH"])


def _same(sql: str) -> tuple[str, None]:
    return sql, None


# name -> (engine SQL, DuckDB SQL or None when the text means the same in DuckDB).
JOIN_VIEWS: dict[str, tuple[str, str | None]] = {
    "j_three": _same("SELECT a.id, b.id AS bid, c.z FROM a JOIN b ON a.k = b.k "
                     "JOIN c ON b.k = c.k AND c.z > a.x"),
    "j_left_nonequi": _same("SELECT a.id, a.x, b.id AS bid FROM a LEFT JOIN b "
                            "ON a.k = b.k AND a.x > b.y"),
    "j_left_leftcond": _same("SELECT a.id, b.id AS bid FROM a LEFT JOIN b "
                             "ON a.k = b.k AND a.x > 3"),
    "j_right_rightcond": _same("SELECT a.id, b.id AS bid, b.y FROM a RIGHT JOIN b "
                               "ON a.k = b.k AND b.y > 0"),
    "j_full_nonequi": _same("SELECT a.id, b.id AS bid FROM a FULL JOIN b "
                            "ON a.k = b.k AND a.s <> b.s"),
    "j_full_nokey": _same("SELECT a.x, c.z FROM a FULL JOIN c ON a.k = c.k"),
    "j_left_left": _same("SELECT a.id, b.id AS bid, c.z FROM a LEFT JOIN b ON a.k = b.k "
                         "LEFT JOIN c ON b.y = c.z"),
    "j_right_c": _same("SELECT b.id, c.k, c.z FROM b RIGHT JOIN c ON b.k = c.k AND b.y < c.z"),
    "j_self": _same("SELECT p.id, q.id AS qid FROM a p JOIN a q ON p.k = q.k AND p.id < q.id"),
    "j_self_left": _same("SELECT p.id, q.id AS qid FROM a p LEFT JOIN a q "
                         "ON p.x = q.x AND p.id <> q.id"),
    "j_expr_key": _same("SELECT a.id, b.id AS bid FROM a JOIN b ON a.k + 1 = b.k"),
    "j_comma": _same("SELECT a.id, c.z FROM a, c WHERE a.k = c.k AND a.x > c.z"),
    "j_agg": _same("SELECT a.k, count(*) AS n, sum(b.y) AS sy, max(b.s) AS ms FROM a "
                   "JOIN b ON a.k = b.k GROUP BY a.k HAVING sum(b.y) > 0"),
    "j_left_agg": _same("SELECT b.id, count(c.z) AS nz, sum(c.z) AS sz FROM b "
                        "LEFT JOIN c ON b.k = c.k GROUP BY b.id"),
    "j_agg_agg": _same("SELECT s1.k, s1.n, s2.m FROM (SELECT k, count(*) AS n FROM a "
                       "GROUP BY k) s1 JOIN (SELECT k, max(y) AS m FROM b GROUP BY k) s2 "
                       "ON s1.k = s2.k"),
    "j_full_agg": _same("SELECT x.k, x.n, y.n AS n2 FROM (SELECT k, count(*) AS n FROM a "
                        "GROUP BY k) x FULL JOIN (SELECT k, count(*) AS n FROM c GROUP BY k) y "
                        "ON x.k = y.k"),
    "j_cte": _same("WITH q AS (SELECT k, count(*) AS n FROM a GROUP BY k) "
                   "SELECT q.k, q.n, c.z FROM q JOIN c ON q.k = c.k"),
    "j_on_view": _same("SELECT j.id, j.bid, c.z FROM j_left_nonequi j JOIN c ON j.x = c.z"),
    "s_exists": _same("SELECT id FROM a WHERE EXISTS (SELECT 1 FROM b WHERE b.k = a.k)"),
    "s_nexists": _same("SELECT id, x FROM a WHERE NOT EXISTS "
                       "(SELECT 1 FROM c WHERE c.k = a.k AND c.z >= a.x)"),
    "s_in": _same("SELECT id FROM a WHERE k IN (SELECT k FROM b WHERE y > 0)"),
    "s_notin": _same("SELECT id FROM a WHERE k NOT IN (SELECT k FROM b)"),
    "s_notin_x": _same("SELECT id FROM a WHERE x NOT IN (SELECT z FROM c WHERE k = 1)"),
    "s_in_agg": _same("SELECT id FROM a WHERE x IN (SELECT max(z) FROM c GROUP BY k)"),
}

AGG_VIEWS: dict[str, tuple[str, str | None]] = {
    "g_distinct": _same(
        "SELECT k, count(DISTINCT x) AS dx, sum(DISTINCT x) AS sdx, avg(x) AS ax, "
        "count(DISTINCT s) AS ds, avg(DISTINCT x) AS adx FROM a GROUP BY k"),
    "g_minmax": _same(
        "SELECT k, min(s) AS mis, max(s) AS mas, min(ts) AS mit, max(ts) AS mat, "
        "min(n) AS mn, max(r) AS mr, bool_and(b) AS ba, bool_or(b) AS bo FROM a GROUP BY k"),
    "g_numeric": _same("SELECT k, sum(n) AS sn, avg(n) AS an, sum(r) AS sr, avg(r) AS ar "
                       "FROM a GROUP BY k"),
    "g_global": _same("SELECT count(*) AS n, sum(z) AS sz, min(z) AS mz, max(z) AS xz, "
                      "avg(z) AS az, count(DISTINCT k) AS dk, bool_or(z > 1) AS bo FROM c"),
    "g_global_text": _same("SELECT min(s) AS mi, max(s) AS ma, max(ts) AS mt, count(s) AS ns, "
                           "string_agg(s, '|' ORDER BY s) AS sa FROM a"),
    "g_expr": _same("SELECT x % 3 AS p, 1 AS one, count(*) AS n, sum(x) AS sx FROM a "
                    "GROUP BY x % 3"),
    "g_ordinal": _same("SELECT upper(s) AS us, count(*) AS n FROM a GROUP BY 1"),
    "g_having_global": _same("SELECT count(*) AS n, sum(x) AS sx FROM a HAVING count(*) > 2"),
    "g_having": _same("SELECT k, count(*) AS n FROM c GROUP BY k "
                      "HAVING count(z) >= 1 AND min(z) < 5"),
    "g_two_keys": _same("SELECT k, b, count(*) AS n, max(x) AS mx FROM a GROUP BY k, b"),
    "g_time": _same("SELECT date_trunc('day', ts) AS d, count(*) AS n, max(n) AS mn "
                    "FROM a GROUP BY date_trunc('day', ts)"),
    "g_string_agg": _same("SELECT k, string_agg(s, ',' ORDER BY s) AS sa FROM a GROUP BY k"),
    "g_distinct_rows": _same("SELECT DISTINCT k, x > 0 AS pos FROM a"),
    "g_count_distinct_sub": _same("SELECT k, count(*) AS n FROM (SELECT DISTINCT k, z FROM c) d "
                                  "GROUP BY k"),
    "g_on_view": _same("SELECT k, dx * 2 AS dx2 FROM g_distinct WHERE ax IS NOT NULL"),
    "g_agg_of_agg": _same("SELECT n, count(*) AS groups FROM (SELECT k, count(*) AS n FROM c "
                          "GROUP BY k) t GROUP BY n"),
}

EXPR_VIEWS: dict[str, tuple[str, str | None]] = {
    "e_intdiv": (
        "SELECT id, x / -3 AS d, x % -3 AS m, -x / 2 AS d2, (-x) % 4 AS m2, x / 2 * 2 AS d3 "
        "FROM a",
        "SELECT id, x // -3 AS d, x % -3 AS m, -x // 2 AS d2, (-x) % 4 AS m2, x // 2 * 2 AS d3 "
        "FROM a"),
    "e_numeric": _same("SELECT id, n * 3 AS n3, n / 4 AS nd, round(n, 1) AS rn, n + x AS nx, "
                       "r * 2 AS r2, x + r AS xr, abs(n) AS an, -n AS neg FROM a"),
    # PostgreSQL's LIKE escapes with a backslash by default; DuckDB's needs ESCAPE.
    "e_text": ("SELECT id, upper(s) AS u, lower(s) AS l, substr(s, 2) AS ss, "
               "substr(s, 1, 1) AS s1, length(s) AS len, s || 'z' AS c, "
               "s LIKE '%b%' AS lk, s ILIKE 'a_' AS ilk, s LIKE 'x\\_y' AS esc, "
               "s NOT LIKE 'a%' AS nlk FROM a",
               "SELECT id, upper(s) AS u, lower(s) AS l, substr(s, 2) AS ss, "
               "substr(s, 1, 1) AS s1, length(s) AS len, s || 'z' AS c, "
               "s LIKE '%b%' AS lk, s ILIKE 'a_' AS ilk, s LIKE 'x\\_y' ESCAPE '\\' AS esc, "
               "s NOT LIKE 'a%' AS nlk FROM a"),
    "e_time": _same("SELECT id, ts + interval '1 day' AS t1, date_trunc('hour', ts) AS th, "
                    "extract(hour FROM ts) AS eh, extract(month FROM ts) AS em, "
                    "ts - interval '90 minutes' AS t2, CAST(ts AS date) AS d, "
                    "CAST(ts AS date) + 1 AS d1 FROM a"),
    "e_logic": _same(
        "SELECT id, CASE WHEN x IS DISTINCT FROM k THEN 1 ELSE 0 END AS dd, "
        "x IS NOT DISTINCT FROM k AS nd, nullif(x, k) AS nf, coalesce(x, k, -1) AS cx, "
        "x IN (1, 2, NULL) AS inn, x NOT IN (1, 2) AS nin, x BETWEEN k AND 5 AS bt, "
        "x NOT BETWEEN 1 AND 3 AS nbt, b IS NOT FALSE AS nf2, b IS UNKNOWN AS u, "
        "(x > 0) AND b AS ab, (x > 0) OR b AS ob, NOT b AS nb FROM a"),
    "e_case": _same("SELECT id, CASE x WHEN 1 THEN 'one' WHEN -1 THEN 'minus' END AS c, "
                    "CASE WHEN s IS NULL THEN 0 WHEN s < 'b' THEN 1 ELSE 2 END AS cs, "
                    "greatest(x, k) AS g, least(x, k, 2) AS l FROM a"),
    "e_cast": _same("SELECT id, CAST(x AS varchar) AS xs, CAST(r AS int) AS ri, "
                    "CAST(n AS int) AS ni, CAST(x AS double precision) / 4 AS xd, "
                    "CAST(id AS numeric) / 3 AS nq, CAST(b AS int) AS bi FROM a"),
    "e_filter": _same("SELECT id, x FROM a WHERE x BETWEEN -2 AND 5 AND s IN ('a', 'ab', 'b') "
                      "OR ts >= TIMESTAMP '2024-02-01 00:00:00'"),
    "u_all3": _same("SELECT k FROM a UNION ALL SELECT k FROM b UNION ALL SELECT z FROM c"),
    "u_distinct": _same("SELECT k, s FROM a UNION SELECT k, s FROM b"),
    "u_mixed": _same("SELECT k FROM a WHERE x > 0 UNION SELECT k FROM c"),
    "t_ties": _same("SELECT x FROM a ORDER BY x LIMIT 3"),
    "t_offset": ("SELECT x, k FROM a ORDER BY x DESC, k LIMIT 2 OFFSET 1",
                 "SELECT x, k FROM a ORDER BY x DESC NULLS FIRST, k LIMIT 2 OFFSET 1"),
    "t_unique": _same("SELECT id, x FROM a ORDER BY x NULLS FIRST, id LIMIT 3"),
    "t_text": _same("SELECT s FROM a ORDER BY s LIMIT 4"),
    "t_hidden": ("SELECT id FROM a ORDER BY x DESC, id LIMIT 2",
                 "SELECT id FROM a ORDER BY x DESC NULLS FIRST, id LIMIT 2"),
    # numeric(10,2) and numeric(10,3) values: equal numbers with different scales
    "u_numeric": _same("SELECT n FROM a UNION SELECT CAST(y AS numeric(10,3)) FROM b"),
    "t_on_agg": _same("SELECT k, n FROM (SELECT k, count(*) AS n FROM c GROUP BY k) t "
                      "ORDER BY n, k LIMIT 2"),
    "t_group": ("SELECT k, x FROM (SELECT k, x, row_number() OVER "
                "(PARTITION BY k ORDER BY x DESC) AS rn FROM a) t WHERE rn <= 2",
                "SELECT k, x FROM (SELECT k, x, row_number() OVER "
                "(PARTITION BY k ORDER BY x DESC NULLS FIRST) AS rn FROM a) t WHERE rn <= 2"),
    "t_group_first": _same("SELECT k, id, x FROM (SELECT k, id, x, row_number() OVER "
                           "(PARTITION BY k ORDER BY x, id) AS rn FROM a) t WHERE rn = 1"),
    "t_group_rn": _same("SELECT k, z, rn FROM (SELECT k, z, row_number() OVER "
                        "(PARTITION BY k ORDER BY z) AS rn FROM c) t WHERE rn < 3"),
    "t_group_view": _same("SELECT k, count(*) AS n FROM t_group GROUP BY k"),
}

VIEW_GROUPS = {"joins": JOIN_VIEWS, "aggregates": AGG_VIEWS, "expressions": EXPR_VIEWS}
