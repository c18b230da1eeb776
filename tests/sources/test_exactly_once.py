"""Exactly-once ingestion: kill the process (SIGKILL) at random moments while a
bounded source is being read, restart, and the view must hold exactly the
source's rows: none lost, none twice."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from tests.sources.conftest import Sql

CHILD = textwrap.dedent("""
    import sys, time
    from sqlstream.dbapi import connect
    conn = connect(sys.argv[1], barrier_interval_ms=50)
    cur = conn.cursor()
    cur.execute("SHOW MATERIALIZED VIEWS")
    if not cur.fetchall():
        for stmt in sys.argv[2:]:
            cur.execute(stmt)
    print("ready", flush=True)
    while True:
        time.sleep(0.05)
""")

ROOT = Path(__file__).resolve().parents[2]


def run_and_kill(path: str, ddl: list[str], kills: int, seed: int) -> None:
    rng = random.Random(seed)
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    for _ in range(kills):
        proc = subprocess.Popen([sys.executable, "-c", CHILD, path, *ddl], stdout=subprocess.PIPE,
                                env=env, cwd=str(ROOT))
        assert proc.stdout is not None
        line = proc.stdout.readline()
        assert line.strip() == b"ready"
        time.sleep(rng.uniform(0.05, 0.6))
        proc.send_signal(signal.SIGKILL)
        proc.wait()


def check(path: str, expect: tuple[int, int]) -> None:
    s = Sql(path, barrier_interval_ms=50)
    try:
        rows = s.until("SELECT n, total FROM v", lambda r: r == [expect], timeout=60)
        assert rows == [expect]
        time.sleep(0.3)
        s("FLUSH")
        assert s("SELECT n, total FROM v") == [expect]  # and nothing more arrives
    finally:
        s.close()


def test_datagen_survives_sigkill(tmp_path: Path) -> None:
    n = 6000
    ddl = [f"""CREATE SOURCE s (id BIGINT) WITH (connector = 'datagen',
               fields.id.kind = 'sequence', fields.id.start = '1', fields.id.end = '{n}',
               datagen.split.num = '3', datagen.rows.per.second = '4000')""",
           "CREATE MATERIALIZED VIEW v AS SELECT count(*) AS n, sum(id) AS total FROM s"]
    run_and_kill(str(tmp_path / "db"), ddl, kills=3, seed=1)
    check(str(tmp_path / "db"), (n, n * (n + 1) // 2))


@pytest.mark.slow
def test_nexmark_survives_sigkill(tmp_path: Path) -> None:
    ddl = ["""CREATE SOURCE bid WITH (connector = 'nexmark', nexmark.table.type = 'Bid',
              nexmark.event.num = '20000', nexmark.split.num = '2',
              nexmark.base.time.us = '0', source_rate_limit = '6000')""",
           "CREATE MATERIALIZED VIEW v AS SELECT count(*) AS n, sum(price) AS total FROM bid"]
    from executor.connectors import SourceSpec, connector
    from executor.connectors.nexmark import SCHEMAS
    r = connector("nexmark").open(SourceSpec(
        {"nexmark.table.type": "Bid", "nexmark.event.num": "20000", "nexmark.base.time.us": "0"},
        SCHEMAS["bid"]))
    rows = []
    while not r.finished:
        rows.extend(r.read(1000))
    run_and_kill(str(tmp_path / "db"), ddl, kills=3, seed=2)
    check(str(tmp_path / "db"), (len(rows), sum(b[2] for b in rows)))


def test_posix_fs_survives_sigkill(tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir()
    total = count = 0
    for f in range(4):
        lines = ["id,amount"]
        for i in range(1500):
            lines.append(f"{f * 1500 + i},{i % 97}")
            total += i % 97
            count += 1
        lines.insert(7, "broken,row,here")
        (data / f"part{f}.csv").write_text("\n".join(lines) + "\n")
    ddl = [f"""CREATE SOURCE s (id INT, amount INT) WITH (connector = 'posix_fs',
               posix_fs.root = '{data}', match_pattern = 'part*.csv',
               source_rate_limit = '4000') FORMAT PLAIN ENCODE CSV (without_header = 'false')""",
           "CREATE MATERIALIZED VIEW v AS SELECT count(*) AS n, sum(amount) AS total FROM s"]
    run_and_kill(str(tmp_path / "db"), ddl, kills=3, seed=3)
    check(str(tmp_path / "db"), (count, total))


def test_table_with_connector_survives_sigkill(tmp_path: Path) -> None:
    n = 5000
    ddl = [f"""CREATE TABLE s (id BIGINT) WITH (connector = 'datagen',
               fields.id.kind = 'sequence', fields.id.start = '1', fields.id.end = '{n}',
               datagen.rows.per.second = '4000')""",
           "CREATE MATERIALIZED VIEW v AS SELECT count(*) AS n, sum(id) AS total FROM s"]
    run_and_kill(str(tmp_path / "db"), ddl, kills=3, seed=4)
    check(str(tmp_path / "db"), (n, n * (n + 1) // 2))
    s = Sql(str(tmp_path / "db"))
    try:
        assert s("SELECT count(*), count(DISTINCT id) FROM s") == [(n, n)]  # stored once each
    finally:
        s.close()
