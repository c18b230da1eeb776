"""An operator that fails mid-stream: the engine rebuilds the graph from the last
checkpoint and replays the acknowledged DML, so views end up exactly right."""

from __future__ import annotations

from typing import Any

import pytest

import sqlstream
from executor.message import Chunk
from executor.operators import hash_agg


def test_view_is_exact_after_an_actor_fails(monkeypatch: pytest.MonkeyPatch) -> None:
    original = hash_agg.HashAgg.execute
    failures = {"left": 1, "armed": False}

    async def failing_once(self: Any, input: Any) -> Any:
        async for msg in original(self, input):
            yield msg
            if isinstance(msg, Chunk) and failures["armed"] and failures["left"]:
                failures["left"] -= 1
                raise RuntimeError("injected operator failure")

    monkeypatch.setattr(hash_agg.HashAgg, "execute", failing_once)
    with sqlstream.connect(barrier_interval_ms=50, exchange_capacity=64) as conn:
        conn.execute("CREATE TABLE t (k int, v int)")
        conn.execute("CREATE MATERIALIZED VIEW s AS SELECT k, sum(v) AS total FROM t GROUP BY k")
        conn.execute("INSERT INTO t VALUES (0, 5); FLUSH")
        failures["armed"] = True
        # Enough rows to fill the bounded exchanges while the aggregate is dead.
        for _ in range(20):
            conn.execute("INSERT INTO t SELECT g % 4, 1 FROM generate_series(1, 1000) g")
        conn.execute("FLUSH")
        rows = conn.execute("SELECT k, total FROM s ORDER BY k").fetchall()
        assert failures["left"] == 0
        assert rows == [(0, 5005), (1, 5000), (2, 5000), (3, 5000)]
        # And it keeps going.
        conn.execute("DELETE FROM t WHERE k = 3; FLUSH")
        assert conn.execute("SELECT k FROM s ORDER BY k").fetchall() == [(0,), (1,), (2,)]


def test_cancel_interrupts_a_running_query() -> None:
    import threading
    import time

    with sqlstream.connect() as conn:
        timer = threading.Timer(0.3, conn.session.cancel)
        timer.start()
        started = time.monotonic()
        with pytest.raises(sqlstream.OperationalError) as err:
            conn.execute("SELECT count(*) FROM range(100000000000) a, range(10) b")
        assert err.value.sqlstate == "57014"
        assert time.monotonic() - started < 10
        assert conn.execute("SELECT 1").fetchall() == [(1,)]  # the session still works
