"""Sinks against a real broker: what arrives on the topic is compared with the
view it was written from; blackhole, DROP SINK and sys.sinks."""

from __future__ import annotations

import json
import time
from typing import Iterator

import pytest

from sqlstream import Error
from tests.connectors.kafka_broker import KafkaBroker
from tests.sources.conftest import Sql

SINKS = "SELECT sink, connector, rows_written, pending_epochs, errors, last_error FROM sys.sinks"


@pytest.fixture
def sql() -> Iterator[Sql]:
    s = Sql(barrier_interval_ms=100)
    yield s
    s.close()


def kafka_with(broker: KafkaBroker, topic: str, extra: str = "") -> str:
    return (f"WITH (connector = 'kafka', topic = '{topic}', "
            f"properties.bootstrap.server = '{broker.bootstrap}'{extra})")


def upsert_state(messages: list) -> dict:
    """A topic read as an upsert log: the last value of each key, tombstones deleting."""
    state: dict = {}
    for m in messages:
        key = json.loads(m.key())
        k = tuple(sorted(key.items()))
        if m.value() is None:
            state.pop(k, None)
        else:
            state[k] = json.loads(m.value())
    return state


def test_upsert_sink_equals_the_view(sql: Sql, kafka_broker: KafkaBroker) -> None:
    topic = kafka_broker.create_topic(partitions=2)
    sql("CREATE TABLE t (id INT PRIMARY KEY, grp VARCHAR, amount NUMERIC(10, 2))")
    sql("INSERT INTO t SELECT i, 'g' || (i % 5), i * 1.5 FROM generate_series(1, 200) AS s(i)")
    sql("CREATE MATERIALIZED VIEW v AS SELECT grp, count(*) AS n, sum(amount) AS total "
        "FROM t GROUP BY grp")
    opts = kafka_with(kafka_broker, topic, ", primary_key = 'grp'")
    sql(f"CREATE SINK k FROM v {opts} FORMAT UPSERT ENCODE JSON")
    sql("UPDATE t SET grp = 'g9' WHERE id <= 40")
    sql("DELETE FROM t WHERE grp = 'g1'")  # the whole group goes: a tombstone
    sql("INSERT INTO t VALUES (1000, 'new', 2.25)")
    sql("FLUSH")
    view = {(("grp", g),): {"grp": g, "n": n, "total": str(total)}
            for g, n, total in sql("SELECT grp, n, total FROM v")}
    assert len(view) == 6 and (("grp", "g1"),) not in view
    deadline = time.time() + 15
    while True:
        got = upsert_state(kafka_broker.read_all(topic))
        if got == view or time.time() > deadline:
            break
        time.sleep(0.3)
    assert got == view
    [(name, conn, written, _pending, errors, last)] = sql(SINKS)
    assert (name, conn, errors, last) == ("k", "kafka", 0, None)
    assert written >= 5
    # a sink holds no rows; DROP SINK stops it
    with pytest.raises(Error, match="is a sink"):
        sql("SELECT * FROM k")
    with pytest.raises(Error, match="depend"):
        sql("DROP MATERIALIZED VIEW v")
    sql("DROP SINK k")
    assert sql(SINKS) == []
    before = len(kafka_broker.read_all(topic))
    sql("INSERT INTO t VALUES (1001, 'after', 1)")
    sql("FLUSH")
    time.sleep(0.3)
    assert len(kafka_broker.read_all(topic)) == before
    sql("DROP MATERIALIZED VIEW v")


def test_plain_sink_as_select(sql: Sql, kafka_broker: KafkaBroker) -> None:
    src = kafka_broker.create_topic()
    out = kafka_broker.create_topic()
    p = kafka_broker.producer()
    for i in range(500):
        p.produce(src, value=json.dumps({"id": i, "word": f"w{i % 9}"}).encode())
    assert p.flush(20) == 0
    sql(f"CREATE SOURCE s (id INT, word VARCHAR) {kafka_with(kafka_broker, src)} "
        "FORMAT PLAIN ENCODE JSON")
    sql(f"CREATE SINK k AS SELECT id, upper(word) AS w FROM s WHERE id % 3 = 0 "
        f"{kafka_with(kafka_broker, out)} FORMAT PLAIN ENCODE JSON")
    want = sorted((i, f"W{i % 9}") for i in range(500) if i % 3 == 0)
    deadline = time.time() + 15
    while True:
        got = sorted((d["id"], d["w"]) for d in
                     (json.loads(m.value()) for m in kafka_broker.read_all(out)))
        if len(got) >= len(want) or time.time() > deadline:
            break
        time.sleep(0.3)
    assert got == want  # at least once, and with no crash exactly once
    [(_n, _c, written, _p, errors, _l)] = sql(SINKS)
    assert (written, errors) == (len(want), 0)


def test_plain_needs_append_only_input(sql: Sql, kafka_broker: KafkaBroker) -> None:
    topic = kafka_broker.create_topic()
    sql("CREATE TABLE t (a INT)")
    sql("CREATE MATERIALIZED VIEW c AS SELECT a, count(*) AS n FROM t GROUP BY a")
    with pytest.raises(Error, match="force_append_only"):
        sql(f"CREATE SINK k FROM c {kafka_with(kafka_broker, topic)} FORMAT PLAIN ENCODE JSON")
    with pytest.raises(Error, match="primary_key"):
        sql(f"CREATE SINK k FROM c {kafka_with(kafka_broker, topic)} FORMAT UPSERT ENCODE JSON")
    with pytest.raises(Error, match="does not exist"):
        sql(f"CREATE SINK k FROM c {kafka_with(kafka_broker, 'missing', ', primary_key = a')}"
            " FORMAT UPSERT ENCODE JSON")
    assert sql("SELECT count(*) FROM sys.sinks") == [(0,)]
    opts = kafka_with(kafka_broker, topic, ", force_append_only = 'true'")
    sql(f"CREATE SINK k FROM c {opts} FORMAT PLAIN ENCODE JSON")
    sql("INSERT INTO t VALUES (1), (1), (2)")
    sql("FLUSH")
    sql("INSERT INTO t VALUES (1)")
    sql("DELETE FROM t WHERE a = 2")
    sql("FLUSH")
    deadline = time.time() + 15
    while True:
        got = [json.loads(m.value()) for m in kafka_broker.read_all(topic)]
        if len(got) >= 3 or time.time() > deadline:
            break
        time.sleep(0.3)
    # inserts, and the new rows of updates; the delete of a = 2 is dropped
    key = lambda d: (d["a"], d["n"])  # noqa: E731
    assert sorted(got, key=key) == [{"a": 1, "n": 2}, {"a": 1, "n": 3}, {"a": 2, "n": 1}]


def test_blackhole_takes_everything(sql: Sql) -> None:
    sql("CREATE TABLE t (a INT)")
    sql("CREATE SINK b AS SELECT a, count(*) AS n FROM t GROUP BY a WITH (connector = "
        "'blackhole')")
    sql("INSERT INTO t SELECT i % 10 FROM generate_series(1, 1000) AS s(i)")
    sql("FLUSH")
    [(name, conn, written, pending, errors, last)] = sql(SINKS)
    assert (name, conn, errors, last) == ("b", "blackhole", 0, None)
    assert written >= 10 and pending <= 1
    sql("DROP SINK b")
    sql("DROP SINK IF EXISTS b")
    with pytest.raises(Error, match='sink "b" does not exist'):
        sql("DROP SINK b")


def test_debezium_events_replay_to_the_table(sql: Sql, kafka_broker: KafkaBroker) -> None:
    topic = kafka_broker.create_topic()
    sql("CREATE TABLE t (id INT PRIMARY KEY, name VARCHAR, at TIMESTAMP)")
    sql("INSERT INTO t VALUES (1, 'a', '2024-01-01 10:00:00'), (2, 'b', NULL)")
    opts = kafka_with(kafka_broker, topic, ", primary_key = 'id'")
    sql(f"CREATE SINK d FROM t {opts} FORMAT DEBEZIUM ENCODE JSON")
    sql("UPDATE t SET name = 'a2' WHERE id = 1")
    sql("FLUSH")
    sql("DELETE FROM t WHERE id = 2")
    sql("INSERT INTO t VALUES (3, 'c', '2024-02-29 23:59:59.5')")
    sql("FLUSH")
    deadline = time.time() + 15
    while True:
        msgs = kafka_broker.read_all(topic)
        if len(msgs) >= 6 or time.time() > deadline:
            break
        time.sleep(0.3)
    events = [(json.loads(m.key())["id"],
               None if m.value() is None else json.loads(m.value())) for m in msgs]
    by_key: dict = {}
    for k, e in events:
        by_key.setdefault(k, []).append(None if e is None else e["op"])
    assert by_key == {1: ["c", "u"], 2: ["c", "d", None], 3: ["c"]}
    replayed: dict = {}
    for k, e in events:
        if e is not None:
            if e["op"] == "d":
                assert e["before"]["id"] == k and e["after"] is None
                replayed.pop(k)
            else:
                replayed[k] = e["after"]
    update = next(e for _k, e in events if e and e["op"] == "u")
    assert update["before"]["name"] == "a" and update["after"]["name"] == "a2"
    table = {i: {"id": i, "name": n, "at": None if at is None else str(at)}
             for i, n, at in sql("SELECT id, name, at FROM t")}
    assert replayed == table
