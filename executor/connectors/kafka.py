"""The `kafka` connector: messages of a topic, one row per message.

Partitions are the splits: partition p is read by actor p mod n. A reader assigns
its partitions itself and seeks (no consumer group membership, no offset commits
to the broker): its position, per partition, is the offset of the next message to
hand out, stored with each checkpoint, so recovery resumes exactly after the last
committed message. A partition's start (`scan.startup.mode` = `earliest` |
`latest`, or `scan.startup.timestamp.millis`) is resolved to a concrete offset
when the partition is first seen and becomes part of the position at once: a
restart before the first message never skips what arrived in between.

Nothing here blocks the event loop: `read` takes what librdkafka has already
fetched (`consume(n, 0)`; its prefetch queue is bounded by
`queued.max.messages.kbytes`); metadata, watermarks and start offsets are looked
up by one background thread per reader, which also retries while the broker is
unreachable and shows why in `last_error`.

FORMAT PLAIN ENCODE JSON | CSV: a message's value is one JSON object or one CSV
line. FORMAT UPSERT ENCODE JSON (tables with a primary key): the value is the new
row of its key; an empty value (a tombstone) deletes the row whose key is the
message key (a JSON object of the key columns, or the bare value of a one-column
key). A malformed message is skipped and counted with its partition and offset.
"""

from __future__ import annotations

import csv
import json
import logging
import threading
import weakref
from typing import Any

from executor.connectors.base import (Connector, ConnectorReader, SourceSpec, bad_option,
                                      int_option, register)
from executor.connectors.posix_fs import _converter, _json_converter
from executor.message import DELETE, INSERT
from planner.errors import SYNTAX_ERROR, ProgrammingError

log = logging.getLogger("sqlstream.kafka")

METADATA_INTERVAL_S = 5.0  # how often a reader looks for new partitions and watermarks
CREATE_TIMEOUT_S = 10.0  # how long CREATE waits for the broker to answer
REQUEST_TIMEOUT_S = 5.0  # how long the metadata thread waits for one answer
_OWN_OPTIONS = ("connector", "topic", "source_rate_limit")


def client_config(options: dict[str, str]) -> dict[str, Any]:
    """librdkafka settings from the WITH options: `properties.bootstrap.server` and
    any other `properties.<name>` passed through."""
    conf: dict[str, Any] = {"logger": log}
    for key, value in options.items():
        if key.startswith("properties."):
            name = key[len("properties."):]
            conf["bootstrap.servers" if name == "bootstrap.server" else name] = value
    return conf


def _client() -> Any:
    try:
        import confluent_kafka
    except ImportError:
        raise ProgrammingError("the kafka connector needs the confluent-kafka package: "
                               "pip install 'sqlstream[kafka]'", "58000") from None
    return confluent_kafka


def _format(spec: SourceSpec) -> tuple[str, str]:
    fmt = (spec.format or "").upper()
    enc = (spec.encode or "").upper()
    if not fmt or not enc:
        raise ProgrammingError("kafka needs FORMAT PLAIN ENCODE JSON | CSV, or FORMAT UPSERT "
                               "ENCODE JSON", SYNTAX_ERROR)
    if fmt not in ("PLAIN", "UPSERT"):
        raise bad_option("FORMAT", f"expected PLAIN or UPSERT, got {fmt}")
    if enc not in ("JSON", "CSV") or (fmt == "UPSERT" and enc != "JSON"):
        raise bad_option("ENCODE", f"FORMAT {fmt} takes "
                         f"{'JSON' if fmt == 'UPSERT' else 'JSON or CSV'}, got {enc}")
    return fmt, enc


def _startup(options: dict[str, str]) -> tuple[str, int | None]:
    mode = options.get("scan.startup.mode", "earliest").lower()
    if mode not in ("earliest", "latest"):
        raise bad_option("scan.startup.mode", f"expected 'earliest' or 'latest', got '{mode}'")
    millis = int_option(options, "scan.startup.timestamp.millis", None, minimum=0)
    return mode, millis


def _validate(spec: SourceSpec) -> None:
    opts = spec.options
    topic = opts.get("topic")
    if not topic:
        raise bad_option("topic", "required: the topic to read")
    if not opts.get("properties.bootstrap.server"):
        raise bad_option("properties.bootstrap.server", "required: host:port of a broker")
    fmt, _enc = _format(spec)
    if fmt == "UPSERT" and not spec.primary_key:
        raise ProgrammingError("FORMAT UPSERT needs a table with a PRIMARY KEY "
                               "(CREATE TABLE t (..., PRIMARY KEY (k)) WITH (...))",
                               SYNTAX_ERROR)
    _startup(opts)
    if not spec.columns:
        raise ProgrammingError("kafka needs a column list", SYNTAX_ERROR)
    check_topic(opts, topic)


def check_topic(options: dict[str, str], topic: str) -> int:
    """The topic's partition count, asking the broker; a clear error when it cannot
    be reached or has no such topic. CREATE fails rather than leaving a source that
    would never read: an unreachable address at CREATE is almost always a typo."""
    ck = _client()
    try:
        consumer = ck.Consumer({**client_config(options), "group.id": "sqlstream-check"})
    except ck.KafkaException as e:
        raise bad_option("properties", str(e.args[0])) from None
    try:
        meta = consumer.list_topics(topic, timeout=CREATE_TIMEOUT_S)
    except ck.KafkaException as e:
        raise ProgrammingError(
            f"kafka broker {options['properties.bootstrap.server']} did not answer within "
            f"{CREATE_TIMEOUT_S:g} s: {e.args[0].str()}", "08001") from None
    finally:
        consumer.close()
    t = meta.topics.get(topic)
    if t is None or t.error is not None or not t.partitions:
        raise bad_option("topic", f"topic '{topic}' does not exist on "
                         f"{options['properties.bootstrap.server']}")
    return len(t.partitions)


class KafkaReader(ConnectorReader):
    poll_interval = 0.05

    def __init__(self, spec: SourceSpec) -> None:
        self.ck = _client()
        self.spec = spec
        self.topic = spec.options["topic"]
        self.format, self.encode = _format(spec)
        self.startup, self.start_millis = _startup(spec.options)
        self.metrics = spec.metrics
        self.actor_index, self.parallelism = spec.actor_index, spec.parallelism
        self.changes = self.format == "UPSERT"
        self.names = [c.lower() for c, _ in spec.columns]
        self.types = [t for _, t in spec.columns]
        self.output = spec.output_columns
        self._json_convs = [_json_converter(self.types[i]) for i in self.output]
        self._csv_convs = [_converter(self.types[i]) for i in self.output]
        self.key_columns = [self.names.index(n.lower()) for n in spec.primary_key]
        self.positions: dict[int, int] = {}  # partition -> next offset to hand out
        self.assigned: set[int] = set()
        self.high: dict[int, int] = {}  # partition -> high watermark (from the thread)
        self.checkpointed: dict[int, int] = {}  # positions at the last checkpoint
        self._found: dict[int, int] = {}  # partitions the thread resolved, not yet assigned
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._consumer: Any = None
        self._thread: threading.Thread | None = None
        self.last_ops: list[int] = []

    # ------------------------------------------------------------ lifecycle
    def _start(self) -> None:
        conf = {**client_config(self.spec.options),
                "group.id": f"sqlstream-{self.topic}",
                "enable.auto.commit": False, "enable.auto.offset.store": False,
                "enable.partition.eof": False,
                # A position the broker calls out of range (retention deleted it): go
                # to the oldest message there is; anything already handed out is
                # skipped by offset in `read`, so a reset never repeats a message.
                "auto.offset.reset": "earliest",
                "queued.max.messages.kbytes": 8192}
        self._consumer = self.ck.Consumer(conf)
        self._thread = threading.Thread(target=_metadata_loop, args=(weakref.ref(self),
                                        self._stop, conf), daemon=True,
                                        name=f"kafka-meta-{self.topic}")
        self._thread.start()

    def close(self) -> None:
        self._stop.set()
        if self._consumer is not None:
            try:
                self._consumer.close()
            except RuntimeError:
                pass
            self._consumer = None

    def __del__(self) -> None:
        self._stop.set()

    # ------------------------------------------------------------ reading
    def _assign_new(self) -> None:
        with self._lock:
            found, self._found = self._found, {}
        new = {p: o for p, o in found.items() if p not in self.assigned}
        for p in self.positions:
            if p not in self.assigned:
                new[p] = self.positions[p]  # restored: resume where the checkpoint says
        if not new:
            return
        tps = [self.ck.TopicPartition(self.topic, p, o) for p, o in sorted(new.items())]
        self._consumer.incremental_assign(tps)
        for p, o in new.items():
            self.assigned.add(p)
            self.positions[p] = o

    def read(self, max_rows: int) -> list[tuple]:
        if self._consumer is None:
            self._start()
        self._assign_new()
        if not self.assigned:
            return []
        msgs = self._consumer.consume(max_rows, 0)
        rows: list[tuple] = []
        ops: list[int] = []
        for m in msgs:
            err = m.error()
            if err is not None:
                self.metrics.last_error = f"kafka: {err.str()}"
                continue
            p, off = m.partition(), m.offset()
            if off < self.positions.get(p, 0):
                continue  # fetched before a seek; already handed out
            self.positions[p] = off + 1
            where = f"{self.topic}/{p}@{off}"
            try:
                if self.changes:
                    op, row = self._upsert(m)
                    ops.append(op)
                    rows.append(row)
                else:
                    rows.append(self._row(m.value()))
            except (ValueError, OverflowError, TypeError) as e:
                self.metrics.bad_record(f"{where}: {e}")
        self.last_ops = ops
        return rows

    def _row(self, value: bytes | None) -> tuple:
        if not value:
            raise ValueError("empty message")
        text = value.decode("utf-8")
        if self.encode == "CSV":
            fields = next(csv.reader([text.rstrip("\r\n")]))
            if len(fields) != len(self.names):
                raise ValueError(f"expected {len(self.names)} fields, got {len(fields)}")
            return tuple(None if fields[i] == "" else c(fields[i])
                         for i, c in zip(self.output, self._csv_convs))
        obj = json.loads(text)
        if not isinstance(obj, dict):
            raise ValueError("a JSON message must be an object")
        lowered = {k.lower(): v for k, v in obj.items()}
        return tuple(c(lowered.get(self.names[i])) for i, c in zip(self.output, self._json_convs))

    def _upsert(self, m: Any) -> tuple[int, tuple]:
        value = m.value()
        if value:
            return INSERT, self._row(value)
        key = m.key()
        if not key:
            raise ValueError("a tombstone without a key")
        obj = json.loads(key.decode("utf-8"))
        if not isinstance(obj, dict):
            if len(self.key_columns) != 1:
                raise ValueError("the key of a tombstone must be a JSON object of the "
                                 "primary key columns")
            obj = {self.names[self.key_columns[0]]: obj}
        lowered = {k.lower(): v for k, v in obj.items()}
        row: list[Any] = [None] * len(self.output)
        for j, i in enumerate(self.output):
            if i in self.key_columns:
                if self.names[i] not in lowered:
                    raise ValueError(f'the key of a tombstone has no "{self.names[i]}"')
                row[j] = self._json_convs[j](lowered[self.names[i]])
        return DELETE, tuple(row)

    def read_ops(self, max_rows: int) -> tuple[list[int], list[tuple]]:
        rows = self.read(max_rows)
        return self.last_ops, rows

    # ------------------------------------------------------------ positions
    def backlog(self) -> int | None:
        """Messages of the owned partitions past the last checkpointed position."""
        if not self.high:
            return None
        base = self.checkpointed or self.positions
        return sum(max(0, h - base.get(p, self.positions.get(p, h)))
                   for p, h in list(self.high.items()))

    def position(self) -> Any:
        self.checkpointed = dict(self.positions)
        return {str(p): o for p, o in self.positions.items()}

    def restore(self, position: Any) -> None:
        for p, o in position.items():
            if int(p) % self.parallelism == self.actor_index:
                self.positions[int(p)] = int(o)
        self.checkpointed = dict(self.positions)


def _metadata_loop(ref: "weakref.ref[KafkaReader]", stop: threading.Event,
                   conf: dict[str, Any]) -> None:
    """Off the event loop: find the reader's partitions, resolve where new ones start,
    and keep the high watermarks fresh; retry while the broker is unreachable."""
    ck = _client()
    admin = ck.Consumer({**conf, "group.id": conf["group.id"] + "-meta"})
    try:
        while not stop.is_set():
            reader = ref()
            if reader is None:
                return
            try:
                _refresh(reader, admin, ck)
                if reader.metrics.last_error and reader.metrics.last_error.startswith(
                        "kafka broker"):
                    reader.metrics.last_error = None
            except ck.KafkaException as e:
                reader.metrics.last_error = (f"kafka broker unreachable, retrying: "
                                             f"{e.args[0].str()}")
            del reader
            stop.wait(METADATA_INTERVAL_S)
    finally:
        admin.close()


def _refresh(reader: KafkaReader, admin: Any, ck: Any) -> None:
    topic = reader.topic
    meta = admin.list_topics(topic, timeout=REQUEST_TIMEOUT_S)
    t = meta.topics.get(topic)
    if t is None or t.error is not None:
        raise ck.KafkaException(t.error if t is not None else ck.KafkaError(
            ck.KafkaError.UNKNOWN_TOPIC_OR_PART))
    mine = [p for p in sorted(t.partitions) if p % reader.parallelism == reader.actor_index]
    found: dict[int, int] = {}
    for p in mine:
        low, high = admin.get_watermark_offsets(ck.TopicPartition(topic, p),
                                                timeout=REQUEST_TIMEOUT_S)
        reader.high[p] = high
        if p in reader.positions or p in reader.assigned:
            continue
        found[p] = _start_offset(reader, admin, ck, p, low, high)
    if found:
        with reader._lock:
            for p, o in found.items():
                reader._found.setdefault(p, o)


def _start_offset(reader: KafkaReader, admin: Any, ck: Any, p: int, low: int,
                  high: int) -> int:
    if reader.start_millis is not None:
        tp = admin.offsets_for_times([ck.TopicPartition(reader.topic, p, reader.start_millis)],
                                     timeout=REQUEST_TIMEOUT_S)[0]
        if tp.error is not None:
            raise ck.KafkaException(tp.error)  # retried at the next refresh
        return tp.offset if tp.offset >= 0 else high
    return high if reader.startup == "latest" else low


register(Connector("kafka", _validate, KafkaReader))
