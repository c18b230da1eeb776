"""Fewer, fuller messages on the data path: a rate-limited reader hands out the
rows due within a few milliseconds as one chunk (not one chunk and one
watermark per row), and a watermark queued right behind another of its column
in an exchange replaces it."""

from __future__ import annotations

import asyncio
import time

from executor.connectors.nexmark import SCHEMAS
from executor.exchange import Channel
from executor.message import Barrier, Chunk, Message, Watermark
from executor.operators.source_reader import COALESCE_S, open_reader

RATE = 5000


def test_a_rate_limited_reader_batches_the_rows_due_into_one_chunk() -> None:
    params = {"options": {"connector": "nexmark", "nexmark.table.type": "Bid",
                          "nexmark.base.time.us": "0", "nexmark.min.event.gap.in.ns": "1000000",
                          "source_rate_limit": str(RATE)},
              "columns": SCHEMAS["bid"], "watermark": (5, 1_000_000)}
    reader = open_reader("bid", "source:r98/f0/o1/a0of1", params, 0, 1, None, 1024)

    async def main() -> tuple[list[Message], float]:
        out: list[Message] = []
        gen = reader.execute()
        t0 = time.monotonic()
        while time.monotonic() - t0 < 0.5:
            out.append(await anext(gen))
        reader.inbox.send_nowait(Barrier(2, 1))  # a barrier is not held up by a batch
        t1 = time.monotonic()
        while not isinstance(out[-1], Barrier):
            out.append(await anext(gen))
        return out, time.monotonic() - t1

    out, barrier_wait = asyncio.run(main())
    chunks = [m for m in out if isinstance(m, Chunk)]
    rows = sum(len(c) for c in chunks)
    assert RATE * 0.3 <= rows <= RATE * 0.6  # the rate still holds
    assert rows / len(chunks) >= RATE * COALESCE_S / 2, [len(c) for c in chunks]
    assert sum(isinstance(m, Watermark) for m in out) <= len(chunks)
    assert barrier_wait < COALESCE_S


def test_a_watermark_behind_a_watermark_of_its_column_replaces_it() -> None:
    async def main() -> list[Message]:
        ch = Channel()
        await ch.send(Watermark(0, 1))
        await ch.send(Watermark(0, 2))  # replaces 1
        await ch.send(Watermark(1, 5))  # another column: queued
        await ch.send(Watermark(1, 4))  # behind the queued one: kept as sent
        await ch.send(Chunk.from_pretty("I\n+ 7"))
        await ch.send(Watermark(1, 6))  # a chunk in between: queued
        ch.send_nowait(Barrier(2, 1))
        return [ch.take() for _ in range(len(ch._queue))]

    assert asyncio.run(main()) == [Watermark(0, 2), Watermark(1, 5), Watermark(1, 4),
                                   Chunk.from_pretty("I\n+ 7"), Watermark(1, 6), Barrier(2, 1)]
