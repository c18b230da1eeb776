"""Plain views, table options, defaults, comments and array_agg views survive a
restart of the database: the catalog keeps them and the views go on updating."""

from __future__ import annotations

import sqlstream


def _rows(conn: sqlstream.Connection, sql: str) -> list[tuple]:
    cur = conn.cursor()
    cur.execute(sql)
    return cur.fetchall()


def test_features_survive_restart(tmp_path) -> None:
    path = str(tmp_path / "db")
    conn = sqlstream.connect(path)
    cur = conn.cursor()
    for sql in [
        "CREATE TABLE kv (k int PRIMARY KEY, v int, tag varchar DEFAULT 'new') "
        "ON CONFLICT DO UPDATE IF NOT NULL",
        "CREATE TABLE log (g int, x int) APPEND ONLY",
        "CREATE VIEW big AS SELECT k, v FROM kv WHERE v > 10",
        "CREATE MATERIALIZED VIEW big_sum AS SELECT sum(v) AS s FROM big",
        "CREATE MATERIALIZED VIEW xs AS SELECT g, array_agg(x ORDER BY x DESC) AS xs "
        "FROM log GROUP BY g",
        "CREATE MATERIALIZED VIEW log_copy AS SELECT g, x * 10 AS x10 FROM log",
        "COMMENT ON TABLE kv IS 'key values'",
        "INSERT INTO kv (k, v) VALUES (1, 5), (2, 20)",
        "INSERT INTO log VALUES (1, 1), (1, 3)",
        "FLUSH",
    ]:
        cur.execute(sql)
    assert _rows(conn, "SELECT * FROM big_sum") == [(20,)]
    conn.close()

    conn = sqlstream.connect(path)
    cur = conn.cursor()
    cur.execute("INSERT INTO kv (k, v) VALUES (1, 50)")  # keeps tag: only v is not NULL
    cur.execute("INSERT INTO log VALUES (1, 2)")
    cur.execute("FLUSH")
    assert _rows(conn, "SELECT * FROM kv ORDER BY k") == [(1, 50, "new"), (2, 20, "new")]
    assert _rows(conn, "SELECT * FROM big ORDER BY k") == [(1, 50), (2, 20)]
    assert _rows(conn, "SELECT * FROM big_sum") == [(70,)]
    assert _rows(conn, "SELECT * FROM xs") == [(1, [3, 2, 1])]
    assert _rows(conn, "SELECT * FROM log_copy ORDER BY x10") == [(1, 10), (1, 20), (1, 30)]
    cur.execute("SELECT obj_description('kv'::regclass, 'pg_class')")
    assert cur.fetchall() == [("key values",)]
    cur.execute("SHOW CREATE TABLE log")
    assert cur.fetchall() == [("public.log", "CREATE TABLE log (g integer, x integer) APPEND ONLY")]
    try:
        cur.execute("DELETE FROM log")
    except sqlstream.Error as e:
        assert e.sqlstate == "0A000"
    else:
        raise AssertionError("DELETE on an append-only table was accepted")
    conn.close()


def test_table_watermark_survives_restart(tmp_path) -> None:
    """A row older than an APPEND ONLY table's watermark is dropped after a restart
    too: the watermark is checkpointed with the table's offset."""
    path = str(tmp_path / "db")
    conn = sqlstream.connect(path)
    cur = conn.cursor()
    cur.execute("CREATE TABLE ev (ts timestamp, v int, "
                "WATERMARK FOR ts AS ts - INTERVAL '1' SECOND) APPEND ONLY")
    cur.execute("CREATE MATERIALIZED VIEW ev_count AS SELECT count(*) AS n FROM ev")
    cur.execute("INSERT INTO ev VALUES ('2024-01-01 00:01:00', 1)")
    cur.execute("FLUSH")
    conn.close()

    conn = sqlstream.connect(path)
    cur = conn.cursor()
    cur.execute("INSERT INTO ev VALUES ('2024-01-01 00:00:10', 2), ('2024-01-01 00:02:00', 3)")
    cur.execute("FLUSH")
    assert _rows(conn, "SELECT * FROM ev_count") == [(2,)]
    assert _rows(conn, "SELECT v FROM ev ORDER BY v") == [(1,), (3,)]
    conn.close()
