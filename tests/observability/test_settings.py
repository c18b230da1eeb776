"""The observability settings are real: given to connect(), changed with SET, and
followed by the engine (accounting on/off, the window of the ratios and rates,
the bound on concurrent async UDF calls)."""

from __future__ import annotations

import time

import pytest

import sqlstream
from planner.errors import Error

IN_FLIGHT = """CREATE FUNCTION in_flight(x BIGINT) RETURNS BIGINT LANGUAGE python AS $$
import asyncio
running = 0
async def in_flight(x):
    global running
    running += 1
    try:
        await asyncio.sleep(0.01)
        return running
    finally:
        running -= 1
$$"""


def rows(cur, sql: str) -> list[tuple]:  # type: ignore[no-untyped-def]
    cur.execute(sql)
    return cur.fetchall()


def test_settings_from_connect_and_set() -> None:
    conn = sqlstream.connect(metrics_window_s=3, udf_concurrency=2, metrics_enabled=False,
                             state_size_limit_mb=5)
    try:
        cur = conn.cursor()
        assert rows(cur, "SHOW metrics_window_s") == [("3",)]
        assert rows(cur, "SHOW udf_concurrency") == [("2",)]
        assert rows(cur, "SHOW metrics_enabled") == [("false",)]
        assert rows(cur, "SHOW state_size_limit_mb") == [("5",)]
        cur.execute("ALTER SYSTEM SET metrics_window_s = 2.5")
        assert rows(cur, "SHOW metrics_window_s") == [("2.5",)]
        for bad in ("ALTER SYSTEM SET metrics_window_s = 0",
                    "ALTER SYSTEM SET metrics_window_s = 'x'",
                    "ALTER SYSTEM SET udf_concurrency = 0",
                    "ALTER SYSTEM SET metrics_enabled = maybe"):
            with pytest.raises(Error) as e:
                cur.execute(bad)
            assert e.value.sqlstate == "22023"
        names = [r[0] for r in rows(cur, "SHOW ALL")]
        assert {"metrics_window_s", "metrics_enabled", "udf_concurrency",
                "state_size_limit_mb"} <= set(names)
    finally:
        conn.close()


def test_metrics_enabled_switches_the_accounting() -> None:
    conn = sqlstream.connect(metrics_enabled=False)
    try:
        cur = conn.cursor()
        cur.execute("CREATE TABLE a (k INT)")
        cur.execute("ALTER SYSTEM SET metrics_enabled = true")
        cur.execute("CREATE TABLE b (k INT)")
        cur.execute("INSERT INTO a VALUES (1)")
        cur.execute("INSERT INTO b VALUES (1)")
        cur.execute("FLUSH")
        got = rows(cur, "SELECT relation, count(busy_ratio) FROM sys.actors "
                        "GROUP BY relation ORDER BY relation")
        assert got == [("a", 0), ("b", 2)]
    finally:
        conn.close()


def test_udf_concurrency_bounds_calls_in_flight() -> None:
    for bound in (3, 16):
        conn = sqlstream.connect(udf_concurrency=bound)
        try:
            cur = conn.cursor()
            cur.execute(IN_FLIGHT)
            cur.execute("CREATE TABLE t (id BIGINT)")
            cur.execute("CREATE MATERIALIZED VIEW v AS SELECT max(in_flight(id)) AS m FROM t")
            cur.execute("INSERT INTO t VALUES " + ",".join(f"({i})" for i in range(100)))
            cur.execute("FLUSH")
            assert rows(cur, "SELECT m FROM v") == [(bound,)]
        finally:
            conn.close()


def test_metrics_window_s_bounds_what_the_rates_remember() -> None:
    """Rows sent once stop counting in rows_per_second once they are older than the
    window: after 3.5 s they are gone with a 2 s window, still there with 10 s."""
    conn = sqlstream.connect(metrics_window_s=2)
    try:
        cur = conn.cursor()
        cur.execute("CREATE TABLE t (k INT)")
        rate = "SELECT rows_per_second FROM sys.actors WHERE relation = 't' " \
               "AND operator = 'TableSource'"
        cur.execute("INSERT INTO t VALUES " + ",".join(f"({i})" for i in range(1000)))
        cur.execute("FLUSH")
        assert rows(cur, rate)[0][0] > 0
        time.sleep(3.5)
        assert rows(cur, rate) == [(0.0,)]
        cur.execute("ALTER SYSTEM SET metrics_window_s = 10")  # running actors follow at once
        cur.execute("INSERT INTO t VALUES " + ",".join(f"({i})" for i in range(1000)))
        cur.execute("FLUSH")
        time.sleep(3.5)
        assert rows(cur, rate)[0][0] > 1000 / 10.5
    finally:
        conn.close()


def test_async_calls_overlap_across_chunks() -> None:
    """One-row chunks: the bound is still reached, so calls of consecutive chunks
    are in flight together (an operator waiting chunk by chunk would show 1)."""
    conn = sqlstream.connect(udf_concurrency=8, chunk_size=1)
    try:
        cur = conn.cursor()
        cur.execute(IN_FLIGHT)
        cur.execute("CREATE TABLE t (id BIGINT)")
        cur.execute("CREATE MATERIALIZED VIEW v AS SELECT id, in_flight(id) AS m FROM t")
        cur.execute("INSERT INTO t VALUES " + ",".join(f"({i})" for i in range(100)))
        cur.execute("FLUSH")
        got = rows(cur, "SELECT id, m FROM v ORDER BY id")
        assert [r[0] for r in got] == list(range(100))
        assert max(r[1] for r in got) == 8
    finally:
        conn.close()
