"""Barrier alignment for operators with several inputs.

`align(inputs)` reads all inputs concurrently and yields `(i, message)` for the
chunks and watermarks of input i. When a barrier arrives on one input, that
input is not read again until the same barrier has arrived on every input;
then the barrier is yielded once as `(-1, barrier)`. This is the alignment of
DESIGN.md section 5: the operator sees every row of epoch e before barrier e.
"""

from __future__ import annotations

import asyncio
from typing import AsyncIterator

from executor.message import Barrier, Message


async def align(inputs: list[AsyncIterator[Message]]) -> AsyncIterator[tuple[int, Message]]:
    if len(inputs) == 1:
        async for msg in inputs[0]:
            yield (-1, msg) if isinstance(msg, Barrier) else (0, msg)
        return
    pending: dict[asyncio.Task, int] = {}
    blocked: dict[int, Barrier] = {}
    finished: set[int] = set()

    def arm(i: int) -> None:
        pending[asyncio.ensure_future(anext(inputs[i]))] = i

    for i in range(len(inputs)):
        arm(i)
    try:
        while pending:
            done, _ = await asyncio.wait(pending, return_when=asyncio.FIRST_COMPLETED)
            # Deliver in input order so that a run is deterministic for a given arrival.
            for task in sorted(done, key=lambda t: pending[t]):
                i = pending.pop(task)
                try:
                    msg = task.result()
                except StopAsyncIteration:
                    finished.add(i)
                    continue
                if isinstance(msg, Barrier):
                    blocked[i] = msg
                else:
                    yield i, msg
                    arm(i)
            if blocked and len(blocked) + len(finished) == len(inputs):
                barrier = next(iter(blocked.values()))
                for i in sorted(blocked):
                    if blocked[i].epoch != barrier.epoch:
                        raise RuntimeError(
                            f"barrier misalignment: epoch {blocked[i].epoch} vs {barrier.epoch}")
                yield -1, barrier
                for i in sorted(blocked):
                    arm(i)
                blocked.clear()
    finally:
        for task in pending:
            task.cancel()
