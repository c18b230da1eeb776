"""The sys tables read real figures of the running engine."""

from __future__ import annotations

import pytest

from sqlstream.database import Database


@pytest.fixture(scope="module")
def s():  # type: ignore[no-untyped-def]
    db = Database.open(None)
    s = db.session()
    s.execute("CREATE TABLE t (k INT, v INT)")
    s.execute("CREATE MATERIALIZED VIEW v AS SELECT k, count(*) AS n FROM t WHERE v >= 100 "
              "GROUP BY k")
    s.execute("INSERT INTO t VALUES " + ",".join(f"({i % 7}, {i})" for i in range(1000)))
    s.execute("FLUSH")
    yield s
    db.close()


def rows(s, sql: str) -> list[tuple]:  # type: ignore[no-untyped-def]
    return s.execute(sql)[0].rows


def test_actors_count_rows_through_each_fragment(s) -> None:  # type: ignore[no-untyped-def]
    got = rows(s, "SELECT relation, operator, rows_in, rows_out FROM sys.actors "
                  "ORDER BY actor_id")
    assert got[0] == ("t", "TableSource", 1000, 1000)
    assert got[1] == ("t", "Materialize", 1000, 1000)
    # The view's scan fragment filters out v < 100; the aggregate emits one row per key.
    assert got[2][0] == "v" and got[2][2:] == (1000, 900)
    assert got[3][0] == "v" and "StreamHashAgg" in got[3][1] and got[3][2] == 900
    assert 7 <= got[3][3] <= 14  # first results, maybe updated once per key


def test_backpressure_has_ratios_and_queues(s) -> None:  # type: ignore[no-untyped-def]
    got = rows(s, "SELECT busy_ratio, idle_ratio, backpressure_ratio, queue_rows, "
                  "queue_capacity, downstream_fragment_id FROM sys.backpressure")
    assert len(got) == 4
    for busy, idle, bp, q, cap, down in got:
        assert 0 <= busy <= 1 and 0 <= idle <= 1 and 0 <= bp <= 1
        assert abs(busy + idle + bp - 1) < 1e-6
        assert (q is None) == (down is None) and (q is None or (q == 0 and cap == 2048))
    # An engine with nothing to do is mostly idle, and nothing is a bottleneck.
    assert max(r[1] for r in got) > 0.5
    assert rows(s, "SELECT * FROM sys.bottlenecks") == []


def test_fragments_link_to_their_upstream(s) -> None:  # type: ignore[no-untyped-def]
    frags = {r[0]: r for r in rows(s, "SELECT * FROM sys.fragments")}
    view_frags = [f for f in frags.values() if f[1] == "v"]
    assert len(view_frags) == 2
    scan = next(f for f in view_frags if "Filter" in f[2])
    table_mat = next(f for f in frags.values() if f[1] == "t" and f[2] == "Materialize")
    assert scan[4] == str(table_mat[0])


def test_state_sources_and_barriers(s) -> None:  # type: ignore[no-untyped-def]
    state = rows(s, "SELECT relation, operator, rows, bytes FROM sys.state_tables "
                    "ORDER BY relation, operator")
    assert ("t", "StreamMaterialize") == state[0][:2] and state[0][2] == 1000
    assert all(b > 0 for *_x, b in state)
    assert rows(s, "SELECT source, connector, rows_read, lag, parse_errors FROM sys.sources") \
        == [("t", "table", 1000, 0, 0)]
    lat = rows(s, "SELECT count(*), min(latency_ms) FROM sys.barrier_latency "
                  "WHERE committed_at IS NOT NULL")
    assert lat[0][0] >= 1 and lat[0][1] > 0


def test_explain_analyze_shows_measured_rates(s) -> None:  # type: ignore[no-untyped-def]
    lines = [r[0] for r in rows(s, "EXPLAIN ANALYZE MATERIALIZED VIEW v")]
    agg = next(ln for ln in lines if "StreamHashAgg" in ln)
    assert "rows/s:" in agg and "busy:" in agg and "backpressure:" in agg
    filt = next(ln for ln in lines if "StreamFilter" in ln)
    assert float(filt.split("rows/s: ")[1].split(",")[0]) > 0


def test_metrics_off_keeps_tables_answering() -> None:
    db = Database.open(None)
    try:
        db.settings["metrics_enabled"] = False
        s = db.session()
        s.execute("CREATE TABLE t (k INT)")
        s.execute("INSERT INTO t VALUES (1)")
        s.execute("FLUSH")
        assert rows(s, "SELECT rows_out, busy_ratio FROM sys.actors ORDER BY actor_id") == \
            [(1, None), (1, None)]
        assert rows(s, "SELECT * FROM sys.backpressure") == []
    finally:
        db.close()
