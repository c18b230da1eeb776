"""Prometheus export at /metrics: the same figures as the sys tables."""

from __future__ import annotations

import socket
import urllib.request

from sqlstream import metrics_http
from sqlstream.database import Database


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_metrics_endpoint_serves_engine_figures() -> None:
    db = Database.open(None)
    server = None
    try:
        s = db.session()
        s.execute("CREATE TABLE t (k INT, v INT)")
        s.execute("CREATE MATERIALIZED VIEW v AS SELECT k, count(*) AS n FROM t GROUP BY k")
        s.execute("INSERT INTO t VALUES " + ",".join(f"({i % 3}, {i})" for i in range(500)))
        s.execute("FLUSH")
        port = _free_port()
        server = metrics_http.start(db, port, "127.0.0.1")
        text = urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10
                                      ).read().decode()
        lines = [ln for ln in text.splitlines() if not ln.startswith("#")]
        source = [ln for ln in lines if ln.startswith("sqlstream_source_rows_read_total")
                  and 'source="t"' in ln]
        assert source and float(source[0].split()[-1]) == 500.0
        busy = [ln for ln in lines if ln.startswith("sqlstream_actor_busy_ratio")]
        assert len(busy) == 4  # table source, table materialize, two view fragments
        assert all(0.0 <= float(ln.split()[-1]) <= 1.0 for ln in busy)
        state = [ln for ln in lines if ln.startswith("sqlstream_state_table_rows")
                 and 'relation="t"' in ln]
        assert float(state[0].split()[-1]) == 500.0
        assert any(ln.startswith("sqlstream_barrier_latency_seconds ") for ln in lines)
    finally:
        if server is not None:
            server.shutdown()
        db.close()
