"""`sqlstream serve` options that change what network clients get: Python UDFs are
refused over the network unless the server runs with --allow-udf-over-network, and
--metrics-port serves the engine's figures for Prometheus on the loopback address."""

from __future__ import annotations

import socket
import urllib.request

import psycopg
import pytest

from tests.netutil import free_port, metric_samples
from tests.pgwire.conftest import RunningServer, start_server

FUNCTION = """CREATE FUNCTION twice(x BIGINT) RETURNS BIGINT LANGUAGE python AS $$
def twice(x):
    return 2 * x
$$"""


def test_udf_refused_over_the_network_by_default(server: RunningServer) -> None:
    with psycopg.connect(server.dsn(), autocommit=True) as conn:
        with pytest.raises(psycopg.errors.InsufficientPrivilege) as e:
            conn.execute(FUNCTION)
        assert e.value.sqlstate == "42501"
        assert "--allow-udf-over-network" in str(e.value)
        # Nothing was created, and the session goes on.
        assert conn.execute("SELECT count(*) FROM sys.relations WHERE name = 'twice'"
                            ).fetchone() == (0,)
        with pytest.raises(psycopg.errors.UndefinedFunction):
            conn.execute("DROP FUNCTION twice")


def test_udf_allowed_with_the_option() -> None:
    srv = start_server("--allow-udf-over-network")
    try:
        with psycopg.connect(srv.dsn(), autocommit=True) as conn:
            conn.execute(FUNCTION)
            conn.execute("CREATE TABLE t (id BIGINT)")
            conn.execute("CREATE MATERIALIZED VIEW v AS SELECT sum(twice(id)) AS s FROM t")
            conn.execute("INSERT INTO t VALUES (1), (2), (3)")
            conn.execute("FLUSH")
            assert conn.execute("SELECT s FROM v").fetchone() == (12,)
            assert conn.execute("SELECT twice(21)").fetchone() == (42,)
    finally:
        srv.close()


def test_metrics_port_serves_the_engine_figures() -> None:
    port = free_port()
    srv = start_server("--metrics-port", str(port))
    try:
        with psycopg.connect(srv.dsn(), autocommit=True) as conn:
            conn.execute("CREATE TABLE t (k INT, v INT)")
            conn.execute("CREATE MATERIALIZED VIEW v AS SELECT k, count(*) AS n FROM t "
                         "GROUP BY k")
            conn.execute("INSERT INTO t VALUES " + ",".join(f"({i % 3}, {i})"
                                                            for i in range(700)))
            conn.execute("FLUSH")
        assert metric_samples(port, "sqlstream_source_rows_read_total", source="t") == [700.0]
        busy = metric_samples(port, "sqlstream_actor_busy_ratio", relation="v")
        assert busy and all(0.0 <= b <= 1.0 for b in busy)
        # Bound to the loopback address only.
        addrs = {a[4][0] for a in socket.getaddrinfo(socket.gethostname(), None,
                                                      socket.AF_INET)} - {"127.0.0.1"}
        for addr in addrs:
            with pytest.raises(OSError):
                socket.create_connection((addr, port), timeout=2).close()
    finally:
        srv.close()
    # The endpoint stops with the server.
    with pytest.raises(OSError):
        urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=2)


def test_functions_are_not_listed_as_tables() -> None:
    srv = start_server("--allow-udf-over-network")
    try:
        with psycopg.connect(srv.dsn(), autocommit=True) as conn:
            conn.execute(FUNCTION)
            conn.execute("CREATE TABLE t (id BIGINT)")
            tables = conn.execute("SELECT table_name FROM information_schema.tables "
                                  "WHERE table_schema = 'public'").fetchall()
            assert tables == [("t",)]
            classes = conn.execute("SELECT relname FROM pg_catalog.pg_class c JOIN "
                                   "pg_catalog.pg_namespace n ON n.oid = c.relnamespace "
                                   "WHERE n.nspname = 'public'").fetchall()
            assert classes == [("t",)]
            procs = conn.execute("SELECT proname, pronargs, prorettype::int, proargtypes "
                                 "FROM pg_catalog.pg_proc WHERE proname = 'twice'").fetchall()
            assert procs == [("twice", 1, 20, "20")]
            conn.execute("DROP FUNCTION twice")
            assert conn.execute("SELECT count(*) FROM pg_catalog.pg_proc "
                                "WHERE proname = 'twice'").fetchone() == (0,)
    finally:
        srv.close()
