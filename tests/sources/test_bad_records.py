"""A folder of CSV files with some bad rows: good rows counted once, bad rows
counted as errors (with file and line) in the reader's metrics, nothing stuck."""

from __future__ import annotations

from pathlib import Path

from tests.sources.conftest import Sql


def test_bad_rows_are_skipped_and_counted(sql: Sql, tmp_path: Path) -> None:
    (tmp_path / "a.csv").write_text("id,amount\n1,10\n2,oops\n3,30\n")
    (tmp_path / "b.csv").write_text("id,amount\n4,40\n5\n6,99999999999\n7,70\n")
    sql(f"""CREATE SOURCE s (id INT, amount INT) WITH (connector = 'posix_fs',
            posix_fs.root = '{tmp_path}', match_pattern = '*.csv')
            FORMAT PLAIN ENCODE CSV (without_header = 'false')""")
    sql("CREATE MATERIALIZED VIEW v AS SELECT count(*) AS n, sum(amount) AS total FROM s")
    assert sql.until("SELECT * FROM v", lambda r: r == [(4, 150)]) == [(4, 150)]
    db = sql.conn._db
    assert db is not None and db.runtime is not None
    readers = db.runtime.sources["s"]
    assert sum(r.parse_errors for r in readers) == 3
    assert sum(r.rows_read for r in readers) == 4
    errors = [r.last_error for r in readers if r.last_error]
    assert errors == ["b.csv:4: integer out of range"]  # files are read in name order
    # The stream keeps going: a file added later is read too.
    (tmp_path / "c.csv").write_text("id,amount\n8,{bad\n9,1000\n")
    assert sql.until("SELECT * FROM v", lambda r: r == [(5, 1150)]) == [(5, 1150)]
    assert sum(r.parse_errors for r in readers) == 4


def test_every_view_over_a_source_sees_the_same_rows(sql: Sql, tmp_path: Path) -> None:
    """A bad value makes the whole record bad, also for a view that does not read its
    column: a table, a count and views reading other columns agree."""
    (tmp_path / "a.csv").write_text(
        "id,amount,at\n1,10,2024-01-01 00:00:01\n2,oops,2024-01-01 00:00:02\n"
        "3,30,not a time\n4,40,2024-01-01 00:00:04\n")
    with_opts = f"""WITH (connector = 'posix_fs', posix_fs.root = '{tmp_path}',
                    match_pattern = '*.csv') FORMAT PLAIN ENCODE CSV (without_header = 'false')"""
    sql(f"CREATE SOURCE s (id INT, amount INT, at TIMESTAMP) {with_opts}")
    sql(f"CREATE TABLE t (id INT, amount INT, at TIMESTAMP) {with_opts}")
    sql("CREATE MATERIALIZED VIEW n AS SELECT count(*) AS n FROM s")
    sql("CREATE MATERIALIZED VIEW ids AS SELECT id FROM s")
    sql("CREATE MATERIALIZED VIEW amounts AS SELECT amount FROM s")
    sql("CREATE MATERIALIZED VIEW times AS SELECT at FROM s")
    assert sql.until("SELECT * FROM n", lambda r: r == [(2,)]) == [(2,)]
    assert sql.until("SELECT count(*) FROM t", lambda r: r == [(2,)]) == [(2,)]
    assert sorted(sql("SELECT id FROM ids")) == [(1,), (4,)]
    assert sorted(sql("SELECT amount FROM amounts")) == [(10,), (40,)]
    assert len(sql("SELECT at FROM times")) == 2
    errors = sql("SELECT relation, parse_errors FROM sys.sources WHERE source IN ('s', 't') "
                 "ORDER BY relation")
    assert errors == [("amounts", 2), ("ids", 2), ("n", 2), ("t", 2), ("times", 2)]
