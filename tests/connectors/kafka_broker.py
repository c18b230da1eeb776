"""A real Kafka-protocol broker for tests: `noida-db` (from PyPI) started with only
its Kafka listener, on a free loopback port, in a temporary data directory, and
stopped at the end of the session.

Without the broker or the client library the Kafka tests are skipped with the
reason; under CI (`CI=true`) they fail instead, since CI installs both.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

import pytest

from tests.netutil import free_port

START_TIMEOUT_S = 30


@dataclass
class KafkaBroker:
    bootstrap: str
    process: subprocess.Popen
    data_dir: Path

    def stop(self) -> None:
        proc = self.process
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(10)

    @property
    def port(self) -> int:
        return int(self.bootstrap.rsplit(":", 1)[1])

    def create_topic(self, partitions: int = 1, name: str | None = None) -> str:
        """A new topic with `partitions` partitions (a fresh name unless given)."""
        from confluent_kafka.admin import AdminClient, NewTopic
        topic = name or f"t_{uuid.uuid4().hex[:10]}"
        admin = AdminClient({"bootstrap.servers": self.bootstrap})
        for f in admin.create_topics([NewTopic(topic, num_partitions=partitions,
                                               replication_factor=1)]).values():
            f.result(20)
        return topic

    def producer(self, **config: object):  # -> confluent_kafka.Producer
        from confluent_kafka import Producer
        return Producer({"bootstrap.servers": self.bootstrap, "linger.ms": 5, **config})

    def read_all(self, topic: str, timeout: float = 20.0) -> list:
        """Every message of every partition of `topic` up to its current end, in
        partition then offset order (values and keys as bytes; None for a tombstone)."""
        from confluent_kafka import Consumer, TopicPartition
        c = Consumer({"bootstrap.servers": self.bootstrap, "group.id": "tests-read-all",
                      "enable.auto.commit": False})
        try:
            meta = c.list_topics(topic, timeout=timeout)
            parts = sorted(meta.topics[topic].partitions)
            ends = {p: c.get_watermark_offsets(TopicPartition(topic, p), timeout=timeout)[1]
                    for p in parts}
            c.assign([TopicPartition(topic, p, 0) for p in parts if ends[p] > 0])
            got: dict[int, list] = {p: [] for p in parts}
            done = {p for p in parts if ends[p] == 0}
            deadline = time.monotonic() + timeout
            while len(done) < len(parts) and time.monotonic() < deadline:
                for m in c.consume(500, 0.5):
                    if m.error():
                        continue
                    got[m.partition()].append(m)
                    if m.offset() + 1 >= ends[m.partition()]:
                        done.add(m.partition())
            assert len(done) == len(parts), f"timed out reading {topic}"
            return [m for p in parts for m in got[p]]
        finally:
            c.close()


def _binary() -> str | None:
    found = shutil.which("noida-db")
    if found:
        return found
    exe = Path(sys.executable).parent / "noida-db"
    return str(exe) if exe.exists() else None


def _missing(reason: str) -> None:
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"{reason} (CI installs it: pip install -e '.[test]')")
    pytest.skip(reason)


def _listening(port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(0.2)
        return s.connect_ex(("127.0.0.1", port)) == 0


def start_broker(data: Path, port: int | None = None) -> KafkaBroker:
    """A broker with only the Kafka listener on 127.0.0.1:`port` (a free one by
    default), its data in `data`; skipped (failed under CI) when not installed."""
    try:
        import confluent_kafka  # noqa: F401
    except ImportError:
        _missing("confluent-kafka is not installed (pip install -e '.[kafka]')")
    exe = _binary()
    if exe is None:
        _missing("the noida-db Kafka broker is not installed (pip install noida-db)")
    assert exe is not None
    port = port or free_port()
    log = open(data / "broker.log", "ab")
    proc = subprocess.Popen([exe, "start", "--only", "kafka", "--host", "127.0.0.1",
                             "--kafka-port", str(port), "--data-dir", str(data / "d")],
                            stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                            cwd=data, start_new_session=True)
    log.close()
    broker = KafkaBroker(f"127.0.0.1:{port}", proc, data)
    deadline = time.monotonic() + START_TIMEOUT_S
    while not _listening(port):
        if proc.poll() is not None or time.monotonic() > deadline:
            broker.stop()
            raise RuntimeError("the Kafka broker did not start: "
                               + (data / "broker.log").read_text(errors="replace")[-2000:])
        time.sleep(0.1)
    return broker


@pytest.fixture(scope="session")
def kafka_broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[KafkaBroker]:
    broker = start_broker(tmp_path_factory.mktemp("kafka-broker"))
    try:
        yield broker
    finally:
        broker.stop()
