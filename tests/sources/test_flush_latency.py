"""FLUSH latency under load stays bounded: with a 100 ms barrier interval and
four rate-limited readers feeding a window join (the soak test's setup),
commits are slower than the interval. Barriers then must not queue behind
barriers: at most `max_inflight_barriers` are in flight, and a FLUSH waits for
about that many commits, not for a backlog that grows for as long as the load
lasts."""

from __future__ import annotations

import statistics
import time

from tests.sources.conftest import Sql
from tests.sources.test_parallel_watermarks import TOP_BIDS
from tests.sources.test_windows import BID

RUN_S = 12


def test_flush_latency_stays_bounded_under_a_rate_limited_window_join(sql: Sql) -> None:
    cap = int(sql("SHOW max_inflight_barriers")[0][0])
    assert cap == 4
    sql("SET streaming_parallelism = 2")
    sql(BID.format(extra=", nexmark.split.num = '2', source_rate_limit = '4600'"))
    sql(f"CREATE MATERIALIZED VIEW j AS {TOP_BIDS}")
    latencies: list[float] = []
    inflight: list[int] = []
    deadline = time.time() + RUN_S
    while time.time() < deadline:
        time.sleep(0.3)
        inflight.append(sql("SELECT count(*) FROM sys.barrier_latency "
                            "WHERE committed_at IS NULL")[0][0])
        t0 = time.time()
        sql("FLUSH")
        latencies.append(time.time() - t0)
    read = sum(r[0] for r in sql("SELECT rows_read FROM sys.sources WHERE source = 'bid'"))
    assert read >= 4 * 4600 * RUN_S / 3, read  # the load was there (the rate, roughly)
    assert max(inflight) <= cap, inflight  # barriers waited for room, never queued
    late = latencies[len(latencies) // 2:]
    assert max(latencies) < 8.0, latencies  # bounded (generous: shared machines) ...
    assert statistics.median(late) < 3.0, latencies  # ... and usually a few commits
    assert sql("SELECT count(*) FROM j")[0][0] > 0
