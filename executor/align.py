"""Barrier alignment for operators with several inputs.

`align(inputs)` reads all inputs concurrently and yields `(i, message)` for the
chunks and watermarks of input i. When a barrier arrives on one input, that
input is not read again until the same barrier has arrived on every input;
then the barrier is yielded once as `(-1, barrier)`. This is the alignment of
DESIGN.md section 5: the operator sees every row of epoch e before barrier e.

Watermarks of several inputs of the same columns (the upstream actors of an
exchange, the inputs of a union) are combined by `WatermarkMin`: a watermark
for a column goes on only as the minimum over all inputs, once every input has
given one; a faster input must not promise for a slower one.
"""

from __future__ import annotations

import asyncio
from typing import AsyncIterator

from executor.message import Barrier, Message, Watermark


class WatermarkMin:
    """The minimum, per column, of the latest watermarks of `n` inputs.

    `update(i, wm)` records input i's watermark and returns the watermark to
    forward (the new minimum) when it moved forward, else None. An input that
    ended (`finish(i)`) no longer holds the minimum back."""

    __slots__ = ("n", "latest", "sent", "ended")

    def __init__(self, n: int) -> None:
        self.n = n
        self.latest: dict[int, dict[int, object]] = {}  # column -> input -> value
        self.sent: dict[int, object] = {}  # column -> last value forwarded
        self.ended: set[int] = set()

    def update(self, i: int, wm: Watermark) -> Watermark | None:
        if wm.value is None:
            return None
        per = self.latest.setdefault(wm.column, {})
        old = per.get(i)
        if old is not None and not wm.value > old:  # type: ignore[operator]
            return None  # watermarks never go back
        per[i] = wm.value
        return self._forward(wm.column)

    def finish(self, i: int) -> list[Watermark]:
        self.ended.add(i)
        out = [self._forward(c) for c in list(self.latest)]
        return [w for w in out if w is not None]

    def _forward(self, column: int) -> Watermark | None:
        per = self.latest[column]
        live = [i for i in range(self.n) if i not in self.ended]
        if not live or any(i not in per for i in live):
            return None
        low = min(per[i] for i in live)  # type: ignore[type-var]
        last = self.sent.get(column)
        if last is not None and not low > last:  # type: ignore[operator]
            return None
        self.sent[column] = low
        return Watermark(column, low)


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
