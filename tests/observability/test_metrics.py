"""The actor clock: busy / idle / backpressured time measured by the channels."""

from __future__ import annotations

import asyncio
import time

from executor.exchange import Channel, merge
from executor.message import Barrier, BarrierKind, Chunk
from executor.metrics import BLOCKED, BUSY, IDLE, ActorMetrics


def test_switch_splits_wall_time_by_mode() -> None:
    m = ActorMetrics(1, 1, 0, window_s=10)
    time.sleep(0.05)  # busy
    m.switch(IDLE)
    time.sleep(0.10)
    m.switch(BLOCKED)
    time.sleep(0.05)
    m.switch(BUSY)
    f = m.figures()
    assert 0.15 < f.busy_ratio < 0.35
    assert 0.4 < f.idle_ratio < 0.6
    assert 0.15 < f.backpressure_ratio < 0.35
    assert abs(f.busy_ratio + f.idle_ratio + f.backpressure_ratio - 1) < 1e-9


def test_open_interval_counts_while_still_waiting() -> None:
    m = ActorMetrics(1, 1, 0)
    m.switch(BLOCKED)
    time.sleep(0.1)
    assert m.figures().backpressure_ratio > 0.9


def test_full_channel_blocks_the_sender_and_empty_one_idles_the_receiver() -> None:
    async def run() -> tuple[float, float, int]:
        tx, rx = ActorMetrics(1, 1, 0), ActorMetrics(2, 1, 1)
        ch = Channel(capacity=10)
        ch.tx, ch.rx = tx, rx

        async def sender() -> None:
            for i in range(4):
                await ch.send(Chunk.inserts([(i,)] * 10))

        async def receiver() -> None:
            await asyncio.sleep(0.1)  # the sender fills the channel and waits
            for _ in range(4):
                await ch.recv()
                await asyncio.sleep(0.02)
            await asyncio.wait_for(ch.recv(), 0.1)  # nothing comes: idle

        task = asyncio.ensure_future(receiver())
        await sender()
        bp = tx.figures().backpressure_ratio
        try:
            await task
        except asyncio.TimeoutError:
            pass
        return bp, rx.figures().idle_ratio, rx.rows_in

    bp, idle, rows_in = asyncio.run(run())
    assert bp > 0.6
    assert idle > 0.3
    assert rows_in == 40


def test_merge_aligns_barriers_and_keeps_each_channel_in_order() -> None:
    async def run() -> list:
        a, b = Channel(), Channel()
        rx = ActorMetrics(3, 1, 1)
        a.rx = b.rx = rx
        bar = Barrier(2, 1, BarrierKind.CHECKPOINT)
        for ch, tag in ((a, "a"), (b, "b")):
            await ch.send(Chunk.inserts([(tag, 1)]))
        a.send_nowait(bar)
        await a.send(Chunk.inserts([("a", 2)]))  # after the barrier on a
        out: list = []

        async def late() -> None:
            await asyncio.sleep(0.05)
            await b.send(Chunk.inserts([("b", 2)]))
            b.send_nowait(bar)
            await asyncio.sleep(0.02)
            a.close()
            b.close()

        t = asyncio.ensure_future(late())
        async for msg in merge([a, b]):
            out.append(msg if isinstance(msg, Barrier) else msg.rows[0])
        await t
        return out + [rx.figures().idle_ratio]

    out = asyncio.run(run())
    *msgs, idle = out
    bar = msgs.index(next(m for m in msgs if isinstance(m, Barrier)))
    assert sorted(msgs[:bar]) == [("a", 1), ("b", 1), ("b", 2)]
    assert msgs[bar + 1:] == [("a", 2)]
    assert idle > 0.3
