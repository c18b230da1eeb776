"""psycopg 3 against a running server: both transaction modes, parameters, prepared
statements, binary results and server-side cursors."""

from __future__ import annotations

import datetime as dt

import psycopg
import pytest

from tests.pgwire.conftest import RunningServer


@pytest.fixture(scope="module")
def conn(server: RunningServer):
    with psycopg.connect(server.dsn(), autocommit=True) as c:
        c.execute("CREATE TABLE pg3 (id INT, name VARCHAR, price DOUBLE PRECISION, d DATE, "
                  "ts TIMESTAMP)")
        yield c


def test_params_and_executemany(conn: psycopg.Connection) -> None:
    with conn.cursor() as cur:
        cur.executemany("INSERT INTO pg3 VALUES (%s, %s, %s, %s, %s)",
                        [(i, f"n{i}", i * 0.5, dt.date(2024, 1, i), dt.datetime(2024, 1, i, 8))
                         for i in range(1, 6)])
    conn.execute("FLUSH")
    rows = conn.execute("SELECT id, name FROM pg3 WHERE id >= %s AND name <> %s ORDER BY id",
                        (3, "n4")).fetchall()
    assert rows == [(3, "n3"), (5, "n5")]


def test_prepared_statement_reused(conn: psycopg.Connection) -> None:
    conn.execute("INSERT INTO pg3 (id, name) VALUES (%s, %s)", (10, "ten"))
    conn.execute("FLUSH")
    for _ in range(3):
        got = conn.execute("SELECT name FROM pg3 WHERE id = %s", (10,), prepare=True).fetchone()
        assert got == ("ten",)


def test_binary_results_keep_types(conn: psycopg.Connection) -> None:
    conn.execute("INSERT INTO pg3 VALUES (%s, %s, %s, %s, %s)",
                 (20, "bin", 2.75, dt.date(2023, 12, 31), dt.datetime(2023, 12, 31, 23, 59, 58)))
    conn.execute("FLUSH")
    with conn.cursor(binary=True) as cur:
        cur.execute("SELECT id, name, price, d, ts FROM pg3 WHERE id = %s", (20,))
        assert cur.fetchone() == (20, "bin", 2.75, dt.date(2023, 12, 31),
                                  dt.datetime(2023, 12, 31, 23, 59, 58))


@pytest.mark.parametrize("binary", [False, True])
def test_literal_types_both_formats(conn: psycopg.Connection, binary: bool) -> None:
    with conn.cursor(binary=binary) as cur:
        cur.execute("SELECT CAST(7 AS SMALLINT), CAST(8 AS BIGINT), CAST(1.25 AS REAL), "
                    "true, CAST('13:14:15' AS TIME), INTERVAL '1 day 2 hours', 'text'")
        assert cur.fetchone() == (7, 8, 1.25, True, dt.time(13, 14, 15),
                                  dt.timedelta(days=1, hours=2), "text")


def test_binary_parameters(conn: psycopg.Connection) -> None:
    with conn.cursor(binary=True) as cur:
        cur.execute("SELECT name FROM pg3 WHERE id = %b AND d = %b", (20, dt.date(2023, 12, 31)))
        assert cur.fetchall() == [("bin",)]


def test_server_side_cursor(conn: psycopg.Connection) -> None:
    with conn.cursor("ssc") as cur:
        cur.execute("SELECT id FROM pg3 WHERE id < %s ORDER BY id", (6,))
        assert cur.fetchmany(2) == [(1,), (2,)]
        assert cur.fetchall() == [(3,), (4,), (5,)]


def test_transaction_mode_commit_and_error(server: RunningServer) -> None:
    with psycopg.connect(server.dsn()) as c:  # default: BEGIN ... COMMIT
        c.execute("INSERT INTO pg3 (id, name) VALUES (%s, %s)", (30, "tx"))
        assert c.info.transaction_status == psycopg.pq.TransactionStatus.INTRANS
        c.commit()
        c.execute("FLUSH")
        with pytest.raises(psycopg.Error):
            c.execute("SELECT * FROM no_such_table")
        assert c.info.transaction_status == psycopg.pq.TransactionStatus.INERROR
        c.rollback()
        assert c.execute("SELECT name FROM pg3 WHERE id = 30").fetchone() == ("tx",)


def test_error_fields(conn: psycopg.Connection) -> None:
    with pytest.raises(psycopg.Error) as info:
        conn.execute("SELECT * FROM no_such_table")
    assert info.value.sqlstate is not None and len(info.value.sqlstate) == 5
    assert conn.execute("SELECT 1").fetchone() == (1,)


def test_empty_query_and_multiple_statements(conn: psycopg.Connection) -> None:
    conn.execute("")
    cur = conn.execute("SELECT 1; SELECT 2")
    assert cur.fetchall() == [(1,)]
    assert cur.nextset() and cur.fetchall() == [(2,)]
