"""The scenario the product exists for, read only through the system tables: a
source at 1000 rows/s feeding a view whose UDF manages 500 rows/s. The source
slows to the view's rate, the backpressure shows upstream of the slow operator,
sys.bottlenecks names it, barriers wait behind the queued rows. With an async UDF
or more parallelism the source gets its rate back."""

from __future__ import annotations

import datetime as dt
import time

import pytest

from tests.observability.scenario import SLOW_ASYNC, SLOW_SYNC, Feeder, open_scenario, query

SETTLE_S = 12.0


def _barrier_ms(s) -> float:  # type: ignore[no-untyped-def]
    """The longest barrier latency among the last ones, counting in-flight ones by age."""
    now = dt.datetime.now(dt.timezone.utc)
    recent = query(s, "SELECT injected_at, latency_ms FROM sys.barrier_latency "
                      "ORDER BY epoch DESC LIMIT 10")
    return max(lat if lat is not None else (now - inj).total_seconds() * 1000
               for inj, lat in recent)


def _run(function_sql: str, parallelism: int) -> dict:
    db, s = open_scenario(function_sql, parallelism)
    try:
        for _ in range(3):
            s.execute("INSERT INTO events VALUES (-1, 0)")
            s.execute("FLUSH")
        unloaded = _barrier_ms(s)
        feeder = Feeder(db)
        feeder.start()
        try:
            time.sleep(SETTLE_S)
            out = {
                "unloaded_ms": unloaded,
                "loaded_ms": _barrier_ms(s),
                "source_rate": query(s, "SELECT rows_per_second FROM sys.sources "
                                        "WHERE source = 'events'")[0][0],
                # The source's side: the table's actors, upstream of the view.
                "source_bp": query(s, "SELECT max(backpressure_ratio) FROM sys.backpressure "
                                      "WHERE relation = 'events'")[0][0],
                "view_busy": query(s, "SELECT max(busy_ratio) FROM sys.backpressure "
                                      "WHERE relation = 'v'")[0][0],
                "bottlenecks": query(s, "SELECT relation, operator, cause, evidence "
                                        "FROM sys.bottlenecks"),
            }
        finally:
            feeder.stop()
        assert feeder.error is None
        return out
    finally:
        db.close()


def test_blocking_udf_slows_the_source_and_is_named() -> None:
    r = _run(SLOW_SYNC, parallelism=1)
    assert 300 < r["source_rate"] < 650, r
    assert r["source_bp"] > 0.8, r
    assert r["view_busy"] > 0.9, r
    [(relation, operator, cause, evidence)] = r["bottlenecks"]
    assert relation == "v" and cause == "external calls", r
    assert "slow" in operator and "slow" in evidence
    assert r["loaded_ms"] > 5 * max(r["unloaded_ms"], 50), r


@pytest.mark.slow
@pytest.mark.parametrize("function_sql, parallelism", [(SLOW_ASYNC, 1), (SLOW_SYNC, 4)],
                         ids=["async-udf", "parallelism-4"])
def test_the_fixes_restore_the_rate(function_sql: str, parallelism: int) -> None:
    r = _run(function_sql, parallelism)
    assert r["source_rate"] > 800, r
    assert r["source_bp"] < 0.2, r
    assert r["bottlenecks"] == [], r


@pytest.mark.slow
def test_datagen_source_behind_a_blocking_udf_is_diagnosed() -> None:
    """A datagen source reads in the same actor as the UDF projection: it is not
    blocked but falls behind the rate it asks for, which names the same cause."""
    from sqlstream.database import Database
    db = Database.open(None)
    db.settings["metrics_window_s"] = 4.0
    try:
        s = db.session()
        s.execute("CREATE SOURCE events (id BIGINT, k INT) WITH (connector = 'datagen', "
                  "fields.id.kind = 'sequence', fields.k.kind = 'random', fields.k.min = '0', "
                  "fields.k.max = '9', datagen.rows.per.second = '1000')")
        s.execute(SLOW_SYNC)
        s.execute("CREATE MATERIALIZED VIEW v AS SELECT k, count(*) AS n, sum(slow(id)) AS s "
                  "FROM events GROUP BY k")
        time.sleep(8)
        [(rate, lag)] = query(s, "SELECT rows_per_second, lag FROM sys.sources "
                                 "WHERE source = 'events'")
        assert rate < 700 and lag > 1000
        [(relation, operator, cause)] = query(s, "SELECT relation, operator, cause "
                                                 "FROM sys.bottlenecks")
        assert (relation, cause) == ("v", "external calls") and "slow" in operator
    finally:
        db.close()
