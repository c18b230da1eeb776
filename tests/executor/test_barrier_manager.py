"""The barrier manager under commits slower than its interval: at most
`max_inflight` barriers are in flight (the timer waits for a commit instead of
queueing more), epochs that completed during a commit are committed together,
and a FLUSH at the cap gets the next barrier as its checkpoint without
deadlocking, also when the timer is paused."""

from __future__ import annotations

import asyncio
from typing import Awaitable, Callable, TypeVar

import pytest

from executor.barrier_manager import BarrierManager
from executor.message import Barrier

T = TypeVar("T")
SINK = 1


class Graph:
    """A stand-in for a stream graph: every barrier injected reaches the one sink
    `delay` seconds later; commits take `commit_s` seconds each."""

    def __init__(self, commit_s: float, delay: float = 0.0) -> None:
        self.commit_s = commit_s
        self.delay = delay
        self.commits: list[int] = []
        self.barriers: list[Barrier] = []
        self.bm: BarrierManager | None = None

    async def commit(self, epoch: int) -> None:
        await asyncio.sleep(self.commit_s)
        self.commits.append(epoch)

    def send_nowait(self, barrier: Barrier) -> None:  # the source's inbox
        self.barriers.append(barrier)
        assert self.bm is not None
        asyncio.get_running_loop().call_later(self.delay, self.bm.collect, SINK, barrier.epoch)

    def manager(self, interval_ms: int, max_inflight: int) -> BarrierManager:
        bm = BarrierManager(self.commit, 0, interval_ms, 1, max_inflight)
        bm.add_source("s", self)
        bm.add_sink(SINK)
        self.bm = bm
        return bm


def run(main: Callable[[], Awaitable[T]]) -> T:
    return asyncio.run(asyncio.wait_for(main(), 10))


def test_the_timer_waits_for_room_instead_of_queueing_barriers() -> None:
    graph = Graph(commit_s=0.05)

    async def main() -> int:
        bm = graph.manager(interval_ms=5, max_inflight=3)
        bm.start()
        most = 0
        for _ in range(300):  # 0.3 s: ten times as many ticks as commits
            await asyncio.sleep(0.001)
            most = max(most, len(bm.inflight))
        await bm.stop()
        return most

    most = run(main)
    assert most <= 3
    assert graph.commits == sorted(graph.commits) and len(graph.commits) >= 3


def test_epochs_complete_during_a_commit_are_committed_together() -> None:
    graph = Graph(commit_s=0.05)

    async def main() -> list[int]:
        bm = graph.manager(interval_ms=10_000, max_inflight=10)
        bm.start()
        first = asyncio.ensure_future(bm.flush())
        await asyncio.sleep(0.01)  # epoch 1 is committing; 2..4 complete meanwhile
        later = [asyncio.ensure_future(bm.flush()) for _ in range(3)]
        epochs = [await first] + [await f for f in later]
        await bm.stop()
        return epochs

    assert run(main) == [1, 2, 3, 4]
    assert graph.commits == [1, 4]  # one commit of the newest covers 2 and 3
    assert all(r.committed_at is not None for r in graph.bm.history)  # type: ignore[union-attr]


@pytest.mark.parametrize("paused", [False, True])
def test_a_flush_at_the_cap_gets_the_next_barrier_as_its_checkpoint(paused: bool) -> None:
    graph = Graph(commit_s=0.03, delay=0.02)

    async def main() -> tuple[list[int], int]:
        bm = graph.manager(interval_ms=1, max_inflight=2)
        bm.start()
        while not bm.full:
            await asyncio.sleep(0.001)
        bm.paused = paused  # paused (CREATE MATERIALIZED VIEW): only FLUSH injects
        before = bm.epoch  # barriers already injected do not carry later writes
        epochs = await asyncio.gather(*(bm.flush() for _ in range(3)))
        await bm.stop()
        return list(epochs), before

    epochs, before = run(main)
    assert len(set(epochs)) == 1 and epochs[0] > before  # the three FLUSHes share one
    assert max(graph.commits) >= epochs[0]  # committed (alone or with later epochs)
    assert graph.barriers[epochs[0] - 1].is_checkpoint


def test_a_flush_waiting_for_room_gets_the_failure() -> None:
    graph = Graph(commit_s=10)  # the first commit never ends in time

    async def main() -> None:
        bm = graph.manager(interval_ms=1, max_inflight=1)
        bm.start()
        while not bm.full:
            await asyncio.sleep(0.001)
        waiting = asyncio.ensure_future(bm.flush())
        await asyncio.sleep(0.01)
        bm.fail(RuntimeError("actor died"))
        with pytest.raises(RuntimeError, match="actor died"):
            await waiting
        await bm.stop()

    run(main)
