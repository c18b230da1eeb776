"""A process that rescales views while rows keep arriving, for crash tests:

    python -m tests.observability.rescale_writer DATA_DIR MODE

It creates (once) a table `t` with a grouped view `tv`, and a datagen source `ev`
(ids 1..ROWS at RATE rows/s) with a grouped view `ev_v`. MODE `loop` then inserts,
deletes and rescales both views forever, printing a line after each step, until
the test kills it. MODE `before_commit` / `after_commit` dies (os._exit, as abrupt
as SIGKILL) inside the next rescale, just before or just after its commit.
"""

from __future__ import annotations

import os
import sys
from typing import Any

import sqlstream
from storage.checkpoint_store import CheckpointStore

ROWS = 30_000
RATE = 4_000
SETUP = [
    "CREATE TABLE t (id INT PRIMARY KEY, k INT, v INT)",
    "CREATE MATERIALIZED VIEW tv AS SELECT k, count(*) AS n, sum(v) AS s FROM t GROUP BY k",
    "CREATE SOURCE ev (id BIGINT, k INT) WITH (connector = 'datagen', "
    "fields.id.kind = 'sequence', fields.id.start = '1', "
    f"fields.id.end = '{ROWS}', fields.k.kind = 'random', fields.k.min = '0', "
    f"fields.k.max = '20', datagen.rows.per.second = '{RATE}', datagen.split.num = '4')",
    "CREATE MATERIALIZED VIEW ev_v AS SELECT k, count(*) AS n FROM ev GROUP BY k",
]
TV_ORACLE = "SELECT k, count(*), sum(v) FROM t GROUP BY k"


def die(*_args: Any, **_kwargs: Any) -> Any:
    sys.stdout.flush()
    os._exit(9)


def arm(mode: str) -> None:
    real_commit = CheckpointStore.commit

    async def commit(self: CheckpointStore, epoch: int, extra_meta: Any = None) -> None:
        if extra_meta and "catalog" in extra_meta and mode == "before_commit":
            die()
        await real_commit(self, epoch, extra_meta)
        if extra_meta and "catalog" in extra_meta and mode == "after_commit":
            die()
    CheckpointStore.commit = commit  # type: ignore[method-assign]


def main() -> None:
    data_dir, mode = sys.argv[1], sys.argv[2]
    conn = sqlstream.connect(data_dir)
    cur = conn.cursor()
    cur.execute("SELECT count(*) FROM sys.relations WHERE name = 'tv'")
    if cur.fetchone()[0] == 0:
        for sql in SETUP:
            cur.execute(sql)
    cur.execute("SELECT coalesce(max(id), 0) FROM t")
    next_id = cur.fetchone()[0] + 1
    print("ready", flush=True)
    if mode != "loop":
        arm(mode)
    step = 0
    while True:
        rows = ",".join(f"({i}, {i % 13}, {i % 7})" for i in range(next_id, next_id + 200))
        cur.execute(f"INSERT INTO t VALUES {rows}")
        cur.execute(f"DELETE FROM t WHERE id < {next_id} AND id % 5 = {step % 5}")
        next_id += 200
        n = (3, 1, 4, 2)[step % 4]
        print("rescaling", n, flush=True)
        cur.execute(f"ALTER MATERIALIZED VIEW tv SET PARALLELISM = {n}")
        cur.execute(f"ALTER MATERIALIZED VIEW ev_v SET PARALLELISM = {5 - n}")
        print("rescaled", n, flush=True)
        step += 1


if __name__ == "__main__":
    main()
