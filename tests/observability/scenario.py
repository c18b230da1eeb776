"""The backpressure scenario's driver: a table fed at a fixed rate by a background
thread (a source that slows down when the graph pushes back) and a view whose
UDF is slower than that rate."""

from __future__ import annotations

import threading
import time
from typing import Any

from sqlstream.database import Database

SLOW_SYNC = """CREATE FUNCTION slow(x BIGINT) RETURNS BIGINT LANGUAGE python AS $$
import time
def slow(x):
    time.sleep(0.002)
    return x
$$"""

SLOW_ASYNC = """CREATE FUNCTION slow(x BIGINT) RETURNS BIGINT LANGUAGE python AS $$
import asyncio
async def slow(x):
    await asyncio.sleep(0.002)
    return x
$$"""

VIEW = "CREATE MATERIALIZED VIEW v AS SELECT k, count(*) AS n, sum(slow(id)) AS s " \
       "FROM events GROUP BY k"


class Feeder(threading.Thread):
    """Inserts `rate` rows per second in batches; an INSERT that the bounded graph
    holds back simply takes longer, so the achieved rate falls to what it drains."""

    def __init__(self, db: Database, rate: int = 1000, batch: int = 50) -> None:
        super().__init__(daemon=True)
        self.session = db.session()
        self.rate, self.batch = rate, batch
        self.stop_event = threading.Event()
        self.sent = 0
        self.error: BaseException | None = None

    def run(self) -> None:
        t_next = time.monotonic()
        try:
            while not self.stop_event.is_set():
                rows = ",".join(f"({i}, {i % 10})"
                                for i in range(self.sent, self.sent + self.batch))
                self.session.execute(f"INSERT INTO events VALUES {rows}")
                self.sent += self.batch
                t_next += self.batch / self.rate
                delay = t_next - time.monotonic()
                if delay > 0:
                    time.sleep(delay)
                else:
                    t_next = time.monotonic()  # behind: no catching up in a burst
        except BaseException as exc:  # surfaced by the test
            self.error = exc

    def stop(self) -> None:
        self.stop_event.set()
        self.join(timeout=30)


def open_scenario(function_sql: str, parallelism: int = 1, window_s: float = 4.0
                  ) -> tuple[Database, Any]:
    db = Database.open(None)
    db.settings["metrics_window_s"] = window_s
    s = db.session()
    s.execute("CREATE TABLE events (id BIGINT, k INT)")
    s.execute(function_sql)
    s.execute(f"SET streaming_parallelism = {parallelism}")
    s.execute(VIEW)
    return db, s


def query(s: Any, sql: str) -> list[tuple]:
    return s.execute(sql)[0].rows


# The issue's own form of the scenario: a datagen source asked for 1000 rows/s.
DATAGEN_SOURCE = ("CREATE SOURCE events (id BIGINT, k INT) WITH (connector = 'datagen', "
                  "fields.id.kind = 'sequence', fields.k.kind = 'random', "
                  "fields.k.min = '0', fields.k.max = '9', datagen.rows.per.second = '1000')")


def setup_datagen(run: Any, function_sql: str, parallelism: int = 1) -> None:
    """`run(sql)` executes a statement (an embedded session or a wire cursor). The
    window stays at its default (10 s): the reader sends chunks of up to 1024 rows,
    a second's worth at this rate, so a shorter window makes the rate lumpy."""
    run(DATAGEN_SOURCE)
    run(function_sql)
    run(f"SET streaming_parallelism = {parallelism}")
    run(VIEW)


def measure(fetch: Any) -> dict[str, Any]:
    """The scenario's figures, read only through the sys tables; `fetch(sql)` returns
    the rows of a query."""
    import datetime as dt
    now = dt.datetime.now(dt.timezone.utc)
    recent = fetch("SELECT injected_at, latency_ms FROM sys.barrier_latency "
                   "ORDER BY epoch DESC LIMIT 10")
    return {
        # The longest recent barrier latency, an in-flight barrier counted by its age.
        "barrier_ms": max(lat if lat is not None else (now - inj).total_seconds() * 1000
                          for inj, lat in recent),
        "source_rate": fetch("SELECT sum(rows_per_second) FROM sys.sources "
                             "WHERE source = 'events'")[0][0],
        "source_bp": fetch("SELECT max(backpressure_ratio) FROM sys.backpressure "
                           "WHERE operator LIKE '%Source%'")[0][0],
        "view_busy": fetch("SELECT max(busy_ratio) FROM sys.backpressure "
                           "WHERE relation = 'v' AND operator NOT LIKE '%Source%'")[0][0],
        "bottlenecks": fetch("SELECT relation, operator, cause, evidence, suggestion "
                             "FROM sys.bottlenecks"),
    }
