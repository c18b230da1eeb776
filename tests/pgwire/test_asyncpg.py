"""asyncpg against a running server: it uses the extended protocol with binary formats
and relies on the parameter and row types announced at Describe."""

from __future__ import annotations

import asyncio
import datetime as dt

import asyncpg

from tests.pgwire.conftest import RunningServer


def run(coro):  # each test bounded in time
    return asyncio.run(asyncio.wait_for(coro, 30))


async def _connect(srv: RunningServer) -> asyncpg.Connection:
    return await asyncpg.connect(host="127.0.0.1", port=srv.port, user="root", database="dev",
                                 password=srv.password, timeout=5)


def test_fetch_execute_and_prepared(server: RunningServer) -> None:
    async def body() -> None:
        con = await _connect(server)
        try:
            await con.execute("CREATE TABLE apg (id BIGINT, name VARCHAR, score DOUBLE PRECISION,"
                              " day DATE, at TIMESTAMP, ok BOOLEAN)")
            await con.executemany(
                "INSERT INTO apg VALUES ($1, $2, $3, $4, $5, $6)",
                [(i, f"n{i}", i / 4, dt.date(2024, 2, i), dt.datetime(2024, 2, i, 1, 2, 3),
                  i % 2 == 0) for i in range(1, 5)])
            await con.execute("FLUSH")
            rows = await con.fetch("SELECT id, name FROM apg WHERE id > $1 ORDER BY id", 2)
            assert [tuple(r) for r in rows] == [(3, "n3"), (4, "n4")]
            stmt = await con.prepare("SELECT score, day, at, ok FROM apg WHERE name = $1")
            assert [a.type.name for a in stmt.get_attributes()] == [
                "float8", "date", "timestamp", "bool"]
            assert tuple(await stmt.fetchrow("n2")) == (
                0.5, dt.date(2024, 2, 2), dt.datetime(2024, 2, 2, 1, 2, 3), True)
            assert await stmt.fetchval("n3") == 0.75
            assert await con.fetchval("SELECT $1::int + 1", 41) == 42
        finally:
            await con.close()

    run(body())


def test_cursor_with_row_limit(server: RunningServer) -> None:
    async def body() -> None:
        con = await _connect(server)
        try:
            async with con.transaction():
                cur = await con.cursor("SELECT * FROM (VALUES (1), (2), (3), (4), (5)) AS v(x) "
                                       "ORDER BY x")
                assert [r[0] for r in await cur.fetch(2)] == [1, 2]
                assert [r[0] for r in await cur.fetch(10)] == [3, 4, 5]
        finally:
            await con.close()

    run(body())


def test_error_then_recover(server: RunningServer) -> None:
    async def body() -> None:
        con = await _connect(server)
        try:
            try:
                await con.fetch("SELECT * FROM missing_table WHERE x = $1", 1)
                raise AssertionError("expected an error")
            except asyncpg.PostgresError as e:
                assert len(e.sqlstate) == 5
            assert await con.fetchval("SELECT 5") == 5
        finally:
            await con.close()

    run(body())


def test_type_introspection_and_more_types(server: RunningServer) -> None:
    """set_type_codec runs asyncpg's own type introspection query against pg_type;
    numeric, interval, timestamptz and bytea parameters go over in binary."""
    import decimal
    import json

    async def body() -> None:
        con = await _connect(server)
        try:
            await con.set_type_codec("json", encoder=json.dumps, decoder=json.loads,
                                     schema="pg_catalog")
            assert await con.fetchval("SELECT $1::numeric + 1", decimal.Decimal("2.5")) \
                == decimal.Decimal("3.5")
            day = dt.timedelta(days=1, seconds=5)
            assert await con.fetchval("SELECT $1::interval", day) == day
            at = dt.datetime(2024, 1, 1, 12, tzinfo=dt.timezone.utc)
            assert await con.fetchval("SELECT $1::timestamptz", at) == at
            assert await con.fetchval("SELECT $1::bytea", b"\x00\x01\xff") == b"\x00\x01\xff"
            await con.execute("CREATE TABLE apg_t (k INT PRIMARY KEY, v BIGINT)")
            await con.execute("INSERT INTO apg_t VALUES (1, 10), (2, 20)")
            await con.execute("CREATE MATERIALIZED VIEW apg_v AS SELECT sum(v) AS s FROM apg_t")
            await con.execute("FLUSH")
            assert await con.fetchval("SELECT s FROM apg_v") == 30
            kinds = {r["name"]: r["kind"] for r in await con.fetch(
                "SELECT name, kind FROM sys.relations WHERE name LIKE 'apg_%'")}
            assert kinds == {"apg_t": "table", "apg_v": "materialized view"}
        finally:
            await con.close()

    run(body())
