"""Source column pruning: a view's readers parse and convert only the columns the
view reads (EXPLAIN shows them), and the view holds what it held when every column
was read: DuckDB's rows over the same file, late rows dropped by a watermark column
the view does not select, exactly once across a restart."""

from __future__ import annotations

import datetime as dt
import os
import time
from pathlib import Path

import duckdb
import pytest

from tests.sources.conftest import Sql

BASE = dt.datetime(2024, 1, 1)
DDL = """CREATE SOURCE s (id BIGINT, note VARCHAR, price INT, ts TIMESTAMP, extra VARCHAR{wm})
         WITH (connector = 'posix_fs', posix_fs.root = '{root}', match_pattern = '*.csv')
         FORMAT PLAIN ENCODE CSV (without_header = 'false')"""
WM = ", WATERMARK FOR ts AS ts - INTERVAL '1' SECOND"


def write_csv(path: Path, ids: range, seconds: list[float] | None = None) -> None:
    lines = ["id,note,price,ts,extra"]
    for k, i in enumerate(ids):
        ts = BASE + dt.timedelta(seconds=seconds[k] if seconds else i)
        lines.append(f"{i},n{i % 7},{i * 37 % 1000},{ts.isoformat(' ')},{'x' * (40 + i % 9)}")
    tmp = path.with_suffix(".tmp")
    tmp.write_text("\n".join(lines) + "\n")
    os.replace(tmp, path)


def explain(sql: Sql, view: str) -> str:
    return "\n".join(r[0] for r in sql(f"EXPLAIN CREATE MATERIALIZED VIEW v AS {view}"))


def test_explain_shows_the_columns_a_source_reads(sql: Sql, tmp_path: Path) -> None:
    sql(DDL.format(wm=WM, root=tmp_path))
    plan = explain(sql, "SELECT id, price * 2 AS p, ts FROM s")
    assert "StreamSource { source: s, connector: posix_fs, columns: [id, price, ts] }" in plan
    # A filter's column is read; the watermark column is read though the view drops it.
    plan = explain(sql, "SELECT id FROM s WHERE price > 10")
    assert "StreamSource { source: s, connector: posix_fs, columns: [id, price, ts] }" in plan
    assert "StreamProject { exprs: [id, price] }" in plan
    plan = explain(sql, "SELECT window_start, count(*) AS n FROM TUMBLE(s, ts, INTERVAL '2' "
                        "SECOND) GROUP BY window_start")
    assert "columns: [ts] }" in plan
    plan = explain(sql, "SELECT count(*) AS n FROM s")  # no column: the whole row, as before
    assert "columns: [id, note, price, ts, extra] }" in plan


VIEWS = {
    "picked": "SELECT extra, id FROM s",
    "computed": "SELECT id * 2 AS d, upper(note) AS u FROM s WHERE price < 500",
    "filtered": "SELECT id FROM s WHERE note = 'n3' AND price > 100",
    "grouped": "SELECT note, count(*) AS n, sum(price) AS total FROM s GROUP BY note",
    "nested": "SELECT d + 1 AS e FROM (SELECT id * 3 AS d, note FROM s WHERE ts > "
              "TIMESTAMP '2024-01-01 00:10:00') AS q WHERE note <> 'n1'",
    "joined": "SELECT a.id, b.price FROM s AS a JOIN s AS b ON a.id = b.id + 1 "
              "WHERE a.note = 'n2'",
}


@pytest.mark.parametrize("watermark", [True, False])
def test_views_over_pruned_sources_match_duckdb(sql: Sql, tmp_path: Path,
                                                watermark: bool) -> None:
    write_csv(tmp_path / "a.csv", range(2500))
    sql(DDL.format(wm=WM if watermark else "", root=tmp_path))
    con = duckdb.connect()
    con.execute(f"CREATE TABLE s AS SELECT * FROM read_csv('{tmp_path}/a.csv', header = true, "
                "columns = {'id': 'BIGINT', 'note': 'VARCHAR', 'price': 'INTEGER', "
                "'ts': 'TIMESTAMP', 'extra': 'VARCHAR'})")
    for name, query in VIEWS.items():
        sql(f"CREATE MATERIALIZED VIEW {name} AS {query}")
    for name, query in VIEWS.items():
        want = sorted(con.execute(query).fetchall())
        assert len(want) > 1
        got = sql.until(f"SELECT * FROM {name}", lambda r, w=want: sorted(r) == w)
        assert sorted(got) == want, name


def test_late_rows_dropped_by_a_watermark_column_not_selected(sql: Sql, tmp_path: Path) -> None:
    sql(DDL.format(wm=WM, root=tmp_path))
    sql("CREATE MATERIALIZED VIEW ids AS SELECT id FROM s")
    sql("CREATE MATERIALIZED VIEW rows AS SELECT id, ts FROM s")
    sql("""CREATE MATERIALIZED VIEW w AS SELECT window_start, count(*) AS n
           FROM TUMBLE(s, ts, INTERVAL '2' SECOND) GROUP BY window_start EMIT ON WINDOW CLOSE""")
    assert "columns: [id, ts]" in explain(sql, "SELECT id FROM s")
    write_csv(tmp_path / "a.csv", range(1, 6))  # 1 s .. 5 s: the watermark reaches 4 s
    sql.until("SELECT count(*) FROM ids", lambda r: r == [(5,)])
    # 0.5 s and 3.5 s are older than the watermark: late, dropped; 4.5 s and 9 s are not.
    write_csv(tmp_path / "b.csv", range(6, 10), [0.5, 3.5, 4.5, 9])
    want = [(i,) for i in (1, 2, 3, 4, 5, 8, 9)]
    assert sorted(sql.until("SELECT id FROM ids", lambda r: sorted(r) == want)) == want
    # Each view reads the files with its own reader: wait for this one too.
    rows = sql.until("SELECT id, ts FROM rows", lambda r: len(r) == len(want))
    assert sorted(r[0] for r in rows) == [i for (i,) in want]
    # Windows close on the watermark the source emits: [0, 2) [2, 4) [4, 6) closed by 9 s.
    sql.until("SELECT * FROM w", lambda r: len(r) == 3)
    assert sorted(sql("SELECT * FROM w")) == [(BASE + dt.timedelta(seconds=s), n)
                                              for s, n in ((0, 1), (2, 2), (4, 3))]


def test_a_restart_resumes_after_the_last_committed_line(tmp_path: Path) -> None:
    data, db = tmp_path / "data", str(tmp_path / "db")
    data.mkdir()
    write_csv(data / "a.csv", range(1000))
    sql = Sql(db, barrier_interval_ms=50)
    try:
        sql(DDL.format(wm=WM, root=data))
        sql("CREATE MATERIALIZED VIEW v AS SELECT count(*) AS n, sum(price) AS total, "
            "max(id) AS top FROM (SELECT id, price FROM s) AS q")
        sql.until("SELECT n FROM v", lambda r: r == [(1000,)])
    finally:
        sql.close()
    write_csv(data / "b.csv", range(1000, 1500))
    sql = Sql(db, barrier_interval_ms=50)
    try:
        want = [(1500, sum(i * 37 % 1000 for i in range(1500)), 1499)]
        assert sql.until("SELECT n, total, top FROM v", lambda r: r == want) == want
        time.sleep(0.3)
        sql("FLUSH")
        assert sql("SELECT n, total, top FROM v") == want  # no line read twice
        [(position,)] = sql("SELECT count(*) FROM sys.sources WHERE source = 's'")
        assert position == 1
    finally:
        sql.close()


def test_pruning_rule_doctest() -> None:
    import doctest

    import planner.stream_plan
    result = doctest.testmod(planner.stream_plan)
    assert result.attempted > 0 and result.failed == 0
