"""SourceReader: the entry of a connector's rows into a stream graph.

It is a barrier source: the barrier manager injects barriers into its inbox.
Between barriers it asks its connector for chunks and yields them; a full
output channel blocks the yield (backpressure), so the connector is simply not
asked for more. On a checkpoint barrier it stages its connector's position (and
its row count) with the epoch, after every row it yielded before the barrier:
recovery restores that position, so each row reaches the views exactly once.

Under a rate limit, rows due within `COALESCE_S` go out as one chunk (a
one-row chunk per due row would flood the graph with messages).

With a `WATERMARK FOR col AS col - delay`, rows older than the current
watermark are dropped as late, and a `Watermark(col, max - delay)` follows each
chunk that moved it forward. The readers of one scan (one per actor) each emit
their own; exchanges downstream forward the minimum. A reader that will never
hand out another row (it finished, or owns no split) would hold that minimum
back for good, so at each barrier it catches up with the highest watermark of
its scan's other readers: a promise about rows it will never produce.
"""

from __future__ import annotations

import asyncio
import collections
import datetime as dt
import json
import os
import time
import weakref
from typing import Any, AsyncIterator, Protocol

from executor.connectors import SourceMetrics, SourceSpec, connector
from executor.connectors.base import ConnectorReader
from executor.message import Barrier, Chunk, Message, Watermark


RATE_WINDOW_S = 10  # seconds over which a reader's rows_per_second is measured
# Under a rate limit, rows are read once about this long's worth is due (at most a
# chunk): one chunk and one watermark per few milliseconds instead of per row.
COALESCE_S = 0.02


class OffsetStore(Protocol):
    def stage_offset(self, epoch: int, source: str, value: str) -> None: ...

    async def load_offsets(self) -> dict[str, str]: ...


class ControlInbox:
    """Where the barrier manager puts barriers for a source reader (never blocks)."""

    def __init__(self) -> None:
        self.queue: collections.deque[Any] = collections.deque()
        self.event = asyncio.Event()

    def send_nowait(self, msg: Any) -> None:
        self.queue.append(msg)
        self.event.set()

    async def wait(self, timeout: float | None) -> None:
        """Until a message arrives, or `timeout` seconds pass."""
        if self.queue:
            return
        self.event.clear()
        if timeout is None:
            await self.event.wait()
            return
        try:
            await asyncio.wait_for(self.event.wait(), timeout)
        except TimeoutError:
            pass


class SourceReader:
    def __init__(self, name: str, key: str, reader: ConnectorReader, metrics: SourceMetrics,
                 store: OffsetStore | None, chunk_size: int = 1024,
                 rate_limit: int | None = None, watermark: tuple[int, int] | None = None,
                 row_id: bool = False) -> None:
        self.name = name
        self.key = key  # offset key in the checkpoint store
        self.reader = reader
        self.metrics = metrics
        self.store = store
        self.chunk_size = chunk_size
        self.inbox = ControlInbox()
        self.watermark_col = watermark[0] if watermark else None
        self.watermark_delay = dt.timedelta(microseconds=watermark[1]) if watermark else None
        self.current_watermark: Any = None
        self.row_id = row_id  # append a hidden row id (a table with a connector)
        self.emitted = 0
        self.started = time.time()
        self._rate_limit = rate_limit
        self._window_start = time.monotonic()
        self._window_rows = 0
        # (monotonic time, rows emitted) about once a second, for rows_per_second.
        self._samples: collections.deque[tuple[float, int]] = collections.deque()
        # The readers of the same scan (every actor's), for an idle reader's watermark.
        self.group: weakref.WeakSet[SourceReader] = weakref.WeakSet([self])
        self._scan: Any = None  # keeps the scan's group alive

    # ------------------------------------------------------------ metrics
    @property
    def rows_read(self) -> int:
        return self.metrics.rows_read

    @property
    def parse_errors(self) -> int:
        return self.metrics.parse_errors

    @property
    def last_error(self) -> str | None:
        return self.metrics.last_error

    @property
    def late_rows(self) -> int:
        return self.metrics.late_rows

    @property
    def matched_files(self) -> int | None:
        """Files this reader found to read (a file connector), None for others."""
        files = getattr(self.reader, "files", None)
        return len(files) if isinstance(files, dict) else None

    @property
    def rows_per_second(self) -> float:
        return self.rate_over(RATE_WINDOW_S)

    def rate_over(self, window_s: float) -> float:
        """Rows handed out per second over about the last `window_s` seconds."""
        now = time.monotonic()
        samples = self._samples
        i = 0
        while i + 1 < len(samples) and now - samples[i + 1][0] >= window_s:
            i += 1
        t0, n0 = samples[i] if samples else (now, self.emitted)
        if now - t0 < 1e-3:
            return 0.0
        return (self.emitted - n0) / (now - t0)

    @property
    def lag(self) -> int | None:
        """Rows waiting to be read: what the connector still holds for this reader
        (a bounded generator's rest, an estimate of the unread lines of files); for
        an unbounded generator under a rate, the rows the rate asked for and not yet
        produced; None when unknowable (an unbounded generator read as fast as the
        graph takes it)."""
        held = self.reader.backlog()
        if held is None and isinstance(getattr(self.reader, "files", None), dict):
            held = files_backlog(self.reader)
        return held if held is not None else self._asked_lag()

    def _asked_lag(self) -> int | None:
        rate = self._rate()
        if not rate or self.reader.idle:
            return None
        # Rows dropped as late were produced all the same: they are no lag.
        produced = self.emitted + self.metrics.late_rows
        return max(0, int(rate * (time.time() - self.started)) - produced)

    @property
    def rate_limit(self) -> int | None:
        return self._rate_limit

    @rate_limit.setter
    def rate_limit(self, value: int | None) -> None:
        """`ALTER SOURCE ... SET source_rate_limit`: takes effect at the next chunk."""
        self._rate_limit = value
        self._window_start = time.monotonic()
        self._window_rows = 0
        self.inbox.event.set()  # wake a reader sleeping on the old rate

    def _rate(self) -> float | None:
        rates = [r for r in (self._rate_limit, self.reader.default_rate) if r is not None]
        return min(rates) if rates else None

    # ------------------------------------------------------------ run
    async def _restore(self) -> None:
        if self.store is None:
            return
        text = (await self.store.load_offsets()).get(self.key)
        if text:
            saved = json.loads(text)
            self.reader.restore(saved["position"])
            self.emitted = int(saved.get("rows", 0))
            self.metrics.rows_read = self.emitted
            self.metrics.late_rows = int(saved.get("late", 0))

    def _stage(self, epoch: int) -> None:
        if self.store is not None:
            self.store.stage_offset(epoch, self.key, json.dumps(
                {"position": self.reader.position(), "rows": self.emitted,
                 "late": self.metrics.late_rows}))

    async def execute(self) -> AsyncIterator[Message]:
        try:
            async for msg in self._execute():
                yield msg
        finally:
            self.reader.close()

    async def _execute(self) -> AsyncIterator[Message]:
        await self._restore()
        self._samples.append((time.monotonic(), self.emitted))
        inbox = self.inbox
        reader = self.reader
        while True:
            while inbox.queue:
                msg = inbox.queue.popleft()
                if isinstance(msg, Barrier):
                    if self.watermark_col is not None and reader.idle:
                        wm = self._idle_watermark()
                        if wm is not None:
                            yield wm
                    if msg.is_checkpoint:
                        self._stage(msg.epoch)
                yield msg
            if reader.finished:
                await inbox.wait(None)
                continue
            rate = self._rate()
            max_rows = self.chunk_size
            if rate is not None:
                if rate <= 0:
                    await inbox.wait(None)  # paused until the limit is raised
                    continue
                elapsed = time.monotonic() - self._window_start
                allowed = rate * elapsed - self._window_rows
                batch = max(1.0, min(float(max_rows), rate * COALESCE_S))
                if allowed < batch:  # a barrier still wakes the reader at once
                    await inbox.wait((batch - allowed) / rate)
                    continue
                max_rows = max(1, min(max_rows, int(allowed)))
            ops = None
            if reader.changes:
                ops, rows = reader.read_ops(max_rows)
            else:
                rows = reader.read(max_rows)
            if not rows:
                if not reader.finished:
                    await inbox.wait(reader.poll_interval)
                continue
            self._window_rows += len(rows)
            wm = None
            if self.watermark_col is not None:
                rows, wm = self._watermark(rows)
            if self.row_id:
                base = self.emitted
                rows = [r + (-(base + i + 1),) for i, r in enumerate(rows)]
            self.emitted += len(rows)
            self.metrics.rows_read = self.emitted
            now = time.monotonic()
            if not self._samples or now - self._samples[-1][0] >= 1.0:
                self._samples.append((now, self.emitted))
                if len(self._samples) > 64:  # windows up to a minute
                    self._samples.popleft()
            if rows:
                yield Chunk.inserts(rows) if ops is None else Chunk(list(ops), rows)
            if wm is not None:
                yield wm
            await asyncio.sleep(0)  # let barriers and downstream actors in

    def _idle_watermark(self) -> Watermark | None:
        values = [r.current_watermark for r in self.group if r.current_watermark is not None]
        if not values:
            return None
        top = max(values)
        if self.current_watermark is not None and not top > self.current_watermark:
            return None
        self.current_watermark = top
        assert self.watermark_col is not None
        return Watermark(self.watermark_col, top)

    def _watermark(self, rows: list[tuple]) -> tuple[list[tuple], Watermark | None]:
        col = self.watermark_col
        assert col is not None and self.watermark_delay is not None
        cur = self.current_watermark
        if cur is not None:
            n = len(rows)
            rows = [r for r in rows if r[col] is not None and r[col] >= cur]
            self.metrics.late_rows += n - len(rows)
        values = [r[col] for r in rows if r[col] is not None]
        if not values:
            return rows, None
        new = max(values) - self.watermark_delay
        if cur is None or new > cur:
            self.current_watermark = new
            return rows, Watermark(col, new)
        return rows, None


def files_backlog(reader: Any) -> int | None:
    """Unread lines of a files reader, estimated: unread bytes of the files it owns
    over the bytes per line read so far (None before its first line)."""
    root = getattr(reader, "root", "")
    read_bytes = read_lines = unread = 0
    for name, (offset, lines) in list(reader.files.items()):
        read_bytes += offset
        read_lines += lines
        try:
            unread += max(0, os.path.getsize(os.path.join(root, name)) - offset)
        except OSError:
            continue
    if unread == 0:
        return 0
    if read_lines == 0:
        return None
    return max(1, round(unread * read_lines / read_bytes))


def open_reader(name: str, key: str, params: dict[str, Any], actor_index: int,
                parallelism: int, store: OffsetStore | None, chunk_size: int,
                row_id: bool = False) -> SourceReader:
    """A SourceReader for one actor of a source described by plan params (see
    `planner.stream_plan`: connector options, columns, the columns to produce, encode,
    watermark: its position among the columns produced)."""
    metrics = SourceMetrics()
    options = params["options"]
    output = params.get("output")
    spec = SourceSpec(options, list(params["columns"]), params.get("encode"),
                      dict(params.get("encode_options") or {}), actor_index, parallelism,
                      metrics, None if output is None else list(output), params.get("format"),
                      list(params.get("primary_key") or []))
    conn = connector(options.get("connector", ""))
    reader = conn.open(spec)
    limit = options.get("source_rate_limit")
    wm = params.get("watermark")
    src = SourceReader(name, key, reader, metrics, store, chunk_size,
                       int(limit) if limit not in (None, "") else None,
                       (int(wm[0]), int(wm[1])) if wm else None, row_id)
    # Readers of one scan share a key up to the actor suffix "/a<i>of<n>".
    scan = (id(store), key.rsplit("/a", 1)[0], parallelism)
    group = _GROUPS.get(scan)
    if group is None:
        group = _GROUPS[scan] = _Group()
    group.readers.add(src)
    src.group, src._scan = group.readers, group
    return src


class _Group:
    """The readers of one scan; alive while any of them is."""

    def __init__(self) -> None:
        self.readers: weakref.WeakSet[SourceReader] = weakref.WeakSet()


_GROUPS: weakref.WeakValueDictionary[tuple, _Group] = weakref.WeakValueDictionary()
