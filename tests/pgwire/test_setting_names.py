"""SET, SHOW and ALTER SYSTEM accept exactly the known names: sqlstream's settings,
RisingWave's spelling rw_implicit_flush, and the PostgreSQL parameters real drivers
set; an unknown name is 42704 with the nearest name as a hint. Database-wide settings
change only with ALTER SYSTEM, which every session then sees."""

from __future__ import annotations

import asyncio

import asyncpg
import psycopg
import pytest
from sqlalchemy import create_engine, text

import sqlstream
from tests.pgwire.conftest import RunningServer

CLIENT_SETS = [
    "SET client_encoding TO 'UTF8'", "SET DateStyle = 'ISO, MDY'", "SET TimeZone TO 'UTC'",
    "SET extra_float_digits = 3", "SET application_name = 'app'",
    "SET search_path TO public, \"$user\"", "SET statement_timeout = 0",
    "SET standard_conforming_strings = on", "SET intervalstyle = 'postgres'",
    "SET lock_timeout = '5s'", "SET idle_in_transaction_session_timeout = 0",
    "SET default_transaction_isolation = 'read committed'",
    "SET SESSION CHARACTERISTICS AS TRANSACTION ISOLATION LEVEL READ COMMITTED",
    "SET TRANSACTION ISOLATION LEVEL REPEATABLE READ", "SET LOCAL statement_timeout = '1min'",
    "SET SESSION client_min_messages TO WARNING", "SET TIME ZONE 'UTC'",
    "SET NAMES 'UTF8'", "SET myapp.tenant = 'acme'",
]


def test_connect_refuses_an_unknown_option() -> None:
    with pytest.raises(sqlstream.ProgrammingError) as e:
        sqlstream.connect(None, workerz=2)
    assert e.value.sqlstate == "42704"
    assert '"workerz"' in str(e.value) and "perhaps you meant" in str(e.value)
    with pytest.raises(sqlstream.ProgrammingError, match='perhaps you meant "chunk_size"'):
        sqlstream.connect(None, chunk_sise=10)


def test_set_names() -> None:
    with sqlstream.connect() as conn:
        for sql in CLIENT_SETS:
            conn.execute(sql)
        assert conn.execute("SHOW extra_float_digits").fetchall() == [("3",)]
        assert conn.execute("SHOW myapp.tenant").fetchall() == [("acme",)]
        with pytest.raises(sqlstream.ProgrammingError) as e:
            conn.execute("SET implict_flush = true")
        assert (e.value.sqlstate, e.value.hint) == ("42704", 'Perhaps you meant "implicit_flush".')
        assert str(e.value) == 'unrecognized configuration parameter "implict_flush"'
        for bad in ("SET no_such_setting = 1", "SHOW no_such_setting",
                    "ALTER SYSTEM SET no_such_setting = 1"):
            with pytest.raises(sqlstream.ProgrammingError) as e:
                conn.execute(bad)
            assert e.value.sqlstate == "42704", bad


def test_rw_implicit_flush_is_implicit_flush() -> None:
    with sqlstream.connect() as conn:
        conn.execute("CREATE TABLE t (k int)")
        conn.execute("CREATE MATERIALIZED VIEW c AS SELECT count(*) AS n FROM t")
        conn.execute("SET RW_IMPLICIT_FLUSH TO true")
        assert conn.execute("SHOW implicit_flush").fetchall() == [("true",)]
        assert conn.execute("SHOW rw_implicit_flush").fetchall() == [("true",)]
        for i in range(3):
            conn.execute("INSERT INTO t VALUES ($1)", (i,))
            assert conn.execute("SELECT n FROM c").fetchall() == [(i + 1,)]


def test_database_wide_settings_need_alter_system() -> None:
    conn = sqlstream.connect(barrier_interval_ms=500)
    other = conn.database.session()
    try:
        with pytest.raises(sqlstream.ProgrammingError) as e:
            conn.execute("SET barrier_interval_ms = 50")
        assert e.value.sqlstate == "55P02"
        assert "ALTER SYSTEM SET barrier_interval_ms" in (e.value.hint or "")
        assert conn.execute("SHOW barrier_interval_ms").fetchall() == [("500",)]
        conn.execute("ALTER SYSTEM SET barrier_interval_ms = 50")
        [shown] = other.execute("SHOW barrier_interval_ms")
        assert shown.rows == [("50",)]
        assert conn.database.runtime.barriers.interval_ms == 50
        conn.execute("ALTER SYSTEM RESET barrier_interval_ms")
        assert conn.execute("SHOW barrier_interval_ms").fetchall() == [("1000",)]
        # a session setting stays the session's own
        conn.execute("SET streaming_parallelism = 3")
        [shown] = other.execute("SHOW streaming_parallelism")
        assert shown.rows == [("1",)]
    finally:
        other.close()
        conn.close()


def test_drivers_connect_and_see_the_errors(server: RunningServer) -> None:
    """psycopg, asyncpg and SQLAlchemy send their own SETs on connect and work; a typo
    reaches the client as 42704 with the hint."""
    with psycopg.connect(server.dsn(application_name="probe", options="-c DateStyle=ISO"),
                         autocommit=True) as c:
        for sql in CLIENT_SETS:
            c.execute(sql)
        with pytest.raises(psycopg.errors.UndefinedObject) as e:
            c.execute("SET rw_implicit_flsh = true")
        assert e.value.diag.message_hint == 'Perhaps you meant "rw_implicit_flush".'
        with pytest.raises(psycopg.errors.CantChangeRuntimeParam) as e2:
            c.execute("SET checkpoint_frequency = 2")
        assert "ALTER SYSTEM" in (e2.value.diag.message_hint or "")
        c.execute("ALTER SYSTEM SET checkpoint_frequency = 2")
        try:
            assert c.execute("SHOW checkpoint_frequency").fetchall() == [("2",)]
        finally:
            c.execute("ALTER SYSTEM SET checkpoint_frequency = DEFAULT")

    async def with_asyncpg() -> str:
        conn = await asyncpg.connect(host="127.0.0.1", port=server.port, user="root",
                                     database="dev", timeout=5)
        try:
            await conn.execute("SET application_name = 'a'; SET extra_float_digits = 3")
            return await conn.fetchval("SHOW application_name")
        finally:
            await conn.close()

    assert asyncio.run(with_asyncpg()) == "a"
    engine = create_engine(f"postgresql+psycopg://root@127.0.0.1:{server.port}/dev",
                           isolation_level="REPEATABLE READ",
                           connect_args={"connect_timeout": 5})
    try:
        with engine.connect() as c:
            assert c.execute(text("SELECT 1")).scalar() == 1
    finally:
        engine.dispose()


def test_reset() -> None:
    with sqlstream.connect() as conn:
        conn.execute("SET implicit_flush = true")
        conn.execute("SET extra_float_digits = 3")
        conn.execute("RESET implicit_flush")
        assert conn.execute("SHOW implicit_flush").fetchall() == [("false",)]
        conn.execute("SET rw_implicit_flush = on")
        conn.execute("RESET ALL")
        assert conn.execute("SHOW implicit_flush").fetchall() == [("false",)]
        assert conn.execute("SHOW extra_float_digits").fetchall() == [("1",)]
        conn.execute("ALTER SYSTEM SET implicit_flush = true")  # the default of new sessions
        other = conn.database.session()
        assert other.execute("SHOW implicit_flush")[0].rows == [("true",)]
        other.execute("SET implicit_flush = false")
        other.execute("SET implicit_flush = DEFAULT")
        assert other.execute("SHOW implicit_flush")[0].rows == [("true",)]
        other.close()
        for bad, state in (("RESET nosuch", "42704"), ("RESET barrier_interval_ms", "55P02")):
            with pytest.raises(sqlstream.ProgrammingError) as e:
                conn.execute(bad)
            assert e.value.sqlstate == state
