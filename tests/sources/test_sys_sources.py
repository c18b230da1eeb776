"""sys.sources: one row per reader. A source stores nothing and each view
reading it has its own readers (one per actor of the fragment), so each is a
row with the view it feeds and its place in that view's graph; a table's own
reader (DML, or its connector) is one row. Figures come from the readers'
counters: rows handed out, rate, lag, bad records."""

from __future__ import annotations

import time
from pathlib import Path

from tests.sources.conftest import Sql

QUERY = ("SELECT source, connector, rows_read, rows_per_second, lag, parse_errors, "
         "last_error, relation, reader FROM sys.sources ORDER BY relation, reader")


def test_each_reader_of_a_source_in_views_is_a_row(sql: Sql) -> None:
    sql("""CREATE SOURCE bid WITH (connector = 'nexmark', nexmark.table.type = 'Bid',
           nexmark.event.num = '5000', nexmark.split.num = '3')""")
    sql("CREATE MATERIALIZED VIEW one AS SELECT count(*) AS n FROM bid")
    sql("SET streaming_parallelism = 2")
    sql("CREATE MATERIALIZED VIEW two AS SELECT auction, count(*) AS n FROM bid GROUP BY auction")
    sql.until("SELECT n FROM one", lambda r: r == [(4600,)])
    sql.until("SELECT sum(n) FROM two", lambda r: r == [(4600,)])
    rows = sql(QUERY)
    # The reader's place: fragment, operator, actor of the view's graph.
    # (two's reader produces just `auction`, so no projection stands above it.)
    assert [(r[7], r[8]) for r in rows] == [("one", "f0/o1/a0of1"), ("two", "f0/o0/a0of2"),
                                            ("two", "f0/o0/a1of2")], rows
    assert all(r[0] == "bid" and r[1] == "nexmark" for r in rows)
    assert rows[0][2] == 4600 and rows[1][2] + rows[2][2] == 4600  # each view reads all
    assert rows[1][2] > 0 and rows[2][2] > 0  # splits 0, 2 and 1 over two actors
    assert all(r[4] == 0 for r in rows)  # bounded and read to the end: no lag
    assert all(r[5] == 0 and r[6] is None for r in rows)
    assert all(r[3] is not None and r[3] > 0 for r in rows)  # read within the last seconds


def test_lag_rate_and_bad_records_of_a_file_reader(sql: Sql, tmp_path: Path) -> None:
    lines = [f"{i},{i * 10}" for i in range(3000)]
    lines[100] = "100,oops"
    (tmp_path / "a.csv").write_text("id,amount\n" + "\n".join(lines) + "\n")
    sql(f"""CREATE SOURCE s (id INT, amount INT) WITH (connector = 'posix_fs',
            posix_fs.root = '{tmp_path}', match_pattern = '*.csv', source_rate_limit = '1000')
            FORMAT PLAIN ENCODE CSV (without_header = 'false')""")
    sql("CREATE MATERIALIZED VIEW v AS SELECT count(*) AS n FROM s")
    time.sleep(1.2)
    [row] = sql(QUERY)
    source, connector, read, rate, lag, errors, last, relation, reader = row
    assert (source, connector, relation, reader) == ("s", "posix_fs", "v", "f0/o1/a0of1")
    assert 500 <= read <= 2000 and lag is not None
    assert 3000 - read - 400 <= lag <= 3000 - read + 400  # the file's unread lines, estimated
    assert 400 <= rate <= 1300
    assert (errors, last) == (1, "a.csv:102: invalid input syntax for type integer: \"oops\"")
    sql.until("SELECT n FROM v", lambda r: r == [(2999,)])
    [row] = sql(QUERY)
    assert row[2] == 2999 and row[4] == 0


def test_a_table_with_a_connector_is_one_row(sql: Sql) -> None:
    sql("""CREATE TABLE t (v INT) WITH (connector = 'datagen', fields.v.kind = 'sequence',
           fields.v.start = '1', fields.v.end = '50', datagen.rows.per.second = '1000')""")
    sql("CREATE MATERIALIZED VIEW c AS SELECT count(*) AS n FROM t")
    sql.until("SELECT n FROM c", lambda r: r == [(50,)])
    assert [r[:3] + r[4:] for r in sql(QUERY)] == [("t", "datagen", 50, 0, 0, None, "t", "table")]
