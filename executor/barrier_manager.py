"""The barrier manager: injects barriers into every source on a timer, collects
them from every sink (materialize actor), and commits completed epochs in order.

An epoch is complete when every sink expected for it has passed its barrier;
since every stateful operator stages its state before forwarding a barrier, by
then all state of the epoch is staged. Commit order: checkpoint store (one
SQLite transaction), then the serving store, then FLUSH waiters. Epochs that
completed while an earlier commit ran are committed together, in one commit of
the newest (a commit writes everything staged up to its epoch).

At most `max_inflight` barriers are in flight (injected, not yet committed), as
RisingWave's `in_flight_barrier_nums`: when commits or the graph are slower than
the interval, the timer waits for room instead of queueing barriers behind
barriers, so the latency of a barrier stays bounded. A FLUSH at the cap asks for
the next barrier to be a checkpoint, injected as soon as a commit makes room.
"""

from __future__ import annotations

import asyncio
import collections
import logging
import time
from dataclasses import dataclass, field
from typing import Any, Awaitable, Callable

from executor.message import Barrier, BarrierKind

log = logging.getLogger("sqlstream.barrier")

DEFAULT_MAX_INFLIGHT = 4  # the `max_inflight_barriers` setting's default


@dataclass
class EpochRecord:
    epoch: int
    kind: str
    injected_at: float
    expected: set[int]
    collected: set[int] = field(default_factory=set)
    collected_at: float | None = None
    committed_at: float | None = None
    done: asyncio.Future | None = None

    @property
    def latency_ms(self) -> float | None:
        if self.committed_at is None:
            return None
        return (self.committed_at - self.injected_at) * 1000.0


class BarrierManager:
    def __init__(self, commit: Callable[[int], Awaitable[None]], start_epoch: int,
                 interval_ms: int = 1000, checkpoint_frequency: int = 1,
                 max_inflight: int = DEFAULT_MAX_INFLIGHT) -> None:
        self.commit = commit
        self.epoch = start_epoch
        self.interval_ms = interval_ms
        self.checkpoint_frequency = max(1, checkpoint_frequency)
        self.sources: dict[Any, Any] = {}  # key -> Channel (injection point)
        # Sources in the middle of one statement's rows: their barriers wait here so
        # that a statement never straddles two epochs (reads see all of it or none).
        self._held: dict[Any, list[Barrier]] = {}
        self.sinks: dict[int, int] = {}  # actor id -> first epoch it must report
        self.inflight: dict[int, EpochRecord] = {}
        self.history: collections.deque[EpochRecord] = collections.deque(maxlen=1000)
        self.failure: BaseException | None = None
        self._count = 0
        self.max_inflight = max(1, max_inflight)
        self._wake = asyncio.Event()
        self._room = asyncio.Event()  # set when a commit made room for a barrier
        # FLUSHes that found no room: the next barrier injected is their checkpoint.
        self._flush_request: asyncio.Future | None = None
        self._tasks: list[asyncio.Task] = []
        self.paused = False
        self.on_failure: Callable[[], None] | None = None

    def start(self) -> None:
        self._tasks = [asyncio.ensure_future(self._ticker()),
                       asyncio.ensure_future(self._committer())]

    async def stop(self) -> None:
        for t in self._tasks:
            t.cancel()
        if self._tasks:
            await asyncio.wait(self._tasks, timeout=5)

    # ------------------------------------------------------------ registration
    def add_source(self, key: Any, channel: Any) -> None:
        self.sources[key] = channel

    def remove_source(self, key: Any) -> None:
        self.sources.pop(key, None)
        self._held.pop(key, None)

    def hold(self, key: Any) -> None:
        """Keep barriers out of a source until `release` (one statement's rows go in)."""
        self._held.setdefault(key, [])

    def release(self, key: Any) -> None:
        """Send the barriers held back from a source, in order, behind its rows."""
        ch = self.sources.get(key)
        for barrier in self._held.pop(key, []):
            if ch is not None:
                ch.send_nowait(barrier)

    def add_sink(self, actor_id: int) -> None:
        # Barriers already injected may reach it, but it is only waited for from the
        # next one on (its state before that is written by that epoch's commit).
        self.sinks[actor_id] = self.epoch + 1

    def remove_sinks(self, actor_ids: list[int]) -> None:
        for a in actor_ids:
            self.sinks.pop(a, None)
        for rec in self.inflight.values():
            rec.expected.difference_update(actor_ids)
        self._wake.set()

    # ------------------------------------------------------------ barriers
    def inject(self, checkpoint: bool | None = None) -> EpochRecord:
        prev = self.epoch
        self.epoch += 1
        self._count += 1
        is_cp = checkpoint if checkpoint is not None else (
            self._flush_request is not None or self._count % self.checkpoint_frequency == 0)
        kind = BarrierKind.CHECKPOINT if is_cp else BarrierKind.BARRIER
        rec = EpochRecord(self.epoch, kind.value, time.time(),
                          {a for a, first in self.sinks.items() if first <= self.epoch},
                          done=asyncio.get_running_loop().create_future())
        self.inflight[self.epoch] = rec
        self.history.append(rec)
        barrier = Barrier(self.epoch, prev, kind)
        for key, ch in list(self.sources.items()):
            held = self._held.get(key)
            if held is not None:
                held.append(barrier)
            else:
                ch.send_nowait(barrier)
        self._wake.set()
        request = self._flush_request
        if is_cp and request is not None:
            self._flush_request = None
            if not request.done():
                request.set_result(rec)
        return rec

    @property
    def full(self) -> bool:
        """As many barriers in flight as allowed: the next one waits for a commit."""
        return len(self.inflight) >= self.max_inflight

    def collect(self, actor_id: int, epoch: int) -> None:
        rec = self.inflight.get(epoch)
        if rec is None or actor_id not in rec.expected:
            return
        rec.collected.add(actor_id)
        if len(rec.collected) >= len(rec.expected):
            rec.collected_at = time.time()
            self._wake.set()

    async def flush(self) -> int:
        """Inject a checkpoint barrier and wait until its epoch is committed. At the
        in-flight cap, the checkpoint is the next barrier injected (when a commit
        makes room); FLUSHes waiting at once share it."""
        if self.failure is not None:
            raise self.failure
        if self.full:
            if self._flush_request is None:
                self._flush_request = asyncio.get_running_loop().create_future()
            rec = await asyncio.shield(self._flush_request)
        else:
            rec = self.inject(checkpoint=True)  # serves a FLUSH still waiting, too
        assert rec.done is not None
        await asyncio.shield(rec.done)
        return rec.epoch

    def fail(self, exc: BaseException) -> None:
        """An actor died: nothing can commit any more; waiters get the error."""
        if self.failure is None:
            self.failure = exc
            log.error("stream actor failed: %r", exc)
            if self.on_failure is not None:
                self.on_failure()
        waiting = [rec.done for rec in self.inflight.values()] + [self._flush_request]
        self._flush_request = None
        for fut in waiting:
            if fut is not None and not fut.done():
                fut.set_exception(exc)
                fut.exception()  # mark retrieved
        self._room.set()  # a ticker waiting for room stops waiting

    # ------------------------------------------------------------ loops
    async def _ticker(self) -> None:
        while True:
            await asyncio.sleep(self.interval_ms / 1000.0)
            while self.full and self.failure is None:  # wait for room, do not queue
                self._room.clear()
                await self._room.wait()
            if not self.paused and self.failure is None:
                self.inject()

    def _complete(self) -> list[EpochRecord]:
        """The oldest in-flight epochs, in order, as far as all their sinks reported."""
        out = []
        for rec in self.inflight.values():
            if not rec.expected <= rec.collected:
                break
            out.append(rec)
        return out

    async def _committer(self) -> None:
        while True:
            await self._wake.wait()
            self._wake.clear()
            while self.failure is None:
                ready = self._complete()
                if not ready:
                    break
                checkpoints = [r for r in ready if r.kind == BarrierKind.CHECKPOINT.value]
                if checkpoints:
                    try:  # one commit of the newest covers the older ones
                        await self.commit(checkpoints[-1].epoch)
                    except asyncio.CancelledError:
                        raise
                    except BaseException as exc:  # storage failure: stop committing
                        self.fail(exc)
                        break
                now = time.time()
                for rec in ready:
                    del self.inflight[rec.epoch]
                    if rec.collected_at is None:
                        rec.collected_at = now
                    rec.committed_at = now
                    if rec.done is not None and not rec.done.done():
                        rec.done.set_result(rec.epoch)
                self._room.set()
                if self._flush_request is not None and not self.full:
                    self.inject(checkpoint=True)  # a FLUSH waited for this room
