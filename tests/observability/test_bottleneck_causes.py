"""Each cause sys.bottlenecks names, provoked for real and read from the sys tables:
an expensive filter (slow operator), two such views sharing the process (insufficient
resources), a join whose rows all hash to one of its four actors (skewed partitions),
and a join over a state above `state_size_limit_mb` (state too large)."""

from __future__ import annotations

import time
from typing import Any

import pytest

from sqlstream.database import Database

HEAVY = ("SELECT k, count(*) AS n FROM {src} "
         "WHERE md5(repeat(CAST(id AS VARCHAR), 20000)) <> '' GROUP BY k")
# d holds 50 rows per key, so each event joins with 50 of them: the join does the work.
JOIN = "SELECT e.k, count(*) AS n FROM ev e JOIN d ON e.k = d.k GROUP BY e.k"


def _source(s: Any, name: str, k_max: int = 7, rate: int = 20000) -> None:
    s.execute(f"CREATE SOURCE {name} (id BIGINT, k INT) WITH (connector = 'datagen', "
              "fields.id.kind = 'sequence', fields.k.kind = 'random', fields.k.min = '0', "
              f"fields.k.max = '{k_max}', datagen.rows.per.second = '{rate}', "
              "datagen.split.num = '4')")


def _dimension(s: Any) -> None:
    s.execute("CREATE TABLE d (k INT, x INT)")
    s.execute("INSERT INTO d SELECT i % 8, i FROM generate_series(1, 400) AS s(i)")
    s.execute("FLUSH")


def _diagnosis(s: Any, settle_s: float = 5.0, limit_s: float = 20.0) -> list[tuple]:
    """The first non-empty sys.bottlenecks after the figures had time to settle."""
    time.sleep(settle_s)
    deadline = time.monotonic() + limit_s
    while True:
        got = s.execute("SELECT relation, operator, cause, evidence, suggestion "
                        "FROM sys.bottlenecks ORDER BY relation")[0].rows
        if got or time.monotonic() > deadline:
            return got
        time.sleep(1.0)


@pytest.fixture
def s():  # type: ignore[no-untyped-def]
    db = Database.open(None, metrics_window_s=4)
    yield db.session()
    db.close()


@pytest.mark.slow
def test_slow_operator(s) -> None:  # type: ignore[no-untyped-def]
    _source(s, "ev")
    s.execute("CREATE MATERIALIZED VIEW v AS " + HEAVY.format(src="ev"))
    [(relation, _op, cause, evidence, suggestion)] = _diagnosis(s)
    assert (relation, cause) == ("v", "slow operator"), evidence
    assert "of the 20000 rows/s asked" in evidence and "PARALLELISM" in suggestion


@pytest.mark.slow
def test_insufficient_resources(s) -> None:  # type: ignore[no-untyped-def]
    _source(s, "ev")
    _source(s, "ev2")
    s.execute("CREATE MATERIALIZED VIEW v AS " + HEAVY.format(src="ev"))
    s.execute("CREATE MATERIALIZED VIEW v2 AS " + HEAVY.format(src="ev2"))
    got = _diagnosis(s)
    assert [(r[0], r[2]) for r in got] == [("v", "insufficient resources"),
                                           ("v2", "insufficient resources")], got
    assert all("one event loop" in r[3] and "more CPU" in r[4] for r in got)


@pytest.mark.slow
def test_skewed_partitions(s) -> None:  # type: ignore[no-untyped-def]
    _source(s, "ev", k_max=0, rate=0)  # every event has k = 0
    _dimension(s)
    s.execute("SET streaming_parallelism = 4")
    s.execute("CREATE MATERIALIZED VIEW v AS " + JOIN)
    [(relation, operator, cause, evidence, _fix)] = _diagnosis(s)
    assert (relation, cause) == ("v", "skewed partitions"), evidence
    assert "StreamHashJoin" in operator and "busy ratios of the fragment's 4 actors" in evidence


@pytest.mark.slow
def test_state_too_large(s) -> None:  # type: ignore[no-untyped-def]
    _source(s, "ev", rate=0)
    _dimension(s)
    s.execute("ALTER SYSTEM SET state_size_limit_mb = 1")
    s.execute("CREATE MATERIALIZED VIEW v AS " + JOIN)
    [(relation, operator, cause, evidence, suggestion)] = _diagnosis(s)
    assert (relation, cause) == ("v", "state too large"), evidence
    assert "StreamHashJoin" in operator and "state_size_limit_mb = 1" in evidence
    mib = float(evidence.split("its state holds about ")[1].split(" MiB")[0])
    [(state_bytes,)] = s.execute("SELECT sum(bytes) FROM sys.state_tables WHERE relation = 'v' "
                                 "AND operator LIKE '%HashJoin%'")[0].rows
    assert mib >= 1 and state_bytes >= 1 << 20
    assert "more room" in suggestion
