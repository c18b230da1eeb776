"""NaN cases the DuckDB oracle cannot check: state restored after a restart (a pickled
NaN must still meet the NaN of new rows), numeric 'NaN' (DuckDB's DECIMAL has none;
the serving store shows it as NULL), and a NaN computed by an aggregate flowing into
a view on the view. Expected rows are PostgreSQL's."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

import sqlstream


def _norm(v: object) -> object:
    """Numbers as floats, NaN spelled 'NaN', so that rows compare and sort."""
    if v is None or isinstance(v, (bool, str)):
        return v
    f = float(v)  # type: ignore[arg-type]
    return "NaN" if math.isnan(f) else f


def _rows(conn: sqlstream.Connection, sql: str) -> list[tuple]:
    return sorted((tuple(map(_norm, r)) for r in conn.execute(sql).fetchall()), key=repr)


def _want(rows: list[tuple]) -> list[tuple]:
    return sorted((tuple(map(_norm, r)) for r in rows), key=repr)


VIEWS = {
    "grp": "SELECT x, count(*) AS c FROM t GROUP BY x",
    "dst": "SELECT count(*) AS c FROM (SELECT DISTINCT x FROM t) AS d",
    "ext": "SELECT max(x) AS mx, min(x) AS mn, count(DISTINCT x) AS cd FROM t",
    "jn": "SELECT t.id, u.y FROM t JOIN u ON t.x = u.y",
    "top": "SELECT x FROM t ORDER BY x DESC LIMIT 2",
}


@pytest.mark.parametrize("parallelism", [1, 3])
def test_nan_state_meets_new_nan_after_restart(tmp_path: Path, parallelism: int) -> None:
    data = str(tmp_path / "db")
    with sqlstream.connect(data, barrier_interval_ms=50) as conn:
        conn.execute(f"SET streaming_parallelism = {parallelism}")
        conn.execute("CREATE TABLE t (id int PRIMARY KEY, x double precision)")
        conn.execute("CREATE TABLE u (y double precision)")
        for name, sql in VIEWS.items():
            conn.execute(f"CREATE MATERIALIZED VIEW {name} AS {sql}")
        conn.execute("INSERT INTO t VALUES (1, 'NaN'), (2, 'NaN'), (3, 1.5), (4, 'Infinity')")
        conn.execute("INSERT INTO u VALUES ('NaN')")
        conn.execute("FLUSH")
        assert _rows(conn, "SELECT * FROM grp") == _want([(1.5, 1), (math.inf, 1), ("NaN", 2)])
    with sqlstream.connect(data, barrier_interval_ms=50) as conn:
        conn.execute("INSERT INTO t VALUES (5, 'inf'::float8 - 'inf'::float8)")
        conn.execute("INSERT INTO u VALUES ('NaN'::float8)")
        conn.execute("DELETE FROM t WHERE id = 1")
        conn.execute("FLUSH")
        assert _rows(conn, "SELECT * FROM grp") == _want([(1.5, 1), (math.inf, 1), ("NaN", 2)])
        assert _rows(conn, "SELECT * FROM dst") == _want([(3,)])
        assert _rows(conn, "SELECT * FROM ext") == _want([("NaN", 1.5, 3)])
        assert _rows(conn, "SELECT * FROM jn") == _want([(2, "NaN"), (2, "NaN"), (5, "NaN"),
                                                   (5, "NaN")])
        assert _rows(conn, "SELECT * FROM top") == _want([("NaN",), ("NaN",)])
        conn.execute("DELETE FROM t WHERE x = 'NaN'::float8")
        conn.execute("FLUSH")
        assert _rows(conn, "SELECT * FROM grp") == _want([(1.5, 1), (math.inf, 1)])
        assert _rows(conn, "SELECT * FROM ext") == _want([(math.inf, 1.5, 2)])
        assert _rows(conn, "SELECT * FROM jn") == _want([])
        assert _rows(conn, "SELECT * FROM top") == _want([(1.5,), (math.inf,)])


def test_numeric_nan() -> None:
    """numeric 'NaN' groups, deduplicates, sorts and compares like the double one (it
    used to fail the actor: Decimal's NaN refuses `<`). Served as NULL."""
    with sqlstream.connect(barrier_interval_ms=50) as conn:
        conn.execute("CREATE TABLE t (id int PRIMARY KEY, n numeric(10,2))")
        views = {
            "grp": "SELECT n, count(*) AS c FROM t GROUP BY n",
            "ext": "SELECT count(DISTINCT n) AS cd, max(n) = 'NaN'::numeric AS mx_nan, "
                   "min(n) AS mn FROM t",
            "gt": "SELECT id FROM t WHERE n > 1",
            "eq": "SELECT id FROM t WHERE n = 'NaN'::numeric",
            "ne": "SELECT id FROM t WHERE n <> 'NaN'",
            "top": "SELECT id, n > 100 AS big FROM t ORDER BY n DESC, id LIMIT 2",
            "calc": "SELECT n + 1 = 'NaN'::numeric AS is_nan, count(*) AS c FROM t "
                    "GROUP BY n + 1",
        }
        for name, sql in views.items():
            conn.execute(f"CREATE MATERIALIZED VIEW {name} AS {sql}")
        conn.execute("INSERT INTO t VALUES (1, 'NaN'), (2, 'nan'::numeric), (3, 1.5), "
                     "(4, 200)")
        conn.execute("FLUSH")
        assert _rows(conn, "SELECT * FROM grp") == _want([(None, 2), (1.5, 1), (200, 1)])
        assert _rows(conn, "SELECT * FROM ext") == _want([(3, True, 1.5)])
        assert _rows(conn, "SELECT * FROM gt") == _want([(1,), (2,), (3,), (4,)])
        assert _rows(conn, "SELECT * FROM eq") == _want([(1,), (2,)])
        assert _rows(conn, "SELECT * FROM ne") == _want([(3,), (4,)])
        assert _rows(conn, "SELECT * FROM top") == _want([(1, True), (2, True)])
        assert _rows(conn, "SELECT * FROM calc") == _want([(False, 1), (False, 1), (True, 2)])
        conn.execute("DELETE FROM t WHERE id = 1")
        conn.execute("FLUSH")
        assert _rows(conn, "SELECT * FROM top") == _want([(2, True), (4, True)])


def test_nan_from_an_aggregate_downstream(tmp_path: Path) -> None:
    """A NaN sum feeds a view on the view: it groups with other NaN sums, counts as
    larger than 1, and is retracted after a restart."""
    data = str(tmp_path / "db")
    with sqlstream.connect(data, barrier_interval_ms=50) as conn:
        conn.execute("CREATE TABLE t (g int, x double precision, n numeric)")
        conn.execute("CREATE MATERIALIZED VIEW s AS SELECT g, sum(x) AS sx, sum(n) AS sn "
                     "FROM t GROUP BY g")
        conn.execute("CREATE MATERIALIZED VIEW s2 AS SELECT sx, count(*) AS c FROM s "
                     "GROUP BY sx")
        conn.execute("CREATE MATERIALIZED VIEW s3 AS SELECT g FROM s WHERE sx > 1")
        conn.execute("INSERT INTO t VALUES (1, 'NaN', 'NaN'), (2, 'NaN', 1), (3, 2, 2)")
        conn.execute("FLUSH")
        assert _rows(conn, "SELECT * FROM s2") == _want([(2.0, 1), ("NaN", 2)])
        assert _rows(conn, "SELECT * FROM s3") == _want([(1,), (2,), (3,)])
    with sqlstream.connect(data, barrier_interval_ms=50) as conn:
        conn.execute("INSERT INTO t VALUES (1, 1, 5)")
        conn.execute("FLUSH")
        assert _rows(conn, "SELECT g, sx FROM s") == _want([(1, "NaN"), (2, "NaN"), (3, 2.0)])
        conn.execute("DELETE FROM t WHERE n = 'NaN'::numeric")
        conn.execute("FLUSH")
        assert _rows(conn, "SELECT * FROM s") == _want([(1, 1.0, 5), (2, "NaN", 1), (3, 2.0, 2)])


def test_nan_read_from_a_csv_source(tmp_path: Path) -> None:
    """'NaN' fields of a CSV file form one group, whichever way the reader parses."""
    n = 6000
    (tmp_path / "a.csv").write_text(
        "id,x\n" + "".join(f"{i},{'NaN' if i % 2 else '1.5'}\n" for i in range(n)))
    with sqlstream.connect(barrier_interval_ms=50) as conn:
        conn.execute(f"""CREATE SOURCE s (id int, x double precision) WITH (
            connector = 'posix_fs', posix_fs.root = '{tmp_path}', match_pattern = '*.csv')
            FORMAT PLAIN ENCODE CSV (without_header = 'false')""")
        conn.execute("CREATE MATERIALIZED VIEW g AS SELECT x, count(*) AS c FROM s GROUP BY x")
        for _ in range(100):
            conn.execute("FLUSH")
            rows = _rows(conn, "SELECT * FROM g")
            if sum(c for _x, c in rows) >= n:
                break
        assert rows == _want([(1.5, n // 2), ("NaN", n // 2)])
