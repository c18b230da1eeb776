"""The `kafka` sink: a view's changes as messages of a topic.

FORMAT PLAIN ENCODE JSON writes each inserted row as a JSON object (no key); it
takes an append-only input, or any input with `force_append_only = 'true'`
(deletes are then dropped and an update's new row is written as an insert).
FORMAT UPSERT ENCODE JSON writes each row under its key, a JSON object of the
`primary_key` columns, and a tombstone (empty value) when the key's row is
deleted; an update that keeps the key is one message with the new row.
FORMAT DEBEZIUM ENCODE JSON writes Debezium's change events under the same key
(`{"before", "after", "op": "c" | "u" | "d", "ts_ms", "source"}`, schemas
disabled), and a tombstone after each delete.

Delivery is at least once: every checkpoint waits until the producer has every
message of the epoch acknowledged (`flush`), so a crash can repeat only the
messages of the epochs after the last checkpoint. librdkafka retries a message
while the broker is unreachable (`message.timeout.ms`, 5 minutes by default); the
errors meanwhile show in `sys.sinks`, and the checkpoint waits. A message that
still fails fails the graph, which recovers from the last checkpoint and sends
the epoch again: nothing is lost, and keys keep their order.
"""

from __future__ import annotations

import json
import time
from typing import Any

from executor.connectors.kafka import _client, check_topic, client_config
from executor.message import DELETE, UPDATE_DELETE, UPDATE_INSERT
from executor.sinks.base import (Sink, SinkMetrics, SinkSpec, SinkWriter, bad_option,
                                 json_value, register, row_json)
from planner.errors import SYNTAX_ERROR, ProgrammingError, not_supported


Message = tuple[bytes | None, bytes | None]  # (key, value); a None value is a tombstone


class SinkDeliveryError(Exception):
    """Messages the broker did not take within librdkafka's retries."""


def _format(spec: SinkSpec) -> str:
    fmt = (spec.format or "").upper()
    if not fmt:
        raise ProgrammingError("a kafka sink needs FORMAT PLAIN | UPSERT ENCODE JSON",
                               SYNTAX_ERROR)
    if fmt not in ("PLAIN", "UPSERT", "DEBEZIUM"):
        raise bad_option("FORMAT", f"expected PLAIN, UPSERT or DEBEZIUM, got {fmt}")
    enc = (spec.encode or "JSON").upper()
    if enc != "JSON":
        raise bad_option("ENCODE", f"a kafka sink writes JSON, got {enc}")
    return fmt


def _key_columns(spec: SinkSpec) -> list[int]:
    text = spec.options.get("primary_key", "")
    names = [c.lower() for c, _ in spec.columns]
    out = []
    for part in [p.strip().lower() for p in text.split(",") if p.strip()]:
        if part not in names:
            raise bad_option("primary_key", f'the sink has no column "{part}"')
        out.append(names.index(part))
    return out


def _validate(spec: SinkSpec) -> None:
    opts = spec.options
    topic = opts.get("topic")
    if not topic:
        raise bad_option("topic", "required: the topic to write")
    if not opts.get("properties.bootstrap.server"):
        raise bad_option("properties.bootstrap.server", "required: host:port of a broker")
    fmt = _format(spec)
    delivery = opts.get("sink.delivery", "at_least_once").lower()
    if delivery == "exactly_once":
        raise not_supported("sink.delivery = 'exactly_once' (at_least_once is supported)")
    if delivery != "at_least_once":
        raise bad_option("sink.delivery", f"expected 'at_least_once', got '{delivery}'")
    force = opts.get("force_append_only", "false").lower()
    if force not in ("true", "false"):
        raise bad_option("force_append_only", f"expected 'true' or 'false', got '{force}'")
    keys = _key_columns(spec)
    if fmt == "PLAIN" and not spec.append_only and force != "true":
        raise ProgrammingError(
            "the sink's input has updates or deletes, which FORMAT PLAIN cannot write: use "
            "FORMAT UPSERT with primary_key, or force_append_only = 'true' to write only "
            "its inserts", "22023")
    if fmt in ("UPSERT", "DEBEZIUM") and not keys:
        raise bad_option("primary_key", f"required by FORMAT {fmt}: the key columns")
    check_topic(opts, topic)


class KafkaWriter(SinkWriter):
    def __init__(self, spec: SinkSpec, metrics: SinkMetrics) -> None:
        ck = _client()
        self.metrics = metrics
        self.topic = spec.options["topic"]
        self.format = _format(spec)
        self.inserts_only = self.format == "PLAIN"
        self.source = {"db": "sqlstream", "table": spec.name}
        self.names = [c for c, _ in spec.columns]
        self.keys = _key_columns(spec)
        self.key_names = [self.names[i] for i in self.keys]
        self.failed: list[str] = []
        self.producer = ck.Producer({**client_config(spec.options),
                                     "enable.idempotence": True, "linger.ms": 5,
                                     "error_cb": self._on_error,
                                     "on_delivery": self._on_delivery})

    def _on_error(self, err: Any) -> None:
        self.metrics.error(f"kafka: {err.str()}")

    def _on_delivery(self, err: Any, _msg: Any) -> None:
        if err is not None:
            self.failed.append(err.str())
            self.metrics.error(f"kafka delivery failed: {err.str()}")

    def _messages(self, ops: list[int], rows: list[tuple]) -> list[Message]:
        if self.format == "PLAIN":
            return [(None, row_json(self.names, row)) for row in rows]
        debezium = self.format == "DEBEZIUM"
        out: list[Message] = []
        keys = self.keys
        before: tuple | None = None  # the old row of an update pair that keeps its key
        for i, (op, row) in enumerate(zip(ops, rows)):
            key = row_json(self.key_names, tuple(row[k] for k in keys))
            if op == UPDATE_DELETE and i + 1 < len(rows) and ops[i + 1] == UPDATE_INSERT and \
                    all(rows[i + 1][k] == row[k] for k in keys):
                before = row
                continue  # the new row under the same key follows
            gone = op in (DELETE, UPDATE_DELETE)
            if not debezium:
                out.append((key, None if gone else row_json(self.names, row)))
            elif gone:
                out.append((key, self._envelope(row, None, "d")))
                out.append((key, None))  # a tombstone, so compaction can drop the key
            else:
                out.append((key, self._envelope(before, row, "u" if before else "c")))
            before = None
        return out

    def _envelope(self, before: tuple | None, after: tuple | None, op: str) -> bytes:
        """Debezium's change event (with schemas disabled): before, after, op."""
        names = self.names

        def obj(row: tuple | None) -> Any:
            return None if row is None else {n: json_value(v) for n, v in zip(names, row)}
        return json.dumps({"before": obj(before), "after": obj(after), "op": op,
                           "ts_ms": int(time.time() * 1000), "source": self.source},
                          separators=(",", ":")).encode()

    def write(self, ops: list[int], rows: list[tuple]) -> None:
        produce, poll = self.producer.produce, self.producer.poll
        for key, value in self._messages(ops, rows):
            while True:
                try:
                    produce(self.topic, value=value, key=key)
                    break
                except BufferError:  # the producer's queue is full: wait for room
                    poll(0.1)
        poll(0)

    def flush(self) -> None:
        while self.producer.flush(1.0) > 0:
            pass  # still retrying; errors reach sys.sinks through the error callback
        if self.failed:
            first, n = self.failed[0], len(self.failed)
            self.failed = []
            raise SinkDeliveryError(f"kafka sink: {n} messages not delivered: {first}")

    def close(self) -> None:
        self.producer.poll(0)  # unflushed messages belong to uncommitted epochs: replayed


register(Sink("kafka", _validate, KafkaWriter))
