"""The kafka source against a real broker: messages produced with a Kafka client
are read back through views and compared with a direct computation."""

from __future__ import annotations

import json
import time
from collections import Counter
from pathlib import Path
from typing import Iterator

import pytest

from tests.connectors.kafka_broker import KafkaBroker, start_broker
from tests.sources.conftest import Sql

SYS = ("SELECT rows_read, lag, parse_errors, last_error FROM sys.sources "
       "WHERE source = '{}' ORDER BY reader")


@pytest.fixture
def sql() -> Iterator[Sql]:
    s = Sql(barrier_interval_ms=100)
    yield s
    s.close()


def produce(broker: KafkaBroker, topic: str, values: list, partitions: int = 1,
            keys: list | None = None, timestamps: list[int] | None = None) -> None:
    p = broker.producer()
    for i, v in enumerate(values):
        kw: dict = {"partition": i % partitions}
        if keys is not None:
            kw["key"] = keys[i]
        if timestamps is not None:
            kw["timestamp"] = timestamps[i]
        p.produce(topic, value=v, **kw)
    assert p.flush(20) == 0


def source(name: str, broker: KafkaBroker, topic: str, cols: str, extra: str = "",
           encode: str = "JSON") -> str:
    return (f"CREATE SOURCE {name} ({cols}) WITH (connector = 'kafka', topic = '{topic}', "
            f"properties.bootstrap.server = '{broker.bootstrap}'{extra}) "
            f"FORMAT PLAIN ENCODE {encode}")


def test_json_partitions_spread_over_actors(sql: Sql, kafka_broker: KafkaBroker) -> None:
    topic = kafka_broker.create_topic(partitions=3)
    rows = [(i, f"u{i % 7}", i * 3 % 11) for i in range(3000)]
    produce(kafka_broker, topic, [json.dumps({"id": a, "User": b, "amount": c}).encode()
                                  for a, b, c in rows], partitions=3)
    sql(source("s", kafka_broker, topic, "id BIGINT, user VARCHAR, amount INT"))
    sql("SET streaming_parallelism = 2")
    sql("CREATE MATERIALIZED VIEW v AS SELECT user, count(*) AS n, sum(amount) AS total "
        "FROM s GROUP BY user")
    want = Counter()
    totals = Counter()
    for _id, u, a in rows:
        want[u] += 1
        totals[u] += a
    expected = sorted((u, want[u], totals[u]) for u in want)
    got = sql.until("SELECT user, n, total FROM v ORDER BY user", lambda r: r == expected)
    assert got == expected
    readers = sql(SYS.format("s"))
    assert len(readers) == 2
    # partitions 0, 2 to actor 0 and 1 to actor 1: both read, together every message
    assert sorted(r[0] for r in readers) == [1000, 2000]
    # more messages: they arrive, and lag drops back to zero
    produce(kafka_broker, topic, [json.dumps({"id": 5000 + i, "user": "late", "amount": 1})
                                  .encode() for i in range(30)], partitions=3)
    sql.until("SELECT n FROM v WHERE user = 'late'", lambda r: r == [(30,)])
    deadline = time.time() + 15
    while time.time() < deadline:
        sql("FLUSH")
        lags = [r[1] for r in sql(SYS.format("s"))]
        if lags == [0, 0]:
            break
        time.sleep(0.3)
    assert lags == [0, 0]


def test_csv_bad_messages_counted_and_skipped(sql: Sql, kafka_broker: KafkaBroker) -> None:
    topic = kafka_broker.create_topic()
    values = [f"{i},{i * 2}".encode() for i in range(100)]
    values[10] = b"10,oops"
    values[20] = b"only-one-field"
    values[30] = b""
    produce(kafka_broker, topic, values)
    sql(source("c", kafka_broker, topic, "a INT, b INT", encode="CSV"))
    sql("CREATE MATERIALIZED VIEW v AS SELECT count(*) AS n, sum(b) AS s FROM c")
    expected = [(97, sum(i * 2 for i in range(100) if i not in (10, 20, 30)))]
    assert sql.until("SELECT n, s FROM v", lambda r: r == expected) == expected
    [(read, _lag, errors, last)] = sql(SYS.format("c"))
    assert (read, errors) == (97, 3)
    assert last == f"{topic}/0@30: empty message"


def test_startup_latest_and_timestamp(sql: Sql, kafka_broker: KafkaBroker) -> None:
    topic = kafka_broker.create_topic()
    # recent times: a broker may drop messages older than its retention at any moment
    base = int(time.time() * 1000) - 60_000
    produce(kafka_broker, topic, [json.dumps({"x": i}).encode() for i in range(10)],
            timestamps=[base + i * 1000 for i in range(10)])
    sql(source("e", kafka_broker, topic, "x INT"))
    sql(source("l", kafka_broker, topic, "x INT", ", scan.startup.mode = 'latest'"))
    sql(source("t", kafka_broker, topic, "x INT",
               f", scan.startup.timestamp.millis = '{base + 4000}'"))
    for name in "elt":
        sql(f"CREATE MATERIALIZED VIEW v{name} AS SELECT x FROM {name}")
    sql.until("SELECT count(*) FROM ve", lambda r: r == [(10,)])
    time.sleep(0.5)  # the latest reader has resolved its start by now
    produce(kafka_broker, topic, [json.dumps({"x": 100 + i}).encode() for i in range(3)])
    assert sql.until("SELECT x FROM vl ORDER BY x", lambda r: len(r) >= 3) == \
        [(100,), (101,), (102,)]
    assert sql.until("SELECT x FROM vt ORDER BY x", lambda r: len(r) >= 9) == \
        [(x,) for x in range(4, 10)] + [(100,), (101,), (102,)]


def test_upsert_table_tombstone_deletes(sql: Sql, kafka_broker: KafkaBroker) -> None:
    topic = kafka_broker.create_topic(partitions=2)
    msgs: list[tuple[bytes, bytes | None]] = []
    state: dict[int, tuple] = {}
    for i in range(400):
        k = i % 37
        if i % 5 == 4:
            msgs.append((json.dumps({"k": k}).encode(), None))
            state.pop(k, None)
        else:
            msgs.append((json.dumps({"k": k}).encode(),
                         json.dumps({"k": k, "v": f"v{i}", "n": i}).encode()))
            state[k] = (k, f"v{i}", i)
    # one key's messages stay on one partition, so their order holds
    p = kafka_broker.producer()
    for key, value in msgs:
        p.produce(topic, key=key, value=value, partition=json.loads(key)["k"] % 2)
    assert p.flush(20) == 0
    sql(f"""CREATE TABLE u (k INT, v VARCHAR, n INT, PRIMARY KEY (k)) WITH (
            connector = 'kafka', topic = '{topic}',
            properties.bootstrap.server = '{kafka_broker.bootstrap}') FORMAT UPSERT ENCODE JSON""")
    sql("CREATE MATERIALIZED VIEW c AS SELECT count(*) AS n, sum(n) AS total FROM u")
    expected = sorted(state.values())
    assert sql.until("SELECT k, v, n FROM u ORDER BY k", lambda r: r == expected) == expected
    want = [(len(state), sum(v[2] for v in state.values()))]
    assert sql.until("SELECT n, total FROM c", lambda r: r == want) == want


def test_bad_options_fail_at_create(sql: Sql, kafka_broker: KafkaBroker,
                                    monkeypatch: pytest.MonkeyPatch) -> None:
    from executor.connectors import kafka
    from sqlstream import Error
    monkeypatch.setattr(kafka, "CREATE_TIMEOUT_S", 1.0)
    with pytest.raises(Error, match='"topic": topic \'nope\' does not exist'):
        sql(source("a", kafka_broker, "nope", "x INT"))
    with pytest.raises(Error, match="did not answer") as e:
        sql("CREATE SOURCE b (x INT) WITH (connector = 'kafka', topic = 't', "
            "properties.bootstrap.server = '127.0.0.1:1') FORMAT PLAIN ENCODE JSON")
    assert e.value.sqlstate == "08001"
    topic = kafka_broker.create_topic()
    with pytest.raises(Error, match="scan.startup.mode"):
        sql(source("c", kafka_broker, topic, "x INT", ", scan.startup.mode = 'middle'"))
    with pytest.raises(Error, match="PRIMARY KEY"):
        sql(f"CREATE SOURCE d (x INT) WITH (connector = 'kafka', topic = '{topic}', "
            f"properties.bootstrap.server = '{kafka_broker.bootstrap}') "
            "FORMAT UPSERT ENCODE JSON")
    assert sql("SELECT count(*) FROM sys.sources") == [(0,)]


def test_rate_limit(sql: Sql, kafka_broker: KafkaBroker) -> None:
    topic = kafka_broker.create_topic()
    produce(kafka_broker, topic, [json.dumps({"x": i}).encode() for i in range(2000)])
    sql(source("r", kafka_broker, topic, "x INT", ", source_rate_limit = '500'"))
    sql("CREATE MATERIALIZED VIEW v AS SELECT count(*) AS n FROM r")
    time.sleep(1.5)
    [(read, lag, _e, _l)] = sql(SYS.format("r"))
    assert 300 <= read <= 1200, read
    assert lag is not None and lag >= 2000 - read - 200
    sql("ALTER SOURCE r SET source_rate_limit = DEFAULT")
    assert sql.until("SELECT n FROM v", lambda r: r == [(2000,)]) == [(2000,)]


def test_broker_outage_retries_visibly(sql: Sql, tmp_path: Path,
                                       monkeypatch: pytest.MonkeyPatch) -> None:
    """A broker that goes away after CREATE: the reader says so in sys.sources and
    goes on where it stopped once the broker is back (same port, same data)."""
    from executor.connectors import kafka
    monkeypatch.setattr(kafka, "METADATA_INTERVAL_S", 0.5)
    monkeypatch.setattr(kafka, "REQUEST_TIMEOUT_S", 1.0)
    broker = start_broker(tmp_path)
    try:
        topic = broker.create_topic()
        produce(broker, topic, [json.dumps({"x": i}).encode() for i in range(100)])
        sql(source("o", broker, topic, "x INT"))
        sql("CREATE MATERIALIZED VIEW v AS SELECT count(*) AS n, sum(x) AS s FROM o")
        sql.until("SELECT n FROM v", lambda r: r == [(100,)])
        broker.stop()
        deadline = time.time() + 20
        while time.time() < deadline:
            [(_r, _lag, _e, last)] = sql(SYS.format("o"))
            if last and "unreachable" in last:
                break
            time.sleep(0.3)
        assert last is not None and "kafka broker unreachable, retrying" in last
        broker = start_broker(tmp_path, broker.port)
        produce(broker, topic, [json.dumps({"x": i}).encode() for i in range(100, 150)])
        want = [(150, sum(range(150)))]
        assert sql.until("SELECT n, s FROM v", lambda r: r == want, timeout=30) == want
    finally:
        broker.stop()
