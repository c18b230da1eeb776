"""The barrier manager: injects barriers into every source on a timer, collects
them from every sink (materialize actor), and commits completed epochs in order.

An epoch is complete when every sink expected for it has passed its barrier;
since every stateful operator stages its state before forwarding a barrier, by
then all state of the epoch is staged. Commit order: checkpoint store (one
SQLite transaction), then the serving store, then FLUSH waiters.
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
                 interval_ms: int = 1000, checkpoint_frequency: int = 1) -> None:
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
        self._wake = asyncio.Event()
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
            self._count % self.checkpoint_frequency == 0)
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
        return rec

    def collect(self, actor_id: int, epoch: int) -> None:
        rec = self.inflight.get(epoch)
        if rec is None or actor_id not in rec.expected:
            return
        rec.collected.add(actor_id)
        if len(rec.collected) >= len(rec.expected):
            self._wake.set()

    async def flush(self) -> int:
        """Inject a checkpoint barrier and wait until its epoch is committed."""
        if self.failure is not None:
            raise self.failure
        rec = self.inject(checkpoint=True)
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
        for rec in self.inflight.values():
            if rec.done is not None and not rec.done.done():
                rec.done.set_exception(exc)
                rec.done.exception()  # mark retrieved

    # ------------------------------------------------------------ loops
    async def _ticker(self) -> None:
        while True:
            await asyncio.sleep(self.interval_ms / 1000.0)
            if not self.paused and self.failure is None:
                self.inject()

    async def _committer(self) -> None:
        while True:
            await self._wake.wait()
            self._wake.clear()
            while self.inflight and self.failure is None:
                epoch = next(iter(self.inflight))
                rec = self.inflight[epoch]
                if not rec.expected <= rec.collected:
                    break
                rec.collected_at = time.time()
                if rec.kind == BarrierKind.CHECKPOINT.value:
                    try:
                        await self.commit(epoch)
                    except asyncio.CancelledError:
                        raise
                    except BaseException as exc:  # storage failure: stop committing
                        self.fail(exc)
                        break
                del self.inflight[epoch]
                rec.committed_at = time.time()
                if rec.done is not None and not rec.done.done():
                    rec.done.set_result(epoch)
