"""statement_timeout as PostgreSQL has it: a statement running longer is cancelled with
57014 "canceling statement due to statement timeout"; 0 turns it off; the session
goes on after a timeout."""

from __future__ import annotations

import asyncio
import time

import asyncpg
import psycopg
import pytest

import sqlstream
from tests.pgwire.conftest import RunningServer

# Runs for minutes unless cancelled.
ENDLESS = ("SELECT count(*) FROM generate_series(1, 2000000) AS a(x) "
           "CROSS JOIN generate_series(1, 2000000) AS b(y) WHERE (x * y) % 7 = 3")


def test_a_long_query_is_cancelled_after_the_timeout(server: RunningServer) -> None:
    with psycopg.connect(server.dsn(), autocommit=True) as conn:
        conn.execute("SET statement_timeout = '200ms'")
        start = time.monotonic()
        with pytest.raises(psycopg.errors.QueryCanceled) as e:
            conn.execute(ENDLESS)
        elapsed = time.monotonic() - start
        assert e.value.sqlstate == "57014"
        assert str(e.value) == "canceling statement due to statement timeout"
        assert 0.15 < elapsed < 5
        # The session goes on, and quick statements are not cancelled.
        assert conn.execute("SELECT 1").fetchone() == (1,)
        time.sleep(0.3)  # longer than the timeout: no clock is left running
        assert conn.execute("SELECT 2").fetchone() == (2,)


def test_timeout_covers_sending_a_big_result(server: RunningServer) -> None:
    with psycopg.connect(server.dsn(), autocommit=True) as conn:
        conn.execute("SET statement_timeout = '300ms'")
        with pytest.raises(psycopg.errors.QueryCanceled):
            conn.execute("SELECT x FROM generate_series(1, 1000000000) AS t(x)")
        assert conn.execute("SELECT 3").fetchone() == (3,)


def test_values_units_and_off(server: RunningServer) -> None:
    with psycopg.connect(server.dsn(), autocommit=True) as conn:
        def show() -> str:
            return conn.execute("SHOW statement_timeout").fetchone()[0]

        assert show() == "0"
        for value, shown in [("'100ms'", "100ms"), ("250", "250ms"), ("'2s'", "2s"),
                             ("'1min'", "1min"), ("'1.5s'", "1500ms"), ("0", "0")]:
            conn.execute(f"SET statement_timeout = {value}")
            assert show() == shown
        conn.execute("SET statement_timeout TO '5s'")
        conn.execute("SET statement_timeout = DEFAULT")
        assert show() == "0"
        for bad in ["'soon'", "-5", "'10 parsecs'"]:
            with pytest.raises(psycopg.errors.InvalidParameterValue):
                conn.execute(f"SET statement_timeout = {bad}")
        # Off: a statement longer than an earlier timeout runs to its end.
        conn.execute("SET statement_timeout = 0")
        n = conn.execute("SELECT count(*) FROM generate_series(1, 3000000)").fetchone()
        assert n == (3_000_000,)


def test_timeout_is_per_session(server: RunningServer) -> None:
    with psycopg.connect(server.dsn(), autocommit=True) as a, \
            psycopg.connect(server.dsn(), autocommit=True) as b:
        a.execute("SET statement_timeout = '50ms'")
        assert b.execute("SHOW statement_timeout").fetchone() == ("0",)


def test_asyncpg_extended_protocol_statement_times_out(server: RunningServer) -> None:
    async def run() -> None:
        conn = await asyncpg.connect(host="127.0.0.1", port=server.port, user="root",
                                     database="dev", timeout=10)
        try:
            await conn.execute("SET statement_timeout = 200")
            with pytest.raises(asyncpg.exceptions.QueryCanceledError) as e:
                await conn.fetch(ENDLESS.replace("% 7 = 3", "% $1::int = 3"), 7)
            assert "statement timeout" in str(e.value)
            assert await conn.fetchval("SELECT 40 + $1::int", 2) == 42
        finally:
            await conn.close()

    asyncio.run(run())


def test_embedded_sessions_time_out_too() -> None:
    with sqlstream.connect() as conn:
        cur = conn.cursor()
        cur.execute("SET statement_timeout = '150ms'")
        with pytest.raises(sqlstream.OperationalError) as e:
            cur.execute(ENDLESS)
        assert e.value.sqlstate == "57014"
        assert "statement timeout" in e.value.message
        assert cur.execute("SELECT 1").fetchall() == [(1,)]
