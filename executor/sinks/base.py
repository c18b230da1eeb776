"""What every sink provides, the registry of sinks by name, and the operator that
drives one at the root of a sink's graph.

A sink validates its options at CREATE SINK (errors name the option) and opens
one writer per actor. The operator hands each chunk's changes to the writer as
they come (`write`) and, at a checkpoint barrier, waits until the writer has
delivered everything so far (`flush`) before it forwards the barrier: the epoch
commits only once its rows are at the target, so a crash replays at most the
rows of uncommitted epochs (at-least-once). `commit(epoch)` tells the writer the
epoch committed. A writer whose calls block (network) runs them in a worker
thread; that time is counted as external calls, so a slow target shows up in
`sys.bottlenecks`, and the wait is the backpressure a slow target applies.
"""

from __future__ import annotations

import asyncio
import collections
import datetime as dt
import decimal
import json
import time
from dataclasses import dataclass, field
from typing import Any, AsyncIterator, Callable

from executor.message import DELETE, UPDATE_DELETE, Barrier, Chunk, Message
from planner import types as T
from planner.errors import INVALID_PARAMETER, ProgrammingError

RATE_WINDOW_S = 10


@dataclass
class SinkSpec:
    """Everything a sink needs to validate its options and open a writer."""

    name: str
    options: dict[str, str]
    columns: list[tuple[str, T.DataType]]
    format: str | None = None  # PLAIN | UPSERT
    encode: str | None = None  # JSON
    encode_options: dict[str, str] = field(default_factory=dict)
    append_only: bool = True  # whether only inserts can reach the sink
    actor_index: int = 0
    parallelism: int = 1


class SinkWriter:
    """One actor's connection to the target. `write` and `flush` may block (they
    run in a worker thread when `blocking`); `commit` must not."""

    blocking = True
    # Whether it writes inserts only (then `force_append_only` drops deletes first).
    inserts_only = False

    def write(self, ops: list[int], rows: list[tuple]) -> None:
        raise NotImplementedError

    def flush(self) -> None:
        """Return once every row written so far is delivered."""

    def commit(self, epoch: int) -> None:
        """The epoch whose rows were flushed has committed."""

    def close(self) -> None:
        """Release the connection (the sink's actor stopped)."""


@dataclass
class Sink:
    name: str
    validate: Callable[[SinkSpec], None]
    open: Callable[[SinkSpec, "SinkMetrics"], SinkWriter]


SINKS: dict[str, Sink] = {}


def register(sink: Sink) -> Sink:
    SINKS[sink.name] = sink
    return sink


def bad_option(name: str, message: str) -> ProgrammingError:
    return ProgrammingError(f'invalid option "{name}": {message}', INVALID_PARAMETER)


class SinkMetrics:
    """Counters of one sink writer, read by `sys.sinks`."""

    def __init__(self) -> None:
        self.rows_written = 0
        self.errors = 0
        self.last_error: str | None = None
        self.pending: collections.deque[int] = collections.deque()  # flushed, not committed
        self._samples: collections.deque[tuple[float, int]] = collections.deque()

    def error(self, message: str) -> None:
        self.errors += 1
        self.last_error = message

    def add_rows(self, n: int) -> None:
        self.rows_written += n
        now = time.monotonic()
        if not self._samples or now - self._samples[-1][0] >= 1.0:
            self._samples.append((now, self.rows_written))
            while len(self._samples) > RATE_WINDOW_S + 2:
                self._samples.popleft()

    @property
    def rows_per_second(self) -> float:
        now = time.monotonic()
        samples = [s for s in self._samples if now - s[0] <= RATE_WINDOW_S]
        if not samples:
            return 0.0
        t0, n0 = samples[0]
        return (self.rows_written - n0) / max(now - t0, 1.0)


class SinkExecutor:
    """The root operator of a sink's graph (see the module docstring)."""

    def __init__(self, writer: SinkWriter, metrics: SinkMetrics, force_append_only: bool,
                 actor_metrics: Any = None) -> None:
        self.writer = writer
        self.metrics = metrics
        self.force_append_only = force_append_only
        self.actor_metrics = actor_metrics

    async def _call(self, fn: Callable[..., None], *args: Any) -> None:
        if not self.writer.blocking:
            fn(*args)
            return
        t0 = time.perf_counter_ns()
        try:
            await asyncio.to_thread(fn, *args)
        finally:
            if self.actor_metrics is not None:
                self.actor_metrics.add_external(time.perf_counter_ns() - t0)

    def committed(self, epoch: int) -> None:
        pending = self.metrics.pending
        while pending and pending[0] <= epoch:
            self.writer.commit(pending.popleft())

    async def execute(self, input: AsyncIterator[Message]) -> AsyncIterator[Message]:
        try:
            async for msg in input:
                match msg:
                    case Chunk():
                        ops, rows = msg.ops, msg.rows
                        if self.force_append_only:
                            keep = [i for i, op in enumerate(ops)
                                    if op not in (DELETE, UPDATE_DELETE)]
                            ops = [0] * len(keep)  # inserts
                            rows = [rows[i] for i in keep]
                        if rows:
                            await self._call(self.writer.write, list(ops), rows)
                            self.metrics.add_rows(len(rows))
                        yield msg
                    case Barrier():
                        if msg.is_checkpoint:
                            await self._call(self.writer.flush)
                            self.metrics.pending.append(msg.epoch)
                        yield msg
                    case _:
                        yield msg
        finally:
            self.writer.close()


def json_value(v: Any) -> Any:
    """A value as JSON: numbers and booleans as themselves, numeric as its exact
    text, times and dates as ISO text (a space between date and time), intervals
    and the rest as their text."""
    if v is None or isinstance(v, (bool, int, float, str)):
        return v
    if isinstance(v, decimal.Decimal):
        return str(v)
    if isinstance(v, dt.datetime):
        return v.isoformat(sep=" ")
    if isinstance(v, (dt.date, dt.time)):
        return v.isoformat()
    if isinstance(v, (bytes, bytearray, memoryview)):
        return "\\x" + bytes(v).hex()
    if isinstance(v, (list, tuple)):
        return [json_value(x) for x in v]
    return str(v)


def row_json(names: list[str], row: tuple) -> bytes:
    return json.dumps({n: json_value(v) for n, v in zip(names, row)},
                      separators=(",", ":")).encode()
