"""The backpressure scenario checked over the wire: a PostgreSQL client creates the
datagen source, the slow Python UDF and the view, then reads the diagnosis from the
sys tables like any user would (server started with --allow-udf-over-network)."""

from __future__ import annotations

import time

import psycopg
import pytest

from tests.observability.scenario import SLOW_SYNC, measure, setup_datagen
from tests.pgwire.conftest import start_server

SETTLE_S = 14.0


@pytest.mark.slow
def test_scenario_through_psycopg() -> None:
    srv = start_server("--allow-udf-over-network")
    try:
        with psycopg.connect(srv.dsn(), autocommit=True) as conn:
            fetch = lambda sql: conn.execute(sql).fetchall()  # noqa: E731
            conn.execute("CREATE TABLE warm (x INT)")
            for _ in range(3):
                conn.execute("FLUSH")
            unloaded = fetch("SELECT max(latency_ms) FROM sys.barrier_latency")[0][0]
            setup_datagen(conn.execute, SLOW_SYNC)
            time.sleep(SETTLE_S)
            r = measure(fetch)
            assert 150 < r["source_rate"] < 700, r
            assert r["source_bp"] > 0.8, r
            assert r["view_busy"] > 0.9, r
            [(relation, operator, cause, evidence, _fix)] = r["bottlenecks"]
            assert (relation, cause) == ("v", "external calls"), r
            assert "slow" in operator and "slow" in evidence
            assert r["barrier_ms"] > 5 * max(unloaded, 50), (r, unloaded)
    finally:
        srv.close()
