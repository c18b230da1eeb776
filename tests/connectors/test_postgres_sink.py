"""The postgres sink against a real PostgreSQL server (Debian's binaries, started
by the tests): the target table is compared with the view, also after SIGKILL of
the sqlstream process in the middle of writing."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import textwrap
import time
from decimal import Decimal
from pathlib import Path
from typing import Any, Iterator

import pytest

from sqlstream import Error
from tests.sources.conftest import Sql

server = pytest.importorskip("tests.postgres.server",
                             reason="the PostgreSQL test server (tests/postgres) is absent")
psycopg = pytest.importorskip("psycopg")
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def pg_server() -> Iterator[Any]:
    bindir = server.find_bindir()
    if bindir is None:
        reason = "PostgreSQL server binaries (initdb, pg_ctl) not found"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(reason)
        pytest.skip(reason)
    srv = server.PostgresServer.start(bindir)
    try:
        yield srv
    finally:
        srv.stop()


@pytest.fixture
def pg(pg_server: Any) -> Iterator[Any]:
    with psycopg.connect(pg_server.conninfo, autocommit=True) as conn:
        conn.execute("DROP TABLE IF EXISTS target")
        conn.execute("CREATE TABLE target (grp VARCHAR PRIMARY KEY, n BIGINT, "
                     "total NUMERIC(12, 2))")
        yield conn


def pg_with(srv: Any, extra: str = "") -> str:
    return (f"WITH (connector = 'postgres', host = '127.0.0.1', port = '{srv.port}', "
            f"user = '{server.SUPERUSER}', password = '', database = 'postgres', "
            f"table = 'target'{extra})")


def target(pg: Any) -> list[tuple]:
    return pg.execute("SELECT grp, n, total FROM target ORDER BY grp").fetchall()


def test_upsert_sink_equals_the_view(pg_server: Any, pg: Any) -> None:
    sql = Sql(barrier_interval_ms=100)
    try:
        sql("CREATE TABLE t (id INT PRIMARY KEY, grp VARCHAR, amount NUMERIC(10, 2))")
        sql("INSERT INTO t SELECT i, 'g' || (i % 7), i * 0.5 FROM generate_series(1, 300) "
            "AS s(i)")
        sql("CREATE MATERIALIZED VIEW v AS SELECT grp, count(*) AS n, sum(amount) AS total "
            "FROM t GROUP BY grp")
        sql(f"CREATE SINK p FROM v {pg_with(pg_server, ', primary_key = grp')}")
        sql("UPDATE t SET grp = 'moved' WHERE id % 10 = 0")
        sql("DELETE FROM t WHERE grp = 'g3'")
        sql("FLUSH")
        view = sql("SELECT grp, n, total FROM v ORDER BY grp")
        assert len(view) == 7 and view == target(pg)
        [(name, conn, written, _pending, errors, last)] = sql(
            "SELECT sink, connector, rows_written, pending_epochs, errors, last_error "
            "FROM sys.sinks")
        assert (name, conn, errors, last) == ("p", "postgres", 0, None) and written > 7
    finally:
        sql.close()


def test_bad_targets_fail_at_create(pg_server: Any, pg: Any) -> None:
    from tests.netutil import free_port
    sql = Sql(barrier_interval_ms=100)
    try:
        sql("CREATE TABLE t (grp VARCHAR, n BIGINT)")
        sql("CREATE MATERIALIZED VIEW v AS SELECT grp, count(*) AS n FROM t GROUP BY grp")
        sql("CREATE MATERIALIZED VIEW w AS SELECT grp, count(*) AS n, 1 AS extra FROM t "
            "GROUP BY grp")
        with pytest.raises(Error, match='has no column "extra"') as e:
            sql(f"CREATE SINK p FROM w {pg_with(pg_server, ', primary_key = grp')}")
        assert e.value.sqlstate == "42703"
        with pytest.raises(Error, match="does not exist") as e:
            sql(f"CREATE SINK p FROM v {pg_with(pg_server, ', primary_key = grp')}"
                .replace("'target'", "'nothere'"))
        assert e.value.sqlstate == "42P01"
        with pytest.raises(Error, match="cannot connect") as e:
            sql(f"CREATE SINK p FROM v {pg_with(pg_server, ', primary_key = grp')}"
                .replace(f"'{pg_server.port}'", f"'{free_port()}'"))
        assert e.value.sqlstate == "08001"
        with pytest.raises(Error, match="force_append_only"):
            sql(f"CREATE SINK p FROM v {pg_with(pg_server, ', type = append-only')}")
        assert sql("SELECT count(*) FROM sys.sinks") == [(0,)]
    finally:
        sql.close()


CHILD = textwrap.dedent("""
    import random, sys, time
    from sqlstream.dbapi import connect
    conn = connect(sys.argv[1], barrier_interval_ms=50)
    cur = conn.cursor()
    cur.execute("SHOW MATERIALIZED VIEWS")
    if not cur.fetchall():
        for stmt in sys.argv[3:]:
            cur.execute(stmt)
    rng = random.Random(int(sys.argv[2]))
    print("ready", flush=True)
    while True:
        i = rng.randrange(400)
        if rng.random() < 0.3:
            cur.execute(f"DELETE FROM t WHERE id = {i}")
        else:
            cur.execute(f"DELETE FROM t WHERE id = {i}")
            cur.execute(f"INSERT INTO t VALUES ({i}, 'g{rng.randrange(9)}', {i}.25)")
""")


@pytest.mark.slow
def test_replay_after_sigkill_leaves_the_target_equal(pg_server: Any, pg: Any,
                                                       tmp_path: Path) -> None:
    path = str(tmp_path / "db")
    ddl = ["CREATE TABLE t (id INT PRIMARY KEY, grp VARCHAR, amount NUMERIC(10, 2))",
           "CREATE MATERIALIZED VIEW v AS SELECT grp, count(*) AS n, sum(amount) AS total "
           "FROM t GROUP BY grp",
           f"CREATE SINK p FROM v {pg_with(pg_server, ', primary_key = grp')}"]
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    rng = random.Random(5)
    for seed in range(4):
        proc = subprocess.Popen([sys.executable, "-c", CHILD, path, str(seed), *ddl],
                                stdout=subprocess.PIPE, env=env, cwd=str(ROOT))
        assert proc.stdout is not None
        assert proc.stdout.readline().strip() == b"ready"
        time.sleep(rng.uniform(0.5, 1.5))
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    sql = Sql(path, barrier_interval_ms=50)
    try:
        sql("FLUSH")
        view = sql("SELECT grp, n, total FROM v ORDER BY grp")
        direct = sql("SELECT grp, count(*), sum(amount) FROM t GROUP BY grp ORDER BY grp")
        assert view == direct and len(view) > 0
        assert target(pg) == view
        assert all(isinstance(r[2], Decimal) for r in view)
    finally:
        sql.close()


def test_a_slow_target_is_named_in_bottlenecks(pg_server: Any, pg: Any) -> None:
    """A target that takes a millisecond a row (a trigger sleeps) behind a source
    asking for 3000 rows/s: the sink waits in its target's calls, and
    sys.bottlenecks names it with the cause of external calls."""
    pg.execute("CREATE TABLE slow (id BIGINT PRIMARY KEY, v BIGINT)")
    pg.execute("CREATE FUNCTION nap() RETURNS trigger LANGUAGE plpgsql AS "
               "$$ BEGIN PERFORM pg_sleep(0.001); RETURN NEW; END $$")
    pg.execute("CREATE TRIGGER nap BEFORE INSERT ON slow FOR EACH ROW EXECUTE FUNCTION nap()")
    sql = Sql(barrier_interval_ms=200)
    try:
        sql("CREATE SOURCE g (id BIGINT) WITH (connector = 'datagen', fields.id.kind = "
            "'sequence', fields.id.start = '1', datagen.rows.per.second = '3000')")
        opts = pg_with(pg_server, ", primary_key = id").replace("'target'", "'slow'")
        sql(f"CREATE SINK p AS SELECT id, id % 10 AS v FROM g {opts}")
        deadline = time.time() + 20
        rows: list[tuple] = []
        while time.time() < deadline:
            time.sleep(1)
            rows = sql("SELECT relation, operator, cause, suggestion FROM sys.bottlenecks")
            # (a call's time counts when it returns: the first second may not show it)
            if rows and rows[0][2] == "external calls":
                break
        assert rows and rows[0][0] == "p", rows
        assert rows[0][1] == "StreamSink (postgres sink p)" and rows[0][2] == "external calls"
        assert "sink's target" in rows[0][3]
        [(rate,)] = sql("SELECT rows_per_second FROM sys.sinks")
        assert rate < 1500  # well under the 3000 rows/s asked
    finally:
        sql.close()
        pg.execute("DROP TABLE slow")
        pg.execute("DROP FUNCTION nap()")
