"""SIGKILL of a sqlstream process while it reads a topic that is still being
written and writes sinks to two others: after the restarts every message is in
the views exactly once, since readers resume at the partition offsets stored
with the last checkpoint; the sinks' topics hold every row at least once, and
read as an upsert log the upsert sink's topic equals its view."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import textwrap
import threading
import time
from collections import Counter
from pathlib import Path

from tests.connectors.kafka_broker import KafkaBroker
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
        cur.execute("SET streaming_parallelism = 2")
        for stmt in sys.argv[2:]:
            cur.execute(stmt)
    print("ready", flush=True)
    while True:
        time.sleep(0.05)
""")


def ddl(broker: KafkaBroker, topic: str, up: str, plain: str) -> list[str]:
    def sink_with(out: str) -> str:
        return (f"WITH (connector = 'kafka', topic = '{out}', primary_key = 'grp', "
                f"properties.bootstrap.server = '{broker.bootstrap}')")
    return [f"""CREATE SOURCE s (id BIGINT, grp INT) WITH (connector = 'kafka',
                topic = '{topic}', properties.bootstrap.server = '{broker.bootstrap}')
                FORMAT PLAIN ENCODE JSON""",
            "CREATE MATERIALIZED VIEW v AS SELECT id, grp FROM s",
            "CREATE MATERIALIZED VIEW w AS SELECT grp, count(*) AS n, sum(id) AS total "
            "FROM s GROUP BY grp",
            f"CREATE SINK up FROM w {sink_with(up)} FORMAT UPSERT ENCODE JSON",
            f"CREATE SINK pl AS SELECT id, grp FROM s {sink_with(plain)} FORMAT PLAIN ENCODE JSON"]


def produce(broker: KafkaBroker, topic: str, ids: range, per_second: float) -> None:
    p = broker.producer()
    start = time.monotonic()
    for i in ids:
        p.produce(topic, value=json.dumps({"id": i, "grp": i % 13}).encode(), partition=i % 3)
        if i % 100 == 0:
            p.poll(0)
            ahead = (i - ids.start) / per_second - (time.monotonic() - start)
            if ahead > 0:
                time.sleep(ahead)
    assert p.flush(30) == 0


def test_every_message_once_across_sigkill(kafka_broker: KafkaBroker, tmp_path: Path) -> None:
    n, kills = 6000, 3
    topic = kafka_broker.create_topic(partitions=3)
    up, plain = kafka_broker.create_topic(partitions=2), kafka_broker.create_topic()
    produce(kafka_broker, topic, range(0, n // 3), per_second=1e9)
    writer = threading.Thread(target=produce, args=(kafka_broker, topic, range(n // 3, n),
                                                    1500.0))
    writer.start()
    rng = random.Random(16)
    path = str(tmp_path / "db")
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    try:
        for _ in range(kills):
            proc = subprocess.Popen([sys.executable, "-c", CHILD, path,
                                     *ddl(kafka_broker, topic, up, plain)],
                                    stdout=subprocess.PIPE, env=env, cwd=str(ROOT))
            assert proc.stdout is not None
            assert proc.stdout.readline().strip() == b"ready"
            time.sleep(rng.uniform(0.3, 1.0))
            proc.send_signal(signal.SIGKILL)
            proc.wait()
    finally:
        writer.join()
    want_v = [(i, i % 13) for i in range(n)]
    groups: Counter = Counter()
    sums: Counter = Counter()
    for i, g in want_v:
        groups[g] += 1
        sums[g] += i
    want_w = sorted((g, groups[g], sums[g]) for g in groups)
    s = Sql(path, barrier_interval_ms=50)
    try:
        s.until("SELECT count(*) FROM v", lambda r: r == [(n,)], timeout=60)
        time.sleep(0.3)
        s("FLUSH")
        got = s("SELECT id, grp FROM v")
        assert same_multiset(got, want_v), describe_difference(got, want_v)
        assert s("SELECT grp, n, total FROM w ORDER BY grp") == want_w
        s("FLUSH")  # the sinks delivered every row of the last epoch
        ids = Counter(json.loads(m.value())["id"] for m in kafka_broker.read_all(plain))
        assert set(ids) == set(range(n))  # at least once
        upserts = {json.loads(m.key())["grp"]: m.value() for m in kafka_broker.read_all(up)}
        assert sorted((g, d["n"], d["total"]) for g, d in
                      ((g, json.loads(v)) for g, v in upserts.items())) == want_w
    finally:
        s.close()

