"""A writer that dies (os._exit, as abrupt as SIGKILL) at a chosen point inside
the engine, for recovery tests that need a crash at an exact place:

    python -m tests.recovery.crash_at DATA_DIR POINT

It creates t (primary key) and u (no key) with views over them, inserts and
flushes, prints "ready", then arms the crash point and runs the statement that
reaches it. Points:
  drop    DROP TABLE t CASCADE, dying after t's state is deleted
  serving FLUSH, dying after the checkpoint commit, before the serving store
  feed    INSERT, dying after the DML log append, before the rows enter the graph
"""

from __future__ import annotations

import os
import sys
from typing import Any

import sqlstream
import sqlstream.database as database
from storage.checkpoint_store import CheckpointStore
from storage.serving_store import ServingStore

SETUP = [
    "CREATE TABLE t (k int PRIMARY KEY, v int)",
    "CREATE TABLE u (g int, w int)",
    "CREATE MATERIALIZED VIEW tv AS SELECT v, count(*) AS n FROM t GROUP BY v",
    "CREATE MATERIALIZED VIEW uv AS SELECT g, sum(w) AS s FROM u GROUP BY g",
    "INSERT INTO t SELECT i, i % 3 FROM generate_series(1, 50) AS s(i)",
    "INSERT INTO u VALUES (1, 10), (1, 20), (2, 5)",
    "FLUSH",
    "INSERT INTO t VALUES (100, 7)",
    "INSERT INTO u VALUES (3, 1)",
]

STATEMENT = {
    "drop": "DROP TABLE t CASCADE",
    "serving": "FLUSH",
    "feed": "INSERT INTO u VALUES (9, 9)",
}


def die(*_args: Any, **_kwargs: Any) -> Any:
    sys.stdout.flush()
    os._exit(9)


def arm(point: str) -> None:
    if point == "drop":
        CheckpointStore.drop_dml = die  # type: ignore[method-assign]
    elif point == "serving":
        ServingStore.apply = die  # type: ignore[method-assign]
    elif point == "feed":
        database.feed = die  # type: ignore[assignment]


def main() -> None:
    data_dir, point = sys.argv[1], sys.argv[2]
    conn = sqlstream.connect(data_dir, barrier_interval_ms=3_600_000)
    for stmt in SETUP:
        conn.execute(stmt)
    print("ready", flush=True)
    arm(point)
    conn.execute(STATEMENT[point])
    print("returned", flush=True)
    os._exit(0)


if __name__ == "__main__":
    main()
