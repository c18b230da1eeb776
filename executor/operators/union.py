"""Union: the multiset sum of its inputs (UNION ALL), barriers aligned.

A watermark of one input says nothing about the others: a column's watermark
goes on as the minimum over all inputs, once each has given one."""

from __future__ import annotations

from typing import AsyncIterator

from executor.align import WatermarkMin, align
from executor.message import Barrier, Chunk, Message, Watermark


class Union:
    async def execute(self, inputs: list[AsyncIterator[Message]]) -> AsyncIterator[Message]:
        wms = WatermarkMin(len(inputs))
        async for side, msg in align(inputs):
            match msg:
                case Chunk() | Barrier():
                    yield msg
                case Watermark():
                    wm = wms.update(side, msg)
                    if wm is not None:
                        yield wm
