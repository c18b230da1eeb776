"""Every row of a result reaches every client: results of 0 to 1,000,000 rows read
through psycopg (text and binary), asyncpg, psql, and portals read a few rows at a
time (server-side cursors, Execute with a row limit), compared with the source."""

from __future__ import annotations

import asyncio
import shutil
import subprocess

import asyncpg
import psycopg
import pytest

from tests.pgwire.conftest import RunningServer

SIZES = [0, 1, 999, 1000, 1001]


def query(n: int) -> str:
    return (f"SELECT i, i * 2 AS twice, 'row ' || i AS label FROM generate_series(1, {n}) "
            f"AS t(i) ORDER BY i")


def expected(n: int) -> list[tuple]:
    return [(i, 2 * i, f"row {i}") for i in range(1, n + 1)]


async def _asyncpg(srv: RunningServer, fn):  # type: ignore[no-untyped-def]
    conn = await asyncpg.connect(host="127.0.0.1", port=srv.port, user="root",
                                 database="dev", timeout=10)
    try:
        return await fn(conn)
    finally:
        await conn.close()


@pytest.mark.parametrize("n", SIZES)
@pytest.mark.parametrize("binary", [False, True], ids=["text", "binary"])
def test_psycopg_reads_every_row(server: RunningServer, n: int, binary: bool) -> None:
    with psycopg.connect(server.dsn(), autocommit=True) as conn:
        cur = conn.cursor(binary=binary)
        cur.execute(query(n))
        assert cur.fetchall() == expected(n)
        assert cur.statusmessage == f"SELECT {n}"
        # With a parameter, the extended protocol carries the statement.
        cur.execute("SELECT i FROM generate_series(1, %s) AS t(i) ORDER BY i", (n,))
        assert cur.fetchall() == [(i,) for i in range(1, n + 1)]
        assert cur.statusmessage == f"SELECT {n}"


@pytest.mark.parametrize("n", SIZES)
def test_asyncpg_reads_every_row(server: RunningServer, n: int) -> None:
    async def run(conn: asyncpg.Connection) -> None:
        rows = await conn.fetch(query(n))
        assert [tuple(r) for r in rows] == expected(n)
        rows = await conn.fetch("SELECT i FROM generate_series(1, $1::int) AS t(i) "
                                "ORDER BY i", n)
        assert [r[0] for r in rows] == list(range(1, n + 1))

    asyncio.run(_asyncpg(server, run))


@pytest.mark.parametrize("n", SIZES)
@pytest.mark.parametrize("step", [1, 333, 1000])
def test_asyncpg_cursor_reads_a_portal_in_steps(server: RunningServer, n: int,
                                                step: int) -> None:
    """asyncpg's cursor sends Execute with a row limit: the portal is suspended and
    resumed until its rows run out."""
    if step == 1 and n > 1:
        pytest.skip("one row per round trip is covered by the small sizes")

    async def run(conn: asyncpg.Connection) -> None:
        got: list[tuple] = []
        async with conn.transaction():
            cur = await conn.cursor(query(n))
            while batch := await cur.fetch(step):
                assert len(batch) <= step
                got.extend(tuple(r) for r in batch)
        assert got == expected(n)

    asyncio.run(_asyncpg(server, run))


@pytest.mark.parametrize("n", SIZES)
def test_psycopg_server_cursor_fetches_in_steps(server: RunningServer, n: int) -> None:
    """psycopg's named cursor is DECLARE ... CURSOR then FETCH FORWARD n."""
    with psycopg.connect(server.dsn()) as conn:
        with conn.cursor("big") as cur:
            cur.itersize = 300
            cur.execute(query(n))
            got = cur.fetchmany(7)
            got += list(cur)  # FETCH FORWARD 300 until nothing is left
        assert got == expected(n)


def test_sql_cursor_fetch_all_and_move(server: RunningServer) -> None:
    with psycopg.connect(server.dsn(), autocommit=True) as conn:
        conn.execute("BEGIN")
        conn.execute(f"DECLARE c CURSOR FOR {query(2500)}")
        cur = conn.execute("MOVE FORWARD 1200 IN c")
        assert cur.statusmessage == "MOVE 1200"
        cur = conn.execute("FETCH 2 FROM c")
        assert cur.fetchall() == expected(1202)[1200:]
        assert cur.statusmessage == "FETCH 2"
        cur = conn.execute("FETCH ALL FROM c")
        assert cur.fetchall() == expected(2500)[1202:]
        assert cur.statusmessage == "FETCH 1298"
        assert conn.execute("FETCH ALL FROM c").fetchall() == []
        conn.execute("CLOSE c")
        conn.execute("COMMIT")


def test_rows_of_a_table_with_wide_values(server: RunningServer) -> None:
    """A table read through the serving store, with values large enough that one
    chunk of the reply holds only a few hundred rows."""
    payload = "x" * 2000
    with psycopg.connect(server.dsn(), autocommit=True) as conn:
        conn.execute("CREATE TABLE wide_rows (id INT, body VARCHAR)")
        conn.execute("INSERT INTO wide_rows SELECT i, i || ':' || repeat('x', 2000) "
                     "FROM generate_series(0, 2999) AS t(i)")
        conn.execute("FLUSH")
        cur = conn.execute("SELECT id, body FROM wide_rows ORDER BY id")
        assert cur.fetchall() == [(i, f"{i}:{payload}") for i in range(3000)]
        assert cur.statusmessage == "SELECT 3000"


def test_psycopg_reads_a_million_rows(server: RunningServer) -> None:
    n = 1_000_000
    with psycopg.connect(server.dsn(), autocommit=True) as conn:
        cur = conn.execute(f"SELECT * FROM generate_series(1, {n})")
        rows = cur.fetchall()
        assert cur.statusmessage == f"SELECT {n}"
    assert len(rows) == n
    assert all(r[0] == i for i, r in enumerate(rows, 1))


needs_psql = pytest.mark.skipif(shutil.which("psql") is None, reason="psql not installed")


def _psql(srv: RunningServer, sql: str) -> list[str]:
    r = subprocess.run(["psql", "-X", "-A", "-t", "-F", ",", "-h", "127.0.0.1", "-p",
                        str(srv.port), "-U", "root", "-d", "dev", "-c", sql],
                       capture_output=True, text=True, timeout=120, env=srv.env())
    assert r.returncode == 0, r.stderr
    return r.stdout.splitlines()


@needs_psql
@pytest.mark.parametrize("n", SIZES)
def test_psql_reads_every_row(server: RunningServer, n: int) -> None:
    assert _psql(server, query(n)) == [f"{i},{t},{s}" for i, t, s in expected(n)]


@needs_psql
@pytest.mark.slow
def test_psql_reads_a_million_rows(server: RunningServer) -> None:
    n = 1_000_000
    assert _psql(server, query(n)) == [f"{i},{t},{s}" for i, t, s in expected(n)]


@pytest.mark.slow
@pytest.mark.parametrize("binary", [False, True], ids=["text", "binary"])
def test_psycopg_reads_a_million_wide_rows(server: RunningServer, binary: bool) -> None:
    with psycopg.connect(server.dsn(), autocommit=True) as conn:
        cur = conn.cursor(binary=binary)
        cur.execute(query(1_000_000))
        assert cur.fetchall() == expected(1_000_000)
        assert cur.statusmessage == "SELECT 1000000"


@pytest.mark.slow
def test_asyncpg_reads_a_million_rows_and_a_cursor_of_them(server: RunningServer) -> None:
    async def run(conn: asyncpg.Connection) -> None:
        rows = await conn.fetch(query(1_000_000))
        assert [tuple(r) for r in rows] == expected(1_000_000)
        got: list[tuple] = []
        async with conn.transaction():
            cur = await conn.cursor(query(1_000_000))
            while batch := await cur.fetch(50_000):
                got.extend(tuple(r) for r in batch)
        assert got == expected(1_000_000)

    asyncio.run(_asyncpg(server, run))


def test_numeric_is_trimmed_in_every_chunk(server: RunningServer) -> None:
    """Unconstrained numeric (and lists of it) lose their padding zeros in rows far past
    the first chunk too, in text and binary."""
    from decimal import Decimal

    n = 3000
    with psycopg.connect(server.dsn(), autocommit=True) as conn:
        conn.execute("CREATE TABLE quarter_steps (id INT, v NUMERIC)")
        conn.execute(f"INSERT INTO quarter_steps SELECT x, x / 4.0 FROM generate_series(1, {n}) "
                     "AS t(x)")
        conn.execute("FLUSH")
        sql = ("SELECT id, v, array_agg(v) OVER (ORDER BY id ROWS 1 PRECEDING) FROM "
               "quarter_steps ORDER BY id")
        want = [(i, Decimal(i) / 4, [Decimal(j) / 4 for j in (i - 1, i) if j > 0])
                for i in range(1, n + 1)]
        for binary in (False, True):
            rows = conn.cursor(binary=binary).execute(sql).fetchall()
            assert rows == want
            # Trimmed: 375, not 375.0000000000.
            assert [str(v) for v in rows[-1][2]] == ["749.75", "750"]
