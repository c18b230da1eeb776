"""Bounded exchanges between actors, and the dispatcher that routes an actor's
output to the actors of the next fragments.

A Channel's capacity is counted in rows. A chunk is accepted while the channel
holds fewer rows than its capacity (a single chunk larger than the capacity
still passes when the channel is empty); otherwise the sender waits. That wait
is backpressure: it stops the sending actor, which stops reading its own input,
and so on up to the sources. Barriers and watermarks never wait for room; a
watermark sent right behind a queued one of the same column replaces it (the
later promise holds the earlier), so watermarks cannot pile up between chunks.
"""

from __future__ import annotations

import asyncio
import collections
import time
from dataclasses import dataclass, field
from typing import Any, AsyncIterator

from executor.align import WatermarkMin
from executor.message import (DELETE, INSERT, UPDATE_DELETE, UPDATE_INSERT, Barrier, Chunk,
                              Message, Watermark)
from executor.metrics import BLOCKED, BUSY, IDLE, ActorMetrics
from storage.state_table import stable_hash


class ChannelClosed(Exception):
    pass


class Channel:
    __slots__ = ("capacity", "rows", "_queue", "_readable", "_writable", "closed",
                 "blocked_ns", "rows_sent", "rx", "tx")

    def __init__(self, capacity: int = 2048) -> None:
        self.capacity = capacity
        self.rows = 0
        self._queue: collections.deque[Any] = collections.deque()
        self._readable: asyncio.Future | None = None
        self._writable: asyncio.Future | None = None
        self.closed = False
        self.blocked_ns = 0  # total time senders waited for room (backpressure)
        self.rows_sent = 0
        # Clocks of the receiving and sending actors (None: not an actor, or metrics off).
        self.rx: ActorMetrics | None = None
        self.tx: ActorMetrics | None = None

    async def send(self, msg: Any) -> None:
        if self.closed:
            return
        if isinstance(msg, Chunk):
            n = len(msg.rows)
            if self.rows and self.rows + n > self.capacity:
                t0 = time.perf_counter_ns()
                tx = self.tx
                prev = tx.switch(BLOCKED) if tx is not None else 0
                while self.rows and self.rows + n > self.capacity and not self.closed:
                    self._writable = asyncio.get_running_loop().create_future()
                    await self._writable
                if tx is not None:
                    tx.switch(prev)
                self.blocked_ns += time.perf_counter_ns() - t0
                if self.closed:
                    return
            self.rows += n
            self.rows_sent += n
        elif type(msg) is Watermark and self._replace_watermark(msg):
            return
        self._queue.append(msg)
        if self._readable is not None and not self._readable.done():
            self._readable.set_result(None)

    def _replace_watermark(self, wm: Watermark) -> bool:
        """Put `wm` in place of a watermark of its column queued last, if it is not
        behind it (the reader is already woken for the queued one)."""
        if not self._queue:
            return False
        last = self._queue[-1]
        if (type(last) is Watermark and last.column == wm.column and last.value is not None
                and wm.value is not None and not wm.value < last.value):
            self._queue[-1] = wm
            return True
        return False

    def send_nowait(self, msg: Any) -> None:
        """For control messages (barriers) and injections that must not block."""
        if self.closed:
            return
        if isinstance(msg, Chunk):
            self.rows += len(msg.rows)
            self.rows_sent += len(msg.rows)
        self._queue.append(msg)
        if self._readable is not None and not self._readable.done():
            self._readable.set_result(None)

    async def recv(self) -> Any:
        if not self._queue:
            rx = self.rx
            if rx is not None:
                rx.idle_enter()
            try:
                while not self._queue:
                    if self.closed:
                        raise ChannelClosed
                    self._readable = asyncio.get_running_loop().create_future()
                    await self._readable
            finally:
                if rx is not None:
                    rx.idle_exit()
        return self.take()

    def take(self) -> Any:
        """The next queued message (the queue must not be empty)."""
        msg = self._queue.popleft()
        rx = self.rx
        if rx is not None and rx.mode == IDLE:
            # An actor reading several inputs at once (a join) may still be waiting
            # on another one: a message taken here gives it work all the same.
            rx.switch(BUSY)
        if isinstance(msg, Chunk):
            n = len(msg.rows)
            self.rows -= n
            if rx is not None:
                rx.rows_in += n
            if self._writable is not None and not self._writable.done() and (
                    self.rows + 0 < self.capacity):
                self._writable.set_result(None)
        return msg

    def close(self) -> None:
        self.closed = True
        self._queue.clear()
        self.rows = 0
        for fut in (self._readable, self._writable):
            if fut is not None and not fut.done():
                fut.set_result(None)

    async def __aiter__(self) -> AsyncIterator[Message]:  # type: ignore[override]
        try:
            while True:
                yield await self.recv()
        except ChannelClosed:
            return


@dataclass
class Edge:
    """Routes an actor's output to one downstream fragment's actors."""

    channels: list[Channel]
    keys: tuple[int, ...] = ()
    target: Any = None  # what the edge feeds (for removal and metrics)
    feeder: asyncio.Task | None = None  # snapshot still being sent into this edge


@dataclass
class Dispatcher:
    edges: list[Edge] = field(default_factory=list)

    async def dispatch(self, msg: Message) -> None:
        for edge in list(self.edges):
            if edge.feeder is not None:
                await edge.feeder
                edge.feeder = None
            chans = edge.channels
            if isinstance(msg, Chunk) and len(chans) > 1:
                for i, part in enumerate(split(msg, edge.keys, len(chans))):
                    if part is not None:
                        await chans[i].send(part)
            else:
                for ch in chans:
                    await ch.send(msg)

    def remove_target(self, target: Any) -> None:
        keep = []
        for e in self.edges:
            if e.target is target:
                # Closed channels make a backfill feeder still running finish at once;
                # it is not cancelled, since the upstream actor may be awaiting it.
                for ch in e.channels:
                    ch.close()
            else:
                keep.append(e)
        self.edges = keep


def split(chunk: Chunk, keys: tuple[int, ...], n: int) -> list[Chunk | None]:
    """Partition a chunk by a stable hash of the key columns. A U-/U+ pair whose halves
    hash apart becomes a Delete on one side and an Insert on the other."""
    ops_by: list[list[int]] = [[] for _ in range(n)]
    rows_by: list[list[tuple]] = [[] for _ in range(n)]
    prev, prev_op = -1, INSERT
    for op, row in zip(chunk.ops, chunk.rows):
        i = stable_hash(tuple(row[k] for k in keys)) % 256 % n
        if op == UPDATE_INSERT and prev_op == UPDATE_DELETE and i != prev:
            # The update moved its row to another actor: each half becomes a plain
            # change there, so no actor receives half a pair.
            ops_by[prev][-1] = DELETE
            op = INSERT
        ops_by[i].append(op)
        rows_by[i].append(row)
        prev, prev_op = i, op
    return [Chunk(o, r) if r else None for o, r in zip(ops_by, rows_by)]


def owner_of_vnode(vnode: int, n: int) -> int:
    """The actor (of n) that owns a vnode: must agree with `split`."""
    return vnode % n


async def merge(channels: list[Channel]) -> AsyncIterator[Message]:
    """One input stream from several upstream actors, barriers aligned: after a
    barrier arrives on one channel, that channel is not read until the barrier
    arrived on all. A watermark goes on as the minimum over the upstream actors
    (`WatermarkMin`). Channels are read in turn without a task per message; while
    none has a message the actor waits on one future they all wake (idle time)."""
    if len(channels) == 1:
        async for msg in channels[0]:
            yield msg
        return
    n = len(channels)
    rx = channels[0].rx
    blocked: dict[int, Barrier] = {}
    wms = WatermarkMin(n)  # each upstream actor's watermarks, forwarded as their minimum
    while True:
        progressed = False
        for i in range(n):
            ch = channels[i]
            if i in blocked or not ch._queue:
                continue
            msg = ch.take()
            progressed = True
            if isinstance(msg, Barrier):
                blocked[i] = msg
            elif isinstance(msg, Watermark):
                wm = wms.update(i, msg)
                if wm is not None:
                    yield wm
            else:
                yield msg
        open_ = [i for i in range(n) if not (channels[i].closed and not channels[i]._queue)]
        if len(open_) + len(wms.ended) < n:  # an upstream went away: it holds nothing back
            for i in range(n):
                if i not in open_ and i not in wms.ended:
                    for wm in wms.finish(i):
                        yield wm
        if blocked and all(i in blocked for i in open_):
            barrier = next(iter(blocked.values()))
            for b in blocked.values():
                if b.epoch != barrier.epoch:
                    raise RuntimeError(
                        f"barrier misalignment: epoch {b.epoch} vs {barrier.epoch}")
            blocked.clear()
            yield barrier
            continue
        if progressed:
            continue
        if not open_:
            return
        fut = asyncio.get_running_loop().create_future()
        for i in open_:
            if i not in blocked:
                channels[i]._readable = fut
        if rx is not None:
            rx.idle_enter()
        try:
            await fut
        finally:
            if rx is not None:
                rx.idle_exit()


__all__ = ["Channel", "Edge", "Dispatcher", "split", "merge", "Barrier"]
