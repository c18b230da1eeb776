"""A group top-N fed only by inserts (a source, or an append-only view over one)
keeps just the rows that can still show: with LIMIT 1 one state row per group. Fed
by a table (DELETE and UPDATE reach it) it keeps every row, and both give DuckDB's
answer over the same rows."""

from __future__ import annotations

from pathlib import Path

import duckdb

import sqlstream

ROWS = [(i % 7, (i * 37) % 101, i) for i in range(700)]
TOP1 = ("SELECT g, v, id FROM (SELECT g, v, id, row_number() OVER (PARTITION BY g "
        "ORDER BY v DESC, id) AS rn FROM {src}) WHERE rn <= {n}")


def _state_rows(conn: sqlstream.Connection, view: str) -> int:
    return conn.execute("SELECT sum(rows) FROM sys.state_tables WHERE relation = %s "
                        "AND operator LIKE 'StreamGroupTopN%%'", (view,)).fetchone()[0]


def _duck(sql: str) -> list[tuple]:
    con = duckdb.connect()
    con.execute("CREATE TABLE s (g INT, v INT, id INT)")
    con.executemany("INSERT INTO s VALUES (?, ?, ?)", ROWS)
    return sorted(con.execute(sql).fetchall())


def test_top_n_over_a_source_keeps_only_rows_that_can_show(tmp_path: Path) -> None:
    (tmp_path / "s.csv").write_text("g,v,id\n" + "".join(f"{g},{v},{i}\n" for g, v, i in ROWS))
    conn = sqlstream.connect()
    try:
        conn.execute(f"CREATE SOURCE s (g INT, v INT, id INT) WITH (connector = 'posix_fs', "
                     f"posix_fs.root = '{tmp_path}', match_pattern = 's.csv') "
                     f"FORMAT PLAIN ENCODE CSV (without_header = 'false')")
        conn.execute("CREATE MATERIALIZED VIEW a AS SELECT g, v, id FROM s WHERE id >= 0")
        conn.execute(f"CREATE MATERIALIZED VIEW top1 AS {TOP1.format(src='s', n=1)}")
        conn.execute(f"CREATE MATERIALIZED VIEW top3 AS {TOP1.format(src='a', n=3)}")
        for _ in range(100):
            conn.execute("FLUSH")
            if conn.execute("SELECT count(*) FROM a").fetchone()[0] == len(ROWS):
                break
        assert sorted(conn.execute("SELECT * FROM top1").fetchall()) == \
            _duck(TOP1.format(src="s", n=1))
        assert sorted(conn.execute("SELECT * FROM top3").fetchall()) == \
            _duck(TOP1.format(src="s", n=3))
        assert _state_rows(conn, "top1") == 7  # one per group
        assert _state_rows(conn, "top3") == 21  # three per group, over an append-only view
    finally:
        conn.close()


def test_top_n_over_a_table_keeps_every_row_and_follows_deletes() -> None:
    conn = sqlstream.connect()
    try:
        conn.execute("CREATE TABLE s (g INT, v INT, id INT PRIMARY KEY)")
        conn.execute(f"CREATE MATERIALIZED VIEW top1 AS {TOP1.format(src='s', n=1)}")
        conn.execute("INSERT INTO s VALUES " + ", ".join(f"({g}, {v}, {i})" for g, v, i in ROWS))
        conn.execute("FLUSH")
        assert _state_rows(conn, "top1") == len(ROWS)
        best = conn.execute("SELECT id FROM top1 ORDER BY g").fetchall()
        conn.execute("DELETE FROM s WHERE id IN (" + ", ".join(str(r[0]) for r in best) + ")")
        conn.execute("FLUSH")
        gone = {r[0] for r in best}
        con = duckdb.connect()
        con.execute("CREATE TABLE s (g INT, v INT, id INT)")
        con.executemany("INSERT INTO s VALUES (?, ?, ?)", [r for r in ROWS if r[2] not in gone])
        assert sorted(conn.execute("SELECT * FROM top1").fetchall()) == \
            sorted(con.execute(TOP1.format(src="s", n=1)).fetchall())
    finally:
        conn.close()
