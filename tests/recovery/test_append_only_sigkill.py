"""SIGKILL while append-only views take rows: after every restart each row of the
source is in the views exactly once, with no row id twice, the views over views
included (their state commits in the same epochs as their upstream's)."""

from __future__ import annotations

import datetime as dt
import os
import random
import signal
import subprocess
import sys
import textwrap
import time
from decimal import Decimal
from pathlib import Path

import pytest

from tests.differential.oracle import describe_difference, same_multiset
from tests.sources.conftest import Sql

ROOT = Path(__file__).resolve().parents[2]

CHILD = textwrap.dedent("""
    import sys, time
    from sqlstream.dbapi import connect
    conn = connect(sys.argv[1], barrier_interval_ms=50)
    cur = conn.cursor()
    cur.execute("SHOW MATERIALIZED VIEWS")
    if not cur.fetchall():
        cur.execute("SET streaming_parallelism = " + sys.argv[2])
        for stmt in sys.argv[3:]:
            cur.execute(stmt)
    print("ready", flush=True)
    while True:
        time.sleep(0.05)
""")


def ddl(n: int) -> list[str]:
    return [f"""CREATE SOURCE s (id BIGINT) WITH (connector = 'datagen',
                fields.id.kind = 'sequence', fields.id.start = '1', fields.id.end = '{n}',
                datagen.split.num = '3', datagen.rows.per.second = '3000')""",
            # ids of a multiple of 5 filtered out; duplicates through `id % 7`
            """CREATE MATERIALIZED VIEW v AS SELECT id, id % 7 AS m, id * 1.25 AS d,
                   TIMESTAMP '2024-01-01 00:00:00' + id * INTERVAL '1' SECOND AS ts
               FROM s WHERE id % 5 <> 0""",
            "CREATE MATERIALIZED VIEW w AS SELECT m, d FROM v WHERE m < 3"]


def expected(n: int) -> tuple[list[tuple], list[tuple]]:
    v = [(i, i % 7, Decimal(i) * Decimal("1.25"),
          dt.datetime(2024, 1, 1) + dt.timedelta(seconds=i))
         for i in range(1, n + 1) if i % 5]
    return v, [(m, d) for _i, m, d, _t in v if m < 3]


def run_and_kill(path: str, parallelism: int, n: int, kills: int, seed: int) -> None:
    rng = random.Random(seed)
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    for _ in range(kills):
        proc = subprocess.Popen([sys.executable, "-c", CHILD, path, str(parallelism), *ddl(n)],
                                stdout=subprocess.PIPE, env=env, cwd=str(ROOT))
        assert proc.stdout is not None
        assert proc.stdout.readline().strip() == b"ready"
        time.sleep(rng.uniform(0.1, 0.8))
        proc.send_signal(signal.SIGKILL)
        proc.wait()


def check(path: str, n: int) -> None:
    want_v, want_w = expected(n)
    s = Sql(path, barrier_interval_ms=50)
    try:
        s.until("SELECT count(*) FROM v", lambda r: r == [(len(want_v),)], timeout=90)
        time.sleep(0.3)
        s("FLUSH")  # and nothing more arrives
        for name, want in (("v", want_v), ("w", want_w)):
            got = s(f"SELECT * FROM {name}")
            assert same_multiset(got, want), f"{name}: " + describe_difference(got, want)
        db = s.conn._db
        assert db is not None and db.runtime is not None
        for name in ("v", "w"):
            rel = db.catalog.get(name)
            assert db.runtime.append_only[rel.id]
            n_rows, distinct = db.serving.duck.execute(
                f"SELECT count(*), count(DISTINCT _rid) FROM _ss.r{rel.id}").fetchall()[0]
            assert n_rows == distinct, f"{name}: duplicate row ids"
        rows = {r[4]: r[2] for r in s("SELECT * FROM sys.state_tables") if r[0] == "v"}
        assert sum(rows.values()) == len(want_v)
    finally:
        s.close()


def test_append_only_views_survive_sigkill(tmp_path: Path) -> None:
    n = 5000
    run_and_kill(str(tmp_path / "db"), 1, n, kills=3, seed=11)
    check(str(tmp_path / "db"), n)


@pytest.mark.slow
def test_append_only_views_of_two_actors_survive_sigkill(tmp_path: Path) -> None:
    n = 12000
    run_and_kill(str(tmp_path / "db"), 2, n, kills=6, seed=12)
    check(str(tmp_path / "db"), n)
