"""Prometheus export at /metrics: the same figures as the sys tables."""

from __future__ import annotations

from sqlstream import metrics_http
from sqlstream.database import Database
from tests.netutil import free_port, metric_samples


def test_metrics_endpoint_serves_engine_figures() -> None:
    db = Database.open(None)
    server = None
    try:
        s = db.session()
        s.execute("CREATE TABLE t (k INT, v INT)")
        s.execute("CREATE MATERIALIZED VIEW v AS SELECT k, count(*) AS n FROM t GROUP BY k")
        s.execute("INSERT INTO t VALUES " + ",".join(f"({i % 3}, {i})" for i in range(500)))
        s.execute("FLUSH")
        port = free_port()
        server = metrics_http.start(db, port, "127.0.0.1")
        assert metric_samples(port, "sqlstream_source_rows_read_total", source="t") == [500.0]
        busy = metric_samples(port, "sqlstream_actor_busy_ratio")
        assert len(busy) == 4  # table source, table materialize, two view fragments
        assert all(0.0 <= b <= 1.0 for b in busy)
        assert metric_samples(port, "sqlstream_state_table_rows", relation="t")[0] == 500.0
        assert metric_samples(port, "sqlstream_barrier_latency_seconds")
    finally:
        if server is not None:
            server.shutdown()
        db.close()
